"""The warranty promised on an order line, changed from the order page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.service.errors import RoleRefused, StateConflict
from huitou.service.forms_orders import LineWarrantyForm
from huitou.service.models import OrderLine
from huitou.service.services.warranty import order_line_warranty_set
from huitou.service.views.order_common import back, conflict
from huitou.service.views.order_page import order_page
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors


@require_POST
@staff_required(Perm.WORK_ON_ORDERS)
def line_warranty(request: StaffRequest, order_id: int, line_id: int) -> HttpResponse:
    """Set the line's months and kilometres (both empty: no warranty); who may is the service's rule."""
    line = get_scoped_or_404(
        OrderLine.objects.select_related("order"), request.organization, pk=line_id, order_id=order_id
    )
    form = LineWarrantyForm.for_line(line, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            order_line_warranty_set(
                line=line,
                by=request.user,
                months=data["warranty_months"],
                km=data["warranty_km"],
                reason=data["reason"],
            )
        except RoleRefused as exc:
            form.add_error(None, str(exc.message))
        except StateConflict as exc:
            return conflict(request, line.order, exc, "lines")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            words = line.warranty_words or _("no warranty")
            messages.success(request, _("%(item)s: %(warranty)s.") % {"item": line.name, "warranty": words})
            return back(line.order, f"line-{line.pk}")
    return order_page(request, line.order_id, warranty_form=form, warranty_line_id=line.pk)
