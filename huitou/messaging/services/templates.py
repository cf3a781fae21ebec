"""The template library (短信库) and the organization's message settings."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from huitou.messaging import errors
from huitou.messaging.models import MessageTemplate, MessagingSettings, Purpose
from huitou.messaging.placeholders import body_check
from huitou.messaging.selectors import messaging_settings
from huitou.tenancy.models import Organization

CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
TEMPLATE_FIELDS = ("code", "name", "purpose", "body", "sms_template_id", "is_active")


def message_template_save(
    *, organization: Organization | int, data: Mapping[str, Any], template: MessageTemplate | None = None
) -> MessageTemplate:
    """Create a template, or change the keys of ``data`` on ``template``.

    Refused field by field: a code in use or malformed, no name, a purpose
    other than service or marketing, a text without words, with an unknown
    placeholder or a stray brace.
    """
    org_id = organization if isinstance(organization, int) else organization.pk
    row = template or MessageTemplate(organization_id=org_id)
    problems: dict[str, list[Any]] = {}
    for key in TEMPLATE_FIELDS:
        if key not in data:
            continue
        value = data[key]
        if key in ("code", "name", "sms_template_id", "body"):
            value = (value or "").strip()
        if key == "code" and not CODE.match(value):
            problems.setdefault("code", []).append(errors.CODE_INVALID)
        if key == "name" and not value:
            problems.setdefault("name", []).append(errors.NAME_REQUIRED)
        if key == "name":
            value = value[:60]
        if key == "purpose" and value not in Purpose.values:
            problems.setdefault("purpose", []).append(errors.PURPOSE_REQUIRED)
        if key == "body":
            try:
                value = body_check(value)
            except ValidationError as exc:
                problems.setdefault("body", []).extend(exc.message_dict["body"])
        if key == "sms_template_id":
            value = value[:40]
        if key == "is_active":
            value = bool(value)
        setattr(row, key, value)
    if template is None:
        for key in ("code", "name", "body"):
            if key not in data:
                problems.setdefault(key, []).append(
                    {"code": errors.CODE_INVALID, "name": errors.NAME_REQUIRED, "body": errors.BODY_REQUIRED}[key]
                )
    if "code" not in problems and row.code:
        taken = MessageTemplate.objects.for_org(org_id).filter(code=row.code).exclude(pk=row.pk).exists()
        if taken:
            problems["code"] = [errors.CODE_TAKEN]
    if problems:
        raise ValidationError(problems)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:  # the same code saved at the same moment
        raise ValidationError({"code": [errors.CODE_TAKEN]}) from exc
    return row


def messaging_settings_save(
    *,
    organization: Organization | int,
    quiet_start: dt.time,
    quiet_end: dt.time,
    weekly_marketing_cap: int,
    sms_sign: str = "",
) -> MessagingSettings:
    """Quiet hours (start equal to end: none), the weekly cap of marketing messages (0-50), the SMS signature."""
    problems: dict[str, list[Any]] = {}
    if not 0 <= int(weekly_marketing_cap) <= 50:
        problems["weekly_marketing_cap"] = [errors.CAP_INVALID]
    if problems:
        raise ValidationError(problems)
    row = messaging_settings(organization=organization)
    row.quiet_start, row.quiet_end = quiet_start, quiet_end
    row.weekly_marketing_cap = int(weekly_marketing_cap)
    row.sms_sign = (sms_sign or "").strip()[:20]
    row.save()
    return row
