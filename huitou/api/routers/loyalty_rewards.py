"""/api/v1: membership — points and coupons. The pages call the same services.

``POST /orders/{id}/coupons`` and ``POST /orders/{id}/points`` take money off
an open order (``orders.settle``: store manager, service advisor): a coupon
used before or too few points answer 409. Coupons are issued by hand by the
front desk selling memberships (``loyalty.sell``); templates, bulk issues and
the year-end points list are the store manager's (``loyalty.manage``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from ninja import Query, Router, Status
from pydantic import Field

from huitou.api.base import Schema
from huitou.api.lookups import in_org
from huitou.api.permissions import require
from huitou.api.routers.orders import _get_order, order_detail
from huitou.api.schemas import trimmed
from huitou.api.service_schemas import IdIn, Money, OrderOut, money
from huitou.customers.models import Customer
from huitou.loyalty import errors
from huitou.loyalty.models import Coupon, CouponTemplate, CouponTrigger
from huitou.loyalty.selectors.rewards import coupon_templates, points_year_end
from huitou.loyalty.services.coupons import (
    MAX_BULK,
    coupon_apply,
    coupon_issue,
    coupon_template_save,
    coupons_issue_bulk,
)
from huitou.loyalty.services.points import MAX_POINTS, points_redeem
from huitou.service.models import ServiceItem
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["membership"])

CouponKindCode = Literal["amount", "percent", "free_service"]
CouponStateCode = Literal["issued", "used", "expired", "revoked"]
TemplateCode = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_-]+$", examples=["labour-20"])]
TemplateName = Annotated[str, trimmed(60, required=True, examples=["20元工时券"])]
Value = Annotated[
    str,
    Field(
        description="amount: yuan above 0; percent: above 0 and at most 100; free_service: ignored",
        pattern=r"^\d{1,8}(\.\d{1,2})?$",
        examples=["20"],
    ),
]
MinSpend = Annotated[str, Field(pattern=r"^\d{1,8}(\.\d{1,2})?$", examples=["100"])]


class CouponIn(Schema):
    coupon_id: IdIn = Field(description="An issued coupon of the order's customer, not past its last day")


class PointsIn(Schema):
    points: int = Field(ge=1, le=MAX_POINTS, description="Whole points; at most the customer's balance")


class CouponOut(Schema):
    id: int
    name: str
    code: str = Field(description="Printed on the coupon, read out at the counter")
    state: CouponStateCode
    expires_on: dt.date = Field(description="The last day it can be used")
    template: str = Field(description="The template's code")
    source: str


class CouponList(Schema):
    items: list[CouponOut]
    count: int


class IssueIn(Schema):
    template: TemplateCode = Field(description="An active coupon template's code")


class RuleOut(Schema):
    id: int
    trigger: Literal["order_paid", "joined", "birthday"]
    min_order_total: Money
    is_active: bool


class TemplateOut(Schema):
    id: int
    code: str
    name: str
    kind: CouponKindCode
    value: Money = Field(description="amount: yuan; percent: percent; free_service: 0.00")
    free_service: str | None = Field(description="For free_service: the service item's code")
    min_spend: Money
    days_valid: int
    services: list[str] = Field(description="Codes of the services it takes money off; empty: the whole order")
    is_active: bool
    rules: list[RuleOut]


class TemplateList(Schema):
    items: list[TemplateOut]


class TemplateIn(Schema):
    code: TemplateCode
    name: TemplateName
    kind: CouponKindCode
    value: Value = "0"
    free_service: TemplateCode | None = Field(default=None, description="For free_service: a service item's code")
    min_spend: MinSpend = "0"
    days_valid: int = Field(default=90, ge=1, le=3650)
    services: list[TemplateCode] | None = Field(default=None, max_length=500, description="Service item codes")
    is_active: bool = True


class TemplatePatch(Schema):
    code: TemplateCode | None = None
    name: TemplateName | None = None
    kind: CouponKindCode | None = None
    value: Value | None = None
    free_service: TemplateCode | None = None
    min_spend: MinSpend | None = None
    days_valid: int | None = Field(default=None, ge=1, le=3650)
    services: list[TemplateCode] | None = Field(default=None, max_length=500)
    is_active: bool | None = None


class BulkIn(Schema):
    customer_ids: list[IdIn] = Field(min_length=1, max_length=MAX_BULK, description="Active customer files")


class BulkOut(Schema):
    batch: str = Field(description="The batch key: its coupons carry it; issuing runs in the background")
    count: int


class YearEndRow(Schema):
    customer_id: int
    name: str
    points: int = Field(description="The customer's balance")
    expiring: int = Field(description="Of it, points that expire at the end of the year unless redeemed")


class YearEndList(Schema):
    items: list[YearEndRow]
    count: int
    year: int


def coupon_out(coupon: Coupon) -> dict[str, Any]:
    """(``template`` selected, or one query more.)"""
    return {
        "id": coupon.pk,
        "name": coupon.name,
        "code": coupon.code,
        "state": coupon.state,
        "expires_on": coupon.expires_on,
        "template": coupon.template.code,
        "source": coupon.source,
    }


def template_out(template: CouponTemplate) -> dict[str, Any]:
    """(services and rules prefetched, ``free_service`` selected: ``selectors.coupon_templates``.)"""
    return {
        "id": template.pk,
        "code": template.code,
        "name": template.name,
        "kind": template.kind,
        "value": money(template.value) or "0.00",
        "free_service": template.free_service.code if template.free_service is not None else None,
        "min_spend": money(template.min_spend) or "0.00",
        "days_valid": template.days_valid,
        "services": [s.code for s in template.services.all()],
        "is_active": template.is_active,
        "rules": [
            {
                "id": r.pk,
                "trigger": r.trigger,
                "min_order_total": money(r.min_order_total) or "0.00",
                "is_active": r.is_active,
            }
            for r in template.rules.all()
        ],
    }


def _template_data(request: ApiRequest, data: dict[str, Any]) -> dict[str, Any]:
    """Codes of service items turned into the rows the service takes (422 for an unknown code)."""
    organization = request.organization
    items = ServiceItem.objects.for_org(organization)
    if data.get("free_service") is not None:
        found = items.filter(code=data["free_service"]).first()
        if found is None:
            raise ValidationError({"free_service": [errors.TEMPLATE_FREE_SERVICE_REQUIRED]})
        data["free_service"] = found
    if data.get("services") is not None:
        codes = set(data["services"])
        found_items = list(items.filter(code__in=codes))
        if len(found_items) != len(codes):
            raise ValidationError({"services": [errors.TEMPLATE_SERVICE_UNKNOWN]})
        data["services"] = found_items
    return data


def _one_template(request: ApiRequest, template: CouponTemplate) -> dict[str, Any]:
    found = [t for t in coupon_templates(organization=request.organization) if t.pk == template.pk]
    return template_out(found[0])


# --- on an order --------------------------------------------------------------------------------


@router.post("/orders/{order_id}/coupons", response={201: OrderOut}, summary="Use a coupon on an order")
def use_coupon(request: ApiRequest, order_id: IdIn, payload: CouponIn) -> Status:
    """A discount line named after the coupon (``orders.settle``). 409: used before (or from another
    counter at the same moment), past its last day, below its minimum spend, nothing it applies to,
    already a coupon on the order, the order paid or void. 422: not a coupon of the order's customer."""
    organization = require(request, Perm.SETTLE_ORDERS)
    order = _get_order(request, order_id)
    coupon = in_org(Coupon.objects.all(), organization, payload.coupon_id, "coupon_id", errors.COUPON_NOT_THEIRS)
    coupon_apply(order=order, coupon=coupon, by=request.user)
    return Status(201, order_detail(request, order_id))


@router.post("/orders/{order_id}/points", response={201: OrderOut}, summary="Redeem points on an order")
def redeem_points(request: ApiRequest, order_id: IdIn, payload: PointsIn) -> Status:
    """A discount line "积分抵扣 N 分" at the organization's point value (``orders.settle``). 409: the
    customer holds fewer points, or the order is paid or void; 422: beyond the share points may pay."""
    require(request, Perm.SETTLE_ORDERS)
    points_redeem(order=_get_order(request, order_id), points=payload.points, by=request.user)
    return Status(201, order_detail(request, order_id))


# --- a customer's coupons -----------------------------------------------------------------------


@router.get("/customers/{customer_id}/coupons", response=CouponList, summary="A customer's coupons")
def customer_coupons(request: ApiRequest, customer_id: IdIn, state: CouponStateCode | None = None) -> dict[str, Any]:
    """Newest first (at most 200). Queries: the customer, the coupons with their template."""
    organization = require(request, Perm.VIEW_CUSTOMERS)
    customer = get_scoped_or_404(Customer.objects.active(), organization, pk=customer_id)
    rows = Coupon.objects.for_org(organization).filter(customer=customer).select_related("template")
    if state:
        rows = rows.filter(state=state)
    items = [coupon_out(c) for c in rows.order_by("-issued_at", "-pk")[:200]]
    return {"items": items, "count": len(items)}


@router.post("/customers/{customer_id}/coupons", response={201: CouponOut}, summary="Issue a coupon by hand")
def issue_coupon(request: ApiRequest, customer_id: IdIn, payload: IssueIn) -> Status:
    """Front desk (``loyalty.sell``). 422 on ``template`` for a code that is not an active template."""
    organization = require(request, Perm.SELL_MEMBERSHIP)
    customer = get_scoped_or_404(Customer.objects.active(), organization, pk=customer_id)
    template = CouponTemplate.objects.for_org(organization).filter(code=payload.template, is_active=True).first()
    if template is None:
        raise ValidationError({"template": [errors.TEMPLATE_UNKNOWN]})
    coupon = coupon_issue(customer=customer, template=template, source=CouponTrigger.MANUAL, by=request.user)
    return Status(201, coupon_out(coupon))


# --- templates ----------------------------------------------------------------------------------


@router.get("/loyalty/coupon-templates", response=TemplateList, summary="Coupon templates")
def list_templates(request: ApiRequest) -> dict[str, Any]:
    """Active first, by code, with their issuing rules (``loyalty.sell``). Queries: templates, services, rules."""
    organization = require(request, Perm.SELL_MEMBERSHIP)
    return {"items": [template_out(t) for t in coupon_templates(organization=organization)]}


@router.post("/loyalty/coupon-templates", response={201: TemplateOut}, summary="Add a coupon template")
def create_template(request: ApiRequest, payload: TemplateIn) -> Status:
    """Store manager. 422 on ``code`` in use, ``value`` out of range for the kind, a ``free_service``
    missing for that kind, unknown ``services``."""
    organization = require(request, Perm.MANAGE_LOYALTY)
    data = _template_data(request, payload.model_dump())
    template = coupon_template_save(organization=organization, data=data)
    return Status(201, _one_template(request, template))


@router.patch("/loyalty/coupon-templates/{template_id}", response=TemplateOut, summary="Change a coupon template")
def patch_template(request: ApiRequest, template_id: IdIn, payload: TemplatePatch) -> dict[str, Any]:
    """Store manager. ``"is_active": false`` stops issuing it; coupons already issued stay valid."""
    organization = require(request, Perm.MANAGE_LOYALTY)
    template = get_scoped_or_404(CouponTemplate.objects.all(), organization, pk=template_id)
    data = _template_data(request, payload.model_dump(exclude_unset=True))
    data = {k: v for k, v in data.items() if v is not None or k == "free_service"}
    template = coupon_template_save(organization=organization, data=data, template=template)
    return _one_template(request, template)


@router.post(
    "/loyalty/coupon-templates/{template_id}/issue", response={202: BulkOut}, summary="Issue to a list of customers"
)
def issue_bulk(request: ApiRequest, template_id: IdIn, payload: BulkIn) -> Status:
    """Store manager. The list is checked now (422 on ``customer_ids``); the coupons are issued in the
    background, each customer once per batch."""
    organization = require(request, Perm.MANAGE_LOYALTY)
    template = get_scoped_or_404(CouponTemplate.objects.all(), organization, pk=template_id)
    batch = coupons_issue_bulk(template=template, customer_ids=payload.customer_ids, by=request.user)
    return Status(202, {"batch": batch, "count": len(set(payload.customer_ids))})


# --- points -------------------------------------------------------------------------------------


class YearEndQuery(Schema):
    year: int | None = Field(default=None, ge=2000, le=2100, description="Default: this year")
    page: int = Field(default=1, ge=1, le=10_000)


@router.get("/loyalty/points/year-end", response=YearEndList, summary="Points expiring at the year end")
def year_end(request: ApiRequest, filters: Query[YearEndQuery]) -> dict[str, Any]:
    """Customers whose points expire at the end of ``year`` unless redeemed, most first, 50 a page
    (``loyalty.manage``). Queries: the count, the page's sums, their customers."""
    organization = require(request, Perm.MANAGE_LOYALTY)
    year = filters.year or timezone.localdate().year
    count, rows = points_year_end(organization=organization, year=year, offset=(filters.page - 1) * 50, limit=50)
    items = [
        {"customer_id": r["customer"].pk, "name": r["customer"].name, "points": r["points"], "expiring": r["expiring"]}
        for r in rows
    ]
    return {"items": items, "count": count, "year": year}
