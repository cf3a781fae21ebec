"""Merging a duplicate customer file into the one kept: find it, compare both, confirm."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from huitou.customers.models import Customer, Stage, Vehicle
from huitou.customers.presentation import visible_phone
from huitou.customers.selectors import customer_list
from huitou.lifecycle import errors
from huitou.lifecycle.services.merge import FILL_FIELDS, FILL_FIELDS_RELATED, STAGE_RANK, customer_merge
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

MATCHES_SHOWN = 10


def _active_vehicles() -> Prefetch:
    return Prefetch("vehicles", queryset=Vehicle.objects.active().order_by("pk"), to_attr="active_vehicles")


def _customer(request: StaffRequest, customer_id: Any) -> Customer:
    """An active file of the organization: another organization's, a deleted one or none at all is a 404."""
    return get_scoped_or_404(
        Customer.objects.active().select_related("owner", "source"),
        request.organization,
        pk=customer_id,
    )


def _pick_url(keep: Customer) -> str:
    return f"{reverse('followups:merge')}?keep={keep.pk}"


@staff_required(Perm.MERGE_CUSTOMERS)
def merge_pick(request: StaffRequest) -> HttpResponse:
    """Find the duplicate of ``?keep=`` by name, phone or plate.

    Queries: session, user (+organization), the kept file; with a search,
    the matches (+ owner, source) and their vehicles (one more when the
    query can be a plate or VIN); the user's shops (switcher).
    """
    keep = _customer(request, request.GET.get("keep"))
    q = request.GET.get("q", "").strip()[:50]
    results = []
    if q:
        found = (
            customer_list(organization=request.organization, q=q)
            .exclude(pk=keep.pk)
            .prefetch_related(_active_vehicles())[:MATCHES_SHOWN]
        )
        results = [(c, visible_phone(c, request.user)) for c in found]
    context = {"keep": keep, "keep_phone": visible_phone(keep, request.user), "q": q, "results": results}
    if request.htmx:
        return render(request, "lifecycle/merge_results.html", context)
    return render(request, "lifecycle/merge_pick.html", context)


def _compared(request: StaffRequest, keep: Customer, other: Customer) -> list[Customer]:
    """Both files with their vehicles and how many orders each has: two queries."""
    rows = {
        c.pk: c
        for c in Customer.objects.for_org(request.organization)
        .filter(pk__in=[keep.pk, other.pk])
        .select_related("owner", "source")
        .annotate(order_count=Count("orders"))
        .prefetch_related(_active_vehicles())
    }
    for c in rows.values():
        c.shown_phone = visible_phone(c, request.user)  # type: ignore[attr-defined]  # for the template only
    return [rows[keep.pk], rows[other.pk]]


@staff_required(Perm.MERGE_CUSTOMERS)
def merge_confirm(request: StaffRequest) -> HttpResponse:
    """Both files side by side and what merging does; the POST merges ``other`` into ``keep``."""
    params = request.POST if request.method == "POST" else request.GET
    keep = _customer(request, params.get("keep"))
    other = _customer(request, params.get("other"))
    if keep.pk == other.pk:
        messages.error(request, str(errors.MERGE_SAME))
        return redirect(_pick_url(keep))
    if request.method == "POST":
        try:
            merged = customer_merge(keep=keep, other=other, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(_pick_url(keep))
        messages.success(
            request, _("The file of %(other)s was merged into this one. Nothing was lost.") % {"other": other.name}
        )
        return redirect(merged)
    kept, dropped = _compared(request, keep, other)
    filled = [f for f in FILL_FIELDS if f != "phone_last4" and not getattr(keep, f) and getattr(other, f)]
    filled += [
        f
        for f in FILL_FIELDS_RELATED
        if getattr(keep, f"{f}_id") in (None, other.pk) and getattr(other, f"{f}_id") not in (None, keep.pk)
    ]
    stage = other.stage if STAGE_RANK[other.stage] > STAGE_RANK[keep.stage] else keep.stage
    context = {
        "keep": kept,
        "other": dropped,
        "filled": filled,
        "stage_after": Stage(stage).label,
        "stage_changes": stage != keep.stage,
        "pick_url": _pick_url(keep),
    }
    return render(request, "lifecycle/merge_confirm.html", context)
