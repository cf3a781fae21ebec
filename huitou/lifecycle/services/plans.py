"""Follow-up plans (标准业务流程) and the tasks they schedule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huitou.customers.models import Customer, Source, Stage
from huitou.lifecycle import errors
from huitou.lifecycle.models import FollowUpChannel, FollowUpPlan, FollowUpPlanStep, FollowUpTask, TaskOrigin
from huitou.tenancy.models import Organization

# The standard process for a new prospect, seeded for every organization.
DEFAULT_PROSPECT_PLAN = (
    "新潜客标准跟进",
    (
        (0, FollowUpChannel.PHONE, "电话联系：了解需求、车况和方便到店的时间"),
        (2, FollowUpChannel.WECHAT, "微信发送同类车型的施工照片和案例"),
        (7, FollowUpChannel.PHONE, "邀请到店：免费检测或体验项目"),
    ),
)
DEFAULT_DORMANT_PLAN = (
    "沉睡客户唤醒",
    (
        (0, FollowUpChannel.PHONE, "电话问候：了解近况和用车情况，是否有不满意的地方"),
        (3, FollowUpChannel.WECHAT, "微信发送回店关怀优惠"),
    ),
)


def plans_seed(*, organization: Organization) -> None:
    """Give a new organization the standard plans for new prospects and dormant customers."""
    for stage, (name, steps) in ((Stage.PROSPECT, DEFAULT_PROSPECT_PLAN), (Stage.DORMANT, DEFAULT_DORMANT_PLAN)):
        if FollowUpPlan.objects.for_org(organization).filter(stage=stage, source=None).exists():
            continue
        plan_save(
            organization=organization,
            plan=None,
            data={"name": name, "stage": stage, "source": "", "is_active": True},
            steps=[{"day_offset": d, "channel": c, "action": a} for d, c, a in steps],
        )


def plan_save(
    *,
    organization: Organization,
    plan: FollowUpPlan | None,
    data: Mapping[str, Any],
    steps: Sequence[Mapping[str, Any]],
) -> FollowUpPlan:
    """Create or replace a plan and its steps. Tasks already scheduled keep their dates."""
    errs: dict[str, list[Any]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errs.setdefault("name", []).append(errors.PLAN_NAME_REQUIRED)
    stage = data.get("stage") or Stage.PROSPECT
    if stage not in Stage.values:
        errs.setdefault("stage", []).append(errors.STAGE_INVALID)
    source = None
    if data.get("source"):
        source = Source.objects.for_org(organization).filter(code=data["source"]).first()
        if source is None:
            from huitou.customers.errors import SOURCE_INVALID

            errs.setdefault("source", []).append(SOURCE_INVALID)
    is_active = bool(data.get("is_active", True))
    clean_steps: list[tuple[int, str, str]] = []
    for step in steps:
        try:
            day = int(step.get("day_offset"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            day = -1
        if not 0 <= day <= 365:
            errs.setdefault("steps", []).append(errors.PLAN_STEP_DAY_INVALID)
            continue
        channel = step.get("channel") or ""
        if channel not in FollowUpChannel.values:
            errs.setdefault("steps", []).append(errors.CHANNEL_INVALID)
            continue
        action = str(step.get("action") or "").strip()[:200]
        if not action:
            errs.setdefault("steps", []).append(errors.PLAN_STEP_ACTION_REQUIRED)
            continue
        clean_steps.append((day, channel, action))
    if not clean_steps and "steps" not in errs:
        errs["steps"] = [errors.PLAN_STEPS_REQUIRED]
    if is_active and "stage" not in errs and "source" not in errs:
        rivals = FollowUpPlan.objects.for_org(organization).filter(stage=stage, source=source, is_active=True)
        if plan is not None:
            rivals = rivals.exclude(pk=plan.pk)
        if rivals.exists():
            errs.setdefault("source", []).append(errors.PLAN_DUPLICATE)
    if errs:
        raise ValidationError(errs)
    with transaction.atomic():
        if plan is None:
            plan = FollowUpPlan(organization=organization)
        plan.name, plan.stage, plan.source, plan.is_active = name, stage, source, is_active
        plan.save()
        plan.steps.all().delete()
        FollowUpPlanStep.objects.bulk_create(
            [
                FollowUpPlanStep(organization=organization, plan=plan, day_offset=d, channel=c, action=a)
                for d, c, a in sorted(clean_steps, key=lambda s: s[0])
            ]
        )
    return plan


def plan_for(*, organization_id: int, stage: str, source_id: int | None) -> FollowUpPlan | None:
    """The plan for customers entering ``stage`` from ``source``: the source's own, else the stage's."""
    plans = FollowUpPlan.objects.for_org(organization_id).filter(stage=stage, is_active=True)
    if source_id is not None:
        own = plans.filter(source_id=source_id).first()
        if own is not None:
            return own
    return plans.filter(source=None).first()


def _tasks(
    plan: FollowUpPlan, stage: str, start: dt.date, pairs: Iterable[tuple[int, int]], now: dt.datetime | None
) -> list[FollowUpTask]:
    steps = list(plan.steps.all())
    now = now or timezone.now()
    return [
        FollowUpTask(
            organization_id=plan.organization_id,
            customer_id=customer_id,
            assignee_id=owner_id,
            due_on=start + dt.timedelta(days=step.day_offset),
            channel=step.channel,
            action=step.action,
            origin=TaskOrigin.PLAN,
            plan_step=step,
            stage=stage,
            created_at=now,
        )
        for customer_id, owner_id in pairs
        for step in steps
    ]


def plan_schedule(
    *, customer: Customer, stage: str, start: dt.date, now: dt.datetime | None = None
) -> list[FollowUpTask]:
    """Schedule the plan's steps for a customer entering ``stage`` on ``start``."""
    plan = plan_for(organization_id=customer.organization_id, stage=stage, source_id=customer.source_id)
    if plan is None:
        return []
    return FollowUpTask.objects.bulk_create(_tasks(plan, stage, start, [(customer.pk, customer.owner_id)], now))


def plan_schedule_many(
    *,
    organization: Organization,
    customer_ids: Sequence[int],
    stage: str,
    start: dt.date,
    now: dt.datetime | None = None,
) -> int:
    """``plan_schedule`` for many customers at once (the daily visit check)."""
    rows = list(
        Customer.objects.for_org(organization).filter(pk__in=customer_ids).values_list("pk", "owner_id", "source_id")
    )
    scheduled = 0
    for source_id in {source_id for _pk, _owner, source_id in rows}:
        plan = plan_for(organization_id=organization.pk, stage=stage, source_id=source_id)
        if plan is None:
            continue
        pairs = [(pk, owner) for pk, owner, src in rows if src == source_id]
        scheduled += len(FollowUpTask.objects.bulk_create(_tasks(plan, stage, start, pairs, now)))
    return scheduled
