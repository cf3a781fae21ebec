from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q
from django.utils import timezone

from huitou.customers.models import Customer, Stage
from huitou.lifecycle.models import FollowUpTask
from huitou.tenancy.models import Organization, User


@dataclass(frozen=True)
class HomeSummary:
    customers: int
    prospects: int
    mine: int
    average_completeness: int
    followups_today: int = 0
    followups_overdue: int = 0


def home_summary(*, organization: Organization, user: User) -> HomeSummary:
    """Counts for the start page, in two queries: the customers, and the user's follow-ups due."""
    row = (
        Customer.objects.for_org(organization)
        .active()
        .aggregate(
            customers=Count("pk"),
            prospects=Count("pk", filter=Q(stage__in=[Stage.PROSPECT, Stage.INTENT])),
            mine=Count("pk", filter=Q(owner=user)),
            completeness=Avg("completeness"),
        )
    )
    today = timezone.localdate()
    due = (
        FollowUpTask.objects.for_org(organization)
        .filter(assignee=user, closed_at=None, customer__deleted_at=None, due_on__lte=today)
        .aggregate(today=Count("pk", filter=Q(due_on=today)), overdue=Count("pk", filter=Q(due_on__lt=today)))
    )
    return HomeSummary(
        customers=row["customers"],
        prospects=row["prospects"],
        mine=row["mine"],
        average_completeness=round(row["completeness"] or 0),
        followups_today=due["today"],
        followups_overdue=due["overdue"],
    )
