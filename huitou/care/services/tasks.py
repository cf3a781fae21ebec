"""Care tasks: made for a paid order (the callback), closed as done or skipped."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from huitou.care import errors, events
from huitou.care.models import CareKind, CareTask
from huitou.care.services.complaints import complaint_from_callback
from huitou.care.services.questionnaire import answers_clean
from huitou.care.services.rules import owner_for, rules_for
from huitou.care.services.sweep import fill
from huitou.service.errors import StateConflict
from huitou.service.models import OrderLine, ServiceOrder
from huitou.tenancy.models import User

CALLBACK_WITHIN = dt.timedelta(hours=48)


def callback_for_order(*, order: ServiceOrder, now: dt.datetime | None = None, fetch: bool = True) -> CareTask | None:
    """The callback owed after a paid order: due within 48 hours, one per order (None: callbacks are off).

    Reads the rules, the customer's name and owner with the shop's name (one
    query), the first three services; ``fetch=False`` (the paid order's
    receiver) writes the task without reading it back and returns None.
    """
    rule = rules_for(order.organization_id)[CareKind.CALLBACK]
    if not rule.is_active:
        return None
    paid_at = order.paid_at or now or timezone.now()
    due_at = paid_at + CALLBACK_WITHIN
    customer_name, customer_owner_id, shop_name = (
        ServiceOrder.objects.for_org(order.organization_id)
        .filter(pk=order.pk)
        .values_list("customer__name", "customer__owner_id", "shop__name")
        .get()
    )
    work = list(
        OrderLine.objects.for_org(order.organization_id)
        .filter(order=order, kind=OrderLine.Kind.SERVICE)
        .values_list("name", flat=True)[:3]
    )
    from django.conf import settings

    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Callback after order %(number)s (%(work)s)") % {
            "number": order.number,
            "work": "、".join(work) or _("parts"),
        }
        script = fill(rule.script, name=customer_name, shop=shop_name)
    task = CareTask(
        organization_id=order.organization_id,
        kind=CareKind.CALLBACK,
        key=f"callback:{order.pk}",
        customer_id=order.customer_id,
        vehicle_id=order.vehicle_id,
        order=order,
        owner_id=owner_for(rule, customer_owner_id=customer_owner_id, advisor_id=order.advisor_id),
        due_on=timezone.localdate(due_at),
        due_at=due_at,
        reason=reason[:200],
        script=script,
        created_at=now or timezone.now(),
    )
    CareTask.objects.bulk_create([task], ignore_conflicts=True)
    if not fetch:
        return None
    return CareTask.objects.for_org(order.organization_id).get(kind=CareKind.CALLBACK, key=task.key)


def _locked_open(task: CareTask) -> CareTask:
    fresh = CareTask.objects.for_org(task.organization_id).select_for_update().get(pk=task.pk)
    if fresh.state != CareTask.State.OPEN:
        raise StateConflict(errors.TASK_CLOSED)
    return fresh


def care_task_done(
    *,
    task: CareTask,
    by: User,
    result: str,
    score: Any = None,
    answers: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> CareTask:
    """Close a task as done with what came of it; a callback records the satisfaction (1–5) and the
    questionnaire's answers, and a score of 2 or less opens a complaint in the same transaction."""
    result = (result or "").strip()
    problems: dict[str, list[Any]] = {}
    if not result:
        problems["result"] = [errors.RESULT_REQUIRED]
    if task.kind == CareKind.CALLBACK:
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            problems["score"] = [errors.SCORE_REQUIRED]
    elif score not in (None, ""):
        problems["score"] = [errors.SCORE_ONLY_FOR_CALLBACKS]
    if task.kind != CareKind.CALLBACK and answers:
        problems["answers"] = [errors.ANSWERS_ONLY_FOR_CALLBACKS]
    elif task.kind == CareKind.CALLBACK:
        try:
            answers = answers_clean(organization=task.organization_id, answers=answers)
        except ValidationError as exc:
            problems.update(exc.message_dict)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        fresh = _locked_open(task)
        fresh.state = CareTask.State.DONE
        fresh.result = result[:200]
        fresh.score = score if task.kind == CareKind.CALLBACK else None
        fresh.answers = answers or {}
        fresh.closed_at = now or timezone.now()
        fresh.closed_by = by
        fresh.save(update_fields=["state", "result", "score", "answers", "closed_at", "closed_by"])
        complaint_from_callback(task=fresh, by=by, now=fresh.closed_at)
        events.care_tasks_closed.send(
            sender=CareTask, organization_id=fresh.organization_id, closed_at=fresh.closed_at, by=by
        )
    return fresh


def care_task_skip(*, task: CareTask, by: User, reason: str, now: dt.datetime | None = None) -> CareTask:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [errors.SKIP_REASON_REQUIRED]})
    with transaction.atomic():
        fresh = _locked_open(task)
        fresh.state = CareTask.State.SKIPPED
        fresh.result = reason[:200]
        fresh.closed_at = now or timezone.now()
        fresh.closed_by = by
        fresh.save(update_fields=["state", "result", "closed_at", "closed_by"])
        events.care_tasks_closed.send(
            sender=CareTask, organization_id=fresh.organization_id, closed_at=fresh.closed_at, by=by
        )
    return fresh
