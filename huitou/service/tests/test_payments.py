"""Payments: a completed order is paid when its payments add up to the total, never past it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from huitou.audit.models import ChangeEntry
from huitou.service import errors
from huitou.service.errors import StateConflict
from huitou.service.models import OrderState, Payment, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_complete, order_pay, order_start, order_void
from huitou.service.tests.support import completed, conflict, fresh, history, refused
from huitou.tenancy.models import Organization, User


@pytest.fixture
def wash(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(code="XC-01", name="精洗", category="detailing", labour_price="50")


@pytest.fixture
def order(make_order: Callable[..., ServiceOrder]) -> ServiceOrder:
    return make_order()


@pytest.fixture
def due_300(order: ServiceOrder, wash: ServiceItem, advisor: User) -> ServiceOrder:
    """A completed order of 300.00."""
    return completed(order, wash, advisor, "300.00")


def test_several_payments_that_add_up_to_the_total_mark_the_order_paid(due_300: ServiceOrder, service: User) -> None:
    order_pay(order=due_300, by=service, method="wechat", amount="100.50")
    order = fresh(due_300)
    assert (order.state, order.amount_paid, order.amount_due, order.paid_at) == (
        OrderState.COMPLETED,
        Decimal("100.50"),
        Decimal("199.50"),
        None,
    )
    order_pay(order=due_300, by=service, method="cash", amount="199.5")
    order = fresh(due_300)
    assert (order.state, order.amount_paid, order.amount_due) == (OrderState.PAID, Decimal("300.00"), Decimal("0.00"))
    assert order.paid_at is not None and order.paid_at >= order.completed_at
    assert list(order.payments.order_by("pk").values_list("method", "amount")) == [
        ("wechat", Decimal("100.50")),
        ("cash", Decimal("199.50")),
    ]


def test_a_payment_records_who_took_it_and_its_reference(due_300: ServiceOrder, service: User) -> None:
    payment = order_pay(order=due_300, by=service, method="alipay", amount="300", reference="2024060122001")
    payment = Payment.objects.for_org(payment.organization_id).get(pk=payment.pk)
    assert (payment.organization_id, payment.order_id, payment.received_by) == (
        due_300.organization_id,
        due_300.pk,
        service,
    )
    assert (payment.method, payment.amount, payment.reference) == ("alipay", Decimal("300.00"), "2024060122001")
    assert history(due_300)[-2].changes == {"payment": [None, "300.00"], "payment_method": [None, "alipay"]}
    assert history(due_300)[-1].changes == {"state": ["completed", "paid"]}
    assert history(due_300)[-1].actor == service


def test_it_refuses_a_payment_more_than_the_amount_due(due_300: ServiceOrder, service: User) -> None:
    order_pay(order=due_300, by=service, method="cash", amount="200")
    with pytest.raises(StateConflict) as exc:
        order_pay(order=due_300, by=service, method="card", amount="100.01")
    assert conflict(exc) == str(errors.PAYMENT_TOO_MUCH % {"amount": Decimal("100.01"), "due": Decimal("100.00")})
    order = fresh(due_300)
    assert (order.state, order.amount_paid, order.payments.count()) == (OrderState.COMPLETED, Decimal("200.00"), 1)


@pytest.mark.parametrize("state", ["open", "in_progress"])
def test_it_refuses_a_payment_before_the_work_is_completed(
    order: ServiceOrder, wash: ServiceItem, advisor: User, state: str
) -> None:
    from huitou.service.services.orders import order_add_line

    order_add_line(order=order, by=advisor, service=wash)
    if state == "in_progress":
        order_start(order=order, by=advisor)
    with pytest.raises(StateConflict) as exc:
        order_pay(order=order, by=advisor, method="cash", amount="50")
    assert conflict(exc) == str(errors.ORDER_NOT_COMPLETED)
    assert not Payment.objects.for_org(order.organization_id).exists()


def test_it_refuses_a_payment_on_a_void_order(order: ServiceOrder, advisor: User) -> None:
    order_void(order=order, by=advisor, reason="客户取消")
    with pytest.raises(StateConflict) as exc:
        order_pay(order=order, by=advisor, method="cash", amount="1")
    assert conflict(exc) == str(errors.ORDER_VOID)


def test_a_paid_order_has_nothing_left_to_pay(due_300: ServiceOrder, service: User) -> None:
    order_pay(order=due_300, by=service, method="cash", amount="300")
    with pytest.raises(StateConflict) as exc:
        order_pay(order=due_300, by=service, method="cash", amount="0.01")
    assert conflict(exc) == str(errors.PAYMENT_NOTHING_DUE)
    assert fresh(due_300).amount_paid == Decimal("300.00")


def test_a_negative_payment_is_refused_while_money_is_owed(due_300: ServiceOrder, service: User) -> None:
    with pytest.raises(StateConflict) as exc:
        order_pay(order=due_300, by=service, method="cash", amount="-10")
    assert conflict(exc) == str(errors.PAYMENT_WRONG_SIGN % {"due": Decimal("300.00")})


def test_a_zero_payment_is_refused_while_money_is_owed(due_300: ServiceOrder, service: User) -> None:
    with pytest.raises(ValidationError) as exc:
        order_pay(order=due_300, by=service, method="cash", amount="0")
    assert refused(exc, "amount") == [errors.PAYMENT_AMOUNT_INVALID]
    assert not Payment.objects.for_org(service.organization_id).exists()


def test_a_free_order_is_settled_with_a_zero_payment(order: ServiceOrder, wash: ServiceItem, advisor: User) -> None:
    completed(order, wash, advisor, "0")
    order_pay(order=order, by=advisor, method="cash", amount="0")
    assert fresh(order).state == OrderState.PAID


@pytest.mark.parametrize("amount", ["abc", "", None, 100.0, "33.335", "1e30"])
def test_it_refuses_an_amount_that_is_not_yuan_and_fen(due_300: ServiceOrder, service: User, amount: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        order_pay(order=due_300, by=service, method="cash", amount=amount)
    assert refused(exc, "amount") == [errors.PAYMENT_AMOUNT_INVALID]


@pytest.mark.parametrize("method", ["", "bitcoin", None])
def test_it_refuses_an_unknown_payment_method(due_300: ServiceOrder, service: User, method: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        order_pay(order=due_300, by=service, method=method, amount="300")
    assert refused(exc, "method") == [errors.PAYMENT_METHOD_INVALID]
    assert fresh(due_300).state == OrderState.COMPLETED


def test_paying_in_many_small_parts_adds_up_exactly(due_300: ServiceOrder, service: User) -> None:
    for _ in range(29):
        order_pay(order=due_300, by=service, method="cash", amount="10.01")
    order = fresh(due_300)
    assert (order.amount_paid, order.amount_due) == (Decimal("290.29"), Decimal("9.71"))
    order_pay(order=due_300, by=service, method="cash", amount="9.71")
    assert fresh(due_300).state == OrderState.PAID


def test_completing_an_order_writes_no_payment_history(due_300: ServiceOrder, org: Organization) -> None:
    assert not [e for e in history(due_300) if "payment" in e.changes]
    assert order_complete  # the completed fixture went through the service
    assert ChangeEntry.objects.for_org(org).filter(subject_type="payment").count() == 0
