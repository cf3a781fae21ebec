"""Domain events: sent once, with the documented arguments, inside the change's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.dispatch import Signal

from huitou.customers.models import Customer
from huitou.service import events
from huitou.service.models import OrderAdjustment, OrderState, Payment, ServiceItem, ServiceOrder
from huitou.service.services.orders import (
    order_add_line,
    order_adjust,
    order_complete,
    order_pay,
    order_start,
    order_void,
)
from huitou.service.tests.support import completed, fresh, paid
from huitou.tenancy.models import User

SIGNALS = {
    "order_completed": events.order_completed,
    "order_paid": events.order_paid,
    "order_voided": events.order_voided,
    "order_adjusted": events.order_adjusted,
}


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
            customer = Customer.objects.get(pk=order.customer_id)
            kwargs["sender"] = sender
            kwargs["state"] = order.state
            kwargs["stored_state"] = ServiceOrder.objects.get(pk=order.pk).state
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


def test_completing_an_order_sends_order_completed_once(
    order: ServiceOrder, tune_up: ServiceItem, advisor: User, tech: User, received: Received
) -> None:
    order_add_line(order=order, by=advisor, service=tune_up)
    order_start(order=order, by=tech)
    assert received == []
    order_complete(order=order, by=tech)
    assert received.names() == ["order_completed"]
    (sent,) = received.named("order_completed")
    assert set(sent) - {"sender", "state", "stored_state", "visits", "in_atomic_block"} == {"order", "by"}
    assert (sent["sender"], sent["order"].pk, sent["by"]) == (ServiceOrder, order.pk, tech)
    assert sent["state"] == sent["stored_state"] == OrderState.COMPLETED
    assert sent["order"].total == Decimal("300.00")


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


def test_order_voided_is_sent_with_the_reason(order: ServiceOrder, advisor: User, received: Received) -> None:
    order_void(order=order, by=advisor, reason=" 客户取消 ")
    assert received.names() == ["order_voided"]
    (sent,) = received.named("order_voided")
    assert set(sent) - {"sender", "state", "stored_state", "visits", "in_atomic_block"} == {"order", "by", "reason"}
    assert (sent["order"].pk, sent["by"], sent["reason"]) == (order.pk, advisor, "客户取消")
    assert sent["state"] == sent["stored_state"] == OrderState.VOID


def test_order_adjusted_is_sent_with_the_adjustment(
    order: ServiceOrder, tune_up: ServiceItem, advisor: User, owner: User, received: Received
) -> None:
    paid(order, tune_up, advisor, "300")
    adjustment = order_adjust(order=order, by=owner, amount="-50", reason="优惠")
    assert received.names() == ["order_completed", "order_paid", "order_adjusted"]
    (sent,) = received.named("order_adjusted")
    assert set(sent) - {"sender", "state", "stored_state", "visits", "in_atomic_block"} == {
        "order",
        "by",
        "adjustment",
    }
    assert (sent["order"].pk, sent["by"], sent["adjustment"]) == (order.pk, owner, adjustment)
    assert sent["order"].total == Decimal("250.00")
    assert sent["visits"] == (1, Decimal("250.00")), "the lifetime spend is recomputed before order_adjusted"


def test_a_refund_sends_no_second_order_paid(
    order: ServiceOrder, tune_up: ServiceItem, advisor: User, owner: User, received: Received
) -> None:
    paid(order, tune_up, advisor, "300")
    order_adjust(order=order, by=owner, amount="-50", reason="优惠")
    order_pay(order=order, by=owner, method="cash", amount="-50")
    assert received.names() == ["order_completed", "order_paid", "order_adjusted"]


def test_refused_changes_send_nothing(
    order: ServiceOrder, tune_up: ServiceItem, advisor: User, received: Received
) -> None:
    from huitou.service.errors import StateConflict

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
    assert received.names() == ["order_completed", "order_paid", "order_adjusted", "order_voided"]
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


def test_a_failing_order_completed_receiver_leaves_the_order_open(
    order: ServiceOrder, advisor: User, failing: Callable[[Signal], None]
) -> None:
    failing(events.order_completed)
    with pytest.raises(ReceiverFailed):
        order_complete(order=order, by=advisor)
    stored = fresh(order)
    assert (stored.state, stored.completed_at) == (OrderState.OPEN, None)


def test_a_failing_order_paid_receiver_rolls_the_payment_back(
    order: ServiceOrder, tune_up: ServiceItem, advisor: User, failing: Callable[[Signal], None]
) -> None:
    completed(order, tune_up, advisor, "300")
    failing(events.order_paid)
    with pytest.raises(ReceiverFailed):
        order_pay(order=order, by=advisor, method="cash", amount="300")
    stored = fresh(order)
    assert (stored.state, stored.amount_paid, stored.paid_at) == (OrderState.COMPLETED, Decimal("0.00"), None)
    assert not Payment.objects.exists()
    assert Customer.objects.get(pk=order.customer_id).visit_count == 0


def test_a_failing_order_voided_receiver_leaves_the_order_as_it_was(
    order: ServiceOrder, advisor: User, failing: Callable[[Signal], None]
) -> None:
    failing(events.order_voided)
    with pytest.raises(ReceiverFailed):
        order_void(order=order, by=advisor, reason="取消")
    stored = fresh(order)
    assert (stored.state, stored.void_reason) == (OrderState.OPEN, "")


def test_a_failing_order_adjusted_receiver_rolls_the_adjustment_back(
    order: ServiceOrder, tune_up: ServiceItem, advisor: User, owner: User, failing: Callable[[Signal], None]
) -> None:
    paid(order, tune_up, advisor, "300")
    failing(events.order_adjusted)
    with pytest.raises(ReceiverFailed):
        order_adjust(order=order, by=owner, amount="-100", reason="优惠")
    assert fresh(order).total == Decimal("300.00")
    assert not OrderAdjustment.objects.exists()
    assert Customer.objects.get(pk=order.customer_id).lifetime_spend == Decimal("300.00")
