"""Background jobs of the personal-data rights."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from huitou.privacy.services import prospects_anonymise, retention_months
from huitou.tenancy.models import Organization


@db_task()
def prospects_anonymise_for(organization_id: int) -> int:
    """One organization's retention: anonymise its expired prospects; safe to run twice."""
    return prospects_anonymise(organization=Organization.objects.get(pk=organization_id))


# huey reads crontabs in UTC: 19:25 UTC is 03:25 in China, after the nightly visit check.
@db_periodic_task(crontab(hour="19", minute="25"))
def prospects_anonymise_daily() -> None:
    """Every night, for each organization that switched retention on."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        if retention_months(organization_id):
            prospects_anonymise_for(organization_id)
