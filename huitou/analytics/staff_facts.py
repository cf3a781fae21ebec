"""The staff ranking's kept figures: each person's work per local day, and the files each owner has.

``staff.staff_performance`` sums these instead of reading a period's
follow-ups, tasks and every file (docs/decisions.md, "The staff ranking's
kept figures"):

- ``StaffDay``: per person and local day, what ``staff``'s statements count
  for work done by them at the time — follow-up tasks done (late), care
  tasks closed (late, skipped, callbacks, their scores), contacts with
  existing customers. A daily fact (``facts``): whatever changes a day's
  work marks the day stale in its transaction (``receivers_staff``), and
  ``staff_days_write`` computes a run of days again with ``staff``'s own
  statements grouped by person and local day, and the months those days are
  in again from their days (``StaffMonth``): a long period sums whole months
  and the days at its ends.
- ``OwnerFiles``: per owner, the files they own now (not deleted) and their
  completeness summed; with ``OwnerMonth``, their conversions per local
  month (files whose first paid order fell in it). Not per day: a change to
  a file's owner, completeness, deletion or first paid order raises the
  owner's ``version`` (``owners_mark``) in its transaction, and the owner is
  counted again from their files (``owner_files_refresh``) before anyone
  reads the figures.

Conversions count for the file's owner *now*: whole months come from
``OwnerMonth``, the days at a period's ends live from the index on
``Customer.converted_at``. Complaints (few) are read live from
``Complaint.opened_at``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from huitou.analytics.facts import _as_date, bounds, day_span, day_writer, days_mark, facts_rebuild, local_day
from huitou.analytics.funnel import counted_files
from huitou.analytics.models import OwnerFiles, OwnerMonth, StaffDay, StaffMonth
from huitou.care.models import CareTask
from huitou.lib.marks import marks_raise
from huitou.lifecycle.models import FollowUp, FollowUpTask
from huitou.tenancy.models import User

# The counters of a ``StaffDay``, summed over a period by the ranking.
COUNTERS = (
    "followups_done",
    "followups_late",
    "care_done",
    "care_late",
    "care_skipped",
    "callbacks_done",
    "satisfaction_sum",
    "satisfaction_count",
    "old_customer_contacts",
)
# pg_advisory_xact_lock(key, organization) of the owners' refresh ("htof").
OWNERS_LOCK_KEY = 0x6874_6F66
# Owners counted per statement of a refresh.
OWNERS_BATCH = 500


# --- the work of each day ----------------------------------------------------------------------


@day_span
def work_span(organization_id: int) -> list[dt.datetime | None]:
    """The first and last follow-up recorded, follow-up task closed and care task closed."""
    spans = [
        FollowUp.objects.for_org(organization_id).aggregate(first=Min("at"), last=Max("at")),
        FollowUpTask.objects.for_org(organization_id).aggregate(first=Min("closed_at"), last=Max("closed_at")),
        CareTask.objects.for_org(organization_id).aggregate(first=Min("closed_at"), last=Max("closed_at")),
    ]
    return [t for span in spans for t in (span["first"], span["last"])]


@day_writer
def staff_days_write(organization_id: int, first: dt.date, last: dt.date) -> None:
    """``StaffDay`` of the days: ``staff``'s three statements of work, by person and local day.

    Three grouped reads (follow-up tasks done, follow-ups, care tasks closed), one delete, one insert.
    """
    from huitou.analytics import staff  # noqa: PLC0415 - staff reads this module

    org = organization_id
    tz = timezone.get_current_timezone()
    start, end = bounds(first, last)
    facts: dict[tuple[int, dt.date], dict[str, int]] = {}

    def fact(user_id: int, day: Any) -> dict[str, int]:
        return facts.setdefault((user_id, _as_date(day)), {})

    def by_day(rows: QuerySet[Any], when: str, who: str, figures: dict[str, Any]) -> QuerySet[Any]:
        return rows.annotate(day=TruncDate(when, tzinfo=tz)).values(who, "day").annotate(**figures).order_by()

    for t in by_day(staff.tasks_done(org, start, end), "closed_at", "assignee_id", staff.tasks_done_figures()):
        row = fact(t["assignee_id"], t["day"])
        row["followups_done"], row["followups_late"] = t["done"], t["late"]

    for f in by_day(staff.followups_recorded(org, start, end), "at", "staff_id", staff.followups_figures()):
        row = fact(f["staff_id"], f["day"])
        row["old_customer_contacts"] = row.get("old_customer_contacts", 0) + f["old"]

    for c in by_day(staff.care_closed(org, start, end), "closed_at", "owner_id", staff.care_figures()):
        row = fact(c["owner_id"], c["day"])
        row["care_done"], row["care_late"], row["care_skipped"] = c["done"], c["late"], c["skipped"]
        row["callbacks_done"] = c["callbacks"]
        row["satisfaction_sum"], row["satisfaction_count"] = c["score_sum"] or 0, c["score_count"]
        row["old_customer_contacts"] = row.get("old_customer_contacts", 0) + c["old"]

    StaffDay.objects.for_org(org).filter(day__gte=first, day__lte=last).delete()
    StaffDay.objects.bulk_create(
        [StaffDay(organization_id=org, user_id=user_id, day=day, **row) for (user_id, day), row in facts.items()],
        batch_size=1000,
    )
    staff_months_write(org, first, last)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def staff_months_write(organization_id: int, first: dt.date, last: dt.date) -> None:
    """``StaffMonth`` of every month that holds a day from ``first`` to ``last``, summed again from its days.

    One delete, and per month one ``INSERT ... SELECT`` grouped by person: no row travels through Python.
    """
    first_month = month_start(first)
    StaffMonth.objects.for_org(organization_id).filter(month__gte=first_month, month__lte=month_start(last)).delete()
    month_table, day_table = StaffMonth._meta.db_table, StaffDay._meta.db_table
    listed = ", ".join(COUNTERS)
    sums = ", ".join(f"SUM({name})" for name in COUNTERS)
    # Table and column names from the models only, never input.
    statement = (
        f"INSERT INTO {month_table} (organization_id, user_id, month, {listed}) "  # noqa: S608
        f"SELECT organization_id, user_id, %s, {sums} FROM {day_table} "
        "WHERE organization_id = %s AND day >= %s AND day < %s GROUP BY organization_id, user_id"
    )
    month = first_month
    with connection.cursor() as cursor:
        while month <= last:
            following = next_month(month)
            cursor.execute(statement, [month, organization_id, month, following])
            month = following


def contacts_mark(organization_id: int, customer_ids: Iterable[int], *, after: dt.datetime) -> None:
    """Mark stale the days of these files' follow-ups and closed care tasks after ``after``: whether
    they were with an existing customer changes when the file's first paid order moves (a merge).

    Two queries (the days of each) and the mark.
    """
    ids = list(customer_ids)
    tz = timezone.get_current_timezone()
    followups = (
        FollowUp.objects.for_org(organization_id)
        .filter(customer_id__in=ids, at__gt=after)
        .annotate(day=TruncDate("at", tzinfo=tz))
        .values_list("day", flat=True)
        .distinct()
    )
    care = (
        CareTask.objects.for_org(organization_id)
        .filter(customer_id__in=ids, state=CareTask.State.DONE, closed_at__gt=after)
        .annotate(day=TruncDate("closed_at", tzinfo=tz))
        .values_list("day", flat=True)
        .distinct()
    )
    days_mark(organization_id, {_as_date(d) for d in [*followups, *care] if d is not None})


def staff_facts_rebuild(organization_id: int, *, date_from: dt.date, date_to: dt.date) -> int:
    """Every daily fact from ``date_from`` to ``date_to`` written again (``facts.facts_rebuild``), and
    every owner's files counted again: for data written around the services (tests, the bench)."""
    done = facts_rebuild(organization_id, date_from=date_from, date_to=date_to)
    owner_files_rebuild(organization_id)
    return done


# --- the files of each owner -------------------------------------------------------------------


def owners_mark(organization_id: int, user_ids: Iterable[int | None]) -> None:
    """Mark owners' file figures stale, in the caller's transaction (one statement; None is skipped)."""
    marked = sorted({pk for pk in user_ids if pk is not None})
    if not marked:
        return
    marks_raise(
        OwnerFiles,
        ["organization_id", "user_id"],
        [(organization_id, pk) for pk in marked],
        new={"files": 0, "completeness_sum": 0, "counted": 0},
    )


def _lock(organization_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [OWNERS_LOCK_KEY, organization_id])


def owner_files_refresh(organization_id: int) -> int:
    """Count the stale owners' files again; the number of owners done.

    One transaction: the lock, the stale rows (locked), per ``OWNERS_BATCH``
    owners one grouped read of their files and one update. A row takes the
    version it was read at: a mark made meanwhile leaves it stale.
    """
    with transaction.atomic():
        _lock(organization_id)
        # Locked in the marks' order (by owner): a transaction marking two owners cannot deadlock with it.
        stale = list(
            OwnerFiles.objects.for_org(organization_id)
            .exclude(version=F("counted"))
            .select_for_update()
            .order_by("user_id")
        )
        for n in range(0, len(stale), OWNERS_BATCH):
            batch = stale[n : n + OWNERS_BATCH]
            figures = {
                owner_id: (files, total or 0)
                for owner_id, files, total in counted_files(organization_id)
                .filter(owner_id__in=[row.user_id for row in batch])
                .values("owner_id")
                .annotate(n=Count("pk"), total=Sum("completeness"))
                .values_list("owner_id", "n", "total")
                .order_by()
            }
            for row in batch:
                row.files, row.completeness_sum = figures.get(row.user_id, (0, 0))
                row.counted = row.version
            OwnerFiles.objects.for_org(organization_id).bulk_update(batch, ["files", "completeness_sum", "counted"])
            _owner_months_write(organization_id, [row.user_id for row in batch])
    return len(stale)


def _owner_months_write(organization_id: int, owner_ids: list[int]) -> None:
    """``OwnerMonth`` of these owners from their counted files: conversions per local month (one grouped
    read, one delete, one insert)."""
    tz = timezone.get_current_timezone()
    converted = (
        counted_files(organization_id)
        .filter(owner_id__in=owner_ids, converted_at__isnull=False)
        .annotate(month=TruncMonth("converted_at", tzinfo=tz))
        .values("owner_id", "month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows = [
        OwnerMonth(
            organization_id=organization_id, user_id=r["owner_id"], month=_month_of(r["month"]), conversions=r["n"]
        )
        for r in converted
    ]
    OwnerMonth.objects.for_org(organization_id).filter(user_id__in=owner_ids).delete()
    OwnerMonth.objects.bulk_create(rows, batch_size=1000)


def _month_of(value: dt.date | dt.datetime | str) -> dt.date:
    day = local_day(value) if isinstance(value, dt.datetime) else _as_date(value)
    return day.replace(day=1)


def owner_months(
    organization_id: int, months_from: dt.date, months_to: dt.date, *, user_id: int | None = None
) -> QuerySet[OwnerMonth]:
    """The kept conversions of the months from ``months_from`` up to ``months_to`` (excluded), fresh only
    after ``owner_files`` (which counts stale owners again)."""
    rows = OwnerMonth.objects.for_org(organization_id).filter(month__gte=months_from, month__lt=months_to)
    return rows.filter(user_id=user_id) if user_id is not None else rows


def owner_files_rebuild(organization_id: int) -> int:
    """Every owner counted again (each staff member and each owner of a file); the owners done."""
    users = set(User.objects.for_org(organization_id).values_list("pk", flat=True))
    with transaction.atomic():
        owners_mark(
            organization_id, users | set(counted_files(organization_id).values_list("owner_id", flat=True).distinct())
        )
    return owner_files_refresh(organization_id)


def owner_files(organization_id: int, *, user_id: int | None = None) -> dict[int, tuple[int, int]]:
    """Each owner's files now and their completeness summed, ``{user id: (files, sum)}``; owners of none left out.

    One query when nothing is stale; else the stale owners are counted again first.
    """
    rows = OwnerFiles.objects.for_org(organization_id)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    read = list(rows.values_list("user_id", "files", "completeness_sum", "version", "counted"))
    if any(version != counted for *_figures, version, counted in read):
        owner_files_refresh(organization_id)
        read = list(rows.values_list("user_id", "files", "completeness_sum", "version", "counted"))
    return {pk: (files, total) for pk, files, total, _version, _counted in read if files}
