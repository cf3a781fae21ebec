"""What membership writes leave behind, by natural keys: for tests that compare two runs or a before
and an after (``everything``: the domain's rows of ``huitou/api/tests/test_page_api_agreement.py``
and the membership ledgers, without ids or timestamps)."""

from __future__ import annotations

from typing import Any

from huitou.api.tests.test_page_api_agreement import stored
from huitou.loyalty.models import (
    CardProduct,
    Coupon,
    CouponEntry,
    LoyaltyAccount,
    PackageCard,
    PackageCardEntry,
    PointsEntry,
    ReferralReward,
    StoredValueEntry,
)
from huitou.service.models import OrderLine, ServiceOrder
from huitou.tenancy.models import Organization, User


def _name(user: User | None) -> str:
    return user.username if user is not None else ""


def _number(order: ServiceOrder | None) -> str:
    return order.number if order is not None else ""


def ledgers(org: Organization) -> dict[str, list[tuple[Any, ...]]]:
    """The membership rows ``stored`` does not hold, by natural keys (a line by its order and name)."""
    lines = {
        li.pk: (li.order.number, li.kind, li.name) for li in OrderLine.objects.for_org(org).select_related("order")
    }

    def line(line_id: int | None) -> tuple[Any, ...]:
        return () if line_id is None else lines.get(line_id, ("gone",))

    rows: dict[str, list[tuple[Any, ...]]] = {
        "accounts": [
            (a.customer.name, a.number, a.tier.code if a.tier else "", a.points, a.stored_principal, a.stored_bonus)
            + (a.referrer_type, a.tier_review_on, a.member_since is not None, _name(a.joined_by))
            for a in LoyaltyAccount.objects.for_org(org).select_related("customer", "tier", "joined_by")
        ],
        "stored_value": [
            (e.customer.name, e.kind, e.principal, e.bonus, e.principal_after, e.bonus_after, e.method)
            + (e.shop.name if e.shop else "", _number(e.order), e.payment.method if e.payment else "")
            + (e.reverses_id is not None, e.reason, _name(e.by))
            for e in StoredValueEntry.objects.for_org(org).select_related("customer", "shop", "order", "payment", "by")
        ],
        "points": [
            (e.customer.name, e.kind, e.amount, e.balance_after, e.expires_on, _number(e.order), line(e.line_id))
            + (e.reverses.kind if e.reverses else "", e.reason, _name(e.by))
            for e in PointsEntry.objects.for_org(org).select_related("customer", "order", "reverses", "by")
        ],
        "card_products": [
            (p.code, p.name, p.price, p.uses, p.validity_days, p.binding, p.is_active)
            + (p.sale_item.code if p.sale_item else "", tuple(sorted(p.services.values_list("code", flat=True))))
            for p in CardProduct.objects.for_org(org).select_related("sale_item")
        ],
        "cards": [
            (c.name, c.customer.name, c.vehicle.plate if c.vehicle else "", c.uses_total, c.uses_left, c.state)
            + (c.expires_on, _number(c.sold_order))
            for c in PackageCard.objects.for_org(org).select_related("customer", "vehicle", "sold_order")
        ],
        "card_entries": [
            (e.card.name, e.kind, e.amount, e.uses_after, _number(e.order), line(e.line_id))
            + (e.reverses.kind if e.reverses else "", e.reason, _name(e.by))
            for e in PackageCardEntry.objects.for_org(org).select_related("card", "order", "reverses", "by")
        ],
        "coupon_states": [
            (c.customer.name, c.name, c.source, c.state, _number(c.used_order), _number(c.origin_order))
            for c in Coupon.objects.for_org(org).select_related("customer", "used_order", "origin_order")
        ],
        "coupon_entries": [  # a coupon by its name and source: a new one's code is drawn at random
            (e.coupon.name, e.coupon.source, e.kind, e.state_after, e.amount, _number(e.order), line(e.line_id))
            + (e.reason, _name(e.by))
            for e in CouponEntry.objects.for_org(org).select_related("coupon", "order", "by")
        ],
        "line_details": [
            (li.order.number, li.kind, li.name, li.note, li.amount, li.applies_to.name if li.applies_to else "")
            for li in OrderLine.objects.for_org(org).select_related("order", "applies_to")
        ],
        "referral_rewards": [
            (r.policy.code, r.referrer.name, r.referee.name, r.order.number, r.state)
            for r in ReferralReward.objects.for_org(org).select_related("policy", "referrer", "referee", "order")
        ],
    }
    return {table: sorted(found, key=repr) for table, found in rows.items()}


def everything(org: Organization) -> dict[str, list[tuple[Any, ...]]]:
    return {**stored(org), **ledgers(org)}
