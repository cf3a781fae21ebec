"""Referral pages: the leaderboard, the reward policies (store manager) and the referrer type on the file."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.customers.models import Customer
from huitou.loyalty.forms_referrals import ReferralPolicyForm, ReferrerTypeForm
from huitou.loyalty.models import CouponTemplate, ReferralPolicy
from huitou.loyalty.selectors.referrals import referral_leaderboard, referral_policies
from huitou.loyalty.services.referrals import referral_policy_save, referrer_type_set
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors

# The leaderboard's periods: days back (None: since the beginning).
PERIODS = {"90": 90, "365": 365, "all": None}


@staff_required(Perm.VIEW_CUSTOMERS)
def leaderboard(request: StaffRequest) -> HttpResponse:
    """The referrers who brought the most converted customers.

    Queries: session, user (+organization), the counts by referrer, their names,
    their rewards, the user's shops (switcher).
    """
    period = request.GET.get("period", "365")
    if period not in PERIODS:
        period = "365"
    days = PERIODS[period]
    since = timezone.now() - dt.timedelta(days=days) if days else None
    rows = referral_leaderboard(organization=request.organization, since=since)
    return render(
        request,
        "loyalty/referrals_leaderboard.html",
        {"rows": rows, "period": period, "periods": [("90", _("90 days")), ("365", _("A year")), ("all", _("Ever"))]},
    )


@staff_required(Perm.MANAGE_LOYALTY)
def policy_list(request: StaffRequest) -> HttpResponse:
    """Queries: session, user (+organization), policies (+template), the user's shops."""
    return render(
        request, "loyalty/referrals_policies.html", {"policies": referral_policies(organization=request.organization)}
    )


def _policy_edit(request: StaffRequest, policy: ReferralPolicy | None) -> HttpResponse:
    org = request.organization
    templates = list(CouponTemplate.objects.for_org(org).filter(is_active=True).order_by("name"))
    if request.method == "POST":
        form = ReferralPolicyForm(request.POST, templates=templates)
        if form.is_valid():
            try:
                saved = referral_policy_save(organization=org, data=form.cleaned_data, policy=policy)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("%(name)s saved.") % {"name": saved.name})
                return redirect("loyalty:referral_policies")
    elif policy is None:
        form = ReferralPolicyForm(
            initial={"kind": ReferralPolicy.Kind.FIRST_BILL_PERCENT, "is_active": True}, templates=templates
        )
    else:
        form = ReferralPolicyForm(
            initial={
                "code": policy.code,
                "name": policy.name,
                "kind": policy.kind,
                "percent": policy.percent,
                "milestone": policy.milestone,
                "template": policy.template.code if policy.template else "",
                "both_sides": policy.both_sides,
                "is_active": policy.is_active,
            },
            templates=templates,
        )
    return render(request, "loyalty/referrals_policy_form.html", {"form": form, "policy": policy})


@staff_required(Perm.MANAGE_LOYALTY)
def policy_new(request: StaffRequest) -> HttpResponse:
    return _policy_edit(request, None)


@staff_required(Perm.MANAGE_LOYALTY)
def policy_edit(request: StaffRequest, policy_id: int) -> HttpResponse:
    policy = get_scoped_or_404(ReferralPolicy.objects.select_related("template"), request.organization, pk=policy_id)
    return _policy_edit(request, policy)


@require_POST
@staff_required(Perm.EDIT_CUSTOMERS)
def referrer_type_edit(request: StaffRequest, customer_id: int) -> HttpResponse:
    """Set the referrer type from the file's member panel, back to the file."""
    customer = get_scoped_or_404(Customer.objects.active(), request.organization, pk=customer_id)
    form = ReferrerTypeForm(request.POST)
    try:
        referrer_type_set(
            customer=customer,
            referrer_type=form.data.get("referrer_type", ""),
            by=request.user,
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Referrer type saved."))
    return redirect("customers:detail", customer.pk)
