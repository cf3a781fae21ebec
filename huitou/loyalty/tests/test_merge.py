"""Merging two files of one person folds the other's membership balances into the kept file's account."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db.models import Sum

from huitou.customers.models import Customer
from huitou.lifecycle.services.merge import customer_merge
from huitou.loyalty.models import LoyaltyAccount, PointsEntry, StoredValueEntry, Tier
from huitou.loyalty.services.stored_value import stored_value_top_up
from huitou.loyalty.services.tiers import membership_set_tier
from huitou.loyalty.starter import loyalty_seed
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db


def account(customer: Customer) -> LoyaltyAccount:
    return LoyaltyAccount.objects.for_org(customer.organization_id).get(customer_id=customer.pk)


def test_balances_tier_and_ledgers_move_to_the_kept_file(
    org: Organization, owner: User, make_customer: Callable[..., Customer]
) -> None:
    loyalty_seed(organization=org)
    keep, other = make_customer(name="王先生"), make_customer(name="王先生（重复）")
    gold = Tier.objects.for_org(org).get(code="gold")
    membership_set_tier(customer=other, tier=gold, by=owner)
    stored_value_top_up(customer=keep, amount="1000", method="cash", by=owner)  # 1,000 + 100 bonus
    stored_value_top_up(customer=other, amount="3000", method="wechat", by=owner)  # 3,000 + 400 bonus

    customer_merge(keep=keep, other=other, by=owner)

    kept, gone = account(keep), account(other)
    assert (kept.stored_principal, kept.stored_bonus) == (Decimal("4000.00"), Decimal("500.00"))
    assert (gone.stored_principal, gone.stored_bonus, gone.points) == (Decimal("0.00"), Decimal("0.00"), 0)
    assert kept.tier_id == gold.pk and kept.member_since is not None
    # Every ledger still sums to its cached balance.
    for acct in (kept, gone):
        sums = (
            StoredValueEntry.objects.for_org(org)
            .filter(customer_id=acct.customer_id)
            .aggregate(p=Sum("principal"), b=Sum("bonus"))
        )
        assert (sums["p"] or 0, sums["b"] or 0) == (acct.stored_principal, acct.stored_bonus)
        points = PointsEntry.objects.for_org(org).filter(customer_id=acct.customer_id).aggregate(s=Sum("amount"))
        assert (points["s"] or 0) == acct.points
