"""Staff performance figures on a month whose answers are worked out by hand (``staff_dataset.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from huitou.analytics import errors
from huitou.analytics.funnel import conversions_between
from huitou.analytics.staff import (
    SHOP_UNKNOWN,
    StaffRow,
    staff_check,
    staff_performance,
    staff_sort,
)
from huitou.analytics.tests import staff_dataset
from huitou.analytics.tests.staff_dataset import DATE_FROM, DATE_TO, MARCH, StaffData, at
from huitou.customers.models import Customer
from huitou.lifecycle.models import FollowUpTask
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db


def march(org: Organization, **kwargs: Any) -> list[StaffRow]:
    return staff_performance(organization=org, date_from=DATE_FROM, date_to=DATE_TO, **kwargs).rows


def test_every_figure_of_every_row(staff_data: StaffData, org: Organization) -> None:
    staff_dataset.check(march(org), MARCH)


def test_a_task_done_on_its_last_minute_is_on_time_and_a_minute_later_is_late(
    staff_data: StaffData, org: Organization
) -> None:
    # T1 done 03-05 23:59 and T2 done 03-06 00:00, both due 03-05.
    (row,) = staff_performance(
        organization=org,
        date_from=dt.date(2025, 3, 5),
        date_to=dt.date(2025, 3, 5),
        staff_id=staff_data.staff["advisor"].pk,
    ).rows
    assert (row.followups_done, row.followups_late) == (1, 0)  # T1 only: T2 was done on the 6th
    (row,) = staff_performance(
        organization=org,
        date_from=dt.date(2025, 3, 6),
        date_to=dt.date(2025, 3, 6),
        staff_id=staff_data.staff["advisor"].pk,
    ).rows
    assert (row.followups_done, row.followups_late, row.followups_on_time) == (1, 1, 0)
    # The period's first and last minutes: T4 (02-28 23:59) and T5 (04-01 00:00) are outside March.
    assert sum(r.followups_done for r in march(org)) == 4  # T1, T2, T6, T7
    assert (
        FollowUpTask.objects.for_org(org).filter(closed_as=FollowUpTask.Closed.DONE).count() == 6
    )  # T1, T2, T4, T5, T6, T7


def test_a_callback_after_its_48_hours_is_late_and_a_skipped_task_is_not_done(
    staff_data: StaffData, org: Organization
) -> None:
    advisor = next(r for r in march(org) if r.user.username == "advisor")
    # K1 on time, K2 one minute after its deadline, K4 on its day; K3 skipped.
    assert (advisor.care_done, advisor.care_on_time, advisor.care_late, advisor.care_skipped) == (3, 2, 1, 1)
    assert advisor.callbacks_done == 2


def test_satisfaction_is_the_average_score_and_none_without_one(staff_data: StaffData, org: Organization) -> None:
    rows = {r.user.username: r for r in march(org)}
    assert rows["advisor"].satisfaction == 4.0  # (5 + 3) / 2
    assert rows["service"].callbacks_done == 1
    assert rows["service"].satisfaction is None  # K5 done without a score: no average, not 0
    assert rows["owner"].satisfaction is None  # nothing at all
    # K6 (score 1) was done on 02-28 at 23:00: February's average.
    feb = staff_performance(
        organization=org, date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 2, 28), staff_id=rows["owner"].user.pk
    )
    assert feb.rows[0].satisfaction == 1.0


def test_a_conversion_counts_for_the_owner_now_as_the_funnel_counts_it(
    staff_data: StaffData, org: Organization
) -> None:
    """P2 was service's prospect, handed to advisor, then converted: advisor's conversion, not service's."""
    rows = {r.user.username: r for r in march(org)}
    assert rows["advisor"].conversions == 2  # P1 and P2; X1 converted on 04-01 at 00:00
    assert rows["service"].conversions == 0  # P2 was theirs before; D1 is deleted
    # The funnel's own definition of a conversion in the period, per owner now.
    theirs = conversions_between(organization=org, date_from=DATE_FROM, date_to=DATE_TO)
    assert sorted(theirs.values_list("name", "owner__username")) == [("P1", "advisor"), ("P2", "advisor")]


def test_contacts_with_existing_customers_are_those_after_the_first_paid_order(
    staff_data: StaffData, org: Organization
) -> None:
    rows = {r.user.username: r for r in march(org)}
    # F1, F3 (P1 after its conversion) and K1, K2; not F2 nor K4 (P1 before its conversion).
    assert rows["advisor"].old_customer_contacts == 4
    # F4 and K5 with C2; not F5 with the prospect P3.
    assert rows["service"].old_customer_contacts == 2


def test_complaints_count_against_the_customers_owner_not_the_handler(staff_data: StaffData, org: Organization) -> None:
    rows = {r.user.username: r for r in march(org)}
    assert (rows["advisor"].complaints, rows["owner"].complaints, rows["service"].complaints) == (1, 0, 0)


def test_file_completeness_is_the_average_over_the_files_owned_now(staff_data: StaffData, org: Organization) -> None:
    rows = {r.user.username: r for r in march(org)}
    assert (rows["advisor"].file_completeness, rows["advisor"].files) == (0.5, 4)
    assert (rows["service"].file_completeness, rows["service"].files) == (0.525, 2)  # not the deleted D1
    assert rows["owner"].file_completeness is None


def test_a_deactivated_member_is_listed_for_work_done_in_the_period_only(
    staff_data: StaffData, org: Organization
) -> None:
    rows = march(org)
    left = next(r for r in rows if r.user.username == "left")
    assert left.user.is_active is False
    assert left.followups_done == 1
    assert "gone" not in [r.user.username for r in rows]  # left too, nothing in March
    assert "tech" not in [r.user.username for r in rows]  # not a role that follows customers up
    april = staff_performance(organization=org, date_from=dt.date(2025, 4, 1), date_to=dt.date(2025, 4, 30)).rows
    assert [r.user.username for r in april] == ["advisor", "owner", "service"]  # T5 on 04-01 is advisor's


def test_the_shop_filter_keeps_the_staff_who_work_there(staff_data: StaffData, org: Organization) -> None:
    first, second = staff_data.shops
    at_first = march(org, shop=first)
    assert [r.user.username for r in at_first] == ["advisor", "left", "owner"]
    staff_dataset.check(at_first, {k: MARCH[k] for k in ("advisor", "left", "owner")})
    at_second = march(org, shop=second)
    staff_dataset.check(at_second, {k: MARCH[k] for k in ("advisor", "owner", "service")})


def test_a_period_with_no_data_lists_the_team_with_zeros(staff_data: StaffData, org: Organization) -> None:
    rows = staff_performance(organization=org, date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 1, 31)).rows
    zero = {
        "followups_done": 0,
        "followups_late": 0,
        "care_done": 0,
        "callbacks_done": 0,
        "old_customer_contacts": 0,
        "conversions": 0,
        "satisfaction": None,
        "complaints": 0,
    }
    assert [r.user.username for r in rows] == ["advisor", "owner", "service"]
    for row in rows:
        assert {k: getattr(row, k) for k in zero} == zero
    # What they own now does not depend on the period.
    assert [r.file_completeness for r in rows] == [0.5, None, 0.525]


def test_another_organizations_work_never_counts(
    staff_data: StaffData, org: Organization, other_org: Organization, outsider: User
) -> None:
    assert outsider.pk not in [r.user.pk for r in march(org)]
    theirs = staff_performance(organization=other_org, date_from=DATE_FROM, date_to=DATE_TO).rows
    assert [(r.user.username, r.followups_done, r.conversions, r.file_completeness) for r in theirs] == [
        (outsider.username, 1, 1, 1.0)
    ]
    # Asking for one of A's staff from B finds nobody.
    assert (
        staff_performance(
            organization=other_org, date_from=DATE_FROM, date_to=DATE_TO, staff_id=staff_data.staff["advisor"].pk
        ).rows
        == []
    )


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("-conversions", ["advisor", "left", "owner", "service"]),
        ("conversions", ["left", "owner", "service", "advisor"]),
        ("-followups_late", ["advisor", "service", "left", "owner"]),
        ("-satisfaction", ["advisor", "left", "owner", "service"]),  # no value last, either way
        ("satisfaction", ["advisor", "left", "owner", "service"]),
        ("-file_completeness", ["service", "advisor", "left", "owner"]),
        ("file_completeness", ["advisor", "service", "left", "owner"]),
        (
            "name",
            ["advisor", "left", "owner", "service"],
        ),  # 李 li, 孙 sun, 王 wang, 赵 zhao (not 孙 < 李 by code point)
        ("-name", ["service", "owner", "left", "advisor"]),
        ("nonsense", ["advisor", "left", "owner", "service"]),  # the default
    ],
)
def test_the_ranking_sorts_by_any_column(staff_data: StaffData, org: Organization, sort: str, order: list[str]) -> None:
    rows = march(org, sort=sort)
    assert [r.user.username for r in rows] == order
    assert [r.user.username for r in staff_sort(rows, sort)] == order


def test_it_takes_six_queries_however_many_staff(
    staff_data: StaffData,
    org: Organization,
    make_customer: Callable[..., Any],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    # 1 stale days?, 2 the period's daily figures per person, 3 files per owner (kept),
    # 4 conversions per owner, 5 complaints per customer owner, 6 the staff.
    with django_assert_num_queries(6):
        rows = march(org)
    assert len(rows) == 4
    from huitou.tenancy.services import staff_create
    from huitou.testing.fixtures import PASSWORD

    for n in range(5):
        extra = staff_create(
            organization=org, username=f"extra{n}", password=PASSWORD, role="service", display_name="", validate=False
        )
        c = make_customer(by=extra)
        Customer.objects.for_org(org).filter(pk=c.pk).update(converted_at=at(3, 20))
    # Their new files marked them: the first read counts their files first (savepoint, lock on
    # PostgreSQL, the stale owners, their files, the update, their conversions per month, the
    # months' delete and insert, release), then reads the kept rows again.
    with django_assert_num_queries(6 + 8 + (1 if connection.vendor == "postgresql" else 0) + 1):
        rows = march(org)
    assert len(rows) == 9
    with django_assert_num_queries(6):
        rows = march(org)
    with django_assert_num_queries(6):  # one person's page: the same six
        staff_performance(organization=org, date_from=DATE_FROM, date_to=DATE_TO, staff_id=rows[0].user.pk)


def test_the_range_and_the_shop_are_checked(staff_data: StaffData, org: Organization, other_org: Organization) -> None:
    with pytest.raises(ValidationError) as reversed_range:
        staff_check(organization=org, date_from=DATE_TO, date_to=DATE_FROM)
    assert reversed_range.value.message_dict == {"date_to": [str(errors.RANGE_REVERSED)]}
    with pytest.raises(ValidationError) as too_long:
        staff_check(organization=org, date_from=dt.date(2020, 1, 1), date_to=DATE_TO)
    assert list(too_long.value.message_dict) == ["date_from"]
    from huitou.tenancy.models import Shop

    theirs = Shop.objects.for_org(other_org).get()
    with pytest.raises(ValidationError) as foreign:
        staff_check(organization=org, date_from=DATE_FROM, date_to=DATE_TO, shop_id=theirs.pk)
    assert foreign.value.message_dict == {"shop": [str(SHOP_UNKNOWN)]}
    assert (
        staff_check(organization=org, date_from=DATE_FROM, date_to=DATE_TO, shop_id=staff_data.shops[0].pk)
        == (staff_data.shops[0])
    )
