"""/api/v1/messages: the outbox. The customer file's send form and the outbox page call the same services.

``POST /messages`` records every send: one the rules stop comes back ``201``
with ``"state": "refused"`` (or ``"held"`` in quiet hours) and the reason,
as the page shows it. Input that makes no message (no text, an unknown
placeholder, a value the text needs missing) is a 422. Sending and the
outbox are for staff who follow customers up (``customers.follow_up``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from ninja import Query, Router, Status
from pydantic import ConfigDict, Field

from huitou.api.base import Schema
from huitou.api.lookups import in_org
from huitou.api.permissions import require
from huitou.api.schemas import MAX_PAGE, trimmed
from huitou.api.service_schemas import IdIn
from huitou.customers.models import Customer
from huitou.messaging import errors
from huitou.messaging.models import Message, MessageTemplate
from huitou.messaging.selectors import message_templates, outbox
from huitou.messaging.services.send import message_mark_sent, message_send
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.paging import count_capped

router = Router(tags=["messages"])

ChannelCode = Literal["manual", "sms", "email"]
PurposeCode = Literal["service", "marketing"]
StateCode = Literal["queued", "held", "sent", "failed", "refused"]
TemplateCode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$", examples=["maintenance"])]
Value = Annotated[str, Field(max_length=100)]
PAGE_SIZE = 50


class Values(Schema):
    """What fills the text's placeholders where the customer's file does not (the file fills
    name, plate, car, shop, points, tier and coupon unless given here)."""

    model_config = ConfigDict(extra="forbid")

    name: Value | None = None
    plate: Value | None = None
    car: Value | None = None
    service: Value | None = Field(default=None, examples=["小保养"])
    due_date: Value | None = Field(default=None, examples=["12月9日"])
    shop: Value | None = None
    coupon: Value | None = None
    points: Value | None = None
    tier: Value | None = None


class MessageIn(Schema):
    customer_id: IdIn = Field(description="An active customer file")
    channel: ChannelCode = Field(
        default="manual", description="manual: staff copy it to WeChat and mark it sent; sms: needs a template"
    )
    purpose: PurposeCode | None = Field(
        default=None,
        description="Required with body; with template, the template's purpose unless marketing is asked for",
    )
    template: TemplateCode | None = Field(default=None, description="A template in use, by code; or body")
    body: Annotated[str, trimmed(500, required=True)] | None = Field(
        default=None, description="The text, with placeholders such as {name} {plate}; or template"
    )
    values: Values | None = None
    subject: Annotated[str, trimmed(100)] = Field(
        default="", description="Email subject (default: the template's name)"
    )


class MessageOut(Schema):
    id: int
    customer_id: int
    channel: ChannelCode
    purpose: PurposeCode
    state: StateCode
    reason: str = Field(description="Why it was refused, held or failed, in the caller's language; empty otherwise")
    reason_code: str = Field(
        description="consent_missing, consent_withdrawn, weekly_cap, quiet_hours, no_phone, no_email, sms_off, "
        "email_off, sms_template, values_missing, customer_deleted, provider_retry, provider_failed, "
        "provider_refused; empty otherwise"
    )
    template: str | None = Field(description="The template's code")
    body: str
    to: str
    attempts: int
    next_attempt_at: dt.datetime | None = Field(description="Held: when quiet hours end; queued: the next try")
    created_at: dt.datetime
    sent_at: dt.datetime | None


class MessagePage(Schema):
    items: list[MessageOut]
    count: int = Field(description="Counted up to 10,000; 10,001 means more")
    page: int


class MessageFilters(Schema):
    customer_id: IdIn | None = None
    state: StateCode | None = None
    channel: ChannelCode | None = None
    purpose: PurposeCode | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE)


class MessageTemplateOut(Schema):
    id: int
    code: str
    name: str
    purpose: PurposeCode
    body: str
    sms_template_id: str
    is_active: bool


class MessageTemplateList(Schema):
    items: list[MessageTemplateOut]


def message_out(message: Message) -> dict[str, Any]:
    """(``template`` selected, or one query more.)"""
    return {
        "id": message.pk,
        "customer_id": message.customer_id,
        "channel": message.channel,
        "purpose": message.purpose,
        "state": message.state,
        "reason": str(message.get_reason_display()) if message.reason else "",
        "reason_code": message.reason,
        "template": message.template.code if message.template is not None else None,
        "body": message.body,
        "to": message.to,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at,
        "created_at": message.created_at,
        "sent_at": message.sent_at,
    }


@router.post("/messages", response={201: MessageOut}, summary="Send a message to a customer")
def send_message(request: ApiRequest, payload: MessageIn) -> Status:
    """Queued, held (quiet hours) or refused with the reason: all 201. 422: ``customer_id`` not an active
    file of the organization, ``template`` unknown or not in use, neither or both of template and body,
    an unknown placeholder in ``body``, ``values`` the text needs missing, a marketing template as service."""
    organization = require(request, Perm.FOLLOW_UP)
    customer = in_org(
        Customer.objects.active().select_related("organization"),
        organization,
        payload.customer_id,
        "customer_id",
        errors.CUSTOMER_UNKNOWN,
    )
    template = None
    if payload.template is not None:
        template = MessageTemplate.objects.for_org(organization).filter(code=payload.template).first()
        if template is None:
            raise ValidationError({"template": [errors.TEMPLATE_UNKNOWN]})
    message = message_send(
        customer=customer,
        channel=payload.channel,
        purpose=payload.purpose,
        template=template,
        body=payload.body,
        values=payload.values.model_dump(exclude_none=True) if payload.values else None,
        subject=payload.subject.strip(),
        by=request.user,
    )
    message.template = template
    return Status(201, message_out(message))


@router.get("/messages", response=MessagePage, summary="The outbox")
def list_messages(request: ApiRequest, filters: Query[MessageFilters]) -> dict[str, Any]:
    """Newest first, 50 a page. Queries: the page (with templates), the count (up to 10,001)."""
    organization = require(request, Perm.FOLLOW_UP)
    rows = outbox(
        organization=organization,
        customer_id=filters.customer_id,
        state=filters.state or "",
        channel=filters.channel or "",
        purpose=filters.purpose or "",
    )
    start = (filters.page - 1) * PAGE_SIZE
    items = [message_out(m) for m in rows[start : start + PAGE_SIZE]]
    return {"items": items, "count": count_capped(rows, 10_000), "page": filters.page}


@router.get("/messages/{message_id}", response=MessageOut, summary="One message")
def get_message(request: ApiRequest, message_id: IdIn) -> dict[str, Any]:
    organization = require(request, Perm.FOLLOW_UP)
    return message_out(get_scoped_or_404(Message.objects.select_related("template"), organization, pk=message_id))


@router.post("/messages/{message_id}/sent", response=MessageOut, summary="Mark a manual message sent")
def mark_sent(request: ApiRequest, message_id: IdIn) -> dict[str, Any]:
    """Staff copied the text to WeChat and sent it. 409: not a manual message, not waiting, or held in
    quiet hours."""
    organization = require(request, Perm.FOLLOW_UP)
    message = get_scoped_or_404(Message.objects.select_related("template"), organization, pk=message_id)
    sent = message_mark_sent(message=message, by=request.user)
    sent.template = message.template
    return message_out(sent)


@router.get("/message-templates", response=MessageTemplateList, summary="The template library (短信库)")
def list_templates(request: ApiRequest) -> dict[str, Any]:
    """In use first, by name. Queries: the templates."""
    organization = require(request, Perm.FOLLOW_UP)
    return {
        "items": [
            {
                "id": t.pk,
                "code": t.code,
                "name": t.name,
                "purpose": t.purpose,
                "body": t.body,
                "sms_template_id": t.sms_template_id,
                "is_active": t.is_active,
            }
            for t in message_templates(organization=organization)
        ]
    }
