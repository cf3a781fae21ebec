"""The customer lifecycle: prospects, follow-ups and their tasks, stages, merging, reassignment.

- ``/prospects``: capture a prospect (``prospects.capture``), list those not yet converted;
- ``/customers/{id}/followups``: read a customer's follow-ups, record one (``customers.follow_up``);
- ``/followups``: the open follow-up tasks of the caller, or of a colleague (``followups.team``);
- ``/customers/{id}/stage``: the stage and how it got there; change it by hand (``customers.stage``);
- ``/customers/merge``: merge a duplicate file into another (``customers.merge``);
- ``/staff/{id}/reassign``: hand a staff member's customers to others, maybe as they leave
  (``customers.reassign``; leaving also needs ``staff.manage``).

Every id, in the path or the body, is looked up in the caller's organization: a
customer or staff member of another answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status

from huitou.api.errors import fields_renamed
from huitou.api.lifecycle_schemas import (
    DuplicatesRefused,
    FollowUpIn,
    FollowUpOut,
    FollowUpPage,
    MergeIn,
    PageFilters,
    ProspectFilters,
    ProspectIn,
    ReassignIn,
    ReassignOut,
    StageIn,
    StageOut,
    TaskFilters,
    TaskPage,
)
from huitou.api.permissions import require
from huitou.api.routers.customers import _get_customer, _get_customer_row, customer_out
from huitou.api.schemas import CustomerOut, CustomerPage
from huitou.api.service_schemas import IdIn
from huitou.customers import selectors as customer_selectors
from huitou.customers.presentation import visible_phone
from huitou.lifecycle import errors, selectors
from huitou.lifecycle.models import FollowUp, FollowUpTask
from huitou.lifecycle.services.followups import followup_record
from huitou.lifecycle.services.merge import customer_merge
from huitou.lifecycle.services.ownership import staff_hand_over
from huitou.lifecycle.services.prospects import DuplicateFound, prospect_capture
from huitou.lifecycle.services.stages import stage_change
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.paging import count_capped

router = Router()

# Refusals of the API's own parameters (the services' are in huitou.lifecycle.errors).
STAFF_UNKNOWN = _("No staff member of this organization has this id or username.")
# ``owner`` of GET /followups asking for every staff member's tasks.
EVERYONE = "all"


def _page(items: Any, page: int, page_size: int) -> tuple[int, Any]:
    """The count and the slice of one page (two queries for a queryset)."""
    start = (page - 1) * page_size
    return items.count(), items[start : start + page_size]


def _staff_ref(user: User) -> dict[str, Any]:
    return {"id": user.pk, "username": user.username, "name": str(user)}


# --- prospects ------------------------------------------------------------------------------


@router.post(
    "/prospects",
    response={201: CustomerOut, 422: DuplicatesRefused},
    tags=["prospects"],
    summary="Capture a prospect",
)
def capture_prospect(request: ApiRequest, payload: ProspectIn) -> Status:
    """A phone or plate already on file is refused (422) naming the existing files in ``duplicates``."""
    organization = require(request, Perm.CAPTURE_PROSPECTS)
    data: dict[str, Any] = payload.model_dump(exclude_unset=True, exclude={"referrer_id", "owner_id", "owner"})
    if payload.owner is not None and payload.owner_id is not None:
        # Two answers to one question (the page has one select): the service's own refusal.
        raise ValidationError({"owner": [errors.OWNER_MODE_INVALID]})
    data["owner"] = payload.owner_id if payload.owner is None else payload.owner
    if "referrer_id" in payload.model_fields_set:
        data["referrer"] = payload.referrer_id
    renamed = {"referrer": "referrer_id", "owner": "owner" if payload.owner else "owner_id"}
    try:
        with fields_renamed(renamed):
            customer = prospect_capture(organization=organization, by=request.user, data=data)
    except DuplicateFound as exc:
        messages = {f: [str(m) for m in ms] for f, ms in exc.message_dict.items()}
        return Status(
            422,
            {
                "detail": next(iter(messages.values()))[0],
                "errors": messages,
                "duplicates": [{"id": c.pk, "name": c.name} for c in exc.duplicates],
            },
        )
    return Status(201, customer_out(_get_customer(request, customer.pk), request.user))


@router.get("/prospects", response=CustomerPage, tags=["prospects"], summary="List prospects and intent customers")
def list_prospects(request: ApiRequest, filters: Query[ProspectFilters]) -> dict[str, Any]:
    """Newest first. ``count`` is exact up to 10,000; 10,001 means more than that.

    Queries: 1 count, 2 the page of customers with owner, source and tag names.
    """
    organization = require(request, Perm.VIEW_CUSTOMERS)
    prospects = selectors.prospects_list(
        organization=organization,
        stage=filters.stage,
        source=filters.source,
        owner_id=filters.owner,
        grade=filters.grade,
    )
    start = (filters.page - 1) * filters.page_size
    count = count_capped(prospects)
    page = prospects.annotate(tag_name_list=customer_selectors.TagNames())[start : start + filters.page_size]
    return {
        "items": [customer_out(c, request.user) for c in page],
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
    }


# --- follow-ups -----------------------------------------------------------------------------


def followup_out(followup: FollowUp) -> dict[str, Any]:
    """(``staff`` must be selected.)"""
    return {
        **{f: getattr(followup, f) for f in FollowUpOut.model_fields if f != "staff"},
        "staff": _staff_ref(followup.staff),
    }


def task_out(task: FollowUpTask, viewer: User) -> dict[str, Any]:
    """(``customer`` and ``assignee`` must be selected.)"""
    customer = task.customer
    return {
        "id": task.pk,
        "customer": {"id": customer.pk, "name": customer.name, "phone": visible_phone(customer, viewer)},
        "assignee": _staff_ref(task.assignee),
        "due_on": task.due_on,
        "channel": task.channel,
        "action": task.action,
        "origin": task.origin,
    }


@router.get(
    "/customers/{customer_id}/followups",
    response=FollowUpPage,
    tags=["follow-ups"],
    summary="Follow-ups of a customer, newest first",
)
def list_followups(request: ApiRequest, customer_id: IdIn, filters: Query[PageFilters]) -> dict[str, Any]:
    """Queries: 1 the customer, 1 count, 1 page of follow-ups with who made them."""
    require(request, Perm.VIEW_CUSTOMERS)
    customer = _get_customer_row(request, customer_id)
    count, page = _page(selectors.followups_of(customer=customer), filters.page, filters.page_size)
    return {
        "items": [followup_out(f) for f in page],
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.post(
    "/customers/{customer_id}/followups",
    response={201: FollowUpOut},
    tags=["follow-ups"],
    summary="Record a follow-up",
)
def record_followup(request: ApiRequest, customer_id: IdIn, payload: FollowUpIn) -> Status:
    """Closes the task it answers (or every task due by today); a grade may move a prospect to intent;
    a next due date schedules the next step for the customer's owner."""
    require(request, Perm.FOLLOW_UP)
    customer = _get_customer_row(request, customer_id)
    followup = followup_record(customer=customer, by=request.user, **payload.model_dump())
    return Status(201, followup_out(followup))


def _assignee_id(request: ApiRequest, organization: Organization, wanted: str) -> int | None:
    """Whose tasks GET /followups lists: the caller's by default; another's (or everyone's: None)
    with the team permission. Refused before the lookup, so no one learns who exists."""
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


@router.get("/followups", response=TaskPage, tags=["follow-ups"], summary="Open follow-up tasks: my work list")
def list_tasks(request: ApiRequest, filters: Query[TaskFilters]) -> dict[str, Any]:
    """Due today, overdue or upcoming, oldest first. Queries: 1 count, 1 page of tasks with
    customer and assignee (and 1 staff member when ``owner`` names someone else)."""
    organization = require(request, Perm.FOLLOW_UP)
    assignee_id = _assignee_id(request, organization, filters.owner)
    tasks = selectors.tasks_due(organization=organization, due=filters.due, assignee_id=assignee_id)
    count, page = _page(tasks, filters.page, filters.page_size)
    return {
        "items": [task_out(t, request.user) for t in page],
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
    }


# --- stages ---------------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/stage", response=StageOut, by_alias=True, tags=["stages"], summary="Stage history"
)
def get_stage(request: ApiRequest, customer_id: IdIn) -> dict[str, Any]:
    """The current stage and every move, oldest first. Queries: 1 the customer, 1 the moves with who made them."""
    require(request, Perm.VIEW_CUSTOMERS)
    customer = _get_customer_row(request, customer_id)
    return {
        "stage": customer.stage,
        "history": [
            {
                "from_stage": c.from_stage,
                "to_stage": c.to_stage,
                "reason": c.reason,
                "note": c.note,
                "by": c.by.username if c.by else None,
                "at": c.at,
            }
            for c in selectors.stage_history(customer=customer)
        ],
    }


@router.post(
    "/customers/{customer_id}/stage", response=CustomerOut, tags=["stages"], summary="Change the stage by hand"
)
def change_stage(request: ApiRequest, customer_id: IdIn, payload: StageIn) -> dict[str, Any]:
    """Prospect, intent, lost, or back to customer after a paid order; member and dormant follow
    from membership and visits."""
    require(request, Perm.CHANGE_STAGE)
    customer = _get_customer_row(request, customer_id)
    stage_change(customer=customer, to_stage=payload.stage, reason=payload.reason, by=request.user)
    return customer_out(_get_customer(request, customer_id), request.user)


# --- merging and reassignment ---------------------------------------------------------------


@router.post("/customers/merge", response=CustomerOut, tags=["customers"], summary="Merge a duplicate file")
def merge_customers(request: ApiRequest, payload: MergeIn) -> dict[str, Any]:
    """Vehicles, orders, follow-ups, history... of ``other_id`` move to ``keep_id``; the other file is
    closed (soft-deleted, pointing at the kept one). Answers the kept file."""
    require(request, Perm.MERGE_CUSTOMERS)
    keep = _get_customer_row(request, payload.keep_id)
    other = _get_customer_row(request, payload.other_id)
    with fields_renamed({"other": "other_id"}):
        customer_merge(keep=keep, other=other, by=request.user)
    return customer_out(_get_customer(request, keep.pk), request.user)


@router.post("/staff/{staff_id}/reassign", response=ReassignOut, tags=["staff"], summary="Hand customers to others")
def reassign_customers(request: ApiRequest, staff_id: IdIn, payload: ReassignIn) -> dict[str, Any]:
    """The staff member's customers (all, or ``customer_ids``) and their open tasks go to ``to``
    in turn. With ``deactivate`` they also leave: no customer is left with them as owner."""
    organization = require(request, Perm.REASSIGN_CUSTOMERS)
    staff = get_scoped_or_404(User.objects.all(), organization, pk=staff_id)
    with fields_renamed({"user": "staff_id"}):
        moved = staff_hand_over(
            user=staff,
            to_user_ids=payload.to,
            by=request.user,
            customer_ids=payload.customer_ids,
            leaving=payload.deactivate,
        )
    return {"moved": moved, "deactivated": payload.deactivate}
