"""Two customer files merged: the other's membership balances move to the kept file's account.

Each balance moves by a pair of entries ("merged into" on the other's account,
"merged from" on the kept one's), so both ledgers still sum to their cached
balances; the kept file keeps the higher tier and the earlier member date.
The other file's ledger entries, cards and coupons move with its other rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from huitou.customers import events as customer_events
from huitou.customers.models import Customer
from huitou.loyalty.models import LoyaltyAccount, PointsEntry, StoredValueEntry
from huitou.loyalty.services.accounts import account_locked


def on_customers_merging(sender: Any, keep: Customer, other: Customer, by: Any, **kwargs: Any) -> None:
    org = keep.organization_id
    if not LoyaltyAccount.objects.for_org(org).filter(customer_id=other.pk).exists():
        return
    # Lock in customer order, as the merge locks the files.
    first, second = sorted((keep, other), key=lambda c: c.pk)
    accounts = {first.pk: account_locked(first), second.pk: account_locked(second)}
    kept, gone = accounts[keep.pk], accounts[other.pk]
    now = timezone.now()
    into = f"合并到 {keep.name}（#{keep.pk}）"
    merged_from = f"合并自 {other.name}（#{other.pk}）"
    if gone.points:
        moved = gone.points
        gone.points, kept.points = 0, kept.points + moved
        for account, amount, reason in ((gone, -moved, into), (kept, moved, merged_from)):
            PointsEntry.objects.create(
                organization_id=org,
                customer_id=account.customer_id,
                kind=PointsEntry.Kind.ADJUST,
                amount=amount,
                balance_after=account.points,
                reason=reason,
                by=by,
                at=now,
            )
    if gone.stored_principal or gone.stored_bonus:
        principal, bonus = gone.stored_principal, gone.stored_bonus
        gone.stored_principal, gone.stored_bonus = Decimal("0.00"), Decimal("0.00")
        kept.stored_principal += principal
        kept.stored_bonus += bonus
        for account, sign, reason in ((gone, -1, into), (kept, 1, merged_from)):
            StoredValueEntry.objects.create(
                organization_id=org,
                customer_id=account.customer_id,
                kind=StoredValueEntry.Kind.ADJUST,
                principal=sign * principal,
                bonus=sign * bonus,
                principal_after=account.stored_principal,
                bonus_after=account.stored_bonus,
                reason=reason,
                by=by,
                at=now,
            )
    if gone.tier_id and (kept.tier is None or (gone.tier is not None and gone.tier.rank > kept.tier.rank)):
        kept.tier_id, kept.tier_since, kept.tier_review_on = gone.tier_id, gone.tier_since, gone.tier_review_on
    if gone.member_since and (kept.member_since is None or gone.member_since < kept.member_since):
        kept.member_since = gone.member_since
    kept.number = kept.number or gone.number
    kept.referrer_type = kept.referrer_type or gone.referrer_type
    kept.save()
    gone.save()


customer_events.customers_merging.connect(on_customers_merging, dispatch_uid="loyalty.fold_merged_account")
