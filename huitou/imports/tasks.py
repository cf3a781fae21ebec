"""Background work of imports: a large sheet's dry run, and the real run, batch by batch."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from huitou.imports.models import ImportJob
from huitou.imports.services.jobs import import_check_run, import_run


@db_task()
def run_check(organization_id: int, job_id: int, then_import: bool = False) -> str:
    """Make a queued dry run (and then queue the import, if asked); safe to run twice."""
    job: ImportJob = import_check_run(organization_id=organization_id, job_id=job_id, then_import=then_import)
    return job.state


@db_task()
def run_import(organization_id: int, job_id: int) -> str:
    """Run (or go on with) an import; safe to run twice: finished batches are not run again."""
    job: ImportJob = import_run(organization_id=organization_id, job_id=job_id)
    return job.state
