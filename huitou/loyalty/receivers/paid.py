"""A paid order: membership reads it once (``paid_order_read``), then each rule acts on what was read.

One receiver of ``order_paid`` runs the rules in this order: the tier is
settled before points are earned at its multiplier, then the coupon rules,
the package cards sold, and the referral rewards last.
"""

from __future__ import annotations

from typing import Any

from huitou.loyalty.receivers import cards, coupons, points, referrals, tiers
from huitou.loyalty.services.paid import paid_order_read
from huitou.service import events
from huitou.service.models import ServiceOrder


def on_order_paid(sender: Any, order: ServiceOrder, by: Any, **kwargs: Any) -> None:
    paid = paid_order_read(order)
    for rule in (tiers, points, coupons, cards, referrals):
        rule.on_order_paid(order=order, by=by, paid=paid)


events.order_paid.connect(on_order_paid, dispatch_uid="loyalty.order_paid")
