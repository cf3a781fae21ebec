"""/api/v1/appointments: bookings (预约) of a shop's bays (工位), slot by slot.

Who may do what (``huitou.tenancy.roles``):

- ``appointments.view`` (all staff): the day's bookings and free slots;
- ``appointments.book`` (store manager, service advisor, customer service): book, and
  move a booking along: confirmed, arrived, no-show, cancelled;
- ``orders.open`` (store manager, service advisor): convert an appointment into an order.

A full slot or a move the state machine forbids answers 409 with the reason; a closed
or past time, or an unknown customer, vehicle, shop or service, 422 on its field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Query, Router, Status
from pydantic import Field

from huitou.api.base import Schema
from huitou.api.lookups import in_org, org_shop, own_shop
from huitou.api.permissions import require
from huitou.api.routers.orders import customer_ref, order_detail, vehicle_ref
from huitou.api.service_schemas import (
    AppointmentIn,
    AppointmentOut,
    AppointmentPage,
    AppointmentPatch,
    ConvertIn,
    IdIn,
    OrderOut,
    SlotsOut,
)
from huitou.customers import errors as customer_errors
from huitou.customers.models import Customer, Vehicle
from huitou.service import errors, selectors
from huitou.service.models import Appointment, ServiceItem
from huitou.service.services import appointments as services
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["appointments"])


def appointment_out(appointment: Appointment, viewer: User) -> dict[str, Any]:
    """(shop, customer, vehicle and service must be selected.)"""
    service = appointment.service
    return {
        "id": appointment.pk,
        "shop": {"id": appointment.shop.pk, "name": appointment.shop.name},
        "customer": customer_ref(appointment.customer, viewer),
        "vehicle": vehicle_ref(appointment.vehicle),
        "service": None if service is None else {"id": service.pk, "name": service.name},
        "day": appointment.day,
        "slot": appointment.slot.strftime("%H:%M"),
        "state": appointment.state,
        "note": appointment.note,
        "order_id": appointment.order_id,
        "created_at": appointment.created_at,
    }


def _get_appointment(request: ApiRequest, appointment_id: int) -> Appointment:
    """The caller's organization's appointment with what ``appointment_out`` shows (1 query)."""
    return get_scoped_or_404(
        Appointment.objects.select_related("shop", "customer", "vehicle", "service"),
        request.organization,
        pk=appointment_id,
    )


class DayFilters(Schema):
    shop: IdIn | None = Field(default=None, description="Default: the caller's first shop")
    day: dt.date | None = Field(default=None, description="YYYY-MM-DD; default: today")


@router.get("/slots", response=SlotsOut, summary="The day's slots with their free bays")
def day_slots(request: ApiRequest, filters: Query[DayFilters]) -> dict[str, Any]:
    """Every slot of the shop's opening hours that day, with its bays, how many are booked
    and how many are free (``appointments.view``: all staff). A shop of another
    organization answers 422 on ``shop``.

    Queries: 1 shop, 1 opening hours, 1 bookings of the day.
    """
    require(request, Perm.VIEW_APPOINTMENTS)
    shop = org_shop(request, filters.shop, "shop")
    day = filters.day or timezone.localdate()
    now = timezone.now()
    slots = services.slots_for(shop=shop, day=day)
    return {
        "shop_id": shop.pk,
        "day": day,
        "open": bool(slots),
        "slots": [
            {
                "start": s.start.strftime("%H:%M"),
                "bays": s.bays,
                "booked": s.booked,
                "free": s.free,
                "past": timezone.make_aware(dt.datetime.combine(day, s.start)) < now,
            }
            for s in slots
        ],
    }


@router.get("", response=AppointmentPage, summary="A shop's appointments of one day")
def list_appointments(request: ApiRequest, filters: Query[DayFilters]) -> dict[str, Any]:
    """In slot order, every state (``appointments.view``: all staff).

    Queries: 1 appointments with shop, customer, vehicle and service (and 1 for the
    caller's first shop when ``shop`` is not given).
    """
    organization = require(request, Perm.VIEW_APPOINTMENTS)
    shop_id = filters.shop if filters.shop is not None else own_shop(request, None, "shop").pk
    day = filters.day or timezone.localdate()
    found = list(
        selectors.appointments_between(organization=organization, shop_id=shop_id, first=day, last=day).select_related(
            "shop"
        )
    )
    viewer: User = request.user
    return {"items": [appointment_out(a, viewer) for a in found], "count": len(found)}


@router.post("", response={201: AppointmentOut}, summary="Book an appointment")
def book_appointment(request: ApiRequest, payload: AppointmentIn) -> Status:
    """A bay in one of the day's slots (``appointments.book``: store manager, service advisor,
    customer service), at any active shop of the organization. 409 when the slot is full;
    422 for a closed or past time."""
    organization = require(request, Perm.BOOK_APPOINTMENTS)
    shop = org_shop(request, payload.shop_id)
    customer = in_org(
        Customer.objects.active(), organization, payload.customer_id, "customer_id", customer_errors.CUSTOMER_NOT_FOUND
    )
    vehicle = service = None
    if payload.vehicle_id is not None:
        vehicle = in_org(
            Vehicle.objects.active(), organization, payload.vehicle_id, "vehicle_id", errors.VEHICLE_UNKNOWN
        )
    if payload.service_id is not None:
        active = ServiceItem.objects.filter(is_active=True)
        service = in_org(active, organization, payload.service_id, "service_id", errors.ITEM_UNKNOWN)
    appointment = services.appointment_book(
        shop=shop,
        customer=customer,
        day=payload.day,
        slot=payload.slot.replace(tzinfo=None),
        by=request.user,
        vehicle=vehicle,
        service=service,
        note=payload.note,
    )
    return Status(201, appointment_out(_get_appointment(request, appointment.pk), request.user))


@router.get("/{appointment_id}", response=AppointmentOut, summary="Read an appointment")
def get_appointment(request: ApiRequest, appointment_id: IdIn) -> dict[str, Any]:
    """(``appointments.view``: all staff.)"""
    require(request, Perm.VIEW_APPOINTMENTS)
    return appointment_out(_get_appointment(request, appointment_id), request.user)


@router.patch("/{appointment_id}", response=AppointmentOut, summary="Confirm, mark arrived, no-show or cancel")
def change_appointment(request: ApiRequest, appointment_id: IdIn, payload: AppointmentPatch) -> dict[str, Any]:
    """booked → confirmed → arrived, or no-show / cancelled (``appointments.book``).
    409 for a move the states forbid, e.g. from cancelled or converted."""
    require(request, Perm.BOOK_APPOINTMENTS)
    appointment = _get_appointment(request, appointment_id)
    services.appointment_transition(appointment=appointment, target=payload.state, by=request.user)
    return appointment_out(appointment, request.user)


@router.post("/{appointment_id}/convert", response={201: OrderOut}, summary="The customer is here: open an order")
def convert_appointment(request: ApiRequest, appointment_id: IdIn, payload: ConvertIn) -> Status:
    """Opens a service order at the appointment's shop for its vehicle (or ``vehicle_id``, a
    car of the same customer) with the mileage at arrival when given, and answers with the order
    (``orders.open``: store manager, service advisor). 409 once cancelled, no-show or
    already converted."""
    organization = require(request, Perm.OPEN_ORDERS)
    appointment = _get_appointment(request, appointment_id)
    vehicle = None
    if payload.vehicle_id is not None:
        vehicle = in_org(
            Vehicle.objects.active(), organization, payload.vehicle_id, "vehicle_id", errors.VEHICLE_UNKNOWN
        )
    order = services.appointment_convert(
        appointment=appointment,
        by=request.user,
        vehicle=vehicle,
        mileage_km=payload.mileage,
        description=payload.description,
    )
    return Status(201, order_detail(request, order.pk))
