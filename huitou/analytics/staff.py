"""Staff performance (员工考核): per staff member and period, the work done and what came of it.

The ranking page (``analytics:staff``), each person's own page
(``analytics:staff_member``) and ``GET /api/v1/analytics/staff`` all call
``staff_performance``. A period is ``date_from``..``date_to``, local dates
(Asia/Shanghai), both included; what happened on a day counts on that day.

What each figure counts (the decisions are written down in docs/decisions.md):

- ``followups_done``: follow-up tasks (待跟进) assigned to the staff member
  and closed as done in the period; a task is done by recording a follow-up.
  ``followups_late`` are those of them done after the day they were due (a
  task due on the 3rd and done at 23:59 on the 3rd is on time, at 00:00 on
  the 4th late). Cancelled tasks and tasks put on hold are not work done.
- ``care_done``: care tasks (关怀回访, every kind, callbacks included) of
  theirs (``CareTask.owner``) closed as done in the period; skipped tasks are
  counted apart (``care_skipped``), never as done. ``care_late``: done after
  the deadline (a callback: its ``due_at``, 48 hours after the visit; any
  other kind: after its due day). ``callbacks_done``: the callbacks among
  ``care_done``.
- ``satisfaction``: the average score (1–5) of those callbacks; None when
  none was scored.
- ``old_customer_contacts``: contacts with existing customers: follow-ups
  they recorded, and care tasks of theirs done, in the period, with a
  customer whose first paid order (``converted_at``, the funnel's
  conversion) came before the contact. So a prospect called today and
  converted next week is not one; a customer, member, dormant or lost
  customer called is. Counted per contact, not per customer.
- ``conversions``: the funnel's conversions dated in the period
  (``funnel.conversions_between``), for the file's owner now, as the funnel
  by staff does: a file handed to another owner before it converted counts
  for the new owner only.
- ``complaints``: complaints opened in the period against customers they
  own (the file's owner now), whoever handles them: handling a complaint is
  work, not a fault.
- ``file_completeness``: the average completeness of the files they own now
  (not deleted), as a fraction 0..1 of the customers app's score; None when
  they own none. It does not depend on the period.

Who is listed: every active staff member of the front roles (store manager,
service advisor, customer service), with zeros if nothing happened, and
anyone else (a technician, a deactivated member) with work in the period.
The shop filter keeps the staff who work at that shop (as the customer list
does); their figures are all of their work.

Set-based, and kept: the work done (follow-up tasks, follow-ups, care
tasks) is summed from each person's kept figures (``StaffDay`` per day and
``StaffMonth`` per month, written by ``staff_facts`` with this module's
statements for a run of days: a period reads its whole months and the days
at its ends), the files
owned from each owner's kept count (``OwnerFiles``); conversions and
complaints, which follow the file's owner now, are read live from their
indexes. Six queries for everyone however many staff (or one person). The
ranking is sorted here (``staff_sort``), so the page sorts on the server by
any column.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.db.models.lookups import GreaterThan
from django.utils.translation import gettext_lazy as _

from huitou.analytics import errors, facts, staff_facts
from huitou.analytics.funnel import (
    FIRST_DATE,
    LAST_DATE,
    MAX_DAYS,
    _bounds,
    conversions_between,
    counted_files,
    funnel_period,
)
from huitou.analytics.models import StaffDay, StaffMonth
from huitou.care.models import CareKind, CareTask, Complaint
from huitou.customers.models import Customer
from huitou.lib.pinyin import pinyin_keys
from huitou.lifecycle.models import FollowUp, FollowUpTask
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role

# The figures, in the API's order; each is a sort key (and "name").
FIGURES = (
    "followups_done",
    "followups_late",
    "care_done",
    "callbacks_done",
    "old_customer_contacts",
    "conversions",
    "satisfaction",
    "complaints",
    "file_completeness",
)
SORT_KEYS = ("name", *FIGURES)
DEFAULT_SORT = "-conversions"
# Staff names whose pinyin is remembered (per process) for sorting.
NAMES_CACHED = 20_000
# Listed even with nothing in the period: the roles that follow customers up.
LISTED_ROLES = (Role.OWNER, Role.ADVISOR, Role.SERVICE)

SHOP_UNKNOWN = _("Choose one of your organization's shops.")


@dataclass(slots=True)
class StaffRow:
    """One person's figures for the period; ``user`` is set once the staff are read."""

    user: User
    followups_done: int = 0
    followups_late: int = 0
    care_done: int = 0
    care_late: int = 0
    care_skipped: int = 0
    callbacks_done: int = 0
    old_customer_contacts: int = 0
    conversions: int = 0
    satisfaction: float | None = None
    complaints: int = 0
    file_completeness: float | None = None
    files: int = 0

    @property
    def name(self) -> str:
        return str(self.user)

    @property
    def followups_on_time(self) -> int:
        return self.followups_done - self.followups_late

    @property
    def care_on_time(self) -> int:
        return self.care_done - self.care_late

    @property
    def has_work(self) -> bool:
        """Anything happened in the period (the files they own do not count: they are not the period's)."""
        return bool(
            self.followups_done
            or self.care_done
            or self.care_skipped
            or self.old_customer_contacts
            or self.conversions
            or self.complaints
        )


@dataclass(frozen=True)
class StaffPerformance:
    date_from: dt.date
    date_to: dt.date
    shop: Shop | None
    rows: list[StaffRow]


def staff_period(
    *, date_from: dt.date | None, date_to: dt.date | None, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The range asked for, the funnel's defaults filled in (``funnel_period``).

    A date outside ``FIRST_DATE``..``LAST_DATE`` is refused first, as a malformed one:
    filling in the other end from it could run off the calendar.
    """
    outside = {
        name: [forms.DateField.default_error_messages["invalid"]]
        for name, day in (("date_from", date_from), ("date_to", date_to))
        if day is not None and not FIRST_DATE <= day <= LAST_DATE
    }
    if outside:
        raise ValidationError(outside)
    return funnel_period(date_from=date_from, date_to=date_to, today=today)


def staff_check(
    *, organization: Organization | int, date_from: dt.date, date_to: dt.date, shop_id: int | None = None
) -> Shop | None:
    """Refuse what the funnel refuses of a range, and a shop of another organization; the shop (None: all)."""
    problems: dict[str, list[object]] = {}
    outside = [
        name for name, day in (("date_from", date_from), ("date_to", date_to)) if not FIRST_DATE <= day <= LAST_DATE
    ]
    for name in outside:
        problems[name] = [forms.DateField.default_error_messages["invalid"]]
    if not outside:
        if date_to < date_from:
            problems["date_to"] = [errors.RANGE_REVERSED]
        elif (date_to - date_from).days + 1 > MAX_DAYS:
            problems["date_from"] = [ValidationError(errors.RANGE_TOO_LONG, params={"days": MAX_DAYS})]
    shop = None
    if shop_id is not None:
        shop = Shop.objects.for_org(organization).filter(pk=shop_id).first()
        if shop is None:
            problems["shop"] = [SHOP_UNKNOWN]
    if problems:
        raise ValidationError(problems)
    return shop


def _late_by_day(closed: str, due_on: str) -> GreaterThan:
    """Closed on a local day after the day it was due."""
    return GreaterThan(TruncDate(closed), F(due_on))


# --- what each kind of work counts (the daily figures are these, per person and local day) ----------


def tasks_done(organization: Organization | int, start: dt.datetime, end: dt.datetime) -> QuerySet[FollowUpTask]:
    """Follow-up tasks closed as done from ``start`` to ``end``; figures of ``tasks_done_figures`` per assignee."""
    return FollowUpTask.objects.for_org(organization).filter(
        closed_as=FollowUpTask.Closed.DONE, closed_at__gte=start, closed_at__lt=end
    )


def tasks_done_figures() -> dict[str, Any]:
    return {"done": Count("closed_at"), "late": Count("closed_at", filter=_late_by_day("closed_at", "due_on"))}


def followups_recorded(organization: Organization | int, start: dt.datetime, end: dt.datetime) -> QuerySet[FollowUp]:
    """Follow-ups recorded from ``start`` to ``end``; figures of ``followups_figures`` per recorder (``staff``)."""
    return FollowUp.objects.for_org(organization).filter(at__gte=start, at__lt=end)


def followups_figures() -> dict[str, Any]:
    return {"old": Count("at", filter=Q(customer__converted_at__lt=F("at")))}


def care_closed(organization: Organization | int, start: dt.datetime, end: dt.datetime) -> QuerySet[CareTask]:
    """Care tasks closed (done or skipped) from ``start`` to ``end``; figures of ``care_figures`` per owner."""
    return CareTask.objects.for_org(organization).filter(
        state__in=[CareTask.State.DONE, CareTask.State.SKIPPED], closed_at__gte=start, closed_at__lt=end
    )


def care_figures() -> dict[str, Any]:
    """Done, late, skipped, callbacks, their scores (sum and count: the average is exact over any days),
    contacts with existing customers."""
    done = Q(state=CareTask.State.DONE)
    callback = done & Q(kind=CareKind.CALLBACK)
    late = done & (
        Q(due_at__isnull=False, closed_at__gt=F("due_at")) | Q(_late_by_day("closed_at", "due_on"), due_at__isnull=True)
    )
    return {
        "done": Count("closed_at", filter=done),
        "late": Count("closed_at", filter=late),
        "skipped": Count("closed_at", filter=Q(state=CareTask.State.SKIPPED)),
        "callbacks": Count("closed_at", filter=callback),
        "score_sum": Sum("score", filter=callback),
        "score_count": Count("score", filter=callback),
        "old": Count("closed_at", filter=done & Q(customer__converted_at__lt=F("closed_at"))),
    }


def _by(rows: QuerySet[Any], key: str) -> dict[int, dict[str, Any]]:
    return {r[key]: r for r in rows if r[key] is not None}


def staff_performance(
    *,
    organization: Organization,
    date_from: dt.date,
    date_to: dt.date,
    shop: Shop | None = None,
    staff_id: int | None = None,
    sort: str = DEFAULT_SORT,
) -> StaffPerformance:
    """Every listed staff member's figures for the period (module docstring), sorted by ``sort``.

    ``staff_id``: that one person only, listed whatever their role or state
    (their own page). The range must pass ``staff_check``. Six queries:

    1. whether a day's figures wait for a refresh (then the refresh, ``facts.facts_refresh``);
    2. the kept figures of the period summed per person (follow-up tasks, follow-ups, care tasks):
       its whole months and the days at its ends (``_work``);
    3. the files owned now per owner (count, completeness summed; a stale owner counted again first);
    4. conversions per file owner (the funnel's): kept whole months and the days at the ends (``_conversions``);
    5. complaints opened per owner of the customer;
    6. the staff to list.
    """
    start, end = _bounds(date_from, date_to)
    org = organization

    def one(queryset: QuerySet[Any], field: str) -> QuerySet[Any]:
        return queryset.filter(**{field: staff_id}) if staff_id is not None else queryset

    # 1. Exact figures: the days changed since they were written are computed again first.
    if facts.facts_stale(org.pk):
        facts.facts_refresh(org.pk)

    # 2. The work of the period: follow-up tasks done, follow-ups and care tasks closed, per person.
    work = _work(org, date_from, date_to, staff_id)

    # 3. The files they own now: how many, how complete on average (a stale owner is counted again
    # first, their conversions per month with them).
    files = staff_facts.owner_files(org.pk, user_id=staff_id)

    # 4. The funnel's conversions in the period, for the file's owner.
    conversions = _conversions(org, date_from, date_to, staff_id)

    # 5. Complaints opened in the period against customers they own.
    opened = one(Complaint.objects.for_org(org).filter(opened_at__gte=start, opened_at__lt=end), "customer__owner_id")
    complaints = _by(opened.values("customer__owner_id").annotate(n=Count("opened_at")), "customer__owner_id")

    # 6. The staff: the listed roles, and anyone with work in the period. The figures wait in rows
    # of one placeholder user until the staff are read (a model per id cost 20 ms at 2,000 staff,
    # a copy of each row as much again).
    nobody = User()
    rows: dict[int, StaffRow] = {}
    for pk in set(work) | set(conversions) | set(complaints) | set(files):
        w = work.get(pk, {})
        scored = w.get("satisfaction_count") or 0
        n, total = files.get(pk, (0, 0))
        rows[pk] = StaffRow(
            user=nobody,
            followups_done=w.get("followups_done") or 0,
            followups_late=w.get("followups_late") or 0,
            care_done=w.get("care_done") or 0,
            care_late=w.get("care_late") or 0,
            care_skipped=w.get("care_skipped") or 0,
            callbacks_done=w.get("callbacks_done") or 0,
            old_customer_contacts=w.get("old_customer_contacts") or 0,
            conversions=conversions.get(pk, {}).get("n", 0),
            satisfaction=round(w["satisfaction_sum"] / scored, 2) if scored else None,
            complaints=complaints.get(pk, {}).get("n", 0),
            file_completeness=round(total / n / 100, 4) if n else None,
            files=n,
        )
    staff = User.objects.for_org(org)
    if staff_id is not None:
        staff = staff.filter(pk=staff_id)
    if shop is not None:
        staff = staff.filter(shops=shop)
    people: Iterable[User] = staff
    if staff_id is None:
        # Whom to list is picked here, not in SQL: an IN list of everyone with work (2,000 ids in a
        # chain) cost Django more to build than reading the organization's few thousand staff.
        people = [u for u in staff if (u.is_active and u.role in LISTED_ROLES) or _has_work(rows.get(u.pk))]
    listed = [_with_user(rows.get(u.pk), u) for u in people]
    return StaffPerformance(date_from=date_from, date_to=date_to, shop=shop, rows=staff_sort(listed, sort))


def _work(
    organization: Organization, date_from: dt.date, date_to: dt.date, staff_id: int | None
) -> dict[int, dict[str, Any]]:
    """Each person's counters of ``staff_facts.COUNTERS`` summed over the period, ``{user id: figures}``.

    One query: the whole months inside the period from ``StaffMonth``, the
    days before and after them from ``StaffDay`` (a year is about twelve rows
    a person, not 365), the two grouped per person and joined by ``UNION ALL``.
    """
    sums = {name: Sum(name) for name in staff_facts.COUNTERS}
    months_from, months_to = _whole_months(date_from, date_to)
    days = StaffDay.objects.for_org(organization)
    if staff_id is not None:
        days = days.filter(user_id=staff_id)
    if months_from >= months_to:  # no whole month
        per_person = days.filter(day__gte=date_from, day__lte=date_to).values("user_id").annotate(**sums).order_by()
        return _by(per_person, "user_id")
    ends = days.filter(Q(day__gte=date_from, day__lt=months_from) | Q(day__gte=months_to, day__lte=date_to))
    months = StaffMonth.objects.for_org(organization).filter(month__gte=months_from, month__lt=months_to)
    if staff_id is not None:
        months = months.filter(user_id=staff_id)
    parts = (
        ends.values("user_id")
        .annotate(**sums)
        .order_by()
        .union(months.values("user_id").annotate(**sums).order_by(), all=True)
    )
    work: dict[int, dict[str, Any]] = {}
    for part in parts:
        row: dict[str, Any] = dict(part)
        summed = work.setdefault(row["user_id"], row)
        if summed is not row:
            for name in staff_facts.COUNTERS:
                summed[name] = (summed[name] or 0) + (row[name] or 0)
    return work


def _whole_months(date_from: dt.date, date_to: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of the first whole month in the period and of the month after the last (excluded);
    the first not before the second: no whole month."""
    months_from = date_from if date_from.day == 1 else staff_facts.next_month(date_from)
    return months_from, staff_facts.month_start(date_to + dt.timedelta(days=1))


def _conversions(
    organization: Organization, date_from: dt.date, date_to: dt.date, staff_id: int | None
) -> dict[int, dict[str, Any]]:
    """The funnel's conversions in the period per file owner now, ``{owner id: {"n": count}}``.

    One query: the whole months from ``OwnerMonth`` (fresh: ``owner_files`` ran first) and the days at
    the ends live from the converted files' index, joined by ``UNION ALL``.
    """
    months_from, months_to = _whole_months(date_from, date_to)
    files = counted_files(organization)
    if staff_id is not None:
        files = files.filter(owner_id=staff_id)
    if months_from >= months_to:  # no whole month: all live
        live = conversions_between(organization=organization, date_from=date_from, date_to=date_to)
        if staff_id is not None:
            live = live.filter(owner_id=staff_id)
        return _by(live.values("owner_id").annotate(n=Count("converted_at")), "owner_id")
    months = staff_facts.owner_months(organization.pk, months_from, months_to, user_id=staff_id)
    per_owner: QuerySet[Any] = months.values("user_id").annotate(n=Sum("conversions")).order_by()
    ranges = []  # the days before the first whole month and after the last
    if date_from < months_from:
        ranges.append(_bounds(date_from, months_from - dt.timedelta(days=1)))
    if months_to <= date_to:
        ranges.append(_bounds(months_to, date_to))
    # One branch per range: each is a range scan of the converted files' index alone (an OR of the
    # two made PostgreSQL read the rows as well).
    rows = per_owner
    for start, end in ranges:
        edge: QuerySet[Any] = files.filter(converted_at__gte=start, converted_at__lt=end)
        rows = edge.values("owner_id").annotate(n=Count("converted_at")).order_by().union(rows, all=True)
    counted: dict[int, dict[str, Any]] = {}
    for row in rows:
        owner = row.get("owner_id", row.get("user_id"))
        if owner is not None:
            counted.setdefault(owner, {"n": 0})["n"] += row["n"] or 0
    return counted


def _has_work(row: StaffRow | None) -> bool:
    return row is not None and row.has_work


def _with_user(row: StaffRow | None, user: User) -> StaffRow:
    if row is None:
        return StaffRow(user=user)
    row.user = user
    return row


def sort_key(sort: str) -> tuple[str, bool]:
    """The column and whether descending, from ``column`` or ``-column``; unknown: the default."""
    descending = sort.startswith("-")
    column = sort.lstrip("-")
    if column not in SORT_KEYS:
        return sort_key(DEFAULT_SORT)
    return column, descending


@functools.lru_cache(maxsize=NAMES_CACHED)
def _name_pinyin(name: str) -> str:
    """A name's full pinyin, remembered: a chain's 2,000 names cost 70 ms to spell on every ranking."""
    return pinyin_keys(name)[0]


def staff_sort(rows: list[StaffRow], sort: str = DEFAULT_SORT) -> list[StaffRow]:
    """Sorted by a column, ascending or descending (``-column``); no value (None) last either way.

    Names sort by their pinyin (李 li before 孙 sun), as Chinese lists do; ties of a figure by name.
    """
    column, descending = sort_key(sort)
    by_name = sorted(rows, key=lambda r: (_name_pinyin(r.name), r.name, r.user.pk))
    if column == "name":
        return list(reversed(by_name)) if descending else by_name
    known = [r for r in by_name if getattr(r, column) is not None]
    unknown = [r for r in by_name if getattr(r, column) is None]
    known.sort(key=lambda r: getattr(r, column), reverse=descending)  # stable: ties stay by name
    return known + unknown


def converted_files(
    *, organization: Organization, user: User, date_from: dt.date, date_to: dt.date
) -> QuerySet[Customer]:
    """The files behind one person's ``conversions``, latest first (the caller slices)."""
    return (
        conversions_between(organization=organization, date_from=date_from, date_to=date_to)
        .filter(owner=user)
        .order_by("-converted_at", "-pk")
    )


def complaints_against(
    *, organization: Organization, user: User, date_from: dt.date, date_to: dt.date
) -> QuerySet[Complaint]:
    """The complaints behind one person's ``complaints``, latest first, with the customer (the caller slices)."""
    start, end = _bounds(date_from, date_to)
    return (
        Complaint.objects.for_org(organization)
        .filter(opened_at__gte=start, opened_at__lt=end, customer__owner=user)
        .select_related("customer")
        .order_by("-opened_at", "-pk")
    )
