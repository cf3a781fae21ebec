"""/api/v1: membership — a customer's membership and the tiers. The pages call the same services.

``GET /customers/{id}/membership``: tier, points, stored value, package cards and
coupons (all staff who see customers); ``POST`` joins or changes the tier
(``loyalty.sell``: store manager, service advisor). ``/loyalty/tiers``: the
tiers, read by everyone who sees customers, created and changed by the store
manager (``loyalty.manage``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Router, Status
from pydantic import Field

from huitou.api.base import Schema
from huitou.api.permissions import require
from huitou.api.schemas import trimmed
from huitou.api.service_schemas import IdIn, Money, money
from huitou.customers.models import Customer
from huitou.loyalty.models import Tier
from huitou.loyalty.selectors.members import membership_summary, tiers_for
from huitou.loyalty.services.tiers import membership_set_tier, tier_save
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["membership"])

TierRule = Literal["spend", "visits", "purchase"]
TierCode = Annotated[str, trimmed(30, required=True, examples=["gold"], pattern=r"^[A-Za-z0-9_-]+$")]
TierName = Annotated[str, trimmed(30, required=True, examples=["金卡"])]
Amount = Annotated[
    str,
    Field(
        description="A decimal string of at least 0 with at most two places",
        pattern=r"^\d{1,10}(\.\d{1,2})?$",
        examples=["8000"],
    ),
]
Percent = Annotated[
    str,
    Field(description="0 to 100, at most two places", pattern=r"^\d{1,3}(\.\d{1,2})?$", examples=["10"]),
]
Multiplier = Annotated[
    str, Field(description="0 to 99.99, at most two places", pattern=r"^\d{1,2}(\.\d{1,2})?$", examples=["1.5"])
]


class TierRef(Schema):
    code: str
    name: str


class StoredValueOut(Schema):
    principal: Money = Field(description="Money the customer paid in, unspent")
    bonus: Money = Field(description="Bonus given by the shop, unspent")
    balance: Money = Field(description="principal + bonus")


class PackageCardOut(Schema):
    id: int
    name: str
    remaining: int = Field(description="Uses left")
    vehicle_id: int | None = Field(description="The car it is bound to; null: any of the customer's cars")
    expires_on: dt.date


class CouponOut(Schema):
    id: int
    name: str
    state: Literal["issued", "used", "expired", "revoked"]
    expires_on: dt.date


class MembershipOut(Schema):
    tier: TierRef | None = Field(description="null: not a member")
    points: int
    stored_value: StoredValueOut
    package_cards: list[PackageCardOut] = Field(description="Active cards with uses left, soonest expiry first")
    coupons: list[CouponOut] = Field(description="Coupons that can still be used, soonest expiry first")


class MembershipIn(Schema):
    tier: TierCode = Field(description="The tier's code: joins a non-member at it, or moves a member to it")


class TierOut(Schema):
    id: int
    code: str
    name: str
    rank: int = Field(description="0: the entry tier; higher ranks are higher tiers")
    entry_rule: TierRule = Field(description="spend or visits in the last 12 months, or bought outright")
    entry_threshold: str = Field(description="Yuan (spend) or visits reached in 12 months")
    price: Money | None = Field(description="For purchase: the price, sold as the line of sale_item_id")
    sale_item_id: int | None
    keep_threshold: str = Field(description="Keep-tier rule: the same measure over the 12 months before review")
    labour_discount_percent: str
    parts_discount_percent: str
    points_multiplier: str
    free_service: str | None = Field(description="The free service's code")
    free_services_per_year: int
    benefits_note: str
    is_active: bool


class TierList(Schema):
    items: list[TierOut]


class TierIn(Schema):
    code: TierCode
    name: TierName
    rank: int = Field(default=0, ge=0, le=100)
    entry_rule: TierRule
    entry_threshold: Amount = "0"
    price: Amount | None = Field(default=None, description="Required for purchase")
    keep_threshold: Amount = "0"
    labour_discount_percent: Percent = "0"
    parts_discount_percent: Percent = "0"
    points_multiplier: Multiplier = "1"
    free_service: Annotated[str, trimmed(30)] | None = Field(default=None, description="A service item's code")
    free_services_per_year: int = Field(default=0, ge=0, le=366)
    benefits_note: Annotated[str, trimmed(200)] = ""
    is_active: bool = True


class TierPatch(Schema):
    code: TierCode | None = None
    name: TierName | None = None
    rank: int | None = Field(default=None, ge=0, le=100)
    entry_rule: TierRule | None = None
    entry_threshold: Amount | None = None
    price: Amount | None = None
    keep_threshold: Amount | None = None
    labour_discount_percent: Percent | None = None
    parts_discount_percent: Percent | None = None
    points_multiplier: Multiplier | None = None
    free_service: Annotated[str, trimmed(30)] | None = None
    free_services_per_year: int | None = Field(default=None, ge=0, le=366)
    benefits_note: Annotated[str, trimmed(200)] | None = None
    is_active: bool | None = None


def tier_out(tier: Tier) -> dict[str, Any]:
    """(``free_service`` selected, or one query more.)"""
    return {
        "id": tier.pk,
        "code": tier.code,
        "name": tier.name,
        "rank": tier.rank,
        "entry_rule": tier.entry_rule,
        "entry_threshold": str(tier.entry_threshold),
        "price": money(tier.price) if tier.price is not None else None,
        "sale_item_id": tier.sale_item_id,
        "keep_threshold": str(tier.keep_threshold),
        "labour_discount_percent": str(tier.labour_discount_percent),
        "parts_discount_percent": str(tier.parts_discount_percent),
        "points_multiplier": str(tier.points_multiplier),
        "free_service": tier.free_service.code if tier.free_service is not None else None,
        "free_services_per_year": tier.free_services_per_year,
        "benefits_note": tier.benefits_note,
        "is_active": tier.is_active,
    }


def _membership(customer: Customer) -> dict[str, Any]:
    summary = membership_summary(customer)
    stored = summary["stored_value"]
    return {
        **summary,
        "stored_value": {k: money(v) or "0.00" for k, v in stored.items()},
    }


@router.get("/customers/{customer_id}/membership", response=MembershipOut, summary="A customer's membership")
def get_membership(request: ApiRequest, customer_id: IdIn) -> dict[str, Any]:
    """Queries: 1 the customer, 1 the account with its tier, 1 the package cards, 1 the coupons."""
    organization = require(request, Perm.VIEW_CUSTOMERS)
    customer = get_scoped_or_404(Customer.objects.active(), organization, pk=customer_id)
    return _membership(customer)


@router.post("/customers/{customer_id}/membership", response=MembershipOut, summary="Join or change tier")
def set_membership(request: ApiRequest, customer_id: IdIn, payload: MembershipIn) -> dict[str, Any]:
    """Store manager or service advisor. A non-member joins at the tier (member number, stage
    ``member``); a member moves to it, recorded as a change by hand. An unknown or inactive
    tier answers 422 on ``tier``; the tier they already have answers 409."""
    organization = require(request, Perm.SELL_MEMBERSHIP)
    customer = get_scoped_or_404(Customer.objects.active(), organization, pk=customer_id)
    membership_set_tier(customer=customer, tier=payload.tier, by=request.user)
    return _membership(customer)


@router.get("/loyalty/tiers", response=TierList, summary="Membership tiers")
def list_tiers(request: ApiRequest) -> dict[str, Any]:
    """By rank, inactive ones too. Queries: 1 the tiers with their free service."""
    organization = require(request, Perm.VIEW_CUSTOMERS)
    return {"items": [tier_out(t) for t in tiers_for(organization)]}


@router.post("/loyalty/tiers", response={201: TierOut}, summary="Add a tier")
def create_tier(request: ApiRequest, payload: TierIn) -> Status:
    """Store manager only. A code in use answers 422 on ``code``; ``purchase`` needs ``price``
    (the tier gets its own service item, ``TIER-<code>``, sold as an order line); free services
    a year need ``free_service``."""
    organization = require(request, Perm.MANAGE_LOYALTY)
    tier = tier_save(organization=organization, data=payload.model_dump(), by=request.user)
    return Status(201, tier_out(tier))


@router.patch("/loyalty/tiers/{tier_id}", response=TierOut, summary="Change a tier")
def patch_tier(request: ApiRequest, tier_id: IdIn, payload: TierPatch) -> dict[str, Any]:
    """Store manager only; the fields sent change, the others stay. ``"is_active": false`` stops
    new members joining it; members in it stay until their review."""
    organization = require(request, Perm.MANAGE_LOYALTY)
    tier = get_scoped_or_404(Tier.objects.select_related("free_service"), organization, pk=tier_id)
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None or k == "price"}
    saved = tier_save(organization=organization, data=data, tier=tier, by=request.user)
    return tier_out(Tier.objects.for_org(organization).select_related("free_service").get(pk=saved.pk))
