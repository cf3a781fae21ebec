"""Reads of imports: an organization's imports and an import's report."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from huitou.imports.models import ImportIssue, ImportJob
from huitou.tenancy.models import Organization

REPORTED_ISSUES = 1000


def imports_recent(*, organization: Organization, limit: int = 20) -> QuerySet[ImportJob]:
    return ImportJob.objects.for_org(organization).select_related("created_by").order_by("-created_at", "-pk")[:limit]


def import_issues(*, job: ImportJob, limit: int = REPORTED_ISSUES) -> list[dict[str, Any]]:
    """The first ``limit`` refused cells: Excel row, column header and message."""
    rows = ImportIssue.objects.for_org(job.organization_id).filter(job=job).order_by("row", "pk")
    return [
        {"row": row, "column": column, "message": message}
        for row, column, message in rows.values_list("row", "column", "message")[:limit]
    ]


def import_report(*, job: ImportJob) -> dict[str, Any]:
    """What the API and the page's progress show of an import."""
    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "dry_run": job.dry_run,
        "filename": job.filename,
        "header_row": job.header_row,
        "columns": job.columns,
        "mapping": job.mapping,
        "on_duplicate": job.on_duplicate,
        "total_rows": job.total_rows,
        "rows": job.rows,
        "created": job.created,
        "updated": job.updated,
        "skipped": job.skipped,
        "failed": job.failed,
        "percent": job.percent,
        "errors": import_issues(job=job),
    }
