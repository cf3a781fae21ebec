"""Appointments: opening hours cut into slots, each with a number of bays (工位).

A booking counts the appointments holding a bay in its slot while holding a
lock on the shop row, so two requests for the last bay cannot both succeed
(on SQLite the immediate write transaction does the same).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record
from huitou.customers.models import Customer, Vehicle
from huitou.service import errors
from huitou.service.errors import StateConflict
from huitou.service.models import Appointment, OpeningHours, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_open
from huitou.tenancy.models import Shop, User

State = Appointment.State

TRANSITIONS: dict[str, set[str]] = {
    State.BOOKED: {State.CONFIRMED, State.ARRIVED, State.NO_SHOW, State.CANCELLED},
    State.CONFIRMED: {State.ARRIVED, State.NO_SHOW, State.CANCELLED},
    State.ARRIVED: {State.CONVERTED, State.CANCELLED},
    State.CONVERTED: set(),
    State.NO_SHOW: set(),
    State.CANCELLED: set(),
}


@dataclass(frozen=True)
class Slot:
    start: dt.time
    bays: int
    booked: int

    @property
    def free(self) -> int:
        return max(self.bays - self.booked, 0)


def slot_starts(hours: OpeningHours) -> list[dt.time]:
    starts = []
    moment = dt.datetime.combine(dt.date(2000, 1, 1), hours.opens)
    end = dt.datetime.combine(dt.date(2000, 1, 1), hours.closes)
    step = dt.timedelta(minutes=hours.slot_minutes)
    while moment + step <= end:
        starts.append(moment.time())
        moment += step
    return starts


def _minutes(moment: dt.time) -> int:
    return moment.hour * 60 + moment.minute


def opening_hours_set(
    *,
    shop: Shop,
    weekday: int,
    opens: dt.time | None,
    closes: dt.time | None,
    slot_minutes: int | None = 60,
    bays: int | None = 2,
) -> OpeningHours:
    """Open ``shop`` on a weekday: from ``opens`` to ``closes``, cut into slots of
    ``slot_minutes`` with ``bays`` places each. The day holds at least one slot."""
    problems: dict[str, list[Any]] = {}
    given = {"opens": opens, "closes": closes, "slot_minutes": slot_minutes, "bays": bays}
    for name, value in given.items():
        if value is None:
            problems[name] = [errors.HOURS_NEEDED]
    if not 0 <= weekday <= 6:
        problems["weekday"] = [errors.HOURS_WEEKDAY_INVALID]
    if slot_minutes is not None and not 10 <= slot_minutes <= 480:
        problems["slot_minutes"] = [errors.SLOT_LENGTH_INVALID]
    if bays is not None and not 1 <= bays <= 100:
        problems["bays"] = [errors.BAYS_INVALID]
    if opens is not None and closes is not None:
        if closes <= opens:
            problems["closes"] = [errors.HOURS_CLOSE_BEFORE_OPEN]
        elif slot_minutes and "slot_minutes" not in problems and _minutes(closes) - _minutes(opens) < slot_minutes:
            problems["slot_minutes"] = [errors.SLOT_LONGER_THAN_DAY]
    if problems:
        raise ValidationError(problems)
    assert opens is not None and closes is not None and slot_minutes is not None and bays is not None
    hours, _created = OpeningHours.objects.update_or_create(
        organization_id=shop.organization_id,
        shop=shop,
        weekday=weekday,
        defaults={"opens": opens, "closes": closes, "slot_minutes": slot_minutes, "bays": bays},
    )
    return hours


def opening_hours_close(*, shop: Shop, weekday: int) -> None:
    OpeningHours.objects.for_org(shop.organization_id).filter(shop=shop, weekday=weekday).delete()


@dataclass(frozen=True)
class OpeningDay:
    """One weekday's hours as ``opening_hours_week_set`` takes them."""

    opens: dt.time | None
    closes: dt.time | None
    slot_minutes: int | None = 60
    bays: int | None = 2


class WeekRefused(ValidationError):
    """Some days of the week were refused: ``by_weekday`` holds each one's ValidationError."""

    def __init__(self, by_weekday: dict[int, ValidationError]) -> None:
        super().__init__([m for exc in by_weekday.values() for m in exc.messages])
        self.by_weekday = by_weekday


def opening_hours_week_set(*, shop: Shop, week: dict[int, OpeningDay | None]) -> None:
    """Set a shop's week at once: each weekday open (``OpeningDay``) or closed (None).

    All or nothing: if any day is refused nothing changes, and ``WeekRefused`` says
    which days and why.
    """
    refused: dict[int, ValidationError] = {}
    with transaction.atomic():
        for weekday, day in sorted(week.items()):
            if day is None:
                opening_hours_close(shop=shop, weekday=weekday)
                continue
            try:
                opening_hours_set(
                    shop=shop,
                    weekday=weekday,
                    opens=day.opens,
                    closes=day.closes,
                    slot_minutes=day.slot_minutes,
                    bays=day.bays,
                )
            except ValidationError as exc:
                refused[weekday] = exc
        if refused:
            raise WeekRefused(refused)


def _hours(shop: Shop, day: dt.date) -> OpeningHours | None:
    return OpeningHours.objects.for_org(shop.organization_id).filter(shop=shop, weekday=day.weekday()).first()


def slots_for(*, shop: Shop, day: dt.date) -> list[Slot]:
    """The day's slots with their bays and how many are taken (two queries)."""
    hours = _hours(shop, day)
    if hours is None:
        return []
    taken: dict[dt.time, int] = {}
    for slot in (
        Appointment.objects.for_org(shop.organization_id)
        .filter(shop=shop, day=day, state__in=Appointment.HOLDING)
        .values_list("slot", flat=True)
    ):
        taken[slot] = taken.get(slot, 0) + 1
    return [Slot(start, hours.bays, taken.get(start, 0)) for start in slot_starts(hours)]


def appointment_book(
    *,
    shop: Shop,
    customer: Customer,
    day: dt.date,
    slot: dt.time,
    by: User | None,
    vehicle: Vehicle | None = None,
    service: ServiceItem | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Book a bay. A full slot, a closed time or a past time is refused."""
    org_id = shop.organization_id
    problems: dict[str, list[Any]] = {}
    if customer.organization_id != org_id or customer.deleted_at is not None:
        problems["customer_id"] = [errors.CUSTOMER_UNKNOWN]
    if vehicle is not None and (vehicle.customer_id != customer.pk or vehicle.deleted_at is not None):
        problems["vehicle_id"] = [errors.VEHICLE_UNKNOWN]
    if service is not None and (service.organization_id != org_id or not service.is_active):
        problems["service_id"] = [errors.ITEM_UNKNOWN]
    if problems:
        raise ValidationError(problems)
    hours = _hours(shop, day)
    if hours is None or slot not in slot_starts(hours):
        raise ValidationError({"slot": [errors.SLOT_CLOSED]})
    starts_at = timezone.make_aware(dt.datetime.combine(day, slot))
    if starts_at < (now or timezone.now()):
        raise ValidationError({"slot": [errors.SLOT_PAST]})
    with transaction.atomic():
        # Serialise bookings of this shop: count and insert under the lock.
        Shop.objects.for_org(org_id).select_for_update().filter(pk=shop.pk).first()
        taken = (
            Appointment.objects.for_org(org_id)
            .filter(shop=shop, day=day, slot=slot, state__in=Appointment.HOLDING)
            .count()
        )
        if taken >= hours.bays:
            raise StateConflict(errors.SLOT_FULL)
        appointment = Appointment.objects.create(
            organization_id=org_id,
            shop=shop,
            customer=customer,
            vehicle=vehicle,
            service=service,
            day=day,
            slot=slot,
            note=(note or "").strip()[:200],
            created_by=by,
        )
        change_record(
            organization_id=org_id,
            subject=appointment,
            action=ChangeEntry.Action.CREATED,
            actor=by,
            customer_id=customer.pk,
            changes={"day": [None, str(day)], "slot": [None, slot.strftime("%H:%M")], "shop": [None, shop.name]},
            at=now,
        )
    return appointment


def appointment_transition(
    *, appointment: Appointment, target: str, by: User | None, now: dt.datetime | None = None
) -> Appointment:
    """Confirm, mark arrived, no-show or cancel (converting opens an order: ``appointment_convert``)."""
    with transaction.atomic():
        locked = Appointment.objects.for_org(appointment.organization_id).select_for_update().get(pk=appointment.pk)
        if target not in TRANSITIONS.get(locked.state, set()) or target == State.CONVERTED:
            raise StateConflict(
                errors.APPOINTMENT_TRANSITION
                % {
                    "state": State(locked.state).label,
                    "target": State(target).label if target in State.values else target,
                }
            )
        before = locked.state
        appointment.state = target
        appointment.save(update_fields=["state", "updated_at"])
        change_record(
            organization_id=appointment.organization_id,
            subject=appointment,
            action=ChangeEntry.Action.UPDATED,
            actor=by,
            customer_id=appointment.customer_id,
            changes={"state": [before, target]},
            at=now,
        )
    return appointment


def _only_car(appointment: Appointment) -> Vehicle | None:
    cars = list(
        Vehicle.objects.for_org(appointment.organization_id).active().filter(customer_id=appointment.customer_id)[:2]
    )
    return cars[0] if len(cars) == 1 else None


def appointment_convert(
    *,
    appointment: Appointment,
    by: User,
    vehicle: Vehicle | None = None,
    mileage_km: Any = None,
    description: str = "",
    now: dt.datetime | None = None,
) -> ServiceOrder:
    """The customer is here: open a service order from the appointment.

    For ``vehicle``, else the booked car, else (booked without a car on file) the
    customer's only car; a customer with none or several must say which.
    """
    vehicle = vehicle or appointment.vehicle or _only_car(appointment)
    if vehicle is None:
        raise ValidationError({"vehicle_id": [errors.CONVERT_NEEDS_CAR]})
    if vehicle.customer_id != appointment.customer_id:
        raise ValidationError({"vehicle_id": [errors.VEHICLE_UNKNOWN]})
    with transaction.atomic():
        locked = Appointment.objects.for_org(appointment.organization_id).select_for_update().get(pk=appointment.pk)
        if locked.state not in (State.BOOKED, State.CONFIRMED, State.ARRIVED):
            raise StateConflict(
                errors.APPOINTMENT_TRANSITION % {"state": State(locked.state).label, "target": State.CONVERTED.label}
            )
        order = order_open(
            organization=appointment.shop.organization,
            shop=appointment.shop,
            vehicle=vehicle,
            by=by,
            mileage_km=mileage_km,
            description=description or appointment.note,
            now=now,
        )
        before = locked.state
        appointment.state, appointment.order = State.CONVERTED, order
        appointment.save(update_fields=["state", "order", "updated_at"])
        change_record(
            organization_id=appointment.organization_id,
            subject=appointment,
            action=ChangeEntry.Action.UPDATED,
            actor=by,
            customer_id=appointment.customer_id,
            changes={"state": [before, State.CONVERTED], "order": [None, order.number]},
            at=now,
        )
    return order
