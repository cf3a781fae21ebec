"""coupons: issued by the paid-order rules, given back with a removed line or a void, revoked by a full refund."""

from __future__ import annotations

from typing import Any

from huitou.loyalty import tasks_rewards  # noqa: F401 - registers the coupon and points jobs with huey
from huitou.loyalty.models import CouponTrigger
from huitou.loyalty.services.coupons import coupons_give_back, coupons_on_trigger, coupons_revoke_for_refund
from huitou.loyalty.services.paid import PaidOrder
from huitou.service import events
from huitou.service.models import OrderLine, ServiceOrder


def on_order_paid(order: ServiceOrder, by: Any, paid: PaidOrder) -> None:
    coupons_on_trigger(customer=paid.customer, trigger=CouponTrigger.ORDER_PAID, by=by, order=order, now=order.paid_at)


def on_order_adjusted(sender: Any, order: ServiceOrder, by: Any, adjustment: Any, **kwargs: Any) -> None:
    coupons_revoke_for_refund(order=order, by=by, now=adjustment.at)


def on_line_removed(sender: Any, order: ServiceOrder, line: OrderLine, by: Any, **kwargs: Any) -> None:
    if line.kind == OrderLine.Kind.DISCOUNT:
        coupons_give_back(order=order, by=by, line_id=line.pk)


def on_order_voided(sender: Any, order: ServiceOrder, by: Any, reason: str, **kwargs: Any) -> None:
    coupons_give_back(order=order, by=by, now=order.voided_at)


events.order_adjusted.connect(on_order_adjusted, dispatch_uid="loyalty.coupons_revoked_by_refund")
events.order_line_removed.connect(on_line_removed, dispatch_uid="loyalty.coupons_line_removed")
events.order_voided.connect(on_order_voided, dispatch_uid="loyalty.coupons_voided")
