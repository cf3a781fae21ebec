"""Millions of paid orders with their lines and payments, written directly (PostgreSQL COPY).

The bills are the demo's kinds of work (``huitou.demo.orders``) at the
starter catalog's prices; line amounts come from ``huitou.lib.money.line_amount``,
order numbers from ``huitou.service.services.orders``' own format, and every
customer's visit count, lifetime spend and first and last visit are set
with one UPDATE that ``bench/bulkload/tests`` compares with the service's
``customer_visits_refresh``. No change history is written.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from bulkload.tables import DeferredIndexes, TableWriter
from huitou.customers.models import Customer, Stage, Vehicle
from huitou.demo.generator import DemoRandom, Weighted
from huitou.demo.orders import (
    DEFAULT_DISCOUNT_SHARE,
    HISTORY_DAYS,
    MAJOR,
    MINOR,
    MINOR_SYNTHETIC,
    ONE,
    OPENS,
    PAYMENT_WEIGHTS,
    SPLIT_SHARE,
    ZERO,
    catalog_and_hours,
)
from huitou.lib.money import line_amount
from huitou.lifecycle.models import StageChange
from huitou.service.models import OrderLine, OrderState, Part, Payment, PaymentMethod, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_number
from huitou.tenancy.models import Organization, User


@dataclass
class BulkStats:
    orders: int = 0
    lines: int = 0
    payments: int = 0
    seconds: float = 0.0
    rebuild_seconds: float = 0.0
    visits_seconds: float = 0.0


@dataclass(frozen=True)
class _Template:
    """One kind of bill: its lines as (kind, item id, name, quantity, unit price, unit cost, hours)."""

    lines: tuple[tuple[str, int, str, Decimal, Decimal, Decimal | None], ...]
    minutes: int
    mileage: bool
    weight: int


# (service and parts) per bill kind, weight, with an odometer reading
BULK_BILLS: tuple[tuple[tuple[tuple[str, tuple[tuple[str, int], ...]], ...], int, bool], ...] = (
    ((MINOR,), 22, True),
    ((MINOR_SYNTHETIC, ("D01", ())), 12, True),
    ((MAJOR, ("M03", (("P005", 1),))), 8, True),
    ((MINOR, ("T03", ())), 5, True),
    ((("R01", (("P007", 1),)),), 4, True),
    ((("R03", (("P011", 1),)),), 3, True),
    ((("R04", (("P012", 1),)),), 3, True),
    ((("R05", ()), ("M03", (("P005", 1),))), 3, True),
    ((("T01", ()), ("T02", (("P015", 2),))), 2, True),
    ((("M04", (("P009", 1),)), ("M07", (("P013", 1),))), 2, True),
    ((("I03", ()), ("T03", ())), 3, True),
    ((("D01", ()),), 16, False),
    ((("D02", (("P018", 1),)),), 8, False),
    ((("D03", (("P017", 1),)),), 4, False),
    ((("D05", ()),), 2, False),
    ((("D06", ()),), 1, False),
    ((("R07", ()),), 2, False),
)
BULK_CHUNK = 20_000  # customers per chunk
PAYING_STAGES = (Stage.CUSTOMER, Stage.MEMBER, Stage.DORMANT, Stage.LOST)
MANY_ORDERS_EVERY = 100_000  # every so many customers, a fleet customer with ...
MANY_ORDERS = 300  # ... this many orders (the customer file at its worst)


def _templates(services: dict[str, ServiceItem], parts: dict[str, Part]) -> list[_Template]:
    templates = []
    for work, weight, mileage in BULK_BILLS:
        lines: list[tuple[str, int, str, Decimal, Decimal, Decimal | None]] = []
        minutes = 20
        for code, used in work:
            service = services[code]
            lines.append(("service", service.pk, service.name, ONE, service.labour_price, None))
            minutes += int(service.standard_hours * 60)
            for part_code, qty in used:
                part = parts[part_code]
                lines.append(("part", part.pk, part.name, Decimal(qty), part.sale_price, part.cost))
        templates.append(_Template(tuple(lines), minutes, mileage, weight))
    return templates


def bulk_orders(
    *,
    organization: Organization,
    staff: Mapping[str, User],
    per_customer: float,
    seed: int,
    now: dt.datetime | None = None,
    log: Callable[[str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BulkStats:
    """About ``per_customer`` paid orders per customer with a vehicle, over the last two years.

    Only files that paid get orders, as their lifecycle tells: the first is
    paid at the file's ``converted_at`` (so the first paid order and the
    conversion agree); a dormant or lost file's last is its last visit (its
    vehicles' latest reading), when the daily check started counting; the
    others fall between, or up to yesterday for the others. Files without a
    conversion date but of a paying stage (loaded before there was a
    lifecycle) get orders from their vehicles' registration on, and their
    conversion and intent dates from their first paid order afterwards.

    Runs in the caller's transaction. Loads into service order tables no
    bigger than the load drop their secondary indexes and foreign keys first
    and rebuild them at the end (PostgreSQL).
    """
    stats = BulkStats()
    started = time.monotonic()
    now = timezone.localtime(now or timezone.now())
    org_id = organization.pk
    shops = catalog_and_hours(organization=organization)
    services = {s.code: s for s in ServiceItem.objects.for_org(org_id)}
    parts = {p.code: p for p in Part.objects.for_org(org_id)}
    templates = _templates(services, parts)
    pick = Weighted([(t, t.weight) for t in templates])
    payment = Weighted(PAYMENT_WEIGHTS)
    rnd = DemoRandom(seed * 7919 + 29)
    advisors = [staff["advisor"].pk, staff["owner"].pk]
    technicians = [staff["tech"].pk, staff["tech"].pk, staff["tech"].pk, staff["owner"].pk]
    writers = {m: TableWriter(m, with_ids=m is ServiceOrder) for m in (ServiceOrder, OrderLine, Payment)}
    tables = [m._meta.db_table for m in writers]
    customers = Customer.objects.for_org(org_id).filter(deleted_at=None)
    without_lifecycle = ~Exists(StageChange.objects.for_org(org_id).filter(customer_id=OuterRef("pk")))
    buyers = customers.filter(Q(converted_at__isnull=False) | (Q(stage__in=PAYING_STAGES) & without_lifecycle))
    with_vehicles = (
        Vehicle.objects.for_org(org_id)
        .filter(deleted_at=None, customer__in=buyers)
        .values("customer_id")
        .distinct()
        .count()
    )
    total_customers = customers.count()
    mean = per_customer * total_customers / max(with_vehicles, 1)
    expected = int(per_customer * total_customers)
    existing = ServiceOrder.objects.for_org(org_id).count()
    deferred = None
    if connection.vendor == "postgresql" and expected >= 50_000 and existing <= expected:
        deferred = DeferredIndexes(tables)
        if log:
            log("Loading orders without indexes and foreign keys (rebuilt at the end); the order tables are locked.")
        deferred.drop()
    numbers = _day_numbers(org_id)
    first_day = now.date() - dt.timedelta(days=HISTORY_DAYS)
    last_day = now.date() - dt.timedelta(days=1)
    tz = now.tzinfo
    bounds = customers.order_by("pk").values_list("pk", flat=True)
    low = bounds.first() or 0
    high = customers.order_by("-pk").values_list("pk", flat=True).first() or -1
    position = 0
    for chunk_low in range(low, high + 1, BULK_CHUNK):
        vehicles = list(
            Vehicle.objects.for_org(org_id)
            .filter(deleted_at=None, customer_id__gte=chunk_low, customer_id__lt=chunk_low + BULK_CHUNK)
            .order_by("customer_id", "pk")
            .values_list("pk", "customer_id", "purchase_date", "created_at", "mileage_km", "mileage_at")
        )
        by_customer: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in vehicles:
            by_customer[row[1]].append(row)
        paying = dict(buyers.filter(pk__gte=chunk_low, pk__lt=chunk_low + BULK_CHUNK).values_list("pk", "converted_at"))
        quiet = set(
            customers.filter(
                pk__gte=chunk_low, pk__lt=chunk_low + BULK_CHUNK, stage__in=(Stage.DORMANT, Stage.LOST)
            ).values_list("pk", flat=True)
        )
        orders, lines, payments = [], [], []
        # (customer, car, opened, bill, paid): paid is given for the first order, opened for the others.
        planned: list[tuple[int, tuple[Any, ...], dt.datetime | None, _Template, dt.datetime | None]] = []
        for customer_id, cars in by_customer.items():
            if customer_id not in paying:
                continue
            position += 1
            count = MANY_ORDERS if position % MANY_ORDERS_EVERY == 0 else int(rnd.expovariate(1 / mean) + 0.5)
            converted = paying[customer_id]
            end = last_day
            latest = max((car[5] for car in cars if car[5] is not None), default=None)
            if customer_id in quiet and latest is not None:
                end = timezone.localtime(latest).date() - dt.timedelta(days=1)
                if converted is None or latest > converted:
                    planned.append((customer_id, rnd.choice(cars), latest, pick(rnd), None))
                    count -= 1
            if converted is not None:
                planned.append((customer_id, rnd.choice(cars), None, pick(rnd), converted))
                count -= 1
            for _n in range(count):
                car = rnd.choice(cars)
                start = max(first_day, car[3].date() if car[3] else first_day)
                if converted is not None:
                    start = max(start, timezone.localtime(converted).date() + dt.timedelta(days=1))
                span = (end - start).days
                if span < 0:
                    continue
                day = start + dt.timedelta(days=rnd.randint(0, span))
                opened = dt.datetime.combine(day, OPENS, tzinfo=tz) + dt.timedelta(minutes=rnd.randint(0, 540))
                planned.append((customer_id, car, opened, pick(rnd), None))
        ids = writers[ServiceOrder].allocate_ids(len(planned))
        for order_id, (customer_id, car, arrived, template, paid_at) in zip(ids, planned, strict=True):
            work = dt.timedelta(minutes=template.minutes + rnd.randint(0, 40))
            wait = dt.timedelta(minutes=rnd.randint(3, 25))
            if arrived is not None:
                opened = arrived
            else:
                assert paid_at is not None
                opened = paid_at - wait - work
            shop_index = 0 if customer_id % 3 else len(shops) - 1
            day = timezone.localdate(opened)
            day_key = f"{day:%Y%m%d}"
            numbers[day_key] += 1
            total = ZERO
            first = True
            for kind, item_id, name, qty, price, cost in template.lines:
                off = ZERO
                if first and rnd.random() < DEFAULT_DISCOUNT_SHARE:
                    off = (price * Decimal(rnd.choice((10, 15, 20))) / 100).quantize(ONE, ROUND_HALF_UP)
                amount = line_amount(qty, price, off)
                total += amount
                lines.append(
                    {
                        "organization_id": org_id,
                        "order_id": order_id,
                        "kind": kind,
                        "service_id": item_id if kind == "service" else None,
                        "part_id": item_id if kind == "part" else None,
                        "name": name,
                        "quantity": qty,
                        "unit_price": price,
                        "discount": off,
                        "amount": amount,
                        "unit_cost": cost,
                        "technician_id": technicians[int(rnd.random() * 4)] if kind == "service" else None,
                        "created_at": opened,
                    }
                )
                first = False
            completed = opened + work
            paid = completed + wait
            km = _estimated_km(car, opened) if template.mileage else None
            orders.append(
                {
                    "id": order_id,
                    "organization_id": org_id,
                    "shop_id": shops[shop_index].pk,
                    "number": order_number(day, numbers[day_key]),
                    "customer_id": customer_id,
                    "vehicle_id": car[0],
                    "mileage_id": None,
                    "mileage_km": km,
                    "description": "",
                    "advisor_id": advisors[0 if shop_index == 0 else 1],
                    "expected_finish_at": None,
                    "state": OrderState.PAID.value,
                    "void_reason": "",
                    "lines_total": total,
                    "adjustments_total": ZERO,
                    "total": total,
                    "amount_paid": total,
                    "opened_at": opened,
                    "started_at": opened + dt.timedelta(minutes=10),
                    "completed_at": completed,
                    "paid_at": paid,
                    "voided_at": None,
                    "created_by_id": advisors[0 if shop_index == 0 else 1],
                }
            )
            base = {"organization_id": org_id, "order_id": order_id, "reference": "", "at": paid}
            base["received_by_id"] = advisors[0 if shop_index == 0 else 1]
            if total > 100 and rnd.random() < SPLIT_SHARE:
                part = (total / 2).quantize(ONE, ROUND_HALF_UP)
                payments.append({**base, "method": PaymentMethod.CASH.value, "amount": part})
                payments.append({**base, "method": payment(rnd), "amount": total - part})
            else:
                payments.append({**base, "method": payment(rnd), "amount": total})
        writers[ServiceOrder].write(orders)
        writers[OrderLine].write(lines)
        writers[Payment].write(payments)
        stats.orders += len(orders)
        stats.lines += len(lines)
        stats.payments += len(payments)
        if progress:
            progress(stats.orders, expected)
    if deferred:
        if log:
            log(f"Rebuilding {len(deferred.indexes)} indexes and {len(deferred.foreign_keys)} foreign keys ...")
        rebuilt = time.monotonic()
        deferred.rebuild()
        stats.rebuild_seconds = time.monotonic() - rebuilt
    visits = time.monotonic()
    customer_visits_refresh_all(organization_id=org_id)
    customers_converted_from_visits(organization_id=org_id)
    stats.visits_seconds = time.monotonic() - visits
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in [*tables, Customer._meta.db_table]:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    stats.seconds = time.monotonic() - started
    return stats


def _day_numbers(org_id: int) -> defaultdict[str, int]:
    """The last order number used on each day (``YYYYMMDD-NNNN``), to continue from."""
    numbers: defaultdict[str, int] = defaultdict(int)
    for number in ServiceOrder.objects.for_org(org_id).values_list("number", flat=True).iterator():
        day, _dash, sequence = number.partition("-")
        if sequence.isdigit():
            numbers[day] = max(numbers[day], int(sequence))
    return numbers


def _estimated_km(car: tuple[Any, ...], at: dt.datetime) -> int | None:
    """The odometer on ``at``, at the pace of the vehicle's latest reading since purchase."""
    _pk, _customer, purchase, _created, km, read_at = car
    if not km or read_at is None or purchase is None:
        return None
    days = (read_at.date() - purchase).days
    if days <= 0:
        return None
    return max(round(km * (at.date() - purchase).days / days), 0)


def customers_converted_from_visits(*, organization_id: int) -> int:
    """Files that paid but have no conversion date (loaded without a lifecycle): their first paid
    visit is their conversion, and they had reached intent by then at the latest."""
    return (
        Customer.objects.for_org(organization_id)
        .filter(converted_at=None)
        .exclude(first_visit_at=None)
        .update(
            converted_at=F("first_visit_at"), intent_at=Coalesce(Least("intent_at", "first_visit_at"), "first_visit_at")
        )
    )


def customer_visits_refresh_all(*, organization_id: int) -> int:
    """Every customer's visit count, lifetime spend, first and last visit from the paid orders, in bulk.

    The same figures as ``customer_visits_refresh``, for all customers of the
    organization: one UPDATE from the grouped paid orders, and one clearing
    the customers who have none.
    """
    qn = connection.ops.quote_name
    customers, orders = qn(Customer._meta.db_table), qn(ServiceOrder._meta.db_table)
    grouped = (
        "SELECT customer_id, COUNT(*) AS n, SUM(total) AS spend, MIN(paid_at) AS first_at, "  # noqa: S608
        f"MAX(paid_at) AS last_at FROM {orders} WHERE organization_id = %s AND state = %s GROUP BY customer_id"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # SQLite joins a derived table by scanning it for every customer (hours at 100,000):
            # the figures go to a temporary table keyed by customer first.
            cursor.execute(
                "CREATE TEMP TABLE bulk_visits (customer_id INTEGER PRIMARY KEY, n, spend, first_at, last_at)"
            )
            cursor.execute(f"INSERT INTO bulk_visits {grouped}", [organization_id, OrderState.PAID.value])
            source = "bulk_visits"
            params = [organization_id]
        else:
            source, params = f"({grouped})", [organization_id, OrderState.PAID.value, organization_id]
        cursor.execute(
            f"UPDATE {customers} AS c SET visit_count = v.n, lifetime_spend = v.spend, "  # noqa: S608
            "first_visit_at = v.first_at, last_visit_at = v.last_at "
            f"FROM {source} AS v WHERE c.id = v.customer_id AND c.organization_id = %s",
            params,
        )
        updated = cursor.rowcount
        if connection.vendor == "sqlite":  # the customers with no paid order are those not in the table
            cursor.execute(
                f"UPDATE {customers} SET visit_count = 0, lifetime_spend = 0, first_visit_at = NULL, "  # noqa: S608
                "last_visit_at = NULL WHERE organization_id = %s AND visit_count <> 0 AND NOT EXISTS "
                f"(SELECT 1 FROM bulk_visits v WHERE v.customer_id = {customers}.id)",
                [organization_id],
            )
            cursor.execute("DROP TABLE bulk_visits")
            return updated
        cursor.execute(
            f"UPDATE {customers} SET visit_count = 0, lifetime_spend = 0, first_visit_at = NULL, "  # noqa: S608
            "last_visit_at = NULL WHERE organization_id = %s AND visit_count <> 0 AND NOT EXISTS "
            # The organization first: the probe goes down the orders' (organization, customer) index.
            f"(SELECT 1 FROM {orders} o WHERE o.organization_id = %s AND o.customer_id = {customers}.id "
            "AND o.state = %s)",
            [organization_id, organization_id, OrderState.PAID.value],
        )
    return updated
