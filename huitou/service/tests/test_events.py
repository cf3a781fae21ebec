"""Domain events: sent once, with the documented arguments, inside the change's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.dispatch import Signal

from huitou.care import events as care_events
from huitou.customers import events as customer_events
from huitou.customers.models import Customer
from huitou.lifecycle import events as lifecycle_events
from huitou.service import events
from huitou.service.errors import StateConflict
from huitou.service.models import OrderState, Payment, ServiceItem, ServiceOrder
from huitou.service.services.orders import (
    order_add_line,
    order_adjust,
    order_complete,
    order_pay,
    order_remove_line,
    order_void,
)
from huitou.service.tests.support import completed, fresh, paid
from huitou.tenancy.models import User

SIGNALS = {"order_paid": events.order_paid}


class Received(list[tuple[str, dict[str, Any]]]):
    def named(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for event, kwargs in self if event == name]

    def names(self) -> list[str]:
        return [event for event, _ in self]


@pytest.fixture
def received() -> Iterator[Received]:
    """Every service event sent during the test, with a snapshot of what the receiver saw."""
    seen = Received()
    receivers = {}
    for name, signal in SIGNALS.items():

        def receiver(sender: Any, signal: Signal, name: str = name, **kwargs: Any) -> None:
            order = kwargs["order"]
            customer = Customer.objects.for_org(order.organization_id).get(pk=order.customer_id)
            kwargs["sender"] = sender
            kwargs["state"] = order.state
            kwargs["stored_state"] = ServiceOrder.objects.for_org(order.organization_id).get(pk=order.pk).state
            kwargs["visits"] = (customer.visit_count, customer.lifetime_spend)
            kwargs["in_atomic_block"] = transaction.get_connection().in_atomic_block
            seen.append((name, kwargs))

        receivers[name] = receiver
        signal.connect(receiver, dispatch_uid=f"test.{name}")
    yield seen
    for name, signal in SIGNALS.items():
        signal.disconnect(dispatch_uid=f"test.{name}")


@pytest.fixture
def tune_up(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(code="BY", name="保养", labour_price="300")


@pytest.fixture
def order(make_order: Callable[..., ServiceOrder]) -> ServiceOrder:
    return make_order()


def test_order_paid_is_sent_once_when_the_payments_cover_the_total(
    order: ServiceOrder, tune_up: ServiceItem, advisor: User, service: User, received: Received
) -> None:
    completed(order, tune_up, advisor, "300")
    order_pay(order=order, by=service, method="cash", amount="100")
    assert received.named("order_paid") == []
    order_pay(order=order, by=service, method="wechat", amount="200")
    (sent,) = received.named("order_paid")
    assert set(sent) - {"sender", "state", "stored_state", "visits", "in_atomic_block"} == {"order", "by"}
    assert (sent["sender"], sent["order"].pk, sent["by"]) == (ServiceOrder, order.pk, service)
    assert sent["state"] == sent["stored_state"] == OrderState.PAID
    assert (sent["order"].total, sent["order"].amount_paid) == (Decimal("300.00"), Decimal("300.00"))
    assert (sent["order"].customer_id, sent["order"].vehicle_id, sent["order"].shop_id) == (
        order.customer_id,
        order.vehicle_id,
        order.shop_id,
    )
    assert sent["visits"] == (1, Decimal("300.00")), "the visit stats are recomputed before order_paid"


def test_completing_voiding_and_adjusting_send_no_event(
    make_order: Callable[..., ServiceOrder],
    order: ServiceOrder,
    tune_up: ServiceItem,
    advisor: User,
    owner: User,
    received: Received,
) -> None:
    completed(order, tune_up, advisor, "300")
    order_void(order=make_order(), by=advisor, reason="取消")
    assert received == []
    order_pay(order=order, by=advisor, method="cash", amount="300")
    order_adjust(order=order, by=owner, amount="-50", reason="优惠")
    assert received.names() == ["order_paid"]


def test_every_domain_event_has_a_receiver() -> None:
    """An event is added with the first receiver that needs it (docs/events.md)."""
    signals = {
        f"{module.__name__}.{name}": value
        for module in (events, customer_events, lifecycle_events, care_events)
        for name, value in vars(module).items()
        if isinstance(value, Signal)
    }
    assert signals
    assert [name for name, signal in signals.items() if not signal.receivers] == []


def test_a_refund_sends_no_second_order_paid(
    order: ServiceOrder, tune_up: ServiceItem, advisor: User, owner: User, received: Received
) -> None:
    paid(order, tune_up, advisor, "300")
    order_adjust(order=order, by=owner, amount="-50", reason="优惠")
    order_pay(order=order, by=owner, method="cash", amount="-50")
    assert received.names() == ["order_paid"]


def test_refused_changes_send_nothing(
    order: ServiceOrder, tune_up: ServiceItem, advisor: User, received: Received
) -> None:

    paid(order, tune_up, advisor, "300")
    received.clear()
    for refused in (
        lambda: order_complete(order=order, by=advisor),
        lambda: order_void(order=order, by=advisor, reason="x"),
        lambda: order_pay(order=order, by=advisor, method="cash", amount="1"),
    ):
        with pytest.raises(StateConflict):
            refused()
    assert received == []


@pytest.mark.django_db(transaction=True)
def test_every_event_is_sent_from_inside_the_services_own_transaction(
    make_order: Callable[..., ServiceOrder],
    order: ServiceOrder,
    tune_up: ServiceItem,
    advisor: User,
    owner: User,
    received: Received,
) -> None:
    paid(order, tune_up, advisor, "300")
    order_adjust(order=order, by=owner, amount="10", reason="补收")
    order_void(order=make_order(), by=advisor, reason="取消")
    assert not transaction.get_connection().in_atomic_block  # autocommit here: the atomic block is the service's
    assert received.names() == ["order_paid"]
    assert all(kwargs["in_atomic_block"] for _, kwargs in received)


# --- a receiver that raises aborts the change ------------------------------------------------


class ReceiverFailed(Exception):
    pass


@pytest.fixture
def failing() -> Iterator[Callable[[Signal], None]]:
    connected: list[Signal] = []

    def fail_on(signal: Signal) -> None:
        def receiver(sender: Any, **kwargs: Any) -> None:
            raise ReceiverFailed

        signal.connect(receiver, weak=False, dispatch_uid="test.failing")
        connected.append(signal)

    yield fail_on
    for signal in connected:
        signal.disconnect(dispatch_uid="test.failing")


def test_a_failing_order_paid_receiver_rolls_the_payment_back(
    order: ServiceOrder, tune_up: ServiceItem, advisor: User, failing: Callable[[Signal], None]
) -> None:
    completed(order, tune_up, advisor, "300")
    failing(events.order_paid)
    with pytest.raises(ReceiverFailed):
        order_pay(order=order, by=advisor, method="cash", amount="300")
    stored = fresh(order)
    assert (stored.state, stored.amount_paid, stored.paid_at) == (OrderState.COMPLETED, Decimal("0.00"), None)
    assert not Payment.objects.for_org(order.organization_id).exists()
    assert Customer.objects.for_org(order.organization_id).get(pk=order.customer_id).visit_count == 0


ORDER_EVENTS = {
    "order_line_added": events.order_line_added,
    "order_line_removed": events.order_line_removed,
    "payment_taken": events.payment_taken,
    "order_voided": events.order_voided,
    "order_adjusted": events.order_adjusted,
}


@pytest.fixture
def order_events() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Line, payment, void and adjustment events: arguments, and whether inside a transaction."""
    seen: list[tuple[str, dict[str, Any]]] = []
    for name, signal in ORDER_EVENTS.items():

        def receiver(sender: Any, signal: Signal, name: str = name, **kwargs: Any) -> None:
            kwargs["in_atomic_block"] = transaction.get_connection().in_atomic_block
            seen.append((name, kwargs))

        signal.connect(receiver, dispatch_uid=f"test.{name}", weak=False)
    yield seen
    for name, signal in ORDER_EVENTS.items():
        signal.disconnect(dispatch_uid=f"test.{name}")


def test_line_payment_void_and_adjustment_events_carry_their_arguments_inside_the_transaction(
    order: ServiceOrder,
    tune_up: ServiceItem,
    advisor: User,
    owner: User,
    make_order: Callable[..., ServiceOrder],
    order_events: list[tuple[str, dict[str, Any]]],
) -> None:

    line = order_add_line(order=order, by=advisor, service=tune_up, unit_price="300")
    spare = order_add_line(order=order, by=advisor, service=tune_up, unit_price="10")
    order_remove_line(line=spare, by=advisor)
    paid_now = order_complete(order=order, by=advisor)
    payment = order_pay(order=paid_now, by=advisor, method="cash", amount="300")
    adjustment = order_adjust(order=order, by=owner, amount="-50", reason="优惠")
    cancelled = make_order()
    order_void(order=cancelled, by=advisor, reason="取消")
    names = [name for name, _ in order_events]
    assert names == [
        "order_line_added",
        "order_line_added",
        "order_line_removed",
        "payment_taken",
        "order_adjusted",
        "order_voided",
    ]
    assert all(kwargs["in_atomic_block"] for _, kwargs in order_events)
    by_name = dict(order_events[:1] + order_events[2:])
    assert (by_name["order_line_added"]["line"], by_name["order_line_added"]["by"]) == (line, advisor)
    assert by_name["order_line_removed"]["line"].pk == spare.pk
    assert (by_name["payment_taken"]["payment"], by_name["payment_taken"]["order"].pk) == (payment, order.pk)
    assert by_name["order_adjusted"]["adjustment"] == adjustment
    assert (by_name["order_voided"]["order"].pk, by_name["order_voided"]["reason"]) == (cancelled.pk, "取消")


def test_a_receiver_that_refuses_a_payment_rolls_it_back(
    order: ServiceOrder, tune_up: ServiceItem, advisor: User
) -> None:
    completed(order, tune_up, advisor, "300")

    def refuse(sender: Any, **kwargs: Any) -> None:
        raise StateConflict("refused")

    events.payment_taken.connect(refuse, dispatch_uid="test.refuse", weak=False)
    try:
        with pytest.raises(StateConflict):
            order_pay(order=order, by=advisor, method="cash", amount="300")
    finally:
        events.payment_taken.disconnect(dispatch_uid="test.refuse")
    assert not Payment.objects.for_org(order.organization_id).filter(order=order).exists()
    assert fresh(order).state == OrderState.COMPLETED
