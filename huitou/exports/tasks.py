"""Background jobs of the exports."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from huitou.exports.models import ExportJob
from huitou.exports.services import export_build as build
from huitou.exports.services import exports_expire
from huitou.tenancy.models import Organization


@db_task()
def export_build(organization_id: int, job_id: int) -> int | None:
    """Make one waiting export's file; safe to run twice. The number of rows written."""
    job = ExportJob.objects.for_org(organization_id).select_related("requested_by").filter(pk=job_id).first()
    if job is None:
        return None
    return build(job=job).rows


# huey reads crontabs in UTC: 19:40 UTC is 03:40 in China.
@db_periodic_task(crontab(hour="19", minute="40"))
def exports_expire_daily() -> None:
    """Every night: remove export files older than EXPORT_KEEP_DAYS."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        exports_expire(organization=organization_id)
