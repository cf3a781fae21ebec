"""Reads of care: the work lists, the store manager's late tasks by staff, the rules, a car's outlook."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from huitou.care import errors
from huitou.care.models import CareKind, CareTask, MaintenanceDue
from huitou.care.services.rules import DEFAULTS, RuleSettings, rules_for
from huitou.customers.models import MileageReading, Vehicle
from huitou.lib.mileage import Estimate, Reading, estimate
from huitou.service.errors import RoleRefused
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

DUE_TODAY = "today"
DUE_OVERDUE = "overdue"
DUE_WEEK = "week"  # after today, within the next seven days
DUE_CHOICES = (DUE_TODAY, DUE_OVERDUE, DUE_WEEK)
WEEK_DAYS = 7

STATES = tuple(CareTask.State.values)


def _due_filter(due: str, today: dt.date) -> Q:
    if due == DUE_TODAY:
        return Q(due_on=today)
    if due == DUE_OVERDUE:
        return Q(due_on__lt=today)
    if due == DUE_WEEK:
        return Q(due_on__gt=today, due_on__lte=today + dt.timedelta(days=WEEK_DAYS))
    return Q()


def care_tasks(
    *,
    organization: Organization | int,
    owner_id: int | None = None,
    kind: str = "",
    customer_id: int | None = None,
    state: str = CareTask.State.OPEN,
    due: str = "",
    today: dt.date | None = None,
) -> QuerySet[CareTask]:
    """Care tasks by owner (None: everyone's), kind, customer, state and due date (``DUE_CHOICES``; blank: any).

    Open tasks come oldest due first, closed ones latest closed first. With the
    customer, the vehicle and the owner joined: one query a page. An owner's open
    tasks read the open-task index ``(organization, owner, due_on)``.
    """
    today = today or timezone.localdate()
    tasks = CareTask.objects.for_org(organization).filter(state=state)
    if owner_id is not None:
        tasks = tasks.filter(owner_id=owner_id)
    if kind:
        tasks = tasks.filter(kind=kind)
    if customer_id is not None:
        tasks = tasks.filter(customer_id=customer_id)
    tasks = tasks.filter(_due_filter(due, today)).select_related("customer", "vehicle", "owner")
    if state == CareTask.State.OPEN:
        return tasks.order_by("due_on", "pk")
    return tasks.order_by("-closed_at", "-pk")


def work_list(
    *, organization: Organization | int, owner_id: int, due: str = DUE_TODAY, today: dt.date | None = None
) -> QuerySet[CareTask]:
    """One staff member's open care tasks of one tab: today, overdue or this week."""
    due = due if due in DUE_CHOICES else DUE_TODAY
    return care_tasks(organization=organization, owner_id=owner_id, due=due, today=today)


def work_counts(*, organization: Organization | int, owner_id: int, today: dt.date | None = None) -> dict[str, int]:
    """How many open care tasks one staff member has in each tab. One query on the open-task index."""
    today = today or timezone.localdate()
    return (
        CareTask.objects.for_org(organization)
        .filter(state=CareTask.State.OPEN, owner_id=owner_id, due_on__lte=today + dt.timedelta(days=WEEK_DAYS))
        .aggregate(**{due: Count("due_on", filter=_due_filter(due, today)) for due in DUE_CHOICES})
    )


@dataclass(frozen=True)
class StaffLate:
    staff: User
    overdue: int
    callbacks_overdue: int  # the 48-hour callbacks among them
    today: int
    oldest_due: dt.date | None


def late_by_staff(*, organization: Organization | int, today: dt.date | None = None) -> list[StaffLate]:
    """The store manager's view: per staff member, open care tasks overdue and due today. Two queries.

    The counts read the open-task index ``(organization, due_on) INCLUDE (owner)``
    (plus the kind, for the callbacks); the longest waits come first.
    """
    today = today or timezone.localdate()
    rows = (
        CareTask.objects.for_org(organization)
        .filter(state=CareTask.State.OPEN, due_on__lte=today)
        .values("owner_id")
        .annotate(
            overdue=Count("due_on", filter=Q(due_on__lt=today)),
            callbacks=Count("due_on", filter=Q(due_on__lt=today, kind=CareKind.CALLBACK)),
            today=Count("due_on", filter=Q(due_on=today)),
            oldest=Min("due_on"),
        )
    )
    counts = {r["owner_id"]: r for r in rows}
    # The organization's staff, kept in Python: an IN list of every busy person (a chain's 2,000)
    # cost Django more to build than reading its few thousand staff.
    staff = [u for u in User.objects.for_org(organization).order_by("pk") if u.pk in counts]
    late = [
        StaffLate(
            staff=u,
            overdue=counts[u.pk]["overdue"],
            callbacks_overdue=counts[u.pk]["callbacks"],
            today=counts[u.pk]["today"],
            oldest_due=counts[u.pk]["oldest"] if counts[u.pk]["overdue"] else None,
        )
        for u in staff
    ]
    return sorted(late, key=lambda s: (-s.overdue, -s.today, s.staff.pk))


def rule_settings(*, organization: Organization | int) -> list[RuleSettings]:
    """Every kind of care the product makes, with the organization's settings (one query), in menu order."""
    settings = rules_for(organization)
    return [settings[kind] for kind in CareKind.values if kind in DEFAULTS]


# --- a car's outlook: where its odometer stands and what it needs next ----------------------------


@dataclass(frozen=True)
class NextMaintenance:
    service: str
    due_on: dt.date
    due_km: int | None
    due_by: str  # MaintenanceDue.By: which of the two came first


@dataclass(frozen=True)
class Outlook:
    estimated_km: int | None
    km_per_day: float | None
    basis: str | None  # lib.mileage's: fit, purchase or default
    next: NextMaintenance | None


def odometer(readings: Iterable[MileageReading], *, purchase_date: dt.date | None) -> Estimate | None:
    """The odometer estimate from readings already loaded (no query), as the sweep makes it."""
    points = [Reading(timezone.localdate(r.read_at), r.km, r.odometer_replaced) for r in readings]
    return estimate(points, purchase_date=purchase_date)


def outlook(
    readings: Iterable[MileageReading],
    *,
    purchase_date: dt.date | None,
    next_maintenance: NextMaintenance | None,
    today: dt.date | None = None,
) -> Outlook:
    today = today or timezone.localdate()
    found = odometer(readings, purchase_date=purchase_date)
    if found is None:
        return Outlook(None, None, None, next_maintenance)
    return Outlook(found.km_on(today), found.km_per_day, found.basis, next_maintenance)


def next_maintenance_of(*, organization: Organization | int, vehicle_ids: Iterable[int]) -> dict[int, NextMaintenance]:
    """Each vehicle's earliest maintenance due, with the service's name. One query."""
    ids = list(vehicle_ids)
    if not ids:
        return {}
    dues = (
        MaintenanceDue.objects.for_org(organization)
        .filter(vehicle_id__in=ids)
        .order_by("vehicle_id", "due_on", "service_id")
        .values_list("vehicle_id", "service__name", "due_on", "due_km", "due_by")
    )
    found: dict[int, NextMaintenance] = {}
    for vehicle_id, service, due_on, due_km, due_by in dues:
        found.setdefault(vehicle_id, NextMaintenance(service, due_on, due_km, due_by))
    return found


def vehicle_outlooks(*, organization: Organization | int, vehicles: Iterable[Vehicle]) -> dict[int, Outlook]:
    """The outlook of vehicles whose readings are prefetched (``vehicle.readings.all()``): one query."""
    vehicles = list(vehicles)
    nexts = next_maintenance_of(organization=organization, vehicle_ids=[v.pk for v in vehicles])
    today = timezone.localdate()
    return {
        v.pk: outlook(v.readings.all(), purchase_date=v.purchase_date, next_maintenance=nexts.get(v.pk), today=today)
        for v in vehicles
    }


def with_next_maintenance(vehicles: QuerySet[Vehicle], *, organization: Organization | int) -> QuerySet[Vehicle]:
    """The vehicles, each with its earliest maintenance due (``next_due_on``, ``next_due_km``,
    ``next_due_by``, ``next_service``; None without one), in the same query as the vehicles."""
    first = MaintenanceDue.objects.for_org(organization).filter(vehicle=OuterRef("pk")).order_by("due_on", "service_id")
    return vehicles.annotate(
        next_due_on=Subquery(first.values("due_on")[:1]),
        next_due_km=Subquery(first.values("due_km")[:1]),
        next_due_by=Subquery(first.values("due_by")[:1]),
        next_service=Subquery(first.values("service__name")[:1]),
    )


def annotated_next(vehicle: Vehicle) -> NextMaintenance | None:
    """The next maintenance a vehicle read through ``with_next_maintenance`` carries."""
    due_on = getattr(vehicle, "next_due_on", None)
    if due_on is None:
        return None
    return NextMaintenance(vehicle.next_service, due_on, vehicle.next_due_km, vehicle.next_due_by)  # type: ignore[attr-defined]


# --- reaching one task ---------------------------------------------------------------------------


def task_for_page(*, organization: Organization | int, task_id: int) -> CareTask:
    """One task of the organization with its customer, vehicle, owner and closer (Http404: missing or another's)."""
    return get_scoped_or_404(
        CareTask.objects.select_related("customer", "vehicle", "owner", "closed_by"), organization, pk=task_id
    )


def task_for_closing(*, organization: Organization | int, user: User, task_id: int) -> CareTask:
    """A task ``user`` may close: their own, or anyone's for those who see the team's work.

    Http404 when it is missing or another organization's; ``RoleRefused``
    (403, ``errors.NOT_YOUR_TASK``) when it is a colleague's. The page and the
    API reach a task to close only through here.
    """
    task = get_scoped_or_404(CareTask.objects.all(), organization, pk=task_id)
    if task.owner_id != user.pk and not user.has_role_perm(Perm.VIEW_TEAM_FOLLOWUPS):
        raise RoleRefused(errors.NOT_YOUR_TASK)
    return task
