"""The printed bill."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from huitou.service import selectors
from huitou.service.models import Recommendation, ServiceOrder
from huitou.service.views.order_common import ZERO
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm

# --- the bill --------------------------------------------------------------------------------


@staff_required(Perm.VIEW_ORDERS)
def order_bill(request: StaffRequest, order_id: int) -> HttpResponse:
    """The bill for printing, A4 or an 80 mm receipt: every line exactly as charged.

    Queries: session, user (+organization), the order with its lines,
    payments, adjustments and recommendations (see ``order_for_page``).
    """
    try:
        order = selectors.order_for_page(organization=request.organization, order_id=order_id)
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
