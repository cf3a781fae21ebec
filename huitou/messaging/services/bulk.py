"""Bulk sends: one template to the customers a filter picks, in batches by a huey task, with progress.

``bulk_send_start`` checks the input and counts the customers now; the task
(``tasks.bulk_send_run``) then runs ``bulk_send_batch`` until none is left.
Each batch is one transaction that reads 500 customers above the cursor with
what the text needs (set-based: the plate, points, coupon as subqueries, the
withdrawn-consent flag as an EXISTS, the week's marketing count as one
grouped query), applies the same rules as ``message_send``, inserts the
messages in one statement and moves the cursor and the counts under a lock on
the bulk send's row, so a task run twice, or resumed after a crash, never
sends a customer two messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from huitou.analytics.models import Segment
from huitou.analytics.selectors import segment_filter_customers
from huitou.customers.models import Customer, Stage, Vehicle
from huitou.messaging import errors
from huitou.messaging.models import BulkSend, Channel, Message, MessageTemplate, Purpose, Reason, State
from huitou.messaging.placeholders import params_of, placeholders_in, render
from huitou.messaging.selectors import messaging_settings
from huitou.messaging.services.rules import CONSENT_CHANNEL, address_of, marketing_counts, quiet_until
from huitou.messaging.services.send import refusal
from huitou.tenancy.models import Organization, User

BATCH = 500
MAX_BULK = 200_000
# Placeholders each customer's file fills; the others (service, due date...) must be given for everyone.
PER_CUSTOMER = frozenset({"name", "plate", "car", "shop", "points", "tier", "coupon"})


def bulk_targets(*, organization: Organization | int, filters: Mapping[str, Any]) -> QuerySet[Customer]:
    """The active customers a bulk send's filters pick: a saved segment's conditions (kept on the send
    as they were when it started), and a stage and a tag."""
    if filters.get("segment_id"):
        rows = segment_filter_customers(organization=organization, filters=filters.get("conditions") or {})
    else:
        rows = Customer.objects.active().for_org(organization)
    if filters.get("stage") in Stage.values:
        rows = rows.filter(stage=filters["stage"])
    if filters.get("tag"):
        rows = rows.filter(tag_links__tag__name=filters["tag"])
    return rows


def bulk_send_start(
    *,
    organization: Organization,
    template: MessageTemplate,
    channel: str,
    filters: Mapping[str, Any],
    values: Mapping[str, str] | None = None,
    by: User | None,
    now: dt.datetime | None = None,
) -> BulkSend:
    """Check and count now; the messages are made by the task after the commit."""
    from huitou.messaging.tasks import bulk_send_run

    now = now or timezone.now()
    if channel not in Channel.values:
        raise ValidationError({"channel": [errors.CHANNEL_INVALID]})
    if not template.is_active:
        raise ValidationError({"template": [errors.TEMPLATE_INACTIVE]})
    common = {k: str(v).strip() for k, v in (values or {}).items() if v is not None and str(v).strip()}
    missing = [n for n in placeholders_in(template.body) if n not in PER_CUSTOMER and n not in common]
    if missing:
        raise ValidationError({"values": [errors.VALUES_MISSING % {"names": "、".join(f"{{{n}}}" for n in missing)}]})
    kept: dict[str, Any] = {"stage": filters.get("stage") or "", "tag": (filters.get("tag") or "").strip()[:30]}
    segment = filters.get("segment")
    if segment is not None:
        # The segment's conditions now: the batches that follow pick by these, whatever becomes of the segment.
        if not isinstance(segment, Segment) or segment.organization_id != organization.pk:
            raise ValidationError({"segment": [errors.SEGMENT_UNKNOWN]})
        kept.update(segment_id=segment.pk, segment=segment.name, conditions=segment.filters)
    total = bulk_targets(organization=organization, filters=kept).count()
    if not total:
        raise ValidationError({"__all__": [errors.BULK_EMPTY]})
    if total > MAX_BULK:
        raise ValidationError({"__all__": [errors.BULK_TOO_MANY % {"max": MAX_BULK}]})
    bulk = BulkSend.objects.create(
        organization=organization,
        template=template,
        channel=channel,
        purpose=template.purpose,
        filters={**kept, "values": common},
        total=total,
        created_by=by,
        created_at=now,
    )
    transaction.on_commit(lambda: bulk_send_run(organization.pk, bulk.pk))
    return bulk


def _with_values(rows: QuerySet[Customer], names: set[str], *, channel: str, purpose: str) -> QuerySet[Customer]:
    """The batch's customers with what the text and the rules need, as subqueries of the one query."""
    from huitou.customers.models import ConsentRecord
    from huitou.loyalty.models import Coupon, LoyaltyAccount

    annotations: dict[str, Any] = {}
    if {"plate", "car"} & names:
        newest = Vehicle.objects.filter(
            organization_id=OuterRef("organization_id"), customer_id=OuterRef("pk"), deleted_at__isnull=True
        ).order_by("-pk")
        annotations["v_plate"] = Subquery(newest.values("plate")[:1])
        annotations["v_brand"] = Subquery(newest.values("brand")[:1])
        annotations["v_model"] = Subquery(newest.values("model")[:1])
    if {"points", "tier"} & names:
        account = LoyaltyAccount.objects.filter(organization_id=OuterRef("organization_id"), customer_id=OuterRef("pk"))
        annotations["a_points"] = Subquery(account.values("points")[:1])
        annotations["a_tier"] = Subquery(account.values("tier__name")[:1])
    if "coupon" in names:
        coupons = Coupon.objects.filter(
            organization_id=OuterRef("organization_id"),
            customer_id=OuterRef("pk"),
            state=Coupon.State.ISSUED,
            expires_on__gte=timezone.localdate(),
        ).order_by("-issued_at")
        annotations["c_name"] = Subquery(coupons.values("name")[:1])
    if purpose == Purpose.SERVICE:
        annotations["consent_on_record"] = Exists(
            ConsentRecord.objects.filter(
                organization_id=OuterRef("organization_id"),
                customer_id=OuterRef("pk"),
                channel=CONSENT_CHANNEL[channel],
            )
        )
    return rows.annotate(**annotations).select_related("organization")


def _values_of(customer: Any, names: set[str], common: Mapping[str, str]) -> dict[str, str]:
    values = dict(common)
    values.setdefault("name", customer.name)
    values.setdefault("shop", customer.organization.name)
    if getattr(customer, "v_plate", None):
        values.setdefault("plate", customer.v_plate)
        values.setdefault("car", f"{customer.v_brand} {customer.v_model}".strip())
    if getattr(customer, "a_points", None) is not None:
        values.setdefault("points", str(customer.a_points))
    if getattr(customer, "a_tier", None):
        values.setdefault("tier", customer.a_tier)
    if getattr(customer, "c_name", None):
        values.setdefault("coupon", customer.c_name)
    return values


def bulk_send_batch(*, bulk: BulkSend, now: dt.datetime | None = None, size: int = BATCH) -> int:
    """Make the next batch's messages; how many customers it took (0: the send is done)."""
    now = now or timezone.now()
    org_id = bulk.organization_id
    with transaction.atomic():
        locked = BulkSend.objects.for_org(org_id).select_for_update().select_related("template").get(pk=bulk.pk)
        if locked.state == BulkSend.State.DONE:
            return 0
        template = locked.template
        names = set(placeholders_in(template.body))
        common = dict(locked.filters.get("values") or {})
        rows = bulk_targets(organization=org_id, filters=locked.filters).filter(pk__gt=locked.next_customer_id)
        batch = list(_with_values(rows, names, channel=locked.channel, purpose=locked.purpose).order_by("pk")[:size])
        if not batch:
            BulkSend.objects.for_org(org_id).filter(pk=locked.pk).update(state=BulkSend.State.DONE, finished_at=now)
            return 0
        settings = messaging_settings(organization=org_id)
        counts = (
            marketing_counts(organization_id=org_id, customer_ids=[c.pk for c in batch], now=now)
            if locked.purpose == Purpose.MARKETING
            else {}
        )
        held_until = quiet_until(now, settings)
        made: list[Message] = []
        tally = {State.QUEUED: 0, State.HELD: 0, State.REFUSED: 0}
        for customer in batch:
            reason = refusal(
                customer=customer,
                channel=locked.channel,
                purpose=locked.purpose,
                template=template,
                withdrawn=getattr(customer, "consent_on_record", False),
            )
            capped = counts.get(customer.pk, 0) >= settings.weekly_marketing_cap
            if not reason and locked.purpose == Purpose.MARKETING and capped:
                reason = Reason.WEEKLY_CAP
            values = _values_of(customer, names, common)
            missing = [n for n in names if not values.get(n)]
            state = State.REFUSED if reason else State.HELD if held_until else State.QUEUED
            if not reason and missing:
                # A file lacking what the text needs (no car for {plate}): the blank would read badly.
                state, reason = State.REFUSED, Reason.VALUES_MISSING
            elif not reason and held_until:
                reason = Reason.QUIET_HOURS
            tally[state] += 1
            to, _r = address_of(customer=customer, channel=locked.channel)
            made.append(
                Message(
                    organization_id=org_id,
                    customer=customer,
                    template=template,
                    bulk=locked,
                    channel=locked.channel,
                    purpose=locked.purpose,
                    state=state,
                    reason=reason,
                    to=to,
                    subject=template.name,
                    body=render(template.body, values),
                    params=params_of(template.body, values),
                    next_attempt_at=held_until
                    if state == State.HELD
                    else now
                    if state == State.QUEUED and locked.channel != Channel.MANUAL
                    else None,
                    created_at=now,
                    created_by=locked.created_by,
                )
            )
        Message.objects.bulk_create(made, batch_size=size)
        BulkSend.objects.for_org(org_id).filter(pk=locked.pk).update(
            state=BulkSend.State.RUNNING,
            next_customer_id=batch[-1].pk,
            processed=locked.processed + len(batch),
            queued=locked.queued + tally[State.QUEUED],
            held=locked.held + tally[State.HELD],
            refused=locked.refused + tally[State.REFUSED],
        )
        if tally[State.QUEUED] and locked.channel != Channel.MANUAL:
            from huitou.messaging.tasks import drain_for

            transaction.on_commit(lambda: drain_for(org_id))
    return len(batch)
