"""Customer search at scale: the product's figure beside the limit's, same server, same run.

    .venv/bin/python bench/search.py [--customers 1000000] [--database-url URL] [--rebuild]

Builds (once) an organization of N customers with the benchmarks' bulk loader
(``bench/bulkload``: the demo's generator, written directly) in a PostgreSQL
database of its own (default ``huitou_bench``, created if missing), then
times the product's search for each search key the way GET
/api/v1/customers?q= does its server-side work: ``customer_list(q=...)``,
the first page of 20 with the page's tag names, then ``count()``. Then it runs
the limit (``../shared/perf/limit_search.py``: hand-written SQL on a bare
table of as many customers) on the same server and prints both, with ratios.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from common import machine, percentile, setup_django

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huitou_bench"
DEFAULT_LIMIT = REPO.parent / "shared" / "perf" / "limit_search.py"
BENCH_ORG = "基准汽修"
BENCH_PREFIX = "bench_"
TARGET_MS = 20.0


@dataclass(frozen=True)
class Key:
    label: str
    limit_label: str  # the limit script's closest key
    query: Callable[[dict[str, str]], str]


KEYS = [
    Key("full phone", "phone full", lambda r: r["phone"]),
    Key("last 4 phone digits", "phone last4", lambda r: r["phone"][-4:]),
    Key("pinyin initials", "pinyin initials", lambda r: r["initials"]),
    Key("full pinyin", "full pinyin", lambda r: r["pinyin"]),
    Key("4 characters of a plate", "plate part (4)", lambda r: r["plate"][-4:]),
    Key("plate with province", "plate part (4)", lambda r: r["plate"]),
    Key("plate without province", "plate part (4)", lambda r: r["plate"][1:]),
    Key("name prefix (2 characters)", "name prefix", lambda r: r["name"][:2]),
    Key("VIN suffix (last 6)", "plate part (4)", lambda r: r["vin"][-6:]),
]


def server_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def ensure_database(url: str, rebuild: bool) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server_url(url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and rebuild:
            print(f"dropping database {name}")
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
            exists = None
        if not exists:
            print(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def build(customers: int, seed: int) -> tuple[Any, str]:
    """The bench organization with ``customers`` customers, built if missing or of another size,
    and a line on how long the demo generator took."""
    from bulkload.build import bulk_build
    from django.core.management import call_command

    from huitou.demo.models import DemoOrganization

    call_command("migrate", verbosity=0)
    marker = DemoOrganization.objects.filter(user_prefix=BENCH_PREFIX).select_related("organization").first()
    if marker and marker.customers == customers and marker.seed == seed:
        line = f"reusing {marker.organization.name}: {customers:,} customers (seed {seed}) built earlier"
        print(line)
        return marker.organization, line
    started = time.monotonic()

    def progress(done: int) -> None:
        print(f"  {done:>9,} / {customers:,} customers  {time.monotonic() - started:7.1f} s", flush=True)

    result = bulk_build(
        customers=customers,
        seed=seed,
        org_name=BENCH_ORG,
        user_prefix=BENCH_PREFIX,
        reset=True,
        progress=progress,
        log=print,
    )
    built = time.monotonic() - started
    stats = result.stats
    assert stats is not None
    line = (
        f"bulk loader (bench/bulkload): {stats.customers:,} customers, {stats.vehicles:,} vehicles, {stats.readings:,} "
        f"mileage readings in {built:.0f} s, committed (of which {stats.rebuild_seconds:.0f} s rebuilding "
        "indexes and foreign keys)"
    )
    print(line)
    return result.organization, line


def vacuum() -> None:
    """Vacuum and analyze the searched tables: fresh statistics and visibility maps, as
    autovacuum keeps them on a running server."""
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        for table in ("customers_customer", "customers_vehicle", "customers_customertag"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"vacuum analyze: {time.monotonic() - started:.0f} s")


def samples(organization: Any, count: int) -> list[dict[str, str]]:
    """Customers spread over the table (every 997th id), each with a phone, a plate and a VIN."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ON (c.id) c.name, c.name_pinyin, c.name_initials, c.phone, v.plate, v.vin "
            "FROM customers_customer c JOIN customers_vehicle v "
            "ON v.organization_id = c.organization_id AND v.customer_id = c.id "
            "WHERE c.organization_id = %s AND c.id %% 997 = 0 AND c.phone <> '' AND v.vin <> '' "
            "ORDER BY c.id, v.id LIMIT %s",
            [organization.pk, count],
        )
        rows = cursor.fetchall()
    return [
        {"name": n, "pinyin": py, "initials": ini, "phone": phone.removeprefix("+86"), "plate": plate, "vin": vin}
        for n, py, ini, phone, plate, vin in rows
    ]


def api_search(organization: Any, q: str) -> tuple[float, int]:
    """(total ms, hits): the server-side work of GET /api/v1/customers?q=..., in its order:
    the page of 20 with owner and source, the page's tag names, then the count."""
    from huitou.customers.selectors import customer_list, tag_names

    started = time.perf_counter()
    customers = customer_list(organization=organization, q=q, with_tags=True)
    page = list(customers[:20])
    count = customers.count()
    for customer in page:
        tag_names(customer)
        customer.owner.username  # noqa: B018 - the page shows the owner (joined)
    return (time.perf_counter() - started) * 1000, count


def queries_per_search(organization: Any, q: str) -> int:
    """How many SQL statements ``api_search`` sends for ``q`` (counted outside the timings)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        api_search(organization, q)
    return len(queries.captured_queries)


def time_product(organization: Any, rows: list[dict[str, str]], keys: list[Key]) -> dict[str, dict[str, float]]:
    """p50/p95 per key. Keys take turns query by query, so a busy moment on the
    machine falls on all of them alike."""
    queries = {key.label: [key.query(r) for r in rows] for key in keys}
    for key in keys:  # warm the cache as a running server has it
        for q in queries[key.label]:
            api_search(organization, q)
    measured: dict[str, list[tuple[float, int]]] = {key.label: [] for key in keys}
    for i in range(len(rows)):
        for key in keys:
            measured[key.label].append(api_search(organization, queries[key.label][i]))
    results = {}
    for key in keys:
        totals = [m[0] for m in measured[key.label]]
        hits = [m[1] for m in measured[key.label]]
        statements = {queries_per_search(organization, q) for q in queries[key.label][:20]}
        r = results[key.label] = {
            "p50": statistics.median(totals),
            "p95": percentile(totals, 0.95),
            "hits": statistics.median(hits),
            "max_hits": max(hits),
        }
        print(
            f"  {key.label:28s} p50 {r['p50']:7.2f} ms  p95 {r['p95']:7.2f} ms  "
            f"({'/'.join(map(str, sorted(statements)))} SQL queries, "
            f"median hits {r['hits']:.0f}, max {r['max_hits']:.0f})",
            flush=True,
        )
    return results


def run_limit(script: Path, url: str, customers: int) -> dict[str, tuple[float, float]]:
    """Run the limit script on the same server; rebuild its tables if they hold another size."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('lim_customer')").fetchone()[0]:
            have = conn.execute("SELECT count(*) FROM lim_customer").fetchone()[0]
            if have != customers:
                conn.execute("DROP TABLE lim_customer, lim_vehicle")
    completed = subprocess.run(  # noqa: S603 - our interpreter, a script path and a URL
        [sys.executable, str(script), url, str(customers)], capture_output=True, text=True, check=True
    )
    print(completed.stdout, end="")
    found = {}
    for line in completed.stdout.splitlines():
        match = re.match(r"(.+?)\s+p50\s+([\d.]+) ms\s+p95\s+([\d.]+) ms", line)
        if match:
            found[match.group(1).strip()] = (float(match.group(2)), float(match.group(3)))
    return found


def server() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), current_setting('shared_buffers')")
        version, buffers = cursor.fetchone()
    return f"PostgreSQL {version} (shared_buffers {buffers})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=300, help="queries per search key")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help=f"a PostgreSQL database for the bench alone (default $BENCH_DATABASE_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--limit-script",
        type=Path,
        default=Path(os.environ.get("HUITOU_LIMIT_SEARCH", DEFAULT_LIMIT)),
        help="path of limit_search.py (default $HUITOU_LIMIT_SEARCH or ../shared/perf/limit_search.py)",
    )
    parser.add_argument("--rebuild", action="store_true", help="drop and recreate the bench database first")
    parser.add_argument("--skip-limit", action="store_true", help="time the product only")
    parser.add_argument("--keys", default="", help="comma-separated parts of key labels to time (default all)")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the bench needs a PostgreSQL database URL")
    if not args.skip_limit and not args.limit_script.exists():
        parser.error(f"limit script not found: {args.limit_script}")

    ensure_database(args.database_url, args.rebuild)
    setup_django(args.database_url)
    organization, built = build(args.customers, args.seed)
    vacuum()
    print(f"machine: {machine()}; {server()}")
    rows = samples(organization, args.samples)
    print(f"product: customer_list, first page of 20 with tags, count(); {len(rows)} searches per key")
    wanted = [w.strip() for w in args.keys.split(",") if w.strip()]
    keys = [k for k in KEYS if not wanted or any(w in k.label for w in wanted)]
    product = time_product(organization, rows, keys)
    limit = {}
    if not args.skip_limit:
        print(f"limit: {args.limit_script}")
        limit = run_limit(args.limit_script, args.database_url, args.customers)

    print(f"\n{built}\nmachine: {machine()}; {server()}")
    print(f"\n{args.customers:,} customers, p50 / p95 in ms, ratio = product / limit\n")
    print("| search key | product p50 | product p95 | limit key | limit p50 | limit p95 | ratio p50 | ratio p95 |")
    print("|---|---|---|---|---|---|---|---|")
    missed = []
    for key in keys:
        r = product[key.label]
        lp50, lp95 = limit.get(key.limit_label, (float("nan"), float("nan")))
        print(
            f"| {key.label} | {r['p50']:.2f} | {r['p95']:.2f} | {key.limit_label} | {lp50:.2f} | {lp95:.2f} "
            f"| {r['p50'] / lp50:.1f} | {r['p95'] / lp95:.1f} |"
        )
        if r["p95"] >= TARGET_MS:
            missed.append(key.label)
    print(
        f"\ntarget: product p95 < {TARGET_MS:.0f} ms per key: {'missed by ' + ', '.join(missed) if missed else 'met'}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
