"""Catalog pages for the store manager: service items, parts and each shop's own prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from huitou.service import selectors
from huitou.service.forms_orders import PartForm, ServiceItemForm
from huitou.service.models import Category, Part, ServiceItem, ShopPrice
from huitou.service.services import catalog as services
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.middleware import user_shops
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors

HUNDRED = Decimal(100)


@staff_required(Perm.MANAGE_SETTINGS)
def catalog_list(request: HttpRequest) -> HttpResponse:
    """Services by category and parts, with prices, intervals, margins and shop prices.

    Queries: session, user (+organization), services, parts, shop prices
    (+ shop), the user's shops (switcher).
    """
    org = request.organization  # type: ignore[attr-defined]
    services_ = list(selectors.service_items(org, active_only=False))
    parts_ = list(selectors.parts(org, active_only=False))
    overrides: dict[tuple[str, int], list[ShopPrice]] = {}
    for sp in ShopPrice.objects.for_org(org).select_related("shop").order_by("shop_id"):
        key = ("service", sp.service_id) if sp.service_id else ("part", sp.part_id)
        overrides.setdefault(key, []).append(sp)  # type: ignore[arg-type]
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


def _shop_prices(request: HttpRequest, lookup: dict[str, Any]) -> dict[int, Decimal]:
    org = request.organization  # type: ignore[attr-defined]
    return dict(ShopPrice.objects.for_org(org).filter(**lookup).values_list("shop_id", "price"))


def _save_shop_prices(form: ServiceItemForm | PartForm, item: ServiceItem | Part, current: dict[int, Decimal]) -> None:
    for shop, price in form.shop_prices():
        if price == current.get(shop.pk):
            continue
        try:
            services.shop_price_set(shop=shop, item=item, price=price)
        except ValidationError as exc:
            raise ValidationError({f"shop_price_{shop.pk}": exc.messages}) from exc


def _edit(request: HttpRequest, kind: str, item: ServiceItem | Part | None) -> HttpResponse:
    org = request.organization  # type: ignore[attr-defined]
    title = str(item) if item is not None else ""  # before a refused save changes the object in memory
    form_class = ServiceItemForm if kind == "service" else PartForm
    current = _shop_prices(request, {kind: item}) if item else {}
    initial = {name: getattr(item, name) for name in form_class.base_fields if item is not None}
    form = form_class(
        request.POST if request.method == "POST" else None,
        shops=user_shops(request),
        shop_prices=current,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        target = item
        try:
            with transaction.atomic():
                if kind == "service":
                    target = services.service_item_save(organization=org, data=form.service_data(), item=item)  # type: ignore[arg-type]
                else:
                    target = services.part_save(organization=org, data=form.service_data(), part=item)  # type: ignore[arg-type]
                _save_shop_prices(form, target, current)  # type: ignore[arg-type]
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": target})
            return redirect("service:catalog_list")
    return render(request, "service/catalog_form.html", {"form": form, "kind": kind, "item": item, "title": title})


@staff_required(Perm.MANAGE_SETTINGS)
def catalog_service_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, "service", None)


@staff_required(Perm.MANAGE_SETTINGS)
def catalog_service_edit(request: HttpRequest, item_id: int) -> HttpResponse:
    item = get_scoped_or_404(ServiceItem.objects.all(), request.organization, pk=item_id)  # type: ignore[attr-defined]
    return _edit(request, "service", item)


@staff_required(Perm.MANAGE_SETTINGS)
def catalog_part_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, "part", None)


@staff_required(Perm.MANAGE_SETTINGS)
def catalog_part_edit(request: HttpRequest, part_id: int) -> HttpResponse:
    part = get_scoped_or_404(Part.objects.all(), request.organization, pk=part_id)  # type: ignore[attr-defined]
    return _edit(request, "part", part)
