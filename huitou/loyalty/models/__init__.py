"""Membership and rewards (会员): tiers, points, stored value, package cards, coupons, referrals.

Every balance is a ledger (DESIGN.md "Money, points and balances"): entries are
append-only, a correction is a reversing entry, and the balance is cached on
the account row (``LoyaltyAccount`` for points and stored value,
``PackageCard`` for uses, ``Coupon`` for its state), changed in the same
transaction as the entry under ``select_for_update`` of that row.
"""

from huitou.loyalty.models.accounts import LoyaltyAccount, ReferrerType
from huitou.loyalty.models.cards import CardBinding, CardProduct, PackageCard, PackageCardEntry
from huitou.loyalty.models.coupons import Coupon, CouponEntry, CouponKind, CouponRule, CouponTemplate, CouponTrigger
from huitou.loyalty.models.points import PointsCategoryRate, PointsEntry
from huitou.loyalty.models.program import LoyaltyProgram
from huitou.loyalty.models.referrals import ReferralPolicy, ReferralReward
from huitou.loyalty.models.stored_value import StoredValueEntry, TopUpRule
from huitou.loyalty.models.tiers import Tier, TierChange, TierEntryRule

__all__ = [
    "CardBinding",
    "CardProduct",
    "Coupon",
    "CouponEntry",
    "CouponKind",
    "CouponRule",
    "CouponTemplate",
    "CouponTrigger",
    "LoyaltyAccount",
    "LoyaltyProgram",
    "PackageCard",
    "PackageCardEntry",
    "PointsCategoryRate",
    "PointsEntry",
    "ReferralPolicy",
    "ReferralReward",
    "ReferrerType",
    "StoredValueEntry",
    "Tier",
    "TierChange",
    "TierEntryRule",
    "TopUpRule",
]
