from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from huitou.lifecycle.selectors import rotation_members
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.forms import InactivityForm, StaffForm
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.tenancy.selectors import staff_for_org
from huitou.tenancy.services import organization_inactivity_set, staff_create, staff_update
from huitou.web.forms import apply_errors


@staff_required(Perm.MANAGE_STAFF)
def staff_list(request: StaffRequest) -> HttpResponse:
    org = request.organization
    # Active staff first; the deactivated stay listed, marked, below them.
    staff = staff_for_org(org, active_only=False).prefetch_related("shops").order_by("-is_active", "role", "username")
    rotation_ids = {u.pk for u in rotation_members(organization=org)}
    return render(request, "tenancy/staff_list.html", {"staff": staff, "rotation_ids": rotation_ids})


@staff_required(Perm.MANAGE_STAFF)
def staff_new(request: StaffRequest) -> HttpResponse:
    org = request.organization
    form = StaffForm(request.POST if request.method == "POST" else None, organization_id=org.pk)
    if request.method == "POST" and form.is_valid():
        try:
            staff_create(organization=org, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Staff member added."))
            return redirect("tenancy:staff_list")
    return render(request, "tenancy/staff_form.html", {"form": form})


@staff_required(Perm.MANAGE_STAFF)
def staff_edit(request: StaffRequest, user_id: int) -> HttpResponse:
    org = request.organization
    member = get_scoped_or_404(User.objects.all(), org, pk=user_id)
    initial = {"display_name": member.display_name, "role": member.role, "shops": list(member.shops.all())}
    form = StaffForm(
        request.POST if request.method == "POST" else None, initial=initial, organization_id=org.pk, editing=True
    )
    if request.method == "POST" and form.is_valid():
        try:
            staff_update(user=member, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Staff member saved."))
            return redirect("tenancy:staff_list")
    return render(request, "tenancy/staff_form.html", {"form": form, "member": member})


@staff_required(Perm.MANAGE_SETTINGS)
def lifecycle_settings(request: StaffRequest) -> HttpResponse:
    """When customers without visits become dormant and lost (the nightly check reads these)."""
    org = request.organization
    initial = {"dormant_after_days": org.dormant_after_days, "lost_after_days": org.lost_after_days}
    form = InactivityForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            organization_inactivity_set(organization=org, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("tenancy:lifecycle_settings")
    return render(request, "tenancy/lifecycle_settings.html", {"form": form})
