"""Appointments: opening hours cut into slots with bays; a full slot refuses; the state machine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.customers import errors as customer_errors
from huitou.customers.models import Customer, MileageReading, Vehicle
from huitou.service import errors
from huitou.service.errors import StateConflict
from huitou.service.models import Appointment, OpeningHours, ServiceItem, ServiceOrder
from huitou.service.services.appointments import (
    Slot,
    appointment_book,
    appointment_convert,
    appointment_transition,
    opening_hours_close,
    opening_hours_set,
    slots_for,
)
from huitou.service.tests.support import conflict, next_monday, refused
from huitou.tenancy.models import Organization, Shop, User

State = Appointment.State
T = dt.time
MONDAY = next_monday()


@pytest.fixture
def shops(org: Organization) -> list[Shop]:
    return list(Shop.objects.for_org(org).order_by("pk"))


@pytest.fixture
def shop(shops: list[Shop], make_opening_hours: Callable[..., Any]) -> Shop:
    """The first shop, open 08:00–12:00 on weekdays in hour slots with 2 bays; closed at weekends."""
    make_opening_hours(shop=shops[0], weekdays=range(5), opens=T(8), closes=T(12))
    return shops[0]


@pytest.fixture
def customer(make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(name="张三")


@pytest.fixture
def car(customer: Customer, make_vehicle: Callable[..., Vehicle]) -> Vehicle:
    return make_vehicle(customer, plate="粤B12345", mileage_km=20000)


@pytest.fixture
def book(shop: Shop, customer: Customer, car: Vehicle, service: User) -> Callable[..., Appointment]:
    def make(**kwargs: Any) -> Appointment:
        kwargs.setdefault("shop", shop)
        kwargs.setdefault("customer", customer)
        kwargs.setdefault("vehicle", car if kwargs["customer"] == customer else None)
        kwargs.setdefault("day", MONDAY)
        kwargs.setdefault("slot", T(9))
        kwargs.setdefault("by", service)
        return appointment_book(**kwargs)

    return make


# --- opening hours -------------------------------------------------------------------------


def test_opening_hours_are_set_per_shop_and_weekday_and_replaced_when_set_again(
    shops: list[Shop], org: Organization
) -> None:
    opening_hours_set(shop=shops[0], weekday=0, opens=T(8), closes=T(18))
    opening_hours_set(shop=shops[0], weekday=0, opens=T(9), closes=T(17), slot_minutes=30, bays=4)
    opening_hours_set(shop=shops[1], weekday=0, opens=T(8), closes=T(18))
    hours = OpeningHours.objects.get(shop=shops[0])
    assert (hours.weekday, hours.opens, hours.closes, hours.slot_minutes, hours.bays) == (0, T(9), T(17), 30, 4)
    assert hours.organization_id == shops[0].organization_id
    assert OpeningHours.objects.for_org(org).count() == 2


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"weekday": 7}, "weekday", errors.HOURS_WEEKDAY_INVALID),
        ({"weekday": -1}, "weekday", errors.HOURS_WEEKDAY_INVALID),
        ({"opens": T(18), "closes": T(8)}, "closes", errors.HOURS_CLOSE_BEFORE_OPEN),
        ({"opens": T(8), "closes": T(8)}, "closes", errors.HOURS_CLOSE_BEFORE_OPEN),
        ({"slot_minutes": 5}, "slot_minutes", errors.SLOT_LENGTH_INVALID),
        ({"slot_minutes": 481}, "slot_minutes", errors.SLOT_LENGTH_INVALID),
        ({"bays": 0}, "bays", errors.BAYS_INVALID),
        ({"bays": 101}, "bays", errors.BAYS_INVALID),
    ],
)
def test_it_refuses_impossible_opening_hours(
    shops: list[Shop], kwargs: dict[str, Any], field: str, message: Any, org: Organization
) -> None:
    values = {"weekday": 0, "opens": T(8), "closes": T(18), **kwargs}
    with pytest.raises(ValidationError) as exc:
        opening_hours_set(shop=shops[0], **values)
    assert exc.value.message_dict == {field: [str(message)]}
    assert not OpeningHours.objects.for_org(org).exists()


def test_the_day_is_cut_into_slots_from_opening_to_closing(shop: Shop) -> None:
    assert slots_for(shop=shop, day=MONDAY) == [Slot(T(h), 2, 0) for h in (8, 9, 10, 11)]


def test_a_slot_that_would_run_past_closing_is_not_offered(shops: list[Shop]) -> None:
    opening_hours_set(shop=shops[1], weekday=MONDAY.weekday(), opens=T(8), closes=T(9, 45), slot_minutes=30, bays=1)
    assert [s.start for s in slots_for(shop=shops[1], day=MONDAY)] == [T(8), T(8, 30), T(9)]


def test_a_closed_day_has_no_slots(shop: Shop) -> None:
    saturday = MONDAY + dt.timedelta(days=5)
    assert slots_for(shop=shop, day=saturday) == []
    opening_hours_close(shop=shop, weekday=MONDAY.weekday())
    assert slots_for(shop=shop, day=MONDAY) == []


def test_slots_count_the_bays_taken_and_free(shop: Shop, book: Callable[..., Appointment]) -> None:
    book(slot=T(9))
    book(slot=T(9))
    book(slot=T(10))
    cancelled = book(slot=T(11))
    appointment_transition(appointment=cancelled, target=State.CANCELLED, by=None)
    slots = {s.start: (s.booked, s.free) for s in slots_for(shop=shop, day=MONDAY)}
    assert slots == {T(8): (0, 2), T(9): (2, 0), T(10): (1, 1), T(11): (0, 2)}


# --- booking -------------------------------------------------------------------------------


def test_a_booking_holds_a_bay_in_its_slot(
    book: Callable[..., Appointment], shop: Shop, customer: Customer, car: Vehicle, service: User
) -> None:
    appointment = book(note=" 做保养 ")
    appointment = Appointment.objects.for_org(appointment.organization_id).get(pk=appointment.pk)
    assert (appointment.shop, appointment.customer, appointment.vehicle) == (shop, customer, car)
    assert (appointment.day, appointment.slot, appointment.state, appointment.note) == (
        MONDAY,
        T(9),
        State.BOOKED,
        "做保养",
    )
    assert appointment.created_by == service
    entry = ChangeEntry.objects.for_org(customer.organization_id).get(
        subject_type="appointment", subject_id=appointment.pk
    )
    assert (entry.action, entry.actor, entry.customer_id) == ("created", service, customer.pk)


@pytest.mark.parametrize("slot", [T(7), T(12), T(13), T(8, 30), T(9, 1)])
def test_it_refuses_a_time_that_is_not_a_slot_start_within_the_hours(
    book: Callable[..., Appointment], slot: dt.time, org: Organization
) -> None:
    with pytest.raises(ValidationError) as exc:
        book(slot=slot)
    assert refused(exc, "slot") == [errors.SLOT_CLOSED]
    assert not Appointment.objects.for_org(org).exists()


def test_it_refuses_a_day_the_shop_is_closed(book: Callable[..., Appointment], shop: Shop) -> None:
    with pytest.raises(ValidationError) as exc:
        book(day=MONDAY + dt.timedelta(days=6))
    assert refused(exc, "slot") == [errors.SLOT_CLOSED]
    opening_hours_close(shop=shop, weekday=0)
    with pytest.raises(ValidationError) as exc:
        book()
    assert refused(exc, "slot") == [errors.SLOT_CLOSED]


def test_it_refuses_a_time_in_the_past(
    book: Callable[..., Appointment], make_opening_hours: Callable[..., Any], org: Organization
) -> None:
    make_opening_hours(opens=T(0), closes=T(23))
    a_week_ago = timezone.localdate() - dt.timedelta(days=7)
    for day, slot in ((a_week_ago, T(9)), (timezone.localdate(), T(0))):
        with pytest.raises(ValidationError) as exc:
            book(day=day, slot=slot)
        assert refused(exc, "slot") == [errors.SLOT_PAST]
    assert not Appointment.objects.for_org(org).exists()


def test_a_full_slot_refuses_another_booking(book: Callable[..., Appointment], org: Organization) -> None:
    book()
    book()
    with pytest.raises(StateConflict) as exc:
        book()
    assert conflict(exc) == str(errors.SLOT_FULL)
    assert Appointment.objects.for_org(org).count() == 2
    book(slot=T(10))


def test_the_same_time_at_another_shop_has_its_own_bays(
    book: Callable[..., Appointment], shops: list[Shop], make_opening_hours: Callable[..., Any]
) -> None:
    make_opening_hours(shop=shops[1], bays=1)
    book()
    book()
    book(shop=shops[1])
    with pytest.raises(StateConflict):
        book(shop=shops[1])


@pytest.mark.parametrize("target", [State.CANCELLED, State.NO_SHOW])
def test_a_cancelled_or_no_show_appointment_frees_its_bay(
    book: Callable[..., Appointment], target: str, org: Organization
) -> None:
    book()
    gone = book()
    appointment_transition(appointment=gone, target=target, by=None)
    book()
    assert Appointment.objects.for_org(org).filter(state__in=Appointment.HOLDING).count() == 2


def test_an_arrived_or_converted_appointment_still_holds_its_bay(
    book: Callable[..., Appointment], advisor: User
) -> None:
    appointment_transition(appointment=book(), target=State.ARRIVED, by=None)
    appointment_convert(appointment=book(), by=advisor)
    with pytest.raises(StateConflict):
        book()


def test_it_refuses_a_vehicle_that_is_not_the_customers(
    book: Callable[..., Appointment],
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    org: Organization,
) -> None:
    with pytest.raises(ValidationError) as exc:
        book(vehicle=make_vehicle(make_customer(name="李四")))
    assert refused(exc, "vehicle_id") == [errors.VEHICLE_UNKNOWN]
    assert not Appointment.objects.for_org(org).exists()


def test_it_refuses_a_customer_of_another_organization(
    book: Callable[..., Appointment],
    make_customer: Callable[..., Customer],
    other_org: Organization,
    outsider: User,
    org: Organization,
) -> None:
    with pytest.raises(ValidationError) as exc:
        book(customer=make_customer(organization=other_org, by=outsider))
    assert "customer_id" in exc.value.message_dict
    assert not Appointment.objects.for_org(org).exists()


def test_it_refuses_a_service_of_another_organization_or_an_inactive_one(
    book: Callable[..., Appointment], make_service_item: Callable[..., ServiceItem], other_org: Organization
) -> None:
    for item in (make_service_item(organization=other_org), make_service_item(is_active=False)):
        with pytest.raises(ValidationError) as exc:
            book(service=item)
        assert refused(exc, "service_id") == [errors.ITEM_UNKNOWN]
    book(service=make_service_item(name="打蜡"))


def test_a_booking_without_a_car_is_allowed(book: Callable[..., Appointment]) -> None:
    assert book(vehicle=None).vehicle is None


# --- the state machine ---------------------------------------------------------------------


def test_an_appointment_is_confirmed_then_the_customer_arrives(book: Callable[..., Appointment], service: User) -> None:
    appointment = book()
    appointment_transition(appointment=appointment, target=State.CONFIRMED, by=service)
    appointment_transition(appointment=appointment, target=State.ARRIVED, by=service)
    assert Appointment.objects.for_org(appointment.organization_id).get(pk=appointment.pk).state == State.ARRIVED
    changes = (
        ChangeEntry.objects.for_org(service.organization_id)
        .filter(subject_type="appointment", action="updated")
        .order_by("pk")
    )
    assert [(e.changes, e.actor) for e in changes] == [
        ({"state": ["booked", "confirmed"]}, service),
        ({"state": ["confirmed", "arrived"]}, service),
    ]


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([State.CONFIRMED], State.BOOKED),
        ([State.ARRIVED], State.CONFIRMED),
        ([State.ARRIVED], State.NO_SHOW),
        ([State.CANCELLED], State.CONFIRMED),
        ([State.CANCELLED], State.BOOKED),
        ([State.NO_SHOW], State.ARRIVED),
        ([State.NO_SHOW], State.CANCELLED),
        ([], State.CONVERTED),
        ([State.ARRIVED], State.CONVERTED),
        ([], State.BOOKED),
    ],
)
def test_forbidden_transitions_are_refused(book: Callable[..., Appointment], path: list[str], target: str) -> None:
    appointment = book()
    for step in path:
        appointment_transition(appointment=appointment, target=step, by=None)
    state = appointment.state
    with pytest.raises(StateConflict) as exc:
        appointment_transition(appointment=appointment, target=target, by=None)
    assert conflict(exc) == str(
        errors.APPOINTMENT_TRANSITION % {"state": State(state).label, "target": State(target).label}
    )
    assert Appointment.objects.for_org(appointment.organization_id).get(pk=appointment.pk).state == state


def test_an_unknown_target_state_is_refused(book: Callable[..., Appointment]) -> None:
    with pytest.raises(StateConflict):
        appointment_transition(appointment=book(), target="teleported", by=None)


def test_a_converted_appointment_changes_no_more(book: Callable[..., Appointment], advisor: User) -> None:
    appointment = book()
    appointment_convert(appointment=appointment, by=advisor)
    for target in (State.CANCELLED, State.NO_SHOW, State.ARRIVED):
        with pytest.raises(StateConflict):
            appointment_transition(appointment=appointment, target=target, by=None)


# --- converting into an order ------------------------------------------------------------------


def test_converting_opens_an_order_with_the_mileage_and_links_it(
    book: Callable[..., Appointment], shop: Shop, customer: Customer, car: Vehicle, advisor: User
) -> None:
    appointment = book(note="保养，顺便看看空调")
    appointment_transition(appointment=appointment, target=State.CONFIRMED, by=None)
    appointment_transition(appointment=appointment, target=State.ARRIVED, by=None)
    order = appointment_convert(appointment=appointment, by=advisor, mileage_km="21500")
    order = ServiceOrder.objects.for_org(order.organization_id).get(pk=order.pk)
    assert (order.shop, order.customer_id, order.vehicle_id, order.advisor) == (shop, customer.pk, car.pk, advisor)
    assert (order.mileage_km, order.description, order.state) == (21500, "保养，顺便看看空调", "open")
    assert MileageReading.objects.for_org(customer.organization_id).get(pk=order.mileage_id).source == "order"
    stored = Appointment.objects.for_org(appointment.organization_id).get(pk=appointment.pk)
    assert (stored.state, stored.order) == (State.CONVERTED, order)
    entry = ChangeEntry.objects.for_org(customer.organization_id).filter(subject_type="appointment").latest("pk")
    assert entry.changes == {"state": ["arrived", "converted"], "order": [None, order.number]}


def test_a_booked_appointment_may_be_converted_straight_away_with_another_of_the_customers_cars(
    book: Callable[..., Appointment], customer: Customer, make_vehicle: Callable[..., Vehicle], advisor: User
) -> None:
    other_car = make_vehicle(customer, plate="粤B99999")
    order = appointment_convert(appointment=book(), by=advisor, vehicle=other_car, description="换轮胎")
    assert (order.vehicle_id, order.description) == (other_car.pk, "换轮胎")


def test_a_booking_without_a_car_becomes_an_order_for_the_customers_only_car(
    book: Callable[..., Appointment], car: Vehicle, advisor: User
) -> None:
    order = appointment_convert(appointment=book(vehicle=None), by=advisor)
    assert order.vehicle == car


def test_converting_needs_a_car_of_the_appointments_customer(
    book: Callable[..., Appointment],
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    advisor: User,
) -> None:
    without_car = book(vehicle=None)
    make_vehicle(without_car.customer, plate="粤B54322")  # a second car: which one came?
    with pytest.raises(ValidationError) as exc:
        appointment_convert(appointment=without_car, by=advisor)
    assert refused(exc, "vehicle_id") == [errors.CONVERT_NEEDS_CAR]
    with pytest.raises(ValidationError) as exc:
        appointment_convert(appointment=without_car, by=advisor, vehicle=make_vehicle(make_customer(name="李四")))
    assert refused(exc, "vehicle_id") == [errors.VEHICLE_UNKNOWN]
    assert Appointment.objects.for_org(without_car.organization_id).get(pk=without_car.pk).state == State.BOOKED
    assert not ServiceOrder.objects.for_org(advisor.organization_id).exists()


@pytest.mark.parametrize("state", [State.CANCELLED, State.NO_SHOW])
def test_a_cancelled_or_no_show_appointment_cannot_be_converted(
    book: Callable[..., Appointment], advisor: User, state: str
) -> None:
    appointment = book()
    appointment_transition(appointment=appointment, target=state, by=None)
    with pytest.raises(StateConflict) as exc:
        appointment_convert(appointment=appointment, by=advisor)
    assert conflict(exc) == str(
        errors.APPOINTMENT_TRANSITION % {"state": State(state).label, "target": State.CONVERTED.label}
    )
    assert not ServiceOrder.objects.for_org(advisor.organization_id).exists()


def test_an_appointment_is_converted_only_once(book: Callable[..., Appointment], advisor: User) -> None:
    appointment = book()
    appointment_convert(appointment=appointment, by=advisor)
    with pytest.raises(StateConflict):
        appointment_convert(
            appointment=Appointment.objects.for_org(appointment.organization_id).get(pk=appointment.pk), by=advisor
        )
    assert ServiceOrder.objects.for_org(advisor.organization_id).count() == 1


def test_a_refused_mileage_leaves_the_appointment_unconverted(book: Callable[..., Appointment], advisor: User) -> None:
    appointment = book()
    with pytest.raises(ValidationError) as exc:
        appointment_convert(appointment=appointment, by=advisor, mileage_km=100)
    assert refused(exc, "mileage") == [str(customer_errors.MILEAGE_LOWER % {"km": 100, "previous": 20000})]
    stored = Appointment.objects.for_org(appointment.organization_id).get(pk=appointment.pk)
    assert (stored.state, stored.order) == (State.BOOKED, None)
    assert not ServiceOrder.objects.for_org(advisor.organization_id).exists()
