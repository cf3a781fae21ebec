"""Adjustments: a paid order is never edited; its total changes by an entry with a reason."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from huitou.service import errors
from huitou.service.errors import StateConflict
from huitou.service.models import OrderAdjustment, OrderState, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_adjust, order_pay
from huitou.service.tests.support import completed, conflict, fresh, history, paid, refused
from huitou.tenancy.models import User


@pytest.fixture
def repair(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(code="WX-01", name="更换刹车片", category="repair", labour_price="500")


@pytest.fixture
def paid_500(make_order: Callable[..., ServiceOrder], repair: ServiceItem, advisor: User) -> ServiceOrder:
    return paid(make_order(), repair, advisor, "500.00")


def test_a_downward_adjustment_lowers_the_total_and_leaves_a_refund_due(paid_500: ServiceOrder, owner: User) -> None:
    adjustment = order_adjust(order=paid_500, by=owner, amount="-120.50", reason=" 刹车片换成副厂件 ")
    adjustment = OrderAdjustment.objects.for_org(adjustment.organization_id).get(pk=adjustment.pk)
    assert (adjustment.amount, adjustment.reason, adjustment.author) == (Decimal("-120.50"), "刹车片换成副厂件", owner)
    order = fresh(paid_500)
    assert (order.lines_total, order.adjustments_total, order.total) == (
        Decimal("500.00"),
        Decimal("-120.50"),
        Decimal("379.50"),
    )
    assert (order.amount_paid, order.amount_due, order.state) == (
        Decimal("500.00"),
        Decimal("-120.50"),
        OrderState.PAID,
    )
    assert order.lines.get().amount == Decimal("500.00")


def test_a_refund_is_a_negative_payment_that_brings_the_amount_due_to_zero(paid_500: ServiceOrder, owner: User) -> None:
    order_adjust(order=paid_500, by=owner, amount="-120.50", reason="优惠")
    order_pay(order=paid_500, by=owner, method="wechat", amount="-100")
    order_pay(order=paid_500, by=owner, method="wechat", amount="-20.50")
    order = fresh(paid_500)
    assert (order.amount_paid, order.amount_due, order.state) == (Decimal("379.50"), Decimal("0.00"), OrderState.PAID)


def test_a_refund_cannot_go_past_what_is_owed_back(paid_500: ServiceOrder, owner: User) -> None:
    order_adjust(order=paid_500, by=owner, amount="-100", reason="优惠")
    with pytest.raises(StateConflict) as exc:
        order_pay(order=paid_500, by=owner, method="cash", amount="-100.01")
    assert conflict(exc) == str(errors.PAYMENT_TOO_MUCH % {"amount": Decimal("-100.01"), "due": Decimal("-100.00")})
    assert fresh(paid_500).amount_paid == Decimal("500.00")


def test_a_positive_payment_is_refused_while_a_refund_is_owed(paid_500: ServiceOrder, owner: User) -> None:
    order_adjust(order=paid_500, by=owner, amount="-100", reason="优惠")
    with pytest.raises(StateConflict) as exc:
        order_pay(order=paid_500, by=owner, method="cash", amount="50")
    assert conflict(exc) == str(errors.PAYMENT_WRONG_SIGN % {"due": Decimal("-100.00")})


def test_an_upward_adjustment_is_paid_like_any_amount_due(paid_500: ServiceOrder, owner: User) -> None:
    order_adjust(order=paid_500, by=owner, amount="80", reason="漏收机油滤芯")
    order = fresh(paid_500)
    assert (order.total, order.amount_due, order.state) == (Decimal("580.00"), Decimal("80.00"), OrderState.PAID)
    order_pay(order=paid_500, by=owner, method="cash", amount="80")
    order = fresh(paid_500)
    assert (order.amount_paid, order.amount_due, order.state) == (Decimal("580.00"), Decimal("0.00"), OrderState.PAID)


def test_the_total_is_always_the_lines_plus_the_adjustments(paid_500: ServiceOrder, owner: User) -> None:
    for amount in ("-0.01", "33.33", "-100", "0.68"):
        order_adjust(order=paid_500, by=owner, amount=amount, reason="调整")
    order = fresh(paid_500)
    assert order.adjustments_total == Decimal("-66.00")
    assert order.total == order.lines_total + order.adjustments_total == Decimal("434.00")


def test_the_total_can_go_down_to_zero_but_not_below(paid_500: ServiceOrder, owner: User) -> None:
    order_adjust(order=paid_500, by=owner, amount="-400", reason="质量问题")
    with pytest.raises(ValidationError) as exc:
        order_adjust(order=paid_500, by=owner, amount="-100.01", reason="再减")
    assert refused(exc, "amount") == [errors.ADJUSTMENT_BELOW_ZERO]
    assert fresh(paid_500).total == Decimal("100.00")
    order_adjust(order=paid_500, by=owner, amount="-100", reason="全免")
    assert fresh(paid_500).total == Decimal("0.00")


@pytest.mark.parametrize("state", ["open", "completed", "void"])
def test_only_a_paid_order_takes_adjustments(
    make_order: Callable[..., ServiceOrder], repair: ServiceItem, advisor: User, state: str
) -> None:
    from huitou.service.services.orders import order_void

    order = make_order()
    if state == "completed":
        completed(order, repair, advisor, "500")
    elif state == "void":
        order_void(order=order, by=advisor, reason="取消")
    with pytest.raises(StateConflict) as exc:
        order_adjust(order=order, by=advisor, amount="-10", reason="优惠")
    assert conflict(exc) == str(errors.ORDER_NOT_PAID)
    assert not OrderAdjustment.objects.for_org(advisor.organization_id).exists()


@pytest.mark.parametrize("reason", ["", "  ", None])
def test_an_adjustment_needs_a_reason(paid_500: ServiceOrder, owner: User, reason: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        order_adjust(order=paid_500, by=owner, amount="-10", reason=reason)
    assert refused(exc, "reason") == [errors.ADJUSTMENT_REASON_REQUIRED]
    assert not OrderAdjustment.objects.for_org(owner.organization_id).exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", errors.ADJUSTMENT_ZERO), ("0.00", errors.ADJUSTMENT_ZERO), ("abc", errors.PAYMENT_AMOUNT_INVALID)],
)
def test_an_adjustment_needs_an_amount_other_than_zero(
    paid_500: ServiceOrder, owner: User, amount: str, message: Any
) -> None:
    with pytest.raises(ValidationError) as exc:
        order_adjust(order=paid_500, by=owner, amount=amount, reason="调整")
    assert refused(exc, "amount") == [message]


@pytest.mark.parametrize("amount", ["1.005", 10.5, "-1e20"])
def test_an_adjustment_is_yuan_and_fen(paid_500: ServiceOrder, owner: User, amount: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        order_adjust(order=paid_500, by=owner, amount=amount, reason="调整")
    assert refused(exc, "amount") == [errors.PAYMENT_AMOUNT_INVALID]


def test_an_adjustment_and_its_refund_are_in_the_orders_history(paid_500: ServiceOrder, owner: User) -> None:
    order_adjust(order=paid_500, by=owner, amount="-50", reason="老客户优惠")
    order_pay(order=paid_500, by=owner, method="cash", amount="-50")
    adjustment, refund = history(paid_500)[-2:]
    assert (adjustment.actor, adjustment.note, adjustment.changes) == (
        owner,
        "老客户优惠",
        {"total": ["500.00", "450.00"]},
    )
    assert adjustment.customer_id == paid_500.customer_id
    assert (refund.actor, refund.changes) == (owner, {"payment": [None, "-50.00"], "payment_method": [None, "cash"]})


def test_a_completed_order_can_still_change_its_lines_instead(
    make_order: Callable[..., ServiceOrder], repair: ServiceItem, advisor: User
) -> None:
    order = completed(make_order(), repair, advisor, "500")
    with pytest.raises(StateConflict):
        order_adjust(order=order, by=advisor, amount="-10", reason="优惠")
    assert fresh(order).total == Decimal("500.00")
