"""Reading complaints: the board by state and age, one complaint with its steps and log, a manager's notices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from huitou.care.models import (
    STEP_ORDER,
    CareTask,
    Complaint,
    ComplaintEvent,
    ComplaintNotice,
    ComplaintStep,
    ComplaintStepKind,
)
from huitou.care.services.complaints import complaint_deadlines
from huitou.care.services.questionnaire import answers_shown
from huitou.tenancy.models import Organization, User
from huitou.tenancy.scoping import get_scoped_or_404

BOARD_PAGE = 50
STATES = ("open", "late", "closed", "all")


def complaints_filtered(
    *,
    organization: Organization | int,
    state: str | None = None,
    customer_id: int | None = None,
    owner_id: int | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Complaint]:
    """The complaints a board or the API lists, in its order.

    ``state``: ``open`` (oldest first: the age is the point), ``late`` (open
    and past the next step's deadline, most overdue first), ``closed``
    (latest closed first), or everything (open first, then closed).
    """
    rows = Complaint.objects.for_org(organization).select_related("customer", "vehicle", "owner")
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if owner_id is not None:
        rows = rows.filter(owner_id=owner_id)
    if state == "open":
        return rows.filter(state=Complaint.State.OPEN).order_by("opened_at", "pk")
    if state == "late":
        late = rows.filter(state=Complaint.State.OPEN, due_at__lt=now or timezone.now())
        return late.order_by("due_at", "pk")
    if state == "closed":
        return rows.filter(state=Complaint.State.CLOSED).order_by("-closed_at", "-pk")
    return rows.order_by("-state", "opened_at", "pk")  # "open" sorts after "closed": descending puts it first


def complaint_counts(*, organization: Organization | int, now: dt.datetime | None = None) -> dict[str, int]:
    """How many complaints are open, late and closed (one query)."""
    now = now or timezone.now()
    found = Complaint.objects.for_org(organization).aggregate(
        open=Count("pk", filter=Q(state=Complaint.State.OPEN)),
        late=Count("pk", filter=Q(state=Complaint.State.OPEN, due_at__lt=now)),
        closed=Count("pk", filter=Q(state=Complaint.State.CLOSED)),
        all=Count("pk"),
    )
    return {k: int(v or 0) for k, v in found.items()}


def notices_unread(*, user: User, limit: int = 20) -> list[ComplaintNotice]:
    """A store manager's unread notices, newest first, with their complaint and customer (one query)."""
    assert user.organization_id is not None, "staff of an organization"
    return list(
        ComplaintNotice.objects.for_org(user.organization_id)
        .filter(recipient=user, read_at__isnull=True)
        .select_related("complaint__customer")
        .order_by("-created_at", "-pk")[:limit]
    )


@dataclass
class StepView:
    """One of the nine steps of the current round: recorded, next, or still ahead."""

    code: str
    label: str
    recorded: ComplaintStep | None
    is_next: bool
    hours: int


@dataclass
class ComplaintView:
    complaint: Complaint
    steps: list[StepView]  # the current round's nine
    earlier: list[ComplaintStep]  # the steps of earlier rounds
    events: list[ComplaintEvent]
    answers: list[tuple[str, Any]]  # the callback's questionnaire, when a callback opened it


def complaint_get(*, organization: Organization | int, pk: int) -> Complaint:
    """One complaint with its customer, vehicle, order, owner and callback (one query; 404 if not in scope)."""
    rows = Complaint.objects.for_org(organization).select_related(
        "customer", "vehicle", "order", "owner", "callback", "closed_by"
    )
    return get_scoped_or_404(rows, organization, pk=pk)


def complaint_view(*, complaint: Complaint) -> ComplaintView:
    """The detail of a complaint loaded by ``complaint_get``.

    Queries: its steps (with who, the coupon and the stored-value entry), its
    log (with who), the deadlines, and the callback's questionnaire when a
    callback opened it.
    """
    org_id = complaint.organization_id
    steps = list(
        ComplaintStep.objects.for_org(org_id)
        .filter(complaint=complaint)
        .select_related("by", "coupon", "stored_value_entry")
        .order_by("round", "at", "pk")
    )
    events = list(
        ComplaintEvent.objects.for_org(org_id).filter(complaint=complaint).select_related("by").order_by("at", "pk")
    )
    hours = complaint_deadlines(organization=org_id)
    current = {s.step: s for s in steps if s.round == complaint.round}
    next_step = complaint.next_step
    views = [
        StepView(
            code=code,
            label=str(ComplaintStepKind(code).label),
            recorded=current.get(code),
            is_next=code == next_step,
            hours=hours[code],
        )
        for code in STEP_ORDER
    ]
    callback: CareTask | None = complaint.callback
    answers = answers_shown(organization=org_id, answers=callback.answers) if callback is not None else []
    return ComplaintView(
        complaint=complaint,
        steps=views,
        earlier=[s for s in steps if s.round != complaint.round],
        events=events,
        answers=answers,
    )
