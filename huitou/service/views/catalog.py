"""Catalog pages for the store manager: service items, parts and each shop's own prices."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from huitou.service import selectors
from huitou.service.forms_orders import PartForm, ServiceItemForm
from huitou.service.models import Category, Part, ServiceItem
from huitou.service.services import catalog as services
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.middleware import user_shops
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors

HUNDRED = Decimal(100)


@staff_required(Perm.MANAGE_SETTINGS)
def catalog_list(request: StaffRequest) -> HttpResponse:
    """Services by category and parts, with prices, intervals, margins and shop prices.

    Queries: session, user (+organization), services, parts, shop prices
    (+ shop), the user's shops (switcher).
    """
    org = request.organization
    services_ = list(selectors.service_items(org, active_only=False))
    parts_ = list(selectors.parts(org, active_only=False))
    overrides = selectors.shop_overrides_by_item(org)
    for s in services_:
        s.shop_prices = overrides.get(("service", s.pk), [])  # type: ignore[attr-defined]
    for p in parts_:
        p.shop_prices = overrides.get(("part", p.pk), [])  # type: ignore[attr-defined]
        p.margin = p.sale_price - p.cost  # type: ignore[attr-defined]
        p.margin_pct = (p.margin / p.sale_price * HUNDRED).quantize(Decimal(1)) if p.sale_price else None  # type: ignore[attr-defined]
    labels = dict(Category.choices)
    groups = [(labels[value], [s for s in services_ if s.category == value]) for value in Category.values]
    context = {"groups": [g for g in groups if g[1]], "parts": parts_, "service_count": len(services_)}
    return render(request, "service/catalog_list.html", context)


def _edit(request: StaffRequest, kind: str, item: ServiceItem | Part | None) -> HttpResponse:
    org = request.organization
    title = str(item) if item is not None else ""  # before a refused save changes the object in memory
    form_class = ServiceItemForm if kind == "service" else PartForm
    current = selectors.shop_overrides(organization=org, item=item) if item else {}
    initial = {name: getattr(item, name) for name in form_class.base_fields if item is not None}
    form = form_class(
        request.POST if request.method == "POST" else None,
        shops=user_shops(request),
        shop_prices=current,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        target: ServiceItem | Part | None = item
        prices = dict(form.shop_prices())
        try:
            if isinstance(item, ServiceItem) or (item is None and kind == "service"):
                target = services.service_item_save(
                    organization=org,
                    data=form.service_data(),
                    item=item,
                    shop_prices=prices,
                )
            else:
                target = services.part_save(
                    organization=org,
                    data=form.service_data(),
                    part=item,
                    shop_prices=prices,
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": target})
            return redirect("service:catalog_list")
    return render(request, "service/catalog_form.html", {"form": form, "kind": kind, "item": item, "title": title})


@staff_required(Perm.MANAGE_SETTINGS)
def catalog_service_new(request: StaffRequest) -> HttpResponse:
    return _edit(request, "service", None)


@staff_required(Perm.MANAGE_SETTINGS)
def catalog_service_edit(request: StaffRequest, item_id: int) -> HttpResponse:
    item = get_scoped_or_404(ServiceItem.objects.all(), request.organization, pk=item_id)
    return _edit(request, "service", item)


@staff_required(Perm.MANAGE_SETTINGS)
def catalog_part_new(request: StaffRequest) -> HttpResponse:
    return _edit(request, "part", None)


@staff_required(Perm.MANAGE_SETTINGS)
def catalog_part_edit(request: StaffRequest, part_id: int) -> HttpResponse:
    part = get_scoped_or_404(Part.objects.all(), request.organization, pk=part_id)
    return _edit(request, "part", part)
