"""Reads of the lifecycle: work lists, follow-ups, stage history, plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from huitou.customers.models import Customer, Stage
from huitou.lib.statements import tenant_rows
from huitou.lifecycle.models import (
    FollowUp,
    FollowUpPlan,
    FollowUpPlanStep,
    FollowUpTask,
    ProspectRotation,
    StageChange,
)
from huitou.tenancy.models import Organization, User

DUE_TODAY = "today"
DUE_OVERDUE = "overdue"
DUE_UPCOMING = "upcoming"
DUE_CHOICES = (DUE_TODAY, DUE_OVERDUE, DUE_UPCOMING)


def tasks_due(
    *,
    organization: Organization | int,
    due: str = DUE_TODAY,
    assignee_id: int | None = None,
    today: dt.date | None = None,
) -> QuerySet[FollowUpTask]:
    """Open follow-up tasks due today, overdue (before today) or upcoming, oldest first.

    With the customer and the assignee joined: one query a page.
    """
    today = today or timezone.localdate()
    # A deleted file's tasks are on hold (closed) until it is restored: no join to the files.
    tasks = FollowUpTask.objects.for_org(organization).filter(closed_at=None)
    if assignee_id is not None:
        tasks = tasks.filter(assignee_id=assignee_id)
    if due == DUE_OVERDUE:
        tasks = tasks.filter(due_on__lt=today)
    elif due == DUE_UPCOMING:
        tasks = tasks.filter(due_on__gt=today)
    else:
        tasks = tasks.filter(due_on=today)
    return tasks.select_related("customer", "assignee").order_by("due_on", "pk")


def task_counts(*, organization: Organization | int, assignee_id: int, today: dt.date | None = None) -> dict[str, int]:
    """How many open tasks one staff member has due today, overdue and upcoming (the work list's tabs). One query."""
    today = today or timezone.localdate()
    return (
        FollowUpTask.objects.for_org(organization)
        .filter(closed_at=None, assignee_id=assignee_id)
        .aggregate(
            **{
                DUE_TODAY: Count("due_on", filter=Q(due_on=today)),
                DUE_OVERDUE: Count("due_on", filter=Q(due_on__lt=today)),
                DUE_UPCOMING: Count("due_on", filter=Q(due_on__gt=today)),
            }
        )
    )


@dataclass(frozen=True)
class StaffBacklog:
    staff: User
    overdue: int
    today: int
    oldest_due: dt.date | None


def backlog_by_staff(*, organization: Organization, today: dt.date | None = None) -> list[StaffBacklog]:
    """The manager's view: per staff member, open tasks overdue and due today. Two queries.

    The counts come from the open-task index alone (a deleted file's tasks are on hold, closed).
    """
    today = today or timezone.localdate()
    rows = (
        FollowUpTask.objects.for_org(organization)
        .filter(closed_at=None, due_on__lte=today)
        .values("assignee_id")
        .annotate(
            # Counts of due_on, which the open-task index holds (the id it does not).
            overdue=Count("due_on", filter=Q(due_on__lt=today)),
            today=Count("due_on", filter=Q(due_on=today)),
            oldest=Min("due_on"),
        )
    )
    counts = {r["assignee_id"]: r for r in rows}
    # The organization's staff, kept in Python: an IN list of every busy person (a chain's 2,000)
    # cost Django more to build than reading its few thousand staff.
    staff = [u for u in User.objects.for_org(organization).order_by("pk") if u.pk in counts]
    backlog = [
        StaffBacklog(
            staff=u,
            overdue=counts[u.pk]["overdue"],
            today=counts[u.pk]["today"],
            oldest_due=counts[u.pk]["oldest"] if counts[u.pk]["overdue"] else None,
        )
        for u in staff
    ]
    return sorted(backlog, key=lambda b: (-b.overdue, -b.today, b.staff.pk))


def followups_for_customer(*, customer: Customer, limit: int = 50) -> list[FollowUp]:
    """The customer's latest follow-ups with who made them (a kept statement: ``huitou.lib.statements``)."""

    def build(org: int, pk: int) -> QuerySet[FollowUp]:
        rows = FollowUp.objects.for_org(org).filter(customer_id=pk).select_related("staff")
        return rows.order_by("-at", "-pk")[:limit]

    return tenant_rows(("lifecycle.followups_for_customer", limit), customer.organization_id, customer.pk, build)


def open_tasks_for_customer(*, customer: Customer) -> list[FollowUpTask]:
    """The customer's open follow-up tasks with their assignees, soonest first (a kept statement)."""

    def build(org: int, pk: int) -> QuerySet[FollowUpTask]:
        rows = FollowUpTask.objects.for_org(org).filter(customer_id=pk, closed_at=None)
        return rows.select_related("assignee").order_by("due_on", "pk")

    return tenant_rows(("lifecycle.open_tasks_for_customer",), customer.organization_id, customer.pk, build)


def stage_history(*, customer: Customer) -> list[StageChange]:
    """Every stage the customer went through, oldest first (a kept statement)."""

    def build(org: int, pk: int) -> QuerySet[StageChange]:
        return StageChange.objects.for_org(org).filter(customer_id=pk).select_related("by").order_by("at", "pk")

    return tenant_rows(("lifecycle.stage_history",), customer.organization_id, customer.pk, build)


def plans_for_org(*, organization: Organization) -> list[FollowUpPlan]:
    """Every plan with its steps and source: two queries."""
    return list(
        FollowUpPlan.objects.for_org(organization)
        .select_related("source")
        .prefetch_related(Prefetch("steps", queryset=FollowUpPlanStep.objects.order_by("day_offset", "pk")))
        .order_by("stage", "-is_active", "name", "pk")
    )


def rotation_members(*, organization: Organization) -> list[User]:
    rotation = ProspectRotation.objects.for_org(organization).first()
    if rotation is None:
        return []
    return list(rotation.members.filter(is_active=True).order_by("pk"))


def prospects_list(
    *,
    organization: Organization | int,
    stage: str = "",
    source: str = "",
    owner_id: int | None = None,
    grade: str = "",
) -> QuerySet[Customer]:
    """Active files not yet converted (prospect or intent, or the one ``stage``), newest first.

    ``source`` is a source code. With the owner, the source and the RFM score row joined (the API
    shows the grade and churn risk of each); the caller paginates.
    """
    customers = Customer.objects.for_org(organization).active()
    customers = customers.filter(stage=stage) if stage else customers.filter(stage__in=[Stage.PROSPECT, Stage.INTENT])
    if source:
        customers = customers.filter(source__code=source)
    if owner_id is not None:
        customers = customers.filter(owner_id=owner_id)
    if grade:
        customers = customers.filter(intent_grade=grade)
    return customers.select_related("owner", "source", "score").order_by("-pk")


def followups_of(*, customer: Customer) -> QuerySet[FollowUp]:
    """Every follow-up of the customer, newest first, with who made it; the caller paginates."""
    return (
        FollowUp.objects.for_org(customer.organization_id)
        .filter(customer=customer)
        .select_related("staff")
        .order_by("-at", "-pk")
    )


def with_next_due(customers: QuerySet[Customer], *, organization: Organization | int) -> QuerySet[Customer]:
    """The customers, each with ``next_due``: the day their next open follow-up task is due (None: no task).

    A subquery on the open-task index, in the same query as the customers.
    """
    next_task = (
        FollowUpTask.objects.for_org(organization)
        .filter(customer=OuterRef("pk"), closed_at=None)
        .order_by("due_on")
        .values("due_on")[:1]
    )
    return customers.annotate(next_due=Subquery(next_task))
