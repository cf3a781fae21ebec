"""Export pages: a list's export (the button on the list), my exports, a download. Thin."""

from __future__ import annotations

from typing import TypeVar, cast
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from huitou.exports import selectors, services
from huitou.exports.registry import all_sources
from huitou.exports.writers import CONTENT_TYPES
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.paging import CappedPaginator

R = TypeVar("R", bound=HttpResponseBase)


def attachment(response: R, filename: str) -> R:
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@staff_required()
def export_list(request: StaffRequest, source: str, fmt: str) -> HttpResponse:
    """The list ``source`` under the query's filters as ``fmt``: the file now, or a job on the exports page."""
    try:
        result = services.export_request(
            organization=request.organization, by=request.user, source=source, fmt=fmt, params=request.GET
        )
    except ValidationError as exc:
        raise Http404 from exc
    job = result.job
    if result.content is not None:
        return attachment(HttpResponse(result.content, content_type=CONTENT_TYPES[job.format]), job.filename)
    messages.info(
        request,
        _("%(rows)s rows: the file is being made. Download it here when it is ready.") % {"rows": job.rows},
    )
    return redirect("exports:list")


@staff_required()
def export_jobs(request: StaffRequest) -> HttpResponse:
    """My exports, newest first. Queries: session, user (+organization), count, the page."""
    jobs = selectors.exports_of(organization=request.organization, user=request.user)
    page = CappedPaginator(jobs, 20).get_page(request.GET.get("page"))
    titles = {name: source.title for name, source in all_sources().items()}
    rows = [(job, titles.get(job.source, job.source)) for job in page.object_list]
    context = {"page": page, "rows": rows, "keep_days": services.keep_days()}
    return render(request, "exports/list.html", context)


@staff_required()
def export_download(request: StaffRequest, export_id: int) -> HttpResponse:
    """The file of one of my exports (another's answers 404, as a missing one does)."""
    job = get_scoped_or_404(
        selectors.exports_of(organization=request.organization, user=request.user), request.organization, pk=export_id
    )
    try:
        handle = services.export_open(job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("exports:list")
    response = FileResponse(handle, content_type=CONTENT_TYPES[job.format])
    # Streamed from the file (a StreamingHttpResponse, which staff_required's type does not name).
    return cast(HttpResponse, attachment(response, job.filename))
