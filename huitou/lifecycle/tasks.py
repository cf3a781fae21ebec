"""Background jobs of the lifecycle."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from huitou.lifecycle.services.stages import stages_mark_inactive
from huitou.tenancy.models import Organization


@db_task()
def mark_inactive_for(organization_id: int) -> dict[str, int]:
    """One organization's visit check; safe to run twice."""
    organization = Organization.objects.get(pk=organization_id)
    return stages_mark_inactive(organization=organization)


# huey reads crontabs in UTC: 19:10 UTC is 03:10 in China, when no shop is open.
@db_periodic_task(crontab(hour="19", minute="10"))
def mark_inactive_daily() -> None:
    """Every night: customers without a visit for too long become dormant, then lost."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        mark_inactive_for(organization_id)
