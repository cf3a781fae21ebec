"""Making exports: at once for a short list, in huey for a long one; each recorded in the audit log."""

from __future__ import annotations

import datetime as dt
import io
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record
from huitou.exports import errors
from huitou.exports.models import ExportFormat, ExportJob
from huitou.exports.registry import ExportSource, source_for
from huitou.exports.writers import WRITERS
from huitou.tenancy.models import Organization, User

# A list of up to this many rows is made while the request waits (a few seconds at most);
# a longer one goes to a huey worker and is downloaded from the exports page.
DEFAULT_SYNC_MAX_ROWS = 5000
DEFAULT_KEEP_DAYS = 7


def sync_max_rows() -> int:
    return int(getattr(settings, "EXPORT_SYNC_MAX_ROWS", DEFAULT_SYNC_MAX_ROWS))


def keep_days() -> int:
    return int(getattr(settings, "EXPORT_KEEP_DAYS", DEFAULT_KEEP_DAYS))


def storage() -> FileSystemStorage:
    """Where made exports wait for their download: ``<data dir>/exports``."""
    location = getattr(settings, "EXPORTS_DIR", None) or Path(settings.DATA_DIR) / "exports"
    return FileSystemStorage(location=str(location))


@dataclass
class ExportResult:
    job: ExportJob
    content: bytes | None  # the file itself when it was made at once


def _source(name: str, by: User) -> ExportSource:
    source = source_for(name)
    if source is None:
        raise ValidationError({"source": [errors.UNKNOWN_SOURCE]})
    if not by.has_role_perm(source.perm):
        raise PermissionDenied
    return source


def _record(job: ExportJob, *, now: dt.datetime) -> None:
    """The audit entry of a made export: who, which list, which filters, how many rows."""
    change_record(
        organization_id=job.organization_id,
        subject=job,
        action=ChangeEntry.Action.CREATED,
        actor=job.requested_by,
        changes={
            "source": [None, job.source],
            "format": [None, job.format],
            "filters": [None, job.filters],
            "rows": [None, job.rows],
        },
        at=now,
    )


def _write(job: ExportJob, source: ExportSource, target: Any) -> int:
    organization = Organization.objects.get(pk=job.organization_id)
    rows = source.rows(organization=organization, viewer=job.requested_by, filters=job.filters)
    return WRITERS[job.format](target, str(source.title), source.columns, rows)


def export_request(
    *,
    organization: Organization,
    by: User,
    source: str,
    fmt: str,
    params: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> ExportResult:
    """Export the list ``source`` under the page's query ``params`` as ``fmt`` (xlsx, csv), as ``by`` sees it.

    Up to ``EXPORT_SYNC_MAX_ROWS`` rows the file is made now and returned
    (the job is ``delivered``, no file is kept); above, the job waits for
    ``export_build`` in huey (enqueued on commit) and its file is downloaded
    from the exports page when ``ready``. Refused: an unknown list or format
    (``ValidationError``), a list ``by`` may not see (``PermissionDenied``).
    """
    if fmt not in ExportFormat.values:
        raise ValidationError({"format": [errors.UNKNOWN_FORMAT]})
    found = _source(source, by)
    now = now or timezone.now()
    filters = found.filters(params, organization=organization, viewer=by)
    expected = found.count(organization=organization, viewer=by, filters=filters)
    job = ExportJob(
        organization=organization, source=found.name, format=fmt, filters=filters, requested_by=by, created_at=now
    )
    if expected > sync_max_rows():
        job.rows = expected
        job.save()
        from huitou.exports.tasks import export_build

        transaction.on_commit(lambda: export_build(organization.pk, job.pk))
        return ExportResult(job, None)
    buffer = io.BytesIO()
    with transaction.atomic():
        job.rows = _write(job, found, buffer)
        job.state, job.finished_at = ExportJob.State.DELIVERED, now
        job.save()
        _record(job, now=now)
    return ExportResult(job, buffer.getvalue())


def export_build(*, job: ExportJob, now: dt.datetime | None = None) -> ExportJob:
    """Make a waiting export's file (huey). Safe to run twice: a job no longer waiting is left alone."""
    claimed = (
        ExportJob.objects.for_org(job.organization_id)
        .filter(pk=job.pk, state=ExportJob.State.PENDING)
        .update(state=ExportJob.State.RUNNING)
    )
    if not claimed:
        return job
    found = source_for(job.source)
    if found is None:
        raise ValidationError(errors.UNKNOWN_SOURCE)
    name = f"{job.organization_id}/{job.pk}-{secrets.token_hex(8)}.{job.format}"
    try:
        with tempfile.TemporaryFile() as temp:
            rows = _write(job, found, temp)
            temp.seek(0)
            stored = storage().save(name, File(temp))
    except Exception as exc:
        ExportJob.objects.for_org(job.organization_id).filter(pk=job.pk).update(
            state=ExportJob.State.FAILED, error=str(exc)[:200], finished_at=timezone.now()
        )
        raise
    now = now or timezone.now()
    with transaction.atomic():
        job.state, job.rows, job.file, job.finished_at = ExportJob.State.READY, rows, stored, now
        job.save(update_fields=["state", "rows", "file", "finished_at"])
        _record(job, now=now)
    return job


def export_open(*, job: ExportJob) -> File[Any]:
    """The made file of a ``ready`` export, open for reading."""
    if job.state == ExportJob.State.EXPIRED:
        raise ValidationError(errors.EXPIRED)
    if job.state != ExportJob.State.READY or not job.file:
        raise ValidationError(errors.NOT_READY)
    return storage().open(job.file, "rb")


def exports_expire(*, organization: Organization | int, now: dt.datetime | None = None) -> int:
    """Remove the files of exports made more than ``EXPORT_KEEP_DAYS`` ago; how many were removed."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=keep_days())
    old = ExportJob.objects.for_org(organization).filter(state=ExportJob.State.READY, finished_at__lt=cutoff)
    return exports_remove_files(jobs=old)


def exports_remove_files(*, jobs: Any) -> int:
    """Delete the kept files of ``jobs`` (a scoped queryset) and mark them expired."""
    files = list(jobs.exclude(file="").values_list("pk", "file"))
    store = storage()
    for _pk, name in files:
        store.delete(name)
    return int(jobs.update(state=ExportJob.State.EXPIRED, file=""))
