"""Membership's personal data: the copy holds the account, tiers, ledgers, cards, coupons and referral
rewards; erasure leaves no personal text in them while every balance and total stays."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum

from huitou.customers.models import Customer
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
from huitou.loyalty.services.cards import card_product_save, card_use
from huitou.loyalty.services.checkout import order_checkout
from huitou.loyalty.services.referrals import referrer_type_set
from huitou.loyalty.services.stored_value import stored_value_top_up
from huitou.loyalty.services.tiers import membership_set_tier
from huitou.loyalty.starter import loyalty_seed
from huitou.privacy.services import customer_erase, personal_data_copy
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.tenancy.models import Organization, User

Make = Callable[..., Any]
NAME, PHONE = "司马相如", "13866667777"
ZERO = Decimal("0.00")


def paid(order: ServiceOrder, by: User, *services: ServiceItem, **checkout: Any) -> ServiceOrder:
    for service in services:
        order_add_line(order=order, by=by, service=service)
    order_complete(order=order, by=by)
    if checkout:
        order_checkout(order=order, by=by, **checkout)
    else:
        order_pay(order=order, by=by, method="wechat", amount=order.amount_due)
    return order


@pytest.fixture
def member(
    org: Organization, advisor: User, make_customer: Make, make_vehicle: Make, make_order: Make, make_service_item: Make
) -> Customer:
    """A member who was referred and refers, topped up, bought a card and used it, earned points, used a coupon."""
    item = make_service_item(code="M01", name="小保养", labour_price="300.00")
    loyalty_seed(organization=org)
    card = card_product_save(
        organization=org,
        data={"code": "maint-3", "name": "保养3次卡", "price": "600", "uses": 3, "binding": "customer",
              "services": [item.pk]},
    )  # fmt: skip
    referrer = make_customer(name="介绍人", phone="13811110000")
    customer = make_customer(name=NAME, phone=PHONE, referrer=referrer.pk)
    car = make_vehicle(customer, plate="粤B5E123")
    membership_set_tier(customer=customer, tier=None, by=advisor, note=f"{NAME}说朋友介绍来的，当场入会")
    referrer_type_set(customer=customer, referrer_type="benefit", by=advisor)
    stored_value_top_up(customer=customer, amount="1000", method="wechat", by=advisor, reference=f"{NAME}转账")
    assert card.sale_item is not None
    paid(make_order(car), advisor, item, card.sale_item)  # earns points and the 20-yuan coupon, sells the card
    second = make_order(car)
    card_use(order=second, card=PackageCard.objects.for_org(org).get(customer=customer), service=item, by=advisor)
    order_add_line(order=second, by=advisor, service=item)
    coupon = Coupon.objects.for_org(org).get(customer=customer, state="issued")
    paid(second, advisor, coupon=coupon, stored_value="all")
    friend = make_customer(name="相如的朋友", phone="13822220000", referrer=customer.pk)
    paid(make_order(make_vehicle(friend)), advisor, item)  # the member's reward
    return customer


def balances(org: Organization, customer: Customer) -> dict[str, Any]:
    account = LoyaltyAccount.objects.for_org(org).get(customer=customer)
    sums = StoredValueEntry.objects.for_org(org).filter(customer=customer).aggregate(p=Sum("principal"), b=Sum("bonus"))
    points = PointsEntry.objects.for_org(org).filter(customer=customer).aggregate(s=Sum("amount"))["s"]
    return {
        "account": (account.number, account.tier_id, account.points, account.stored_principal, account.stored_bonus),
        "ledgers": (points, sums["p"], sums["b"]),
        "cards": sorted(PackageCard.objects.for_org(org).filter(customer=customer).values_list("uses_left", "state")),
        "card_entries": PackageCardEntry.objects.for_org(org).filter(customer=customer).count(),
        "coupons": sorted(Coupon.objects.for_org(org).filter(customer=customer).values_list("code", "state")),
        "coupon_entries": CouponEntry.objects.for_org(org).filter(customer=customer).count(),
        "tier_changes": list(TierChange.objects.for_org(org).filter(customer=customer).values_list("to_tier", "at")),
        "rewards": sorted(
            ReferralReward.objects.for_org(org)
            .filter(referrer=customer)
            .union(ReferralReward.objects.for_org(org).filter(referee=customer))
            .values_list("pk", "amount", "state")
        ),
    }


def test_the_copy_holds_the_account_tiers_ledgers_cards_coupons_and_both_sides_of_referrals(
    member: Customer, owner: User
) -> None:
    kinds = personal_data_copy(customer=member, by=owner)["kinds"]

    [account] = kinds["membership"]
    assert (account["tier__name"], account["referrer_type"]) == ("普通会员", "benefit")
    assert Decimal(account["stored_principal"]) > 0 and Decimal(account["stored_bonus"]) > 0
    assert len(account["number"]) == 8 and account["points"] > 0
    assert kinds["tier_changes"][0]["reason"] == "joined" and NAME in kinds["tier_changes"][0]["note"]
    assert {e["kind"] for e in kinds["points"]} == {"earn"}
    assert {e["kind"] for e in kinds["stored_value"]} == {"top_up", "spend", "reward"}
    [card] = kinds["package_cards"]
    assert (card["name"], card["uses_total"], card["uses_left"]) == ("保养3次卡", 3, 2)
    assert [e["kind"] for e in kinds["package_card_entries"]] == ["sale", "use"]
    assert {c["state"] for c in kinds["coupons"]} == {"used", "issued"}
    assert {e["kind"] for e in kinds["coupon_entries"]} == {"issue", "use"}
    assert sorted(r["role"] for r in kinds["referral_rewards"]) == ["referee", "referrer"]


def test_erasure_leaves_no_personal_text_in_membership_and_every_balance_stays(
    member: Customer, org: Organization, owner: User
) -> None:
    before = balances(org, member)
    assert before["ledgers"][0] == before["account"][2]

    customer_erase(customer=member, by=owner, reason="本人要求")

    assert balances(org, member) == before
    account = LoyaltyAccount.objects.for_org(org).get(customer=member)
    assert account.referrer_type == ""
    assert set(TierChange.objects.for_org(org).filter(customer=member).values_list("note", flat=True)) == {""}
    top_up = StoredValueEntry.objects.for_org(org).get(customer=member, kind="top_up")
    assert (top_up.reason, top_up.principal, top_up.bonus) == ("***转账", Decimal("1000.00"), Decimal("100.00"))
    texts = []
    for model, fields in (
        (LoyaltyAccount, ("number", "referrer_type")),
        (TierChange, ("note",)),
        (PointsEntry, ("reason",)),
        (StoredValueEntry, ("reason",)),
        (PackageCard, ("name",)),
        (PackageCardEntry, ("reason",)),
        (Coupon, ("name", "code")),
        (CouponEntry, ("reason",)),
    ):
        for row in model.objects.for_org(org).filter(customer=member).values_list(*fields):
            texts += row
    assert texts and not [t for t in texts if NAME in t or PHONE in t or "朋友介绍" in t]
    # The reward the member's first bill earned the referrer keeps its amount.
    reward = ReferralReward.objects.for_org(org).get(referee=member)
    assert reward.amount == Decimal("27.00") and reward.state == "granted"  # 3% of 900.00
