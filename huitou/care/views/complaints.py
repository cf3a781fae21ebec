"""Complaint pages: the board by state and age, one complaint with its nine steps, opening one, the deadlines."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.care.forms_complaints import ComplaintOpenForm, DeadlinesForm, ReopenForm, StepForm
from huitou.care.models import ComplaintStepKind
from huitou.care.selectors_complaints import (
    BOARD_PAGE,
    STATES,
    complaint_counts,
    complaint_get,
    complaint_view,
    complaints_filtered,
    notices_unread,
)
from huitou.care.services.complaints import (
    complaint_close,
    complaint_deadlines,
    complaint_deadlines_set,
    complaint_notices_read,
    complaint_open,
    complaint_reopen,
    complaint_step_record,
)
from huitou.customers.models import Customer, Vehicle
from huitou.loyalty.models import CouponTemplate
from huitou.service.errors import StateConflict
from huitou.service.models import ServiceOrder
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm, Role
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors


@staff_required(Perm.FOLLOW_UP)
def board(request: StaffRequest) -> HttpResponse:
    """Complaints by state, open ones oldest first with their age and the next step's deadline.

    Queries: session, user (+organization), the state counts, the page count,
    one page of complaints (+customer, vehicle, owner), the store manager's
    unread notices (+complaint, customer), the user's shops (switcher).
    """
    org = request.organization
    now = timezone.now()
    state = request.GET.get("state", "open")
    state = state if state in STATES else "open"
    mine = request.GET.get("mine") == "1"
    rows = complaints_filtered(organization=org, state=state, owner_id=request.user.pk if mine else None, now=now)
    page = Paginator(rows, BOARD_PAGE).get_page(request.GET.get("page"))
    counts = complaint_counts(organization=org, now=now)
    cards = [
        {
            "complaint": c,
            "age_days": (now - c.opened_at).days,
            "age_hours": int((now - c.opened_at).total_seconds() // 3600),
            "late": c.state == "open" and c.due_at is not None and c.due_at < now,
            "next": ComplaintStepKind(c.next_step).label if c.next_step else None,
        }
        for c in page.object_list
    ]
    labels = {"open": _("Being handled"), "late": _("Late"), "closed": _("Case closed"), "all": _("All")}
    query = f"state={state}" + ("&mine=1" if mine else "")
    return render(
        request,
        "care/complaints_board.html",
        {
            "page": page,
            "cards": cards,
            "state": state,
            "mine": mine,
            "query": query,
            "tabs": [(s, labels[s], counts[s]) for s in STATES],
            "notices": notices_unread(user=request.user) if request.user.role == Role.OWNER else [],
        },
    )


@require_POST
@staff_required(Perm.FOLLOW_UP)
def notices_read(request: StaffRequest) -> HttpResponse:
    """Mark one's notices read, back to the board."""
    complaint_notices_read(user=request.user)
    return redirect("complaints:board")


def _templates(request: StaffRequest) -> list[tuple[int, str]]:
    if not request.user.has_role_perm(Perm.SELL_MEMBERSHIP):
        return []
    rows = CouponTemplate.objects.for_org(request.organization).filter(is_active=True).order_by("name")
    return list(rows.values_list("pk", "name"))


def _detail(
    request: StaffRequest,
    complaint_id: int,
    *,
    step_form: StepForm | None = None,
    reopen_form: ReopenForm | None = None,
    refusal: str = "",
) -> HttpResponse:
    complaint = complaint_get(organization=request.organization, pk=complaint_id)
    view = complaint_view(complaint=complaint)
    next_step = complaint.next_step
    templates = _templates(request) if next_step == ComplaintStepKind.COMPENSATE else []
    if step_form is None and next_step:
        step_form = StepForm(initial={"step": next_step}, templates=templates)
    now = timezone.now()
    return render(
        request,
        "care/complaint_detail.html",
        {
            "c": complaint,
            "view": view,
            "step_form": step_form,
            "compensating": next_step == ComplaintStepKind.COMPENSATE,
            "may_compensate": bool(templates) or request.user.has_role_perm(Perm.SELL_MEMBERSHIP),
            "reopen_form": reopen_form or ReopenForm(),
            "refusal": refusal,
            "late": complaint.state == "open" and complaint.due_at is not None and complaint.due_at < now,
            "age_days": (now - complaint.opened_at).days,
            "age_hours": int((now - complaint.opened_at).total_seconds() // 3600),
        },
    )


@staff_required(Perm.FOLLOW_UP)
def detail(request: StaffRequest, complaint_id: int) -> HttpResponse:
    """One complaint: the nine steps of this round, the next one's form, the log.

    Queries: session, user (+organization), the complaint (+customer, vehicle,
    order, owner, callback, closer), its steps (+who, coupon, stored-value
    entry), its log (+who), the deadlines, the user's shops (switcher); the
    callback's questions when a callback opened it, the coupon templates at
    the compensation step.
    """
    return _detail(request, complaint_id)


@require_POST
@staff_required(Perm.FOLLOW_UP)
def step_add(request: StaffRequest, complaint_id: int) -> HttpResponse:
    complaint = complaint_get(organization=request.organization, pk=complaint_id)
    templates = _templates(request)
    form = StepForm(request.POST, templates=templates)
    if form.is_valid():
        data = form.cleaned_data
        template = None
        if data.get("coupon_template"):
            template = get_scoped_or_404(CouponTemplate.objects.all(), request.organization, pk=data["coupon_template"])
        try:
            step = complaint_step_record(
                complaint=complaint,
                step=data["step"],
                note=data["note"],
                by=request.user,
                coupon_template=template,
                stored_value=data.get("stored_value") or None,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except StateConflict as exc:
            return _detail(request, complaint_id, refusal=str(exc.message))
        except PermissionDenied as exc:
            form.add_error(None, str(getattr(exc, "message", exc)))
        else:
            messages.success(request, _("%(step)s recorded.") % {"step": step.get_step_display()})
            return redirect("complaints:detail", complaint_id)
    return _detail(request, complaint_id, step_form=form)


@require_POST
@staff_required(Perm.FOLLOW_UP)
def close(request: StaffRequest, complaint_id: int) -> HttpResponse:
    complaint = complaint_get(organization=request.organization, pk=complaint_id)
    try:
        complaint_close(complaint=complaint, by=request.user)
    except StateConflict as exc:
        return _detail(request, complaint_id, refusal=str(exc.message))
    messages.success(request, _("The complaint is closed."))
    return redirect("complaints:detail", complaint_id)


@require_POST
@staff_required(Perm.FOLLOW_UP)
def reopen(request: StaffRequest, complaint_id: int) -> HttpResponse:
    complaint = complaint_get(organization=request.organization, pk=complaint_id)
    form = ReopenForm(request.POST)
    reason = form.data.get("reason", "")
    try:
        complaint_reopen(complaint=complaint, by=request.user, reason=reason)
    except ValidationError as exc:
        apply_errors(form, exc)
        return _detail(request, complaint_id, reopen_form=form)
    except StateConflict as exc:
        return _detail(request, complaint_id, refusal=str(exc.message))
    messages.success(request, _("The complaint is reopened."))
    return redirect("complaints:detail", complaint_id)


def _staff_choices(request: StaffRequest) -> list[tuple[int, str]]:
    rows = User.objects.for_org(request.organization).filter(
        is_active=True, role__in=[Role.OWNER, Role.ADVISOR, Role.SERVICE]
    )
    return [(u.pk, str(u)) for u in rows.order_by("role", "pk")]


@staff_required(Perm.FOLLOW_UP)
def new(request: StaffRequest) -> HttpResponse:
    """Open a complaint by hand from the customer's file (``?customer=``)."""
    org = request.organization
    customer = get_scoped_or_404(Customer.objects.active(), org, pk=request.GET.get("customer", ""))
    vehicles = list(Vehicle.objects.for_org(org).active().filter(customer=customer).order_by("pk"))
    orders = list(ServiceOrder.objects.for_org(org).filter(customer=customer).order_by("-opened_at", "-pk")[:10])
    form = ComplaintOpenForm(
        request.POST or None,
        initial={"owner": request.user.pk},
        vehicles=[(v.pk, v.plate) for v in vehicles],
        orders=[(o.pk, f"{o.number} · {o.opened_at:%Y-%m-%d}") for o in orders],
        staff=_staff_choices(request),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            complaint = complaint_open(
                customer=customer,
                summary=data["summary"],
                by=request.user,
                owner=User.objects.for_org(org).filter(pk=data["owner"]).first(),
                vehicle=next((v for v in vehicles if v.pk == data["vehicle"]), None),
                order=next((o for o in orders if o.pk == data["order"]), None),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Complaint recorded. Start by listening."))
            return redirect("complaints:detail", complaint.pk)
    return render(request, "care/complaint_new.html", {"form": form, "customer": customer})


@staff_required(Perm.MANAGE_SETTINGS)
def deadlines(request: StaffRequest) -> HttpResponse:
    """The store manager sets each step's hours after the one before it."""
    org = request.organization
    current = complaint_deadlines(organization=org)
    form = DeadlinesForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        try:
            complaint_deadlines_set(organization=org, hours=dict(form.cleaned_data))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Deadlines saved."))
            return redirect("complaints:deadlines")
    context: dict[str, Any] = {"form": form}
    return render(request, "care/complaint_deadlines.html", context)
