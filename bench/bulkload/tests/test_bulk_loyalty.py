"""The benchmarks' bulk membership: ledgers that sum to the cached balances, rewards as the service computes them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from itertools import accumulate
from typing import Any

import pytest
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from bulkload.build import bulk_build
from bulkload.loyalty_rows import bulk_loyalty
from huitou.customers.models import Customer
from huitou.lib.money import round_fen
from huitou.loyalty.models import (
    Coupon,
    CouponEntry,
    LoyaltyAccount,
    PackageCard,
    PackageCardEntry,
    PointsEntry,
    ReferralPolicy,
    ReferralReward,
    StoredValueEntry,
    TierChange,
)
from huitou.loyalty.services.tiers import member_number, tiers_review
from huitou.service.models import OrderState, ServiceOrder

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the membership bulk load is PostgreSQL's")


def test_the_bulk_membership_ledgers_sum_to_the_accounts_and_rewards_follow_the_policy(db: Any) -> None:
    org = bulk_build(customers=150, seed=11, orders_per_customer=3, user_prefix="bl_", org_name="批量会员").organization
    stats = bulk_loyalty(organization=org)
    loaded = timezone.now()

    accounts = {a.customer_id: a for a in LoyaltyAccount.objects.for_org(org)}
    assert len(accounts) == Customer.objects.for_org(org).active().count() == stats.accounts
    numbers = sorted(a.number for a in accounts.values())
    assert numbers == [member_number(n) for n in range(1, len(accounts) + 1)]

    points: dict[int, list[PointsEntry]] = defaultdict(list)
    for e in PointsEntry.objects.for_org(org).order_by("customer_id", "at", "line_id"):
        points[e.customer_id].append(e)
    stored: dict[int, list[StoredValueEntry]] = defaultdict(list)
    for s in StoredValueEntry.objects.for_org(org).order_by("customer_id", "at", "id"):
        stored[s.customer_id].append(s)
    assert points and stored
    for customer_id, account in accounts.items():
        earned = points.get(customer_id, [])
        assert account.points == sum(e.amount for e in earned) == (earned[-1].balance_after if earned else 0)
        moves = stored.get(customer_id, [])
        principal, bonus = sum((m.principal for m in moves), Decimal(0)), sum((m.bonus for m in moves), Decimal(0))
        assert (account.stored_principal, account.stored_bonus) == (principal, bonus)
        running_p = running_b = Decimal(0)
        for m in moves:  # every balance_after is the sum so far, never below zero
            running_p, running_b = running_p + m.principal, running_b + m.bonus
            assert (m.principal_after, m.bonus_after) == (running_p, running_b)
            assert m.principal_after >= 0 and m.bonus_after >= 0

    # Each converted referee earned its referrer the policy's share of its first paid bill, as the service rounds it.
    policy = ReferralPolicy.objects.for_org(org).get(kind=ReferralPolicy.Kind.FIRST_BILL_PERCENT, is_active=True)
    first = dict(
        ServiceOrder.objects.for_org(org)
        .filter(state=OrderState.PAID)
        .values("customer_id")
        .annotate(first=Min("paid_at"))
        .values_list("customer_id", "first")
    )
    rewards = list(ReferralReward.objects.for_org(org).select_related("order", "referee", "stored_value_entry"))
    assert rewards
    for reward in rewards:
        assert reward.referee.referrer_id == reward.referrer_id
        assert reward.order.customer_id == reward.referee_id and reward.order.paid_at == first[reward.referee_id]
        assert reward.amount == round_fen(reward.order.total * policy.percent / 100)
        entry = reward.stored_value_entry
        assert entry is not None
        assert (entry.kind, entry.customer_id, entry.bonus) == ("reward", reward.referrer_id, reward.amount)
    referred = Customer.objects.for_org(org).active().filter(referrer__isnull=False, visit_count__gt=0)
    assert {r.referee_id for r in rewards} <= set(referred.values_list("pk", flat=True))

    # Coupons and cards: each state is its ledger's last word, expired by the nightly jobs the night after.
    coupons = list(Coupon.objects.for_org(org))
    assert {c.state for c in coupons} >= {"used", "issued", "expired"}
    for coupon in coupons:
        last = CouponEntry.objects.for_org(org).filter(coupon=coupon).order_by("-at", "-pk").first()
        assert last is not None and last.state_after == coupon.state
        if coupon.state == "expired":
            assert (last.kind, last.reason) == ("expire", str(coupon.expires_on))
            at = timezone.localtime(last.at)
            assert (at.date(), at.time()) == (coupon.expires_on + dt.timedelta(days=1), dt.time(0, 20))
    cards = list(PackageCard.objects.for_org(org))
    assert cards and {c.state for c in cards} >= {"active", "expired"}
    for card in cards:
        entries = list(PackageCardEntry.objects.for_org(org).filter(card=card).order_by("at", "pk"))
        assert card.uses_left == sum(e.amount for e in entries) == entries[-1].uses_after
        assert [e.uses_after for e in entries] == list(accumulate(e.amount for e in entries))
        if card.state == "expired":
            assert card.uses_left == 0 and entries[-1].kind == "expire"
    # Nothing happens after the load's moment.
    for model in (PointsEntry, StoredValueEntry, CouponEntry, PackageCardEntry, TierChange):
        assert not model.objects.for_org(org).filter(at__gt=loaded).exists(), model
    # Every member joined once, at member_since, as membership_set_tier records it.
    joined = {c.customer_id: c for c in TierChange.objects.for_org(org)}
    members = [a for a in accounts.values() if a.tier_id is not None]
    assert members and len(joined) == len(members) == stats.rows["loyalty_tierchange"]
    for account in members:
        change = joined[account.customer_id]
        assert (change.reason, change.from_tier_id, change.to_tier_id) == ("joined", None, account.tier_id)
        assert change.at == account.member_since
    assert sum(stats.rows.values()) - stats.accounts > 0

    # The nightly review runs on it.
    assert tiers_review(organization=org)["reviewed"] >= 0
