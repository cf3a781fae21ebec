"""The import page: upload, check the columns, dry run report, import with a progress bar."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from huitou.imports import selectors, services
from huitou.imports.forms import MappingForm, UploadForm
from huitou.imports.models import ImportJob, ImportState
from huitou.service.errors import StateConflict
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _job(request: StaffRequest, import_id: int) -> ImportJob:
    return get_scoped_or_404(ImportJob.objects.select_related("organization"), request.organization, pk=import_id)


@staff_required(Perm.IMPORT_DATA)
def import_home(request: StaffRequest) -> HttpResponse:
    """Upload a sheet; the recent imports below."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_upload(
                organization=request.organization,
                by=request.user,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("imports:detail", job.pk)
    recent = selectors.imports_recent(organization=request.organization)
    return render(request, "imports/home.html", {"form": form, "recent": recent})


def _detail_context(request: StaffRequest, job: ImportJob, form: MappingForm | None = None) -> dict[str, Any]:
    editable = job.state in (ImportState.UPLOADED, ImportState.CHECKED)
    return {
        "job": job,
        "form": form or (MappingForm(job=job) if editable else None),
        "report": selectors.import_report(job=job),
        "stale": services.import_is_stale(job),
        "preview_errors": selectors.import_issues(job=job, limit=50),
    }


@staff_required(Perm.IMPORT_DATA)
def import_detail(request: StaffRequest, import_id: int) -> HttpResponse:
    job = _job(request, import_id)
    return render(request, "imports/detail.html", _detail_context(request, job))


@staff_required(Perm.IMPORT_DATA)
@require_POST
def import_check_view(request: StaffRequest, import_id: int) -> HttpResponse:
    """Save the columns and what duplicates do, and make the dry run (a large sheet's in the background)."""
    job = _job(request, import_id)
    form = MappingForm(request.POST, job=job)
    if form.is_valid():
        try:
            services.import_configure(job=job, mapping=form.mapping(), on_duplicate=form.cleaned_data["on_duplicate"])
            services.import_check_request(job=job, by=request.user)
        except ValidationError as exc:
            for message in exc.message_dict.get("mapping", []) if hasattr(exc, "error_dict") else exc.messages:
                form.add_error(None, message)
        except StateConflict as exc:
            messages.error(request, str(exc.message))
            return redirect("imports:detail", job.pk)
        else:
            return redirect(f"{job.get_absolute_url()}#report")
    return render(request, "imports/detail.html", _detail_context(request, job, form), status=422)


@staff_required(Perm.IMPORT_DATA)
@require_POST
def import_start_view(request: StaffRequest, import_id: int) -> HttpResponse:
    job = _job(request, import_id)
    try:
        services.import_start(job=job, by=request.user)
    except StateConflict as exc:
        messages.error(request, str(exc.message))
    return redirect("imports:detail", job.pk)


@staff_required(Perm.IMPORT_DATA)
@require_POST
def import_resume_view(request: StaffRequest, import_id: int) -> HttpResponse:
    job = _job(request, import_id)
    try:
        services.import_resume(job=job)
    except StateConflict as exc:
        messages.error(request, str(exc.message))
    return redirect("imports:detail", job.pk)


@staff_required(Perm.IMPORT_DATA)
def import_progress(request: StaffRequest, import_id: int) -> HttpResponse:
    """The progress bar and counts, polled by htmx while the dry run or the import runs (the page reloads
    when it ends)."""
    job = _job(request, import_id)
    response = render(request, "imports/_progress.html", _detail_context(request, job))
    if request.htmx and job.state not in (ImportState.QUEUED, ImportState.RUNNING):
        response["HX-Refresh"] = "true"
    return response


@staff_required(Perm.IMPORT_DATA)
def import_errors_xlsx(request: StaffRequest, import_id: int) -> HttpResponse:
    """The refused rows as an .xlsx to fix and upload again."""
    job = _job(request, import_id)
    response = HttpResponse(services.error_workbook(job=job), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rows-to-fix.xlsx"'
    return response
