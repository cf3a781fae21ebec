"""Care reacts to service orders (docs/events.md)."""

from __future__ import annotations

from typing import Any

from huitou.care.services.dues import dues_refresh
from huitou.care.services.tasks import callback_for_order
from huitou.service import events


def on_order_paid(sender: Any, order: Any, by: Any, **kwargs: Any) -> None:
    """A paid order: the callback within 48 hours, and the vehicle's next maintenance from this visit."""
    callback_for_order(order=order, now=order.paid_at, fetch=False)
    dues_refresh(vehicle=order.vehicle_id, organization_id=order.organization_id, now=order.paid_at)


events.order_paid.connect(on_order_paid, dispatch_uid="care.after_paid_order")
