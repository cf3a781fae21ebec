"""Points and coupon pages: coupon templates and their rules (store manager), issuing by hand, the year-end list."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.customers.models import Customer
from huitou.loyalty.forms_rewards import CouponIssueForm, CouponRuleForm, CouponTemplateForm
from huitou.loyalty.models import CouponRule, CouponTemplate, CouponTrigger
from huitou.loyalty.selectors.rewards import coupon_templates, points_year_end
from huitou.loyalty.services.coupons import coupon_issue, coupon_rule_save, coupon_template_save
from huitou.service.models import ServiceItem
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors

YEAR_END_PAGE = 50


@staff_required(Perm.MANAGE_LOYALTY)
def template_list(request: StaffRequest) -> HttpResponse:
    """Queries: session, user (+organization), templates (+free service), their services, their rules, the shops."""
    return render(
        request,
        "loyalty/rewards_templates.html",
        {"templates": coupon_templates(organization=request.organization), "rule_form": CouponRuleForm()},
    )


def _services(request: StaffRequest) -> list[ServiceItem]:
    return list(ServiceItem.objects.for_org(request.organization).filter(is_active=True).order_by("code"))


def _template_edit(request: StaffRequest, template: CouponTemplate | None) -> HttpResponse:
    org = request.organization
    services = _services(request)
    if request.method == "POST":
        form = CouponTemplateForm(request.POST, services=services)
        if form.is_valid():
            try:
                saved = coupon_template_save(organization=org, data=form.service_data(), template=template)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("%(name)s saved.") % {"name": saved.name})
                return redirect("loyalty:coupon_templates")
    elif template is None:
        form = CouponTemplateForm(initial={"kind": "amount", "days_valid": 90, "is_active": True}, services=services)
    else:
        form = CouponTemplateForm(
            initial={
                "code": template.code,
                "name": template.name,
                "kind": template.kind,
                "value": template.value,
                "free_service": str(template.free_service_id or ""),
                "min_spend": template.min_spend,
                "days_valid": template.days_valid,
                "services": [str(pk) for pk in template.services.values_list("pk", flat=True)],
                "is_active": template.is_active,
            },
            services=services,
        )
    return render(request, "loyalty/rewards_template_form.html", {"form": form, "template": template})


@staff_required(Perm.MANAGE_LOYALTY)
def template_new(request: StaffRequest) -> HttpResponse:
    return _template_edit(request, None)


@staff_required(Perm.MANAGE_LOYALTY)
def template_edit(request: StaffRequest, template_id: int) -> HttpResponse:
    template = get_scoped_or_404(CouponTemplate.objects.all(), request.organization, pk=template_id)
    return _template_edit(request, template)


@require_POST
@staff_required(Perm.MANAGE_LOYALTY)
def rule_add(request: StaffRequest, template_id: int) -> HttpResponse:
    """Add an issuing rule to a template, back to the list."""
    template = get_scoped_or_404(CouponTemplate.objects.all(), request.organization, pk=template_id)
    form = CouponRuleForm(request.POST)
    data: dict[str, Any] = {"template": template, **{k: form.data.get(k) for k in ("trigger", "min_order_total")}}
    data["min_order_total"] = data.get("min_order_total") or "0"
    try:
        coupon_rule_save(organization=request.organization, data=data)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Rule added to %(name)s.") % {"name": template.name})
    return redirect("loyalty:coupon_templates")


@require_POST
@staff_required(Perm.MANAGE_LOYALTY)
def rule_toggle(request: StaffRequest, rule_id: int) -> HttpResponse:
    """Stop a rule, or start it again."""
    rule = get_scoped_or_404(CouponRule.objects.select_related("template"), request.organization, pk=rule_id)
    coupon_rule_save(organization=request.organization, data={"is_active": not rule.is_active}, rule=rule)
    return redirect("loyalty:coupon_templates")


@staff_required(Perm.SELL_MEMBERSHIP)
def coupon_issue_page(request: StaffRequest, customer_id: int) -> HttpResponse:
    """Give a customer a coupon by hand (front desk), back to the file."""
    customer = get_scoped_or_404(Customer.objects.active(), request.organization, pk=customer_id)
    templates = list(CouponTemplate.objects.for_org(request.organization).filter(is_active=True).order_by("name"))
    form = CouponIssueForm(request.POST or None, templates=templates)
    if request.method == "POST" and form.is_valid():
        template = next(t for t in templates if str(t.pk) == form.cleaned_data["template"])
        try:
            coupon = coupon_issue(customer=customer, template=template, source=CouponTrigger.MANUAL, by=request.user)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(coupon)s given to %(name)s, valid until %(date)s.")
                % {"coupon": coupon.name, "name": customer.name, "date": coupon.expires_on},
            )
            return redirect("customers:detail", customer.pk)
    return render(request, "loyalty/rewards_issue.html", {"form": form, "customer": customer})


@staff_required(Perm.MANAGE_LOYALTY)
def points_year_end_page(request: StaffRequest) -> HttpResponse:
    """Customers whose points expire at the end of the year unless redeemed (年终积分兑换), most first.

    Queries: session, user (+organization), the count, the page's sums, their customers (+account, tier), the shops.
    """
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("year", this_year))
        page = max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        year, page = this_year, 1
    if not 2000 <= year <= 2100:
        year = this_year
    count, rows = points_year_end(
        organization=request.organization, year=year, offset=(page - 1) * YEAR_END_PAGE, limit=YEAR_END_PAGE
    )
    pages = max((count + YEAR_END_PAGE - 1) // YEAR_END_PAGE, 1)
    return render(
        request,
        "loyalty/rewards_year_end.html",
        {
            "rows": rows,
            "count": count,
            "year": year,
            "page": page,
            "pages": pages,
            "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if page < pages else None,
            "years": [this_year - 1, this_year, this_year + 1],
        },
    )
