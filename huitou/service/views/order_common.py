"""What the order pages share: the order fetched within the organization, the way back, the catalog."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect

from huitou.service import selectors
from huitou.service.errors import StateConflict
from huitou.service.forms_orders import item_key
from huitou.service.models import Part, ServiceItem, ServiceOrder
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.models import Organization
from huitou.tenancy.scoping import get_scoped_or_404

ZERO = Decimal("0.00")


def int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def order_or_404(request: StaffRequest, order_id: int) -> ServiceOrder:
    return get_scoped_or_404(ServiceOrder.objects.all(), request.organization, pk=order_id)


def back(order: ServiceOrder, anchor: str = "") -> HttpResponse:
    return redirect(f"{order.get_absolute_url()}{'#' + anchor if anchor else ''}")


def conflict(request: StaffRequest, order: ServiceOrder, exc: StateConflict, anchor: str = "") -> HttpResponse:
    messages.error(request, str(exc.message))
    return back(order, anchor)


def catalog(organization: Organization | int, shop_id: int) -> tuple[list[ServiceItem], list[Part], dict[str, Decimal]]:
    """Active services and parts with the shop's price of each (two queries: ``selectors.priced_catalog``)."""
    org_id = organization if isinstance(organization, int) else organization.pk
    services_, parts_ = selectors.priced_catalog(organization_id=org_id, shop_id=shop_id)
    items: list[ServiceItem | Part] = [*services_, *parts_]
    prices = {item_key(i): i.shop_price for i in items}  # type: ignore[union-attr]  # annotated by the selector
    return services_, parts_, prices
