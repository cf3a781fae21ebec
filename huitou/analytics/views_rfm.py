"""Customer grading pages (客户分级): RFM segments and cut points, the grade rules, a grade set by hand."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.analytics.forms_grades import GradeOverrideForm, GradeRulesForm
from huitou.analytics.grades import grade_override_set, grade_rules_save
from huitou.analytics.models import CustomerScore, Grade
from huitou.analytics.rfm import grade_rules, rfm_summary, scores_refresh
from huitou.customers.models import Customer
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors


def grade_counts(*, organization_id: int) -> list[tuple[str, str, int]]:
    """(grade, label, customers) for A, B, C, a manual grade counting as given. One query."""
    rows = (
        CustomerScore.objects.for_org(organization_id)
        .filter(customer__deleted_at__isnull=True)
        .values("grade", "grade_override")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(Grade.values, 0)
    for row in rows:
        counts[row["grade_override"] or row["grade"]] += row["n"]
    return [(g.value, str(g.label), counts[g.value]) for g in Grade]


def _page(request: StaffRequest, form: GradeRulesForm | None = None, status: int = 200) -> HttpResponse:
    org = request.organization
    rules = grade_rules(organization=org)
    if form is None:
        form = GradeRulesForm(initial=GradeRulesForm.initial_from(rules), organization_id=org.pk)
    summary = rfm_summary(organization=org)
    by_score = {letter: {b.score: b for b in bands} for letter, bands in summary.bands.items()}
    cut_rows = [
        {"score": score, "cells": [by_score[letter].get(score) for letter in ("r", "f", "m")]}
        for score in range(5, 0, -1)
    ]
    context: dict[str, Any] = {
        "summary": summary,
        "cut_rows": cut_rows,
        "grades": grade_counts(organization_id=org.pk),
        "rules": rules,
        "form": form,
    }
    return render(request, "analytics/rfm.html", context, status=status)


@staff_required(Perm.MANAGE_GRADES)
def rfm_page(request: StaffRequest) -> HttpResponse:
    """Segment counts, each score's cut points, the grades and their rules.

    Queries: session, user with organization, the rules (+ tiers), segment
    counts, the three score bands, the grade counts, the form's tiers.
    """
    return _page(request)


@require_POST
@staff_required(Perm.MANAGE_GRADES)
def rfm_recompute(request: StaffRequest) -> HttpResponse:
    """Work out every customer's RFM, grade and churn risk now (as the nightly job does)."""
    rows = scores_refresh(organization=request.organization)
    messages.success(request, _("Worked out again: %(n)s customers scored.") % {"n": rows})
    return redirect("analytics:rfm")


@require_POST
@staff_required(Perm.MANAGE_GRADES)
def grade_rules_edit(request: StaffRequest) -> HttpResponse:
    org = request.organization
    form = GradeRulesForm(request.POST, organization_id=org.pk)
    if form.is_valid():
        try:
            grade_rules_save(organization=org, data=form.cleaned_data, by=request.user)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Grade rules saved; every customer has been graded again."))
            return redirect("analytics:rfm")
    return _page(request, form, status=400)


@require_POST
@staff_required(Perm.MANAGE_GRADES)
def grade_override(request: StaffRequest, customer_id: int) -> HttpResponse:
    """Set or clear a customer's grade by hand, with a reason (in the file's history)."""
    customer = get_scoped_or_404(Customer.objects.active(), request.organization, pk=customer_id)
    form = GradeOverrideForm(request.POST)
    if form.is_valid():
        try:
            grade_override_set(
                customer=customer, grade=form.cleaned_data["grade"], reason=form.cleaned_data["reason"], by=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Grade saved."))
    else:
        messages.error(request, _("Choose grade A, B or C."))
    return redirect(f"{customer.get_absolute_url()}#grade")
