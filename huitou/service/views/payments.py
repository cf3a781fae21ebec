"""Settling an order: payments and refunds, voiding, adjustments of a paid bill."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.service.errors import StateConflict
from huitou.service.forms_orders import AdjustmentForm, PaymentForm, VoidForm
from huitou.service.models import OrderState
from huitou.service.services import orders as services
from huitou.service.views.order_common import back, conflict, order_or_404
from huitou.service.views.order_page import order_page
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.web.forms import apply_errors


@require_POST
@staff_required(Perm.SETTLE_ORDERS)
def order_pay(request: StaffRequest, order_id: int) -> HttpResponse:
    order = order_or_404(request, order_id)
    form = PaymentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        was_paid = order.state == OrderState.PAID
        try:
            payment = services.order_pay(
                order=order,
                by=request.user,
                method=data["method"],
                amount=data["amount"],
                reference=data["reference"],
            )
        except StateConflict as exc:
            return conflict(request, order, exc, "payments")
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
            return back(order, "payments")
    return order_page(request, order.pk, payment_form=form)


@require_POST
@staff_required(Perm.SETTLE_ORDERS)
def order_void(request: StaffRequest, order_id: int) -> HttpResponse:
    order = order_or_404(request, order_id)
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            services.order_void(order=order, by=request.user, reason=form.cleaned_data["reason"])
        except StateConflict as exc:
            return conflict(request, order, exc)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(number)s is void.") % {"number": order.number})
            return back(order)
    return order_page(request, order.pk, void_form=form)


@require_POST
@staff_required(Perm.SETTLE_ORDERS)
def order_adjust(request: StaffRequest, order_id: int) -> HttpResponse:
    order = order_or_404(request, order_id)
    form = AdjustmentForm(request.POST)
    if form.is_valid():
        try:
            adjustment = services.order_adjust(
                order=order,
                by=request.user,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        except StateConflict as exc:
            return conflict(request, order, exc, "adjustments")
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
            return back(order, "adjustments")
    return order_page(request, order.pk, adjust_form=form)
