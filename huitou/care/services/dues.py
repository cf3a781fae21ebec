"""What each vehicle next needs: maintenance by date or mileage, whichever comes first.

``dues_refresh`` rewrites one vehicle's ``MaintenanceDue`` rows from its paid
orders and its odometer estimate; it runs when an order of the vehicle is
paid and, in the sweep, for vehicles read since their rows were computed.
A few queries per vehicle, only for vehicles that changed.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from huitou.care.models import MaintenanceDue
from huitou.customers.models import MileageReading, Vehicle
from huitou.lib.mileage import Estimate, Reading, estimate
from huitou.service.models import OrderLine, OrderState


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the month's last day when it has no such day (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def vehicle_estimate(vehicle: Vehicle) -> Estimate | None:
    """The odometer estimate from the vehicle's readings (one query)."""
    return _estimate(vehicle.organization_id, vehicle.pk, vehicle.purchase_date)


def _estimate(organization_id: int, vehicle_id: int, purchase_date: dt.date | None) -> Estimate | None:
    rows = MileageReading.objects.for_org(organization_id).filter(vehicle_id=vehicle_id)
    readings = [
        Reading(timezone.localdate(at), km, replaced)
        for km, at, replaced in rows.values_list("km", "read_at", "odometer_replaced")
    ]
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
    lines = (
        OrderLine.objects.for_org(org)
        .filter(order__vehicle_id=vehicle_id, order__state=OrderState.PAID, kind=OrderLine.Kind.SERVICE)
        .filter(Q(service__interval_km__isnull=False) | Q(service__interval_months__isnull=False))
        .order_by("service_id", "-order__paid_at", "-order_id")
        .values_list(
            "service_id",
            "order_id",
            "order__paid_at",
            "order__mileage_km",
            "service__interval_km",
            "service__interval_months",
            "order__vehicle__purchase_date",
        )
    )
    latest: dict[int, tuple[int, dt.datetime | None, int | None, int | None, int | None]] = {}
    found = list(lines)
    for service_id, order_id, paid_at, km, interval_km, interval_months, _purchase_date in found:
        latest.setdefault(service_id, (order_id, paid_at, km, interval_km, interval_months))
    odometer = _estimate(org, vehicle_id, found[0][-1]) if latest else None  # the vehicle's purchase date
    rows = []
    for service_id, (order_id, paid_at, km, interval_km, interval_months) in latest.items():
        if paid_at is None:  # a paid order always has its time; the type says it may not
            continue
        done_on = timezone.localdate(paid_at)
        due = next_due(
            last_done_on=done_on,
            last_km=km,
            interval_km=interval_km,
            interval_months=interval_months,
            odometer=odometer,
        )
        if due is None:
            continue
        rows.append(
            MaintenanceDue(
                organization_id=org,
                vehicle_id=vehicle_id,
                service_id=service_id,
                last_order_id=order_id,
                last_done_on=done_on,
                last_km=km,
                km_per_day=odometer.km_per_day if odometer else None,
                due_km=due.due_km,
                due_on=min(due.due_on, dt.date(9999, 12, 31)),
                due_by=due.due_by,
                computed_at=now,
            )
        )
    with transaction.atomic(savepoint=False):
        MaintenanceDue.objects.for_org(org).filter(vehicle_id=vehicle_id).exclude(
            service_id__in=[r.service_id for r in rows]
        ).delete()
        if rows:
            MaintenanceDue.objects.bulk_create(
                rows,
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
    return rows
