"""Template tags of membership for other apps' pages (the bill prints the member's tier)."""

from __future__ import annotations

from django import template

from huitou.loyalty.models import LoyaltyAccount, Tier

register = template.Library()


@register.simple_tag
def member_tier(customer_id: int, organization_id: int) -> Tier | None:
    """The customer's tier with its free service, or None (1 query)."""
    account = (
        LoyaltyAccount.objects.for_org(organization_id)
        .filter(customer_id=customer_id, tier__isnull=False)
        .select_related("tier__free_service")
        .first()
    )
    return account.tier if account is not None else None
