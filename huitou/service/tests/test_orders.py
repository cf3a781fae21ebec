"""Service orders: opening from a vehicle, numbering, lines, the state machine, voids, history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.customers import errors as customer_errors
from huitou.customers.models import Customer, MileageReading, Vehicle
from huitou.customers.services import mileage_record, vehicle_delete, vehicle_transfer
from huitou.service import errors
from huitou.service.errors import StateConflict
from huitou.service.models import OrderLine, OrderState, Part, ServiceItem, ServiceOrder
from huitou.service.services.orders import (
    order_add_line,
    order_complete,
    order_open,
    order_remove_line,
    order_start,
    order_void,
)
from huitou.service.tests.support import completed, conflict, fresh, history, paid, refused
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role
from huitou.tenancy.services import staff_create
from huitou.testing.fixtures import first_shop

MakeOrder = Callable[..., ServiceOrder]


@pytest.fixture
def customer(make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(name="张三")


@pytest.fixture
def vehicle(customer: Customer, make_vehicle: Callable[..., Vehicle]) -> Vehicle:
    return make_vehicle(customer, plate="粤B12345", mileage_km=30000)


@pytest.fixture
def shop(org: Organization) -> Shop:
    return first_shop(org)


@pytest.fixture
def oil_change(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(code="BY-01", name="小保养", labour_price="200.00")


@pytest.fixture
def oil(make_part: Callable[..., Part]) -> Part:
    return make_part(code="JY-01", name="机油 4L", sale_price="288.00", cost="150.00")


@pytest.fixture
def order(make_order: MakeOrder, vehicle: Vehicle) -> ServiceOrder:
    return make_order(vehicle=vehicle)


def today_prefix() -> str:
    return timezone.localdate().strftime("%Y%m%d-")


# --- opening -------------------------------------------------------------------------------


def test_an_order_is_opened_for_the_vehicles_owner_with_the_mileage_at_arrival(
    org: Organization, shop: Shop, vehicle: Vehicle, customer: Customer, advisor: User, tech: User
) -> None:
    order = order_open(
        organization=org, shop=shop, vehicle=vehicle, by=advisor, mileage_km="31200", description=" 刹车异响 "
    )
    order = fresh(order)
    assert (order.customer_id, order.vehicle_id, order.shop_id) == (customer.pk, vehicle.pk, shop.pk)
    assert (order.state, order.description, order.advisor, order.created_by) == ("open", "刹车异响", advisor, advisor)
    assert order.total == order.amount_paid == Decimal("0.00")
    reading = MileageReading.objects.for_org(org).get(pk=order.mileage_id)
    assert (reading.km, reading.source, reading.recorded_by, reading.vehicle_id) == (
        31200,
        "order",
        advisor,
        vehicle.pk,
    )
    assert order.mileage_km == 31200
    assert Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk).mileage_km == 31200


def test_the_order_follows_the_car_to_its_new_owner(
    org: Organization, shop: Shop, vehicle: Vehicle, make_customer: Callable[..., Customer], advisor: User
) -> None:
    buyer = make_customer(name="李四")
    vehicle_transfer(vehicle=vehicle, to_customer=buyer, by=advisor)
    order = order_open(
        organization=org,
        shop=shop,
        vehicle=Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk),
        by=advisor,
    )
    assert order.customer_id == buyer.pk


def test_an_order_without_mileage_records_no_reading(make_order: MakeOrder, vehicle: Vehicle) -> None:
    order = make_order(vehicle=vehicle, mileage_km="")
    assert (order.mileage_id, order.mileage_km) == (None, None)
    assert MileageReading.objects.for_org(vehicle.organization_id).filter(vehicle=vehicle, source="order").count() == 0


def test_it_refuses_a_mileage_lower_than_the_last_reading_and_opens_nothing(
    make_order: MakeOrder, vehicle: Vehicle
) -> None:
    with pytest.raises(ValidationError) as exc:
        make_order(vehicle=vehicle, mileage_km=29000)
    assert refused(exc, "mileage") == [str(customer_errors.MILEAGE_LOWER % {"km": 29000, "previous": 30000})]
    assert not ServiceOrder.objects.for_org(vehicle.organization_id).exists()
    assert Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk).mileage_km == 30000


@pytest.mark.parametrize("km", ["abc", "-5", "12.5"])
def test_it_refuses_a_mileage_that_is_not_a_number_of_kilometres(
    make_order: MakeOrder, vehicle: Vehicle, km: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        make_order(vehicle=vehicle, mileage_km=km)
    assert refused(exc, "mileage") == [customer_errors.MILEAGE_INVALID]
    assert not ServiceOrder.objects.for_org(vehicle.organization_id).exists()


def test_it_refuses_a_vehicle_of_another_organization(
    org: Organization,
    shop: Shop,
    advisor: User,
    other_org: Organization,
    outsider: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> None:
    theirs = make_vehicle(make_customer(organization=other_org, by=outsider), by=outsider)
    with pytest.raises(ValidationError) as exc:
        order_open(organization=org, shop=shop, vehicle=theirs, by=advisor, mileage_km=1000)
    assert refused(exc, "vehicle_id") == [errors.VEHICLE_UNKNOWN]
    assert not ServiceOrder.objects.filter(organization__in=[org, other_org]).exists()
    assert not MileageReading.objects.filter(vehicle=theirs, km=1000).exists()


def test_it_refuses_a_deleted_vehicle(make_order: MakeOrder, vehicle: Vehicle, advisor: User) -> None:
    vehicle_delete(vehicle=vehicle, by=advisor)
    with pytest.raises(ValidationError) as exc:
        make_order(vehicle=vehicle)
    assert refused(exc, "vehicle_id") == [errors.VEHICLE_UNKNOWN]


def test_it_refuses_a_shop_of_another_organization(
    org: Organization, other_org: Organization, vehicle: Vehicle, advisor: User
) -> None:
    with pytest.raises(ValidationError) as exc:
        order_open(organization=org, shop=first_shop(other_org), vehicle=vehicle, by=advisor)
    assert refused(exc, "shop") == [errors.SHOP_UNKNOWN]


def test_the_advisor_is_the_receiver_unless_named_and_must_be_staff_of_the_organization(
    make_order: MakeOrder, vehicle: Vehicle, service: User, advisor: User, outsider: User
) -> None:
    assert make_order(vehicle=vehicle, by=service).advisor == service
    assert make_order(vehicle=vehicle, by=service, advisor=advisor).advisor == advisor
    with pytest.raises(ValidationError) as exc:
        make_order(vehicle=vehicle, by=service, advisor=outsider)
    assert refused(exc, "advisor") == [errors.ADVISOR_INVALID]


# --- numbering -----------------------------------------------------------------------------


def test_orders_are_numbered_per_organization_and_local_day(
    make_order: MakeOrder,
    other_org: Organization,
    outsider: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> None:
    numbers = [make_order().number for _ in range(3)]
    assert numbers == [f"{today_prefix()}{n:04d}" for n in (1, 2, 3)]
    theirs = make_vehicle(make_customer(organization=other_org, by=outsider), by=outsider)
    assert make_order(vehicle=theirs, by=outsider).number == f"{today_prefix()}0001"


def test_the_sequence_starts_again_on_a_new_local_day(make_order: MakeOrder) -> None:
    yesterday = make_order()
    earlier = (timezone.localdate() - dt.timedelta(days=1)).strftime("%Y%m%d-")
    ServiceOrder.objects.for_org(yesterday.organization_id).filter(pk=yesterday.pk).update(number=f"{earlier}0042")
    assert make_order().number == f"{today_prefix()}0001"
    assert make_order().number == f"{today_prefix()}0002"


def test_a_void_order_keeps_its_number(make_order: MakeOrder, advisor: User) -> None:
    first = make_order()
    order_void(order=first, by=advisor, reason="客户取消")
    assert make_order().number == f"{today_prefix()}0002"


# --- lines ---------------------------------------------------------------------------------


def test_a_service_line_defaults_to_the_labour_price_and_a_part_line_to_the_sale_price(
    order: ServiceOrder, oil_change: ServiceItem, oil: Part, advisor: User, tech: User
) -> None:
    labour = order_add_line(order=order, by=advisor, service=oil_change, technician=tech)
    fitted = order_add_line(order=order, by=advisor, part=oil, quantity="1.5")
    labour, fitted = (
        OrderLine.objects.for_org(labour.organization_id).get(pk=labour.pk),
        OrderLine.objects.for_org(fitted.organization_id).get(pk=fitted.pk),
    )
    assert (labour.kind, labour.name, labour.quantity, labour.unit_price) == (
        "service",
        "小保养",
        Decimal("1.00"),
        Decimal("200.00"),
    )
    assert (labour.amount, labour.unit_cost, labour.technician) == (Decimal("200.00"), None, tech)
    assert (fitted.kind, fitted.quantity, fitted.unit_price, fitted.amount, fitted.unit_cost) == (
        "part",
        Decimal("1.50"),
        Decimal("288.00"),
        Decimal("432.00"),
        Decimal("150.00"),
    )
    order = fresh(order)
    assert order.lines_total == order.total == Decimal("632.00")


def test_a_line_takes_an_explicit_price_and_discount(
    order: ServiceOrder, oil_change: ServiceItem, advisor: User
) -> None:
    line = order_add_line(order=order, by=advisor, service=oil_change, quantity="2", unit_price="99.5", discount="9")
    assert (line.unit_price, line.discount, line.amount) == (Decimal("99.50"), Decimal("9.00"), Decimal("190.00"))


def test_a_line_rounds_half_up_to_the_fen(order: ServiceOrder, oil: Part, advisor: User) -> None:
    line = order_add_line(order=order, by=advisor, part=oil, quantity="1.5", unit_price="19.99")
    assert line.amount == Decimal("29.99")
    tiny = order_add_line(order=order, by=advisor, part=oil, quantity="0.5", unit_price="0.01")
    assert tiny.amount == Decimal("0.01")
    assert fresh(order).total == Decimal("30.00")


def test_a_discount_may_be_the_whole_price(order: ServiceOrder, oil_change: ServiceItem, advisor: User) -> None:
    line = order_add_line(order=order, by=advisor, service=oil_change, discount="200")
    assert line.amount == Decimal("0.00")


@pytest.mark.parametrize("quantity", [0, "0", "-1", "abc", "1.234", 1.5, "", "1000000"])
def test_it_refuses_a_bad_quantity(order: ServiceOrder, oil: Part, advisor: User, quantity: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        order_add_line(order=order, by=advisor, part=oil, quantity=quantity)
    assert refused(exc, "quantity") == [errors.QUANTITY_INVALID]
    assert not OrderLine.objects.for_org(order.organization_id).exists()


@pytest.mark.parametrize("price", ["-0.01", "33.335", 19.9, "free"])
def test_it_refuses_a_bad_unit_price(order: ServiceOrder, oil: Part, advisor: User, price: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        order_add_line(order=order, by=advisor, part=oil, quantity=3, unit_price=price)
    assert refused(exc, "unit_price") == [errors.PRICE_INVALID]


@pytest.mark.parametrize("discount", ["-1", "200.01", "1.001", 5.0])
def test_it_refuses_a_discount_below_zero_or_above_the_full_price(
    order: ServiceOrder, oil_change: ServiceItem, advisor: User, discount: Any
) -> None:
    with pytest.raises(ValidationError) as exc:
        order_add_line(order=order, by=advisor, service=oil_change, discount=discount)
    assert refused(exc, "discount") == [errors.DISCOUNT_INVALID]
    assert fresh(order).total == Decimal("0.00")


def test_it_refuses_a_line_worth_more_than_an_amount_can_hold(order: ServiceOrder, oil: Part, advisor: User) -> None:
    with pytest.raises(ValidationError) as exc:
        order_add_line(order=order, by=advisor, part=oil, quantity="999999", unit_price="9999999")
    assert refused(exc, "quantity") == [errors.QUANTITY_INVALID]
    assert not OrderLine.objects.for_org(order.organization_id).exists()


def test_a_line_needs_exactly_one_item(order: ServiceOrder, oil_change: ServiceItem, oil: Part, advisor: User) -> None:
    for both_or_neither in ({}, {"service": oil_change, "part": oil}):
        with pytest.raises(ValidationError) as exc:
            order_add_line(order=order, by=advisor, **both_or_neither)
        assert refused(exc, "item") == [errors.ITEM_REQUIRED]


def test_it_refuses_an_item_of_another_organization_or_an_inactive_one(
    order: ServiceOrder,
    make_service_item: Callable[..., ServiceItem],
    make_part: Callable[..., Part],
    other_org: Organization,
    advisor: User,
) -> None:
    for kwargs in (
        {"service": make_service_item(organization=other_org)},
        {"part": make_part(organization=other_org)},
        {"service": make_service_item(is_active=False)},
    ):
        with pytest.raises(ValidationError) as exc:
            order_add_line(order=order, by=advisor, **kwargs)
        assert refused(exc, "item") == [errors.ITEM_UNKNOWN]
    assert not OrderLine.objects.for_org(order.organization_id).exists()


def test_it_refuses_a_technician_of_another_organization_or_one_who_left(
    org: Organization, order: ServiceOrder, oil_change: ServiceItem, advisor: User, outsider: User
) -> None:
    gone = staff_create(organization=org, username="gone", password="x", role=Role.TECHNICIAN, validate=False)
    gone.is_active = False
    gone.save()
    for technician in (outsider, gone):
        with pytest.raises(ValidationError) as exc:
            order_add_line(order=order, by=advisor, service=oil_change, technician=technician)
        assert refused(exc, "technician_id") == [errors.TECHNICIAN_INVALID]
    assert not OrderLine.objects.for_org(org).exists()


def test_removing_a_line_recomputes_the_total(
    order: ServiceOrder, oil_change: ServiceItem, oil: Part, advisor: User
) -> None:
    order_add_line(order=order, by=advisor, service=oil_change)
    line = order_add_line(order=order, by=advisor, part=oil)
    order_remove_line(line=line, by=advisor)
    order = fresh(order)
    assert (order.lines_total, order.total) == (Decimal("200.00"), Decimal("200.00"))
    assert list(order.lines.values_list("name", flat=True)) == ["小保养"]


def test_a_completed_order_still_takes_line_changes_until_it_is_paid(
    order: ServiceOrder, oil_change: ServiceItem, oil: Part, advisor: User
) -> None:
    completed(order, oil_change, advisor, "200")
    line = order_add_line(order=order, by=advisor, part=oil)
    assert fresh(order).total == Decimal("488.00")
    order_remove_line(line=line, by=advisor)
    assert fresh(order).total == Decimal("200.00")


# --- the state machine ---------------------------------------------------------------------


def test_an_order_goes_open_in_progress_completed_with_times(
    order: ServiceOrder, oil_change: ServiceItem, advisor: User, tech: User
) -> None:
    order_start(order=order, by=tech)
    assert (fresh(order).state, fresh(order).started_at is not None) == (OrderState.IN_PROGRESS, True)
    order_complete(order=order, by=tech)
    order = fresh(order)
    assert order.state == OrderState.COMPLETED
    assert order.opened_at <= order.started_at <= order.completed_at


def test_an_open_order_may_be_completed_without_being_started(order: ServiceOrder, advisor: User) -> None:
    order_complete(order=order, by=advisor)
    assert (fresh(order).state, fresh(order).started_at) == (OrderState.COMPLETED, None)


def _to_state(order: ServiceOrder, state: str, item: ServiceItem, by: User) -> ServiceOrder:
    if state == OrderState.IN_PROGRESS:
        order_start(order=order, by=by)
    elif state == OrderState.COMPLETED:
        completed(order, item, by, "100")
    elif state == OrderState.PAID:
        paid(order, item, by, "100")
    elif state == OrderState.VOID:
        order_void(order=order, by=by, reason="客户取消")
    return order


@pytest.mark.parametrize("state", ["in_progress", "completed", "paid", "void"])
def test_only_an_open_order_can_be_started(
    order: ServiceOrder, oil_change: ServiceItem, advisor: User, state: str
) -> None:
    _to_state(order, state, oil_change, advisor)
    with pytest.raises(StateConflict) as exc:
        order_start(order=order, by=advisor)
    assert conflict(exc) == str(errors.ORDER_CANNOT_START)
    assert fresh(order).state == state


@pytest.mark.parametrize("state", ["completed", "paid", "void"])
def test_only_an_open_or_started_order_can_be_completed(
    order: ServiceOrder, oil_change: ServiceItem, advisor: User, state: str
) -> None:
    _to_state(order, state, oil_change, advisor)
    with pytest.raises(StateConflict) as exc:
        order_complete(order=order, by=advisor)
    assert conflict(exc) == str(errors.ORDER_CANNOT_COMPLETE)
    assert fresh(order).state == state


@pytest.mark.parametrize("state", ["paid", "void"])
def test_a_paid_or_void_order_takes_no_new_line(
    order: ServiceOrder, oil_change: ServiceItem, oil: Part, advisor: User, state: str
) -> None:
    _to_state(order, state, oil_change, advisor)
    total = fresh(order).total
    with pytest.raises(StateConflict) as exc:
        order_add_line(order=order, by=advisor, part=oil)
    assert conflict(exc) == str(errors.ORDER_LOCKED)
    assert fresh(order).total == total
    assert order.lines.count() == (1 if state == "paid" else 0)


def test_a_paid_orders_line_cannot_be_removed(order: ServiceOrder, oil_change: ServiceItem, advisor: User) -> None:
    paid(order, oil_change, advisor, "100")
    with pytest.raises(StateConflict) as exc:
        order_remove_line(line=order.lines.get(), by=advisor)
    assert conflict(exc) == str(errors.ORDER_LOCKED)
    assert order.lines.count() == 1
    assert fresh(order).total == Decimal("100.00")


def test_a_refused_change_leaves_no_history(order: ServiceOrder, oil_change: ServiceItem, advisor: User) -> None:
    paid(order, oil_change, advisor, "100")
    entries = len(history(order))
    for refused_change in (
        lambda: order_start(order=order, by=advisor),
        lambda: order_complete(order=order, by=advisor),
        lambda: order_add_line(order=order, by=advisor, service=oil_change),
        lambda: order_void(order=order, by=advisor, reason="x"),
    ):
        with pytest.raises(StateConflict):
            refused_change()
    assert len(history(order)) == entries


# --- void ----------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["open", "in_progress", "completed"])
def test_an_unpaid_order_can_be_voided_with_a_reason(
    order: ServiceOrder, oil_change: ServiceItem, advisor: User, state: str
) -> None:
    _to_state(order, state, oil_change, advisor)
    order_void(order=order, by=advisor, reason=" 客户不修了 ")
    order = fresh(order)
    assert (order.state, order.void_reason, order.voided_at is not None) == ("void", "客户不修了", True)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_void_needs_a_reason(order: ServiceOrder, advisor: User, reason: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        order_void(order=order, by=advisor, reason=reason)
    assert refused(exc, "reason") == [errors.VOID_REASON_REQUIRED]
    assert fresh(order).state == OrderState.OPEN


def test_a_paid_order_cannot_be_voided(order: ServiceOrder, oil_change: ServiceItem, advisor: User) -> None:
    paid(order, oil_change, advisor, "100")
    with pytest.raises(StateConflict) as exc:
        order_void(order=order, by=advisor, reason="算错了")
    assert conflict(exc) == str(errors.ORDER_CANNOT_VOID_PAID)
    assert fresh(order).state == OrderState.PAID


def test_a_void_order_cannot_be_voided_again(order: ServiceOrder, advisor: User) -> None:
    order_void(order=order, by=advisor, reason="第一次")
    with pytest.raises(StateConflict) as exc:
        order_void(order=order, by=advisor, reason="第二次")
    assert conflict(exc) == str(errors.ORDER_ALREADY_VOID)
    assert fresh(order).void_reason == "第一次"


# --- history -------------------------------------------------------------------------------


def test_every_change_is_in_the_orders_history_with_its_author(
    order: ServiceOrder, oil_change: ServiceItem, oil: Part, customer: Customer, advisor: User, tech: User
) -> None:
    order_add_line(order=order, by=advisor, service=oil_change)
    line = order_add_line(order=order, by=advisor, part=oil)
    order_remove_line(line=line, by=advisor)
    order_start(order=order, by=tech)
    order_complete(order=order, by=tech)
    order_void(order=order, by=advisor, reason="客户改天再来")

    entries = history(order)
    assert [(e.action, e.actor) for e in entries] == [
        (ChangeEntry.Action.CREATED, advisor),
        (ChangeEntry.Action.UPDATED, advisor),
        (ChangeEntry.Action.UPDATED, advisor),
        (ChangeEntry.Action.UPDATED, advisor),
        (ChangeEntry.Action.UPDATED, tech),
        (ChangeEntry.Action.UPDATED, tech),
        (ChangeEntry.Action.DELETED, advisor),
    ]
    assert {e.customer_id for e in entries} == {customer.pk}
    assert entries[0].changes["number"] == [None, order.number]
    assert entries[0].changes["plate"] == [None, "粤B12345"]
    assert entries[1].changes["line"] == [None, "小保养 × 1.00 @ 200.00 − 0.00 = 200.00"]
    assert entries[1].changes["total"] == [None, "200.00"]
    assert entries[3].changes["line"][0] == "机油 4L × 1.00 = 288.00"
    assert entries[4].changes == {"state": ["open", "in_progress"]}
    assert entries[5].changes == {"state": ["in_progress", "completed"]}
    assert (entries[6].changes, entries[6].note) == ({"state": ["completed", "void"]}, "客户改天再来")


def test_the_mileage_at_arrival_is_in_the_vehicles_history_too(make_order: MakeOrder, vehicle: Vehicle) -> None:
    make_order(vehicle=vehicle, mileage_km=31000)
    entry = (
        ChangeEntry.objects.for_org(vehicle.organization_id)
        .filter(subject_type="vehicle", subject_id=vehicle.pk, action="mileage")
        .latest("pk")
    )
    assert entry.changes == {"km": [30000, 31000]}


def test_a_later_reading_does_not_change_the_orders_mileage(make_order: MakeOrder, vehicle: Vehicle) -> None:
    order = make_order(vehicle=vehicle, mileage_km=31000)
    mileage_record(vehicle=vehicle, km=32000, by=None)
    assert fresh(order).mileage_km == 31000


def test_an_order_with_money_received_cannot_be_voided(
    order: ServiceOrder, oil_change: ServiceItem, advisor: User
) -> None:
    from huitou.service.services.orders import order_pay

    completed(order, oil_change, advisor, "100")
    order_pay(order=order, by=advisor, method="cash", amount="40")
    with pytest.raises(StateConflict) as exc:
        order_void(order=order, by=advisor, reason="客户不修了")
    assert conflict(exc) == str(errors.ORDER_HAS_PAYMENTS)
    assert fresh(order).state == OrderState.COMPLETED


def test_numbers_keep_counting_past_9999_orders_a_day(make_order: MakeOrder, vehicle: Vehicle, advisor: User) -> None:
    first = make_order(vehicle=vehicle, by=advisor)
    prefix = first.number.rsplit("-", 1)[0]
    ServiceOrder.objects.for_org(first.organization_id).filter(pk=first.pk).update(number=f"{prefix}-9999")
    assert make_order(vehicle=vehicle, by=advisor).number == f"{prefix}-10000"
    assert make_order(vehicle=vehicle, by=advisor).number == f"{prefix}-10001"
