"""Reads of the service domain: catalog, orders, visit history, appointments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.lib.money import round_fen
from huitou.lib.statements import attach_prefetched, cached_rows, tenant_rows
from huitou.service.models import (
    Appointment,
    OrderAdjustment,
    OrderLine,
    Part,
    Payment,
    Recommendation,
    ServiceItem,
    ServiceOrder,
    ShopPrice,
)
from huitou.service.models.catalog import MoneyField
from huitou.tenancy.models import Organization, Shop

Item = TypeVar("Item", ServiceItem, Part)


def service_items(organization: Organization | int, *, active_only: bool = True) -> QuerySet[ServiceItem]:
    items = ServiceItem.objects.for_org(organization).order_by("category", "name")
    return items.filter(is_active=True) if active_only else items


def service_item_list(organization: Organization | int) -> list[ServiceItem]:
    """The active services as a list, from a statement kept per organization (``huitou.lib.statements``):
    an order's page offers them for recommending work."""
    org_id = organization if isinstance(organization, int) else organization.pk
    return cached_rows(("service.service_item_list",), [org_id], lambda values: service_items(values[0]))


def parts(organization: Organization | int, *, active_only: bool = True) -> QuerySet[Part]:
    found = Part.objects.for_org(organization).order_by("name")
    return found.filter(is_active=True) if active_only else found


# --- the shop's price -------------------------------------------------------------------------
# The one definition of "the shop's price": the shop's own price for the item (ShopPrice),
# else the organization's list price (a service's labour price, a part's sale price).


def _priced(items: QuerySet[Item], *, organization_id: int, shop_id: int) -> QuerySet[Item]:
    kind, list_price = ("service", "labour_price") if items.model is ServiceItem else ("part", "sale_price")
    own = (
        ShopPrice.objects.for_org(organization_id).filter(shop_id=shop_id, **{kind: OuterRef("pk")}).values("price")[:1]
    )
    return items.annotate(
        shop_own_price=Subquery(own, output_field=MoneyField()),
        shop_price=Coalesce(Subquery(own), list_price, output_field=MoneyField()),
    )


def with_shop_price(items: QuerySet[Item], *, organization: Organization | int, shop_id: int) -> QuerySet[Item]:
    """``items`` with ``shop_own_price`` (the shop's own price, or None) and ``shop_price``
    (what the shop charges) annotated in the same query, by a subquery on its prices.

    SQLite gives computed decimals unrounded (``Decimal('99')``): pass them through
    ``round_fen`` before showing them, as ``shop_price`` and ``priced_catalog`` do.
    """
    organization_id = organization if isinstance(organization, int) else organization.pk
    return _priced(items, organization_id=organization_id, shop_id=shop_id)


def shop_price(*, shop: Shop | int, item: ServiceItem | Part) -> Decimal:
    """What a shop charges for ``item``: its own price, else the list price (one query)."""
    shop_id = shop if isinstance(shop, int) else shop.pk
    model = type(item)
    found: QuerySet[Any] = _priced(  # rows annotated with shop_price, which the stubs cannot follow
        model.objects.for_org(item.organization_id).filter(pk=item.pk),
        organization_id=item.organization_id,
        shop_id=shop_id,
    )
    return round_fen(found.values_list("shop_price", flat=True).get())


def priced_catalog(*, organization_id: int, shop_id: int) -> tuple[list[ServiceItem], list[Part]]:
    """The active services and parts, each with its ``shop_price`` at the shop (two queries)."""
    services_ = list(_priced(service_items(organization_id), organization_id=organization_id, shop_id=shop_id))
    parts_ = list(_priced(parts(organization_id), organization_id=organization_id, shop_id=shop_id))
    for item in [*services_, *parts_]:
        item.shop_price = round_fen(item.shop_price)  # type: ignore[attr-defined]
    return services_, parts_


def shop_overrides(*, organization: Organization | int, item: ServiceItem | Part) -> dict[int, Decimal]:
    """Each shop's own price of ``item``, by shop id (one query; shops without one are absent)."""
    lookup = {"service": item} if isinstance(item, ServiceItem) else {"part": item}
    return dict(ShopPrice.objects.for_org(organization).filter(**lookup).values_list("shop_id", "price"))


def shop_overrides_by_item(organization: Organization | int) -> dict[tuple[str, int], list[ShopPrice]]:
    """Every shop's own prices, by ``("service", id)`` / ``("part", id)``, with the shop (one query)."""
    found: dict[tuple[str, int], list[ShopPrice]] = {}
    for sp in ShopPrice.objects.for_org(organization).select_related("shop").order_by("shop_id"):
        key = ("service", sp.service_id) if sp.service_id else ("part", sp.part_id)
        found.setdefault(key, []).append(sp)  # type: ignore[arg-type]
    return found


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local day as an aware [start, end) range."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def order_list(
    *,
    organization: Organization | int,
    shop_id: int | None = None,
    day: dt.date | None = None,
    state: str = "",
    customer_id: int | None = None,
) -> QuerySet[ServiceOrder]:
    """Orders, newest first, with customer, vehicle and advisor (one query)."""
    orders = ServiceOrder.objects.for_org(organization)
    if shop_id:
        orders = orders.filter(shop_id=shop_id)
    if day:
        start, end = day_bounds(day)
        orders = orders.filter(opened_at__gte=start, opened_at__lt=end)
    if state:
        orders = orders.filter(state=state)
    if customer_id:
        orders = orders.filter(customer_id=customer_id)
    return orders.select_related("customer", "vehicle", "advisor", "shop").order_by("-opened_at", "-pk")


def order_for_page(*, organization: Organization | int, order_id: int) -> ServiceOrder:
    """An order with everything its page and bill show, in a fixed number of queries.

    1 order (+ shop, customer, vehicle, advisor), 2 lines (+ technician),
    3 payments (+ receiver), 4 adjustments (+ author), 5 recommendations.
    Raises ServiceOrder.DoesNotExist.
    """
    org_id = organization if isinstance(organization, int) else organization.pk

    def order_row(org: int, pk: int) -> QuerySet[ServiceOrder]:
        rows = ServiceOrder.objects.for_org(org).filter(pk=pk)
        return rows.select_related("shop", "customer", "vehicle", "advisor", "organization")

    # Each a statement kept once compiled (huitou.lib.statements), the parts attached as prefetch_related would.
    found = tenant_rows(("service.order_for_page",), org_id, order_id, order_row)
    if not found:
        raise ServiceOrder.DoesNotExist("ServiceOrder matching query does not exist.")
    order = found[0]
    for relation in ORDER_PARTS:
        rows = tenant_rows(("service.order_for_page", relation), org_id, order.pk, ORDER_PARTS[relation])
        attach_prefetched(order, relation, rows)
    return order


def _order_part(
    model: type[Model], related: tuple[str, ...], ordering: tuple[str, ...]
) -> Callable[[int, int], QuerySet[Any]]:
    """The rows of one part of an order (its lines, payments, ...) for ``order_for_page``."""

    def build(org: int, order_id: int) -> QuerySet[Any]:
        rows = model.objects.for_org(org).filter(order_id=order_id)  # type: ignore[attr-defined]
        return rows.select_related(*related).order_by(*ordering)

    return build


ORDER_PARTS = {
    "lines": _order_part(OrderLine, ("technician",), ("pk",)),
    "payments": _order_part(Payment, ("received_by",), ("at", "pk")),
    "adjustments": _order_part(OrderAdjustment, ("author",), ("at", "pk")),
    "recommendations": _order_part(Recommendation, ("recorded_by", "service"), ("pk",)),
}


def visit_history(*, customer: Customer, limit: int = 50) -> list[ServiceOrder]:
    """The customer's orders, newest first, with vehicle and shop (one query, a kept statement:
    ``huitou.lib.statements``)."""

    def build(org: int, pk: int) -> QuerySet[ServiceOrder]:
        rows = ServiceOrder.objects.for_org(org).filter(customer_id=pk).select_related("vehicle", "shop")
        return rows.order_by("-opened_at", "-pk")[:limit]

    return tenant_rows(("service.visit_history", limit), customer.organization_id, customer.pk, build)


def declined_recommendations(*, customer: Customer, limit: int = 20) -> list[Recommendation]:
    """Work the customer said no to, for the follow-up (建议项目未做), the latest ``limit`` (a kept statement)."""

    def build(org: int, pk: int) -> QuerySet[Recommendation]:
        rows = Recommendation.objects.for_org(org).filter(customer_id=pk, status=Recommendation.Status.DECLINED)
        return rows.select_related("vehicle").order_by("-recorded_at", "-pk")[:limit]

    return tenant_rows(("service.declined_recommendations", limit), customer.organization_id, customer.pk, build)


def appointments_between(
    *, organization: Organization | int, shop_id: int, first: dt.date, last: dt.date
) -> QuerySet[Appointment]:
    return (
        Appointment.objects.for_org(organization)
        .filter(shop_id=shop_id, day__gte=first, day__lte=last)
        .select_related("customer", "vehicle", "service")
        .order_by("day", "slot", "pk")
    )


def arrivals_today(*, organization: Organization | int, shop_id: int) -> QuerySet[Appointment]:
    """Today's expected and arrived customers for the front desk."""
    today = timezone.localdate()
    return appointments_between(organization=organization, shop_id=shop_id, first=today, last=today).filter(
        state__in=[Appointment.State.BOOKED, Appointment.State.CONFIRMED, Appointment.State.ARRIVED]
    )
