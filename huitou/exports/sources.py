"""The customer list and the order list as export sources: the pages' filters, the pages' selectors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huitou.customers import selectors as customer_selectors
from huitou.customers.models import Customer, IntentGrade, Stage, Vehicle
from huitou.customers.presentation import phone_for_viewer, visible_phone
from huitou.customers.views import list_filters
from huitou.exports.registry import Column, ExportSource, register
from huitou.lib.sqlite import ids_below
from huitou.service import selectors as service_selectors
from huitou.service.forms_orders import OrderFilterForm
from huitou.service.models import OrderState, ServiceOrder
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm

BATCH = 2000


def local(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored moment as the shop's wall-clock time, without a zone (what a spreadsheet cell holds)."""
    return timezone.localtime(moment).replace(tzinfo=None, microsecond=0) if moment else None


def _int(value: Any) -> int | None:
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() and len(text) < 19 else None


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _in_batches(customers: Any) -> Iterator[list[Customer]]:
    """The list in batches, in the page's order: a queryset streamed, a search result by its own pages."""
    if isinstance(customers, QuerySet):
        yield from batched(customers.iterator(chunk_size=BATCH), BATCH)
        return
    start = 0
    while True:
        rows = customers[start : start + BATCH]
        if rows:
            yield rows
        if len(rows) < BATCH:
            return
        start += BATCH


class CustomerListSource(ExportSource):
    """The customer list (客户列表) under its search box and filters."""

    name = "customers"
    title = _("Customers")
    perm = Perm.VIEW_CUSTOMERS
    columns = (
        Column(_("Customer number"), 10),
        Column(_("Name"), 14),
        Column(_("Phone"), 14),
        Column(_("Stage"), 10),
        Column(_("Intent grade"), 8),
        Column(_("Source"), 12),
        Column(_("Owner"), 12),
        Column(_("Tags"), 20),
        Column(_("Plates"), 20),
        Column(_("Visits"), 8),
        Column(_("Lifetime spend"), 12),
        Column(_("Last visit"), 18),
        Column(_("Registered"), 18),
    )

    def filters(self, params: Mapping[str, Any], *, organization: Organization, viewer: User) -> dict[str, Any]:
        found = list_filters(params)
        # The API's list also filters by intent grade; the page has no such filter and sends none.
        grade = params.get("grade", "")
        if grade in IntentGrade.values:
            found["grade"] = grade
        return {k: v for k, v in found.items() if v not in ("", None)}

    def _customers(self, organization: Organization, filters: Mapping[str, Any]) -> Any:
        args = {k: v for k, v in filters.items() if k != "grade"}
        customers = customer_selectors.customer_list(organization=organization, with_tags=True, **args)
        if filters.get("grade"):
            customers = customers.filter(intent_grade=filters["grade"])
        return customers

    def count(self, *, organization: Organization, viewer: User, filters: Mapping[str, Any]) -> int:
        return int(self._customers(organization, filters).count())

    def rows(self, *, organization: Organization, viewer: User, filters: Mapping[str, Any]) -> Iterator[Sequence[Any]]:
        customers = self._customers(organization, filters)
        if not isinstance(customers, QuerySet):  # a search: at most a few thousand, by its own pages
            for batch in _in_batches(customers):
                yield from (self._row(_as_values(c), viewer) for c in customer_selectors.with_plates(batch))
            return
        # The whole list: plain rows by id, newest first, in the list's own index order (a model
        # instance per row cost ten times the database's work at 100,000 customers).
        rows: QuerySet[Any] = customers.values(*VALUES)
        last: int | None = None
        while True:
            page: list[dict[str, Any]] = list((ids_below(rows, last) if last is not None else rows)[:BATCH])
            if not page:
                return
            if last is not None and page[0]["id"] >= last:  # a database that ignored the bound: never loop
                raise RuntimeError(f"the database returned ids from {page[0]['id']} for a page below {last}")
            plates = _plates(organization, [r["id"] for r in page])
            for row in page:
                yield self._row({**row, "plate_list": plates.get(row["id"], [])}, viewer)
            last = page[-1]["id"]

    @staticmethod
    def _row(c: Mapping[str, Any], viewer: User) -> Sequence[Any]:
        return (
            c["id"],
            c["name"],
            phone_for_viewer(c["phone"], viewer),
            STAGES.get(c["stage"], c["stage"]),
            c["intent_grade"],
            c["source__label"] or "",
            c["owner__display_name"] or c["owner__username"],
            "、".join(c["tag_name_list"] or []),
            "、".join(c["plate_list"]),
            c["visit_count"],
            c["lifetime_spend"],
            local(c["last_visit_at"]),
            local(c["created_at"]),
        )


VALUES = (
    *("id", "name", "phone", "stage", "intent_grade", "source__label", "owner__display_name", "owner__username"),
    *("tag_name_list", "visit_count", "lifetime_spend", "last_visit_at", "created_at"),
)
STAGES = {value: str(label) for value, label in Stage.choices}


def _as_values(c: Customer) -> dict[str, Any]:
    """A customer of a search result as the row ``VALUES`` reads."""
    return {
        **{f: getattr(c, f) for f in VALUES if "__" not in f and f != "tag_name_list"},
        "source__label": c.source.label if c.source else "",
        "owner__display_name": c.owner.display_name,
        "owner__username": c.owner.username,
        "tag_name_list": customer_selectors.tag_names(c),
        "plate_list": c.plate_list,  # type: ignore[attr-defined]
    }


def _plates(organization: Organization, ids: list[int]) -> dict[int, list[str]]:
    """The plates of these customers' active vehicles, oldest first (as ``with_plates``). One query."""
    plates: dict[int, list[str]] = {}
    vehicles = Vehicle.objects.for_org(organization).active().filter(customer_id__in=ids).order_by("pk")
    for customer_id, plate in vehicles.values_list("customer_id", "plate"):
        plates.setdefault(customer_id, []).append(plate)
    return plates


class OrderListSource(ExportSource):
    """The order list (工单): one customer's orders, or a shop's orders of a day; by state."""

    name = "orders"
    title = _("Service orders")
    perm = Perm.VIEW_ORDERS
    columns = (
        Column(_("Order number"), 16),
        Column(_("Opened"), 18),
        Column(_("Shop"), 16),
        Column(_("Plate"), 10),
        Column(_("Vehicle"), 16),
        Column(_("Car owner"), 12),
        Column(_("Phone"), 14),
        Column(_("Service advisor"), 12),
        Column(_("State"), 10),
        Column(_("Total"), 12),
        Column(_("Received"), 12),
        Column(_("Due"), 12),
    )

    def filters(self, params: Mapping[str, Any], *, organization: Organization, viewer: User) -> dict[str, Any]:
        """The page's: ``customer`` (then every order of that customer), else ``shop`` and ``day`` (the
        API calls it ``date``; default today); ``state``. A bad day or state is today and every state,
        as on the page."""
        query = {"day": params.get("day") or params.get("date") or "", "state": params.get("state") or ""}
        day, state = OrderFilterForm(query).values(timezone.localdate())
        found: dict[str, Any] = {"state": state}
        customer_id = _int(params.get("customer"))
        if customer_id:
            found["customer_id"] = customer_id
        else:
            found["shop_id"] = _int(params.get("shop"))
            found["day"] = day.isoformat()
        return {k: v for k, v in found.items() if v not in ("", None)}

    def _orders(self, organization: Organization, filters: Mapping[str, Any]) -> QuerySet[ServiceOrder]:
        if filters.get("customer_id"):
            orders = service_selectors.order_list(organization=organization, customer_id=filters["customer_id"])
        else:
            day = dt.date.fromisoformat(filters["day"])
            orders = service_selectors.order_list(organization=organization, shop_id=filters.get("shop_id"), day=day)
        if filters.get("state"):
            orders = orders.filter(state=filters["state"])
        return orders

    def count(self, *, organization: Organization, viewer: User, filters: Mapping[str, Any]) -> int:
        return self._orders(organization, filters).count()

    def rows(self, *, organization: Organization, viewer: User, filters: Mapping[str, Any]) -> Iterator[Sequence[Any]]:
        states = dict(OrderState.choices)
        orders: Iterable[ServiceOrder] = self._orders(organization, filters).iterator(chunk_size=BATCH)
        for o in orders:
            void = o.state == OrderState.VOID
            yield (
                o.number,
                local(o.opened_at),
                o.shop.name,
                o.vehicle.plate if o.vehicle else "",
                o.vehicle.title if o.vehicle else "",
                o.customer.name,
                visible_phone(o.customer, viewer),
                str(o.advisor) if o.advisor else "",
                str(states.get(o.state, o.state)),
                o.total,
                o.amount_paid,
                None if void else o.amount_due,
            )


register(CustomerListSource())
register(OrderListSource())
