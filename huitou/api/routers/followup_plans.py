"""/api/v1/followup-plans: the standard processes (标准业务流程) whose steps become follow-up tasks.

Read and written by ``settings.manage`` (the store manager), as on the plans page.
Saving a plan replaces its steps; tasks already scheduled keep their dates.
"""

from __future__ import annotations

from typing import Any

from ninja import Router, Status

from huitou.api.lifecycle_schemas import PlanIn, PlanOut
from huitou.api.permissions import require
from huitou.api.service_schemas import IdIn
from huitou.lifecycle import selectors
from huitou.lifecycle.models import FollowUpPlan
from huitou.lifecycle.services.plans import plan_save
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["follow-up plans"])


def plan_out(plan: FollowUpPlan) -> dict[str, Any]:
    """(``source`` selected and ``steps`` prefetched, or one query more.)"""
    return {
        "id": plan.pk,
        "name": plan.name,
        "stage": plan.stage,
        "source": plan.source.code if plan.source is not None else None,
        "is_active": plan.is_active,
        "steps": [{"day_offset": s.day_offset, "channel": s.channel, "action": s.action} for s in plan.steps.all()],
        "updated_at": plan.updated_at,
    }


def _save(request: ApiRequest, plan: FollowUpPlan | None, payload: PlanIn) -> dict[str, Any]:
    organization = request.organization
    data = payload.model_dump(exclude={"steps"})
    steps = [s.model_dump() for s in payload.steps]
    saved = plan_save(organization=organization, plan=plan, data=data, steps=steps)
    return plan_out(saved)


@router.get("", response=list[PlanOut], summary="Follow-up plans with their steps")
def list_plans(request: ApiRequest) -> list[dict[str, Any]]:
    """By stage, active first. Queries: 1 plans with their source, 1 steps."""
    organization = require(request, Perm.MANAGE_SETTINGS)
    return [plan_out(p) for p in selectors.plans_for_org(organization=organization)]


@router.post("", response={201: PlanOut}, summary="Create a follow-up plan")
def create_plan(request: ApiRequest, payload: PlanIn) -> Status:
    require(request, Perm.MANAGE_SETTINGS)
    return Status(201, _save(request, None, payload))


@router.put("/{plan_id}", response=PlanOut, summary="Replace a follow-up plan and its steps")
def replace_plan(request: ApiRequest, plan_id: IdIn, payload: PlanIn) -> dict[str, Any]:
    organization = require(request, Perm.MANAGE_SETTINGS)
    plan = get_scoped_or_404(FollowUpPlan.objects.all(), organization, pk=plan_id)
    return _save(request, plan, payload)
