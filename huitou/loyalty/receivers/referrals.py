"""referrals: rewards when a referred customer's first order is paid, reversed when it is refunded to 0."""

from __future__ import annotations

from typing import Any

from huitou.loyalty.services.paid import PaidOrder
from huitou.loyalty.services.referrals import referral_rewards_grant, referral_rewards_reverse
from huitou.service import events
from huitou.service.models import ServiceOrder


def on_order_paid(order: ServiceOrder, by: Any, paid: PaidOrder) -> None:
    referral_rewards_grant(order=order, by=by, now=order.paid_at, referee=paid.customer)


def on_order_adjusted(sender: Any, order: ServiceOrder, by: Any, adjustment: Any, **kwargs: Any) -> None:
    referral_rewards_reverse(order=order, by=by, now=adjustment.at)


events.order_adjusted.connect(on_order_adjusted, dispatch_uid="loyalty.referral_rewards_reversed")
