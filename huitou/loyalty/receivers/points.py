"""points: earned when an order is paid, follow its total when adjusted, given back with a removed line or a void."""

from __future__ import annotations

from typing import Any

from huitou.loyalty.services.paid import PaidOrder
from huitou.loyalty.services.points import points_earn, points_follow_total, points_give_back
from huitou.service import events
from huitou.service.models import OrderLine, ServiceOrder


def on_order_paid(order: ServiceOrder, by: Any, paid: PaidOrder) -> None:
    points_earn(order=order, by=by, now=order.paid_at, paid=paid)


def on_order_adjusted(sender: Any, order: ServiceOrder, by: Any, adjustment: Any, **kwargs: Any) -> None:
    points_follow_total(order=order, by=by, now=adjustment.at)


def on_line_removed(sender: Any, order: ServiceOrder, line: OrderLine, by: Any, **kwargs: Any) -> None:
    if line.kind == OrderLine.Kind.DISCOUNT:
        points_give_back(order=order, by=by, line_id=line.pk)


def on_order_voided(sender: Any, order: ServiceOrder, by: Any, reason: str, **kwargs: Any) -> None:
    points_give_back(order=order, by=by, now=order.voided_at)


events.order_adjusted.connect(on_order_adjusted, dispatch_uid="loyalty.points_follow_total")
events.order_line_removed.connect(on_line_removed, dispatch_uid="loyalty.points_line_removed")
events.order_voided.connect(on_order_voided, dispatch_uid="loyalty.points_voided")
