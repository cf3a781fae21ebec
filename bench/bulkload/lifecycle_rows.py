"""The rows the lifecycle services write for a file's story, written in bulk.

Where the lifecycle's rule is a function, it is called: where a graded
follow-up and a paid order move a file (``stage_after_intent_grade``,
``stage_after_paid_order``), which stages date the intent
(``INTENT_REACHED``) and which cancel the prospect plan
(``BEFORE_CONVERSION``). What remains is the bookkeeping of the rows the
services write: a new file's stage change and its plan's tasks; a follow-up closes the tasks due
by its day, its grade makes a prospect an intent customer and its next step
becomes a task of the file's owner; the first paid visit converts and
cancels the tasks of the stages before; joining membership, the daily
visit check and giving up by hand move the stage, and entering a stage
schedules that stage's plan. ``bench/bulkload/tests`` compares the rows,
file by file, with what the services write for the same story.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from huitou.customers.models import Stage
from huitou.demo.specs import GIVEN_UP, INACTIVE, MEMBERSHIP, PAID, FollowUpSpec, LifeEvent
from huitou.lifecycle.models import FollowUpPlan, FollowUpPlanStep, FollowUpTask, StageReason, TaskOrigin
from huitou.lifecycle.services.stages import (
    BEFORE_CONVERSION,
    INTENT_REACHED,
    stage_after_intent_grade,
    stage_after_paid_order,
)

# Plain strings: enum members cost an attribute lookup each time, a million files over.
PROSPECT, INTENT, CUSTOMER, MEMBER, DORMANT, LOST = (s.value for s in Stage)
INTENT_STAGES = frozenset(s.value for s in INTENT_REACHED)
PROSPECT_STAGES = frozenset(s.value for s in BEFORE_CONVERSION)
DONE, CANCELLED = FollowUpTask.Closed.DONE.value, FollowUpTask.Closed.CANCELLED.value
CREATED, MANUAL = StageReason.CREATED.value, StageReason.MANUAL.value
FOLLOWUP_INTENT, FIRST_PAID_ORDER = StageReason.FOLLOWUP_INTENT.value, StageReason.FIRST_PAID_ORDER.value
RETURNED, JOINED = StageReason.RETURNED.value, StageReason.MEMBERSHIP.value
PLAN, NEXT_STEP = TaskOrigin.PLAN.value, TaskOrigin.NEXT_STEP.value


@dataclass(frozen=True)
class PlanStep:
    pk: int
    day_offset: int
    channel: str
    action: str


@dataclass
class LifecycleState:
    """What the lifecycle keeps on the customer file."""

    stage: str = PROSPECT
    intent_grade: str = ""
    intent_at: dt.datetime | None = None
    converted_at: dt.datetime | None = None


@dataclass
class LifecycleBatch:
    """Rows of many files, by table, ready for ``TableWriter``."""

    stage_changes: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)


class LifecycleRows:
    def __init__(
        self,
        *,
        organization_id: int,
        staff_ids: Mapping[str, int],
        plans: Mapping[tuple[str, int | None], list[PlanStep]],
        inactive_reason: str,
    ) -> None:
        """``plans``: the active plans' steps by (stage, source id or None for the stage's own).
        ``inactive_reason``: how the daily check's moves are recorded (by the check itself, or
        imported when there are no visits to check)."""
        self.org_id = organization_id
        self.staff_ids = staff_ids
        self.plans = plans
        self.inactive_reason = inactive_reason
        self.tz = timezone.get_current_timezone()

    @classmethod
    def for_organization(
        cls, *, organization_id: int, staff_ids: Mapping[str, int], inactive_reason: str
    ) -> LifecycleRows:
        plans: dict[tuple[str, int | None], list[PlanStep]] = {}
        active = FollowUpPlan.objects.for_org(organization_id).filter(is_active=True)
        keys = {p.pk: (p.stage, p.source_id) for p in active}
        steps = FollowUpPlanStep.objects.for_org(organization_id).filter(plan_id__in=list(keys))
        for step in steps.order_by("day_offset", "pk"):
            plans.setdefault(keys[step.plan_id], []).append(
                PlanStep(step.pk, step.day_offset, step.channel, step.action)
            )
        return cls(organization_id=organization_id, staff_ids=staff_ids, plans=plans, inactive_reason=inactive_reason)

    def add(
        self,
        batch: LifecycleBatch,
        *,
        customer_id: int,
        owner_id: int,
        source_id: int | None,
        created_at: dt.datetime,
        events: Iterable[LifeEvent],
    ) -> LifecycleState:
        """Append the rows of one file's story to ``batch``; return the file's lifecycle fields."""
        file = _File(self, batch, customer_id, owner_id, source_id)
        file.move(PROSPECT, CREATED, owner_id, created_at)
        for event in events:
            if isinstance(event, FollowUpSpec):
                file.follow_up(event)
            elif event.kind == PAID:
                file.paid(event.at)
            elif event.kind == MEMBERSHIP:
                if file.state.stage != MEMBER:
                    file.move(MEMBER, JOINED, self.staff_ids[event.staff], event.at)
            elif event.kind == INACTIVE:
                if file.state.stage != event.stage:
                    file.move(event.stage, self.inactive_reason, None, event.at)
            elif event.kind == GIVEN_UP:
                note = event.note.strip()[:200]
                file.move(LOST, MANUAL, self.staff_ids[event.staff], event.at, note)
        return file.state


class _File:
    """One file while its story is applied: its lifecycle fields and open tasks."""

    def __init__(self, rows: LifecycleRows, batch: LifecycleBatch, customer_id: int, owner_id: int, source: int | None):
        self.rows = rows
        self.batch = batch
        self.base = {"organization_id": rows.org_id, "customer_id": customer_id}
        self.owner_id = owner_id
        self.source_id = source
        self.state = LifecycleState()
        self.open: list[dict[str, Any]] = []

    def _day(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.rows.tz).date()

    def _close(self, at: dt.datetime, how: str, *, due_by: dt.date | None = None, stages: Any = None) -> None:
        still_open = []
        for task in self.open:
            if (due_by is not None and task["due_on"] <= due_by) or (stages is not None and task["stage"] in stages):
                task["closed_at"], task["closed_as"] = at, how
            else:
                still_open.append(task)
        self.open = still_open

    def _task(self, **values: Any) -> None:
        task = {**self.base, "assignee_id": self.owner_id, "closed_at": None, "closed_as": "", **values}
        self.batch.tasks.append(task)
        self.open.append(task)

    def move(self, to_stage: str, reason: str, by: int | None, at: dt.datetime, note: str = "") -> None:
        """``stages._move``: the stage change, the intent date, cancelled tasks, the new stage's plan."""
        state = self.state
        self.batch.stage_changes.append(
            {
                **self.base,
                "from_stage": state.stage,
                "to_stage": to_stage,
                "reason": reason,
                "note": note,
                "by_id": by,
                "at": at,
            }
        )
        state.stage = to_stage
        if to_stage in INTENT_STAGES and state.intent_at is None:
            state.intent_at = at
        if to_stage not in PROSPECT_STAGES:
            self._close(at, CANCELLED, stages=PROSPECT_STAGES)
        plans = self.rows.plans
        steps = plans.get((to_stage, self.source_id)) if self.source_id is not None else None
        if steps is None:
            steps = plans.get((to_stage, None), [])
        start = self._day(at)
        for step in steps:
            self._task(
                due_on=start + dt.timedelta(days=step.day_offset),
                channel=step.channel,
                action=step.action,
                origin=PLAN,
                plan_step_id=step.pk,
                stage=to_stage,
                created_at=at,
            )

    def follow_up(self, f: FollowUpSpec) -> None:
        """``followups.followup_record`` without a task named: it answers every task due by its day."""
        self.batch.followups.append(
            {
                **self.base,
                "staff_id": self.rows.staff_ids[f.staff],
                "channel": f.channel,
                "content": f.content.strip(),
                "result": f.result.strip()[:200],
                "grade": f.grade,
                "next_step": f.next_step.strip()[:200],
                "next_due": f.next_due,
                "task_id": None,
                "at": f.at,
            }
        )
        self._close(f.at, DONE, due_by=self._day(f.at))
        if f.grade:
            self.state.intent_grade = f.grade
            to_stage = stage_after_intent_grade(self.state.stage)
            if to_stage is not None:
                self.move(to_stage, FOLLOWUP_INTENT, self.rows.staff_ids[f.staff], f.at)
        if f.next_due is not None:
            self._task(
                due_on=f.next_due,
                channel=f.channel,
                action=f.next_step.strip()[:200],
                origin=NEXT_STEP,
                plan_step_id=None,
                stage=self.state.stage,
                created_at=f.at,
            )

    def paid(self, at: dt.datetime) -> None:
        """``stages.stage_on_paid_order``: the first paid visit converts (by the product)."""
        state = self.state
        if state.converted_at is None:
            state.converted_at = at
            if state.intent_at is None:
                state.intent_at = at
        move = stage_after_paid_order(state.stage)
        if move is not None:
            to_stage, reason = move
            self.move(str(to_stage), str(reason), None, at)
