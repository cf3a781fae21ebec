"""Customer and vehicle pages. Thin: forms convert, services decide, selectors read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.analytics.dashboard import figure_behind
from huitou.analytics.models import Grade, RfmSegment
from huitou.analytics.panel import score_panel
from huitou.care.selectors import vehicle_outlooks
from huitou.customers import selectors, services
from huitou.customers.forms import (
    ConsentForm,
    CustomerCreateForm,
    CustomerForm,
    HouseholdForm,
    MileageForm,
    TransferForm,
    VehicleCreateForm,
    VehicleForm,
)
from huitou.customers.models import ConsentRecord, Customer, Stage, Vehicle
from huitou.customers.presentation import history_for_viewer, visible_phone
from huitou.lifecycle.views.customer_panel import lifecycle_panel
from huitou.loyalty.selectors.members import member_panel
from huitou.service import selectors as service_selectors
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.middleware import user_shops
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.tenancy.selectors import staff_names
from huitou.web.forms import apply_errors
from huitou.web.paging import CappedPaginator


def _customer(request: StaffRequest, customer_id: int) -> Customer:
    return get_scoped_or_404(
        Customer.objects.active().select_related("owner", "source"), request.organization, pk=customer_id
    )


def _vehicle(request: StaffRequest, vehicle_id: int) -> Vehicle:
    return get_scoped_or_404(Vehicle.objects.active().select_related("customer"), request.organization, pk=vehicle_id)


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def list_filters(params: Mapping[str, Any]) -> dict[str, Any]:
    """The customer list's filters from its query (also what its export reads)."""
    stage = params.get("stage", "")
    grade = params.get("customer_grade", "")
    segment = params.get("segment", "")
    return {
        "q": params.get("q", "").strip()[:50],
        "stage": stage if stage in Stage.values else "",
        "tag": params.get("tag", "")[:30],
        "owner_id": _int_or_none(params.get("owner")),
        "shop_id": _int_or_none(params.get("shop")),
        "customer_grade": grade if grade in Grade.values else "",
        "segment": segment if segment in RfmSegment.values else "",
    }


@staff_required(Perm.VIEW_CUSTOMERS)
def customer_list(request: StaffRequest) -> HttpResponse:
    """The customer list with the search box and filters.

    Queries: session, user (+organization), count, one page of customers
    with owner, source, score (grade, segment, churn risk) and tag names (a search looks up matching vehicles
    within these), the page's plates; the filter choices (tags, staff,
    shops).
    """
    org = request.organization
    params = request.GET
    filters = list_filters(params)
    # The customers behind a figure of the dashboard (``?figure=...``): a subquery of the list's own.
    figure = figure_behind(organization=org, user=request.user, params=params, of="customers")
    customers = selectors.customer_list(
        organization=org,
        with_tags=True,
        within=figure.ids if figure else None,
        unread=selectors.LIST_UNREAD,
        **filters,
    )
    page = CappedPaginator(customers, 20).get_page(params.get("page"))
    page.object_list = selectors.with_plates(page.object_list)
    rows = [(c, visible_phone(c, request.user)) for c in page.object_list]
    query = params.copy()
    query.pop("page", None)
    context: dict[str, Any] = {"page": page, "rows": rows, "filters": filters, "query": query.urlencode()}
    context["figure"] = figure
    if request.htmx:
        return render(request, "customers/_results.html", context)
    context.update(
        stages=Stage.choices,
        grades=Grade.choices,
        segments=RfmSegment.choices,
        tags=selectors.tags_for(org),
        owners=[(s.pk, s.name) for s in staff_names(org)],
        shops=user_shops(request),
    )
    return render(request, "customers/list.html", context)


@staff_required(Perm.EDIT_CUSTOMERS)
def customer_new(request: StaffRequest) -> HttpResponse:
    org = request.organization
    initial = {"owner": request.user.pk, "source": "walk_in"}
    form = CustomerCreateForm(
        request.POST if request.method == "POST" else None, organization_id=org.pk, initial=initial
    )
    if request.method == "POST" and not form.is_valid():
        apply_errors(form, services.customer_check(organization=org, data=form.service_data()))
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(
                organization=org,
                by=request.user,
                data=form.service_data(),
                consents={c: True for c in form.cleaned_data["consents"]},
                consent_method=form.cleaned_data["consent_method"] or ConsentRecord.Method.VERBAL,
                consent_purpose=form.cleaned_data["consent_purpose"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Customer %(name)s registered.") % {"name": customer.name})
            return redirect(customer)
    return render(request, "customers/form.html", {"form": form})


@staff_required(Perm.VIEW_CUSTOMERS)
def customer_detail(request: StaffRequest, customer_id: int) -> HttpResponse:
    """The customer file: profile, vehicles and readings, visits, household, consent, history.

    A fixed number of queries however many vehicles, readings and orders
    there are (see ``selectors.customer_for_file``), plus the last orders,
    the declined recommendations, history and consent records, and the
    lifecycle panel (stage history, open tasks, follow-ups: see
    ``lifecycle_panel``). Lifetime spend, visit count and first and last
    visit are kept on the customer row.
    """
    org = request.organization
    try:
        customer = selectors.customer_for_file(organization=org, customer_id=customer_id)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc
    vehicles = list(customer.vehicles.all())
    shown = 10  # the last orders; the rest are one link away (the order list of the customer)
    visits = service_selectors.visit_history(customer=customer, limit=shown + 1)
    members = [m for m in customer.household.members.all() if m.pk != customer.pk] if customer.household else []
    context = {
        "customer": customer,
        "phone": visible_phone(customer, request.user),
        "tags": selectors.tag_names(customer),
        "vehicles": vehicles,
        "outlooks": vehicle_outlooks(organization=org, vehicles=vehicles),  # care: odometer today, next service
        "members": members,
        "missing": customer.missing_profile_fields(bool(vehicles)),
        "history": history_for_viewer(selectors.customer_history(customer=customer), request.user),
        "consent_records": selectors.consent_history(customer=customer, limit=20),
        "visits": visits[:shown],
        "more_visits": len(visits) > shown,
        "declined": service_selectors.declined_recommendations(customer=customer, limit=20),
        "consent_form": ConsentForm(),
        "mileage_form": MileageForm(),
        "panel": lifecycle_panel(customer),
        "member": member_panel(customer),
        "score": score_panel(customer),  # read with the customer's row: no query of its own
    }
    return render(request, "customers/detail.html", context)


@staff_required(Perm.EDIT_CUSTOMERS)
def customer_edit(request: StaffRequest, customer_id: int) -> HttpResponse:
    org = request.organization
    customer = _customer(request, customer_id)
    initial = {f: getattr(customer, f) for f in CustomerForm.base_fields if hasattr(customer, f)}
    initial.update(
        phone=customer.phone_display,
        source=customer.source.code if customer.source else "",
        owner=customer.owner_id,
        tags=", ".join(customer.tag_links.values_list("tag__name", flat=True)),
    )
    form = CustomerForm(request.POST if request.method == "POST" else None, organization_id=org.pk, initial=initial)
    if request.method == "POST" and not form.is_valid():
        apply_errors(form, services.customer_check(organization=org, data=form.service_data(), customer=customer))
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(customer=customer, by=request.user, data=form.service_data())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(customer)
    return render(request, "customers/form.html", {"form": form, "customer": customer})


@staff_required(Perm.DELETE_CUSTOMERS)
def customer_delete(request: StaffRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    if request.method == "POST":
        services.customer_delete(customer=customer, by=request.user)
        messages.success(
            request, _("Customer %(name)s deleted. It can be restored from the deleted list.") % {"name": customer.name}
        )
        return redirect("customers:list")
    return render(request, "customers/confirm_delete.html", {"customer": customer})


@staff_required(Perm.DELETE_CUSTOMERS)
def customer_deleted_list(request: StaffRequest) -> HttpResponse:
    deleted = (
        Customer.objects.for_org(request.organization)
        .filter(deleted_at__isnull=False)
        .select_related("deleted_by")
        .order_by("-deleted_at")
    )
    page = Paginator(deleted, 20).get_page(request.GET.get("page"))
    return render(request, "customers/deleted.html", {"page": page})


@require_POST
@staff_required(Perm.DELETE_CUSTOMERS)
def customer_restore(request: StaffRequest, customer_id: int) -> HttpResponse:
    customer = get_scoped_or_404(
        Customer.objects.filter(deleted_at__isnull=False),
        request.organization,
        pk=customer_id,
    )
    try:
        services.customer_restore(customer=customer, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:deleted")
    messages.success(request, _("Customer %(name)s restored.") % {"name": customer.name})
    return redirect(customer)


@require_POST
@staff_required(Perm.EDIT_CUSTOMERS)
def consent_change(request: StaffRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.consent_set(customer=customer, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Consent recorded."))
    else:
        messages.error(request, _("Say how and for what purpose the consent was given or withdrawn."))
    return redirect(customer)


@staff_required(Perm.VIEW_CUSTOMERS)
def customer_pick(request: StaffRequest, customer_id: int) -> HttpResponse:
    """Search results for choosing another customer (household, vehicle transfer)."""
    customer = _customer(request, customer_id)
    q = request.GET.get("q", "").strip()[:50]
    purpose = request.GET.get("for", "household")
    vehicle_id = _int_or_none(request.GET.get("vehicle"))
    results = []
    if q:
        results = [
            (c, visible_phone(c, request.user))
            for c in selectors.customer_list(organization=request.organization, q=q).exclude(pk=customer.pk)[:8]
        ]
    return render(
        request,
        "customers/_pick.html",
        {"customer": customer, "results": results, "purpose": purpose, "vehicle_id": vehicle_id, "q": q},
    )


@require_POST
@staff_required(Perm.EDIT_CUSTOMERS)
def household_link(request: StaffRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    form = HouseholdForm(request.POST)
    if form.is_valid():
        other = _customer(request, form.cleaned_data["other"])
        try:
            services.household_link(customer=customer, other=other, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(name)s added to the family.") % {"name": other.name})
    return redirect(customer)


@require_POST
@staff_required(Perm.EDIT_CUSTOMERS)
def household_unlink(request: StaffRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    services.household_unlink(customer=customer, by=request.user)
    return redirect(customer)


@staff_required(Perm.EDIT_VEHICLES)
def vehicle_new(request: StaffRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    form = VehicleCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and not form.is_valid():
        apply_errors(
            form,
            services.vehicle_check(
                organization_id=customer.organization_id,
                data=form.service_data(),
                vin_confirmed=form.cleaned_data.get("vin_confirmed", False),
            ),
        )
    if request.method == "POST" and form.is_valid():
        try:
            services.vehicle_create(
                customer=customer,
                by=request.user,
                data=form.service_data(),
                vin_confirmed=form.cleaned_data["vin_confirmed"],
                mileage_km=form.cleaned_data["mileage"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Vehicle added."))
            return redirect(customer)
    return render(request, "customers/vehicle_form.html", {"form": form, "customer": customer})


@staff_required(Perm.EDIT_VEHICLES)
def vehicle_edit(request: StaffRequest, vehicle_id: int) -> HttpResponse:
    vehicle = _vehicle(request, vehicle_id)
    initial = {f: getattr(vehicle, f) for f in VehicleForm.base_fields if hasattr(vehicle, f)}
    initial["vin_confirmed"] = vehicle.vin_check_failed
    form = VehicleForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and not form.is_valid():
        apply_errors(
            form,
            services.vehicle_check(
                organization_id=vehicle.organization_id,
                data=form.service_data(),
                vehicle=vehicle,
                vin_confirmed=form.cleaned_data.get("vin_confirmed", False),
            ),
        )
    if request.method == "POST" and form.is_valid():
        try:
            services.vehicle_update(
                vehicle=vehicle,
                by=request.user,
                data=form.service_data(),
                vin_confirmed=form.cleaned_data["vin_confirmed"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(vehicle.customer)
    return render(
        request, "customers/vehicle_form.html", {"form": form, "customer": vehicle.customer, "vehicle": vehicle}
    )


@staff_required(Perm.EDIT_VEHICLES)
def vehicle_delete(request: StaffRequest, vehicle_id: int) -> HttpResponse:
    vehicle = _vehicle(request, vehicle_id)
    if request.method == "POST":
        services.vehicle_delete(vehicle=vehicle, by=request.user)
        messages.success(request, _("Vehicle %(plate)s removed.") % {"plate": vehicle.plate})
        return redirect(vehicle.customer)
    return render(request, "customers/confirm_delete.html", {"customer": vehicle.customer, "vehicle": vehicle})


@staff_required(Perm.EDIT_VEHICLES)
def vehicle_transfer(request: StaffRequest, vehicle_id: int) -> HttpResponse:
    vehicle = _vehicle(request, vehicle_id)
    if request.method == "POST":
        form = TransferForm(request.POST)
        if form.is_valid():
            to_customer = _customer(request, form.cleaned_data["customer"])
            try:
                services.vehicle_transfer(vehicle=vehicle, to_customer=to_customer, by=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(
                    request,
                    _("%(plate)s now belongs to %(name)s.") % {"plate": vehicle.plate, "name": to_customer.name},
                )
                return redirect(to_customer)
    return render(request, "customers/vehicle_transfer.html", {"vehicle": vehicle, "customer": vehicle.customer})


@require_POST
@staff_required(Perm.RECORD_MILEAGE)
def mileage_add(request: StaffRequest, vehicle_id: int) -> HttpResponse:
    vehicle = _vehicle(request, vehicle_id)
    form = MileageForm(request.POST)
    if form.is_valid():
        try:
            services.mileage_record(
                vehicle=vehicle,
                km=form.cleaned_data["km"],
                odometer_replaced=form.cleaned_data["odometer_replaced"],
                by=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Mileage recorded."))
    else:
        messages.error(request, _("Enter the mileage as a whole number of kilometres."))
    return redirect(f"{vehicle.customer.get_absolute_url()}#vehicle-{vehicle.pk}")
