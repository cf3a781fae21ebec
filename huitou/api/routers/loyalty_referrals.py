"""/api/v1: membership — referrals. The pages call the same services.

``GET /customers/{id}/referrals``: the referral graph of a customer (all staff
who see customers); ``PUT /customers/{id}/referrer-type``: why they bring
others (front desk); ``/loyalty/referral-policies``: the rewards, read and
written by the store manager (``loyalty.manage``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Router, Status
from pydantic import Field

from huitou.api.base import Schema
from huitou.api.permissions import require
from huitou.api.schemas import choice, trimmed
from huitou.api.service_schemas import IdIn, Money, money
from huitou.customers.models import Customer
from huitou.loyalty.models import ReferralPolicy, ReferrerType
from huitou.loyalty.selectors.referrals import referral_leaderboard, referral_policies, referrals_for_customer
from huitou.loyalty.services.referrals import MAX_MILESTONE, referral_policy_save, referrer_type_set
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["membership"])

PolicyKind = Literal["first_bill_percent", "milestone_coupon"]
ReferrerTypeCode = Annotated[str, choice(ReferrerType.values, blank=True)]
PolicyCode = Annotated[str, trimmed(30, required=True, examples=["first-bill-3"])]
PolicyName = Annotated[str, trimmed(60, required=True)]
Percent = Annotated[
    str,
    Field(
        description="Percent of the first paid bill, above 0 and at most 100, two places",
        pattern=r"^\d{1,3}(\.\d{1,2})?$",
        examples=["3"],
    ),
]


class ReferralOut(Schema):
    id: int
    name: str
    stage: str
    referred_at: dt.datetime
    converted: bool = Field(description="They have a paid order")
    first_paid_at: dt.datetime | None
    revenue: Money = Field(description="Their lifetime spend")
    rewards: Money = Field(description="Stored-value bonus the referrer earned through them (not reversed)")


class ReferralsOut(Schema):
    items: list[ReferralOut]
    count: int = Field(description="Customers they brought (active files)")
    converted: int = Field(description="Of them, with a paid order")
    revenue: Money = Field(description="The referees' lifetime spend")
    rewards: Money = Field(description="Stored-value bonus earned by referring, not reversed")
    reward_coupons: int = Field(description="Milestone coupons received by referring")
    referrer_type: ReferrerTypeCode = Field(description="Why they bring others; blank: not known")


class ReferrerTypeIn(Schema):
    referrer_type: ReferrerTypeCode = Field(
        description="honour 荣誉型, benefit 利益型, favour 人情型, friendship 友情型"
    )


class PolicyOut(Schema):
    id: int
    code: str
    name: str
    kind: PolicyKind
    percent: str = Field(description="For first_bill_percent: percent of the first paid bill")
    milestone: int | None = Field(description="For milestone_coupon: at the n-th converted referral")
    template: str | None = Field(description="For milestone_coupon: the coupon template's code")
    both_sides: bool = Field(description="The referee gets the coupon too")
    is_active: bool


class PolicyList(Schema):
    items: list[PolicyOut]


class PolicyIn(Schema):
    code: PolicyCode
    name: PolicyName
    kind: PolicyKind
    percent: Percent | None = None
    milestone: int | None = Field(default=None, ge=1, le=MAX_MILESTONE)
    template: Annotated[str, trimmed(30)] | None = Field(default=None, description="A coupon template's code")
    both_sides: bool = False
    is_active: bool = True


class PolicyPatch(Schema):
    code: PolicyCode | None = None
    name: PolicyName | None = None
    kind: PolicyKind | None = None
    percent: Percent | None = None
    milestone: int | None = Field(default=None, ge=1, le=MAX_MILESTONE)
    template: Annotated[str, trimmed(30)] | None = None
    both_sides: bool | None = None
    is_active: bool | None = None


class LeaderRow(Schema):
    rank: int
    id: int
    name: str
    brought: int
    converted: int
    revenue: Money
    rewards: Money


class Leaderboard(Schema):
    items: list[LeaderRow]


def policy_out(policy: ReferralPolicy) -> dict[str, Any]:
    """(``template`` selected, or one query more.)"""
    return {
        "id": policy.pk,
        "code": policy.code,
        "name": policy.name,
        "kind": policy.kind,
        "percent": str(Decimal(policy.percent).quantize(Decimal("0.01"))),
        "milestone": policy.milestone,
        "template": policy.template.code if policy.template is not None else None,
        "both_sides": policy.both_sides,
        "is_active": policy.is_active,
    }


def _money(value: Decimal) -> str:
    return money(value) or "0.00"


@router.get("/customers/{customer_id}/referrals", response=ReferralsOut, summary="A customer's referrals")
def customer_referrals(request: ApiRequest, customer_id: IdIn) -> dict[str, Any]:
    """Whom the customer brought, how many converted, their revenue and the rewards earned.

    Queries: 1 the customer, 1 the referees, 1 the rewards, 1 the account.
    """
    organization = require(request, Perm.VIEW_CUSTOMERS)
    customer = get_scoped_or_404(Customer.objects.active(), organization, pk=customer_id)
    graph = referrals_for_customer(customer)
    return {
        **graph,
        "items": [{**i, "revenue": _money(i["revenue"]), "rewards": _money(i["rewards"])} for i in graph["items"]],
        "revenue": _money(graph["revenue"]),
        "rewards": _money(graph["rewards"]),
    }


@router.put("/customers/{customer_id}/referrer-type", response=ReferralsOut, summary="Set the referrer type")
def set_referrer_type(request: ApiRequest, customer_id: IdIn, payload: ReferrerTypeIn) -> dict[str, Any]:
    """Why the customer brings others (front desk: ``customers.edit``); answers the referral graph."""
    organization = require(request, Perm.EDIT_CUSTOMERS)
    customer = get_scoped_or_404(Customer.objects.active(), organization, pk=customer_id)
    referrer_type_set(customer=customer, referrer_type=payload.referrer_type, by=request.user)
    return customer_referrals(request, customer_id)


@router.get("/loyalty/referral-leaderboard", response=Leaderboard, summary="The referral leaderboard")
def leaderboard(request: ApiRequest, since: dt.date | None = None) -> dict[str, Any]:
    """The 50 referrers with the most converted referrals among files created since ``since`` (default: ever)."""
    organization = require(request, Perm.VIEW_CUSTOMERS)
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC) if since else None
    rows = referral_leaderboard(organization=organization, since=start)
    return {"items": [{**r, "revenue": _money(r["revenue"]), "rewards": _money(r["rewards"])} for r in rows]}


@router.get("/loyalty/referral-policies", response=PolicyList, summary="Referral reward policies")
def list_policies(request: ApiRequest) -> dict[str, Any]:
    """Active first, by code (``loyalty.manage``). Queries: 1 policies with their coupon template."""
    organization = require(request, Perm.MANAGE_LOYALTY)
    return {"items": [policy_out(p) for p in referral_policies(organization=organization)]}


@router.post("/loyalty/referral-policies", response={201: PolicyOut}, summary="Add a referral reward policy")
def create_policy(request: ApiRequest, payload: PolicyIn) -> Status:
    """Store manager only. A code in use answers 422 on ``code``; a share of the bill needs ``percent``,
    a milestone coupon needs ``milestone`` and ``template``."""
    organization = require(request, Perm.MANAGE_LOYALTY)
    policy = referral_policy_save(organization=organization, data=payload.model_dump())
    return Status(201, policy_out(policy))


@router.patch("/loyalty/referral-policies/{policy_id}", response=PolicyOut, summary="Change a referral policy")
def patch_policy(request: ApiRequest, policy_id: IdIn, payload: PolicyPatch) -> dict[str, Any]:
    """Store manager only. ``"is_active": false`` stops it; rewards already granted stay."""
    organization = require(request, Perm.MANAGE_LOYALTY)
    policy = get_scoped_or_404(ReferralPolicy.objects.select_related("template"), organization, pk=policy_id)
    data = payload.model_dump(exclude_unset=True)
    for field in ("both_sides", "is_active", "code", "name", "kind"):
        if data.get(field, True) is None:
            del data[field]
    return policy_out(referral_policy_save(organization=organization, data=data, policy=policy))
