"""What membership keeps about a person, for the copy and for erasure (docs/privacy.md).

The copy holds the membership account, the tier changes, the four ledgers
(points, stored value, package cards and their uses, coupons and their
entries) and the referral rewards the person earned or brought. Erasure keeps
every amount, balance, state and moment (the business's figures: the cached
balances stay the sums of their ledgers) and drops what is personal text: why
the person refers others, the notes of tier changes, and what was typed by
hand on ledger entries (a correction's reason); the other reasons (order
numbers, dates, a payment's reference) lose the person's identifiers. The
member number stays, like an order number: the shop's own key, naming no one
once the file is erased.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huitou.loyalty.models import (
    Coupon,
    CouponEntry,
    LoyaltyAccount,
    PackageCard,
    PackageCardEntry,
    PointsEntry,
    ReferralReward,
    StoredValueEntry,
    TierChange,
)
from huitou.privacy.kinds import scrub_rows
from huitou.privacy.registry import Person, PersonalDataKind, register, rows_of


def _of(model: Any, person: Person) -> Any:
    return model.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)


# --- the account and its tier ------------------------------------------------------------------

ACCOUNT_FIELDS = (
    *("customer_id", "number", "tier__name", "member_since", "tier_since", "tier_review_on", "points"),
    *("stored_principal", "stored_bonus", "referrer_type", "joined_by__username"),
)


def collect_membership(person: Person) -> list[dict[str, Any]]:
    return rows_of(_of(LoyaltyAccount, person).order_by("pk"), ACCOUNT_FIELDS)


def erase_membership(person: Person) -> None:
    """The account keeps its number, tier and balances; why the person brings others goes."""
    _of(LoyaltyAccount, person).update(referrer_type="")
    _of(TierChange, person).update(note="")


def collect_tier_changes(person: Person) -> list[dict[str, Any]]:
    fields = ("customer_id", "from_tier__name", "to_tier__name", "reason", "note", "at")
    return rows_of(_of(TierChange, person).order_by("at", "pk"), fields)


register(PersonalDataKind("membership", _("Membership"), collect_membership, erase_membership, order=60))
register(PersonalDataKind("tier_changes", _("Tier changes"), collect_tier_changes, order=61))


# --- the ledgers -------------------------------------------------------------------------------


def collect_points(person: Person) -> list[dict[str, Any]]:
    fields = ("customer_id", "kind", "amount", "balance_after", "expires_on", "order__number", "reason", "at")
    return rows_of(_of(PointsEntry, person).order_by("at", "pk"), fields)


def collect_stored_value(person: Person) -> list[dict[str, Any]]:
    fields = (
        *("customer_id", "kind", "principal", "bonus", "principal_after", "bonus_after", "method"),
        *("shop__name", "order__number", "reason", "at"),
    )
    return rows_of(_of(StoredValueEntry, person).order_by("at", "pk"), fields)


def collect_package_cards(person: Person) -> list[dict[str, Any]]:
    fields = (
        *("id", "customer_id", "vehicle_id", "product__code", "name", "uses_total", "uses_left", "state"),
        *("sold_order__number", "sold_at", "expires_on"),
    )
    return rows_of(_of(PackageCard, person).order_by("sold_at", "pk"), fields)


def collect_package_card_entries(person: Person) -> list[dict[str, Any]]:
    fields = ("card_id", "kind", "amount", "uses_after", "order__number", "reason", "at")
    return rows_of(_of(PackageCardEntry, person).order_by("at", "pk"), fields)


def collect_coupons(person: Person) -> list[dict[str, Any]]:
    fields = (
        *("id", "customer_id", "name", "code", "state", "source", "issued_at", "expires_on"),
        *("origin_order__number", "used_order__number"),
    )
    return rows_of(_of(Coupon, person).order_by("issued_at", "pk"), fields)


def collect_coupon_entries(person: Person) -> list[dict[str, Any]]:
    fields = ("coupon_id", "kind", "state_after", "amount", "order__number", "reason", "at")
    return rows_of(_of(CouponEntry, person).order_by("at", "pk"), fields)


def _scrub_reasons(model: Any, person: Person) -> None:
    scrub_rows(_of(model, person), ("reason",), person)


def erase_points(person: Person) -> None:
    """Entries keep their amounts, balances and moments (the cached balance stays their sum); a
    correction's reason was typed by hand about the person and goes, the others (order numbers, a
    date) lose the person's identifiers. So for every ledger below."""
    _of(PointsEntry, person).filter(kind=PointsEntry.Kind.ADJUST).update(reason="")
    _scrub_reasons(PointsEntry, person)


def erase_stored_value(person: Person) -> None:
    """A top-up's reason is its payment's reference (kept, as payments keep theirs), scrubbed."""
    _of(StoredValueEntry, person).filter(kind=StoredValueEntry.Kind.ADJUST).update(reason="")
    _scrub_reasons(StoredValueEntry, person)


def erase_package_card_entries(person: Person) -> None:
    _scrub_reasons(PackageCardEntry, person)


def erase_coupon_entries(person: Person) -> None:
    """A coupon withdrawn by hand (no order) carries the reason typed for it."""
    _of(CouponEntry, person).filter(kind=CouponEntry.Kind.REVOKE, order__isnull=True).update(reason="")
    _scrub_reasons(CouponEntry, person)


register(PersonalDataKind("points", _("Points"), collect_points, erase_points, order=62))
register(PersonalDataKind("stored_value", _("Stored value"), collect_stored_value, erase_stored_value, order=63))
register(PersonalDataKind("package_cards", _("Package cards"), collect_package_cards, order=64))
register(
    PersonalDataKind(
        "package_card_entries",
        _("Package card uses"),
        collect_package_card_entries,
        erase_package_card_entries,
        order=65,
    )
)
register(PersonalDataKind("coupons", _("Coupons"), collect_coupons, order=66))
register(
    PersonalDataKind("coupon_entries", _("Coupon entries"), collect_coupon_entries, erase_coupon_entries, order=67)
)


# --- referrals ---------------------------------------------------------------------------------


def collect_referral_rewards(person: Person) -> list[dict[str, Any]]:
    """Rewards the person earned by bringing someone, and those their own first bill earned their referrer
    (the other customer by number only: their name is theirs)."""
    ids = person.customer_ids
    rewards = (
        ReferralReward.objects.for_org(person.organization_id)
        .filter(Q(referrer_id__in=ids) | Q(referee_id__in=ids))
        .order_by("granted_at", "pk")
    )
    fields = ("referrer_id", "referee_id", "policy__name", "milestone", "amount", "state", "granted_at", "reversed_at")
    rows = rows_of(rewards, fields)
    for row in rows:
        row["role"] = "referrer" if row["referrer_id"] in ids else "referee"
    return rows


# Rewards hold no text: amounts, states and moments stay with the tombstone.
register(PersonalDataKind("referral_rewards", _("Referral rewards"), collect_referral_rewards, order=68))
