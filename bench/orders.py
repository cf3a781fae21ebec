"""Service orders at scale: opening and paying an order, the customer file, a busy day's order list.

    .venv/bin/python bench/orders.py [--orders 5000000] [--runs 300] [--database-url URL]

Uses the bench organization of ``bench/search.py`` (default database
``huitou_bench``; build it first with ``bench/search.py``). If it holds fewer
orders than ``--orders``, writes them once with the benchmarks' bulk loader
(``bench/bulkload/orders.py``, ``bulk_orders``: COPY, paid orders with lines and
payments, visit stats updated in bulk) and VACUUM ANALYZEs the tables. Then
it times, with the product's own code and without HTTP:

* opening and paying an order: ``order_open`` (with a mileage reading) +
  2 × ``order_add_line`` + ``order_complete`` + ``order_pay``, each run in a
  transaction of its own as a request would be, rolled back so the data stays
  as it is (the commit itself is not timed);
* the customer file page (``customers:detail`` through the test client, all
  middleware included) for the customers with the most orders, with its
  number of SQL queries;
* the order list of one day of the busiest shop (``service:order_list``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from common import machine, percentile, setup_django

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huitou_bench"
BENCH_PREFIX = "bench_"
SEED = 2026


class Bench:
    def __init__(self, organization: Any) -> None:
        from huitou.tenancy.models import User

        self.organization = organization
        self.staff = {u.username.removeprefix(BENCH_PREFIX): u for u in User.objects.filter(organization=organization)}

    # --- data ---------------------------------------------------------------------------------

    def ensure_orders(self, wanted: int) -> str:
        from bulkload.orders import bulk_orders
        from django.db import connection, transaction

        from huitou.customers.models import Customer
        from huitou.service.models import ServiceOrder
        from huitou.tenancy.scope import unscoped

        have = ServiceOrder.objects.for_org(self.organization).count()
        if have >= wanted * 0.95:
            line = f"reusing {have:,} orders written earlier"
            print(line)
            return line
        if have:
            sys.exit(f"{have:,} orders already, fewer than {wanted:,}: rebuild with bench/search.py --rebuild first")
        customers = Customer.objects.for_org(self.organization).count()
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if done // 500_000 != getattr(progress, "last", -1):
                progress.last = done // 500_000  # type: ignore[attr-defined]
                print(f"  {done:>10,} / ~{total:,} orders  {time.monotonic() - started:7.1f} s", flush=True)

        with unscoped(), transaction.atomic():
            stats = bulk_orders(
                organization=self.organization,
                staff=self.staff,
                per_customer=wanted / customers,
                seed=SEED,
                log=print,
                progress=progress,
            )
        written = time.monotonic() - started
        vacuum = time.monotonic()
        with connection.cursor() as cursor:
            for table in ("service_serviceorder", "service_orderline", "service_payment", "customers_customer"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
        line = (
            f"bulk_orders: {stats.orders:,} paid orders, {stats.lines:,} lines, {stats.payments:,} payments in "
            f"{written:.0f} s, committed (of which {stats.rebuild_seconds:.0f} s rebuilding indexes and foreign "
            f"keys, {stats.visits_seconds:.0f} s updating visit stats); "
            f"VACUUM ANALYZE {time.monotonic() - vacuum:.0f} s"
        )
        print(line)
        return line

    # --- (a) open and pay -----------------------------------------------------------------------

    def open_and_pay(self, runs: int) -> list[float]:
        from django.db import transaction

        from huitou.customers.models import Vehicle
        from huitou.service.models import Part, ServiceItem
        from huitou.service.services.orders import (
            order_add_line,
            order_complete,
            order_open,
            order_pay,
        )
        from huitou.tenancy.models import Shop

        org = self.organization
        shop = Shop.objects.for_org(org).order_by("pk").first()
        service = ServiceItem.objects.for_org(org).get(code="M01")
        part = Part.objects.for_org(org).get(code="P003")
        advisor, tech = self.staff["advisor"], self.staff["tech"]
        vehicles = list(
            Vehicle.objects.for_org(org)
            .filter(deleted_at=None, mileage_km__isnull=False)
            .order_by("pk")[: runs * 50 : 50]
        )
        times = []
        for n in range(runs):
            vehicle = vehicles[n % len(vehicles)]
            started = time.perf_counter()
            with transaction.atomic():
                order = order_open(
                    organization=org,
                    shop=shop,
                    vehicle=vehicle,
                    by=advisor,
                    mileage_km=(vehicle.mileage_km or 0) + 800,
                    description="常规保养",
                )
                order_add_line(order=order, by=advisor, service=service, technician=tech)
                order_add_line(order=order, by=advisor, part=part, quantity=1)
                order_complete(order=order, by=advisor)
                order_pay(order=order, by=advisor, method="wechat", amount=order.amount_due)
                times.append(time.perf_counter() - started)
                transaction.set_rollback(True)  # leave the bench data as it is
        return times

    # --- (b) the customer file, (c) a busy day --------------------------------------------------

    def client(self) -> Any:
        from django.test import Client

        client = Client()
        client.force_login(self.staff["owner"])
        return client

    def pages(self, urls: list[str], rounds: int) -> tuple[list[float], list[int]]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = self.client()
        for url in urls[:3]:  # warm up: templates, the session
            assert client.get(url).status_code == 200, url
        times, queries = [], []
        for _round in range(rounds):
            for url in urls:
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    times.append(time.perf_counter() - started)
                assert response.status_code == 200, (url, response.status_code)
                queries.append(len(captured))
        return times, queries

    def busiest_customers(self, count: int) -> list[tuple[int, int]]:
        from huitou.customers.models import Customer

        return list(
            Customer.objects.for_org(self.organization)
            .order_by("-visit_count", "pk")
            .values_list("pk", "visit_count")[:count]
        )

    def busiest_days(self, count: int) -> list[tuple[Any, int]]:
        from django.db import connection

        from huitou.tenancy.models import Shop

        shop = Shop.objects.for_org(self.organization).order_by("pk").first()
        assert shop is not None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (opened_at AT TIME ZONE current_setting('TimeZone'))::date, COUNT(*) "
                "FROM service_serviceorder WHERE organization_id = %s AND shop_id = %s "
                "AND opened_at > now() - interval '60 days' GROUP BY 1 ORDER BY 2 DESC LIMIT %s",
                [self.organization.pk, shop.pk, count],
            )
            return cursor.fetchall()


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0])


def row(label: str, times: list[float], extra: str = "") -> str:
    p50, p95 = percentile(times, 0.50) * 1000, percentile(times, 0.95) * 1000
    return f"| {label} | {len(times)} | {p50:.1f} ms | {p95:.1f} ms | {extra} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=300, help="orders opened and paid (default 300)")
    parser.add_argument("--customers", type=int, default=20, help="customer files, the busiest (default 20)")
    parser.add_argument("--rounds", type=int, default=10, help="times each page is rendered (default 10)")
    args = parser.parse_args()
    setup_django(args.database_url)

    from django.core.management import call_command
    from django.urls import reverse

    from huitou.customers.models import Customer
    from huitou.demo.models import DemoOrganization
    from huitou.service.models import ServiceOrder

    call_command("migrate", verbosity=0)
    marker = DemoOrganization.objects.filter(user_prefix=BENCH_PREFIX).select_related("organization").first()
    if marker is None:
        sys.exit("No bench organization: run bench/search.py first (it builds 1,000,000 customers).")
    bench = Bench(marker.organization)
    org = marker.organization
    built = bench.ensure_orders(args.orders)
    customers = Customer.objects.for_org(org).count()
    orders = ServiceOrder.objects.for_org(org).count()
    print(f"{customers:,} customers, {orders:,} orders; PostgreSQL {postgres_version()}; {machine()}")

    results: list[tuple[str, list[float], str]] = []
    print(f"(a) opening and paying {args.runs} orders ...", flush=True)
    bench.open_and_pay(20)  # warm up
    results.append(
        (
            "open + 2 lines + complete + pay (one transaction)",
            bench.open_and_pay(args.runs),
            "rolled back, not committed",
        )
    )

    busiest = bench.busiest_customers(args.customers)
    print(f"(b) customer files: {len(busiest)} customers with {busiest[-1][1]}–{busiest[0][1]} orders ...", flush=True)
    urls = [reverse("customers:detail", args=[pk]) for pk, _n in busiest]
    times, queries = bench.pages(urls, args.rounds)
    results.append(
        (
            f"customer file, {busiest[-1][1]}–{busiest[0][1]} orders",
            times,
            f"{min(queries)}–{max(queries)} SQL queries",
        )
    )
    days = bench.busiest_days(5)
    print(f"(c) order lists of {len(days)} days with {days[-1][1]}–{days[0][1]} orders at the shop ...", flush=True)
    urls = [f"{reverse('service:order_list')}?day={day.isoformat()}" for day, _n in days]
    times, queries = bench.pages(urls, args.rounds * 4)
    results.append(
        (
            f"order list of a day, {days[-1][1]:,}–{days[0][1]:,} orders",
            times,
            f"{min(queries)}–{max(queries)} SQL queries",
        )
    )

    print()
    print(built)
    print(f"{customers:,} customers, {orders:,} orders; PostgreSQL {postgres_version()}; {machine()}")
    print()
    print("| what | runs | p50 | p95 | notes |")
    print("|---|---|---|---|---|")
    for label, times, extra in results:
        print(row(label, times, extra))


if __name__ == "__main__":
    main()
