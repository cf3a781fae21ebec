"""The drain: what is waiting goes out through its provider, a batch at a time; failures back off.

One pass for an organization (``messages_drain``):

1. During quiet hours, SMS and email that fall due are held until they end
   (one UPDATE) and the pass stops. Outside them, held messages whose time
   has come are queued again (one UPDATE).
2. Messages due whose customer has since withdrawn consent or been deleted
   are refused (one UPDATE per channel and purpose).
3. The due SMS and email are claimed a batch at a time: each claim moves the
   batch's next attempt a lease ahead and counts the attempt (one UPDATE), so
   a second drain running at the same time, or after a crash, does not send
   them again before the lease ends. Each message goes to its provider; the
   answers are written back in one bulk UPDATE: sent; failed for good (the
   provider refused it, or it failed ``MAX_ATTEMPTS`` times); or queued again
   after an exponential back-off (1, 2, 4 ... minutes, at most 2 hours).

Manual messages are never sent here: staff mark them sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from huitou.messaging.models import Channel, Message, Purpose, Reason, State
from huitou.messaging.providers import DjangoEmail, Outgoing, Provider, Result, email_configured, sms_provider
from huitou.messaging.selectors import messaging_settings
from huitou.messaging.services.rules import consent_refusals, quiet_until
from huitou.tenancy.models import Organization

BATCH = 500
LEASE = dt.timedelta(minutes=5)
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=2)
MAX_ATTEMPTS = 6


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4, 8 ... minutes, at most 2 hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


@dataclass
class DrainResult:
    released: int = 0
    held: int = 0
    refused: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    batches: int = 0
    details: list[str] = field(default_factory=list)


def _providers(sms: Provider | None, email: Provider | None) -> dict[str, Provider]:
    found: dict[str, Provider] = {}
    sms = sms or sms_provider()
    if sms is not None:
        found[Channel.SMS] = sms
    if email is None and email_configured():
        email = DjangoEmail()
    if email is not None:
        found[Channel.EMAIL] = email
    return found


def messages_drain(
    *,
    organization: Organization | int,
    now: dt.datetime | None = None,
    batch_size: int = BATCH,
    sms: Provider | None = None,
    email: Provider | None = None,
    max_batches: int | None = None,
) -> DrainResult:
    """One pass over the organization's waiting messages (see the module). ``now`` fixes the moment
    (tests); without it each batch reads the clock. ``sms``/``email`` replace the configured providers."""
    org_id = organization if isinstance(organization, int) else organization.pk
    result = DrainResult()
    moment = now or timezone.now()
    settings = messaging_settings(organization=org_id)
    pending = Message.objects.for_org(org_id).filter(state__in=[State.QUEUED, State.HELD])
    until = quiet_until(moment, settings)
    if until is not None:
        result.held = (
            pending.filter(next_attempt_at__lt=until)
            .exclude(channel=Channel.MANUAL, state=State.QUEUED)
            .update(state=State.HELD, reason=Reason.QUIET_HOURS, next_attempt_at=until)
        )
        return result
    result.released = pending.filter(state=State.HELD, next_attempt_at__lte=moment).update(
        state=State.QUEUED,
        reason="",
        next_attempt_at=Case(When(channel=Channel.MANUAL, then=Value(None)), default=Value(moment)),
    )
    due = pending.filter(state=State.QUEUED, next_attempt_at__lte=moment).exclude(channel=Channel.MANUAL)
    result.refused = due.filter(customer__deleted_at__isnull=False).update(
        state=State.REFUSED, reason=Reason.CUSTOMER_DELETED, next_attempt_at=None
    )
    for channel in (Channel.SMS, Channel.EMAIL):
        for purpose in Purpose.values:
            for reason, condition in consent_refusals(channel=channel, purpose=purpose, on_message=True).items():
                result.refused += (
                    due.filter(channel=channel, purpose=purpose)
                    .filter(condition)
                    .update(state=State.REFUSED, reason=reason, next_attempt_at=None)
                )
    providers = _providers(sms, email)
    try:
        while providers and (max_batches is None or result.batches < max_batches):
            moment = now or timezone.now()
            claimed = _claim(org_id, list(providers), moment, batch_size)
            if not claimed:
                break
            result.batches += 1
            answers = [(m, providers[m.channel].send(_outgoing(m, settings.sms_sign))) for m in claimed]
            _record(org_id, answers, now or timezone.now(), result)
    finally:
        for provider in providers.values():
            provider.close()
    return result


def _claim(org_id: int, channels: list[str], moment: dt.datetime, batch_size: int) -> list[Message]:
    """The next batch of due messages on these channels, leased for ``LEASE`` with the attempt counted."""
    with transaction.atomic():
        due = (
            Message.objects.for_org(org_id)
            .filter(state=State.QUEUED, channel__in=channels, next_attempt_at__lte=moment)
            .order_by("next_attempt_at", "pk")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        ids = list(due.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return []
        Message.objects.for_org(org_id).filter(pk__in=ids).update(
            next_attempt_at=moment + LEASE, attempts=F("attempts") + 1
        )
        return list(
            Message.objects.for_org(org_id)
            .filter(pk__in=ids)
            .select_related("template")
            .only("pk", "channel", "to", "subject", "body", "params", "attempts", "template__sms_template_id")
            .order_by("pk")
        )


def _outgoing(message: Message, sign: str) -> Outgoing:
    template = message.template
    return Outgoing(
        id=message.pk,
        to=message.to,
        body=message.body,
        subject=message.subject,
        sms_template_id=template.sms_template_id if template is not None else "",
        params=[tuple(p) for p in message.params or []],
        sign=sign,
    )


def _record(org_id: int, answers: list[tuple[Message, Result]], moment: dt.datetime, result: DrainResult) -> None:
    """Write a batch's answers back in one bulk UPDATE."""
    for message, answer in answers:
        message.detail = answer.detail[:300]
        if answer.ok:
            message.state, message.reason, message.sent_at = State.SENT, "", moment
            message.provider_ref, message.next_attempt_at = answer.ref[:64], None
            result.sent += 1
        elif answer.transient and message.attempts < MAX_ATTEMPTS:
            message.state, message.reason = State.QUEUED, Reason.PROVIDER_RETRY
            message.next_attempt_at = moment + backoff(message.attempts)
            result.retried += 1
        else:
            message.state, message.next_attempt_at = State.FAILED, None
            message.reason = Reason.PROVIDER_FAILED if answer.transient else Reason.PROVIDER_REFUSED
            result.failed += 1
    with transaction.atomic():
        Message.objects.for_org(org_id).bulk_update(
            [m for m, _a in answers],
            ["state", "reason", "detail", "sent_at", "provider_ref", "next_attempt_at"],
            batch_size=len(answers),
        )
