"""The funnel's numbers on a data set whose right answer is known (``dataset.py``)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from huitou.analytics import errors
from huitou.analytics.funnel import (
    BY_SOURCE,
    BY_STAFF,
    DEFAULT_DAYS,
    MAX_DAYS,
    funnel,
    funnel_check,
    funnel_period,
)
from huitou.analytics.tests import dataset
from huitou.analytics.tests.dataset import DATE_FROM, DATE_TO, Dataset, local
from huitou.customers.models import Customer
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db


def march(org: Organization, by: str = BY_SOURCE, **dates: dt.date) -> Any:
    return funnel(
        organization=org, date_from=dates.get("date_from", DATE_FROM), date_to=dates.get("date_to", DATE_TO), by=by
    )


def test_the_data_set_was_made_by_the_services(funnel_data: Dataset, org: Organization) -> None:
    """The services set what the funnel reads; the data set only moves it to known times."""
    r2, w1, k1 = (Customer.objects.for_org(org).get(pk=funnel_data.customers[n].pk) for n in ("R2", "W1", "K1"))
    assert (r2.stage, r2.visit_count, r2.lifetime_spend) == ("customer", 2, Decimal("700.00"))
    assert (w1.stage, w1.lifetime_spend) == ("customer", Decimal("100.00"))  # 120.00 adjusted by −20.00
    assert (k1.stage, k1.intent_grade) == ("intent", "A")
    assert (
        Customer.objects.for_org(org).get(pk=funnel_data.customers["M1"].pk).merged_into_id
        == funnel_data.customers["KEEP"].pk
    )


def test_by_source_every_number_of_every_row(funnel_data: Dataset, org: Organization) -> None:
    result = march(org)

    dataset.check(result.rows, dataset.BY_SOURCE)
    assert (result.date_from, result.date_to, result.by) == (DATE_FROM, DATE_TO, BY_SOURCE)


def test_files_without_a_source_make_one_row_said_not_given(funnel_data: Dataset, org: Organization) -> None:
    with translation.override("zh-hans"):
        row = next(r for r in march(org).rows if r.key == "")
        assert row.label == translation.gettext("Not given")
    assert (row.prospects, row.intent, row.converted) == (1, 0, 0)


def test_by_staff_every_number_of_every_row(funnel_data: Dataset, org: Organization) -> None:
    result = march(org, by=BY_STAFF)

    dataset.check(result.rows, dataset.BY_STAFF)
    assert result.by == BY_STAFF


@pytest.mark.parametrize("by", [BY_SOURCE, BY_STAFF])
def test_the_total_adds_up_the_rows_and_takes_the_median_over_everyone(
    funnel_data: Dataset, org: Organization, by: str
) -> None:
    result = march(org, by=by)

    dataset.check([result.total], [dataset.TOTAL])
    assert result.total.prospects == sum(r.prospects for r in result.rows)
    assert result.total.revenue == sum(r.revenue for r in result.rows)


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(funnel_data: Dataset, org: Organization) -> None:
    # Without W3 (10 days), everyone: 2, 5, 1.5 and 4 days.
    Customer.objects.for_org(org).filter(pk=funnel_data.customers["W3"].pk).update(created_at=local(2, 1))

    result = march(org)

    assert result.total.median_days_to_convert == 3.0
    assert next(r for r in result.rows if r.key == "wechat").median_days_to_convert == 2.8  # 1.5 and 4 → 2.75


@pytest.mark.parametrize(
    ("advisors", "services"),
    [
        ([5.0], [1.0, 2.0]),
        ([1.0, 9.0, 3.0], [2.0, 2.0, 7.0, 0.5]),
        ([4.0, 4.0, 4.0, 1.0, 8.0, 0.25], [30.0, 1.0, 2.0, 3.0, 6.0]),
        ([0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5], []),
    ],
)
def test_the_median_of_each_row_and_of_the_total_is_the_middle_of_its_own_conversion_times(
    org: Organization,
    advisor: User,
    service: User,
    make_customer: Callable[..., Any],
    advisors: list[float],
    services: list[float],
) -> None:
    """Odd and even counts, ties, a group of one: each median is the middle of that group's days only."""
    for staff, days in ((advisor, advisors), (service, services)):
        for n, took in enumerate(days):
            customer = make_customer(by=staff)
            created = local(3, 1 + n, 9)
            Customer.objects.for_org(customer.organization_id).filter(pk=customer.pk).update(
                owner=staff, created_at=created, converted_at=created + dt.timedelta(days=took)
            )
    waiting = make_customer(by=service)  # not converted: a prospect of the row, no conversion time
    Customer.objects.for_org(waiting.organization_id).filter(pk=waiting.pk).update(
        owner=service, created_at=local(3, 20)
    )

    result = march(org, by=BY_STAFF)

    medians = {r.key: r.median_days_to_convert for r in result.rows}
    assert medians == {
        advisor.username: round(statistics.median(advisors), 1),
        service.username: round(statistics.median(services), 1) if services else None,
    }
    assert result.total.median_days_to_convert == round(statistics.median(advisors + services), 1)


def test_the_revenue_follows_adjustments_and_later_orders(funnel_data: Dataset, org: Organization) -> None:
    wechat = next(r for r in march(org).rows if r.key == "wechat")
    # 100.00 (W1, after the adjustment) + 88.88 + 1000.00
    assert wechat.revenue == Decimal("1188.88")
    referral = next(r for r in march(org).rows if r.key == "referral")
    # 300.00 + 500.00 + the second order's 200.00
    assert referral.revenue == Decimal("1000.00")


def test_the_first_and_last_days_count_in_local_time(funnel_data: Dataset, org: Organization) -> None:
    """00:00 on the first day and 23:30 on the last count; 23:59 the day before and 00:10 the day after don't."""
    referral = next(r for r in march(org).rows if r.key == "referral")
    assert referral.prospects == 4  # R1 at 03-01 00:00 and R4 at 03-31 23:30, not X2 nor X1

    last_day = march(org, date_from=DATE_TO)
    assert [(r.key, r.prospects) for r in last_day.rows] == [("referral", 1)]  # R4
    next_day = march(org, date_from=dt.date(2025, 4, 1), date_to=dt.date(2025, 4, 1))
    assert [(r.key, r.prospects, r.converted) for r in next_day.rows] == [("referral", 1, 1)]  # X1
    day_before = march(org, date_from=dt.date(2025, 2, 28), date_to=dt.date(2025, 2, 28))
    assert [(r.key, r.prospects, r.intent) for r in day_before.rows] == [("referral", 1, 1)]  # X2
    # 03-31 23:30 in Shanghai is 15:30 UTC: a UTC date range would have the same answer only by luck.
    assert Customer.objects.for_org(org).get(pk=funnel_data.customers["R4"].pk).created_at == dt.datetime(
        2025, 3, 31, 15, 30, tzinfo=dt.UTC
    )


def test_deleted_and_merged_away_files_do_not_count(funnel_data: Dataset, org: Organization) -> None:
    everyone = march(org, date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 4, 30))

    # X3 (deleted) and M1 (merged away) would add a wechat and a walk-in file, converted.
    assert next(r for r in everyone.rows if r.key == "wechat").prospects == 4
    walk_in = next(r for r in everyone.rows if r.key == "walk_in")
    # K1 and the kept file, created in January, which took M1's conversion and spend.
    assert (walk_in.prospects, walk_in.converted, walk_in.revenue) == (2, 1, Decimal("555.00"))
    assert everyone.total.prospects == 10 + 3  # X1, X2 and the kept file


def test_another_organizations_files_never_count(
    funnel_data: Dataset, org: Organization, other_org: Organization
) -> None:
    mine = march(org)
    theirs = march(other_org)

    assert mine.total.prospects == 10
    assert [(r.key, r.prospects, r.intent, r.converted, r.revenue) for r in theirs.rows] == [
        ("referral", 1, 1, 1, Decimal("666.00")),
        ("wechat", 1, 1, 0, Decimal("0.00")),
    ]
    assert [r.label for r in march(other_org, by=BY_STAFF).rows] == ["隔壁老板"]


def test_an_empty_range_has_no_rows_and_a_zero_total(funnel_data: Dataset, org: Organization) -> None:
    result = march(org, date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31))

    assert result.rows == []
    assert (result.total.prospects, result.total.intent_rate, result.total.median_days_to_convert) == (0, 0.0, None)
    assert result.total.revenue == Decimal("0.00")


@pytest.mark.parametrize("by", [BY_SOURCE, BY_STAFF])
def test_it_takes_three_queries_however_many_rows(
    funnel_data: Dataset, org: Organization, by: str, django_assert_num_queries: Callable[..., Any]
) -> None:
    # 1 counts and sums per group, 2 the converted's creation and conversion times, 3 the labels.
    with django_assert_num_queries(3):
        result = march(org, by=by)
    assert len(result.rows) >= 3
    with django_assert_num_queries(3):
        march(org, by=by, date_from=DATE_TO)  # one row


# --- the range ---------------------------------------------------------------------------------


def test_without_a_range_it_is_the_last_90_days_up_to_today() -> None:
    today = dt.date(2025, 5, 20)
    assert funnel_period(date_from=None, date_to=None, today=today) == (dt.date(2025, 2, 20), today)
    assert (today - funnel_period(date_from=None, date_to=None, today=today)[0]).days + 1 == DEFAULT_DAYS
    assert funnel_period(date_from=None, date_to=dt.date(2025, 3, 31), today=today)[0] == dt.date(2025, 1, 1)
    assert funnel_period(date_from=dt.date(2025, 5, 1), date_to=None, today=today) == (dt.date(2025, 5, 1), today)


def refusal(**kwargs: Any) -> dict[str, list[str]]:
    args = {"date_from": DATE_FROM, "date_to": DATE_TO, "by": BY_SOURCE, **kwargs}
    with pytest.raises(ValidationError) as exc:
        funnel_check(**args)
    return exc.value.message_dict


def test_it_refuses_an_end_before_the_start() -> None:
    assert refusal(date_from=DATE_TO, date_to=DATE_FROM) == {"date_to": [str(errors.RANGE_REVERSED)]}


def test_it_refuses_a_range_longer_than_max_days() -> None:
    longest = {"date_from": DATE_FROM, "date_to": DATE_FROM + dt.timedelta(days=MAX_DAYS - 1)}
    funnel_check(**longest, by=BY_SOURCE)  # exactly MAX_DAYS days: fine
    too_long = refusal(date_to=longest["date_to"] + dt.timedelta(days=1))
    assert too_long == {"date_from": [str(errors.RANGE_TOO_LONG) % {"days": MAX_DAYS}]}


def test_it_refuses_an_unknown_grouping_and_dates_at_the_ends_of_the_calendar() -> None:
    assert set(refusal(by="shop")) == {"by"}
    assert set(refusal(date_from=dt.date.min, date_to=dt.date.max)) == {"date_from", "date_to"}
    assert set(refusal(date_from=dt.date(9999, 12, 30), date_to=dt.date.max)) == {"date_from", "date_to"}


def test_funnel_checks_before_it_counts(org: Organization, django_assert_num_queries: Callable[..., Any]) -> None:
    with django_assert_num_queries(0), pytest.raises(ValidationError):
        funnel(organization=org, date_from=DATE_TO, date_to=DATE_FROM)
