"""Races: the last bay, the last yuan due and the day's order numbers, under simultaneous requests.

The threaded tests need PostgreSQL (each thread has its own connection and the
services' row locks decide the race); the sequential versions run on every database.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from huitou.customers.models import Customer, Vehicle
from huitou.service import errors
from huitou.service.errors import StateConflict
from huitou.service.models import Appointment, OrderState, Payment, ServiceItem, ServiceOrder
from huitou.service.services.appointments import appointment_book
from huitou.service.services.orders import order_open, order_pay
from huitou.service.tests.support import completed, conflict, next_monday
from huitou.tenancy.models import Organization, Shop, User
from huitou.testing.fixtures import first_shop

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent connections with row locks (PostgreSQL); the sequential test proves the rule here",
)
BAYS = 2
SLOT_DAY = next_monday()
NINE = dt.time(9)


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same moment; each gives its result or its exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    language = translation.get_language()  # threads start without the test's active language

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            connection.ensure_connection()  # connect first, so that the barrier releases both at once
            barrier.wait(timeout=10)
            with translation.override(language):
                results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    return results


def split(results: list[Any]) -> tuple[list[Any], list[BaseException]]:
    return [r for r in results if not isinstance(r, BaseException)], [
        r for r in results if isinstance(r, BaseException)
    ]


@pytest.fixture
def customers(make_customer: Callable[..., Customer]) -> list[Customer]:
    return [make_customer() for _ in range(3)]


@pytest.fixture
def shop(org: Organization, make_opening_hours: Callable[..., Any]) -> Shop:
    make_opening_hours(bays=BAYS)
    return first_shop(org)


@pytest.fixture
def due_order(
    make_order: Callable[..., ServiceOrder], make_service_item: Callable[..., ServiceItem], advisor: User
) -> ServiceOrder:
    return completed(make_order(), make_service_item(), advisor, "300.00")


def book(shop: Shop, customer: Customer, by: User) -> Callable[[], Appointment]:
    return lambda: appointment_book(shop=shop, customer=customer, day=SLOT_DAY, slot=NINE, by=by)


# --- the last bay of a slot ------------------------------------------------------------------


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_bookings_for_the_last_bay_one_succeeds(
    shop: Shop, customers: list[Customer], service: User
) -> None:
    for customer in customers[: BAYS - 1]:
        book(shop, customer, service)()
    booked, refused = split(race(book(shop, customers[-2], service), book(shop, customers[-1], service)))
    assert len(booked) == 1
    assert len(refused) == 1 and isinstance(refused[0], StateConflict), refused
    assert str(refused[0]) == str(errors.SLOT_FULL)
    assert (
        Appointment.objects.for_org(service.organization_id).filter(shop=shop, day=SLOT_DAY, slot=NINE).count() == BAYS
    )


def test_a_booking_after_the_last_bay_is_taken_is_refused(shop: Shop, customers: list[Customer], service: User) -> None:
    for customer in customers[:BAYS]:
        book(shop, customer, service)()
    with pytest.raises(StateConflict) as exc:
        book(shop, customers[-1], service)()
    assert conflict(exc) == str(errors.SLOT_FULL)
    assert (
        Appointment.objects.for_org(service.organization_id).filter(shop=shop, day=SLOT_DAY, slot=NINE).count() == BAYS
    )


# --- the last yuan due ---------------------------------------------------------------------


def pay(order: ServiceOrder, by: User, amount: str) -> Callable[[], Payment]:
    # Each call works on its own copy of the order, as two requests would.
    return lambda: order_pay(
        order=ServiceOrder.objects.for_org(order.organization_id).get(pk=order.pk), by=by, method="cash", amount=amount
    )


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_payments_of_the_whole_amount_one_succeeds(due_order: ServiceOrder, service: User) -> None:
    taken, refused = split(race(pay(due_order, service, "300.00"), pay(due_order, service, "300.00")))
    assert len(taken) == 1
    assert len(refused) == 1 and isinstance(refused[0], StateConflict), refused
    assert str(refused[0]) == str(errors.PAYMENT_NOTHING_DUE)
    order = ServiceOrder.objects.for_org(due_order.organization_id).get(pk=due_order.pk)
    assert (order.state, order.amount_paid, order.total) == (OrderState.PAID, Decimal("300.00"), Decimal("300.00"))
    assert Payment.objects.filter(order=order).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_payments_that_together_exceed_the_amount_due_one_succeeds(
    due_order: ServiceOrder, service: User
) -> None:
    taken, refused = split(race(pay(due_order, service, "200.00"), pay(due_order, service, "200.00")))
    assert len(taken) == 1
    assert len(refused) == 1 and isinstance(refused[0], StateConflict), refused
    assert str(refused[0]) == str(errors.PAYMENT_TOO_MUCH % {"amount": Decimal("200.00"), "due": Decimal("100.00")})
    order = ServiceOrder.objects.for_org(due_order.organization_id).get(pk=due_order.pk)
    assert (order.state, order.amount_paid) == (OrderState.COMPLETED, Decimal("200.00"))
    assert order.amount_paid <= order.total


def test_a_payment_on_a_stale_copy_of_the_order_sees_the_payment_before_it(
    due_order: ServiceOrder, service: User
) -> None:
    first, stale = (
        ServiceOrder.objects.for_org(due_order.organization_id).get(pk=due_order.pk),
        ServiceOrder.objects.for_org(due_order.organization_id).get(pk=due_order.pk),
    )
    order_pay(order=first, by=service, method="cash", amount="300")
    with pytest.raises(StateConflict) as exc:
        order_pay(order=stale, by=service, method="cash", amount="300")
    assert conflict(exc) == str(errors.PAYMENT_NOTHING_DUE)
    order = ServiceOrder.objects.for_org(due_order.organization_id).get(pk=due_order.pk)
    assert (order.amount_paid, order.total, order.state) == (Decimal("300.00"), Decimal("300.00"), OrderState.PAID)


# --- the day's order numbers -----------------------------------------------------------------


def receive(org: Organization, vehicle: Vehicle, by: User) -> Callable[[], ServiceOrder]:
    return lambda: order_open(organization=org, shop=first_shop(org), vehicle=vehicle, by=by)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_orders_opened_at_the_same_moment_get_different_numbers(
    org: Organization, customers: list[Customer], make_vehicle: Callable[..., Vehicle], advisor: User
) -> None:
    cars = [make_vehicle(customer) for customer in customers[:2]]
    opened, failed = split(race(receive(org, cars[0], advisor), receive(org, cars[1], advisor)))
    assert failed == []
    assert sorted(order.number[-4:] for order in opened) == ["0001", "0002"]


def test_orders_opened_one_after_the_other_get_consecutive_numbers(
    org: Organization, customers: list[Customer], make_vehicle: Callable[..., Vehicle], advisor: User
) -> None:
    numbers = [receive(org, make_vehicle(customer), advisor)().number[-4:] for customer in customers]
    assert numbers == ["0001", "0002", "0003"]
