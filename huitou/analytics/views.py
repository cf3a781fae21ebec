"""Analytics pages: the conversion funnel, and the plotly.js it draws with."""

from __future__ import annotations

import functools
import gzip
import importlib.metadata
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.middleware.gzip import re_accepts_gzip
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import etag, require_GET

from huitou.analytics.charts import funnel_charts
from huitou.analytics.forms import FunnelForm, quick_ranges
from huitou.analytics.funnel import BY_CHOICES, BY_SOURCE, funnel
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.web.forms import apply_errors

# The browser bundle inside the plotly wheel (plotly.py ships plotly.js for offline use).
PLOTLY_JS = "plotly/package_data/plotly.min.js"
YEAR = 365 * 24 * 60 * 60
JS = "text/javascript; charset=utf-8"


def plotly_version() -> str:
    return importlib.metadata.version("plotly")


@functools.cache
def plotly_js_path() -> Path:
    return Path(str(importlib.metadata.distribution("plotly").locate_file(PLOTLY_JS)))


@functools.cache
def plotly_js_gzipped() -> bytes:
    """The bundle compressed once per process (4.8 MB → 1.4 MB; compressing takes about half a second)."""
    return gzip.compress(plotly_js_path().read_bytes(), mtime=0)


def _accepts_gzip(request: HttpRequest) -> bool:
    return bool(re_accepts_gzip.search(request.headers.get("accept-encoding", "")))


def _plotly_etag(request: HttpRequest) -> str:
    return f'"plotly-{plotly_version()}{"-gzip" if _accepts_gzip(request) else ""}"'


@require_GET
@etag(_plotly_etag)
def plotly_js(request: HttpRequest) -> HttpResponse:
    """plotly.min.js from the installed wheel: no CDN, no npm, no copy in the repository.

    Its URL carries plotly's version (``urls.py``), so browsers may keep it a
    year without asking again (and get a 304 if they do ask); an upgrade
    changes the URL. Browsers that accept gzip get the compressed copy.
    Public: it is the open-source library, the same for everyone.
    """
    if _accepts_gzip(request):
        response = HttpResponse(plotly_js_gzipped(), content_type=JS)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(plotly_js_path().read_bytes(), content_type=JS)
    patch_vary_headers(response, ["Accept-Encoding"])
    patch_cache_control(response, public=True, max_age=YEAR, immutable=True)
    return response


@staff_required(Perm.VIEW_FUNNEL)
def funnel_page(request: StaffRequest) -> HttpResponse:
    """The conversion funnel of the files created in a date range, by source or by staff.

    Without parameters: the last 90 days by source. An htmx request (the
    form, the quick ranges) gets the part below the title alone.

    Queries: session, user with organization, then the funnel's three
    (counts per group, conversion times, labels), however many rows.
    """
    today = timezone.localdate()
    form = FunnelForm(request.GET)
    result = None
    asked = request.GET.get("by", "")
    by = asked if asked in BY_CHOICES else BY_SOURCE  # kept by the quick ranges, even when the form is refused
    if form.is_valid():
        date_from, date_to, by = form.period(today)
        form = FunnelForm.filled(date_from, date_to, by)
        try:
            result = funnel(
                organization=request.organization,
                date_from=date_from,
                date_to=date_to,
                by=by,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
    ranges = quick_ranges(today)
    context: dict[str, Any] = {
        "form": form,
        "result": result,
        "by": by,
        "quick_ranges": [
            {
                "label": r.label,
                "query": r.url_query(by),
                "active": result is not None and (r.date_from, r.date_to) == (result.date_from, result.date_to),
            }
            for r in ranges
        ],
        "charts": funnel_charts(result) if result is not None and result.rows else None,
    }
    if request.htmx:
        return render(request, "analytics/_funnel.html", context)
    return render(request, "analytics/funnel.html", context)
