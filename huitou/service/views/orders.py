"""Service-order pages. Thin: forms convert, services decide, selectors read.

A refusal of the state machine (``StateConflict``) comes back as an error
message on the order page; refused input (``ValidationError``) re-renders
the page with the form that was sent, its problems on its fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from huitou.audit.models import ChangeEntry
from huitou.audit.selectors import history_for_subject
from huitou.customers.models import Customer, Vehicle
from huitou.customers.presentation import visible_phone
from huitou.lib.plates import normalize_plate_text
from huitou.service import selectors
from huitou.service.errors import StateConflict
from huitou.service.forms_orders import (
    AdjustmentForm,
    DecisionForm,
    LineForm,
    OrderFilterForm,
    OrderOpenForm,
    PaymentForm,
    PlateForm,
    RecommendationForm,
    VoidForm,
    item_key,
    parse_item_key,
)
from huitou.service.models import (
    OrderLine,
    OrderState,
    Part,
    PaymentMethod,
    Recommendation,
    ServiceItem,
    ServiceOrder,
    ShopPrice,
)
from huitou.service.services import orders as services
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.middleware import current_shop
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm, Role
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.tenancy.selectors import staff_for_org
from huitou.web.forms import apply_errors

ORDERS_PER_PAGE = 30
RECENT_PLATE_MATCHES = 8
ZERO = Decimal("0.00")


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _order(request: HttpRequest, order_id: int) -> ServiceOrder:
    return get_scoped_or_404(ServiceOrder.objects.all(), request.organization, pk=order_id)  # type: ignore[attr-defined]


def _back(order: ServiceOrder, anchor: str = "") -> HttpResponse:
    return redirect(f"{order.get_absolute_url()}{'#' + anchor if anchor else ''}")


def _conflict(request: HttpRequest, order: ServiceOrder, exc: StateConflict, anchor: str = "") -> HttpResponse:
    messages.error(request, str(exc.message))
    return _back(order, anchor)


def _catalog(
    organization: Organization | int, shop_id: int
) -> tuple[list[ServiceItem], list[Part], dict[str, Decimal]]:
    """Active services and parts with the shop's price of each (three queries)."""
    services_ = list(selectors.service_items(organization))
    parts_ = list(selectors.parts(organization))
    prices = {item_key(s): s.labour_price for s in services_}
    prices.update({item_key(p): p.sale_price for p in parts_})
    overrides = ShopPrice.objects.for_org(organization).filter(shop_id=shop_id)
    for service_id, part_id, price in overrides.values_list("service_id", "part_id", "price"):
        prices[f"service:{service_id}" if service_id else f"part:{part_id}"] = price
    return services_, parts_, prices


# --- the day's orders ------------------------------------------------------------------------


@staff_required(Perm.VIEW_ORDERS)
def order_list(request: HttpRequest) -> HttpResponse:
    """The shop's orders of a day (or every order of one customer), with the day's totals.

    Queries: session, user (+organization), the user's shops (current shop,
    switcher), the totals of the day in one aggregate, count, one page of
    orders with customer, vehicle, advisor and shop.
    """
    org = request.organization  # type: ignore[attr-defined]
    today = timezone.localdate()
    filters = OrderFilterForm(request.GET)
    day, state = filters.values(today)
    shop = current_shop(request)
    customer = None
    customer_id = _int_or_none(request.GET.get("customer"))
    if customer_id:
        customer = get_scoped_or_404(Customer.objects.all(), org, pk=customer_id)
        orders = selectors.order_list(organization=org, customer_id=customer.pk)
    elif shop is not None:
        orders = selectors.order_list(organization=org, shop_id=shop.pk, day=day)
    else:
        orders = ServiceOrder.objects.none()
    counted = ~Q(state=OrderState.VOID)
    totals = orders.aggregate(
        count=Count("pk"),
        revenue=Sum("total", filter=counted),
        paid=Sum("amount_paid", filter=counted),
        **{f"n_{value}": Count("pk", filter=Q(state=value)) for value in OrderState.values},
    )
    totals["due"] = (totals["revenue"] or ZERO) - (totals["paid"] or ZERO)
    if state:
        orders = orders.filter(state=state)
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    base = {"customer": customer.pk} if customer else {"day": day.isoformat()}
    chips = [("", _("All"), totals["count"])] + [
        (value, label, totals[f"n_{value}"]) for value, label in OrderState.choices
    ]
    context: dict[str, Any] = {
        "page": page,
        "query": query.urlencode(),
        "totals": totals,
        "day": day,
        "today": today,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "state": state,
        "chips": chips,
        "base_query": urlencode(base),
        "customer": customer,
        "shop": shop,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "service/_order_results.html", context)
    return render(request, "service/order_list.html", context)


# --- receiving a car -------------------------------------------------------------------------


@staff_required(Perm.OPEN_ORDERS)
def order_new(request: HttpRequest) -> HttpResponse:
    """Open an order: for a customer's vehicle (``?customer=``), or for a car found by its plate (``?plate=``)."""
    org = request.organization  # type: ignore[attr-defined]
    shop = current_shop(request)
    customer: Customer | None = None
    vehicles: list[Vehicle] = []
    candidates: list[Vehicle] = []
    plate = ""
    customer_id = _int_or_none(request.GET.get("customer"))
    plate_form = PlateForm(request.GET if "plate" in request.GET else None)
    if customer_id:
        customer = get_scoped_or_404(Customer.objects.active(), org, pk=customer_id)
        vehicles = list(Vehicle.objects.for_org(org).active().filter(customer=customer).order_by("pk"))
    elif plate_form.is_valid():
        plate = normalize_plate_text(plate_form.cleaned_data["plate"])
        found = Vehicle.objects.for_org(org).active().select_related("customer")
        vehicles = list(found.filter(plate=plate))
        if vehicles:
            customer = vehicles[0].customer
        elif len(plate) >= 3:
            candidates = list(found.filter(plate__contains=plate).order_by("plate")[:RECENT_PLATE_MATCHES])
    form = None
    if vehicles and shop is not None:
        staff = [u for u in staff_for_org(org) if u.has_role_perm(Perm.OPEN_ORDERS)]
        wanted = _int_or_none(request.GET.get("vehicle"))
        initial = {
            "vehicle_id": wanted if wanted in {v.pk for v in vehicles} else vehicles[0].pk,
            "advisor": request.user.pk,
        }
        form = OrderOpenForm(
            request.POST if request.method == "POST" else None, vehicles=vehicles, staff=staff, initial=initial
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            vehicle = next(v for v in vehicles if v.pk == data["vehicle_id"])
            advisor = next(u for u in staff if u.pk == data["advisor"])
            try:
                order = services.order_open(
                    organization=org,
                    shop=shop,
                    vehicle=vehicle,
                    by=request.user,  # type: ignore[arg-type]
                    mileage_km=data["mileage"],
                    description=data["description"],
                    advisor=advisor,
                    expected_finish_at=data["expected_finish_at"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Order %(number)s opened for %(plate)s.")
                    % {
                        "number": order.number,
                        "plate": vehicle.plate,
                    },
                )
                return redirect(order)
    context = {
        "plate_form": plate_form,
        "plate": plate,
        "customer": customer,
        "phone": visible_phone(customer, request.user) if customer else "",  # type: ignore[arg-type]
        "vehicles": vehicles,
        "candidates": candidates,
        "form": form,
        "shop": shop,
    }
    return render(request, "service/order_new.html", context)


# --- the order page --------------------------------------------------------------------------

HISTORY_LABELS = {
    "number": gettext_lazy("Order number"),
    "plate": gettext_lazy("Plate"),
    "mileage": gettext_lazy("Mileage (km)"),
    "line": gettext_lazy("Line"),
    "total": gettext_lazy("Total"),
    "state": gettext_lazy("State"),
    "payment": gettext_lazy("Payment"),
    "payment_method": gettext_lazy("Method"),
    "recommendation": gettext_lazy("Recommendation"),
    "recommendation_status": gettext_lazy("Status"),
}
# Codes stored in the history, shown as their labels in the reader's language.
HISTORY_CHOICES = {
    "state": OrderState.choices,
    "payment_method": PaymentMethod.choices,
    "recommendation_status": Recommendation.Status.choices,
}
HISTORY_VERBS = {
    ChangeEntry.Action.CREATED: gettext_lazy("opened the order"),
    ChangeEntry.Action.UPDATED: gettext_lazy("changed the order"),
    ChangeEntry.Action.DELETED: gettext_lazy("voided the order"),
}


@dataclass
class HistoryRow:
    entry: ChangeEntry
    verb: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


def _changes_in_words(entry: ChangeEntry) -> list[tuple[str, Any, Any]]:
    """An order entry's changes as (label, old, new), states as their labels, empty pairs left out."""
    changes = []
    for name, pair in entry.changes.items():
        old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        if old in (None, "") and new in (None, ""):
            continue
        if name == "recommendation" and old == new:
            old = None
        if name in HISTORY_CHOICES:
            labels = dict(HISTORY_CHOICES[name])
            old, new = labels.get(old, old), labels.get(new, new)
        changes.append((str(HISTORY_LABELS.get(name, name)), old, new))
    return changes


def _history(order: ServiceOrder) -> list[HistoryRow]:
    """The order's change history with its field names and states in words."""
    entries = history_for_subject(
        organization_id=order.organization_id, subject_type=ServiceOrder._meta.model_name or "", subject_id=order.pk
    )
    return [
        HistoryRow(entry, str(HISTORY_VERBS.get(entry.action, entry.get_action_display())), _changes_in_words(entry))
        for entry in entries
    ]


def _order_page(request: HttpRequest, order_id: int, *, status: int = 200, **bound: Any) -> HttpResponse:
    """The order page; ``bound`` holds a form that was sent and refused, shown with its errors.

    Queries: session, user (+organization), the order (+ shop, customer,
    vehicle, advisor), lines, payments, adjustments, recommendations, the
    history, staff (technician and advisor choices), services, parts, the
    shop's prices, the user's shops (switcher).
    """
    org = request.organization  # type: ignore[attr-defined]
    user: User = request.user  # type: ignore[assignment]
    try:
        order = selectors.order_for_page(organization=org, order_id=order_id)
    except ServiceOrder.DoesNotExist as exc:
        raise Http404 from exc
    staff = list(staff_for_org(org))
    services_, parts_, prices = _catalog(org, order.shop_id)
    recommendations = list(order.recommendations.all())
    payment_initial = {"method": PaymentMethod.CASH, "amount": order.amount_due}
    forms: dict[str, Any] = {
        "line_form": LineForm(
            services=services_,
            parts=parts_,
            prices=prices,
            staff=staff,
            initial={"technician_id": user.pk if user.role == Role.TECHNICIAN else None},
        ),
        "payment_form": PaymentForm(initial=payment_initial),
        "void_form": VoidForm(),
        "adjust_form": AdjustmentForm(),
        "recommend_form": RecommendationForm(services=services_),
    }
    forms.update(bound)
    can_settle = user.has_role_perm(Perm.SETTLE_ORDERS)
    context = {
        "order": order,
        "customer": order.customer,
        "phone": visible_phone(order.customer, user),
        "lines": list(order.lines.all()),
        "payments": list(order.payments.all()),
        "adjustments": list(order.adjustments.all()),
        "recommendations": recommendations,
        "services": services_,
        "history": _history(order),
        "editable": order.state in services.EDITABLE,
        "can_work": user.has_role_perm(Perm.WORK_ON_ORDERS),
        "can_settle": can_settle,
        "can_pay": can_settle
        and (order.state == OrderState.COMPLETED or (order.state == OrderState.PAID and order.amount_due != 0)),
        "can_adjust": can_settle and order.state == OrderState.PAID,
        "can_void": can_settle and order.state in services.EDITABLE,
        "is_late": bool(
            order.expected_finish_at
            and order.state in (OrderState.OPEN, OrderState.IN_PROGRESS)
            and order.expected_finish_at < timezone.now()
        ),
        **forms,
    }
    return render(request, "service/order_detail.html", context, status=status)


@staff_required(Perm.VIEW_ORDERS)
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    return _order_page(request, order_id)


@require_POST
@staff_required(Perm.WORK_ON_ORDERS)
def line_add(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order(request, order_id)
    org = request.organization  # type: ignore[attr-defined]
    staff = list(staff_for_org(org))
    services_, parts_, prices = _catalog(org, order.shop_id)
    form = LineForm(request.POST, services=services_, parts=parts_, prices=prices, staff=staff)
    if form.is_valid():
        data = form.cleaned_data
        kind, pk = parse_item_key(data["item"]) or ("", 0)
        item = next((i for i in [*services_, *parts_] if item_key(i) == f"{kind}:{pk}"), None)
        technician = next((u for u in staff if u.pk == data["technician_id"]), None)
        may_price = request.user.has_role_perm(Perm.SETTLE_ORDERS)  # type: ignore[union-attr]
        try:
            line = services.order_add_line(
                order=order,
                by=request.user,  # type: ignore[arg-type]
                service=item if isinstance(item, ServiceItem) else None,
                part=item if isinstance(item, Part) else None,
                quantity=data["quantity"],
                # Prices are the shop's unless someone who settles bills changes them.
                unit_price=data["unit_price"] if may_price else None,
                discount=data["discount"] if may_price else 0,
                technician=technician,
            )
        except StateConflict as exc:
            return _conflict(request, order, exc, "lines")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(item)s added: ¥%(amount)s.") % {"item": line.name, "amount": line.amount})
            return _back(order, "lines")
    return _order_page(request, order.pk, line_form=form)


@require_POST
@staff_required(Perm.WORK_ON_ORDERS)
def line_remove(request: HttpRequest, order_id: int, line_id: int) -> HttpResponse:
    line = get_scoped_or_404(
        OrderLine.objects.select_related("order"),
        request.organization,  # type: ignore[attr-defined]
        pk=line_id,
        order_id=order_id,
    )
    try:
        services.order_remove_line(line=line, by=request.user)  # type: ignore[arg-type]
    except StateConflict as exc:
        return _conflict(request, line.order, exc, "lines")
    messages.success(request, _("%(item)s removed from the order.") % {"item": line.name})
    return _back(line.order, "lines")


def _move(request: HttpRequest, order_id: int, service: Any, done: Any) -> HttpResponse:
    """Run a state change of the order; a forbidden one comes back as a message."""
    order = _order(request, order_id)
    try:
        service(order=order, by=request.user)
    except StateConflict as exc:
        return _conflict(request, order, exc)
    messages.success(request, done % {"number": order.number})
    return _back(order)


@require_POST
@staff_required(Perm.WORK_ON_ORDERS)
def order_start(request: HttpRequest, order_id: int) -> HttpResponse:
    return _move(request, order_id, services.order_start, _("Work on %(number)s started."))


@require_POST
@staff_required(Perm.WORK_ON_ORDERS)
def order_complete(request: HttpRequest, order_id: int) -> HttpResponse:
    return _move(request, order_id, services.order_complete, _("%(number)s completed: ready for payment."))


@require_POST
@staff_required(Perm.SETTLE_ORDERS)
def order_pay(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order(request, order_id)
    form = PaymentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        was_paid = order.state == OrderState.PAID
        try:
            payment = services.order_pay(
                order=order,
                by=request.user,  # type: ignore[arg-type]
                method=data["method"],
                amount=data["amount"],
                reference=data["reference"],
            )
        except StateConflict as exc:
            return _conflict(request, order, exc, "payments")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            params = {"method": payment.get_method_display(), "amount": abs(payment.amount)}
            if payment.amount < 0:
                messages.success(request, _("Refund of ¥%(amount)s (%(method)s) recorded.") % params)
            else:
                messages.success(request, _("%(method)s ¥%(amount)s recorded.") % params)
            if order.state == OrderState.PAID and not was_paid:
                messages.success(request, _("The order is paid in full and now locked."))
            return _back(order, "payments")
    return _order_page(request, order.pk, payment_form=form)


@require_POST
@staff_required(Perm.SETTLE_ORDERS)
def order_void(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order(request, order_id)
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            services.order_void(order=order, by=request.user, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
        except StateConflict as exc:
            return _conflict(request, order, exc)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(number)s is void.") % {"number": order.number})
            return _back(order)
    return _order_page(request, order.pk, void_form=form)


@require_POST
@staff_required(Perm.SETTLE_ORDERS)
def order_adjust(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order(request, order_id)
    form = AdjustmentForm(request.POST)
    if form.is_valid():
        try:
            adjustment = services.order_adjust(
                order=order,
                by=request.user,  # type: ignore[arg-type]
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        except StateConflict as exc:
            return _conflict(request, order, exc, "adjustments")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            change = {"amount": abs(adjustment.amount), "total": order.total}
            if adjustment.amount < 0:
                messages.success(
                    request, _("The bill is lowered by ¥%(amount)s; the total is now ¥%(total)s.") % change
                )
            else:
                messages.success(request, _("The bill is raised by ¥%(amount)s; the total is now ¥%(total)s.") % change)
            if order.amount_due < 0:
                messages.warning(
                    request, _("¥%(amount)s is to be refunded to the customer.") % {"amount": -order.amount_due}
                )
            return _back(order, "adjustments")
    return _order_page(request, order.pk, adjust_form=form)


@require_POST
@staff_required(Perm.WORK_ON_ORDERS)
def recommendation_add(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order(request, order_id)
    services_ = list(selectors.service_items(order.organization_id))
    form = RecommendationForm(request.POST, services=services_)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.recommendation_add(
                order=order,
                by=request.user,  # type: ignore[arg-type]
                description=data["description"],
                urgency=data["urgency"],
                estimate=data["estimate"],
                service=next((s for s in services_ if s.pk == data["service_id"]), None),
            )
        except StateConflict as exc:
            return _conflict(request, order, exc, "recommendations")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Recommendation recorded; ask the customer."))
            return _back(order, "recommendations")
    return _order_page(request, order.pk, recommend_form=form)


@require_POST
@staff_required(Perm.SETTLE_ORDERS)
def recommendation_decide(request: HttpRequest, order_id: int, recommendation_id: int) -> HttpResponse:
    recommendation = get_scoped_or_404(
        Recommendation.objects.select_related("order", "service"),
        request.organization,  # type: ignore[attr-defined]
        pk=recommendation_id,
        order_id=order_id,
    )
    order = recommendation.order
    services_ = list(selectors.service_items(order.organization_id))
    form = DecisionForm(request.POST, services=services_)
    if not form.is_valid():
        messages.error(request, _("Choose the service item to add, or decline."))
        return _back(order, "recommendations")
    try:
        services.recommendation_decide(
            recommendation=recommendation,
            by=request.user,  # type: ignore[arg-type]
            accept=form.cleaned_data["accept"],
            service=next((s for s in services_ if s.pk == form.cleaned_data["service_id"]), None),
        )
    except StateConflict as exc:
        return _conflict(request, order, exc, "recommendations")
    except ValidationError as exc:
        messages.error(request, " ".join(str(m) for m in exc.messages))
        return _back(order, "recommendations")
    if recommendation.status == Recommendation.Status.ACCEPTED:
        messages.success(
            request, _("Accepted: %(item)s is now a line of the order.") % {"item": recommendation.description}
        )
    else:
        messages.success(request, _("Declined: kept on the customer's file for a later follow-up."))
    return _back(order, "recommendations")


# --- the bill --------------------------------------------------------------------------------


@staff_required(Perm.VIEW_ORDERS)
def order_bill(request: HttpRequest, order_id: int) -> HttpResponse:
    """The bill for printing, A4 or an 80 mm receipt: every line exactly as charged.

    Queries: session, user (+organization), the order with its lines,
    payments, adjustments and recommendations (see ``order_for_page``).
    """
    try:
        order = selectors.order_for_page(organization=request.organization, order_id=order_id)  # type: ignore[attr-defined]
    except ServiceOrder.DoesNotExist as exc:
        raise Http404 from exc
    layout = "receipt" if request.GET.get("format") == "receipt" else "a4"
    lines = list(order.lines.all())
    context = {
        "order": order,
        "layout": layout,
        "lines": lines,
        "discounts": sum((line.discount for line in lines), ZERO),
        "payments": list(order.payments.all()),
        "adjustments": list(order.adjustments.all()),
        "not_done": [r for r in order.recommendations.all() if r.status != Recommendation.Status.ACCEPTED],
        "printed_at": timezone.now(),
    }
    return render(request, "service/bill_print.html", context)
