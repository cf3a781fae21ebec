"""Follow-ups (跟进): recording them, and the tasks that say who follows up whom when."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huitou.customers.models import Customer, IntentGrade
from huitou.lifecycle import errors, events
from huitou.lifecycle.models import FollowUp, FollowUpChannel, FollowUpTask, TaskOrigin
from huitou.lifecycle.services.stages import stage_on_intent_grade
from huitou.tenancy.models import User


def _as_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError({"next_due": [errors.NEXT_DUE_INVALID]}) from exc


def followup_record(
    *,
    customer: Customer,
    by: User,
    channel: str,
    content: str,
    result: str = "",
    grade: str = "",
    next_step: str = "",
    next_due: dt.date | str | None = None,
    task_id: int | None = None,
    now: dt.datetime | None = None,
) -> FollowUp:
    """Record a follow-up that happened.

    It closes the task it answers (``task_id``), or else every open task of
    the customer due today or earlier. A grade is the customer's latest
    intent grade; the first one turns a prospect into an intent customer. A
    next due date schedules the next step as a task for the customer's owner.
    """
    errs: dict[str, list[Any]] = {}
    if channel not in FollowUpChannel.values:
        errs["channel"] = [errors.CHANNEL_INVALID]
    content = (content or "").strip()
    if not content:
        errs["content"] = [errors.CONTENT_REQUIRED]
    grade = (grade or "").strip().upper()
    if grade and grade not in IntentGrade.values:
        errs["grade"] = [errors.GRADE_INVALID]
    now = now or timezone.now()
    today = timezone.localdate(now)
    try:
        due = _as_date(next_due)
    except ValidationError as exc:
        errs.update(exc.message_dict)
        due = None
    if due is not None and due < today:
        errs["next_due"] = [errors.NEXT_DUE_PAST]
    next_step = (next_step or "").strip()[:200]
    if due is not None and not next_step:
        next_step = str(errors.NEXT_STEP_DEFAULT)
    if errs:
        raise ValidationError(errs)

    open_tasks = FollowUpTask.objects.for_org(customer.organization_id).filter(customer=customer, closed_at=None)
    with transaction.atomic():
        locked = Customer.objects.for_org(customer.organization_id).select_for_update().get(pk=customer.pk)
        task = None
        if task_id is not None:
            task = open_tasks.filter(pk=task_id).first()
            if task is None:
                raise ValidationError({"task_id": [errors.TASK_INVALID]})
        followup = FollowUp.objects.create(
            organization_id=customer.organization_id,
            customer=locked,
            staff=by,
            channel=channel,
            content=content,
            result=(result or "").strip()[:200],
            grade=grade,
            next_step=next_step,
            next_due=due,
            task=task,
            at=now,
        )
        answered = open_tasks.filter(pk=task.pk) if task is not None else open_tasks.filter(due_on__lte=today)
        answered.update(closed_at=now, closed_as=FollowUpTask.Closed.DONE)
        events.followup_recorded.send(sender=FollowUp, followup=followup, by=by)
        if grade:
            locked.intent_grade = grade
            locked.save(update_fields=["intent_grade", "updated_at"])
            stage_on_intent_grade(customer=locked, by=by, now=now)
        if due is not None:
            FollowUpTask.objects.create(
                organization_id=customer.organization_id,
                customer=locked,
                assignee_id=locked.owner_id,
                due_on=due,
                channel=channel,
                action=next_step,
                origin=TaskOrigin.NEXT_STEP,
                stage=locked.stage,
                created_at=now,
            )
    customer.refresh_from_db()
    return followup


def tasks_hold(*, customer: Customer) -> int:
    """Put the open tasks of a file being deleted on hold, as of its deletion. Returns how many."""
    return (
        FollowUpTask.objects.for_org(customer.organization_id)
        .filter(customer=customer, closed_at=None)
        .update(closed_at=customer.deleted_at or timezone.now(), closed_as=FollowUpTask.Closed.ON_HOLD)
    )


def tasks_resume(*, customer: Customer) -> int:
    """Open again the tasks put on hold when the file was deleted. Returns how many.

    A task whose assignee has left since goes to the file's owner.
    """
    held = FollowUpTask.objects.for_org(customer.organization_id).filter(
        customer=customer, closed_as=FollowUpTask.Closed.ON_HOLD
    )
    held.exclude(assignee__is_active=True).update(assignee_id=customer.owner_id)
    return held.update(closed_at=None, closed_as="")
