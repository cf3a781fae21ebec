"""/api/v1/complaints: the complaint board and the nine steps. The pages call the same services.

Front staff (``customers.follow_up``: store manager, service advisor,
customer service) open complaints and record their steps. A step out of
order, closing before the customer's feedback, or a write to a closed
complaint answer 409; compensation (a coupon or stored value at the step
"compensate") is given by those who issue coupons (``loyalty.sell``), else 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from ninja import Query, Router, Status
from pydantic import Field

from huitou.api.base import Schema
from huitou.api.errors import fields_renamed
from huitou.api.lookups import in_org
from huitou.api.permissions import require
from huitou.api.schemas import trimmed
from huitou.api.service_schemas import IdIn, MoneyIn
from huitou.care import errors
from huitou.care.models import STEP_ORDER, Complaint
from huitou.care.selectors_complaints import complaint_get, complaint_view, complaints_filtered
from huitou.care.services.complaints import (
    complaint_close,
    complaint_open,
    complaint_reopen,
    complaint_step_record,
)
from huitou.customers.models import Customer, Vehicle
from huitou.loyalty.models import CouponTemplate
from huitou.service import errors as service_errors
from huitou.service.models import ServiceOrder
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm

router = Router(tags=["complaints"])

PAGE_SIZE = 50
MAX_PAGE = 10_000

StepCode = Literal["listen", "vent", "apologise", "confirm", "explain", "propose", "compensate", "outcome", "feedback"]
StateCode = Literal["open", "closed"]
assert tuple(StepCode.__args__) == STEP_ORDER  # type: ignore[attr-defined]


class StepOut(Schema):
    step: StepCode
    round: int = Field(description="1, then one more for each reopening")
    note: str
    by: int = Field(description="The staff member who recorded it")
    at: dt.datetime
    due_at: dt.datetime | None = Field(description="Its deadline when it was recorded")
    late: bool
    coupon_id: int | None = Field(description="The coupon given as compensation")
    stored_value_entry_id: int | None = Field(description="The stored-value entry given as compensation")


class EventOut(Schema):
    kind: Literal["opened", "escalated", "closed", "reopened"]
    round: int
    step: StepCode | Literal[""] = Field(description="escalated: the step that was late")
    note: str = Field(description="reopened: why")
    by: int | None = Field(description="None: the system (escalation)")
    at: dt.datetime


class ComplaintOut(Schema):
    id: int
    customer_id: int
    customer: str = Field(description="The customer's name")
    vehicle_id: int | None
    order_id: int | None
    callback_id: int | None = Field(description="The callback whose low score opened it")
    source: Literal["callback", "manual"]
    summary: str
    owner: int = Field(description="The staff member handling it")
    state: StateCode
    round: int
    steps_done: int = Field(ge=0, le=9, description="Steps recorded in this round")
    next_step: StepCode | None = Field(description="The step to record next; None when all nine are or it is closed")
    due_at: dt.datetime | None = Field(description="The next step's deadline")
    late: bool = Field(description="Open and past the next step's deadline")
    escalated: bool = Field(description="The late step has been escalated to the store managers")
    opened_at: dt.datetime
    closed_at: dt.datetime | None


class ComplaintDetail(ComplaintOut):
    steps: list[StepOut] = Field(description="Every recorded step, oldest first, earlier rounds included")
    events: list[EventOut] = Field(description="Opened, escalated, closed, reopened")


class ComplaintList(Schema):
    items: list[ComplaintOut]
    count: int


class ComplaintFilters(Schema):
    state: StateCode | Literal["late"] | None = Field(
        default=None, description="open (oldest first), late (most overdue first), closed (latest first); none: all"
    )
    customer_id: IdIn | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE)


class ComplaintIn(Schema):
    customer_id: IdIn = Field(description="An active customer file")
    summary: Annotated[str, trimmed(500, required=True, examples=["保养后发动机异响"])]
    vehicle_id: IdIn | None = Field(default=None, description="One of the customer's vehicles")
    order_id: IdIn | None = Field(default=None, description="One of the customer's service orders")
    owner: IdIn | None = Field(default=None, description="The staff member handling it; default: the caller")


class StepIn(Schema):
    step: StepCode = Field(description="Only the next step of the complaint (409 otherwise)")
    note: Annotated[str, trimmed(2000, required=True, examples=["客户表示满意"])]
    coupon_template: Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_-]+$")] | None = Field(
        default=None, description="step compensate: give a coupon of this active template (by its code)"
    )
    stored_value: MoneyIn | None = Field(
        default=None,
        description="step compensate: give this much stored value (bonus), above 0 and at most 10000.00; "
        "not with coupon_template",
    )


class ReopenIn(Schema):
    reason: Annotated[str, trimmed(500, required=True, examples=["一周后异响又出现"])]


def complaint_out(c: Complaint, now: dt.datetime) -> dict[str, Any]:
    """(``customer`` selected, or one query more.)"""
    return {
        "id": c.pk,
        "customer_id": c.customer_id,
        "customer": c.customer.name,
        "vehicle_id": c.vehicle_id,
        "order_id": c.order_id,
        "callback_id": c.callback_id,
        "source": c.source,
        "summary": c.summary,
        "owner": c.owner_id,
        "state": c.state,
        "round": c.round,
        "steps_done": c.steps_done,
        "next_step": c.next_step,
        "due_at": c.due_at,
        "late": c.state == Complaint.State.OPEN and c.due_at is not None and c.due_at < now,
        "escalated": c.escalated_at is not None,
        "opened_at": c.opened_at,
        "closed_at": c.closed_at,
    }


def _detail(request: ApiRequest, complaint_id: int) -> dict[str, Any]:
    """Queries: the complaint (+customer ...), its steps, its log, the deadlines, the callback's questions."""
    view = complaint_view(complaint=complaint_get(organization=request.organization, pk=complaint_id))
    steps = [s.recorded for s in view.steps if s.recorded is not None]
    return {
        **complaint_out(view.complaint, timezone.now()),
        "steps": [
            {
                "step": s.step,
                "round": s.round,
                "note": s.note,
                "by": s.by_id,
                "at": s.at,
                "due_at": s.due_at,
                "late": s.late,
                "coupon_id": s.coupon_id,
                "stored_value_entry_id": s.stored_value_entry_id,
            }
            for s in [*view.earlier, *steps]
        ],
        "events": [
            {"kind": e.kind, "round": e.round, "step": e.step, "note": e.note, "by": e.by_id, "at": e.at}
            for e in view.events
        ],
    }


@router.get("", response=ComplaintList, summary="The complaint board")
def list_complaints(request: ApiRequest, filters: Query[ComplaintFilters]) -> dict[str, Any]:
    """50 a page. Queries: the count, the page with customers (vehicles and owners selected too)."""
    organization = require(request, Perm.FOLLOW_UP)
    now = timezone.now()
    rows = complaints_filtered(organization=organization, state=filters.state, customer_id=filters.customer_id, now=now)
    start = (filters.page - 1) * PAGE_SIZE
    return {
        "items": [complaint_out(c, now) for c in rows[start : start + PAGE_SIZE]],
        "count": rows.count(),
    }


@router.post("", response={201: ComplaintDetail}, summary="Open a complaint")
def open_complaint(request: ApiRequest, payload: ComplaintIn) -> Status:
    """By hand (a low callback score opens one by itself). 422 on ``customer_id``, ``vehicle_id``,
    ``order_id`` or ``owner`` not of the organization (or the vehicle or order not the customer's)."""
    organization = require(request, Perm.FOLLOW_UP)
    customer = in_org(
        Customer.objects.active(), organization, payload.customer_id, "customer_id", service_errors.CUSTOMER_UNKNOWN
    )
    vehicle = None
    if payload.vehicle_id is not None:
        vehicle = in_org(
            Vehicle.objects.active(),
            organization,
            payload.vehicle_id,
            "vehicle_id",
            errors.COMPLAINT_VEHICLE_NOT_THEIRS,
        )
    order = None
    if payload.order_id is not None:
        order = in_org(
            ServiceOrder.objects.all(), organization, payload.order_id, "order_id", errors.COMPLAINT_ORDER_NOT_THEIRS
        )
    owner = None
    if payload.owner is not None:
        owner = in_org(
            User.objects.filter(is_active=True), organization, payload.owner, "owner", errors.COMPLAINT_OWNER_UNKNOWN
        )
    with fields_renamed({"vehicle": "vehicle_id", "order": "order_id"}):
        complaint = complaint_open(
            customer=customer, summary=payload.summary, by=request.user, owner=owner, vehicle=vehicle, order=order
        )
    return Status(201, _detail(request, complaint.pk))


@router.get("/{complaint_id}", response=ComplaintDetail, summary="One complaint with its steps")
def get_complaint(request: ApiRequest, complaint_id: IdIn) -> dict[str, Any]:
    require(request, Perm.FOLLOW_UP)
    return _detail(request, complaint_id)


@router.post("/{complaint_id}/steps", response={201: ComplaintDetail}, summary="Record the next step")
def record_step(request: ApiRequest, complaint_id: IdIn, payload: StepIn) -> Status:
    """409: not the next step, all nine recorded, or the complaint closed. 422: no note; compensation
    off its step, both kinds at once, an amount out of range, an unknown template. 403: compensation
    by someone who does not issue coupons."""
    organization = require(request, Perm.FOLLOW_UP)
    complaint = complaint_get(organization=organization, pk=complaint_id)
    template = None
    if payload.coupon_template is not None:
        template = CouponTemplate.objects.for_org(organization).filter(code=payload.coupon_template).first()
        if template is None:
            raise ValidationError({"coupon_template": [errors.COMPENSATION_TEMPLATE_UNKNOWN]})
    complaint_step_record(
        complaint=complaint,
        step=payload.step,
        note=payload.note,
        by=request.user,
        coupon_template=template,
        stored_value=payload.stored_value,
    )
    return Status(201, _detail(request, complaint_id))


@router.post("/{complaint_id}/close", response=ComplaintDetail, summary="Close a complaint")
def close_complaint(request: ApiRequest, complaint_id: IdIn) -> dict[str, Any]:
    """409 until the customer's feedback (the ninth step) is recorded, or when already closed."""
    organization = require(request, Perm.FOLLOW_UP)
    complaint_close(complaint=complaint_get(organization=organization, pk=complaint_id), by=request.user)
    return _detail(request, complaint_id)


@router.post("/{complaint_id}/reopen", response=ComplaintDetail, summary="Reopen a closed complaint")
def reopen_complaint(request: ApiRequest, complaint_id: IdIn, payload: ReopenIn) -> dict[str, Any]:
    """A new round from the first step; logged with the reason. 409 when it is not closed."""
    organization = require(request, Perm.FOLLOW_UP)
    complaint = complaint_get(organization=organization, pk=complaint_id)
    complaint_reopen(complaint=complaint, by=request.user, reason=payload.reason)
    return _detail(request, complaint_id)
