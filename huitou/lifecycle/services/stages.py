"""Lifecycle stages: every move of a customer between stages, by hand or by the product.

prospect → intent (a follow-up with an intent grade, or by hand) → customer
(the first paid order) → member (joining membership) → dormant (no visit
for the organization's ``dormant_after_days``, checked daily) → lost (no
visit for ``lost_after_days``); a dormant or lost customer who pays for an
order is a customer again. Each move is a ``StageChange`` row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huitou.customers.models import Customer, Stage
from huitou.lifecycle import errors, events
from huitou.lifecycle.models import FollowUpTask, StageChange, StageReason
from huitou.tenancy.models import Organization, User

# Stages a person may set by hand; the others follow from orders, membership and visits.
MANUAL_STAGES = (Stage.PROSPECT, Stage.INTENT, Stage.CUSTOMER, Stage.LOST)
# Stages of someone who has not paid yet.
BEFORE_CONVERSION = (Stage.PROSPECT, Stage.INTENT)
# Stages the daily visit check moves away from.
ACTIVE_BUYERS = (Stage.CUSTOMER, Stage.MEMBER)
# Stages of someone who has shown intent: reaching one the first time dates the intent.
INTENT_REACHED = (Stage.INTENT, Stage.CUSTOMER, Stage.MEMBER)


def stage_after_intent_grade(stage: str) -> str | None:
    """Where a follow-up with an intent grade moves a file from ``stage`` (None: it stays)."""
    return Stage.INTENT if stage == Stage.PROSPECT else None


def stage_after_paid_order(stage: str) -> tuple[str, str] | None:
    """Where a paid order moves a file from ``stage``, and the reason (None: it stays).

    The first makes a customer; a dormant or lost one comes back.
    """
    if stage in BEFORE_CONVERSION:
        return Stage.CUSTOMER, StageReason.FIRST_PAID_ORDER
    if stage in (Stage.DORMANT, Stage.LOST):
        return Stage.CUSTOMER, StageReason.RETURNED
    return None


def _move(
    customer: Customer, to_stage: str, reason: str, by: User | None, note: str = "", now: dt.datetime | None = None
) -> StageChange:
    """Record the move and apply what follows from it. The caller holds a transaction."""
    from huitou.lifecycle.services.plans import plan_schedule

    now = now or timezone.now()
    change = StageChange.objects.create(
        organization_id=customer.organization_id,
        customer=customer,
        from_stage=customer.stage,
        to_stage=to_stage,
        reason=reason,
        note=note[:200],
        by=by if by is not None and by.pk else None,
        at=now,
    )
    events.stages_moved.send(
        sender=StageChange,
        organization_id=customer.organization_id,
        customer_ids=[customer.pk],
        to_stage=to_stage,
        reason=reason,
        at=now,
    )
    fields = ["stage", "updated_at"]
    customer.stage = to_stage
    if to_stage in INTENT_REACHED and customer.intent_at is None:
        customer.intent_at = now
        fields.append("intent_at")
    customer.save(update_fields=fields)
    if to_stage not in BEFORE_CONVERSION:
        # The prospect plan's calls and invitations are pointless once they have paid or are gone.
        FollowUpTask.objects.for_org(customer.organization_id).filter(
            customer=customer, closed_at=None, stage__in=BEFORE_CONVERSION
        ).update(closed_at=now, closed_as=FollowUpTask.Closed.CANCELLED)
    plan_schedule(customer=customer, stage=to_stage, start=timezone.localdate(now), now=now)
    return change


def _locked(customer: Customer) -> Customer:
    return Customer.objects.for_org(customer.organization_id).select_for_update().get(pk=customer.pk)


def customer_entered(*, customer: Customer, by: User | None, now: dt.datetime | None = None) -> StageChange:
    """A new file: its first stage, and the plan for it."""
    return _move(customer, customer.stage, StageReason.CREATED, by, now=now)


def stage_change(
    *, customer: Customer, to_stage: str, reason: str, by: User, now: dt.datetime | None = None
) -> Customer:
    """Change a customer's stage by hand, saying why."""
    if to_stage not in Stage.values:
        raise ValidationError({"stage": [errors.STAGE_INVALID]})
    if to_stage not in MANUAL_STAGES:
        raise ValidationError({"stage": [errors.STAGE_NOT_BY_HAND]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [errors.STAGE_REASON_REQUIRED]})
    with transaction.atomic():
        locked = _locked(customer)
        if locked.stage == to_stage:
            raise ValidationError({"stage": [errors.STAGE_SAME]})
        if to_stage in BEFORE_CONVERSION and locked.converted_at is not None:
            raise ValidationError({"stage": [errors.STAGE_ALREADY_CONVERTED]})
        if to_stage == Stage.CUSTOMER and locked.converted_at is None:
            raise ValidationError({"stage": [errors.STAGE_NOT_CONVERTED]})
        _move(locked, to_stage, StageReason.MANUAL, by, note=reason, now=now)
    customer.refresh_from_db()
    return customer


def stage_import(*, customer: Customer, stage: str, by: User | None = None, now: dt.datetime | None = None) -> Customer:
    """Give a file brought from elsewhere (an import, the demo) the stage it had there."""
    if stage not in Stage.values:
        raise ValidationError({"stage": [errors.STAGE_INVALID]})
    if stage != customer.stage:
        with transaction.atomic():
            _move(_locked(customer), stage, StageReason.IMPORTED, by, now=now)
        customer.refresh_from_db()
    return customer


def stage_on_intent_grade(*, customer: Customer, by: User | None, now: dt.datetime | None = None) -> None:
    """A follow-up graded the prospect's intent: a prospect becomes an intent customer."""
    to_stage = stage_after_intent_grade(customer.stage)
    if to_stage is not None:
        _move(customer, to_stage, StageReason.FOLLOWUP_INTENT, by, now=now)


def stage_on_paid_order(*, organization_id: int, customer_id: int, paid_at: dt.datetime, by: User | None) -> None:
    """A paid order: the first makes a customer; a dormant or lost one comes back."""
    customer = Customer.objects.for_org(organization_id).select_for_update().get(pk=customer_id)
    if customer.converted_at is None:
        customer.converted_at = paid_at
        if customer.intent_at is None:
            customer.intent_at = paid_at
        customer.save(update_fields=["converted_at", "intent_at", "updated_at"])
        events.customer_converted.send(sender=Customer, customer=customer)
    move = stage_after_paid_order(customer.stage)
    if move is not None:
        _move(customer, *move, by, now=paid_at)


def stage_on_membership(*, customer: Customer, by: User | None, now: dt.datetime | None = None) -> None:
    """Joining membership makes a member."""
    if customer.stage != Stage.MEMBER:
        _move(customer, Stage.MEMBER, StageReason.MEMBERSHIP, by, now=now)


def stages_mark_inactive(
    *, organization: Organization, today: dt.date | None = None, now: dt.datetime | None = None
) -> dict[str, int]:
    """The daily visit check: buyers without a visit for too long become dormant, then lost.

    Safe to run twice a day: a customer already moved is not moved again.
    Returns how many became dormant and lost.
    """
    today = today or timezone.localdate(now)
    moved = {Stage.DORMANT.value: 0, Stage.LOST.value: 0}
    steps: list[tuple[str, Iterable[str], int]] = [
        (Stage.LOST, (*ACTIVE_BUYERS, Stage.DORMANT), organization.lost_after_days),
        (Stage.DORMANT, ACTIVE_BUYERS, organization.dormant_after_days),
    ]
    for to_stage, from_stages, days in steps:
        if not days:
            continue
        cutoff = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days), dt.time.min))
        due = Customer.objects.for_org(organization).filter(
            deleted_at=None, stage__in=list(from_stages), last_visit_at__lt=cutoff
        )
        moved[to_stage] += _bulk_move(organization, due, to_stage, now=now)
    return moved


def _bulk_move(
    organization: Organization,
    due: Iterable[Customer],
    to_stage: str,
    batch: int = 2000,
    now: dt.datetime | None = None,
) -> int:
    """Move many customers in batches, each batch one transaction with its stage changes."""
    from huitou.lifecycle.services.plans import plan_schedule_many

    total = 0
    ids = list(due.values_list("pk", flat=True).order_by("pk"))  # type: ignore[attr-defined]
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        at = now or timezone.now()
        with transaction.atomic():
            rows = list(
                Customer.objects.for_org(organization)
                .select_for_update()
                .filter(pk__in=chunk)
                .exclude(stage=to_stage)
                .values_list("pk", "stage")
            )
            StageChange.objects.bulk_create(
                [
                    StageChange(
                        organization=organization,
                        customer_id=pk,
                        from_stage=stage,
                        to_stage=to_stage,
                        reason=StageReason.NO_VISIT,
                        at=at,
                    )
                    for pk, stage in rows
                ]
            )
            moved_ids = [pk for pk, _ in rows]
            events.stages_moved.send(
                sender=StageChange,
                organization_id=organization.pk,
                customer_ids=moved_ids,
                to_stage=to_stage,
                reason=StageReason.NO_VISIT,
                at=at,
            )
            Customer.objects.for_org(organization).filter(pk__in=moved_ids).update(stage=to_stage, updated_at=at)
            plan_schedule_many(
                organization=organization, customer_ids=moved_ids, stage=to_stage, start=timezone.localdate(at), now=at
            )
        total += len(rows)
    return total
