"""/api/v1/catalog: the service items (服务项目) and parts (配件) an organization sells.

Every staff member reads the catalog (``catalog.view``); creating and changing
items is the store manager's (``catalog.manage``); the cost of parts shows only
to roles that manage settings (``settings.manage``), null for the others.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from ninja import Query, Router, Status
from pydantic import Field

from huitou.api.base import Schema
from huitou.api.permissions import require
from huitou.api.schemas import MAX_PAGE
from huitou.api.service_schemas import (
    CategoryCode,
    IdIn,
    PartIn,
    PartOut,
    PartPage,
    PartPatch,
    ServiceItemIn,
    ServiceItemOut,
    ServiceItemPage,
    ServiceItemPatch,
    money,
)
from huitou.service import selectors
from huitou.service.models import Part, ServiceItem
from huitou.service.services import catalog as services
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["catalog"])


class CatalogFilters(Schema):
    q: str = Field(default="", description="Part of the name or the code")
    include_inactive: bool = False
    shop: IdIn | None = Field(default=None, description="Also give each item's own price at this shop")
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=50, ge=1, le=200)


class ServiceFilters(CatalogFilters):
    category: CategoryCode | None = None


def _priced(items: QuerySet[Any], organization: Organization, shop_id: int | None) -> QuerySet[Any]:
    """With each item's own price at the shop as ``shop_own_price`` (in the same query), when asked."""
    return selectors.with_shop_price(items, organization=organization, shop_id=shop_id) if shop_id else items


def _own_price(item: ServiceItem | Part) -> Decimal | None:
    return getattr(item, "shop_own_price", None)


def service_item_out(item: ServiceItem, shop_price: Decimal | None = None) -> dict[str, Any]:
    return {
        "id": item.pk,
        "category": item.category,
        "code": item.code,
        "name": item.name,
        "labour_price": money(item.labour_price),
        "standard_hours": str(item.standard_hours),
        "interval_km": item.interval_km,
        "interval_months": item.interval_months,
        "warranty_months": item.warranty_months,
        "warranty_km": item.warranty_km,
        "is_active": item.is_active,
        "shop_price": money(shop_price),
    }


def part_out(part: Part, viewer: User, shop_price: Decimal | None = None) -> dict[str, Any]:
    return {
        "id": part.pk,
        "code": part.code,
        "name": part.name,
        "unit": part.unit,
        "sale_price": money(part.sale_price),
        "cost": money(part.cost) if viewer.has_role_perm(Perm.MANAGE_SETTINGS) else None,
        "is_active": part.is_active,
        "shop_price": money(shop_price),
    }


def _search(items: QuerySet[Any], q: str) -> QuerySet[Any]:
    q = q.strip()
    return items.filter(Q(name__icontains=q) | Q(code__icontains=q)) if q else items


def _writable(data: dict[str, Any]) -> dict[str, Any]:
    """A payload's set fields, without a null ``is_active`` (it would read as False)."""
    if data.get("is_active", True) is None:
        del data["is_active"]
    return data


# --- service items ----------------------------------------------------------------------------


@router.get("/services", response=ServiceItemPage, summary="List service items")
def list_services(request: ApiRequest, filters: Query[ServiceFilters]) -> dict[str, Any]:
    """Active items by category and name (``catalog.view``: all staff).

    Queries: 1 count, 1 page (with the shop's own prices when ``shop`` is given).
    """
    organization = require(request, Perm.VIEW_CATALOG)
    items = _search(selectors.service_items(organization, active_only=not filters.include_inactive), filters.q)
    if filters.category:
        items = items.filter(category=filters.category)
    count = items.count()
    start = (filters.page - 1) * filters.page_size
    page = list(_priced(items, organization, filters.shop)[start : start + filters.page_size])
    return {
        "items": [service_item_out(i, _own_price(i)) for i in page],
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.post("/services", response={201: ServiceItemOut}, summary="Add a service item")
def create_service(request: ApiRequest, payload: ServiceItemIn) -> Status:
    """Store manager only (``catalog.manage``). A code already in use answers 422 on ``code``."""
    organization = require(request, Perm.MANAGE_CATALOG)
    item = services.service_item_save(organization=organization, data=_writable(payload.model_dump(exclude_unset=True)))
    return Status(201, service_item_out(item))


@router.get("/services/{service_id}", response=ServiceItemOut, summary="Read a service item")
def get_service(request: ApiRequest, service_id: IdIn, shop: IdIn | None = None) -> dict[str, Any]:
    """Also an inactive one (``catalog.view``: all staff)."""
    organization = require(request, Perm.VIEW_CATALOG)
    item = get_scoped_or_404(_priced(ServiceItem.objects.all(), organization, shop), organization, pk=service_id)
    return service_item_out(item, _own_price(item))


@router.patch("/services/{service_id}", response=ServiceItemOut, summary="Change a service item")
def patch_service(request: ApiRequest, service_id: IdIn, payload: ServiceItemPatch) -> dict[str, Any]:
    """Store manager only (``catalog.manage``). ``"is_active": false`` takes it off sale;
    orders that used it keep their lines as charged."""
    organization = require(request, Perm.MANAGE_CATALOG)
    item = get_scoped_or_404(ServiceItem.objects.all(), organization, pk=service_id)
    data = _writable(payload.model_dump(exclude_unset=True))
    return service_item_out(services.service_item_save(organization=organization, data=data, item=item))


# --- parts ------------------------------------------------------------------------------------


@router.get("/parts", response=PartPage, summary="List parts and products")
def list_parts(request: ApiRequest, filters: Query[CatalogFilters]) -> dict[str, Any]:
    """Active parts by name (``catalog.view``: all staff; ``cost`` only with ``settings.manage``).

    Queries: 1 count, 1 page (with the shop's own prices when ``shop`` is given).
    """
    organization = require(request, Perm.VIEW_CATALOG)
    found = _search(selectors.parts(organization, active_only=not filters.include_inactive), filters.q)
    count = found.count()
    start = (filters.page - 1) * filters.page_size
    page = list(_priced(found, organization, filters.shop)[start : start + filters.page_size])
    viewer: User = request.user
    return {
        "items": [part_out(p, viewer, _own_price(p)) for p in page],
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.post("/parts", response={201: PartOut}, summary="Add a part or product")
def create_part(request: ApiRequest, payload: PartIn) -> Status:
    """Store manager only (``catalog.manage``). A code already in use answers 422 on ``code``."""
    organization = require(request, Perm.MANAGE_CATALOG)
    part = services.part_save(organization=organization, data=_writable(payload.model_dump(exclude_unset=True)))
    return Status(201, part_out(part, request.user))


@router.get("/parts/{part_id}", response=PartOut, summary="Read a part")
def get_part(request: ApiRequest, part_id: IdIn, shop: IdIn | None = None) -> dict[str, Any]:
    """Also an inactive one (``catalog.view``: all staff; ``cost`` only with ``settings.manage``)."""
    organization = require(request, Perm.VIEW_CATALOG)
    part = get_scoped_or_404(_priced(Part.objects.all(), organization, shop), organization, pk=part_id)
    return part_out(part, request.user, _own_price(part))


@router.patch("/parts/{part_id}", response=PartOut, summary="Change a part")
def patch_part(request: ApiRequest, part_id: IdIn, payload: PartPatch) -> dict[str, Any]:
    """Store manager only (``catalog.manage``)."""
    organization = require(request, Perm.MANAGE_CATALOG)
    part = get_scoped_or_404(Part.objects.all(), organization, pk=part_id)
    data = _writable(payload.model_dump(exclude_unset=True))
    return part_out(services.part_save(organization=organization, data=data, part=part), request.user)
