"""Complaints (投诉): opened by hand or by a low callback score, worked through nine steps, closed after feedback.

Every write locks the complaint row (``select_for_update``) and checks its
state under the lock, so two people recording the same step at once get one
step and one refusal (409). A step's deadline counts from the step before it
(the first from the opening or reopening): ``Complaint.due_at`` always holds
the next step's, and ``complaints_escalate`` finds the late ones with one
indexed query. Compensation (the seventh step) goes through the membership
ledgers: a coupon (``coupon_issue``) or stored value (``stored_value_reward``),
in the same transaction as the step.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from huitou.care import errors
from huitou.care.models import (
    STEP_COUNT,
    STEP_ORDER,
    CareTask,
    Complaint,
    ComplaintDeadline,
    ComplaintEvent,
    ComplaintNotice,
    ComplaintSource,
    ComplaintStep,
    ComplaintStepKind,
)
from huitou.customers.models import Customer, Vehicle
from huitou.lib.money import DecimalIn, MoneyError, parse_money
from huitou.loyalty.models import Coupon, CouponTemplate, CouponTrigger, StoredValueEntry
from huitou.loyalty.services.coupons import coupon_issue
from huitou.loyalty.services.stored_value import stored_value_reward
from huitou.service.errors import RoleRefused, StateConflict
from huitou.service.models import ServiceOrder
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm, Role

# A low callback score opens a complaint: 2 or less out of 5.
LOW_SCORE = 2
MAX_COMPENSATION = Decimal("10000")

# Hours a step may take after the one before it (the first: after the opening).
DEFAULT_HOURS: dict[str, int] = {
    ComplaintStepKind.LISTEN: 2,  # first response within 2 hours
    ComplaintStepKind.VENT: 2,
    ComplaintStepKind.APOLOGISE: 2,
    ComplaintStepKind.CONFIRM: 4,
    ComplaintStepKind.EXPLAIN: 24,
    ComplaintStepKind.PROPOSE: 24,
    ComplaintStepKind.COMPENSATE: 48,
    ComplaintStepKind.OUTCOME: 72,
    ComplaintStepKind.FEEDBACK: 72,
}


# --- deadlines ----------------------------------------------------------------------------------


def complaint_deadlines(*, organization: Organization | int) -> dict[str, int]:
    """Each step's hours in order (one query): the organization's rows over ``DEFAULT_HOURS``."""
    rows = dict(ComplaintDeadline.objects.for_org(organization).values_list("step", "hours"))
    return {step: rows.get(step, DEFAULT_HOURS[step]) for step in STEP_ORDER}


def complaint_deadlines_set(*, organization: Organization, hours: dict[str, Any]) -> dict[str, int]:
    """Set some steps' hours (1–720 each); all or nothing."""
    problems: dict[str, list[Any]] = {}
    clean: dict[str, int] = {}
    for step, value in hours.items():
        if step not in STEP_ORDER:
            problems[str(step)] = [errors.STEP_UNKNOWN]
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if isinstance(value, bool | float) or not 1 <= number <= 720:
            problems[step] = [errors.DEADLINE_HOURS]
            continue
        clean[step] = number
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        for step, number in clean.items():
            ComplaintDeadline.objects.update_or_create(organization=organization, step=step, defaults={"hours": number})
    return complaint_deadlines(organization=organization)


def _due(organization_id: int, step_index: int, since: dt.datetime) -> dt.datetime | None:
    if step_index >= STEP_COUNT:
        return None
    step = STEP_ORDER[step_index]
    row = ComplaintDeadline.objects.for_org(organization_id).filter(step=step).values_list("hours", flat=True).first()
    return since + dt.timedelta(hours=row or DEFAULT_HOURS[step])


# --- telling the store managers -----------------------------------------------------------------


def _managers(organization_id: int) -> list[int]:
    return list(
        User.objects.for_org(organization_id).filter(role=Role.OWNER, is_active=True).values_list("pk", flat=True)
    )


def _tell_managers(
    rows: list[tuple[Complaint | int, int, str]], kind: str, organization_id: int, now: dt.datetime
) -> None:
    """A notice for every active store manager about each (complaint, round, step); once each."""
    managers = _managers(organization_id)
    ComplaintNotice.objects.bulk_create(
        [
            ComplaintNotice(
                organization_id=organization_id,
                recipient_id=manager,
                complaint_id=complaint if isinstance(complaint, int) else complaint.pk,
                kind=kind,
                round=round_,
                step=step,
                created_at=now,
            )
            for complaint, round_, step in rows
            for manager in managers
        ],
        ignore_conflicts=True,
    )


def complaint_notices_read(*, user: User, ids: list[int] | None = None, now: dt.datetime | None = None) -> int:
    """Mark the user's unread notices read (those of ``ids``, or all); how many."""
    assert user.organization_id is not None, "staff of an organization"
    rows = ComplaintNotice.objects.for_org(user.organization_id).filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=now or timezone.now())


# --- opening ------------------------------------------------------------------------------------


def complaint_open(
    *,
    customer: Customer,
    summary: str,
    by: User | None,
    owner: User | None = None,
    vehicle: Vehicle | None = None,
    order: ServiceOrder | None = None,
    callback: CareTask | None = None,
    now: dt.datetime | None = None,
) -> Complaint:
    """Open a complaint for ``customer``, handled by ``owner`` (default: who opens it).

    Opened from a callback, the store managers are told at once.
    """
    now = now or timezone.now()
    org_id = customer.organization_id
    owner = owner or by
    problems: dict[str, list[Any]] = {}
    summary = (summary or "").strip()[:500]
    if not summary:
        problems["summary"] = [errors.COMPLAINT_SUMMARY_REQUIRED]
    if (
        owner is None
        or owner.organization_id != org_id
        or not owner.is_active
        or not owner.has_role_perm(Perm.FOLLOW_UP)
    ):
        problems["owner"] = [errors.COMPLAINT_OWNER_UNKNOWN]
    if vehicle is not None and (vehicle.organization_id != org_id or vehicle.customer_id != customer.pk):
        problems["vehicle"] = [errors.COMPLAINT_VEHICLE_NOT_THEIRS]
    if order is not None and (order.organization_id != org_id or order.customer_id != customer.pk):
        problems["order"] = [errors.COMPLAINT_ORDER_NOT_THEIRS]
    if problems:
        raise ValidationError(problems)
    assert owner is not None
    with transaction.atomic():
        complaint = Complaint.objects.create(
            organization_id=org_id,
            customer=customer,
            vehicle=vehicle,
            order=order,
            callback=callback,
            source=ComplaintSource.CALLBACK if callback is not None else ComplaintSource.MANUAL,
            summary=summary,
            owner=owner,
            opened_at=now,
            opened_by=by,
            due_at=_due(org_id, 0, now),
        )
        ComplaintEvent.objects.create(
            organization_id=org_id, complaint=complaint, kind=ComplaintEvent.Kind.OPENED, by=by, at=now
        )
        if callback is not None:
            _tell_managers([(complaint, 1, "")], ComplaintNotice.Kind.OPENED, org_id, now)
    return complaint


def complaint_from_callback(*, task: CareTask, by: User, now: dt.datetime | None = None) -> Complaint | None:
    """The complaint a callback scored ``LOW_SCORE`` or less opens (None above it); one per callback.

    Call inside the transaction that closes the callback.
    """
    if task.score is None or task.score > LOW_SCORE:
        return None
    existing = Complaint.objects.for_org(task.organization_id).filter(callback=task).first()
    if existing is not None:
        return existing
    customer = Customer.objects.for_org(task.organization_id).get(pk=task.customer_id)
    vehicle = (
        Vehicle.objects.for_org(task.organization_id).filter(pk=task.vehicle_id).first() if task.vehicle_id else None
    )
    order = (
        ServiceOrder.objects.for_org(task.organization_id).filter(pk=task.order_id).first() if task.order_id else None
    )
    if vehicle is not None and vehicle.customer_id != customer.pk:
        vehicle = None  # the car changed hands since the visit
    if order is not None and order.customer_id != customer.pk:
        order = None
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Callback scored %(score)s of 5: %(result)s") % {"score": task.score, "result": task.result}
    owner = by if by.is_active and by.organization_id == task.organization_id else None
    return complaint_open(
        customer=customer,
        summary=summary,
        by=by,
        owner=owner or User.objects.for_org(task.organization_id).get(pk=task.owner_id),
        vehicle=vehicle,
        order=order,
        callback=task,
        now=now,
    )


# --- the steps ----------------------------------------------------------------------------------


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.for_org(complaint.organization_id).select_for_update().get(pk=complaint.pk)


def _compensation(
    complaint: Complaint,
    *,
    coupon_template: CouponTemplate | None,
    stored_value: DecimalIn | None,
    by: User,
    now: dt.datetime,
) -> tuple[Coupon | None, StoredValueEntry | None]:
    if coupon_template is None and stored_value in (None, ""):
        return None, None
    if coupon_template is not None and stored_value not in (None, ""):
        raise ValidationError({"compensation": [errors.COMPENSATION_ONE]})
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Compensation for a complaint")
    customer = Customer.objects.for_org(complaint.organization_id).get(pk=complaint.customer_id)
    if coupon_template is not None:
        if coupon_template.organization_id != complaint.organization_id or not coupon_template.is_active:
            raise ValidationError({"coupon_template": [errors.COMPENSATION_TEMPLATE_UNKNOWN]})
        coupon = coupon_issue(
            customer=customer,
            template=coupon_template,
            source=CouponTrigger.COMPENSATION,
            by=by,
            origin_order=complaint.order,
            now=now,
            reason=reason,
        )
        return coupon, None
    try:
        amount = parse_money(stored_value)
    except MoneyError:
        amount = Decimal(0)
    if not Decimal(0) < amount <= MAX_COMPENSATION:
        raise ValidationError({"stored_value": [errors.COMPENSATION_AMOUNT]})
    entry = stored_value_reward(customer=customer, bonus=amount, reason=reason, order=complaint.order, by=by, now=now)
    return None, entry


def complaint_step_record(
    *,
    complaint: Complaint,
    step: str,
    note: str,
    by: User,
    coupon_template: CouponTemplate | None = None,
    stored_value: DecimalIn | None = None,
    now: dt.datetime | None = None,
) -> ComplaintStep:
    """Record the complaint's next step with what was said or done; only the next one (409 otherwise).

    At the step "Compensate" a coupon of ``coupon_template`` or ``stored_value``
    yuan (as bonus) may be given by those who issue coupons and top up stored
    value (store manager, service advisor); it is issued in the same transaction.
    """
    now = now or timezone.now()
    note = (note or "").strip()
    problems: dict[str, list[Any]] = {}
    if step not in STEP_ORDER:
        problems["step"] = [errors.STEP_UNKNOWN]
    if not note:
        problems["note"] = [errors.STEP_NOTE_REQUIRED]
    compensating = coupon_template is not None or stored_value not in (None, "")
    if compensating and step != ComplaintStepKind.COMPENSATE:
        problems["compensation"] = [errors.COMPENSATION_ONLY_AT_STEP]
    if problems:
        raise ValidationError(problems)
    if compensating and not by.has_role_perm(Perm.SELL_MEMBERSHIP):
        raise RoleRefused(errors.COMPENSATION_ROLE, "compensation")
    with transaction.atomic():
        fresh = _locked(complaint)
        if fresh.state != Complaint.State.OPEN:
            raise StateConflict(errors.COMPLAINT_CLOSED)
        if fresh.steps_done >= STEP_COUNT:
            raise StateConflict(errors.STEP_ALL_DONE)
        expected = STEP_ORDER[fresh.steps_done]
        if step != expected:
            raise StateConflict(errors.STEP_OUT_OF_ORDER % {"next": ComplaintStepKind(expected).label})
        coupon, entry = _compensation(fresh, coupon_template=coupon_template, stored_value=stored_value, by=by, now=now)
        recorded = ComplaintStep.objects.create(
            organization_id=fresh.organization_id,
            complaint=fresh,
            round=fresh.round,
            step=step,
            note=note,
            by=by,
            at=now,
            due_at=fresh.due_at,
            late=fresh.due_at is not None and now > fresh.due_at,
            coupon=coupon,
            stored_value_entry=entry,
        )
        fresh.steps_done += 1
        fresh.due_at = _due(fresh.organization_id, fresh.steps_done, now)
        fresh.escalated_at = None
        fresh.save(update_fields=["steps_done", "due_at", "escalated_at"])
    complaint.steps_done, complaint.due_at, complaint.escalated_at = fresh.steps_done, fresh.due_at, None
    return recorded


def complaint_close(*, complaint: Complaint, by: User, now: dt.datetime | None = None) -> Complaint:
    """Close a complaint whose customer's feedback (the ninth step) is recorded; 409 before that."""
    now = now or timezone.now()
    with transaction.atomic():
        fresh = _locked(complaint)
        if fresh.state != Complaint.State.OPEN:
            raise StateConflict(errors.COMPLAINT_CLOSED)
        if fresh.steps_done < STEP_COUNT:
            raise StateConflict(errors.FEEDBACK_REQUIRED)
        fresh.state = Complaint.State.CLOSED
        fresh.closed_at = now
        fresh.closed_by = by
        fresh.due_at = None
        fresh.save(update_fields=["state", "closed_at", "closed_by", "due_at"])
        ComplaintEvent.objects.create(
            organization_id=fresh.organization_id,
            complaint=fresh,
            kind=ComplaintEvent.Kind.CLOSED,
            round=fresh.round,
            by=by,
            at=now,
        )
    return fresh


def complaint_reopen(*, complaint: Complaint, by: User, reason: str, now: dt.datetime | None = None) -> Complaint:
    """Reopen a closed complaint (the customer is not satisfied after all): a new round from the first step."""
    now = now or timezone.now()
    reason = (reason or "").strip()[:500]
    if not reason:
        raise ValidationError({"reason": [errors.REOPEN_REASON_REQUIRED]})
    with transaction.atomic():
        fresh = _locked(complaint)
        if fresh.state != Complaint.State.CLOSED:
            raise StateConflict(errors.COMPLAINT_NOT_CLOSED)
        fresh.state = Complaint.State.OPEN
        fresh.round += 1
        fresh.steps_done = 0
        fresh.closed_at = None
        fresh.closed_by = None
        fresh.due_at = _due(fresh.organization_id, 0, now)
        fresh.escalated_at = None
        fresh.save(update_fields=["state", "round", "steps_done", "closed_at", "closed_by", "due_at", "escalated_at"])
        ComplaintEvent.objects.create(
            organization_id=fresh.organization_id,
            complaint=fresh,
            kind=ComplaintEvent.Kind.REOPENED,
            round=fresh.round,
            note=reason,
            by=by,
            at=now,
        )
    return fresh


# --- escalation ---------------------------------------------------------------------------------


def complaints_escalate(*, organization: Organization | int, now: dt.datetime | None = None) -> int:
    """Escalate the open complaints whose next step is past its deadline to the store managers.

    Set-based: one select of the late complaints (the partial index
    ``complaint_org_late_idx``), one insert of their log entries, one of the
    notices, one update marking them escalated. Each late step escalates once
    (the unique log entry and notice), however often or concurrently this runs;
    recording the step clears the mark, so the next step can escalate in turn.
    """
    now = now or timezone.now()
    org_id = organization if isinstance(organization, int) else organization.pk
    with transaction.atomic():
        late = list(
            Complaint.objects.for_org(org_id)
            .filter(state=Complaint.State.OPEN, escalated_at__isnull=True, due_at__lt=now)
            .select_for_update()
            .values_list("pk", "round", "steps_done")
        )
        if not late:
            return 0
        rows = [(pk, round_, STEP_ORDER[done]) for pk, round_, done in late]
        ComplaintEvent.objects.bulk_create(
            [
                ComplaintEvent(
                    organization_id=org_id,
                    complaint_id=pk,
                    kind=ComplaintEvent.Kind.ESCALATED,
                    round=round_,
                    step=step,
                    at=now,
                )
                for pk, round_, step in rows
            ],
            ignore_conflicts=True,
        )
        _tell_managers(list(rows), ComplaintNotice.Kind.LATE, org_id, now)
        return (
            Complaint.objects.for_org(org_id)
            .filter(pk__in=[row[0] for row in rows], escalated_at__isnull=True)
            .update(escalated_at=now)
        )
