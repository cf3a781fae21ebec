"""``huitou import FILE --org NAME``: bring a sheet of customers, prospects or service history in.

The same steps as the page: the header is found and the columns recognised,
the dry run reports what would happen and every bad row; without
``--dry-run`` the import then runs here, batch by batch (one transaction
each, with its progress). An import interrupted (the process killed, the
machine off) goes on from its last batch with ``huitou import --resume ID``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from huitou.imports.labels import field_label
from huitou.imports.models import ImportIssue, ImportJob, ImportKind, OnDuplicate
from huitou.imports.services import import_check, import_configure, import_run, import_start, import_upload
from huitou.imports.services.jobs import BATCH_ROWS
from huitou.service.errors import StateConflict
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Role
from huitou.tenancy.scope import unscoped

SHOWN_ISSUES = 50


class Command(BaseCommand):
    help = "Import a sheet (.xlsx, .xls, .csv) of customers with their cars, prospects or service history."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", nargs="?", help="the sheet: .xlsx, .xls or .csv (UTF-8 or GBK)")
        parser.add_argument("--org", help="the organization's name, e.g. 顺达汽修")
        parser.add_argument("--kind", choices=ImportKind.values, default=ImportKind.CUSTOMERS)
        parser.add_argument("--dry-run", action="store_true", help="report what would happen, write nothing")
        parser.add_argument(
            "--on-duplicate",
            choices=OnDuplicate.values,
            default=OnDuplicate.SKIP,
            help="a row whose phone or plate is already on file: skip it, update the file, or merge into it",
        )
        parser.add_argument("--mapping", help='JSON of field to column number from 0, e.g. {"name": 0, "phone": 2}')
        parser.add_argument("--user", help="the staff member the files are recorded by (default: a store manager)")
        parser.add_argument("--resume", type=int, metavar="ID", help="go on with an interrupted import")
        parser.add_argument("--batch-rows", type=int, default=BATCH_ROWS, help=f"rows per batch (default {BATCH_ROWS})")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["resume"]:
            self._resume(options)
            return
        if not options["file"] or not options["org"]:
            raise CommandError("Give the FILE and --org NAME (or --resume ID).")
        organization = self._organization(options["org"])
        by = self._user(organization, options["user"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            with path.open("rb") as fh:
                job = import_upload(
                    organization=organization, by=by, upload=File(fh, name=path.name), kind=options["kind"]
                )
            mapping = json.loads(options["mapping"]) if options["mapping"] else None
            import_configure(job=job, mapping=mapping, on_duplicate=options["on_duplicate"])
            self._show_mapping(job)
            import_check(job=job, by=by)
        except (ValidationError, json.JSONDecodeError) as exc:
            raise CommandError(_messages(exc)) from exc
        self._report(job, "dry run")
        if options["dry_run"]:
            return
        import_start(job=job, by=by, enqueue=False)
        self._run(job, options["batch_rows"])

    def _resume(self, options: dict[str, Any]) -> None:
        job_id = options["resume"]
        with unscoped():  # the id names the import; its organization is then the scope
            organization_id = ImportJob.objects.filter(pk=job_id).values_list("organization_id", flat=True).first()
        if organization_id is None:
            raise CommandError(f"No import {job_id}.")
        job = ImportJob.objects.for_org(organization_id).get(pk=job_id)
        if job.state not in ("queued", "running", "failed"):
            raise CommandError(f"Import {job_id} is {job.state}: nothing to resume.")
        if job.state == "failed":
            ImportJob.objects.for_org(organization_id).filter(pk=job_id).update(state="queued")
        self._run(job, options["batch_rows"])

    def _run(self, job: ImportJob, batch_rows: int) -> None:
        try:
            job = import_run(organization_id=job.organization_id, job_id=job.pk, batch_rows=batch_rows)
        except StateConflict as exc:
            raise CommandError(str(exc.message)) from exc
        self._report(job, "import")

    def _organization(self, name: str) -> Organization:
        matches = list(Organization.objects.filter(name=name)[:2])
        if len(matches) != 1:
            raise CommandError(f"{'No' if not matches else 'More than one'} organization named {name!r}.")
        return matches[0]

    def _user(self, organization: Organization, username: str | None) -> User:
        staff = User.objects.for_org(organization).filter(is_active=True)
        user = staff.filter(username=username).first() if username else staff.filter(role=Role.OWNER).first()
        if user is None:
            raise CommandError(f"No active {'user ' + username if username else 'store manager'} in {organization}.")
        return user

    def _show_mapping(self, job: ImportJob) -> None:
        self.stdout.write(f"Header on row {job.header_row}:")
        for name, index in sorted(job.mapping.items(), key=lambda item: item[1]):
            self.stdout.write(f"  column {index} {job.columns[index]!r} -> {name} ({field_label(name)})")

    def _report(self, job: ImportJob, what: str) -> None:
        self.stdout.write(
            f"{what}: import {job.pk} {job.state}; rows {job.rows}, created {job.created}, "
            f"updated {job.updated}, skipped {job.skipped}, errors {job.failed}"
        )
        issues = ImportIssue.objects.for_org(job.organization_id).filter(job=job).order_by("row", "pk")
        for issue in issues[:SHOWN_ISSUES]:
            self.stdout.write(f"  row {issue.row} {issue.column}: {issue.message}")
        if job.failed > SHOWN_ISSUES:
            self.stdout.write(f"  ... download every error row from the import's page (/imports/{job.pk}/)")


def _messages(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.message_dict.items())
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc)
