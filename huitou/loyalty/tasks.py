"""Background jobs of membership (huey). Each organization's job is its own task, safe to run twice."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from huitou.loyalty.services.cards import cards_expire
from huitou.loyalty.services.tiers import free_services_anniversaries, tiers_review
from huitou.tenancy.models import Organization


@db_task()
def tiers_review_for(organization_id: int) -> dict[str, int]:
    """One organization's tier review (keep or move down the members due) and the anniversaries'
    free-service coupons."""
    result = tiers_review(organization=organization_id)
    result["free_services"] = free_services_anniversaries(organization=organization_id)
    return result


# huey reads crontabs in UTC: 19:30 UTC is 03:30 in China, after the visit check (03:10).
@db_periodic_task(crontab(hour="19", minute="30"))
def tiers_review_daily() -> None:
    """Every night: members whose review date has come keep their tier or move down."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        tiers_review_for(organization_id)


@db_task()
def cards_expire_for(organization_id: int) -> int:
    """One organization's package cards past their last day lose their uses left; safe to run twice."""
    return cards_expire(organization=organization_id)


# 16:40 UTC is 00:40 in China: the day a card was last valid has just ended.
@db_periodic_task(crontab(hour="16", minute="40"))
def cards_expire_daily() -> None:
    """Every night: package cards that ran out yesterday expire, with an entry on the statement."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        cards_expire_for(organization_id)
