"""The staff ranking's kept figures follow the work and the files: what the services change shows at once.

On the month of ``staff_dataset`` (figures in ``MARCH``): every change below
goes through the product's services, which mark what they change; the next
ranking shows it, and a rebuild from the live tables gives the same figures.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Count, QuerySet

from huitou.analytics import facts, staff
from huitou.analytics.funnel import _bounds, conversions_between
from huitou.analytics.models import OwnerFiles, StaffDay, StaffMonth, StaleDay
from huitou.analytics.staff import StaffRow, staff_performance
from huitou.analytics.staff_facts import COUNTERS, owner_files_refresh, owners_mark
from huitou.analytics.tests.staff_dataset import DATE_FROM, DATE_TO, FIRST_DAY, LAST_DAY, StaffData, at
from huitou.care.models import CareKind, CareTask
from huitou.care.services.tasks import care_task_done, care_task_skip
from huitou.customers.models import Customer
from huitou.customers.services import customer_delete, customer_update
from huitou.lifecycle.models import FollowUpTask, TaskOrigin
from huitou.lifecycle.services.followups import followup_record
from huitou.lifecycle.services.merge import customer_merge
from huitou.lifecycle.services.ownership import customers_reassign
from huitou.lifecycle.services.stages import stage_on_paid_order
from huitou.privacy.services import customer_erase
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db

FIGURES = (
    "followups_done",
    "followups_late",
    "care_done",
    "care_late",
    "care_skipped",
    "callbacks_done",
    "old_customer_contacts",
    "satisfaction",
    "conversions",
)


def ranking(org: Organization, date_from: dt.date = DATE_FROM, date_to: dt.date = DATE_TO) -> dict[str, StaffRow]:
    rows = staff_performance(organization=org, date_from=date_from, date_to=date_to).rows
    return {r.user.username: r for r in rows}


def live(org: Organization, date_from: dt.date, date_to: dt.date) -> dict[int, dict[str, Any]]:
    """The work figures straight from the live tables with ``staff``'s statements (no kept figure)."""
    start, end = _bounds(date_from, date_to)
    got: dict[int, dict[str, Any]] = {}

    def per(rows: QuerySet[Any], who: str, figures: dict[str, Any]) -> QuerySet[Any]:
        return rows.values(who).annotate(**figures).order_by()

    for t in per(staff.tasks_done(org, start, end), "assignee_id", staff.tasks_done_figures()):
        got.setdefault(t["assignee_id"], {}).update(followups_done=t["done"], followups_late=t["late"])
    for f in per(staff.followups_recorded(org, start, end), "staff_id", staff.followups_figures()):
        row = got.setdefault(f["staff_id"], {})
        row["old_customer_contacts"] = row.get("old_customer_contacts", 0) + f["old"]
    for c in per(staff.care_closed(org, start, end), "owner_id", staff.care_figures()):
        row = got.setdefault(c["owner_id"], {})
        row.update(care_done=c["done"], care_late=c["late"], care_skipped=c["skipped"], callbacks_done=c["callbacks"])
        row["satisfaction"] = round(c["score_sum"] / c["score_count"], 2) if c["score_count"] else None
        row["old_customer_contacts"] = row.get("old_customer_contacts", 0) + c["old"]
    converted = conversions_between(organization=org, date_from=date_from, date_to=date_to)
    for c in converted.values("owner_id").annotate(n=Count("pk")).order_by():
        got.setdefault(c["owner_id"], {})["conversions"] = c["n"]
    zero = dict.fromkeys(FIGURES, 0) | {"satisfaction": None}
    return {pk: zero | figures for pk, figures in got.items() if any(figures.values())}


def kept(org: Organization, date_from: dt.date, date_to: dt.date) -> dict[int, dict[str, Any]]:
    rows = staff_performance(organization=org, date_from=date_from, date_to=date_to).rows
    return {
        r.user.pk: {name: getattr(r, name) for name in FIGURES}
        for r in rows
        if any(getattr(r, name) for name in FIGURES)
    }


def open_task(org: Organization, who: User, customer: Customer, due: dt.date) -> FollowUpTask:
    return FollowUpTask.objects.create(
        organization=org,
        customer=customer,
        assignee=who,
        due_on=due,
        action="回访",
        origin=TaskOrigin.NEXT_STEP,
        created_at=at(3, 1),
    )


def open_care(org: Organization, who: User, customer: Customer, key: str, **fields: Any) -> CareTask:
    return CareTask.objects.create(
        organization=org,
        kind=fields.pop("kind", CareKind.CALLBACK),
        key=key,
        customer=customer,
        owner=who,
        reason="关怀",
        created_at=at(3, 1),
        **fields,
    )


def test_a_followup_recorded_after_a_reading_shows_in_the_next_one(staff_data: StaffData, org: Organization) -> None:
    advisor, c1 = staff_data.staff["advisor"], staff_data.customers["C1"]
    before = ranking(org)["advisor"]
    assert (before.followups_done, before.followups_late, before.old_customer_contacts) == (2, 1, 4)
    task = open_task(org, advisor, c1, dt.date(2025, 3, 18))
    followup_record(customer=c1, by=advisor, channel="phone", content="问候", task_id=task.pk, now=at(3, 20, 10))
    assert StaleDay.objects.for_org(org).filter(day=dt.date(2025, 3, 20)).exists()
    after = ranking(org)["advisor"]
    # Done two days after its day (late), with an existing customer.
    assert (after.followups_done, after.followups_late, after.old_customer_contacts) == (3, 2, 5)
    assert not StaleDay.objects.for_org(org).exists()  # the reading computed the day again
    assert ranking(org, dt.date(2025, 3, 20), dt.date(2025, 3, 20))["advisor"].followups_done == 1


def test_care_done_and_skipped_show_in_the_next_ranking(staff_data: StaffData, org: Organization) -> None:
    service, advisor = staff_data.staff["service"], staff_data.staff["advisor"]
    c1, c2 = staff_data.customers["C1"], staff_data.customers["C2"]
    assert ranking(org)["service"].satisfaction is None
    callback = open_care(org, service, c2, "k7", due_on=dt.date(2025, 3, 22), due_at=at(3, 22, 12))
    care_task_done(task=callback, by=service, result="满意", score=4, now=at(3, 23, 9))
    birthday = open_care(org, advisor, c1, "k8", kind=CareKind.BIRTHDAY, due_on=dt.date(2025, 3, 26))
    care_task_skip(task=birthday, by=advisor, reason="联系不上", now=at(3, 26, 10))
    rows = ranking(org)
    # Late (after its 48 hours), scored 4 (K5 has no score), with an existing customer.
    assert (rows["service"].care_done, rows["service"].care_late, rows["service"].callbacks_done) == (2, 1, 2)
    assert (rows["service"].satisfaction, rows["service"].old_customer_contacts) == (4.0, 3)
    assert (rows["advisor"].care_done, rows["advisor"].care_skipped) == (3, 2)


def test_the_kept_figures_equal_the_live_statements_for_any_period(staff_data: StaffData, org: Organization) -> None:
    advisor, service = staff_data.staff["advisor"], staff_data.staff["service"]
    c1, c2 = staff_data.customers["C1"], staff_data.customers["C2"]
    followup_record(customer=c2, by=service, channel="wechat", content="保养提醒", now=at(3, 31, 23, 59))
    care_task_done(
        task=open_care(org, advisor, c1, "k9", due_on=dt.date(2025, 3, 2), due_at=at(3, 2, 8)),
        by=advisor,
        result="好评",
        score=2,
        now=at(3, 2, 7),
    )
    periods = [
        (DATE_FROM, DATE_TO),
        (dt.date(2025, 2, 28), dt.date(2025, 3, 5)),
        (dt.date(2025, 3, 31), dt.date(2025, 4, 1)),
        (FIRST_DAY, LAST_DAY),  # whole months only
        (dt.date(2025, 2, 15), dt.date(2025, 4, 10)),  # days, a whole month, days
        (dt.date(2025, 1, 1), dt.date(2025, 3, 20)),  # whole months, then days
        (dt.date(2025, 2, 2), dt.date(2025, 3, 31)),  # days, then a whole month
    ]
    for date_from, date_to in periods:
        assert kept(org, date_from, date_to) == live(org, date_from, date_to), (date_from, date_to)
    # A rebuild from the live tables writes the same rows the marks' refreshes wrote, days and months.
    refreshed = (kept_rows(StaffDay, org, "day"), kept_rows(StaffMonth, org, "month"))
    facts.facts_rebuild(org.pk, date_from=FIRST_DAY, date_to=LAST_DAY)
    assert (kept_rows(StaffDay, org, "day"), kept_rows(StaffMonth, org, "month")) == refreshed


def kept_rows(model: type[StaffDay | StaffMonth], org: Organization, when: str) -> list[tuple[Any, ...]]:
    return sorted(model.objects.for_org(org).values_list("user_id", when, *COUNTERS))


def test_each_month_kept_is_the_sum_of_its_days(staff_data: StaffData, org: Organization) -> None:
    advisor, c1 = staff_data.staff["advisor"], staff_data.customers["C1"]
    # A change on the last day of a month and one on the first of the next, refreshed by a reading.
    followup_record(customer=c1, by=advisor, channel="phone", content="月末", now=at(3, 31, 23, 30))
    followup_record(customer=c1, by=advisor, channel="phone", content="月初", now=at(4, 1, 0, 30))
    ranking(org)
    summed: dict[tuple[int, dt.date], list[int]] = {}
    for user_id, day, *counters in kept_rows(StaffDay, org, "day"):
        into = summed.setdefault((user_id, day.replace(day=1)), [0] * len(COUNTERS))
        summed[(user_id, day.replace(day=1))] = [a + b for a, b in zip(into, counters, strict=True)]
    months = {(user_id, month): counters for user_id, month, *counters in kept_rows(StaffMonth, org, "month")}
    assert months == summed
    assert {month for _user, month in months} >= {dt.date(2025, 3, 1), dt.date(2025, 4, 1)}
    # A month's work read through its month row and through its days agrees.
    assert kept(org, dt.date(2025, 4, 1), dt.date(2025, 4, 30)) == live(org, dt.date(2025, 4, 1), dt.date(2025, 4, 30))


def test_the_month_after_a_day_is_the_first_of_the_next() -> None:
    from huitou.analytics.staff_facts import month_start, next_month

    assert next_month(dt.date(2025, 1, 31)) == dt.date(2025, 2, 1)
    assert next_month(dt.date(2024, 2, 29)) == dt.date(2024, 3, 1)
    assert next_month(dt.date(2025, 12, 1)) == dt.date(2026, 1, 1)
    assert month_start(dt.date(2025, 3, 17)) == dt.date(2025, 3, 1)


def test_a_change_made_while_a_day_waits_for_its_refresh_is_not_lost(staff_data: StaffData, org: Organization) -> None:
    advisor, c1 = staff_data.staff["advisor"], staff_data.customers["C1"]
    followup_record(customer=c1, by=advisor, channel="phone", content="一", now=at(3, 20, 9))
    followup_record(customer=c1, by=advisor, channel="phone", content="二", now=at(3, 20, 15))
    assert StaleDay.objects.for_org(org).get(day=dt.date(2025, 3, 20)).version == 2
    assert ranking(org)["advisor"].old_customer_contacts == 6  # both


def test_an_owner_marked_while_being_counted_stays_stale(staff_data: StaffData, org: Organization) -> None:
    advisor = staff_data.staff["advisor"]
    owners_mark(org.pk, [advisor.pk])
    row = OwnerFiles.objects.for_org(org).get(user=advisor)
    assert row.version != row.counted
    # A refresh answers the version it read; a mark made after it (a later change) is a new version.
    assert owner_files_refresh(org.pk) == 1
    owners_mark(org.pk, [advisor.pk])
    row.refresh_from_db()
    assert (row.version, row.counted) == (row.counted + 1, row.counted)
    assert ranking(org)["advisor"].files == 4
    row.refresh_from_db()
    assert row.version == row.counted


def test_files_follow_their_owner_their_completeness_and_deletion(
    staff_data: StaffData, org: Organization, owner: User, make_vehicle: Callable[..., Any]
) -> None:
    advisor, p3 = staff_data.staff["advisor"], staff_data.customers["P3"]
    assert (ranking(org)["advisor"].files, ranking(org)["service"].files) == (4, 2)
    customer_update(customer=p3, by=owner, data={"owner": advisor.pk})  # from service to advisor
    p3.refresh_from_db()  # its score is computed again from the file (the dataset set 25 by hand)
    rows = ranking(org)
    assert (rows["advisor"].files, rows["advisor"].file_completeness) == (5, round((200 + p3.completeness) / 500, 4))
    assert (rows["service"].files, rows["service"].file_completeness) == (1, 0.8)
    scored = p3.completeness
    make_vehicle(p3)  # a car makes the file more complete
    p3.refresh_from_db()
    assert p3.completeness > scored
    assert ranking(org)["advisor"].file_completeness == round((200 + p3.completeness) / 5 / 100, 4)
    customer_delete(customer=p3, by=owner)
    assert (ranking(org)["advisor"].files, ranking(org)["advisor"].file_completeness) == (4, 0.5)


def test_files_handed_over_in_bulk_count_for_their_new_owner(
    staff_data: StaffData, org: Organization, owner: User
) -> None:
    advisor, service = staff_data.staff["advisor"], staff_data.staff["service"]
    customers_reassign(organization=org, from_user=service, to_user_ids=[advisor.pk], by=owner)
    rows = ranking(org)
    assert (rows["advisor"].files, rows["advisor"].file_completeness) == (6, 0.5083)  # (200 + 80 + 25) / 6
    assert (rows["service"].files, rows["service"].file_completeness) == (0, None)
    assert rows["advisor"].conversions == 2  # conversions follow the owner too: C2 converted in 2024


def test_a_merge_that_dates_the_first_paid_order_earlier_makes_old_contacts(
    staff_data: StaffData, org: Organization, owner: User
) -> None:
    """F2 (03-06) and K4 (03-09) were with P1 before it converted (03-10); merged with C1 (converted in
    January), the kept file's first paid order is January's: they were contacts with an existing customer."""
    c1, p1 = staff_data.customers["C1"], staff_data.customers["P1"]
    assert ranking(org)["advisor"].old_customer_contacts == 4
    customer_merge(keep=p1, other=c1, by=owner)
    rows = ranking(org)
    assert rows["advisor"].old_customer_contacts == 6
    assert kept(org, DATE_FROM, DATE_TO) == live(org, DATE_FROM, DATE_TO)


def test_erasing_a_person_removes_their_file_and_counts_their_open_care_as_skipped(
    staff_data: StaffData, org: Organization, owner: User
) -> None:
    advisor, c1 = staff_data.staff["advisor"], staff_data.customers["C1"]
    open_care(org, advisor, c1, "k10", kind=CareKind.BIRTHDAY, due_on=dt.date(2025, 3, 28))
    customer_erase(customer=c1, by=owner, reason="本人要求", now=at(3, 28, 9))
    rows = ranking(org)
    assert (rows["advisor"].files, rows["advisor"].file_completeness) == (3, round(100 / 3 / 100, 4))  # P1, P2, X1
    assert rows["advisor"].care_skipped == 2  # K3, and the birthday greeting left open
    assert rows["advisor"].old_customer_contacts == 4  # what was done with C1 stays counted


def test_the_migration_sums_the_months_of_the_days_already_kept(staff_data: StaffData, org: Organization) -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    fill = importlib.import_module("huitou.analytics.migrations.0008_staff_months").staff_months_fill
    historical = MigrationExecutor(connection).loader.project_state().apps
    months = historical.get_model("analytics", "StaffMonth").objects  # every organization's, as the migration
    columns = ("organization_id", "user_id", "month", *COUNTERS)
    written = sorted(months.values_list(*columns))
    assert kept_rows(StaffMonth, org, "month")
    months.all().delete()
    fill(historical, None)
    assert sorted(months.values_list(*columns)) == written


def test_a_first_paid_order_counts_for_its_month_and_follows_the_file_to_a_new_owner(
    staff_data: StaffData, org: Organization, owner: User
) -> None:
    service, advisor = staff_data.staff["service"], staff_data.staff["advisor"]
    p3 = staff_data.customers["P3"]
    assert ranking(org)["service"].conversions == 0
    stage_on_paid_order(organization_id=org.pk, customer_id=p3.pk, paid_at=at(3, 25, 10), by=service)
    assert (
        OwnerFiles.objects.for_org(org).get(user=service).version
        != OwnerFiles.objects.for_org(org).get(user=service).counted
    )  # the first paid order marked its owner
    whole_march = ranking(org)
    assert (whole_march["service"].conversions, whole_march["advisor"].conversions) == (1, 2)
    # The same from the days at a period's ends, and from a whole month plus days.
    assert ranking(org, dt.date(2025, 3, 20), dt.date(2025, 4, 5))["service"].conversions == 1
    assert ranking(org, dt.date(2025, 2, 20), dt.date(2025, 4, 30))["service"].conversions == 1
    assert ranking(org, dt.date(2025, 4, 1), dt.date(2025, 4, 30))["service"].conversions == 0
    # Handed to the advisor: March's conversion is theirs now, in every kind of period.
    customer_update(customer=p3, by=owner, data={"owner": advisor.pk})
    for date_from, date_to in [(DATE_FROM, DATE_TO), (dt.date(2025, 3, 25), dt.date(2025, 3, 25))]:
        rows = ranking(org, date_from, date_to)
        assert rows["service"].conversions == 0, (date_from, date_to)
        assert rows["advisor"].conversions == (3 if date_from == DATE_FROM else 1), (date_from, date_to)
    assert kept(org, FIRST_DAY, LAST_DAY) == live(org, FIRST_DAY, LAST_DAY)
