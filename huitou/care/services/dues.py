"""What each vehicle next needs: maintenance by date or mileage, whichever comes first.

One rule, two ways in. ``vehicle_dues`` works out a vehicle's rows from the
latest paid line of each service with an interval and the odometer estimate
(``huitou.lib.mileage``), with ``next_due`` deciding between date and
mileage. ``dues_refresh`` applies it to one vehicle (a few queries), when an
order of the vehicle is paid. ``dues_rebuild`` applies it to the vehicles of
an organization, or to a list of them, in chunks of consecutive vehicle ids:
per chunk one query each for the vehicles, their latest paid lines, their
readings and their current rows, then one transaction that deletes the rows
no longer due and upserts the rest. It is for data brought in without the
services (imports) and for the sweep's vehicles read since their rows were
computed; a run stopped half-way leaves whole chunks, and running it again
gives the same rows.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from huitou.care.models import MaintenanceDue
from huitou.customers.models import MileageReading, Vehicle
from huitou.lib.mileage import Estimate, Reading, estimate
from huitou.service.models import OrderLine, OrderState
from huitou.tenancy.models import Organization

REBUILD_CHUNK = 5000  # vehicles per chunk and transaction of ``dues_rebuild``
UPSERT_BATCH = 2000  # rows per INSERT … ON CONFLICT (11 parameters each)
FAR_FUTURE = dt.date(9999, 12, 31)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the month's last day when it has no such day (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def vehicle_estimate(vehicle: Vehicle) -> Estimate | None:
    """The odometer estimate from the vehicle's readings (one query)."""
    return _estimate(vehicle.organization_id, vehicle.pk, vehicle.purchase_date)


def _reading(km: int, read_at: dt.datetime, replaced: bool) -> Reading:
    return Reading(timezone.localdate(read_at), km, replaced)


def _estimate(organization_id: int, vehicle_id: int, purchase_date: dt.date | None) -> Estimate | None:
    rows = MileageReading.objects.for_org(organization_id).filter(vehicle_id=vehicle_id)
    readings = [_reading(*row) for row in rows.values_list("km", "read_at", "odometer_replaced")]
    return estimate(readings, purchase_date=purchase_date)


@dataclass(frozen=True)
class Due:
    due_on: dt.date
    due_by: str
    due_km: int | None


def next_due(
    *,
    last_done_on: dt.date,
    last_km: int | None,
    interval_km: int | None,
    interval_months: int | None,
    odometer: Estimate | None,
) -> Due | None:
    """Whichever of the date and the mileage interval comes first (None: the service has neither)."""
    candidates: list[Due] = []
    if interval_months:
        candidates.append(Due(add_months(last_done_on, interval_months), MaintenanceDue.By.DATE, None))
    if interval_km and odometer is not None:
        # Without a reading at the last service, the estimate tells where the odometer stood that day.
        start_km = last_km if last_km is not None else _km_back_then(odometer, last_done_on)
        target = start_km + interval_km
        candidates.append(Due(odometer.day_reaching(target), MaintenanceDue.By.KM, target))
    if not candidates:
        return None
    return min(candidates, key=lambda due: (due.due_on, due.due_by != MaintenanceDue.By.KM))


def _km_back_then(odometer: Estimate, day: dt.date) -> int:
    if day >= odometer.anchor_on:
        return odometer.km_on(day)
    return max(0, odometer.anchor_km - round(odometer.km_per_day * (odometer.anchor_on - day).days))


@dataclass(frozen=True)
class LastService:
    """The latest paid line of a service with an interval on a vehicle: when, at what mileage, how often."""

    service_id: int
    order_id: int
    paid_at: dt.datetime | None
    km: int | None
    interval_km: int | None
    interval_months: int | None


# The columns of a paid line that the rule reads, in ``LastService`` order after the vehicle's id.
LINE_FIELDS = (
    "order__vehicle_id",
    "service_id",
    "order_id",
    "order__paid_at",
    "order__mileage_km",
    "service__interval_km",
    "service__interval_months",
)


def _paid_lines(organization_id: int, **vehicles: Any) -> QuerySet[OrderLine]:
    """The paid service lines with an interval of the vehicles (``vehicle_id=``, ``vehicle_id__in=``, ...),
    the latest first for each vehicle and service."""
    return (
        OrderLine.objects.for_org(organization_id)
        .filter(
            order__organization_id=organization_id,  # the orders' index starts with it
            order__state=OrderState.PAID,
            kind=OrderLine.Kind.SERVICE,
            **{f"order__{lookup}": value for lookup, value in vehicles.items()},
        )
        .filter(Q(service__interval_km__isnull=False) | Q(service__interval_months__isnull=False))
        .order_by("order__vehicle_id", "service_id", "-order__paid_at", "-order_id")
    )


def vehicle_dues(
    *,
    organization_id: int,
    vehicle_id: int,
    services: Iterable[LastService],
    odometer: Estimate | None,
    now: dt.datetime,
) -> list[MaintenanceDue]:
    """The vehicle's ``MaintenanceDue`` rows (unsaved): for each service its latest time and ``next_due``."""
    rows = []
    for last in services:
        if last.paid_at is None:  # a paid order always has its time; the type says it may not
            continue
        done_on = timezone.localdate(last.paid_at)
        due = next_due(
            last_done_on=done_on,
            last_km=last.km,
            interval_km=last.interval_km,
            interval_months=last.interval_months,
            odometer=odometer,
        )
        if due is None:
            continue
        rows.append(
            MaintenanceDue(
                organization_id=organization_id,
                vehicle_id=vehicle_id,
                service_id=last.service_id,
                last_order_id=last.order_id,
                last_done_on=done_on,
                last_km=last.km,
                km_per_day=odometer.km_per_day if odometer else None,
                due_km=due.due_km,
                due_on=min(due.due_on, FAR_FUTURE),
                due_by=due.due_by,
                computed_at=now,
            )
        )
    return rows


def _upsert(rows: list[MaintenanceDue]) -> None:
    MaintenanceDue.objects.bulk_create(
        rows,
        batch_size=UPSERT_BATCH,
        update_conflicts=True,
        unique_fields=["organization", "vehicle", "service"],
        update_fields=[
            "last_order",
            "last_done_on",
            "last_km",
            "km_per_day",
            "due_km",
            "due_on",
            "due_by",
            "computed_at",
        ],
    )


def dues_refresh(
    *, vehicle: Vehicle | int, organization_id: int | None = None, now: dt.datetime | None = None
) -> list[MaintenanceDue]:
    """Rewrite the vehicle's next maintenance for every service with an interval it has had.

    ``vehicle`` is a Vehicle or, with ``organization_id``, its id (a paid
    order's receiver: the purchase date comes with the orders' lines).
    """
    now = now or timezone.now()
    if isinstance(vehicle, Vehicle):
        org, vehicle_id = vehicle.organization_id, vehicle.pk
    else:
        assert organization_id is not None
        org, vehicle_id = organization_id, vehicle
    found = list(_paid_lines(org, vehicle_id=vehicle_id).values_list(*LINE_FIELDS, "order__vehicle__purchase_date"))
    latest: dict[int, LastService] = {}
    for _vehicle, service_id, *rest, _purchase_date in found:
        latest.setdefault(service_id, LastService(service_id, *rest))
    odometer = _estimate(org, vehicle_id, found[0][-1]) if latest else None  # the vehicle's purchase date
    rows = vehicle_dues(
        organization_id=org, vehicle_id=vehicle_id, services=latest.values(), odometer=odometer, now=now
    )
    with transaction.atomic(savepoint=False):
        MaintenanceDue.objects.for_org(org).filter(vehicle_id=vehicle_id).exclude(
            service_id__in=[r.service_id for r in rows]
        ).delete()
        if rows:
            _upsert(rows)
    return rows


# --- many vehicles at once ---------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """After each chunk of ``dues_rebuild``: vehicles walked and rows written so far, the chunk's last id."""

    vehicles: int
    dues: int
    last_vehicle_id: int


def dues_rebuild(
    *,
    organization: Organization | int,
    now: dt.datetime | None = None,
    chunk: int = REBUILD_CHUNK,
    vehicle_ids: Iterable[int] | None = None,
    after: int = 0,
    progress: Callable[[Progress], None] | None = None,
) -> int:
    """Rewrite the next maintenance of the organization's vehicles (or of ``vehicle_ids``), ``chunk`` at a time.

    Vehicles go in id order, from the first after ``after``; each chunk is
    committed on its own (one transaction) when no transaction is open, so
    a run stopped half-way leaves whole chunks and can go on from the last
    id ``progress`` reported. Returns the number of vehicles walked.
    """
    now = now or timezone.now()
    org = organization if isinstance(organization, int) else organization.pk
    walked = written = 0
    for vehicles, where in _chunks(org, chunk, vehicle_ids, after):
        written += _rebuild_chunk(org, vehicles, where, now)
        walked += len(vehicles)
        if progress is not None:
            progress(Progress(walked, written, max(vehicles)))
    return walked


def _chunks(
    org: int, size: int, vehicle_ids: Iterable[int] | None, after: int
) -> Iterator[tuple[dict[int, dt.date | None], dict[str, Any]]]:
    """(each vehicle's purchase date, the lookup that selects the chunk's vehicles), chunk by chunk.

    The whole organization goes by keyset on the vehicle id, and a chunk is
    the id range from its first to its last vehicle (one index range scan
    per table); a list goes ``size`` ids at a time."""
    vehicles = Vehicle.objects.for_org(org).order_by("pk")
    if vehicle_ids is None:
        while True:
            page: dict[int, dt.date | None] = dict(
                vehicles.filter(pk__gt=after).values_list("pk", "purchase_date")[:size]
            )
            if not page:
                return
            first, after = min(page), max(page)
            yield page, {"vehicle_id__gte": first, "vehicle_id__lte": after}
            if len(page) < size:
                return
    ids = sorted({i for i in vehicle_ids if i > after})
    for start in range(0, len(ids), size):
        part = ids[start : start + size]
        yield dict(vehicles.filter(pk__in=part).values_list("pk", "purchase_date")), {"vehicle_id__in": part}


def _rebuild_chunk(org: int, vehicles: dict[int, dt.date | None], where: dict[str, Any], now: dt.datetime) -> int:
    """One chunk: three reads, then the rows no longer due deleted and the rest upserted in one transaction."""
    lines = _paid_lines(org, **where)
    if connection.features.can_distinct_on_fields:  # PostgreSQL sends only the latest line of each service
        lines = lines.distinct("order__vehicle_id", "service_id")
    latest: dict[int, dict[int, LastService]] = defaultdict(dict)
    for vehicle_id, service_id, *rest in lines.values_list(*LINE_FIELDS):
        if vehicle_id in vehicles:
            latest[vehicle_id].setdefault(service_id, LastService(service_id, *rest))
    readings: dict[int, list[Reading]] = defaultdict(list)
    if latest:
        found = MileageReading.objects.for_org(org).filter(**where)
        for vehicle_id, km, read_at, replaced in found.values_list("vehicle_id", "km", "read_at", "odometer_replaced"):
            readings[vehicle_id].append(_reading(km, read_at, replaced))
    current = MaintenanceDue.objects.for_org(org).filter(**where).values_list("vehicle_id", "service_id", "pk")
    rows: list[MaintenanceDue] = []
    for vehicle_id, services in latest.items():
        odometer = estimate(readings.get(vehicle_id, ()), purchase_date=vehicles[vehicle_id])
        rows += vehicle_dues(
            organization_id=org, vehicle_id=vehicle_id, services=services.values(), odometer=odometer, now=now
        )
    keep = {(row.vehicle_id, row.service_id) for row in rows}
    stale = [pk for vehicle_id, service_id, pk in current if (vehicle_id, service_id) not in keep]
    with transaction.atomic(savepoint=False):
        if stale:
            MaintenanceDue.objects.for_org(org).filter(pk__in=stale).delete()
        if rows:
            _upsert(rows)
    return len(rows)
