"""Care at 1,000,000 customers: the nightly sweep, its second run, a catch-up, the work list and the tasks API.

    .venv/bin/python bench/care.py [--day YYYY-MM-DD] [--staff 2000] [--lists 10] [--runs 300] [--stale 1000]
                                   [--only sw] [--explain] [--keep-tasks] [--rebuild-dues] [--setup-only]
                                   [--database-url URL]

Uses the bench organization of ``bench/search.py`` with the paid orders of
``bench/orders.py`` (default database ``huitou_bench``: 1,000,000 customers,
about 1,240,000 vehicles with their odometer readings, insurance and
inspection dates, 5,000,000 paid orders). Set-up, once, committed:

* the vehicles' next maintenance (``MaintenanceDue``): the bulk loader writes
  orders without the services, so nothing computed them; the bench runs the
  product's own ``huitou care dues`` for the organization (``dues_rebuild``:
  5,000 vehicles a chunk, a few queries and one transaction each, a progress
  line per chunk) and prints how long it took, then VACUUM ANALYZEs; later
  runs reuse the rows, ``--rebuild-dues`` runs the command again over them
  (timed: a rerun rewrites every row);
* the customers spread over ``--staff`` front-desk staff, as ``bench/lifecycle.py``
  does (the same staff and the same spread: the two benches share the data),
  so that care tasks, which go to the customer's owner, fall on many people.

Then, with production settings (``DEBUG=0``), in this process:

(s) the sweep, ``care_sweep`` (``huitou.care.services.sweep``: what ``huitou
    care run`` and the nightly huey job call), from no care task at all:
    (a) the first run for ``--day`` (default today), committed batch by batch
        as the job does: everything due in the catch-up window (60 days
        back) up to each rule's days ahead, the heaviest night;
    then, in one transaction rolled back at the end so that every run of the
    bench starts from the same data:
    (b) the second run for the same day (adds nothing);
    (c) the next night (day + 1), with ``--stale`` vehicles read since their
        dues were computed (their dues are put before their latest reading);
    (d) a catch-up: day + 4 after two missed nights, ``--stale`` vehicles again.
(w) with the tasks of (a) in place (VACUUM ANALYZEd, as autovacuum leaves a
    table after a big insert), for the ``--lists`` staff with the most open
    tasks: the care work list ``GET /care/`` (today, overdue, this week), and
    ``GET /api/v1/care/tasks?owner=&due=today`` (and ``due=overdue``), through
    ``django.test.Client`` as the staff member (every middleware, server time,
    no network); the store manager's late tasks by staff (``/care/team/``).

The tasks of (a) are deleted at the end (``--keep-tasks`` keeps them), and any
care task found at the start is deleted first: every run sweeps from none.
``--only s`` or ``--only w`` runs one part (``w`` still sweeps once, for its
tasks). ``--explain`` prints EXPLAIN ANALYZE of the sweep's slowest selects.

Targets: (a), (c), (d) ≤ 60 s; (b) ≤ 10 s; the work list and the API p95 ≤ 30 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import random
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import machine, percentile, setup_django

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huitou_bench"
BENCH_PREFIX = "bench_"
SEED = 2026
SWEEP_TARGET_S = 60.0
RERUN_TARGET_S = 10.0
PAGE_TARGET_MS = 30.0
SLOWEST = 5  # statements shown per sweep run


# --- the data --------------------------------------------------------------------------------


def data_summary(org: Any) -> list[str]:
    """What the sweep reads: vehicles and their dates, readings, paid work, the customers it greets."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(insurance_expiry), count(inspection_due), count(DISTINCT customer_id) "
            "FROM customers_vehicle WHERE organization_id = %s AND deleted_at IS NULL",
            [org.pk],
        )
        vehicles, insured, inspected, owners = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), count(DISTINCT vehicle_id) FROM customers_mileagereading WHERE organization_id = %s",
            [org.pk],
        )
        readings, read = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FILTER (WHERE deleted_at IS NULL), "
            "count(*) FILTER (WHERE deleted_at IS NULL AND stage = 'member'), "
            "count(*) FILTER (WHERE deleted_at IS NULL AND stage = 'dormant'), "
            "count(*) FILTER (WHERE deleted_at IS NULL AND birth_month IS NOT NULL) "
            "FROM customers_customer WHERE organization_id = %s",
            [org.pk],
        )
        customers, members, dormant, birthdays = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM service_serviceorder WHERE organization_id = %s", [org.pk])
        orders = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FILTER (WHERE warranty_months IS NOT NULL OR warranty_km IS NOT NULL) "
            "FROM service_orderline WHERE organization_id = %s",
            [org.pk],
        )
        promised = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM service_recommendation WHERE organization_id = %s AND status = 'declined'",
            [org.pk],
        )
        declined = cursor.fetchone()[0]
    return [
        f"{customers:,} customers ({members:,} members, {dormant:,} dormant, {birthdays:,} with a birthday); "
        f"{vehicles:,} vehicles ({vehicles / max(owners, 1):.2f} per customer with one), {insured:,} with an "
        f"insurance date, {inspected:,} with an inspection date; {readings:,} odometer readings on {read:,} "
        f"vehicles; {orders:,} paid orders, {promised:,} lines with a warranty, {declined:,} declined recommendations",
    ]


def ensure_orders(org: Any) -> int:
    from huitou.service.models import ServiceOrder

    orders = ServiceOrder.objects.for_org(org).count()
    if not orders:
        sys.exit("The bench organization has no orders: run bench/orders.py first (it writes 5,000,000).")
    return orders


def ensure_dues(org: Any, rebuild: bool) -> str:
    """Every vehicle's next maintenance, by the product's ``huitou care dues`` (``dues_rebuild``), timed.

    Computed once and reused; ``rebuild`` runs it again over the rows already there (a rerun: every row
    rewritten with the same values)."""
    from django.core.management import call_command
    from django.db import connection

    from huitou.care.models import MaintenanceDue
    from huitou.service.models import OrderState, ServiceOrder

    have = MaintenanceDue.objects.for_org(org).count()
    if have and not rebuild:
        return f"reusing {have:,} maintenance dues computed earlier (--rebuild-dues times the command again)"
    what = f"again over {have:,} rows" if have else "from none"
    print(f"computing every vehicle's maintenance dues with `huitou care dues` ({what}) ...", flush=True)
    started = time.monotonic()
    call_command("care", "dues", org=org.name, stdout=sys.stdout)  # one transaction a chunk, committed
    seconds = time.monotonic() - started
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    vacuum = time.monotonic()
    with connection.cursor() as cursor:
        for table in ("care_maintenancedue", "customers_vehicle", "customers_mileagereading"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    dues = MaintenanceDue.objects.for_org(org).count()
    vehicles = MaintenanceDue.objects.for_org(org).values("vehicle_id").distinct().count()
    paid = ServiceOrder.objects.for_org(org).filter(state=OrderState.PAID).values("vehicle_id").distinct().count()
    return (
        f"`huitou care dues` ({what}): {paid:,} vehicles with paid work, {dues:,} maintenance dues of "
        f"{vehicles:,} of them, in {seconds:.0f} s ({paid / max(seconds, 0.001):,.0f} vehicles a second), "
        f"committed chunk by chunk, load average after it {load}; VACUUM ANALYZE {time.monotonic() - vacuum:.0f} s"
    )


def ensure_spread(org: Any, staff_count: int) -> str:
    """The customers (and open follow-up tasks) over ``staff_count`` front-desk staff, as bench/lifecycle.py."""
    from lifecycle import BENCH_PREFIX as PREFIX
    from lifecycle import FRONT_DESK, ensure_staff, spread_over_staff

    from huitou.tenancy.models import User

    front = User.objects.for_org(org).filter(username__startswith=f"{PREFIX}{FRONT_DESK}")
    if front.count() >= staff_count:
        return f"reusing the spread over {front.count():,} front-desk staff"
    print(f"spreading the customers over {staff_count:,} front-desk staff (as bench/lifecycle.py) ...", flush=True)
    return spread_over_staff(org, ensure_staff(org, staff_count))


def clear_tasks(org: Any) -> str:
    """Delete every care task of the organization (committed) and vacuum: the sweep starts from none."""
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        # One statement (the ORM's delete would collect the ids first); the bench makes no complaints.
        cursor.execute("DELETE FROM care_caretask WHERE organization_id = %s", [org.pk])
        deleted = cursor.rowcount
        if not deleted:
            return ""
        cursor.execute("VACUUM (ANALYZE) care_caretask")
    return f"deleted {deleted:,} care tasks and vacuumed in {time.monotonic() - started:.0f} s"


def make_stale(org: Any, count: int, seed: int) -> int:
    """``count`` vehicles read since their dues were computed: their dues' ``computed_at`` is put a
    second before their latest reading, so the sweep recomputes them (``refresh_stale_dues``)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT d.vehicle_id FROM care_maintenancedue d JOIN customers_vehicle v "
            "ON v.id = d.vehicle_id AND v.organization_id = d.organization_id "
            "WHERE d.organization_id = %s AND v.mileage_at IS NOT NULL",
            [org.pk],
        )
        ids = [row[0] for row in cursor.fetchall()]
        chosen = random.Random(seed).sample(ids, min(count, len(ids)))
        cursor.execute(
            "UPDATE care_maintenancedue d SET computed_at = v.mileage_at - interval '1 second' "
            "FROM customers_vehicle v WHERE d.organization_id = %s AND v.organization_id = %s "
            "AND v.id = d.vehicle_id AND d.vehicle_id = ANY(%s)",
            [org.pk, org.pk, chosen],
        )
    return len(chosen)


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class Statements:
    """Every statement a run sends (``execute`` only: rows a server-side cursor fetches later are not timed)."""

    log: list[tuple[float, str, Any]] = field(default_factory=list)

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.log.append((time.perf_counter() - started, sql, None if many else params))

    def slowest(self, n: int) -> list[tuple[float, str, Any]]:
        return sorted(self.log, key=lambda s: -s[0])[:n]


@dataclass
class Run:
    label: str
    day: dt.date
    seconds: float
    added: dict[str, int]
    statements: Statements
    note: str = ""
    target: float = SWEEP_TARGET_S


def sweep(org: Any, label: str, day: dt.date, note: str = "", target: float = SWEEP_TARGET_S) -> Run:
    from django.db import connection

    from huitou.care.services.sweep import care_sweep

    statements = Statements()
    with connection.execute_wrapper(statements):
        started = time.perf_counter()
        added = care_sweep(organization=org, day=day)
        seconds = time.perf_counter() - started
    run = Run(label, day, seconds, added, statements, note, target)
    made = ", ".join(f"{kind} {n:,}" for kind, n in added.items() if n) or "nothing"
    print(f"  {label} ({day}): {seconds:.1f} s, {len(statements.log):,} statements; made {made}", flush=True)
    for seconds_, sql, _params in statements.slowest(SLOWEST):
        if seconds_ >= 0.05:
            print(f"      {seconds_ * 1000:8.0f} ms  {' '.join(sql.split())[:150]}")
    return run


def explain(runs: list[Run]) -> None:
    """EXPLAIN ANALYZE of each run's slowest selects (in the transaction the runs left)."""
    from django.db import connection

    for run in runs:
        for seconds, sql, params in run.statements.slowest(SLOWEST):
            if seconds < 0.05 or not sql.lstrip().upper().startswith("SELECT"):
                continue
            print(f"\n--- {run.label}: {seconds * 1000:.0f} ms\n{sql}")
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                for (line,) in cursor.fetchall():
                    print(line)


def sweeps(org: Any, day: dt.date, stale: int, seed: int, do_explain: bool) -> tuple[list[Run], str]:
    """(a) committed; (b), (c), (d) in one transaction, rolled back."""
    from django.db import connection, transaction

    runs = [sweep(org, "(a) first run", day, "no care task before: 60 days of catch-up, committed batch by batch")]
    vacuum = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) care_caretask")
    vacuumed = f"VACUUM ANALYZE of the tasks after (a): {time.monotonic() - vacuum:.1f} s"
    print(f"  {vacuumed}")
    with transaction.atomic():
        runs.append(sweep(org, "(b) second run, same day", day, "rolled back", RERUN_TARGET_S))
        read = make_stale(org, stale, seed)
        runs.append(sweep(org, "(c) next night", day + dt.timedelta(days=1), f"{read:,} vehicles read; rolled back"))
        read = make_stale(org, stale, seed + 1)
        runs.append(
            sweep(
                org,
                "(d) catch-up after 2 missed nights",
                day + dt.timedelta(days=4),
                f"{read:,} vehicles read; rolled back",
            )
        )
        if do_explain:
            explain(runs)
        transaction.set_rollback(True)
    return runs, vacuumed


def sweep_table(runs: list[Run]) -> list[str]:
    lines = ["| run | day | seconds | target | tasks made | statements | notes |", "|---|---|---|---|---|---|---|"]
    for run in runs:
        made = ", ".join(f"{kind} {n:,}" for kind, n in run.added.items() if n) or "none"
        met = "met" if run.seconds <= run.target else "**not met**"
        lines.append(
            f"| {run.label} | {run.day} | {run.seconds:.1f} s | ≤ {run.target:.0f} s: {met} | "
            f"{sum(run.added.values()):,} ({made}) | {len(run.statements.log):,} | {run.note} |"
        )
    return lines


# --- the work list and the API -----------------------------------------------------------------


@dataclass
class Timed:
    label: str
    times: list[float]
    queries: list[int]
    sql: list[float]
    note: str = ""
    target: float | None = PAGE_TARGET_MS


def busiest_staff(org: Any, count: int, today: dt.date) -> list[tuple[int, int, int, int]]:
    """(staff id, open tasks due today, overdue, in the next seven days) of the ``count`` staff with the
    most open tasks due by a week from today."""
    from django.db.models import Count, Q

    from huitou.care.models import CareTask
    from huitou.care.selectors import WEEK_DAYS

    rows = (
        CareTask.objects.for_org(org)
        .filter(state=CareTask.State.OPEN, due_on__lte=today + dt.timedelta(days=WEEK_DAYS))
        .values("owner_id")
        .annotate(
            n=Count("id"),
            today=Count("id", filter=Q(due_on=today)),
            overdue=Count("id", filter=Q(due_on__lt=today)),
            week=Count("id", filter=Q(due_on__gt=today)),
        )
        .order_by("-n", "owner_id")[:count]
    )
    return [(r["owner_id"], r["today"], r["overdue"], r["week"]) for r in rows]


def timed_gets(clients: list[tuple[Any, str]], rounds: int) -> tuple[list[float], list[int], list[float]]:
    """Each (client, url) ``rounds`` times after two untimed requests; server time, SQL count, SQL time."""
    from django.db import connection

    for client, url in clients:
        for _n in range(2):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:300])
    times, queries, sql = [], [], []
    for _round in range(rounds):
        for client, url in clients:
            statements = Statements()
            with connection.execute_wrapper(statements):
                started = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
            queries.append(len(statements.log))
            sql.append(sum(seconds for seconds, _sql, _params in statements.log))
    return times, queries, sql


def work_lists(org: Any, lists: int, runs: int) -> tuple[list[Timed], str]:
    from django.test import Client
    from django.utils import timezone

    from huitou.tenancy.models import User
    from huitou.tenancy.roles import Role

    today = timezone.localdate()
    busiest = busiest_staff(org, lists, today)
    if not busiest:
        return [], "no open care task"
    users = {u.pk: u for u in User.objects.filter(pk__in=[b[0] for b in busiest])}
    clients = []
    for staff_id, *_counts in busiest:
        client = Client()
        client.force_login(users[staff_id])
        clients.append(client)
    rounds = max(1, runs // len(clients))

    def spread(index: int) -> str:
        values = sorted(b[index] for b in busiest)
        return f"{values[0]:,}–{values[-1]:,}"

    who = (
        f"{len(busiest)} staff with the most open care tasks: {spread(1)} due today, {spread(2)} overdue, "
        f"{spread(3)} in the next 7 days each"
    )
    print(f"(w) {who} ...", flush=True)
    results = []
    for label, url, note in (
        ("work list /care/ (today)", "/care/", f"due today: {spread(1)}"),
        ("work list /care/?due=overdue", "/care/?due=overdue", f"overdue: {spread(2)}"),
        ("work list /care/?due=week", "/care/?due=week", f"next 7 days: {spread(3)}"),
        ("GET /api/v1/care/tasks?owner=&due=today", "/api/v1/care/tasks?owner=&due=today", ""),
        ("GET /api/v1/care/tasks?owner=&due=overdue", "/api/v1/care/tasks?owner=&due=overdue", ""),
    ):
        times, queries, sql = timed_gets([(c, url) for c in clients], rounds)
        results.append(Timed(label, times, queries, sql, note))
        print("  " + timed_row(results[-1]), flush=True)
    manager = User.objects.for_org(org).filter(role=Role.OWNER, is_active=True).order_by("pk").first()
    if manager is not None:
        client = Client()
        client.force_login(manager)
        times, queries, sql = timed_gets([(client, "/care/team/")], max(runs // 6, 20))
        results.append(Timed("late tasks by staff /care/team/ (store manager)", times, queries, sql, "", None))
        print("  " + timed_row(results[-1]), flush=True)
    return results, who


def timed_row(t: Timed) -> str:
    p50, p95 = percentile(t.times, 0.5) * 1000, percentile(t.times, 0.95) * 1000
    goal = ""
    if t.target is not None:
        goal = f"≤ {t.target:.0f} ms: " + ("met" if p95 <= t.target else "**not met**")
    count = f"{min(t.queries)}" if min(t.queries) == max(t.queries) else f"{min(t.queries)}–{max(t.queries)}"
    notes = f"{count} SQL queries, SQL {percentile(t.sql, 0.5) * 1000:.1f} ms p50"
    if t.note:
        notes += f"; {t.note}"
    return f"| {t.label} | {len(t.times)} | {p50:.1f} ms | {p95:.1f} ms | {goal} | {notes} |"


# --- the whole -------------------------------------------------------------------------------


@contextmanager
def tasks_removed_after(org: Any, keep: bool) -> Iterator[None]:
    try:
        yield
    finally:
        if not keep:
            line = clear_tasks(org)
            if line:
                print(f"clean-up: {line}")


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--day", type=dt.date.fromisoformat, default=None, help="the sweep's day (default today)")
    parser.add_argument("--staff", type=int, default=2_000, help="front-desk staff the customers are spread over")
    parser.add_argument("--lists", type=int, default=10, help="staff whose work list is read (default 10)")
    parser.add_argument("--runs", type=int, default=300, help="requests of each page (default 300)")
    parser.add_argument("--stale", type=int, default=1_000, help="vehicles read since their dues, per night")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--only", default="sw", help="s: the sweeps, w: the work lists (default both)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the sweep's slowest selects")
    parser.add_argument("--keep-tasks", action="store_true", help="leave the care tasks of the first run")
    parser.add_argument("--setup-only", action="store_true", help="compute the dues, spread the customers, stop")
    parser.add_argument("--rebuild-dues", action="store_true", help="run `huitou care dues` again, timed")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the bench needs a PostgreSQL database URL")
    setup_django(args.database_url)
    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per force_login otherwise
    warnings.filterwarnings("ignore", message="No directory at")  # static files are not collected here

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from huitou.demo.models import DemoOrganization

    call_command("migrate", verbosity=0)
    marker = DemoOrganization.objects.filter(user_prefix=BENCH_PREFIX).select_related("organization").first()
    if marker is None:
        sys.exit("No bench organization: run bench/search.py, then bench/orders.py, first.")
    org = marker.organization
    ensure_orders(org)
    setup = [ensure_dues(org, args.rebuild_dues), ensure_spread(org, args.staff)]
    for line in setup:
        print(line)
    if args.setup_only:
        return
    cleared = clear_tasks(org)
    if cleared:
        print(f"care tasks of an earlier run: {cleared}")
    data = data_summary(org)
    print("\n".join(data))
    described = f"PostgreSQL {postgres_version()}; {machine()}"
    print(described)
    day = args.day or timezone.localdate()
    runs: list[Run] = []
    pages: list[Timed] = []
    who = vacuumed = ""
    with tasks_removed_after(org, args.keep_tasks):
        if "s" in args.only:
            print(f"(s) the care sweep for {day} ...", flush=True)
            runs, vacuumed = sweeps(org, day, args.stale, args.seed, args.explain)
        elif "w" in args.only:
            runs = [sweep(org, "(a) first run", day, "for the work lists' tasks")]
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE) care_caretask")
        if "w" in args.only:
            pages, who = work_lists(org, args.lists, args.runs)
    print()
    print("\n".join(setup))
    print("\n".join(data))
    print(f"at the start: {described}")
    print(f"at the end: {machine()}")
    if runs and "s" in args.only:
        print()
        print("\n".join(sweep_table(runs)))
        print(vacuumed)
    if pages:
        print()
        print(who)
        print("| what | requests | p50 | p95 | target (p95) | notes |")
        print("|---|---|---|---|---|---|")
        for t in pages:
            print(timed_row(t))


if __name__ == "__main__":
    main()
