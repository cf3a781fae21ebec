"""cards: issued when their sale is paid; a use given back when its line goes or the open order is voided."""

from __future__ import annotations

from typing import Any

from huitou.loyalty.services.cards import (
    card_uses_return_for_line,
    card_uses_return_for_order,
    cards_issue_for_order,
    cards_revoke_for_order,
)
from huitou.loyalty.services.paid import PaidOrder
from huitou.service import events
from huitou.service.models import OrderLine, ServiceOrder


def on_order_paid(order: ServiceOrder, by: Any, paid: PaidOrder) -> None:
    if any(line.sells_card for line in paid.lines):  # nothing to read or write for most orders
        cards_issue_for_order(order=order, by=by)


def on_line_removed(sender: Any, order: ServiceOrder, line: OrderLine, by: Any, **kwargs: Any) -> None:
    card_uses_return_for_line(order=order, line=line, by=by)


def on_order_voided(sender: Any, order: ServiceOrder, by: Any, reason: str = "", **kwargs: Any) -> None:
    card_uses_return_for_order(order=order, by=by, reason=reason)


def on_order_adjusted(sender: Any, order: ServiceOrder, by: Any, adjustment: Any, **kwargs: Any) -> None:
    cards_revoke_for_order(order=order, by=by, now=adjustment.at)


events.order_line_removed.connect(on_line_removed, dispatch_uid="loyalty.card_use_returned")
events.order_voided.connect(on_order_voided, dispatch_uid="loyalty.card_uses_returned")
events.order_adjusted.connect(on_order_adjusted, dispatch_uid="loyalty.cards_revoked")
