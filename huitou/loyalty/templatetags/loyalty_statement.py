"""Filters of the statement page: a coupon entry's stored codes in the reader's language."""

from __future__ import annotations

from django import template

from huitou.loyalty.models import Coupon, CouponTrigger

register = template.Library()

COUPON_STATES = dict(Coupon.State.choices)
TRIGGERS = dict(CouponTrigger.choices)


@register.filter
def coupon_state(code: str) -> str:
    """``used`` → 已使用: the state a coupon entry left the coupon in."""
    return str(COUPON_STATES.get(code, code))


@register.filter
def coupon_reason(reason: str) -> str:
    """An issue entry's reason is how the coupon came (``order_paid`` → 消费结账后, ``bulk:<batch>`` → 批量发放);
    other reasons are text."""
    if reason.startswith("bulk:"):
        reason = CouponTrigger.BULK
    return str(TRIGGERS.get(reason, reason))
