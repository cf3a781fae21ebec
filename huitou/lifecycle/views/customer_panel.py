"""The lifecycle panel of the customer file: stage, stage history, open follow-up tasks, follow-ups.

Its two forms (change the stage, record a follow-up) post to their own
pages. With htmx the answer is the panel itself, refreshed (and the stage
badge of the file's head, out of band); without it, a redirect back to
the file, or the form's own page when something must be corrected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from huitou.customers.models import Customer
from huitou.lifecycle import selectors
from huitou.lifecycle.forms import FollowUpForm, StageForm
from huitou.lifecycle.models import FollowUp, FollowUpChannel, FollowUpTask, StageChange
from huitou.lifecycle.services.followups import followup_record
from huitou.lifecycle.services.stages import stage_change
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors

# How many follow-ups the file shows; the rest are in the customer's follow-up history.
FOLLOWUPS_SHOWN = 20
STAGE_FORM = "stage"
FOLLOWUP_FORM = "followup"


@dataclass
class Panel:
    customer: Customer
    history: list[StageChange]
    tasks: list[FollowUpTask]
    followups: list[FollowUp]
    stage_form: StageForm
    followup_form: FollowUpForm
    today: dt.date
    answering: FollowUpTask | None = None  # the task the follow-up form answers
    open_form: str = ""  # the form shown open: one with errors, or one asked for
    saved: str = ""  # what was just saved (the htmx answer shows it in the panel)

    @property
    def followup_open(self) -> bool:
        return self.open_form == FOLLOWUP_FORM or self.answering is not None

    @property
    def stage_open(self) -> bool:
        return self.open_form == STAGE_FORM


def lifecycle_panel(
    customer: Customer,
    *,
    stage_form: StageForm | None = None,
    followup_form: FollowUpForm | None = None,
    answering: FollowUpTask | None = None,
    open_form: str = "",
    saved: str = "",
    tasks: list[FollowUpTask] | None = None,
) -> Panel:
    """What the panel shows. Three queries: stage history with who moved it, open tasks with
    their assignees, the latest follow-ups with their staff (plus the referrer's name, when there is one)."""
    return Panel(
        customer=customer,
        history=selectors.stage_history(customer=customer),
        tasks=tasks if tasks is not None else selectors.open_tasks_for_customer(customer=customer),
        followups=selectors.followups_for_customer(customer=customer, limit=FOLLOWUPS_SHOWN),
        stage_form=stage_form or StageForm(current=customer.stage),
        followup_form=followup_form or FollowUpForm(),
        today=timezone.localdate(),
        answering=answering,
        open_form=open_form,
        saved=saved,
    )


def _customer(request: StaffRequest, customer_id: int) -> Customer:
    return get_scoped_or_404(
        Customer.objects.active().select_related("owner", "source"),
        request.organization,
        pk=customer_id,
    )


def _panel_response(request: StaffRequest, panel: Panel) -> HttpResponse:
    return render(request, "lifecycle/_customer_panel.html", {"panel": panel, "customer": panel.customer, "oob": True})


def _saved(request: StaffRequest, customer: Customer, text: str) -> HttpResponse:
    if request.htmx:
        return _panel_response(request, lifecycle_panel(customer, saved=text))
    messages.success(request, text)
    return redirect(f"{customer.get_absolute_url()}#lifecycle")


@staff_required(Perm.CHANGE_STAGE)
def stage_edit(request: StaffRequest, customer_id: int) -> HttpResponse:
    """Change the stage by hand, with a reason."""
    customer = _customer(request, customer_id)
    form = StageForm(request.POST if request.method == "POST" else None, current=customer.stage)
    if request.method == "POST" and form.is_valid():
        try:
            stage_change(
                customer=customer,
                to_stage=form.cleaned_data["stage"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _saved(request, customer, _("Stage changed to %(stage)s.") % {"stage": customer.get_stage_display()})
    if request.htmx:
        return _panel_response(request, lifecycle_panel(customer, stage_form=form, open_form=STAGE_FORM))
    return render(request, "lifecycle/stage_form.html", {"customer": customer, "form": form})


def _task(tasks: list[FollowUpTask], task_id: Any) -> FollowUpTask | None:
    return next((t for t in tasks if str(t.pk) == str(task_id)), None)


@staff_required(Perm.FOLLOW_UP)
def followup_new(request: StaffRequest, customer_id: int) -> HttpResponse:
    """Record a follow-up: how, what was said, the result, the intent grade and the next step.

    ``?task=`` (a link on an open task) makes it the answer to that task.
    """
    customer = _customer(request, customer_id)
    user: User = request.user
    tasks = selectors.open_tasks_for_customer(customer=customer)
    if request.method == "POST":
        form = FollowUpForm(request.POST)
        answering = _task(tasks, request.POST.get("task_id"))
        if form.is_valid():
            try:
                followup_record(customer=customer, by=user, **form.service_data())
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return _saved(request, customer, _("Follow-up recorded."))
    else:
        answering = _task(tasks, request.GET.get("task"))
        initial = {"task_id": answering.pk, "channel": answering.channel or FollowUpChannel.PHONE} if answering else {}
        form = FollowUpForm(initial=initial)
        if answering:
            form.fields["content"].widget.attrs["autofocus"] = True
        if request.htmx:
            context = {"customer": customer, "form": form, "answering": answering, "in_panel": True, "open": True}
            return render(request, "lifecycle/_followup_form.html", context)
    if request.htmx:
        panel = lifecycle_panel(customer, followup_form=form, answering=answering, open_form=FOLLOWUP_FORM, tasks=tasks)
        return _panel_response(request, panel)
    context = {"customer": customer, "form": form, "answering": answering, "open": True}
    return render(request, "lifecycle/followup_form.html", context)
