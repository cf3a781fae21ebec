"""Order lines: adding a service or part to an order, removing one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.service.errors import RoleRefused, StateConflict
from huitou.service.forms_orders import LineForm, item_key, parse_item_key
from huitou.service.models import OrderLine, Part, ServiceItem
from huitou.service.services import orders as services
from huitou.service.views.order_common import back, catalog, conflict, order_or_404
from huitou.service.views.order_page import order_page
from huitou.service.warranty import FROM_ITEM
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.tenancy.selectors import staff_names
from huitou.web.forms import apply_errors


@require_POST
@staff_required(Perm.WORK_ON_ORDERS)
def line_add(request: StaffRequest, order_id: int) -> HttpResponse:
    order = order_or_404(request, order_id)
    org = request.organization
    staff = staff_names(org)
    services_, parts_, prices = catalog(org, order.shop_id)
    may_price = services.may_set_line_price(request.user)
    form = LineForm(request.POST, services=services_, parts=parts_, prices=prices, staff=staff, may_set_price=may_price)
    if form.is_valid():
        data = form.cleaned_data
        kind, pk = parse_item_key(data["item"]) or ("", 0)
        items: list[ServiceItem | Part] = [*services_, *parts_]
        item = next((i for i in items if item_key(i) == f"{kind}:{pk}"), None)
        chosen = data["technician_id"]  # one of the choices, or None
        technician = User.objects.for_org(org).filter(pk=chosen).first() if chosen is not None else None
        try:
            line = services.order_add_line(
                order=order,
                by=request.user,
                service=item if isinstance(item, ServiceItem) else None,
                part=item if isinstance(item, Part) else None,
                quantity=data["quantity"],
                unit_price=data["unit_price"],
                discount=data["discount"],
                technician=technician,
                warranty_months=FROM_ITEM if data["warranty_months"] is None else data["warranty_months"],
                warranty_km=FROM_ITEM if data["warranty_km"] is None else data["warranty_km"],
            )
        except RoleRefused as exc:
            form.add_error(None, str(exc.message))
        except StateConflict as exc:
            return conflict(request, order, exc, "lines")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(item)s added: ¥%(amount)s.") % {"item": line.name, "amount": line.amount})
            return back(order, "lines")
    return order_page(request, order.pk, line_form=form)


@require_POST
@staff_required(Perm.WORK_ON_ORDERS)
def line_remove(request: StaffRequest, order_id: int, line_id: int) -> HttpResponse:
    line = get_scoped_or_404(
        OrderLine.objects.select_related("order"),
        request.organization,
        pk=line_id,
        order_id=order_id,
    )
    try:
        services.order_remove_line(line=line, by=request.user)
    except StateConflict as exc:
        return conflict(request, line.order, exc, "lines")
    messages.success(request, _("%(item)s removed from the order.") % {"item": line.name})
    return back(line.order, "lines")
