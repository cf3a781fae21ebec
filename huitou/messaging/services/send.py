"""Sending one message: fill the text, pass the rules, queue, hold or refuse it; marking a manual one sent.

``message_send`` is what every sender calls (the customer file's send form,
``POST /api/v1/messages``, care reminders, bulk sends through
``services.bulk``). Input that makes no message (no text, an unknown
placeholder, a value missing) raises ``ValidationError``; a message the rules
stop is still recorded, ``refused`` (or ``held`` for quiet hours) with its
reason, so the outbox shows every attempt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huitou.customers.models import Customer, Vehicle
from huitou.messaging import errors
from huitou.messaging.models import Channel, Message, MessageTemplate, Purpose, Reason, State
from huitou.messaging.placeholders import body_check, missing_values, params_of, placeholders_in, render
from huitou.messaging.providers import email_configured, sms_configured
from huitou.messaging.selectors import messaging_settings
from huitou.messaging.services.rules import address_of, consent_reason, marketing_this_week, quiet_until
from huitou.service.errors import StateConflict
from huitou.tenancy.models import User

# What a preview shows for a placeholder nothing fills.
SAMPLE_VALUES: dict[str, str] = {
    "name": "张先生",
    "plate": "粤B12345",
    "car": "丰田 卡罗拉",
    "service": "小保养",
    "due_date": "12月9日",
    "shop": "老王汽修",
    "coupon": "20元工时券",
    "points": "1280",
    "tier": "金卡",
}


def customer_values(*, customer: Customer, names: list[str], given: Mapping[str, str] | None = None) -> dict[str, str]:
    """The placeholders' values for one customer: what the caller gave, then what the file knows.

    Reads only what ``names`` needs: the newest active vehicle (plate, car), the
    membership account (points, tier), the newest unused coupon's name.
    """
    values = {k: str(v).strip() for k, v in (given or {}).items() if v is not None and str(v).strip()}
    wanted = [n for n in names if n not in values]
    org_id = customer.organization_id
    if "name" in wanted:
        values["name"] = customer.name
    if "shop" in wanted:
        values["shop"] = customer.organization.name
    if {"plate", "car"} & set(wanted):
        vehicle = Vehicle.objects.active().for_org(org_id).filter(customer=customer).order_by("-pk").first()
        if vehicle is not None:
            values.setdefault("plate", vehicle.plate)
            values.setdefault("car", f"{vehicle.brand} {vehicle.model}".strip())
    if {"points", "tier"} & set(wanted):
        from huitou.loyalty.models import LoyaltyAccount

        account = LoyaltyAccount.objects.for_org(org_id).filter(customer=customer).select_related("tier").first()
        if account is not None:
            values.setdefault("points", str(account.points))
            if account.tier is not None:
                values.setdefault("tier", account.tier.name)
    if "coupon" in wanted:
        from huitou.loyalty.models import Coupon

        coupon = (
            Coupon.objects.for_org(org_id)
            .filter(customer=customer, state=Coupon.State.ISSUED, expires_on__gte=timezone.localdate())
            .order_by("-issued_at")
            .first()
        )
        if coupon is not None:
            values.setdefault("coupon", coupon.name)
    return values


def message_preview(*, body: str, customer: Customer | None = None, given: Mapping[str, str] | None = None) -> str:
    """The text as a customer would read it; sample values where nothing fills a placeholder."""
    names = placeholders_in(body)
    values = customer_values(customer=customer, names=names, given=given) if customer is not None else dict(given or {})
    return render(body, {**SAMPLE_VALUES, **{k: v for k, v in values.items() if v}})


def _text_of(*, template: MessageTemplate | None, body: str | None, purpose: str | None) -> tuple[str, str]:
    """(the text with its placeholders, the purpose), or the input's refusal."""
    if (template is None) == (not (body or "").strip()):
        raise ValidationError({"template": [errors.TEMPLATE_OR_BODY]})
    if template is not None:
        if not template.is_active:
            raise ValidationError({"template": [errors.TEMPLATE_INACTIVE]})
        if template.purpose == Purpose.MARKETING and purpose == Purpose.SERVICE:
            raise ValidationError({"purpose": [errors.MARKETING_AS_SERVICE]})
        return template.body, purpose or template.purpose
    if purpose not in Purpose.values:
        raise ValidationError({"purpose": [errors.PURPOSE_REQUIRED]})
    return body_check(body or ""), str(purpose)


def refusal(
    *, customer: Customer, channel: str, purpose: str, template: MessageTemplate | None, withdrawn: bool | None = None
) -> str:
    """Why this send may not go at all ('' when it may): where to, the channel, consent."""
    if customer.deleted_at is not None:
        return Reason.CUSTOMER_DELETED
    _to, reason = address_of(customer=customer, channel=channel)
    if reason:
        return reason
    if channel == Channel.SMS:
        if not sms_configured():
            return Reason.SMS_OFF
        if template is None or not template.sms_template_id:
            return Reason.SMS_TEMPLATE_MISSING
    if channel == Channel.EMAIL and not email_configured():
        return Reason.EMAIL_OFF
    return consent_reason(customer=customer, channel=channel, purpose=purpose, withdrawn=withdrawn)


def message_send(
    *,
    customer: Customer,
    channel: str = Channel.MANUAL,
    purpose: str | None = None,
    template: MessageTemplate | None = None,
    body: str | None = None,
    values: Mapping[str, str] | None = None,
    subject: str = "",
    by: User | None,
    now: dt.datetime | None = None,
) -> Message:
    """Queue one message to ``customer``: ``template`` (its purpose unless a stricter one is given) or
    ``body`` (with ``purpose``), placeholders filled from ``values`` and the file.

    The rules decide its state: refused (no address, the channel off, no
    consent, the weekly cap of marketing messages reached), held (quiet hours:
    until they end) or queued (manual: for staff to copy and mark sent; SMS and
    email: for the drain, started on commit).
    """
    now = now or timezone.now()
    if channel not in Channel.values:
        raise ValidationError({"channel": [errors.CHANNEL_INVALID]})
    text, purpose = _text_of(template=template, body=body, purpose=purpose)
    names = placeholders_in(text)
    filled = customer_values(customer=customer, names=names, given=values)
    if missing := missing_values(text, filled):
        raise ValidationError({"values": [errors.VALUES_MISSING % {"names": "、".join(f"{{{n}}}" for n in missing)}]})
    org_id = customer.organization_id
    settings = messaging_settings(organization=org_id)
    with transaction.atomic():
        # One sender at a time per customer, so two sends cannot both take the last place under the cap.
        Customer.objects.for_org(org_id).select_for_update().filter(pk=customer.pk).first()
        reason = refusal(customer=customer, channel=channel, purpose=purpose, template=template)
        cap = settings.weekly_marketing_cap
        if not reason and purpose == Purpose.MARKETING and marketing_this_week(customer=customer, now=now) >= cap:
            reason = Reason.WEEKLY_CAP
        held_until = None if reason else quiet_until(now, settings)
        if reason:
            state = State.REFUSED
        elif held_until is not None:
            state, reason = State.HELD, Reason.QUIET_HOURS
        else:
            state = State.QUEUED
        to, _none = address_of(customer=customer, channel=channel)
        message = Message.objects.create(
            organization_id=org_id,
            customer=customer,
            template=template,
            channel=channel,
            purpose=purpose,
            state=state,
            reason=reason,
            to=to,
            subject=(subject or (template.name if template else "") or customer.organization.name)[:100],
            body=render(text, filled),
            params=params_of(text, filled),
            next_attempt_at=held_until or (now if state == State.QUEUED and channel != Channel.MANUAL else None),
            created_at=now,
            created_by=by,
        )
        if state == State.QUEUED and channel != Channel.MANUAL:
            from huitou.messaging.tasks import drain_for

            transaction.on_commit(lambda: drain_for(org_id))
    return message


def message_mark_sent(*, message: Message, by: User | None, now: dt.datetime | None = None) -> Message:
    """Staff copied a manual message to WeChat (or read it out) and say it is sent.

    409 (``StateConflict``) for another channel, for a message not waiting, and
    during quiet hours for a held one (after they end it can go).
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Message.objects.for_org(message.organization_id).select_for_update().get(pk=message.pk)
        if locked.channel != Channel.MANUAL:
            raise StateConflict(errors.NOT_MANUAL)
        if locked.state == State.HELD:
            until = quiet_until(now, messaging_settings(organization=locked.organization_id))
            if until is not None:
                raise StateConflict(errors.HELD_UNTIL % {"time": timezone.localtime(until).strftime("%H:%M")})
        elif locked.state != State.QUEUED:
            raise StateConflict(errors.NOT_QUEUED)
        locked.state, locked.reason, locked.sent_at, locked.sent_by = State.SENT, "", now, by
        locked.next_attempt_at = None
        locked.save(update_fields=["state", "reason", "sent_at", "sent_by", "next_attempt_at"])
    message.state, message.reason, message.sent_at, message.sent_by = locked.state, "", now, by
    return locked
