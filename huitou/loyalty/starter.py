"""Starter membership settings for a new organization, editable afterwards.

``loyalty_seed`` gives a new organization (``huitou createorg``, the demo) the
usual programme of an independent shop: four tiers (普通会员 / 银卡 / 金卡 /
钻石卡), the top-up bonus rules 充1000送100 and 充3000送400, the 满100送20工时券
rule, a free small-maintenance coupon, the referral policies and two package
cards. It adds only what the organization does not have yet (by code), so it
can be run again.

It needs the starter catalog (``huitou.service.starter.catalog_seed``): the
free services and card products name the services D01 and M01; where the
organization has no such service, that piece is left out.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from huitou.loyalty.models import (
    CardBinding,
    CardProduct,
    CouponKind,
    CouponRule,
    CouponTemplate,
    CouponTrigger,
    LoyaltyProgram,
    ReferralPolicy,
    Tier,
    TierEntryRule,
    TopUpRule,
)
from huitou.service.models import Category, ServiceItem
from huitou.tenancy.models import Organization

WASH = "D01"  # 标准洗车
SMALL_SERVICE = "M01"  # 小保养（机油+机滤）

# code, name, rank, entry rule, threshold, labour %, parts %, multiplier, free washes a year
TIERS: tuple[tuple[str, str, int, str, str, str, str, str, int], ...] = (
    ("regular", "普通会员", 0, TierEntryRule.VISITS, "1", "0", "0", "1", 0),
    ("silver", "银卡", 1, TierEntryRule.SPEND, "3000", "5", "0", "1.2", 0),
    ("gold", "金卡", 2, TierEntryRule.SPEND, "8000", "10", "5", "1.5", 2),
    ("diamond", "钻石卡", 3, TierEntryRule.SPEND, "20000", "15", "10", "2", 4),
)

# minimum top-up, bonus
TOP_UPS: tuple[tuple[str, str], ...] = (("1000", "100"), ("3000", "400"))

LABOUR_COUPON = "labour-20"
FREE_SERVICE_COUPON = "free-m01"
WASH_COUPON = "free-d01"

# code, name, uses, price, validity days, binding, covered service, sale item code
CARDS: tuple[tuple[str, str, int, str, int, str, str, str], ...] = (
    ("wash-10", "洗车10次卡", 10, "299", 365, CardBinding.VEHICLE, WASH, "CARD-WASH10"),
    ("maint-4", "保养4次卡", 4, "880", 730, CardBinding.CUSTOMER, SMALL_SERVICE, "CARD-MAINT4"),
)


def free_service_template(*, organization: Organization, service: ServiceItem) -> CouponTemplate:
    """The organization's coupon template for one free ``service`` (made if missing; code ``free-<code>``)."""
    template = (
        CouponTemplate.objects.for_org(organization)
        .filter(kind=CouponKind.FREE_SERVICE, free_service=service, is_active=True)
        .order_by("pk")
        .first()
    )
    if template is not None:
        return template
    code = f"free-{service.code.lower()}"[:30]
    template, created = CouponTemplate.objects.get_or_create(
        organization=organization,
        code=code,
        defaults={
            "name": f"免费{service.name}券"[:60],
            "kind": CouponKind.FREE_SERVICE,
            "free_service": service,
            "days_valid": 365,
        },
    )
    if created:
        template.services.set([service])
    return template


def _card_sale_item(*, organization: Organization, code: str, name: str, price: Decimal) -> ServiceItem:
    item, _created = ServiceItem.objects.get_or_create(
        organization=organization,
        code=code,
        defaults={
            "category": Category.DETAILING if "WASH" in code else Category.MAINTENANCE,
            "name": name,
            "labour_price": price,
        },
    )
    return item


def loyalty_seed(*, organization: Organization) -> int:
    """Create the starter membership programme pieces the organization lacks; returns how many rows were made."""
    made = 0
    services = {s.code: s for s in ServiceItem.objects.for_org(organization).filter(code__in=[WASH, SMALL_SERVICE])}
    wash, small_service = services.get(WASH), services.get(SMALL_SERVICE)
    with transaction.atomic():
        _program, created = LoyaltyProgram.objects.get_or_create(organization=organization)
        made += created

        have_tiers = set(Tier.objects.for_org(organization).values_list("code", flat=True))
        for code, name, rank, rule, threshold, labour, parts, multiplier, washes in TIERS:
            if code in have_tiers:
                continue
            Tier.objects.create(
                organization=organization,
                code=code,
                name=name,
                rank=rank,
                entry_rule=rule,
                entry_threshold=Decimal(threshold),
                keep_threshold=Decimal(threshold) if rule == TierEntryRule.SPEND else Decimal(0),
                labour_discount_percent=Decimal(labour),
                parts_discount_percent=Decimal(parts),
                points_multiplier=Decimal(multiplier),
                free_service=wash if washes and wash else None,
                free_services_per_year=washes if wash else 0,
            )
            made += 1

        have_minimums = set(TopUpRule.objects.for_org(organization).values_list("minimum", flat=True))
        for minimum, bonus in TOP_UPS:
            if Decimal(minimum) not in have_minimums:
                TopUpRule.objects.create(organization=organization, minimum=Decimal(minimum), bonus=Decimal(bonus))
                made += 1

        labour_coupon, created = CouponTemplate.objects.get_or_create(
            organization=organization,
            code=LABOUR_COUPON,
            defaults={
                "name": "20元工时券",
                "kind": CouponKind.AMOUNT,
                "value": Decimal(20),
                "min_spend": Decimal(100),
                "days_valid": 90,
            },
        )
        if created:
            made += 1
            services_covered = (
                ServiceItem.objects.for_org(organization).filter(is_active=True).exclude(code__startswith="CARD-")
            )
            labour_coupon.services.set(services_covered)
            CouponRule.objects.create(
                organization=organization,
                template=labour_coupon,
                trigger=CouponTrigger.ORDER_PAID,
                min_order_total=Decimal(100),
            )
            made += 1

        maintenance_coupon = None
        if small_service is not None:
            maintenance_coupon = free_service_template(organization=organization, service=small_service)
        if wash is not None:
            free_service_template(organization=organization, service=wash)

        have_policies = set(ReferralPolicy.objects.for_org(organization).values_list("code", flat=True))
        if "first-bill-3" not in have_policies:
            ReferralPolicy.objects.create(
                organization=organization,
                code="first-bill-3",
                name="首单3%储值奖励",
                kind=ReferralPolicy.Kind.FIRST_BILL_PERCENT,
                percent=Decimal(3),
            )
            made += 1
        if "fifth-referral" not in have_policies and maintenance_coupon is not None:
            ReferralPolicy.objects.create(
                organization=organization,
                code="fifth-referral",
                name="第5位转介绍双方送免费小保养",
                kind=ReferralPolicy.Kind.MILESTONE_COUPON,
                milestone=5,
                template=maintenance_coupon,
                both_sides=True,
            )
            made += 1

        have_cards = set(CardProduct.objects.for_org(organization).values_list("code", flat=True))
        for code, name, uses, price, days, binding, covered, sale_code in CARDS:
            if code in have_cards or covered not in services:
                continue
            product = CardProduct.objects.create(
                organization=organization,
                code=code,
                name=name,
                uses=uses,
                price=Decimal(price),
                validity_days=days,
                binding=binding,
                sale_item=_card_sale_item(organization=organization, code=sale_code, name=name, price=Decimal(price)),
            )
            product.services.set([services[covered]])
            made += 1
    return made
