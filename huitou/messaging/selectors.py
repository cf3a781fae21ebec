"""Reads of messaging: settings, templates, the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from huitou.messaging.models import BulkSend, Message, MessageTemplate, MessagingSettings
from huitou.tenancy.models import Organization


def messaging_settings(*, organization: Organization | int) -> MessagingSettings:
    """The organization's settings row, or an unsaved one with the defaults."""
    org_id = organization if isinstance(organization, int) else organization.pk
    found = MessagingSettings.objects.for_org(org_id).first()
    return found if found is not None else MessagingSettings(organization_id=org_id)


def message_templates(*, organization: Organization | int, active_only: bool = False) -> QuerySet[MessageTemplate]:
    """The library: in use first, then by name."""
    rows = MessageTemplate.objects.for_org(organization)
    if active_only:
        rows = rows.filter(is_active=True)
    return rows.order_by("-is_active", "name", "pk")


def outbox(
    *,
    organization: Organization | int,
    customer_id: int | None = None,
    state: str = "",
    channel: str = "",
    purpose: str = "",
    since: dt.datetime | None = None,
) -> QuerySet[Message]:
    """Messages newest first, with their customer and template (one query per page)."""
    rows = Message.objects.for_org(organization)
    filters: dict[str, Any] = {}
    if customer_id is not None:
        filters["customer_id"] = customer_id
    if state:
        filters["state"] = state
    if channel:
        filters["channel"] = channel
    if purpose:
        filters["purpose"] = purpose
    if since is not None:
        filters["created_at__gte"] = since
    return (
        rows.filter(**filters)
        .select_related("customer", "template", "sent_by", "created_by")
        .order_by("-created_at", "-pk")
    )


def bulk_sends(*, organization: Organization | int) -> QuerySet[BulkSend]:
    return BulkSend.objects.for_org(organization).select_related("template", "created_by").order_by("-created_at")
