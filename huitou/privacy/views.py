"""Personal-data pages: the customer's rights page (copy, erase with confirmation), retention. Thin."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from huitou.customers.models import Customer
from huitou.exports.views import attachment
from huitou.exports.writers import CONTENT_TYPES
from huitou.privacy import errors, services
from huitou.privacy.forms import EraseForm, RetentionForm
from huitou.privacy.models import Erasure
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors


def _customer(request: StaffRequest, customer_id: int) -> Customer:
    """Any file of the organization, deleted ones too: they still hold personal data."""
    return get_scoped_or_404(Customer.objects.select_related("organization"), request.organization, pk=customer_id)


@staff_required(Perm.COPY_PERSONAL_DATA)
def rights(request: StaffRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    erasure = Erasure.objects.for_org(customer.organization_id).filter(customer=customer).select_related("by").first()
    return render(request, "privacy/rights.html", {"customer": customer, "erasure": erasure, "form": EraseForm()})


@staff_required(Perm.COPY_PERSONAL_DATA)
def copy_json(request: StaffRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    document = services.personal_data_copy(customer=customer, by=request.user)
    body = json.dumps(document, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    return attachment(response, f"personal-data-{customer.pk}.json")


@staff_required(Perm.COPY_PERSONAL_DATA)
def copy_xlsx(request: StaffRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    document = services.personal_data_copy(customer=customer, by=request.user)
    response = HttpResponse(services.personal_data_workbook(document), content_type=CONTENT_TYPES["xlsx"])
    return attachment(response, f"personal-data-{customer.pk}.xlsx")


@staff_required(Perm.ERASE_CUSTOMERS)
def erase(request: StaffRequest, customer_id: int) -> HttpResponse:
    """The confirmation page (GET) and the erasure (POST): the reason, and the customer number typed again."""
    customer = _customer(request, customer_id)
    form = EraseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["confirm"].strip() != str(customer.pk):
            form.add_error("confirm", str(errors.CONFIRM_REQUIRED))
        else:
            try:
                services.customer_erase(customer=customer, by=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The customer's personal data is erased. Orders and totals stay."))
                return redirect("privacy:rights", customer_id=customer.pk)
    return render(request, "privacy/erase.html", {"customer": customer, "form": form})


@staff_required(Perm.MANAGE_SETTINGS)
def retention(request: StaffRequest) -> HttpResponse:
    org = request.organization
    initial = {"prospect_retention_months": services.retention_months(org)}
    form = RetentionForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.retention_set(
                organization=org, months=form.cleaned_data["prospect_retention_months"], by=request.user
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("privacy:retention")
    erasures = Erasure.objects.for_org(org).select_related("customer", "by").order_by("-at")[:50]
    return render(request, "privacy/retention.html", {"form": form, "erasures": erasures})
