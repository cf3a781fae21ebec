"""Background jobs of care."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from huitou.care.services.complaints import complaints_escalate
from huitou.care.services.sweep import care_sweep
from huitou.tenancy.models import Organization


@db_task()
def sweep_for(organization_id: int) -> dict[str, int]:
    """One organization's care sweep for today; safe to run twice."""
    return care_sweep(organization=Organization.objects.get(pk=organization_id))


# huey reads crontabs in UTC: 19:30 UTC is 03:30 in China, after the lifecycle's visit check.
@db_periodic_task(crontab(hour="19", minute="30"))
def sweep_daily() -> None:
    """Every night: maintenance, insurance and inspection reminders due become care tasks."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        sweep_for(organization_id)


# Every quarter of an hour: a first response is due within hours, so a nightly run would be too late.
@db_periodic_task(crontab(minute="*/15"))
def complaints_escalate_all() -> None:
    """Complaints whose next step is late are escalated to the store managers, once per step."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        complaints_escalate(organization=organization_id)
