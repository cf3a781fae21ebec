"""Saved segment pages: the list, a segment's customers, saving one (also from the customer list). Thin.

Everyone who sees the customer list may open a segment; the store manager
saves, changes and deletes them (``Perm.MANAGE_SEGMENTS``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.analytics.forms_segments import SegmentForm
from huitou.analytics.models import Segment
from huitou.analytics.segments import segment_create, segment_delete, segment_filters_from_list, segment_update
from huitou.analytics.selectors import segment_conditions, segment_customers, segments_list
from huitou.customers import selectors as customer_selectors
from huitou.customers.presentation import visible_phone
from huitou.customers.views import list_filters
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors
from huitou.web.paging import CappedPaginator


def _segment(request: StaffRequest, segment_id: int) -> Segment:
    """A segment of the request's organization (another's answers 404, as a missing one does)."""
    return get_scoped_or_404(Segment.objects.all(), request.organization, pk=segment_id)


@staff_required(Perm.VIEW_CUSTOMERS)
def segment_list(request: StaffRequest) -> HttpResponse:
    """The organization's segments with their conditions in words.

    Queries: session, user (+organization), the segments (+ who made them),
    then at most one each for the tiers, staff and shops they name.
    """
    org = request.organization
    segments = list(segments_list(organization=org))
    conditions = segment_conditions(segments, organization=org)
    rows = [(s, conditions[s.pk]) for s in segments]
    return render(request, "analytics/segments.html", {"rows": rows})


@staff_required(Perm.VIEW_CUSTOMERS)
def segment_detail(request: StaffRequest, segment_id: int) -> HttpResponse:
    """A segment's customers: the customer list's table and pages under the segment's conditions.

    Queries: session, user (+organization), the segment, the count, one page
    of customers (owner, source, score and tag names in the same statement),
    the page's plates; the full page adds the names its conditions use.
    """
    org = request.organization
    segment = _segment(request, segment_id)
    customers = segment_customers(segment, with_tags=True)
    page = CappedPaginator(customers, 20).get_page(request.GET.get("page"))
    page.object_list = customer_selectors.with_plates(page.object_list)
    rows = [(c, visible_phone(c, request.user)) for c in page.object_list]
    context: dict[str, Any] = {"page": page, "rows": rows, "filters": {}, "query": "", "segment": segment}
    if request.htmx:
        return render(request, "customers/_results.html", context)
    context["conditions"] = segment_conditions([segment], organization=org)[segment.pk]
    return render(request, "analytics/segment_detail.html", context)


def _form_page(request: StaffRequest, form: SegmentForm, segment: Segment | None) -> HttpResponse:
    return render(request, "analytics/segment_form.html", {"form": form, "segment": segment})


@staff_required(Perm.MANAGE_SEGMENTS)
def segment_new(request: StaffRequest) -> HttpResponse:
    """Save a segment. Opened from the customer list, the form starts from the list's filters."""
    org = request.organization
    if request.method != "POST":
        initial = SegmentForm.initial_from(segment_filters_from_list(list_filters(request.GET)))
        return _form_page(request, SegmentForm(organization_id=org.pk, initial=initial), None)
    form = SegmentForm(request.POST, organization_id=org.pk)
    if form.is_valid():
        try:
            segment = segment_create(
                organization=org, name=form.cleaned_data["name"], filters=form.filters(), by=request.user
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
            return redirect(segment)
    return _form_page(request, form, None)


@staff_required(Perm.MANAGE_SEGMENTS)
def segment_edit(request: StaffRequest, segment_id: int) -> HttpResponse:
    segment = _segment(request, segment_id)
    if request.method != "POST":
        return _form_page(request, SegmentForm.for_segment(segment), segment)
    form = SegmentForm.for_segment(segment, request.POST)
    if form.is_valid():
        try:
            segment_update(segment=segment, name=form.cleaned_data["name"], filters=form.filters(), by=request.user)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
            return redirect(segment)
    return _form_page(request, form, segment)


@require_POST
@staff_required(Perm.MANAGE_SEGMENTS)
def segment_remove(request: StaffRequest, segment_id: int) -> HttpResponse:
    segment = _segment(request, segment_id)
    segment_delete(segment=segment, by=request.user)
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
    return redirect("customers:segments")
