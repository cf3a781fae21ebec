"""Follow-up plans (标准业务流程) for the store manager: which steps a customer entering a stage gets."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from huitou.customers.models import Stage
from huitou.customers.selectors import sources_for
from huitou.lifecycle import selectors
from huitou.lifecycle.forms_work import PlanForm, step_formset
from huitou.lifecycle.models import FollowUpPlan
from huitou.lifecycle.services.plans import plan_save
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors

# A click on "more rows" re-shows the form with this many more empty steps, saving nothing.
MORE_ROWS = "more_rows"


@staff_required(Perm.MANAGE_SETTINGS)
def plan_list(request: StaffRequest) -> HttpResponse:
    """Every plan, grouped by the stage it starts with.

    Queries: session, user (+organization), plans (+source), their steps,
    the user's shops (switcher).
    """
    plans = selectors.plans_for_org(organization=request.organization)
    groups = [(label, [p for p in plans if p.stage == value]) for value, label in Stage.choices]
    return render(request, "lifecycle/plan_list.html", {"groups": [g for g in groups if g[1]], "count": len(plans)})


def _edit(request: StaffRequest, plan: FollowUpPlan | None) -> HttpResponse:
    org = request.organization
    sources = list(sources_for(org))
    title = plan.name if plan is not None else ""
    if request.method == "POST":
        form = PlanForm(request.POST, sources=sources)
        steps = step_formset(request.POST)
        if MORE_ROWS in request.POST:
            # Nothing is checked or saved: the same values, with room for more steps.
            form = PlanForm(initial=form.raw_values(), sources=sources)
            steps = step_formset(rows=steps.raw_rows())
        else:
            form_ok, steps_ok = form.is_valid(), steps.is_valid()
            if form_ok and steps_ok:
                try:
                    saved = plan_save(organization=org, plan=plan, data=form.cleaned_data, steps=steps.steps())
                except ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(request, _("%(name)s saved.") % {"name": saved.name})
                    return redirect("followups:plans")
    else:
        if plan is None:
            initial = {"stage": Stage.PROSPECT, "is_active": True}
            rows: list[dict[str, object]] = []
        else:
            initial = {
                "name": plan.name,
                "stage": plan.stage,
                "source": plan.source.code if plan.source else "",
                "is_active": plan.is_active,
            }
            rows = [{"day_offset": s.day_offset, "channel": s.channel, "action": s.action} for s in plan.steps.all()]
        form = PlanForm(initial=initial, sources=sources)
        steps = step_formset(rows=rows)
    context = {"form": form, "steps": steps, "plan": plan, "title": title, "more_rows": MORE_ROWS}
    return render(request, "lifecycle/plan_form.html", context)


@staff_required(Perm.MANAGE_SETTINGS)
def plan_new(request: StaffRequest) -> HttpResponse:
    return _edit(request, None)


@staff_required(Perm.MANAGE_SETTINGS)
def plan_edit(request: StaffRequest, plan_id: int) -> HttpResponse:
    plan = get_scoped_or_404(FollowUpPlan.objects.select_related("source"), request.organization, pk=plan_id)
    return _edit(request, plan)
