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

Set-based: seven grouped queries for everyone however many staff (or one
person): follow-up tasks, follow-ups, care tasks, conversions, complaints,
files, then the staff. The ranking is sorted here (``staff_sort``), so the
page sorts on the server by any column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.db.models.lookups import GreaterThan
from django.utils.translation import gettext_lazy as _

from huitou.analytics import errors
from huitou.analytics.funnel import (
    FIRST_DATE,
    LAST_DATE,
    MAX_DAYS,
    _bounds,
    conversions_between,
    counted_files,
    funnel_period,
)
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
# Listed even with nothing in the period: the roles that follow customers up.
LISTED_ROLES = (Role.OWNER, Role.ADVISOR, Role.SERVICE)

SHOP_UNKNOWN = _("Choose one of your organization's shops.")


@dataclass(frozen=True)
class StaffRow:
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
    (their own page). The range must pass ``staff_check``. Seven queries:

    1. follow-up tasks done per assignee (done, late);
    2. follow-ups per recorder with an existing customer;
    3. care tasks closed per owner (done, late, skipped, callbacks, satisfaction, existing customers);
    4. conversions per file owner (the funnel's);
    5. complaints opened per owner of the customer;
    6. files owned now per owner (count, average completeness);
    7. the staff to list.
    """
    start, end = _bounds(date_from, date_to)
    org = organization

    def one(queryset: QuerySet[Any], field: str) -> QuerySet[Any]:
        return queryset.filter(**{field: staff_id}) if staff_id is not None else queryset

    # 1. Follow-up tasks assigned to them, closed as done in the period.
    tasks = one(
        FollowUpTask.objects.for_org(org).filter(
            closed_as=FollowUpTask.Closed.DONE, closed_at__gte=start, closed_at__lt=end
        ),
        "assignee_id",
    )
    followup_tasks = _by(
        tasks.values("assignee_id").annotate(
            done=Count("closed_at"), late=Count("closed_at", filter=_late_by_day("closed_at", "due_on"))
        ),
        "assignee_id",
    )

    # 2. Follow-ups they recorded in the period, with a customer converted before.
    followups = one(FollowUp.objects.for_org(org).filter(at__gte=start, at__lt=end), "staff_id")
    followup_contacts = _by(
        followups.values("staff_id").annotate(
            old=Count("at", filter=Q(customer__converted_at__lt=F("at"))),
        ),
        "staff_id",
    )

    # 3. Care tasks of theirs closed (done or skipped) in the period.
    done = Q(state=CareTask.State.DONE)
    callback = done & Q(kind=CareKind.CALLBACK)
    late = done & (
        Q(due_at__isnull=False, closed_at__gt=F("due_at")) | Q(_late_by_day("closed_at", "due_on"), due_at__isnull=True)
    )
    care_tasks = one(
        CareTask.objects.for_org(org).filter(
            state__in=[CareTask.State.DONE, CareTask.State.SKIPPED], closed_at__gte=start, closed_at__lt=end
        ),
        "owner_id",
    )
    care = _by(
        care_tasks.values("owner_id").annotate(
            done=Count("closed_at", filter=done),
            late=Count("closed_at", filter=late),
            skipped=Count("closed_at", filter=Q(state=CareTask.State.SKIPPED)),
            callbacks=Count("closed_at", filter=callback),
            satisfaction=Avg("score", filter=callback),
            old=Count("closed_at", filter=done & Q(customer__converted_at__lt=F("closed_at"))),
        ),
        "owner_id",
    )

    # 4. The funnel's conversions in the period, for the file's owner.
    converted = one(conversions_between(organization=org, date_from=date_from, date_to=date_to), "owner_id")
    conversions = _by(converted.values("owner_id").annotate(n=Count("converted_at")), "owner_id")

    # 5. Complaints opened in the period against customers they own.
    opened = one(Complaint.objects.for_org(org).filter(opened_at__gte=start, opened_at__lt=end), "customer__owner_id")
    complaints = _by(opened.values("customer__owner_id").annotate(n=Count("opened_at")), "customer__owner_id")

    # 6. The files they own now: how many, how complete on average.
    owned = one(counted_files(org), "owner_id")
    files = _by(owned.values("owner_id").annotate(n=Count("completeness"), avg=Avg("completeness")), "owner_id")

    # 7. The staff: the listed roles, and anyone with work in the period.
    rows: dict[int, StaffRow] = {}
    ids = set(followup_tasks) | set(followup_contacts) | set(care) | set(conversions) | set(complaints)
    for pk in set(ids) | set(files):
        t, f, c = followup_tasks.get(pk, {}), followup_contacts.get(pk, {}), care.get(pk, {})
        satisfaction = c.get("satisfaction")
        average = files.get(pk, {}).get("avg")
        rows[pk] = StaffRow(
            user=User(pk=pk),
            followups_done=t.get("done", 0),
            followups_late=t.get("late", 0),
            care_done=c.get("done", 0),
            care_late=c.get("late", 0),
            care_skipped=c.get("skipped", 0),
            callbacks_done=c.get("callbacks", 0),
            old_customer_contacts=f.get("old", 0) + c.get("old", 0),
            conversions=conversions.get(pk, {}).get("n", 0),
            satisfaction=round(float(satisfaction), 2) if satisfaction is not None else None,
            complaints=complaints.get(pk, {}).get("n", 0),
            file_completeness=round(float(average) / 100, 4) if average is not None else None,
            files=files.get(pk, {}).get("n", 0),
        )
    staff = User.objects.for_org(org)
    if staff_id is not None:
        staff = staff.filter(pk=staff_id)
    else:
        with_work = [pk for pk, row in rows.items() if row.has_work]
        staff = staff.filter(Q(is_active=True, role__in=LISTED_ROLES) | Q(pk__in=with_work))
    if shop is not None:
        staff = staff.filter(shops=shop)
    listed = [_with_user(rows.get(u.pk), u) for u in staff]
    return StaffPerformance(date_from=date_from, date_to=date_to, shop=shop, rows=staff_sort(listed, sort))


def _with_user(row: StaffRow | None, user: User) -> StaffRow:
    if row is None:
        return StaffRow(user=user)
    return StaffRow(**{**row.__dict__, "user": user})


def sort_key(sort: str) -> tuple[str, bool]:
    """The column and whether descending, from ``column`` or ``-column``; unknown: the default."""
    descending = sort.startswith("-")
    column = sort.lstrip("-")
    if column not in SORT_KEYS:
        return sort_key(DEFAULT_SORT)
    return column, descending


def staff_sort(rows: list[StaffRow], sort: str = DEFAULT_SORT) -> list[StaffRow]:
    """Sorted by a column, ascending or descending (``-column``); no value (None) last either way.

    Names sort by their pinyin (李 li before 孙 sun), as Chinese lists do; ties of a figure by name.
    """
    column, descending = sort_key(sort)
    by_name = sorted(rows, key=lambda r: (pinyin_keys(r.name)[0], r.name, r.user.pk))
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
