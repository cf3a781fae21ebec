"""The order page: the order with its lines, payments, adjustments, recommendations and history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from huitou.audit.models import ChangeEntry
from huitou.audit.selectors import subject_history
from huitou.customers.presentation import visible_phone
from huitou.loyalty.forms_wallet import CheckoutForm
from huitou.loyalty.selectors.wallet import checkout_options
from huitou.service import selectors
from huitou.service.forms_orders import (
    AdjustmentForm,
    LineForm,
    LineWarrantyForm,
    PaymentForm,
    RecommendationForm,
    VoidForm,
)
from huitou.service.models import OrderState, PaymentMethod, Recommendation, ServiceOrder
from huitou.service.services import orders as services
from huitou.service.views.order_common import catalog
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm, Role
from huitou.tenancy.selectors import staff_names

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
    "warranty_of": gettext_lazy("Warranty of"),
    "warranty_months": gettext_lazy("Warranty (months)"),
    "warranty_km": gettext_lazy("Warranty (km)"),
}
# Codes stored in the history, shown as their labels in the reader's language.
HISTORY_CHOICES = {
    "state": OrderState.choices,
    "payment_method": PaymentMethod.choices,
    "recommendation_status": Recommendation.Status.choices,
}
HISTORY_VERBS: dict[str, Promise] = {
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
            labels: dict[Any, Any] = dict(HISTORY_CHOICES[name])
            old, new = labels.get(old, old), labels.get(new, new)
        changes.append((str(HISTORY_LABELS.get(name, name)), old, new))
    return changes


def _history(order: ServiceOrder) -> list[HistoryRow]:
    """The order's change history with its field names and states in words."""
    entries = subject_history(
        organization_id=order.organization_id, subject_type=ServiceOrder._meta.model_name or "", subject_id=order.pk
    )
    return [
        HistoryRow(entry, str(HISTORY_VERBS.get(entry.action, entry.get_action_display())), _changes_in_words(entry))
        for entry in entries
    ]


def order_page(request: StaffRequest, order_id: int, *, status: int = 200, **bound: Any) -> HttpResponse:
    """The order page; ``bound`` holds a form that was sent and refused, shown with its errors.

    Queries: session, user (+organization), the order (+ shop, customer,
    vehicle, advisor), lines, payments, adjustments, recommendations, the
    history, the user's shops (switcher); where lines can be added, the staff
    (technician choices) and the services and parts at the shop's prices,
    else the services alone (for recommending work; none on a void order, nor
    on a paid one for someone who does not work on cars).
    """
    org = request.organization
    user: User = request.user
    try:
        order = selectors.order_for_page(organization=org, order_id=order_id)
    except ServiceOrder.DoesNotExist as exc:
        raise Http404 from exc
    editable = order.state in services.EDITABLE
    can_work = user.has_role_perm(Perm.WORK_ON_ORDERS)
    recommendations = list(order.recommendations.all())
    payment_initial = {"method": PaymentMethod.CASH, "amount": order.amount_due}
    forms: dict[str, Any] = {
        "payment_form": PaymentForm(initial=payment_initial),
        "void_form": VoidForm(),
        "adjust_form": AdjustmentForm(),
    }
    if editable and can_work:
        # Lines can be added: the catalog at the shop's prices and the technicians to choose from.
        services_, parts_, prices = catalog(org, order.shop_id)
        forms["line_form"] = LineForm(
            services=services_,
            parts=parts_,
            prices=prices,
            staff=staff_names(org),
            may_set_price=services.may_set_line_price(user),
            initial={"technician_id": user.pk if user.role == Role.TECHNICIAN else None},
        )
    elif editable or (can_work and order.state != OrderState.VOID):
        # No new lines (a paid order, or nobody who works on cars): the services' names alone, for the
        # recommendation form and the decisions on recommended work.
        services_ = selectors.service_item_list(org)
    else:
        services_ = []
    forms["recommend_form"] = RecommendationForm(services=services_)
    forms.update(bound)
    can_settle = user.has_role_perm(Perm.SETTLE_ORDERS)
    lines = list(order.lines.all())
    for line in lines:  # each line's warranty form, or the one sent and refused
        sent = bound.get("warranty_form") if bound.get("warranty_line_id") == line.pk else None
        line.warranty_form = sent if sent is not None else LineWarrantyForm.for_line(line)  # type: ignore[attr-defined]
    # The counter checkout (membership: cards, coupons, points, stored value) on a completed order.
    checkout = (
        checkout_options(order=order, lines=lines) if can_settle and order.state == OrderState.COMPLETED else None
    )
    context = {
        "order": order,
        "customer": order.customer,
        "phone": visible_phone(order.customer, user),
        "lines": lines,
        "checkout": checkout,
        "checkout_form": CheckoutForm(coupons=checkout.coupons) if checkout else None,
        "payments": list(order.payments.all()),
        "adjustments": list(order.adjustments.all()),
        "recommendations": recommendations,
        "services": services_,
        "history": _history(order),
        "editable": editable,
        "can_work": can_work,
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
def order_detail(request: StaffRequest, order_id: int) -> HttpResponse:
    return order_page(request, order_id)
