"""stored value: a payment with ``method: "stored_value"`` (or a refund to the card) moves the ledger."""

from __future__ import annotations

from typing import Any

from huitou.loyalty.services.stored_value import stored_value_on_payment
from huitou.service import events
from huitou.service.models import Payment, ServiceOrder


def on_payment_taken(sender: Any, order: ServiceOrder, payment: Payment, by: Any, **kwargs: Any) -> None:
    stored_value_on_payment(order=order, payment=payment, by=by)


events.payment_taken.connect(on_payment_taken, dispatch_uid="loyalty.stored_value_payment")
