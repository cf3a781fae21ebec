"""tiers: the member discount on each new line; the tier bought or reached when an order is paid (``paid``)."""

from __future__ import annotations

from typing import Any

from huitou.loyalty.services.paid import PaidOrder
from huitou.loyalty.services.tiers import member_discount_for_line, tier_on_order_paid
from huitou.service import events
from huitou.service.models import OrderLine, ServiceOrder


def on_line_added(sender: Any, order: ServiceOrder, line: OrderLine, by: Any, **kwargs: Any) -> None:
    member_discount_for_line(order=order, line=line, by=by, now=kwargs.get("now"))


def on_order_paid(order: ServiceOrder, by: Any, paid: PaidOrder) -> None:
    tier_on_order_paid(order=order, by=by, paid=paid)


events.order_line_added.connect(on_line_added, dispatch_uid="loyalty.member_discount")
