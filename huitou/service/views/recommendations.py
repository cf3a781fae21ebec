"""Recommendations: further work a technician proposes, accepted or declined by the customer."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.service import selectors
from huitou.service.errors import StateConflict
from huitou.service.forms_orders import DecisionForm, RecommendationForm
from huitou.service.models import Recommendation
from huitou.service.services import orders as services
from huitou.service.views.order_common import back, conflict, order_or_404
from huitou.service.views.order_page import order_page
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors


@require_POST
@staff_required(Perm.WORK_ON_ORDERS)
def recommendation_add(request: StaffRequest, order_id: int) -> HttpResponse:
    order = order_or_404(request, order_id)
    services_ = list(selectors.service_items(order.organization_id))
    form = RecommendationForm(request.POST, services=services_)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.recommendation_add(
                order=order,
                by=request.user,
                description=data["description"],
                urgency=data["urgency"],
                estimate=data["estimate"],
                service=next((s for s in services_ if s.pk == data["service_id"]), None),
            )
        except StateConflict as exc:
            return conflict(request, order, exc, "recommendations")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Recommendation recorded; ask the customer."))
            return back(order, "recommendations")
    return order_page(request, order.pk, recommend_form=form)


@require_POST
@staff_required(Perm.SETTLE_ORDERS)
def recommendation_decide(request: StaffRequest, order_id: int, recommendation_id: int) -> HttpResponse:
    recommendation = get_scoped_or_404(
        Recommendation.objects.select_related("order", "service"),
        request.organization,
        pk=recommendation_id,
        order_id=order_id,
    )
    order = recommendation.order
    services_ = list(selectors.service_items(order.organization_id))
    form = DecisionForm(request.POST, services=services_)
    if not form.is_valid():
        messages.error(request, _("Choose the service item to add, or decline."))
        return back(order, "recommendations")
    try:
        services.recommendation_decide(
            recommendation=recommendation,
            by=request.user,
            accept=form.cleaned_data["accept"],
            service=next((s for s in services_ if s.pk == form.cleaned_data["service_id"]), None),
        )
    except StateConflict as exc:
        return conflict(request, order, exc, "recommendations")
    except ValidationError as exc:
        messages.error(request, " ".join(str(m) for m in exc.messages))
        return back(order, "recommendations")
    if recommendation.status == Recommendation.Status.ACCEPTED:
        messages.success(
            request, _("Accepted: %(item)s is now a line of the order.") % {"item": recommendation.description}
        )
    else:
        messages.success(request, _("Declined: kept on the customer's file for a later follow-up."))
    return back(order, "recommendations")
