"""Analytics at 1,000,000 customers: the owner's dashboard, the staff ranking, the nightly RFM and grade job.

    .venv/bin/python bench/analytics.py [--runs 20] [--only dsr] [--explain] [--database-url URL]

Uses the bench organization of ``bench/search.py`` with the paid orders of
``bench/orders.py``, the lifecycle of ``bench/lifecycle.py`` and whatever
care tasks ``bench/care.py`` left (default database ``huitou_bench``:
1,000,000 customers, 5,000,000 paid orders with their payments and lines,
follow-ups and follow-up tasks spread over 2,000 front-desk staff). Nothing
is set up: the bench reads what is there and says what it is.

With production settings (``DEBUG=0``), in this process, through
``django.test.Client`` signed in as the organization's store manager (every
middleware, server time, no network), each URL ``--runs`` times after one
untimed request (three times when that one took over fifty times the
target), with the number of SQL statements and their time beside each
figure:

(d) the owner's dashboard, the page ``/analytics/`` and
    ``GET /api/v1/analytics/dashboard``: the last 365 days for all shops and
    for one shop (the one with the most orders), the last 30 days for all;
(s) the staff ranking ``/analytics/staff/`` and ``GET /api/v1/analytics/staff``
    for the last 30 and 365 days;
(r) the nightly RFM and grade job (``scores_refresh_for``, the huey task
    ``scores_refresh_daily`` queues per organization, which ``huitou analytics
    rfm`` also runs) over the whole organization: the first run (no score
    before) and the second run (every customer's row rewritten). Their
    result is the product's own nightly result and stays; when scores are
    there already, the first run deletes them and is rolled back, so the
    scores at the end are always those of a committed run.

``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of the slowest statements of
the year's dashboard (all shops) and of the year's staff ranking.

Targets: the dashboard for a year and all shops p95 ≤ 300 ms (the other
ranges and the shop are held to it too); the staff ranking ≤ 200 ms; the
RFM and grade job ≤ 120 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import sys
import time
import warnings
from typing import Any

from care import Statements, Timed, postgres_version, timed_row
from common import machine, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huitou_bench"
BENCH_PREFIX = "bench_"
DASHBOARD_TARGET_MS = 300.0
STAFF_TARGET_MS = 200.0
JOB_TARGET_S = 120.0
SLOWEST = 4  # statements shown per explained request
FAR_OVER, FEW_RUNS = 50, 3  # a URL over fifty times its target is timed three times only


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


# --- the data --------------------------------------------------------------------------------


def data_summary(org: Any, today: dt.date) -> list[str]:
    """What the figures read: customers, the year's orders and payments, lines, the staff's work, scores."""
    from django.db import connection
    from django.utils import timezone

    year = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=364), dt.time.min))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE deleted_at IS NULL), count(*) FILTER (WHERE first_visit_at >= %s), "
            "count(DISTINCT owner_id) FROM customers_customer WHERE organization_id = %s",
            [year, org.pk],
        )
        customers, new, owners = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE state = 'paid' AND paid_at >= %s) "
            "FROM service_serviceorder WHERE organization_id = %s",
            [year, org.pk],
        )
        orders, orders_year = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE at >= %s) FROM service_payment WHERE organization_id = %s",
            [year, org.pk],
        )
        payments, payments_year = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM service_orderline WHERE organization_id = %s", [org.pk])
        lines = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE closed_at >= %s) FROM lifecycle_followuptask "
            "WHERE organization_id = %s",
            [year, org.pk],
        )
        tasks, tasks_year = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE at >= %s) FROM lifecycle_followup WHERE organization_id = %s",
            [year, org.pk],
        )
        followups, followups_year = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE closed_at >= %s) FROM care_caretask WHERE organization_id = %s",
            [year, org.pk],
        )
        care, care_year = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM analytics_customerscore WHERE organization_id = %s", [org.pk])
        scores = cursor.fetchone()[0]
    return [
        f"{customers:,} customers ({new:,} with a first paid visit in the last 365 days) owned by {owners:,} staff; "
        f"{orders:,} orders ({orders_year:,} paid in the last 365 days), {payments:,} payments ({payments_year:,} "
        f"in the last 365 days), {lines:,} order lines; {followups:,} follow-ups ({followups_year:,} in the year), "
        f"{tasks:,} follow-up tasks ({tasks_year:,} closed in the year), {care:,} care tasks ({care_year:,} closed "
        f"in the year); {scores:,} customer scores at the start",
    ]


# --- the pages -------------------------------------------------------------------------------


def timed(client: Any, url: str, runs: int, target: float) -> tuple[list[float], list[int], list[float], Statements]:
    """``url`` ``runs`` times after one untimed request: server time, SQL count, SQL time; the last
    request's statements (for ``--explain``). Only ``FEW_RUNS`` when the untimed request took more than
    ``FAR_OVER`` times the target (ms)."""
    from django.db import connection

    started = time.perf_counter()
    response = client.get(url)
    first = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    if first * 1000 > FAR_OVER * target:
        runs = min(runs, FEW_RUNS)  # minutes a request: the order of magnitude is the figure
    times, queries, sql = [], [], []
    statements = Statements()
    for _run in range(runs):
        statements = Statements()
        with connection.execute_wrapper(statements):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        queries.append(len(statements.log))
        sql.append(sum(seconds for seconds, _sql, _params in statements.log))
    return times, queries, sql, statements


def explain(label: str, statements: Statements) -> None:
    from django.db import connection

    for seconds, sql, params in statements.slowest(SLOWEST):
        if seconds < 0.02 or not sql.lstrip().upper().startswith("SELECT"):
            continue
        print(f"\n--- {label}: {seconds * 1000:.0f} ms\n{sql}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            for (line,) in cursor.fetchall():
                print(line)


def busiest_shop(org: Any, since: dt.date) -> tuple[int, str]:
    from django.db.models import Count

    from huitou.service.models import OrderState, ServiceOrder
    from huitou.tenancy.models import Shop

    rows = (
        ServiceOrder.objects.for_org(org)
        .filter(state=OrderState.PAID, paid_at__date__gte=since)
        .values("shop_id")
        .annotate(n=Count("pk"))
        .order_by("-n")[:1]
    )
    shops = Shop.objects.for_org(org)
    shop_id = rows[0]["shop_id"] if rows else shops.order_by("pk").values_list("pk", flat=True)[0]
    return shop_id, shops.get(pk=shop_id).name


def pages(org: Any, manager: Any, today: dt.date, runs: int, only: str, do_explain: bool) -> list[Timed]:
    from django.test import Client

    client = Client()
    client.force_login(manager)
    year = (today - dt.timedelta(days=364)).isoformat()
    month = (today - dt.timedelta(days=29)).isoformat()
    to = today.isoformat()
    shop_id, shop_name = busiest_shop(org, today - dt.timedelta(days=364))
    cases: list[tuple[str, str, str, float]] = []
    if "d" in only:
        for what, query in (
            ("365 days, all shops", f"from={year}&to={to}"),
            (f"365 days, one shop ({shop_name})", f"from={year}&to={to}&shop={shop_id}"),
            ("30 days, all shops", f"from={month}&to={to}"),
        ):
            cases.append((f"(d) page /analytics/, {what}", f"/analytics/?{query}", what, DASHBOARD_TARGET_MS))
            cases.append(
                (
                    f"(d) GET /api/v1/analytics/dashboard, {what}",
                    f"/api/v1/analytics/dashboard?{query}",
                    what,
                    DASHBOARD_TARGET_MS,
                )
            )
    if "s" in only:
        for what, query in (("30 days", f"from={month}&to={to}"), ("365 days", f"from={year}&to={to}")):
            cases.append(
                (f"(s) ranking /analytics/staff/, {what}", f"/analytics/staff/?{query}", what, STAFF_TARGET_MS)
            )
            cases.append(
                (f"(s) GET /api/v1/analytics/staff, {what}", f"/api/v1/analytics/staff?{query}", what, STAFF_TARGET_MS)
            )
    results = []
    explained: set[str] = set()
    for label, url, _what, target in cases:
        times, queries, sql, last = timed(client, url, runs, target)
        results.append(Timed(label, times, queries, sql, f"load average {load()}", target))
        print("  " + timed_row(results[-1]), flush=True)
        kind = label[:3]
        if do_explain and "365 days" in label and kind not in explained and "one shop" not in label:
            explained.add(kind)
            explain(label, last)
    return results


# --- the nightly job -------------------------------------------------------------------------


def job_run(org: Any, label: str) -> tuple[str, float, int, Statements]:
    from django.db import connection

    from huitou.analytics.tasks import scores_refresh_for

    statements = Statements()
    started = time.perf_counter()
    with connection.execute_wrapper(statements):
        rows = scores_refresh_for.call_local(org.pk)
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.1f} s, {rows:,} customers scored, {len(statements.log)} statements", flush=True)
    for seconds_, sql, _params in statements.slowest(SLOWEST):
        print(f"      {seconds_:8.1f} s  {' '.join(sql.split())[:150]}")
    return label, seconds, rows, statements


def nightly(org: Any) -> list[tuple[str, float, int, str]]:
    """(r): the first run from no score, then the second over the first's rows (committed)."""
    from django.db import connection, transaction

    from huitou.analytics.models import CustomerScore

    runs = []
    had = CustomerScore.objects.for_org(org).count()
    if had:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM analytics_customerscore WHERE organization_id = %s", [org.pk])
            label, seconds, rows, _s = job_run(org, "(r) first run, no score before")
            runs.append((label, seconds, rows, f"{had:,} scores deleted first; rolled back; load average {load()}"))
            transaction.set_rollback(True)
    else:
        label, seconds, rows, _s = job_run(org, "(r) first run, no score before")
        runs.append((label, seconds, rows, f"committed; load average {load()}"))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) analytics_customerscore")
    label, seconds, rows, _s = job_run(org, "(r) second run, every row there")
    runs.append((label, seconds, rows, f"committed; load average {load()}"))
    return runs


def facts_prepare(org: Any, rebuild: bool) -> list[tuple[str, float, int, str]]:
    """(f): the daily facts of the whole history and the owners' files computed (``huitou analytics
    facts``) when there are none yet (the bulk loaders write around the services) or with
    ``--rebuild-facts``; then one day marked stale and refreshed, what the task after each payment does."""
    from django.utils import timezone

    from huitou.analytics.facts import days_mark, facts_rebuild, facts_refresh
    from huitou.analytics.models import DayFact
    from huitou.analytics.staff_facts import owner_files_rebuild

    runs = []
    if rebuild or not DayFact.objects.for_org(org).exists():
        started = time.perf_counter()
        days = facts_rebuild(org.pk)
        owner_files_rebuild(org.pk)
        seconds = time.perf_counter() - started
        print(f"  (f) facts of the whole history: {seconds:.1f} s, {days:,} days", flush=True)
        runs.append(
            ("(f) every day's facts computed (huitou analytics facts)", seconds, days, f"load average {load()}")
        )
    for label, day_count in (("(f) today marked stale, refreshed", 1), ("(f) a month marked stale, refreshed", 30)):
        today = timezone.localdate()
        timings = []
        for _run in range(5):
            days_mark(org.pk, [today - dt.timedelta(days=n) for n in range(day_count)])
            started = time.perf_counter()
            facts_refresh(org.pk)
            timings.append(time.perf_counter() - started)
        seconds = statistics.median(timings)
        print(f"  {label}: {seconds * 1000:.0f} ms (median of 5)", flush=True)
        runs.append((label, seconds, day_count, f"median of 5; load average {load()}"))
    return runs


def vacuum() -> None:
    """VACUUM ANALYZE the tables the pages read, as autovacuum keeps them in service: the bulk loaders
    and the facts' rebuild leave their visibility maps unset (index-only scans would read the heap)."""
    from django.db import connection

    tables = [
        "customers_customer",
        "analytics_dayfact",
        "analytics_dayitemfact",
        "analytics_daynewfact",
        "analytics_dayvisitfact",
        "analytics_daychangefact",
        "analytics_staffday",
        "analytics_staffmonth",
        "analytics_ownerfiles",
        "care_complaint",
    ]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"  VACUUM ANALYZE of {len(tables)} tables: {time.perf_counter() - started:.1f} s", flush=True)


def facts_table(runs: list[tuple[str, float, int, str]]) -> list[str]:
    lines = ["| what | time | days | notes |", "|---|---|---|---|"]
    for label, seconds, days, note in runs:
        shown = f"{seconds:.1f} s" if seconds >= 10 else f"{seconds * 1000:,.0f} ms"
        lines.append(f"| {label} | {shown} | {days:,} | {note} |")
    return lines


def job_table(runs: list[tuple[str, float, int, str]]) -> list[str]:
    lines = ["| run | seconds | target | customers scored | notes |", "|---|---|---|---|---|"]
    for label, seconds, rows, note in runs:
        met = "met" if seconds <= JOB_TARGET_S else "**not met**"
        lines.append(f"| {label} | {seconds:.1f} s | ≤ {JOB_TARGET_S:.0f} s: {met} | {rows:,} | {note} |")
    return lines


# --- the whole -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=20, help="timed requests of each URL (default 20)")
    parser.add_argument("--only", default="dsr", help="d: dashboard, s: staff, r: RFM job (default all)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest statements")
    parser.add_argument("--rebuild-facts", action="store_true", help="compute every day's facts again first")
    parser.add_argument(
        "--prefix", default=BENCH_PREFIX, help="the bench organization's user prefix ('' for bench/build_db.py's)"
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the bench needs a PostgreSQL database URL")
    setup_django(args.database_url)
    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per force_login otherwise
    warnings.filterwarnings("ignore", message="No directory at")  # static files are not collected here

    from django.core.management import call_command
    from django.utils import timezone

    import huitou.wsgi  # noqa: F401 - loaded as the servers load it: every view, the long-lived objects frozen
    from huitou.demo.models import DemoOrganization
    from huitou.tenancy.models import User
    from huitou.tenancy.roles import Role

    call_command("migrate", verbosity=0)
    marker = DemoOrganization.objects.filter(user_prefix=args.prefix).select_related("organization").first()
    if marker is None:
        sys.exit("No bench organization: run bench/search.py, then bench/orders.py, first.")
    org = marker.organization
    manager = User.objects.for_org(org).filter(role=Role.OWNER, is_active=True).order_by("pk").first()
    if manager is None:
        sys.exit("The bench organization has no active store manager.")
    today = timezone.localdate()
    data = data_summary(org, today)
    print("\n".join(data))
    described = f"PostgreSQL {postgres_version()}; {machine()}"
    print(described)
    results: list[Timed] = []
    kept = facts_prepare(org, args.rebuild_facts)
    vacuum()
    if "d" in args.only or "s" in args.only:
        print(f"(d)/(s) as {manager.username} (store manager), {args.runs} requests each, today {today} ...")
        results = pages(org, manager, today, args.runs, args.only, args.explain)
    jobs = nightly(org) if "r" in args.only else []
    print()
    print("\n".join(data))
    print(f"at the start: {described}")
    print(f"at the end: {machine()}")
    if results:
        print()
        print("| what | requests | p50 | p95 | target (p95) | notes |")
        print("|---|---|---|---|---|---|")
        for t in results:
            print(timed_row(t))
    print()
    print("\n".join(facts_table(kept)))
    if jobs:
        print()
        print("\n".join(job_table(jobs)))


if __name__ == "__main__":
    main()
