"""Tiers and membership: joining, upgrades on a paid order, buying a tier, the member discount, the review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.customers.models import Customer, Stage
from huitou.lifecycle.models import StageChange
from huitou.loyalty import errors
from huitou.loyalty.models import LoyaltyAccount, Tier, TierChange, TierEntryRule
from huitou.loyalty.services.tiers import (
    member_number,
    membership_set_tier,
    membership_year_start,
    tier_save,
    tiers_review,
)
from huitou.loyalty.starter import loyalty_seed
from huitou.service.errors import StateConflict
from huitou.service.models import OrderLine, Part, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay, order_remove_line
from huitou.service.starter import catalog_seed
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(org: Organization) -> Organization:
    catalog_seed(organization=org)
    loyalty_seed(organization=org)
    return org


def tier(org: Organization, code: str) -> Tier:
    return Tier.objects.for_org(org).get(code=code)


def account(customer: Customer) -> LoyaltyAccount:
    return LoyaltyAccount.objects.for_org(customer.organization_id).get(customer=customer)


def item(org: Organization, code: str) -> ServiceItem:
    return ServiceItem.objects.for_org(org).get(code=code)


def pay_order(
    order: ServiceOrder, by: User, service: ServiceItem, price: str, now: dt.datetime | None = None
) -> ServiceOrder:
    order_add_line(order=order, by=by, service=service, unit_price=price)
    order_complete(order=order, by=by, now=now)
    order.refresh_from_db()
    order_pay(order=order, by=by, method="cash", amount=order.amount_due, at=now, now=now)
    return order


def test_joining_numbers_the_member_and_makes_the_file_a_member(
    seeded: Organization, make_customer: Callable[..., Customer], owner: User
) -> None:
    first = make_customer(stage=Stage.CUSTOMER)
    second = make_customer(stage=Stage.CUSTOMER)
    membership_set_tier(customer=first, tier="silver", by=owner)
    membership_set_tier(customer=second, tier=None, by=owner)

    one, two = account(first), account(second)
    assert (one.number, two.number) == (member_number(1), member_number(2)) == ("00000001", "00000002")
    assert one.tier == tier(seeded, "silver") and two.tier == tier(seeded, "regular")
    assert one.member_since is not None and one.joined_by == owner
    first.refresh_from_db()
    assert first.stage == Stage.MEMBER
    assert StageChange.objects.for_org(seeded).filter(customer=first, to_stage=Stage.MEMBER).count() == 1
    change = TierChange.objects.for_org(seeded).get(customer=first)
    assert (change.from_tier, change.to_tier.code, change.reason, change.by) == (None, "silver", "joined", owner)
    assert (
        one.tier_review_on == (timezone.localdate() + dt.timedelta(days=400)).replace(day=one.tier_review_on.day)
        or one.tier_review_on > timezone.localdate()
    )


def test_changing_tier_by_hand_is_recorded_and_the_same_tier_is_refused(
    seeded: Organization, make_customer: Callable[..., Customer], owner: User
) -> None:
    customer = make_customer(stage=Stage.CUSTOMER)
    membership_set_tier(customer=customer, tier="regular", by=owner)
    membership_set_tier(customer=customer, tier="silver", by=owner, note="老客户")
    change = TierChange.objects.for_org(seeded).filter(customer=customer).latest("at")
    assert (change.from_tier.code, change.to_tier.code, change.reason, change.note) == (
        "regular",
        "silver",
        "manual",
        "老客户",
    )
    with pytest.raises(StateConflict) as exc:
        membership_set_tier(customer=customer, tier="silver", by=owner)
    assert str(exc.value) == str(errors.TIER_SAME)
    with pytest.raises(ValidationError) as refused:
        membership_set_tier(customer=customer, tier="platinum", by=owner)
    assert refused.value.message_dict["tier"] == [str(errors.TIER_UNKNOWN)]


def test_a_tier_of_another_organization_is_unknown(
    seeded: Organization, other_org: Organization, make_customer: Callable[..., Customer], owner: User
) -> None:
    catalog_seed(organization=other_org)
    loyalty_seed(organization=other_org)
    customer = make_customer(stage=Stage.CUSTOMER)
    with pytest.raises(ValidationError):
        membership_set_tier(customer=customer, tier=tier(other_org, "gold"), by=owner)


def test_a_member_moves_up_at_once_when_a_paid_order_reaches_the_next_tier(
    seeded: Organization,
    make_order: Callable[..., ServiceOrder],
    owner: User,
) -> None:
    order = make_order()
    membership_set_tier(customer=order.customer, tier="regular", by=owner)
    pay_order(order, owner, item(seeded, "R07"), "2000")
    assert account(order.customer).tier.code == "regular"
    second = make_order(vehicle=order.vehicle)
    pay_order(second, owner, item(seeded, "R07"), "1200")
    got = account(order.customer)
    assert got.tier.code == "silver"
    change = TierChange.objects.for_org(seeded).filter(customer=order.customer).latest("at")
    assert (change.from_tier.code, change.to_tier.code, change.reason) == ("regular", "silver", "upgrade")
    assert "3" in change.note  # the 12 months' spend it reached


def test_a_customer_who_is_not_a_member_is_not_enrolled_by_spending(
    seeded: Organization, make_order: Callable[..., ServiceOrder], owner: User
) -> None:
    order = pay_order(make_order(), owner, item(seeded, "D07"), "9000")
    assert not LoyaltyAccount.objects.for_org(seeded).filter(customer_id=order.customer_id, tier__isnull=False).exists()


def test_spend_older_than_twelve_months_does_not_count(
    seeded: Organization, make_order: Callable[..., ServiceOrder], owner: User
) -> None:
    long_ago = timezone.now() - dt.timedelta(days=400)
    order = make_order(now=long_ago)
    pay_order(order, owner, item(seeded, "D07"), "5000", now=long_ago)
    membership_set_tier(customer=order.customer, tier="regular", by=owner)
    pay_order(make_order(vehicle=order.vehicle), owner, item(seeded, "D01"), "40")
    assert account(order.customer).tier.code == "regular"


def test_a_tier_bought_outright_makes_a_member_when_its_line_is_paid(
    seeded: Organization, make_order: Callable[..., ServiceOrder], owner: User
) -> None:
    vip = tier_save(
        organization=seeded,
        data={"code": "vip", "name": "尊享卡", "rank": 4, "entry_rule": TierEntryRule.PURCHASE, "price": "1999"},
        by=owner,
    )
    assert vip.sale_item is not None and vip.sale_item.code == "TIER-VIP" and vip.sale_item.labour_price == 1999
    order = make_order()
    order_add_line(order=order, by=owner, service=vip.sale_item)
    # Selling the tier carries no member discount (not a member yet anyway), and costs its price.
    order.refresh_from_db()
    assert order.total == Decimal("1999.00")
    order_complete(order=order, by=owner)
    order_pay(order=order, by=owner, method="wechat", amount="1999")
    got = account(order.customer)
    assert got.tier == vip and got.number == "00000001"
    change = TierChange.objects.for_org(seeded).get(customer=order.customer)
    assert (change.reason, order.number in change.note) == ("purchase", True)
    order.customer.refresh_from_db()
    assert order.customer.stage == Stage.MEMBER


def test_the_member_discount_is_a_line_of_its_own_for_labour_and_parts(
    seeded: Organization,
    make_order: Callable[..., ServiceOrder],
    owner: User,
    tech: User,
) -> None:
    order = make_order()
    membership_set_tier(customer=order.customer, tier="gold", by=owner)
    labour = order_add_line(order=order, by=tech, service=item(seeded, "M02"))  # 180.00, 10%
    oil = Part.objects.for_org(seeded).get(code="P001")  # 368.00, 5%
    part = order_add_line(order=order, by=owner, part=oil)
    lines = list(OrderLine.objects.for_org(seeded).filter(order=order, kind="discount").order_by("pk"))
    assert [(d.name, d.amount, d.applies_to_id) for d in lines] == [
        ("会员折扣 · 金卡 工时 10%", Decimal("-18.00"), labour.pk),
        ("会员折扣 · 金卡 配件 5%", Decimal("-18.40"), part.pk),
    ]
    order.refresh_from_db()
    assert order.total == Decimal("180.00") + Decimal("368.00") - Decimal("36.40")
    # Removing the line removes its discount with it.
    order_remove_line(line=labour, by=owner)
    assert OrderLine.objects.for_org(seeded).filter(order=order, kind="discount").count() == 1


def test_no_discount_line_for_a_tier_without_one_or_a_non_member(
    seeded: Organization, make_order: Callable[..., ServiceOrder], owner: User
) -> None:
    stranger = make_order()
    order_add_line(order=stranger, by=owner, service=item(seeded, "M02"))
    member = make_order()
    membership_set_tier(customer=member.customer, tier="silver", by=owner)  # 5% labour, no parts
    order_add_line(order=member, by=owner, part=Part.objects.for_org(seeded).get(code="P001"))
    free = order_add_line(order=member, by=owner, service=item(seeded, "I02"))  # priced 0.00
    assert free.amount == 0
    assert not OrderLine.objects.for_org(seeded).filter(kind="discount").exists()


def test_the_review_keeps_a_member_who_met_the_keep_rule_and_moves_down_one_who_did_not(
    seeded: Organization, make_order: Callable[..., ServiceOrder], owner: User
) -> None:
    spent = make_order()
    idle = make_order()
    for order in (spent, idle):
        membership_set_tier(customer=order.customer, tier="gold", by=owner)
    pay_order(spent, owner, item(seeded, "D07"), "9000")  # 8,100 after gold's 10% off labour
    pay_order(idle, owner, item(seeded, "D07"), "3500")  # 3,150
    review_day = timezone.localdate() + dt.timedelta(days=1)
    LoyaltyAccount.objects.for_org(seeded).update(tier_review_on=review_day)
    # Not due yet: nothing happens.
    assert tiers_review(organization=seeded, today=timezone.localdate())["reviewed"] == 0

    result = tiers_review(organization=seeded, today=review_day)
    assert result == {"reviewed": 2, "kept": 1, "downgraded": 1}
    assert account(spent.customer).tier.code == "gold"
    moved = account(idle.customer)
    assert moved.tier.code == "silver"  # 3,150 keeps silver's 3,000
    assert moved.tier_review_on > review_day
    change = TierChange.objects.for_org(seeded).filter(customer=idle.customer).latest("at")
    assert (change.from_tier.code, change.to_tier.code, change.reason) == ("gold", "silver", "downgrade")
    kept = TierChange.objects.for_org(seeded).filter(customer=spent.customer).latest("at")
    assert (kept.from_tier.code, kept.to_tier.code, kept.reason) == ("gold", "gold", "kept")
    # Safe to run twice.
    assert tiers_review(organization=seeded, today=review_day)["reviewed"] == 0


def test_the_review_drops_a_member_who_spent_nothing_to_the_entry_tier(
    seeded: Organization, make_customer: Callable[..., Customer], owner: User
) -> None:
    customer = make_customer(stage=Stage.CUSTOMER)
    membership_set_tier(customer=customer, tier="diamond", by=owner)
    day = account(customer).tier_review_on
    assert tiers_review(organization=seeded, today=day) == {"reviewed": 1, "kept": 0, "downgraded": 1}
    assert account(customer).tier.code == "regular"


def test_membership_years_start_on_the_anniversary_of_joining() -> None:
    joined = timezone.make_aware(dt.datetime(2024, 2, 29, 10))
    assert membership_year_start(joined, dt.date(2024, 3, 1)) == dt.date(2024, 2, 29)
    assert membership_year_start(joined, dt.date(2025, 2, 27)) == dt.date(2024, 2, 29)
    assert membership_year_start(joined, dt.date(2025, 2, 28)) == dt.date(2025, 2, 28)
    assert membership_year_start(joined, dt.date(2026, 6, 1)) == dt.date(2026, 2, 28)


def test_tier_settings_are_checked(seeded: Organization, owner: User) -> None:
    with pytest.raises(ValidationError) as exc:
        tier_save(
            organization=seeded,
            data={
                "code": "gold",
                "name": "",
                "entry_rule": "purchase",
                "labour_discount_percent": "120",
                "free_services_per_year": 2,
            },
            by=owner,
        )
    problems = exc.value.message_dict
    assert problems["code"] == [str(errors.TIER_CODE_TAKEN)]
    assert problems["name"] == [str(errors.TIER_NAME_REQUIRED)]
    assert problems["price"] == [str(errors.TIER_PRICE_REQUIRED)]
    assert problems["labour_discount_percent"] == [str(errors.TIER_PERCENT_INVALID)]
    assert problems["free_service"] == [str(errors.TIER_FREE_SERVICE_REQUIRED)]


def test_changing_a_tier_keeps_what_is_not_given(seeded: Organization, owner: User) -> None:
    gold = tier(seeded, "gold")
    tier_save(organization=seeded, data={"labour_discount_percent": "12.5"}, tier=gold, by=owner)
    gold.refresh_from_db()
    assert (gold.labour_discount_percent, gold.parts_discount_percent, gold.name) == (
        Decimal("12.50"),
        Decimal("5.00"),
        "金卡",
    )


def test_the_nightly_task_reviews_each_organization(
    seeded: Organization, make_customer: Callable[..., Customer], owner: User
) -> None:
    from huitou.loyalty.tasks import tiers_review_for

    customer = make_customer(stage=Stage.CUSTOMER)
    membership_set_tier(customer=customer, tier="silver", by=owner)
    LoyaltyAccount.objects.for_org(seeded).update(tier_review_on=timezone.localdate())
    result = tiers_review_for.call_local(seeded.pk)
    assert (result["reviewed"], result["downgraded"]) == (1, 1)
    assert account(customer).tier.code == "regular"


def test_a_visits_tier_is_reached_and_kept_by_visits(
    org: Organization, make_order: Callable[..., ServiceOrder], owner: User
) -> None:
    catalog_seed(organization=org)
    wash = item(org, "D01")
    for code, name, rank, entry, keep in (("regular", "普通会员", 0, "0", "0"), ("frequent", "常客卡", 1, "3", "2")):
        tier_save(
            organization=org,
            data={"code": code, "name": name, "rank": rank, "entry_rule": TierEntryRule.VISITS,
                  "entry_threshold": entry, "keep_threshold": keep},
            by=owner,
        )  # fmt: skip
    first = make_order()
    membership_set_tier(customer=first.customer, tier="regular", by=owner)
    pay_order(first, owner, wash, "40")
    pay_order(make_order(vehicle=first.vehicle), owner, wash, "40")
    assert account(first.customer).tier.code == "regular"  # two visits: not yet
    pay_order(make_order(vehicle=first.vehicle), owner, wash, "40")
    assert account(first.customer).tier.code == "frequent"  # the third visit, whatever it spent
    change = TierChange.objects.for_org(org).filter(customer=first.customer).latest("at")
    assert (change.from_tier.code, change.to_tier.code, change.reason) == ("regular", "frequent", "upgrade")

    # Put in the tier by hand with one visit: the review moves them down; three visits keep the tier.
    once = make_order()
    membership_set_tier(customer=once.customer, tier="frequent", by=owner)
    pay_order(once, owner, wash, "40")
    review_day = timezone.localdate() + dt.timedelta(days=1)
    LoyaltyAccount.objects.for_org(org).update(tier_review_on=review_day)
    assert tiers_review(organization=org, today=review_day) == {"reviewed": 2, "kept": 1, "downgraded": 1}
    assert account(first.customer).tier.code == "frequent"
    assert account(once.customer).tier.code == "regular"


def test_the_free_services_of_a_tier_come_on_joining_and_again_each_membership_year(
    seeded: Organization, make_customer: Callable[..., Customer], owner: User
) -> None:
    from huitou.loyalty.models import Coupon, CouponTrigger
    from huitou.loyalty.services.tiers import free_services_anniversaries

    def free(customer: Customer) -> list[tuple[str, str]]:
        coupons = Coupon.objects.for_org(seeded).filter(customer=customer, source=CouponTrigger.TIER)
        return sorted(coupons.values_list("template__free_service__code", "state"))

    joined = timezone.make_aware(dt.datetime(2025, 3, 10, 10))
    customer = make_customer(stage=Stage.CUSTOMER)
    membership_set_tier(customer=customer, tier="gold", by=owner, now=joined)  # gold: two free D01 a year
    assert free(customer) == [("D01", "issued")] * 2
    # A move up within the year adds only what the new tier gives beyond them (diamond: four).
    membership_set_tier(customer=customer, tier="diamond", by=owner, now=joined + dt.timedelta(days=30))
    assert len(free(customer)) == 4

    assert free_services_anniversaries(organization=seeded, today=dt.date(2026, 3, 9)) == 0  # not the day yet
    next_year = timezone.make_aware(dt.datetime(2026, 3, 10, 4))
    assert free_services_anniversaries(organization=seeded, now=next_year) == 4
    assert free_services_anniversaries(organization=seeded, now=next_year) == 0  # safe to run twice
    assert len(free(customer)) == 8
