"""/api/v1/segments: saved segments (客户分组), named filters of the customer list.

The same services as the pages ``/customers/segments/`` (``huitou.analytics.segments``):
everyone who may see the customer list (``customers.view``) lists segments and
reads their customers; the store manager (``analytics.segments``) saves them.
A segment's customers are the customer list's items under its conditions, paged
as ``GET /customers``. Another organization's segment: 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Query, Router, Status
from pydantic import BeforeValidator, Field, WithJsonSchema

from huitou.analytics.models import Segment
from huitou.analytics.segments import (
    AGE_MAX,
    DAYS_MAX,
    NAME_MAX,
    TAGS_MAX,
    segment_create,
    segment_delete,
    segment_update,
)
from huitou.analytics.selectors import segment_customers, segments_list
from huitou.api.base import Schema
from huitou.api.permissions import require
from huitou.api.routers.analytics_rfm import SegmentCode
from huitou.api.routers.customers import customer_out
from huitou.api.routers.exports import ExportJobOut, _export, _file_responses
from huitou.api.schemas import MAX_PAGE, CustomerPage, OwnerOut, TagText
from huitou.api.service_schemas import IdIn, _decimal_text
from huitou.customers.models import Stage
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["segments"])

StageCode = Literal["prospect", "intent", "customer", "member", "dormant", "lost"]
assert set(StageCode.__args__) == set(Stage.values)  # type: ignore[attr-defined]
Days = Annotated[int, Field(ge=1, le=DAYS_MAX)]
CarAge = Annotated[int, Field(ge=0, le=AGE_MAX)]
# Yuan as a decimal string, 0 to 99,999,999.99 (a whole JSON number is taken as its digits).
SpendIn = Annotated[
    str,
    BeforeValidator(_decimal_text),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,8}(\.\d{1,2})?$", "examples": ["1000", "2500.50"]}),
]


class SegmentFilters(Schema):
    """A segment's conditions: a customer is in it when every condition given holds (null or absent: any)."""

    stage: StageCode | None = Field(default=None, description="Lifecycle stage")
    customer_grade: Literal["A", "B", "C"] | None = Field(
        default=None, description="Customer grade (a grade set by hand first)"
    )
    segment: SegmentCode | None = Field(default=None, description="RFM segment, e.g. important_value (重要价值)")
    tags: list[TagText] = Field(default_factory=list, max_length=TAGS_MAX, description="Any of these tag names")
    tier_id: IdIn | None = Field(default=None, description="Membership tier")
    owner_id: IdIn | None = Field(default=None, description="Staff id of the owner")
    shop_id: IdIn | None = Field(default=None, description="Customers whose owner works at this shop")
    last_visit_before_days: Days | None = Field(
        default=None, description="Last paid visit more than this many days ago (never seen: not in)"
    )
    last_visit_within_days: Days | None = Field(
        default=None, description="Last paid visit within this many days; more than `last_visit_before_days`"
    )
    spend_min: SpendIn | None = Field(default=None, description="Lifetime spend at least (yuan, decimal string)")
    spend_max: SpendIn | None = Field(default=None, description="Lifetime spend at most (yuan); not below `spend_min`")
    brand: str | None = Field(default=None, max_length=30, description="An active car of this brand (any case)")
    vehicle_age_min: CarAge | None = Field(
        default=None, description="An active car at least this many years old (model year, else purchase year)"
    )
    vehicle_age_max: CarAge | None = Field(default=None, description="An active car at most this many years old")


class SegmentIn(SegmentFilters):
    name: str = Field(min_length=1, max_length=NAME_MAX, description="Unique in the organization")


class SegmentOut(SegmentIn):
    id: int
    created_by: OwnerOut | None
    created_at: dt.datetime
    updated_at: dt.datetime


def _staff(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "username": user.username, "name": str(user)}


def segment_out(segment: Segment) -> dict[str, Any]:
    f = segment.filters
    return {
        "id": segment.pk,
        "name": segment.name,
        **{k: f.get(k) for k in SegmentFilters.model_fields if k != "tags"},
        "tags": f.get("tags", []),
        "created_by": _staff(segment.created_by),
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


@router.get("/segments", response=list[SegmentOut], summary="Saved segments")
def list_segments(request: ApiRequest) -> list[dict[str, Any]]:
    """Every segment of the organization, by name. Queries: the segments with who made them."""
    organization = require(request, Perm.VIEW_CUSTOMERS)
    return [segment_out(s) for s in segments_list(organization=organization)]


@router.post("/segments", response={201: SegmentOut}, summary="Save a segment")
def create_segment(request: ApiRequest, payload: SegmentIn) -> Status:
    """Refused (422): a name already used, no condition at all, a tier, staff member or shop not of the
    organization, a range the wrong way round."""
    organization = require(request, Perm.MANAGE_SEGMENTS)
    data = payload.model_dump()
    segment = segment_create(organization=organization, name=data.pop("name"), filters=data, by=request.user)
    return Status(201, segment_out(segment))


def _segment(request: ApiRequest, segment_id: int, perm: str) -> Segment:
    """The caller's organization's segment, once their role allows ``perm`` (another's: 404)."""
    organization = require(request, perm)
    return get_scoped_or_404(Segment.objects.select_related("created_by"), organization, pk=segment_id)


@router.get("/segments/{segment_id}", response=SegmentOut, summary="A saved segment")
def get_segment(request: ApiRequest, segment_id: IdIn) -> dict[str, Any]:
    return segment_out(_segment(request, segment_id, Perm.VIEW_CUSTOMERS))


@router.put("/segments/{segment_id}", response=SegmentOut, summary="Rename a segment and replace its conditions")
def put_segment(request: ApiRequest, segment_id: IdIn, payload: SegmentIn) -> dict[str, Any]:
    """Every condition is replaced: one not sent is no longer a condition. Refused as ``POST /segments``."""
    segment = _segment(request, segment_id, Perm.MANAGE_SEGMENTS)
    data = payload.model_dump()
    segment_update(segment=segment, name=data.pop("name"), filters=data, by=request.user)
    return segment_out(segment)


@router.delete("/segments/{segment_id}", response={204: None}, summary="Delete a segment")
def delete_segment(request: ApiRequest, segment_id: IdIn) -> Status:
    """The customers stay as they are; bulk sends already started keep the conditions they started with."""
    segment_delete(segment=_segment(request, segment_id, Perm.MANAGE_SEGMENTS), by=request.user)
    return Status(204, None)


class Paging(Schema):
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=20, ge=1, le=100)


@router.get("/segments/{segment_id}/customers", response=CustomerPage, summary="The customers in a segment")
def list_segment_customers(request: ApiRequest, segment_id: IdIn, paging: Query[Paging]) -> dict[str, Any]:
    """The customers meeting the segment's conditions now, newest first, as items of ``GET /customers``.

    Queries: the segment, the page of customers (owner, source, score and tag
    names in the same statement), the count.
    """
    segment = get_scoped_or_404(Segment.objects.all(), require(request, Perm.VIEW_CUSTOMERS), pk=segment_id)
    customers = segment_customers(segment, with_tags=True)
    start = (paging.page - 1) * paging.page_size
    page = list(customers[start : start + paging.page_size])
    count = customers.count()
    return {
        "items": [customer_out(c, request.user) for c in page],
        "count": count,
        "page": paging.page,
        "page_size": paging.page_size,
    }


@router.get(
    "/segments/{segment_id}/export.xlsx",
    response={202: ExportJobOut},
    summary="Export a segment's customers (.xlsx)",
    openapi_extra=_file_responses("segment"),
)
def export_segment_xlsx(request: ApiRequest, segment_id: IdIn) -> Any:
    """The columns of the customer list's export (``customers.view``); phones masked as the caller sees them."""
    return _export(request, "segment", "xlsx", {"segment": segment_id})


@router.get(
    "/segments/{segment_id}/export.csv",
    response={202: ExportJobOut},
    summary="Export a segment's customers (.csv, UTF-8)",
    openapi_extra=_file_responses("segment"),
)
def export_segment_csv(request: ApiRequest, segment_id: IdIn) -> Any:
    return _export(request, "segment", "csv", {"segment": segment_id})
