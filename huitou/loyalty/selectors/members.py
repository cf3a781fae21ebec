"""Reads of membership: the member panel of a customer's file, the members list, the tiers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.lib.statements import cached_rows
from huitou.loyalty.models import LoyaltyAccount, ReferrerType, Tier, TierChange, TierEntryRule
from huitou.loyalty.selectors.accounts import account_for
from huitou.loyalty.selectors.referrals import referrals_for_customer
from huitou.loyalty.selectors.rewards import coupons_for_customer
from huitou.loyalty.selectors.wallet import cards_for_customer
from huitou.loyalty.services.tiers import rolling_measures, tier_reached
from huitou.tenancy.models import Organization

ZERO = Decimal("0.00")
RECENT_CHANGES = 5


def tiers_for(organization: Organization | int, *, active_only: bool = False) -> list[Tier]:
    """The organization's tiers by rank (1 query, their free service joined; a kept statement:
    ``huitou.lib.statements``)."""
    org_id = organization if isinstance(organization, int) else organization.pk

    def build(values: Sequence[Any]) -> QuerySet[Tier]:
        rows = Tier.objects.for_org(values[0]).select_related("free_service").order_by("rank", "pk")
        return rows.filter(is_active=True) if active_only else rows

    return cached_rows(("loyalty.tiers_for", active_only), [org_id], build)


def _next_tier(tiers: list[Tier], current: Tier | None, spend: Decimal, visits: int) -> dict[str, Any] | None:
    """The next tier a member can reach by spending or visiting, and what is missing."""
    rank = current.rank if current is not None else -1
    for tier in tiers:
        if not tier.is_active or tier.rank <= rank or tier.entry_rule == TierEntryRule.PURCHASE:
            continue
        if tier_reached(tier, spend=spend, visits=visits):
            continue
        if tier.entry_rule == TierEntryRule.SPEND:
            return {"tier": tier, "spend_missing": tier.entry_threshold - spend, "visits_missing": None}
        return {"tier": tier, "spend_missing": None, "visits_missing": int(tier.entry_threshold) - visits}
    return None


def member_panel(customer: Customer, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the member panel of the file shows, as plain data.

    Queries (pinned in tests/test_member_pages.py): 1 the account with its tier,
    1 the tiers, 1 the last tier changes, 1 the 12 months' spend and visits,
    1 the package cards, 1 the coupons, 2 the referral graph (referees, rewards;
    the account is passed on). A customer with no account: the account query
    and the tiers only, plus the cards, coupons and referrals (always shown).
    """
    now = now or timezone.now()
    org_id = customer.organization_id
    account = account_for(customer)
    tiers = tiers_for(org_id)
    tier = account.tier if account is not None else None
    data: dict[str, Any] = {
        "customer_id": customer.pk,
        "is_member": tier is not None,
        "tier": tier,
        "number": account.number if account is not None else "",
        "member_since": account.member_since if account is not None else None,
        "tier_since": account.tier_since if account is not None else None,
        "tier_review_on": account.tier_review_on if account is not None else None,
        "points": account.points if account is not None else 0,
        "stored": {
            "principal": account.stored_principal if account is not None else ZERO,
            "bonus": account.stored_bonus if account is not None else ZERO,
            "balance": account.stored_balance if account is not None else ZERO,
        },
        "tiers": [t for t in tiers if t.is_active],
        "changes": [],
        "spend_12m": ZERO,
        "visits_12m": 0,
        "next_tier": None,
        "referrer_types": ReferrerType.choices,
    }
    if tier is not None:
        data["changes"] = list(
            TierChange.objects.for_org(org_id)
            .filter(customer_id=customer.pk)
            .select_related("from_tier", "to_tier", "by")
            .order_by("-at", "-pk")[:RECENT_CHANGES]
        )
        spend, visits = rolling_measures(customer_id=customer.pk, organization_id=org_id, end=now)
        data.update(spend_12m=spend, visits_12m=visits, next_tier=_next_tier(tiers, tier, spend, visits))
    data["cards"] = cards_for_customer(customer)
    data["coupons"] = coupons_for_customer(customer, today=timezone.localdate(now))
    data["referrals"] = referrals_for_customer(customer, account=account or LoyaltyAccount(customer=customer))
    return data


def membership_summary(customer: Customer) -> dict[str, Any]:
    """The API's ``GET /customers/{id}/membership``: tier, points, stored value, cards, coupons.

    Queries: 1 the account with its tier, 1 the cards, 1 the coupons.
    """
    account = account_for(customer)
    tier = account.tier if account is not None else None
    principal = account.stored_principal if account is not None else ZERO
    bonus = account.stored_bonus if account is not None else ZERO
    return {
        "tier": {"code": tier.code, "name": tier.name} if tier is not None else None,
        "points": account.points if account is not None else 0,
        "stored_value": {"principal": principal, "bonus": bonus, "balance": principal + bonus},
        "package_cards": cards_for_customer(customer),
        "coupons": coupons_for_customer(customer),
    }


def members(*, organization: Organization | int, tier: Tier | None = None) -> QuerySet[LoyaltyAccount]:
    """Members (accounts with a tier), newest first, with their customer and tier (for a paginated list)."""
    rows = (
        LoyaltyAccount.objects.for_org(organization)
        .filter(tier__isnull=False, customer__deleted_at__isnull=True)
        .select_related("tier", "customer")
        .order_by("-member_since", "-pk")
    )
    if tier is not None:
        rows = rows.filter(tier=tier)
    return rows


def members_by_tier(*, organization: Organization | int) -> list[dict[str, Any]]:
    """Each tier with its number of members (1 query for the tiers, 1 for the counts)."""
    tiers = tiers_for(organization)
    counts = dict(
        LoyaltyAccount.objects.for_org(organization)
        .filter(tier__isnull=False, customer__deleted_at__isnull=True)
        .values_list("tier_id")
        .annotate(n=Count("id", filter=Q(tier__isnull=False)))
        .order_by()
    )
    return [{"tier": t, "count": counts.get(t.pk, 0)} for t in tiers]
