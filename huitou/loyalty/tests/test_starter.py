"""The starter membership programme of a new organization."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from huitou.loyalty.models import (
    CardProduct,
    CouponKind,
    CouponRule,
    CouponTemplate,
    CouponTrigger,
    LoyaltyProgram,
    ReferralPolicy,
    Tier,
    TopUpRule,
)
from huitou.loyalty.starter import loyalty_seed
from huitou.service.starter import catalog_seed
from huitou.tenancy.models import Organization

pytestmark = pytest.mark.django_db


def test_seed_makes_the_four_tiers_rules_templates_policies_and_cards(org: Organization) -> None:
    catalog_seed(organization=org)
    assert loyalty_seed(organization=org) > 0

    assert LoyaltyProgram.objects.for_org(org).count() == 1
    tiers = list(Tier.objects.for_org(org).order_by("rank"))
    assert [(t.name, t.rank, t.entry_rule, t.entry_threshold) for t in tiers] == [
        ("普通会员", 0, "visits", Decimal("1.00")),
        ("银卡", 1, "spend", Decimal("3000.00")),
        ("金卡", 2, "spend", Decimal("8000.00")),
        ("钻石卡", 3, "spend", Decimal("20000.00")),
    ]
    gold = tiers[2]
    assert (gold.labour_discount_percent, gold.parts_discount_percent, gold.points_multiplier) == (
        Decimal("10.00"),
        Decimal("5.00"),
        Decimal("1.50"),
    )
    assert gold.free_service is not None and gold.free_service.code == "D01" and gold.free_services_per_year == 2
    assert tiers[3].free_services_per_year == 4 and tiers[1].free_services_per_year == 0

    assert [(r.minimum, r.bonus) for r in TopUpRule.objects.for_org(org).order_by("minimum")] == [
        (Decimal("1000.00"), Decimal("100.00")),
        (Decimal("3000.00"), Decimal("400.00")),
    ]
    labour = CouponTemplate.objects.for_org(org).get(code="labour-20")
    assert (labour.name, labour.value, labour.min_spend, labour.days_valid) == ("20元工时券", 20, 100, 90)
    rule = CouponRule.objects.for_org(org).get(template=labour)
    assert (rule.trigger, rule.min_order_total) == (CouponTrigger.ORDER_PAID, Decimal("100.00"))
    free = CouponTemplate.objects.for_org(org).get(kind=CouponKind.FREE_SERVICE, free_service__code="M01")
    assert free.name == "免费小保养（机油+机滤）券"

    percent = ReferralPolicy.objects.for_org(org).get(kind=ReferralPolicy.Kind.FIRST_BILL_PERCENT)
    assert percent.percent == Decimal("3.00")
    milestone = ReferralPolicy.objects.for_org(org).get(kind=ReferralPolicy.Kind.MILESTONE_COUPON)
    assert (milestone.milestone, milestone.template_id, milestone.both_sides) == (5, free.pk, True)

    cards = {c.code: c for c in CardProduct.objects.for_org(org)}
    wash = cards["wash-10"]
    assert (wash.name, wash.uses, wash.price, wash.validity_days, wash.binding) == (
        "洗车10次卡",
        10,
        Decimal("299.00"),
        365,
        "vehicle",
    )
    assert [s.code for s in wash.services.all()] == ["D01"]
    assert wash.sale_item is not None and wash.sale_item.code == "CARD-WASH10"
    assert wash.sale_item.labour_price == Decimal("299.00")
    maint = cards["maint-4"]
    assert (maint.uses, maint.price, maint.validity_days) == (4, Decimal("880.00"), 730)


def test_seed_twice_adds_nothing(org: Organization) -> None:
    catalog_seed(organization=org)
    loyalty_seed(organization=org)
    assert loyalty_seed(organization=org) == 0
    assert Tier.objects.for_org(org).count() == 4


def test_createorg_starts_the_membership_programme(settings: Any) -> None:
    call_command("createorg", "会员车行", "--owner", "boss", "--password", "correct-horse-battery-42")
    organization = Organization.objects.get(name="会员车行")
    assert Tier.objects.for_org(organization).count() == 4
    assert CardProduct.objects.for_org(organization).count() == 2
