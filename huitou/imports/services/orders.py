"""Imported visits as paid orders of the catalog: a customer sheet's last service, a service history sheet.

An order is dated at noon of the sheet's day, numbered ``YYYYMMDD-NNNN``
after the numbers that day already has (under the organization's lock, as
``order_open`` numbers), paid, with one line of the catalog's item. The
orders of a batch are written at once (``bulk.insert_rows``), with their
lines and, for an amount, a cash payment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.db.models.functions import Left, Length

from huitou.analytics.facts import customer_days, days_mark, first_visit_days
from huitou.audit.models import ChangeEntry
from huitou.customers.models import MileageReading, Vehicle
from huitou.customers.services import mileage_record
from huitou.imports import errors
from huitou.imports.models import ImportJob, ImportKind
from huitou.imports.services.history import ENTRY_COLUMNS, entry_row
from huitou.imports.services.plan import BatchResult, RunState, local_noon
from huitou.imports.services.rows import Row
from huitou.lib.bulk_rows import insert_rows
from huitou.lib.money import line_amount
from huitou.lifecycle.services.stages import stage_on_paid_order
from huitou.service.models import OrderLine, OrderState, Payment, PaymentMethod, ServiceItem, ServiceOrder
from huitou.service.services.orders import customer_visits_refresh, order_number
from huitou.tenancy.models import Organization, Shop, User

ZERO = Decimal("0.00")
ONE = Decimal(1)
_PREFIX = len(order_number(dt.date(2000, 1, 1), 0)) - 4  # "YYYYMMDD-"


@dataclass
class OrderSpec:
    """One imported visit: the row, its car and owner, the item, the amount, the odometer reading."""

    row: Row
    day: dt.date
    vehicle_id: int
    customer_id: int
    plate: str
    item: ServiceItem
    amount: Decimal = ZERO
    reading_id: int | None = None
    km: int | None = None


class OrderNumbers:
    """Order numbers of past days: the next ``YYYYMMDD-NNNN`` of each day, read once per run and day.

    The days a run has numbered are kept (``RunState.order_numbers``); only a day seen for the first
    time is read: the longest, then greatest number of the day (``order_open``'s rule), one row per
    day. Before a batch's numbers are used, one read by the unique index tells whether another
    writer (at the counter, another import) took one of them since; then the batch's days are read
    again and the numbers taken afresh.
    """

    def __init__(self, organization_id: int, days: set[dt.date], known: dict[dt.date, int]) -> None:
        self.organization_id = organization_id
        self.known = known
        self._read({day for day in days if day not in known})

    def _read(self, days: set[dt.date]) -> None:
        prefixes = {order_number(day, 0)[:_PREFIX]: day for day in days}
        if not prefixes:
            return
        for day in days:
            self.known[day] = 1
        condition = Q()
        for prefix in prefixes:
            condition |= Q(number__startswith=prefix)
        last: dict[str, list[tuple[int, str]]] = {}
        for prefix, size, number in (
            ServiceOrder.objects.for_org(self.organization_id)
            .filter(condition)
            .annotate(prefix=Left("number", _PREFIX), size=Length("number"))
            .values("prefix", "size")
            .annotate(last=Max("number"))
            .values_list("prefix", "size", "last")
        ):
            last.setdefault(prefix, []).append((size, number))
        for prefix, numbers in last.items():
            of_day = prefixes.get(prefix)
            for _size, number in sorted(numbers, reverse=True):
                sequence = number[_PREFIX:]
                if of_day is not None and sequence.isdigit():
                    self.known[of_day] = int(sequence) + 1
                    break

    def take_all(self, days: Sequence[dt.date]) -> list[str]:
        """The numbers of orders on ``days`` (in order), none of them taken."""
        start = {day: self.known[day] for day in set(days)}
        numbers = [self._take(day) for day in days]
        taken = ServiceOrder.objects.for_org(self.organization_id).filter(number__in=numbers).exists()
        if not taken:
            return numbers
        self.known.update(start)
        self._read(set(days))
        return [self._take(day) for day in days]

    def _take(self, day: dt.date) -> str:
        sequence = self.known[day]
        self.known[day] = sequence + 1
        return order_number(day, sequence)


def _shop_id(job: ImportJob) -> int:
    if job.shop_id is not None:
        return job.shop_id
    shop_id = Shop.objects.for_org(job.organization_id).order_by("pk").values_list("pk", flat=True).first()
    assert shop_id is not None, "an organization has a shop"
    return shop_id


ORDER_COLUMNS = (
    "organization_id",
    "shop_id",
    "number",
    "customer_id",
    "vehicle_id",
    "mileage_id",
    "mileage_km",
    "description",
    "advisor_id",
    "state",
    "lines_total",
    "total",
    "amount_paid",
    "opened_at",
    "completed_at",
    "paid_at",
    "created_by_id",
)
LINE_COLUMNS = (
    "organization_id",
    "order_id",
    "kind",
    "service_id",
    "name",
    "quantity",
    "unit_price",
    "discount",
    "amount",
)
PAYMENT_COLUMNS = ("organization_id", "order_id", "method", "amount", "reference", "received_by_id", "at")


def paid_orders(
    job: ImportJob,
    specs: Sequence[OrderSpec],
    state: RunState,
    by: User,
    now: dt.datetime,
    entries: list[tuple[Any, ...]] | None,
) -> list[int]:
    """Paid orders of one service line each, dated by the rows; a payment for those with an amount.
    With ``entries``, each order's history entry is added to it. Returns the orders' ids."""
    if not specs:
        return []
    org = job.organization_id
    # An older visit can become a file's first: the day that was its first is counted again.
    first_days = first_visit_days(org, {spec.customer_id for spec in specs})
    # Numbers of a day are taken under the organization's lock, as ``order_open`` takes them.
    Organization.objects.select_for_update().filter(pk=org).first()
    numbers = OrderNumbers(org, {spec.day for spec in specs}, state.order_numbers).take_all([s.day for s in specs])
    shop_id = _shop_id(job)
    describe = job.kind == ImportKind.ORDERS
    orders = []
    for spec, number in zip(specs, numbers, strict=True):
        at = local_noon(spec.day)
        amount = spec.amount
        orders.append(
            (
                org,
                shop_id,
                number,
                spec.customer_id,
                spec.vehicle_id,
                spec.reading_id,
                spec.km,
                spec.row.values.get("notes", "") if describe else "",
                by.pk,
                OrderState.PAID,
                amount,
                amount,
                amount,
                at,
                at,
                at,
                by.pk,
            )
        )
    ids = insert_rows(ServiceOrder, ORDER_COLUMNS, orders)
    lines = []
    payments = []
    for order_id, spec, order in zip(ids, specs, orders, strict=True):
        amount = spec.amount
        lines.append(
            (org, order_id, OrderLine.Kind.SERVICE, spec.item.pk, spec.item.name, ONE, amount, ZERO)
            + (line_amount(ONE, amount, ZERO),)
        )
        if amount:
            payments.append((org, order_id, PaymentMethod.CASH, amount, f"import #{job.pk}", by.pk, order[13]))
        if entries is not None:
            changes = {"number": [None, order[2]], "plate": [None, spec.plate], "mileage": [None, spec.km]}
            entries.append(
                entry_row(
                    job,
                    "serviceorder",
                    order_id,
                    spec.customer_id,
                    ChangeEntry.Action.CREATED,
                    changes,
                    by,
                    now,
                    spec.row.number,
                )
            )
    insert_rows(OrderLine, LINE_COLUMNS, lines)
    insert_rows(Payment, PAYMENT_COLUMNS, payments)
    # The dashboard's daily facts are counted again: the days of these customers' orders (the
    # imported ones, and the later ones whose previous visit an older one can become) and of the
    # visits that were their first.
    days_mark(org, customer_days(org, {spec.customer_id for spec in specs}) | first_days)
    return ids


def orders_batch(
    job: ImportJob, rows: Sequence[Row], state: RunState, by: User, write: bool, now: dt.datetime
) -> BatchResult:
    """A batch of a service history sheet: a paid order per row of a car on file and a catalog item;
    a visit already on file (same car, day and item) is skipped."""
    org = job.organization
    result = BatchResult()
    plates = {r.values["plate"] for r in rows if r.ok}
    by_plate = {v.plate: v for v in Vehicle.objects.for_org(org).active().filter(plate__in=plates)} if plates else {}
    days = [local_noon(r.values["date"]) for r in rows if r.ok]
    done: set[tuple[int, dt.datetime, int]] = set()
    if days and by_plate:
        done = set(
            OrderLine.objects.for_org(org)
            .filter(
                order__vehicle__in=list(by_plate.values()),
                order__opened_at__gte=min(days),
                order__opened_at__lte=max(days),
                service__isnull=False,
            )
            .values_list("order__vehicle_id", "order__opened_at", "service_id")
        )
    specs: list[tuple[OrderSpec, Vehicle]] = []
    for row in rows:
        if not row.ok:
            result.failed += 1
            result.refused.append(row)
            continue
        v = row.values
        vehicle = by_plate.get(v["plate"])
        item = state.item(org, v["service_item"])
        if vehicle is None:
            row.refuse("plate", errors.VEHICLE_UNKNOWN)
        if item is None:
            row.refuse("service_item", errors.ITEM_UNKNOWN)
        if vehicle is None or item is None:
            result.failed += 1
            result.refused.append(row)
            continue
        key = (vehicle.pk, local_noon(v["date"]), item.pk)
        if key in done:
            result.skipped += 1
            continue
        done.add(key)
        spec = OrderSpec(row, v["date"], vehicle.pk, vehicle.customer_id, vehicle.plate, item, v.get("amount") or ZERO)
        specs.append((spec, vehicle))
    if not write or not specs:
        result.created += len(specs)
        return result
    written: list[OrderSpec] = []
    for spec, vehicle in specs:
        if spec.row.values.get("mileage") is not None:
            try:
                with transaction.atomic():
                    reading = mileage_record(
                        vehicle=vehicle,
                        km=spec.row.values["mileage"],
                        by=by,
                        read_at=local_noon(spec.day),
                        source=MileageReading.Source.IMPORT,
                        now=now,
                    )
            except ValidationError as exc:
                spec.row.refuse_service(exc)
                result.failed += 1
                result.refused.append(spec.row)
                continue
            spec.reading_id, spec.km = reading.pk, reading.km
        written.append(spec)
    entries: list[tuple[Any, ...]] = []
    paid_orders(job, written, state, by, now, entries)
    insert_rows(ChangeEntry, ENTRY_COLUMNS, entries)
    firsts: dict[int, OrderSpec] = {}
    for spec in sorted(written, key=lambda s: s.day):
        firsts.setdefault(spec.customer_id, spec)
    for spec in firsts.values():
        customer_visits_refresh(organization_id=job.organization_id, customer_id=spec.customer_id)
        stage_on_paid_order(
            organization_id=job.organization_id, customer_id=spec.customer_id, paid_at=local_noon(spec.day), by=by
        )
    result.created += len(written)
    return result
