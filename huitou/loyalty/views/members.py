"""Membership pages: the members by tier, the settings and tiers (store manager), joining from the file."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.customers.models import Customer
from huitou.loyalty.forms_members import ProgramForm, TierForm
from huitou.loyalty.models import Tier
from huitou.loyalty.selectors.members import members, members_by_tier
from huitou.loyalty.services.program import PROGRAM_FIELDS, program_for, program_save
from huitou.loyalty.services.tiers import membership_set_tier, tier_save
from huitou.service.errors import StateConflict
from huitou.service.models import ServiceItem
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors

PAGE_SIZE = 50


@staff_required(Perm.VIEW_CUSTOMERS)
def home(request: StaffRequest) -> HttpResponse:
    """Members by tier, newest first, 50 a page; links to the settings for the store manager.

    Queries: session, user (+organization), the tiers, the counts by tier, the
    page's count and rows (+customer, tier), the user's shops (switcher).
    """
    org = request.organization
    tiers = members_by_tier(organization=org)
    chosen = next((row["tier"] for row in tiers if row["tier"].code == request.GET.get("tier")), None)
    page = Paginator(members(organization=org, tier=chosen), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "loyalty/members_home.html",
        {"tiers": tiers, "chosen": chosen, "page": page, "total": sum(row["count"] for row in tiers)},
    )


@staff_required(Perm.MANAGE_LOYALTY)
def program_edit(request: StaffRequest) -> HttpResponse:
    org = request.organization
    program = program_for(org)
    if request.method == "POST":
        form = ProgramForm(request.POST)
        if form.is_valid():
            try:
                program_save(organization=org, data=form.cleaned_data, by=request.user)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Membership settings saved."))
                return redirect("loyalty:program")
    else:
        form = ProgramForm(initial={f: getattr(program, f) for f in PROGRAM_FIELDS})
    return render(request, "loyalty/members_program.html", {"form": form})


@staff_required(Perm.MANAGE_LOYALTY)
def tier_list(request: StaffRequest) -> HttpResponse:
    """Queries: session, user (+organization), the tiers with their counts, the user's shops."""
    return render(request, "loyalty/members_tiers.html", {"tiers": members_by_tier(organization=request.organization)})


def _tier_edit(request: StaffRequest, tier: Tier | None) -> HttpResponse:
    org = request.organization
    services = list(ServiceItem.objects.for_org(org).filter(is_active=True).order_by("code"))
    if request.method == "POST":
        form = TierForm(request.POST, services=services)
        if form.is_valid():
            try:
                saved = tier_save(organization=org, data=form.cleaned_data, tier=tier, by=request.user)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("%(name)s saved.") % {"name": saved.name})
                return redirect("loyalty:tiers")
    elif tier is None:
        form = TierForm(
            initial={
                "rank": 0,
                "entry_rule": "spend",
                "entry_threshold": 0,
                "keep_threshold": 0,
                "labour_discount_percent": 0,
                "parts_discount_percent": 0,
                "points_multiplier": 1,
                "free_services_per_year": 0,
                "is_active": True,
            },
            services=services,
        )
    else:
        form = TierForm(initial=TierForm.initial_for(tier), services=services)
    return render(request, "loyalty/members_tier_form.html", {"form": form, "tier": tier})


@staff_required(Perm.MANAGE_LOYALTY)
def tier_new(request: StaffRequest) -> HttpResponse:
    return _tier_edit(request, None)


@staff_required(Perm.MANAGE_LOYALTY)
def tier_edit(request: StaffRequest, tier_id: int) -> HttpResponse:
    tier = get_scoped_or_404(Tier.objects.select_related("free_service"), request.organization, pk=tier_id)
    return _tier_edit(request, tier)


@require_POST
@staff_required(Perm.SELL_MEMBERSHIP)
def membership_set(request: StaffRequest, customer_id: int) -> HttpResponse:
    """Join or change tier from the file's member panel, back to the file."""
    customer = get_scoped_or_404(Customer.objects.active(), request.organization, pk=customer_id)
    try:
        account = membership_set_tier(customer=customer, tier=request.POST.get("tier", ""), by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except StateConflict as exc:
        messages.error(request, str(exc.message))
    else:
        assert account.tier is not None
        messages.success(
            request, _("%(name)s is a member: %(tier)s.") % {"name": customer.name, "tier": account.tier.name}
        )
    return redirect(f"{customer.get_absolute_url()}#membership")
