"""The customer's visit count, lifetime spend and first and last visit follow the paid orders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from huitou.customers.models import Customer, Vehicle
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_adjust, order_pay, order_void
from huitou.service.tests.support import completed, fresh, paid
from huitou.tenancy.models import User

MakeOrder = Callable[..., ServiceOrder]


@pytest.fixture
def customer(make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(name="张三")


@pytest.fixture
def car(customer: Customer, make_vehicle: Callable[..., Vehicle]) -> Vehicle:
    return make_vehicle(customer, plate="粤B11111")


@pytest.fixture
def second_car(customer: Customer, make_vehicle: Callable[..., Vehicle]) -> Vehicle:
    return make_vehicle(customer, plate="粤B22222")


@pytest.fixture
def wash(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(code="XC", name="洗车", category="detailing", labour_price="40")


def stats(customer: Customer) -> tuple[int, Decimal, dt.datetime | None, dt.datetime | None]:
    fresh_customer = Customer.objects.for_org(customer.organization_id).get(pk=customer.pk)
    return (
        fresh_customer.visit_count,
        fresh_customer.lifetime_spend,
        fresh_customer.first_visit_at,
        fresh_customer.last_visit_at,
    )


def test_a_new_customer_has_no_visits(customer: Customer) -> None:
    assert stats(customer) == (0, Decimal("0.00"), None, None)


def test_a_paid_order_is_a_visit(
    customer: Customer, car: Vehicle, make_order: MakeOrder, wash: ServiceItem, advisor: User
) -> None:
    order = fresh(paid(make_order(vehicle=car), wash, advisor, "268.80"))
    assert stats(customer) == (1, Decimal("268.80"), order.paid_at, order.paid_at)


def test_an_unpaid_or_partly_paid_order_is_not_a_visit_yet(
    customer: Customer, car: Vehicle, make_order: MakeOrder, wash: ServiceItem, advisor: User
) -> None:
    order = completed(make_order(vehicle=car), wash, advisor, "300")
    order_pay(order=order, by=advisor, method="cash", amount="100")
    assert stats(customer) == (0, Decimal("0.00"), None, None)


def test_only_paid_orders_count_when_the_stats_are_recomputed(
    customer: Customer, car: Vehicle, make_order: MakeOrder, wash: ServiceItem, advisor: User
) -> None:
    waiting = completed(make_order(vehicle=car), wash, advisor, "300")
    order_pay(order=waiting, by=advisor, method="cash", amount="100")
    make_order(vehicle=car)
    visit = fresh(paid(make_order(vehicle=car), wash, advisor, "40"))
    assert stats(customer) == (1, Decimal("40.00"), visit.paid_at, visit.paid_at)


def test_a_second_visit_with_another_car_adds_up(
    customer: Customer,
    car: Vehicle,
    second_car: Vehicle,
    make_order: MakeOrder,
    wash: ServiceItem,
    advisor: User,
) -> None:
    first = fresh(paid(make_order(vehicle=car), wash, advisor, "100.10"))
    second = fresh(paid(make_order(vehicle=second_car), wash, advisor, "200.20"))
    assert stats(customer) == (2, Decimal("300.30"), first.paid_at, second.paid_at)


def test_the_first_and_last_visit_follow_when_the_orders_were_paid_not_opened(
    customer: Customer, car: Vehicle, make_order: MakeOrder, wash: ServiceItem, advisor: User
) -> None:
    opened_first = completed(make_order(vehicle=car), wash, advisor, "100")
    paid_first = fresh(paid(make_order(vehicle=car), wash, advisor, "50"))
    order_pay(order=opened_first, by=advisor, method="cash", amount="100")
    assert stats(customer) == (2, Decimal("150.00"), paid_first.paid_at, fresh(opened_first).paid_at)


def test_voiding_an_unpaid_order_changes_nothing(
    customer: Customer, car: Vehicle, make_order: MakeOrder, wash: ServiceItem, advisor: User
) -> None:
    visit = fresh(paid(make_order(vehicle=car), wash, advisor, "100"))
    before = stats(customer)
    order_void(order=completed(make_order(vehicle=car), wash, advisor, "999"), by=advisor, reason="客户不修了")
    assert stats(customer) == before == (1, Decimal("100.00"), visit.paid_at, visit.paid_at)


def test_adjustments_down_and_up_change_the_lifetime_spend_but_not_the_visits(
    customer: Customer, car: Vehicle, make_order: MakeOrder, wash: ServiceItem, owner: User, advisor: User
) -> None:
    order = fresh(paid(make_order(vehicle=car), wash, advisor, "500"))
    paid(make_order(vehicle=car), wash, advisor, "100")
    order_adjust(order=order, by=owner, amount="-120.50", reason="优惠")
    assert stats(customer)[:2] == (2, Decimal("479.50"))
    order_adjust(order=order, by=owner, amount="20.25", reason="补收")
    assert stats(customer)[:2] == (2, Decimal("499.75"))
    assert stats(customer)[2] == order.paid_at


def test_a_refund_does_not_count_as_another_visit(
    customer: Customer, car: Vehicle, make_order: MakeOrder, wash: ServiceItem, owner: User, advisor: User
) -> None:
    order = fresh(paid(make_order(vehicle=car), wash, advisor, "500"))
    order_adjust(order=order, by=owner, amount="-100", reason="优惠")
    order_pay(order=order, by=owner, method="cash", amount="-100")
    assert stats(customer) == (1, Decimal("400.00"), order.paid_at, order.paid_at)


def test_another_customers_visits_are_their_own(
    customer: Customer,
    car: Vehicle,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_order: MakeOrder,
    wash: ServiceItem,
    advisor: User,
) -> None:
    other = make_customer(name="李四")
    paid(make_order(vehicle=make_vehicle(other)), wash, advisor, "80")
    paid(make_order(vehicle=car), wash, advisor, "40")
    assert stats(customer)[:2] == (1, Decimal("40.00"))
    assert stats(other)[:2] == (1, Decimal("80.00"))


def test_a_car_sold_on_leaves_its_past_visits_with_the_seller(
    customer: Customer,
    car: Vehicle,
    make_customer: Callable[..., Customer],
    make_order: MakeOrder,
    wash: ServiceItem,
    advisor: User,
) -> None:
    from huitou.customers.services import vehicle_transfer

    paid(make_order(vehicle=car), wash, advisor, "40")
    buyer = make_customer(name="李四")
    vehicle_transfer(vehicle=car, to_customer=buyer, by=advisor)
    paid(make_order(vehicle=Vehicle.objects.for_org(car.organization_id).get(pk=car.pk)), wash, advisor, "60")
    assert stats(customer)[:2] == (1, Decimal("40.00"))
    assert stats(buyer)[:2] == (1, Decimal("60.00"))
