"""An import from upload to report: the file, the mapping, the dry run, the run in batches.

``import_upload`` keeps the file and reads its header; ``import_configure``
sets the mapping and what duplicates do; ``import_check`` is the dry run
(nothing written), which the page and the API ask for through
``import_check_request``: at once for a small sheet, in the background
(huey, ``import_check_run``) for a larger one; ``import_start`` queues the
real run, which ``import_run`` does batch by batch. Each batch is one
transaction that also advances the job's progress (``next_row``), so a
worker killed between or inside batches loses nothing and, run again,
neither repeats a batch nor skips one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huitou.imports import errors
from huitou.imports.models import ImportIssue, ImportJob, ImportKind, ImportState, OnDuplicate
from huitou.imports.services.engine import BatchResult, RunState, process_batch
from huitou.imports.services.rows import KIND_ALIASES, KIND_FIELDS, KIND_REQUIRED, Row, clean_row
from huitou.imports.sheets import SheetError, find_header, is_blank, is_total, read_rows, sheet_format
from huitou.lib.sqlite import planner_stats_refresh
from huitou.service.errors import StateConflict
from huitou.tenancy.models import Organization, Shop, User

MAX_UPLOAD_MB = 50
# Rows per batch (one transaction each): the statements of a batch do not grow with its rows.
BATCH_ROWS = 2000
# A dry run of a sheet up to this size (some 3,000 rows) answers the request; a larger one runs in huey.
CHECK_INLINE_BYTES = 256 * 1024
# Issues kept per import (the counts go on): enough to fix a sheet by, bounded for a broken one.
MAX_ISSUES = 10_000
# A running import whose worker has not been heard of for this long may be resumed.
STALE_AFTER = dt.timedelta(minutes=2)


class Upload(Protocol):
    @property
    def name(self) -> str | None: ...

    @property
    def size(self) -> int | None: ...

    def chunks(self, chunk_size: int | None = ...) -> Iterator[bytes]: ...


def imports_dir() -> Path:
    """Uploaded sheets live with the other uploaded files (which backups keep)."""
    media = getattr(settings, "MEDIA_ROOT", "") or Path(settings.DATA_DIR) / "media"
    return Path(media) / "imports"


def job_path(job: ImportJob) -> Path:
    return imports_dir() / job.stored_as


def _field_error(name: str, message: Any) -> ValidationError:
    return ValidationError({name: [message]})


def import_upload(
    *,
    organization: Organization,
    by: User,
    upload: Upload,
    kind: str,
    now: dt.datetime | None = None,
) -> ImportJob:
    """Keep the uploaded sheet, find its header row and guess which column holds what."""
    if kind not in ImportKind.values:
        raise _field_error("kind", errors.KIND_INVALID)
    try:
        fmt = sheet_format(upload.name or "")
    except SheetError as exc:
        raise _field_error("file", errors.FILE_FORMAT) from exc
    if upload.size is not None and upload.size > MAX_UPLOAD_MB * 1024 * 1024:
        raise _field_error("file", errors.FILE_TOO_LARGE % {"mb": MAX_UPLOAD_MB})
    stored_as = f"{organization.pk}/{uuid.uuid4().hex}.{fmt}"
    path = imports_dir() / stored_as
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    try:
        header = find_header(read_rows(path, fmt))
    except SheetError as exc:
        path.unlink(missing_ok=True)
        raise _field_error("file", errors.FILE_UNREADABLE) from exc
    except Exception as exc:  # a damaged file can fail deep inside the readers
        path.unlink(missing_ok=True)
        raise _field_error("file", errors.FILE_UNREADABLE) from exc
    fields = KIND_FIELDS[kind]
    mapping = header.guess_mapping(list(fields) + list(KIND_ALIASES.get(kind, {})))
    for alias, target in KIND_ALIASES.get(kind, {}).items():
        if alias in mapping:
            index = mapping.pop(alias)
            mapping.setdefault(target, index)
    return ImportJob.objects.create(
        organization=organization,
        kind=kind,
        filename=Path(upload.name or "").name[:200],
        file_format=fmt,
        stored_as=stored_as,
        header_row=header.row,
        columns=header.columns,
        mapping=mapping,
        created_by=by,
        created_at=now or timezone.now(),
    )


def mapping_problems(kind: str, columns: list[str], mapping: Mapping[str, Any]) -> list[Any]:
    """What is wrong with a mapping (field -> column index) for a sheet of ``kind``."""
    problems: list[Any] = []
    fields = KIND_FIELDS[kind]
    used: set[int] = set()
    for name, index in mapping.items():
        if name not in fields or not isinstance(index, int) or isinstance(index, bool):
            problems.append(errors.MAPPING_INVALID)
            continue
        if not 0 <= index < len(columns):
            problems.append(errors.MAPPING_INVALID)
        elif index in used:
            problems.append(errors.MAPPING_TWICE)
        used.add(index)
    missing = [f for f in KIND_REQUIRED[kind] if f not in mapping]
    if missing:
        from huitou.imports.labels import field_label

        problems.append(errors.MAPPING_MISSING % {"fields": "、".join(str(field_label(f)) for f in missing)})
    return problems


def import_configure(
    *,
    job: ImportJob,
    mapping: Mapping[str, Any] | None = None,
    on_duplicate: str | None = None,
    shop: Shop | None = None,
) -> ImportJob:
    """Change the mapping (field -> column index) and what duplicates do, before the import runs."""
    if job.state not in (ImportState.UPLOADED, ImportState.CHECKED):
        raise StateConflict(errors.ALREADY_RUNNING)
    if on_duplicate is not None and on_duplicate not in OnDuplicate.values:
        raise _field_error("on_duplicate", errors.DUPLICATE_MODE_INVALID)
    if mapping is not None:
        problems = mapping_problems(job.kind, job.columns, mapping)
        if problems:
            raise ValidationError({"mapping": problems})
        job.mapping = dict(mapping)
    if on_duplicate is not None:
        job.on_duplicate = on_duplicate
    if shop is not None and shop.organization_id == job.organization_id:
        job.shop = shop
    job.state = ImportState.UPLOADED
    job.save(update_fields=["mapping", "on_duplicate", "shop", "state"])
    return job


def _data_rows(job: ImportJob, start: int) -> Iterator[tuple[int, list[Any]]]:
    """The rows under the header from Excel row ``start`` on, without blank and total lines."""
    for number, cells in read_rows(job_path(job), job.file_format):
        if number <= job.header_row or number < start:
            continue
        if is_blank(cells) or is_total(cells):
            continue
        yield number, cells


def _batches(job: ImportJob, start: int, size: int, today: dt.date) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for number, cells in _data_rows(job, start):
        batch.append(clean_row(job.kind, number, cells, job.mapping, today))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _issues(job: ImportJob, refused: Iterable[Row], room: int) -> list[ImportIssue]:
    columns = job.columns
    issues: list[ImportIssue] = []
    for row in refused:
        for name, message in row.problems:
            if len(issues) >= room:
                return issues
            index = job.mapping.get(name)
            column = columns[index] if index is not None and index < len(columns) else ""
            issues.append(
                ImportIssue(
                    organization_id=job.organization_id,
                    job=job,
                    row=row.number,
                    column=column[:100],
                    message=str(message)[:300],
                    cells=row.cells,
                )
            )
    return issues


def _add(job: ImportJob, result: BatchResult) -> None:
    job.created += result.created
    job.updated += result.updated
    job.skipped += result.skipped
    job.failed += result.failed
    job.rows = job.created + job.updated + job.skipped + job.failed


def _reset_report(job: ImportJob) -> None:
    job.rows = job.created = job.updated = job.skipped = job.failed = 0


def _checkable(job: ImportJob) -> None:
    """A dry run may run before the import starts (again after a change), or as the queued dry run."""
    queued_check = job.dry_run and job.state in (ImportState.QUEUED, ImportState.RUNNING)
    if job.state not in (ImportState.UPLOADED, ImportState.CHECKED) and not queued_check:
        raise StateConflict(errors.ALREADY_RUNNING)
    problems = mapping_problems(job.kind, job.columns, job.mapping)
    if problems:
        raise ValidationError({"mapping": problems})


def import_check(*, job: ImportJob, by: User, now: dt.datetime | None = None, progress: bool = False) -> ImportJob:
    """The dry run: the report of what the import would do, every bad row with its messages. Writes
    nothing but the report. With ``progress`` (in the background) the counts so far are saved after
    each batch, for the page's progress."""
    _checkable(job)
    now = now or timezone.now()
    state = RunState()
    _reset_report(job)
    issues: list[ImportIssue] = []
    today = timezone.localdate(now)
    # Read outside a transaction: a long dry run must not hold SQLite's write lock. The services that
    # would change a file run in a transaction of their own, rolled back (``updates.try_updates``).
    for batch in _batches(job, job.header_row + 1, BATCH_ROWS, today):
        result = process_batch(job=job, rows=batch, state=state, by=by, write=False, now=now)
        _add(job, result)
        issues += _issues(job, result.refused, MAX_ISSUES - len(issues))
        if progress:
            ImportJob.objects.for_org(job.organization_id).filter(pk=job.pk, dry_run=True).update(
                rows=job.rows,
                created=job.created,
                updated=job.updated,
                skipped=job.skipped,
                failed=job.failed,
                heartbeat_at=timezone.now(),
            )
    with transaction.atomic():
        ImportIssue.objects.for_org(job.organization_id).filter(job=job).delete()
        ImportIssue.objects.bulk_create(issues, batch_size=1000)
        job.state = ImportState.CHECKED
        job.dry_run = True
        job.total_rows = job.rows
        job.save()
    return job


def import_check_request(
    *, job: ImportJob, by: User, then_import: bool = False, now: dt.datetime | None = None
) -> ImportJob:
    """The dry run the page and the API ask for: made at once for a small sheet; queued for a larger
    one (state ``queued``, then ``running``, with ``dry_run``; huey runs ``import_check_run``), so a
    request never waits for a large sheet. With ``then_import`` the import is queued after it."""
    from huitou.imports.tasks import run_check

    _checkable(job)
    if job_path(job).stat().st_size <= CHECK_INLINE_BYTES:
        import_check(job=job, by=by, now=now)
        return import_start(job=job, by=by, now=now) if then_import else job
    with transaction.atomic():
        locked = ImportJob.objects.for_org(job.organization_id).select_for_update().get(pk=job.pk)
        _checkable(locked)
        _reset_report(locked)
        locked.state = ImportState.QUEUED
        locked.dry_run = True
        locked.total_rows = None
        locked.heartbeat_at = now or timezone.now()
        locked.problem = ""
        ImportIssue.objects.for_org(locked.organization_id).filter(job=locked).delete()
        locked.save()
        transaction.on_commit(lambda: run_check(locked.organization_id, locked.pk, then_import))
    job.refresh_from_db()
    return job


def import_check_run(*, organization_id: int, job_id: int, then_import: bool = False) -> ImportJob:
    """The queued dry run (in huey); then, if asked, the import is queued. Safe to run twice: a dry
    run no longer queued or running (done, or the mapping changed since) is left alone."""
    job = ImportJob.objects.for_org(organization_id).select_related("organization", "created_by").get(pk=job_id)
    if not (job.dry_run and job.state in (ImportState.QUEUED, ImportState.RUNNING)):
        return job
    ImportJob.objects.for_org(organization_id).filter(pk=job.pk).update(
        state=ImportState.RUNNING, heartbeat_at=timezone.now()
    )
    job.state = ImportState.RUNNING
    try:
        import_check(job=job, by=job.created_by, progress=True)
    except (SheetError, OSError) as exc:
        ImportJob.objects.for_org(organization_id).filter(pk=job.pk).update(
            state=ImportState.FAILED, problem=str(errors.FILE_UNREADABLE)[:300]
        )
        raise StateConflict(errors.FILE_UNREADABLE) from exc
    if then_import:
        job = import_start(job=job, by=job.created_by)
    return job


def import_start(*, job: ImportJob, by: User, enqueue: bool = True, now: dt.datetime | None = None) -> ImportJob:
    """Queue the real import (after a dry run); the worker runs it in batches.

    ``enqueue=False`` leaves it queued for the caller to run (``huitou import`` runs it in its own process).
    """
    from huitou.imports.tasks import run_import

    with transaction.atomic():
        locked = ImportJob.objects.for_org(job.organization_id).select_for_update().get(pk=job.pk)
        if locked.state in (ImportState.QUEUED, ImportState.RUNNING, ImportState.DONE):
            raise StateConflict(errors.ALREADY_RUNNING)
        if locked.state != ImportState.CHECKED:
            raise StateConflict(errors.NOT_CHECKED)
        _reset_report(locked)
        locked.dry_run = False
        locked.state = ImportState.QUEUED
        locked.next_row = locked.header_row + 1
        locked.batches_done = 0
        locked.heartbeat_at = now or timezone.now()
        locked.problem = ""
        ImportIssue.objects.for_org(locked.organization_id).filter(job=locked).delete()
        locked.save()
        if enqueue:
            transaction.on_commit(lambda: run_import(locked.organization_id, locked.pk))
    job.refresh_from_db()
    return job


def import_is_stale(job: ImportJob, now: dt.datetime | None = None) -> bool:
    """Started, unfinished, and its worker silent for a while (killed or stopped): it may be resumed."""
    now = now or timezone.now()
    if job.state == ImportState.FAILED:
        return True
    return job.state in (ImportState.QUEUED, ImportState.RUNNING) and (
        job.heartbeat_at is None or now - job.heartbeat_at > STALE_AFTER
    )


def import_resume(*, job: ImportJob, now: dt.datetime | None = None) -> ImportJob:
    """Queue an interrupted import again; it goes on from its last committed batch. An interrupted
    dry run is made again from the start (it wrote nothing)."""
    from huitou.imports.tasks import run_check, run_import

    if not import_is_stale(job, now):
        raise StateConflict(errors.STILL_RUNNING)
    with transaction.atomic():
        locked = ImportJob.objects.for_org(job.organization_id).select_for_update().get(pk=job.pk)
        locked.state = ImportState.QUEUED
        locked.heartbeat_at = now or timezone.now()
        locked.problem = ""
        locked.save(update_fields=["state", "heartbeat_at", "problem"])
        if locked.dry_run:
            transaction.on_commit(lambda: run_check(locked.organization_id, locked.pk, False))
        else:
            transaction.on_commit(lambda: run_import(locked.organization_id, locked.pk))
    job.refresh_from_db()
    return job


def import_run(
    *, organization_id: int, job_id: int, batch_rows: int = BATCH_ROWS, now: dt.datetime | None = None
) -> ImportJob:
    """Run a queued (or interrupted) import from its next row to the end, one transaction per batch.

    Safe to run twice and to run after a crash: a batch commits together
    with the job's ``next_row``; a worker that finds ``next_row`` moved by
    another stops.
    """
    job = ImportJob.objects.for_org(organization_id).select_related("organization", "created_by").get(pk=job_id)
    if job.state not in (ImportState.QUEUED, ImportState.RUNNING):
        return job
    by = job.created_by
    start_at = now or timezone.now()
    today = timezone.localdate(start_at)
    with transaction.atomic():
        ImportJob.objects.for_org(organization_id).filter(pk=job.pk).update(
            state=ImportState.RUNNING, started_at=job.started_at or start_at, heartbeat_at=timezone.now()
        )
    state = RunState()
    position = job.next_row
    try:
        for batch in _batches(job, position, batch_rows, today):
            with transaction.atomic():
                locked = ImportJob.objects.for_org(organization_id).select_for_update().get(pk=job.pk)
                if locked.next_row != position or locked.state != ImportState.RUNNING:
                    return locked  # another worker went on with it
                locked.organization = job.organization
                result = process_batch(
                    job=locked, rows=batch, state=state, by=by, write=True, now=now or timezone.now()
                )
                stored = ImportIssue.objects.for_org(organization_id).filter(job=locked).count()
                ImportIssue.objects.bulk_create(_issues(locked, result.refused, MAX_ISSUES - stored), batch_size=1000)
                _add(locked, result)
                locked.next_row = batch[-1].number + 1
                locked.batches_done += 1
                locked.heartbeat_at = timezone.now()
                locked.save()
                position = locked.next_row
        with transaction.atomic():
            locked = ImportJob.objects.for_org(organization_id).select_for_update().get(pk=job.pk)
            if locked.next_row == position and locked.state == ImportState.RUNNING:
                locked.state = ImportState.DONE
                locked.finished_at = timezone.now()
                locked.save(update_fields=["state", "finished_at"])
        planner_stats_refresh()  # the planner learns of the new rows
        return locked
    except (SheetError, OSError) as exc:
        ImportJob.objects.for_org(organization_id).filter(pk=job.pk).update(
            state=ImportState.FAILED, problem=str(errors.FILE_UNREADABLE)[:300]
        )
        raise StateConflict(errors.FILE_UNREADABLE) from exc
