"""Background jobs of analytics (huey). Each organization's refresh is its own task, safe to run twice."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from huitou.analytics.facts import facts_refresh, facts_stale
from huitou.analytics.rfm import scores_refresh
from huitou.tenancy.models import Organization


@db_task()
def scores_refresh_for(organization_id: int) -> int:
    """One organization's RFM scores, segments, grades and churn risk (set-based: a few statements)."""
    return scores_refresh(organization=organization_id)


# huey reads crontabs in UTC: 19:50 UTC is 03:50 in China, after the tier review (03:30).
@db_periodic_task(crontab(hour="19", minute="50"))
def scores_refresh_daily() -> None:
    """Every night: every customer's RFM, segment, grade and churn risk as of today."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        scores_refresh_for(organization_id)


@db_task()
def facts_refresh_for(organization_id: int) -> int:
    """One organization's stale days computed again (queued when a change commits). Nothing stale (another
    run answered the marks already): one read, no write lock."""
    return facts_refresh(organization_id) if facts_stale(organization_id) else 0
