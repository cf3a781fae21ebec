"""Wallet pages: top-ups and the card refund, the statement, package card products, the counter checkout."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from huitou.customers.models import Customer
from huitou.loyalty import errors
from huitou.loyalty.forms_wallet import CardProductForm, CardRefundForm, CheckoutForm, TopUpForm
from huitou.loyalty.models import CardProduct, Coupon, PackageCard, StoredValueEntry
from huitou.loyalty.selectors.wallet import (
    LEDGERS,
    STATEMENT_PAGE_SIZE,
    stored_balance,
    top_up_rules,
)
from huitou.loyalty.selectors.wallet import statement as statement_of
from huitou.loyalty.services.cards import SALE_ITEM_PREFIX, card_product_save
from huitou.loyalty.services.checkout import ALL, order_checkout
from huitou.loyalty.services.stored_value import stored_value_refund, stored_value_top_up
from huitou.service.errors import RoleRefused, StateConflict
from huitou.service.models import OrderLine, ServiceItem, ServiceOrder
from huitou.service.views.order_common import back, conflict, int_or_none
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors

LEDGER_LABELS = {
    "": gettext_lazy("All"),
    "stored_value": gettext_lazy("Stored value"),
    "points": gettext_lazy("Points"),
    "package_cards": gettext_lazy("Package cards"),
    "coupons": gettext_lazy("Coupons"),
}


def _customer(request: StaffRequest, customer_id: int) -> Customer:
    return get_scoped_or_404(Customer.objects.all(), request.organization, pk=customer_id)


# --- top-ups and the card refund ------------------------------------------------------------------


def _top_up_page(
    request: StaffRequest, customer: Customer, form: TopUpForm, refund_form: CardRefundForm, status: int = 200
) -> HttpResponse:
    principal, bonus = stored_balance(customer)
    return render(
        request,
        "loyalty/wallet_top_up.html",
        {
            "customer": customer,
            "form": form,
            "refund_form": refund_form,
            "principal": principal,
            "bonus": bonus,
            "balance": principal + bonus,
            "rules": top_up_rules(request.organization),
            "can_refund": request.user.has_role_perm(Perm.MANAGE_LOYALTY),
        },
        status=status,
    )


@staff_required(Perm.SELL_MEMBERSHIP)
def top_up(request: StaffRequest, customer_id: int) -> HttpResponse:
    """The top-up form with the balance and the bonus rules; posting it tops up.

    Queries: session, user (+organization), the customer, the account, the rules, the user's shops.
    """
    customer = _customer(request, customer_id)
    form = TopUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = stored_value_top_up(
                customer=customer,
                amount=data["amount"],
                method=data["method"],
                reference=data["reference"],
                shop=request.shop,
                by=request.user,
            )
        except StateConflict as exc:
            form.add_error(None, str(exc.message))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            params = {
                "amount": entry.principal,
                "bonus": entry.bonus,
                "balance": entry.principal_after + entry.bonus_after,
            }
            if entry.bonus:
                text = _("Topped up ¥%(amount)s with a bonus of ¥%(bonus)s: the balance is ¥%(balance)s.")
            else:
                text = _("Topped up ¥%(amount)s: the balance is ¥%(balance)s.")
            messages.success(request, text % params)
            return redirect(reverse("loyalty:statement", args=[customer.pk]) + "?ledger=stored_value")
    return _top_up_page(request, customer, form, CardRefundForm(), status=422 if form.errors else 200)


@require_POST
@staff_required(Perm.MANAGE_LOYALTY)
def card_refund(request: StaffRequest, customer_id: int) -> HttpResponse:
    """The store manager closes out the card: unspent principal paid back, the bonus forfeited."""
    customer = _customer(request, customer_id)
    form = CardRefundForm(request.POST)
    if form.is_valid():
        try:
            entry = stored_value_refund(
                customer=customer,
                method=form.cleaned_data["method"],
                reason=form.cleaned_data["reason"],
                shop=request.shop,
                by=request.user,
            )
        except StateConflict as exc:
            form.add_error(None, str(exc.message))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("¥%(amount)s of principal refunded.") % {"amount": -entry.principal})
            return redirect(reverse("loyalty:statement", args=[customer.pk]) + "?ledger=stored_value")
    return _top_up_page(request, customer, TopUpForm(), form, status=422)


# --- the statement --------------------------------------------------------------------------------


@staff_required(Perm.VIEW_CUSTOMERS)
def statement(request: StaffRequest, customer_id: int) -> HttpResponse:
    """Every movement of the customer's four ledgers, newest first, 50 a page.

    Queries: session, user (+organization), the customer, the account, the count,
    a page of keys, one per ledger on the page, the user's shops.
    """
    customer = _customer(request, customer_id)
    ledger = request.GET.get("ledger", "")
    if ledger not in LEDGERS:
        ledger = ""
    raw_page = request.GET.get("page", "1")
    number = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 1_000_000 else 1
    found = statement_of(customer=customer, ledger=ledger, page=number, page_size=STATEMENT_PAGE_SIZE)
    page: Page[Any] = Paginator(range(found.count), STATEMENT_PAGE_SIZE).get_page(number)
    principal, bonus = stored_balance(customer)
    return render(
        request,
        "loyalty/wallet_statement.html",
        {
            "customer": customer,
            "items": found.items,
            "count": found.count,
            "page": page,
            "ledger": ledger,
            "ledgers": list(LEDGER_LABELS.items()),
            "principal": principal,
            "bonus": bonus,
            "balance": principal + bonus,
            "kinds": dict(StoredValueEntry.Kind.choices),
        },
    )


# --- package card products ------------------------------------------------------------------------


@staff_required(Perm.MANAGE_LOYALTY)
def product_list(request: StaffRequest) -> HttpResponse:
    """Queries: session, user (+organization), products (+sale item), their services, the user's shops."""
    products = (
        CardProduct.objects.for_org(request.organization)
        .select_related("sale_item")
        .prefetch_related("services")
        .order_by("-is_active", "code")
    )
    return render(request, "loyalty/wallet_products.html", {"products": products})


def _product_edit(request: StaffRequest, product: CardProduct | None) -> HttpResponse:
    org = request.organization
    services = list(
        ServiceItem.objects.for_org(org)
        .filter(is_active=True)
        .exclude(code__startswith=SALE_ITEM_PREFIX)
        .order_by("category", "name")
    )
    if request.method == "POST":
        form = CardProductForm(request.POST, services=services)
        if form.is_valid():
            try:
                saved = card_product_save(organization=org, data=form.cleaned_data, product=product)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("%(name)s saved.") % {"name": saved.name})
                return redirect("loyalty:card_products")
    elif product is None:
        form = CardProductForm(services=services, initial={"binding": "vehicle", "is_active": True})
    else:
        form = CardProductForm(
            services=services,
            initial={
                "code": product.code,
                "name": product.name,
                "price": product.price,
                "uses": product.uses,
                "validity_days": product.validity_days,
                "binding": product.binding,
                "services": [str(pk) for pk in product.services.values_list("pk", flat=True)],
                "is_active": product.is_active,
            },
        )
    status = 422 if form.errors else 200
    return render(request, "loyalty/wallet_product_form.html", {"form": form, "product": product}, status=status)


@staff_required(Perm.MANAGE_LOYALTY)
def product_new(request: StaffRequest) -> HttpResponse:
    return _product_edit(request, None)


@staff_required(Perm.MANAGE_LOYALTY)
def product_edit(request: StaffRequest, product_id: int) -> HttpResponse:
    return _product_edit(request, get_scoped_or_404(CardProduct.objects.all(), request.organization, pk=product_id))


# --- the counter checkout ---------------------------------------------------------------------------


@require_POST
@staff_required(Perm.SETTLE_ORDERS)
def checkout(request: StaffRequest, order_id: int) -> HttpResponse:
    """Settle the order in one step: card uses, a coupon, points, stored value, and the rest by a method."""
    org = request.organization
    order = get_scoped_or_404(ServiceOrder.objects.all(), org, pk=order_id)
    form = CheckoutForm(request.POST, coupons=[])
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for problems in form.errors.values() for m in problems))
        return back(order, "checkout")
    data = form.cleaned_data
    # The cards (``card_<line id>`` = card id) and the coupon chosen, taken by id: whether each may
    # pay is the service's answer, as in the API; an id of nothing this organization has is refused.
    posted = {k: request.POST.get(k) for k in request.POST if re.fullmatch(r"card_\d+", k) and request.POST.get(k)}
    chosen = {int(k[5:]): int_or_none(v) or 0 for k, v in posted.items()}
    lines = OrderLine.objects.for_org(org).filter(order=order, pk__in=list(chosen)).select_related("service")
    cards = PackageCard.objects.for_org(org).filter(pk__in=[c for c in chosen.values() if c]).select_related("product")
    found = {card.pk: card for card in cards}
    card_lines = [(found[chosen[line.pk]], line) for line in lines if chosen[line.pk] in found]
    if len(card_lines) != len(chosen):
        messages.error(request, str(errors.CARD_UNKNOWN))
        return back(order, "checkout")
    coupon = None
    if data["coupon_id"]:
        coupon = Coupon.objects.for_org(org).filter(pk=data["coupon_id"]).first()
        if coupon is None:
            messages.error(request, str(errors.COUPON_NOT_THEIRS))
            return back(order, "checkout")
    stored: Any = None
    if data["use_stored_value"]:
        stored = data["stored_value"] if data["stored_value"] else ALL
    try:
        payments = order_checkout(
            order=order,
            by=request.user,
            card_lines=card_lines,
            coupon=coupon,
            points=data["points"] or 0,
            stored_value=stored,
            method=data["method"],
            reference=data["reference"],
        )
    except (StateConflict, RoleRefused) as exc:
        return conflict(request, order, exc, "checkout")  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(str(m) for m in exc.messages))
        return back(order, "checkout")
    paid = ", ".join(f"{p.get_method_display()} ¥{p.amount}" for p in payments)
    messages.success(request, _("Settled: %(payments)s.") % {"payments": paid or "—"})
    return back(order, "payments")
