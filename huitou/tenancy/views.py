from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from huitou.tenancy.decorators import staff_required
from huitou.tenancy.forms import StaffForm
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.tenancy.selectors import staff_for_org
from huitou.tenancy.services import staff_create, staff_update
from huitou.web.forms import apply_errors


@staff_required(Perm.MANAGE_STAFF)
def staff_list(request: HttpRequest) -> HttpResponse:
    staff = staff_for_org(request.organization, active_only=False).prefetch_related("shops")  # type: ignore[attr-defined]
    return render(request, "tenancy/staff_list.html", {"staff": staff})


@staff_required(Perm.MANAGE_STAFF)
def staff_new(request: HttpRequest) -> HttpResponse:
    org = request.organization  # type: ignore[attr-defined]
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
def staff_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    org = request.organization  # type: ignore[attr-defined]
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
