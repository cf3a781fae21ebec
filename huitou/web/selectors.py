from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q

from huitou.customers.models import Customer, Stage
from huitou.tenancy.models import Organization, User


@dataclass(frozen=True)
class HomeSummary:
    customers: int
    prospects: int
    mine: int
    average_completeness: int


def home_summary(*, organization: Organization, user: User) -> HomeSummary:
    """Counts for the start page, in one query."""
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
    return HomeSummary(
        customers=row["customers"],
        prospects=row["prospects"],
        mine=row["mine"],
        average_completeness=round(row["completeness"] or 0),
    )
