"""Service-order pages: the day's orders, receiving a car, starting and completing the work.

Thin: forms convert, services decide, selectors read. A refusal of the state
machine (``StateConflict``) comes back as an error message on the order
page; refused input (``ValidationError``) re-renders the page with the form
that was sent, its problems on its fields. The order page itself is in
``order_page``; lines, payments, recommendations and the bill have their own
modules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.analytics.dashboard import figure_behind
from huitou.customers.models import Customer, Vehicle
from huitou.customers.presentation import visible_phone
from huitou.lib.plates import normalize_plate_text
from huitou.service import selectors
from huitou.service.errors import StateConflict
from huitou.service.forms_orders import OrderFilterForm, OrderOpenForm, PlateForm
from huitou.service.models import OrderState, ServiceOrder
from huitou.service.services import orders as services
from huitou.service.views.order_common import ZERO, back, conflict, int_or_none, order_or_404
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.middleware import current_shop
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.tenancy.selectors import staff_names
from huitou.web.forms import apply_errors

ORDERS_PER_PAGE = 30
RECENT_PLATE_MATCHES = 8


# --- the day's orders ------------------------------------------------------------------------


@staff_required(Perm.VIEW_ORDERS)
def order_list(request: StaffRequest) -> HttpResponse:
    """The shop's orders of a day (or every order of one customer), with the day's totals.

    Queries: session, user (+organization), the user's shops (current shop,
    switcher), the totals of the day in one aggregate, count, one page of
    orders with customer, vehicle, advisor and shop.
    """
    org = request.organization
    today = timezone.localdate()
    filters = OrderFilterForm(request.GET)
    day, state = filters.values(today)
    shop = current_shop(request)
    customer = None
    customer_id = int_or_none(request.GET.get("customer"))
    # The orders behind a figure of the dashboard (``?figure=paid&from=&to=&figure_shop=``: paid in
    # that range, and the others in ``figure_orders``), every shop's unless one is named.
    figure = (
        None if customer_id else figure_behind(organization=org, user=request.user, params=request.GET, of="orders")
    )
    if customer_id:
        customer = get_scoped_or_404(Customer.objects.all(), org, pk=customer_id)
        orders = selectors.order_list(organization=org, customer_id=customer.pk)
    elif figure is not None:
        orders = selectors.order_list(organization=org).filter(pk__in=figure.ids)
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
    base = {"customer": customer.pk} if customer else figure.query() if figure else {"day": day.isoformat()}
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
        "figure": figure,
    }
    if request.htmx:
        return render(request, "service/_order_results.html", context)
    return render(request, "service/order_list.html", context)


# --- receiving a car -------------------------------------------------------------------------


@staff_required(Perm.OPEN_ORDERS)
def order_new(request: StaffRequest) -> HttpResponse:
    """Open an order: for a customer's vehicle (``?customer=``), or for a car found by its plate (``?plate=``)."""
    org = request.organization
    shop = current_shop(request)
    customer: Customer | None = None
    vehicles: list[Vehicle] = []
    candidates: list[Vehicle] = []
    plate = ""
    customer_id = int_or_none(request.GET.get("customer"))
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
        staff = staff_names(org, perm=Perm.OPEN_ORDERS)
        wanted = int_or_none(request.GET.get("vehicle"))
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
            advisor = User.objects.for_org(org).get(pk=data["advisor"])  # one of the choices
            try:
                order = services.order_open(
                    organization=org,
                    shop=shop,
                    vehicle=vehicle,
                    by=request.user,
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
        "phone": visible_phone(customer, request.user) if customer else "",
        "vehicles": vehicles,
        "candidates": candidates,
        "form": form,
        "shop": shop,
    }
    return render(request, "service/order_new.html", context)


def _move(request: StaffRequest, order_id: int, service: Any, done: Any) -> HttpResponse:
    """Run a state change of the order; a forbidden one comes back as a message."""
    order = order_or_404(request, order_id)
    try:
        service(order=order, by=request.user)
    except StateConflict as exc:
        return conflict(request, order, exc)
    messages.success(request, done % {"number": order.number})
    return back(order)


@require_POST
@staff_required(Perm.WORK_ON_ORDERS)
def order_start(request: StaffRequest, order_id: int) -> HttpResponse:
    return _move(request, order_id, services.order_start, _("Work on %(number)s started."))


@require_POST
@staff_required(Perm.WORK_ON_ORDERS)
def order_complete(request: StaffRequest, order_id: int) -> HttpResponse:
    return _move(request, order_id, services.order_complete, _("%(number)s completed: ready for payment."))
