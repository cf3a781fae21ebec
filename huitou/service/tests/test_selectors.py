"""Reads: the order list by shop, local day, customer and state; the order page in fixed queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from huitou.customers.models import Customer, Vehicle
from huitou.service.models import Appointment, Part, ServiceItem, ServiceOrder
from huitou.service.selectors import (
    appointments_between,
    arrivals_today,
    day_bounds,
    order_for_page,
    order_list,
    visit_history,
)
from huitou.service.services.orders import (
    order_add_line,
    order_adjust,
    order_pay,
    order_void,
    recommendation_add,
)
from huitou.service.tests.support import completed, local, paid
from huitou.tenancy.models import Organization, Shop, User

MakeOrder = Callable[..., ServiceOrder]
DAY = dt.date(2024, 6, 1)


@pytest.fixture
def shops(org: Organization) -> list[Shop]:
    return list(Shop.objects.for_org(org).order_by("pk"))


@pytest.fixture
def wash(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(code="XC", name="洗车", labour_price="40")


def opened(order: ServiceOrder, when: dt.datetime) -> ServiceOrder:
    ServiceOrder.objects.for_org(order.organization_id).filter(pk=order.pk).update(opened_at=when)
    return ServiceOrder.objects.for_org(order.organization_id).get(pk=order.pk)


# --- order_list ----------------------------------------------------------------------------


def test_the_local_day_runs_from_midnight_to_midnight_in_shanghai() -> None:
    start, end = day_bounds(DAY)
    assert start == dt.datetime(2024, 5, 31, 16, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2024, 6, 1, 16, 0, tzinfo=dt.UTC)


def test_an_order_opened_late_in_the_evening_belongs_to_that_local_day(
    make_order: MakeOrder, org: Organization
) -> None:
    late = opened(make_order(), local(DAY, 23, 30))  # 15:30 UTC, same UTC day
    early = opened(make_order(), local(DAY, 0, 30))  # 16:30 UTC the day before
    next_morning = opened(make_order(), local(DAY + dt.timedelta(days=1), 0, 30))  # 16:30 UTC on DAY
    the_evening_before = opened(make_order(), local(DAY - dt.timedelta(days=1), 23, 59))
    assert list(order_list(organization=org, day=DAY)) == [late, early]
    assert list(order_list(organization=org, day=DAY + dt.timedelta(days=1))) == [next_morning]
    assert list(order_list(organization=org, day=DAY - dt.timedelta(days=1))) == [the_evening_before]


def test_the_order_list_filters_by_shop_customer_and_state(
    make_order: MakeOrder,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    org: Organization,
    shops: list[Shop],
    wash: ServiceItem,
    advisor: User,
) -> None:
    regular = make_customer(name="张三")
    in_town = make_order(vehicle=make_vehicle(regular))
    west = make_order(shop=shops[1])
    done = paid(make_order(vehicle=make_vehicle(regular), shop=shops[1]), wash, advisor, "40")
    assert set(order_list(organization=org, shop_id=shops[0].pk)) == {in_town}
    assert set(order_list(organization=org, shop_id=shops[1].pk)) == {west, done}
    assert set(order_list(organization=org, customer_id=regular.pk)) == {in_town, done}
    assert list(order_list(organization=org, state="paid")) == [done]
    assert list(order_list(organization=org, state="paid", shop_id=shops[0].pk)) == []
    assert list(order_list(organization=org, customer_id=regular.pk, shop_id=shops[1].pk)) == [done]


def test_the_order_list_is_newest_first_and_only_the_organizations(
    make_order: MakeOrder,
    org: Organization,
    other_org: Organization,
    outsider: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> None:
    first, second, third = make_order(), make_order(), make_order()
    opened(second, local(DAY, 10))
    opened(first, local(DAY, 10))
    opened(third, local(DAY, 9))
    make_order(vehicle=make_vehicle(make_customer(organization=other_org, by=outsider), by=outsider), by=outsider)
    assert [o.pk for o in order_list(organization=org)] == [second.pk, first.pk, third.pk]
    assert order_list(organization=other_org).count() == 1


def test_the_order_list_reads_customer_car_advisor_and_shop_in_one_query(
    make_order: MakeOrder, org: Organization, django_assert_num_queries: Any
) -> None:
    for _ in range(5):
        make_order()
    with django_assert_num_queries(1):  # orders joined with customer, vehicle, advisor and shop
        rows = [(o.customer.name, o.vehicle.plate, o.advisor.label, o.shop.name) for o in order_list(organization=org)]
    assert len(rows) == 5


# --- order_for_page ------------------------------------------------------------------------


def _busy_order(
    make_order: MakeOrder, item: ServiceItem, part: Part, advisor: User, tech: User, owner: User, size: int
) -> ServiceOrder:
    order = make_order(mileage_km=1000)
    for _ in range(size):
        order_add_line(order=order, by=advisor, service=item, technician=tech)
        order_add_line(order=order, by=advisor, part=part, technician=tech)
        recommendation_add(order=order, by=tech, description="轮胎老化", service=item, estimate="10")
    completed(order, item, advisor, "100")
    for _ in range(size):
        order_pay(order=order, by=advisor, method="cash", amount="1")
    order_pay(order=order, by=advisor, method="wechat", amount=order.amount_due)
    for _ in range(size):
        order_adjust(order=order, by=owner, amount="-0.01", reason="抹零")
    return order


@pytest.mark.parametrize("size", [1, 6])
def test_the_order_page_loads_in_five_queries_however_many_lines_and_payments(
    make_order: MakeOrder,
    make_service_item: Callable[..., ServiceItem],
    make_part: Callable[..., Part],
    org: Organization,
    advisor: User,
    tech: User,
    owner: User,
    django_assert_num_queries: Any,
    size: int,
) -> None:
    order = _busy_order(make_order, make_service_item(), make_part(), advisor, tech, owner, size)
    with django_assert_num_queries(5):
        # 1 the order with shop, customer, vehicle, advisor and organization; 2 lines with technician;
        # 3 payments with receiver; 4 adjustments with author; 5 recommendations with recorder and service
        page = order_for_page(organization=org, order_id=order.pk)
        header = (page.shop.name, page.customer.name, page.vehicle.plate, page.advisor.label, page.organization.name)
        lines = [(line.name, line.amount, line.technician and line.technician.label) for line in page.lines.all()]
        payments = [(p.method, p.amount, p.received_by.label) for p in page.payments.all()]
        adjustments = [(a.amount, a.reason, a.author.label) for a in page.adjustments.all()]
        recommendations = [(r.description, r.recorded_by.label, r.service.name) for r in page.recommendations.all()]
    assert all(header)
    assert (len(lines), len(payments), len(adjustments), len(recommendations)) == (2 * size + 1, size + 1, size, size)
    assert sum(line.amount for line in page.lines.all()) + sum(a.amount for a in page.adjustments.all()) == page.total


def test_the_order_page_is_only_found_in_its_organization(make_order: MakeOrder, other_org: Organization) -> None:
    order = make_order()
    with pytest.raises(ServiceOrder.DoesNotExist):
        order_for_page(organization=other_org, order_id=order.pk)


# --- visit history -------------------------------------------------------------------------


def test_the_visit_history_is_the_customers_orders_newest_first_across_cars(
    make_order: MakeOrder,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    wash: ServiceItem,
    advisor: User,
    django_assert_num_queries: Any,
) -> None:
    customer = make_customer(name="张三")
    car, other_car = make_vehicle(customer), make_vehicle(customer)
    oldest = opened(paid(make_order(vehicle=car), wash, advisor, "40"), local(DAY, 9))
    voided = make_order(vehicle=other_car)
    order_void(order=voided, by=advisor, reason="取消")
    voided = opened(voided, local(DAY, 12))
    newest = opened(make_order(vehicle=car, mileage_km=5000), local(DAY + dt.timedelta(days=30), 8))
    make_order()  # another customer's
    with django_assert_num_queries(1):  # orders joined with vehicle and shop
        history = visit_history(customer=customer)
        rows = [(o.pk, o.vehicle.plate, o.shop.name, o.mileage_km, o.total, o.state) for o in history]
    assert [row[0] for row in rows] == [newest.pk, voided.pk, oldest.pk]
    assert rows[0][3] == 5000
    assert [o.pk for o in visit_history(customer=customer, limit=2)] == [newest.pk, voided.pk]


# --- appointments --------------------------------------------------------------------------


def _appointment(shop: Shop, customer: Customer, day: dt.date, slot: dt.time, state: str) -> Appointment:
    """Stored directly: today's slots may already have passed, which booking refuses."""
    return Appointment.objects.create(
        organization_id=shop.organization_id, shop=shop, customer=customer, day=day, slot=slot, state=state
    )


def test_todays_arrivals_are_the_expected_and_arrived_customers_of_the_shop(
    shops: list[Shop], make_customer: Callable[..., Customer], org: Organization, django_assert_num_queries: Any
) -> None:
    customer = make_customer()
    today = timezone.localdate()
    arrived = _appointment(shops[0], customer, today, dt.time(8), Appointment.State.ARRIVED)
    booked = _appointment(shops[0], customer, today, dt.time(10), Appointment.State.BOOKED)
    confirmed = _appointment(shops[0], customer, today, dt.time(9), Appointment.State.CONFIRMED)
    for state in (Appointment.State.CANCELLED, Appointment.State.NO_SHOW, Appointment.State.CONVERTED):
        _appointment(shops[0], customer, today, dt.time(11), state)
    _appointment(shops[1], customer, today, dt.time(9), Appointment.State.BOOKED)
    _appointment(shops[0], customer, today + dt.timedelta(days=1), dt.time(9), Appointment.State.BOOKED)
    _appointment(shops[0], customer, today - dt.timedelta(days=1), dt.time(9), Appointment.State.BOOKED)
    with django_assert_num_queries(1):  # appointments joined with customer, vehicle and service
        rows = [
            (a, a.customer.name, a.vehicle, a.service) for a in arrivals_today(organization=org, shop_id=shops[0].pk)
        ]
    assert [row[0] for row in rows] == [arrived, confirmed, booked]


def test_the_calendar_lists_a_shops_appointments_between_two_days_in_time_order(
    shops: list[Shop], make_customer: Callable[..., Customer], org: Organization, other_org: Organization
) -> None:
    customer = make_customer()
    later = _appointment(shops[0], customer, DAY + dt.timedelta(days=6), dt.time(8), Appointment.State.BOOKED)
    second = _appointment(shops[0], customer, DAY, dt.time(10), Appointment.State.CANCELLED)
    first = _appointment(shops[0], customer, DAY, dt.time(9), Appointment.State.BOOKED)
    _appointment(shops[0], customer, DAY + dt.timedelta(days=7), dt.time(9), Appointment.State.BOOKED)
    _appointment(shops[1], customer, DAY, dt.time(9), Appointment.State.BOOKED)
    week = appointments_between(organization=org, shop_id=shops[0].pk, first=DAY, last=DAY + dt.timedelta(days=6))
    assert list(week) == [first, second, later]
    assert not appointments_between(organization=other_org, shop_id=shops[0].pk, first=DAY, last=DAY).exists()
