"""/api/v1/care: the care work list (callbacks, reminders) and closing a task, as on the care pages.

- ``GET /care/tasks``: care tasks of the caller (``customers.follow_up``), of a colleague or everyone's
  (``followups.team``), by kind, customer, state and due date;
- ``GET /care/tasks/{id}``: one task;
- ``POST /care/tasks/{id}/done``: done, with the result (and a callback's score and answers);
- ``POST /care/tasks/{id}/skip``: skipped, with the reason.

A task is closed by its owner, or by those who see the team's work (403 for a colleague's);
a closed task answers 409. A task of another organization answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router

from huitou.api.care_schemas import CareDoneIn, CareSkipIn, CareTaskFilters, CareTaskOut, CareTaskPage
from huitou.api.permissions import require
from huitou.api.service_schemas import IdIn
from huitou.care import selectors
from huitou.care.models import CareTask
from huitou.care.services.tasks import care_task_done, care_task_skip
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm
from huitou.web.paging import count_capped

router = Router(tags=["care"])

STAFF_UNKNOWN = _("No staff member of this organization has this id or username.")
EVERYONE = "all"


def care_task_out(task: CareTask) -> dict[str, Any]:
    """(``owner`` must be selected.)"""
    owner = task.owner
    return {
        **{f: getattr(task, f) for f in CareTaskOut.model_fields if f != "owner"},
        "owner": {"id": owner.pk, "username": owner.username, "name": str(owner)},
    }


def _owner_id(request: ApiRequest, organization: Organization, wanted: str) -> int | None:
    """Whose tasks: the caller's by default; another's (or everyone's: None) with the team permission.
    Refused before the lookup, so no one learns who exists."""
    user: User = request.user
    wanted = wanted.strip()
    if not wanted or wanted in (str(user.pk), user.username):
        return user.pk
    require(request, Perm.VIEW_TEAM_FOLLOWUPS)
    if wanted == EVERYONE:
        return None
    match = Q(username=wanted)
    if wanted.isdecimal() and len(wanted) < 19:
        match |= Q(pk=int(wanted))
    found = sorted(User.objects.for_org(organization).filter(match), key=lambda u: str(u.pk) != wanted)
    if not found:
        raise ValidationError({"owner": [STAFF_UNKNOWN]})
    return found[0].pk


@router.get("/tasks", response=CareTaskPage, summary="Care tasks: my care work list")
def list_care_tasks(request: ApiRequest, filters: Query[CareTaskFilters]) -> dict[str, Any]:
    """Open tasks oldest due first, closed ones latest closed first. ``count`` is exact up to 10,000;
    10,001 means more than that.

    Queries: 1 count, 1 page of tasks with their owners (and 1 staff member when ``owner`` names someone else).
    """
    organization = require(request, Perm.FOLLOW_UP)
    owner_id = _owner_id(request, organization, filters.owner)
    tasks = (
        selectors.care_tasks(
            organization=organization,
            owner_id=owner_id,
            kind=filters.kind,
            customer_id=filters.customer_id,
            state=filters.state,
            due=filters.due,
        )
        .select_related(None)
        .select_related("owner")
    )
    start = (filters.page - 1) * filters.page_size
    count = count_capped(tasks)
    return {
        "items": [care_task_out(t) for t in tasks[start : start + filters.page_size]],
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.get("/tasks/{task_id}", response=CareTaskOut, summary="Read a care task")
def get_care_task(request: ApiRequest, task_id: IdIn) -> dict[str, Any]:
    organization = require(request, Perm.FOLLOW_UP)
    return care_task_out(selectors.task_for_page(organization=organization, task_id=task_id))


@router.post("/tasks/{task_id}/done", response=CareTaskOut, summary="Mark a care task done")
def done_care_task(request: ApiRequest, task_id: IdIn, payload: CareDoneIn) -> dict[str, Any]:
    """A callback needs the score (1–5); 2 or less opens a complaint. 403: a colleague's task; 409: closed."""
    organization = require(request, Perm.FOLLOW_UP)
    task = selectors.task_for_closing(organization=organization, user=request.user, task_id=task_id)
    closed = care_task_done(
        task=task, by=request.user, result=payload.result, score=payload.score, answers=payload.answers
    )
    return care_task_out(selectors.task_for_page(organization=organization, task_id=closed.pk))


@router.post("/tasks/{task_id}/skip", response=CareTaskOut, summary="Skip a care task")
def skip_care_task(request: ApiRequest, task_id: IdIn, payload: CareSkipIn) -> dict[str, Any]:
    """403: a colleague's task; 409: closed."""
    organization = require(request, Perm.FOLLOW_UP)
    task = selectors.task_for_closing(organization=organization, user=request.user, task_id=task_id)
    closed = care_task_skip(task=task, by=request.user, reason=payload.reason)
    return care_task_out(selectors.task_for_page(organization=organization, task_id=closed.pk))
