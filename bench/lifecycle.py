"""The customer lifecycle at scale: work lists, the manager's backlog, the funnel, recording a follow-up.

    .venv/bin/python bench/lifecycle.py [--followups 3000000] [--staff 1000] [--runs 300] [--explain]

Uses the bench organization of ``bench/search.py`` (default database
``huitou_bench``, 1,000,000 customers; build it first with
``bench/search.py``, whose demo build writes the lifecycle too: its
customers and open tasks are then spread over ``--staff`` front-desk
staff once). If it holds fewer follow-ups than ``--followups``,
gives its existing customers a lifecycle once, with the demo's own story
and rules (``huitou.demo.lifecycle`` and ``bench/bulkload/lifecycle_rows.py``):
the customers are spread over ``--staff`` front-desk staff (a chain's
advisors); a paying customer's first contact is moved before their first
visit (the first paid order when there are orders, else the first odometer
reading) by their source's usual delay; each customer gets the follow-ups,
stage changes and follow-up tasks the services would have written for that
story (COPY), and the customer rows their need, owner, stage, intent grade,
intent and conversion dates (one UPDATE from a COPY-ed table). Indexes and
foreign keys of the tables written are dropped and rebuilt once, then the
tables are VACUUM ANALYZEd. Then it times, with the product's own code and
production settings (``DEBUG=0``), no HTTP, a few hundred samples each:

* (a)/(b) a staff member's follow-ups due today / overdue, first page: what
  the work-list page does (the three tab counts, the page count, the page of
  20 tasks with customer and assignee, each row's customer need);
* (c) the manager's backlog by staff (``backlog_by_staff``);
* (d)/(e) the funnel by source over 30, 90 and 365 days, by staff over 90;
* (f) recording a follow-up with a next step on a random prospect
  (``followup_record``, with a grade), rolled back;
* (g) the prospect list's first page (``prospects_list`` + ``with_next_due``,
  as the prospect page) and ``customer_list(stage="prospect")``.

With ``--explain`` it prints EXPLAIN (ANALYZE, BUFFERS) of each measured
statement once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import machine, percentile, setup_django

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huitou_bench"
BENCH_PREFIX = "bench_"
FRONT_DESK = "front"  # usernames bench_front0001 ...
SEED = 2026
CHUNK = 20_000
SLOW_MS = 50.0
SLOW_RUN_S = 0.5


# --- the data --------------------------------------------------------------------------------


def ensure_staff(organization: Any, count: int) -> list[Any]:
    """``count`` service advisors (no usable password: the bench never logs them in)."""
    from django.contrib.auth.hashers import make_password

    from huitou.tenancy.models import User
    from huitou.tenancy.roles import Role

    names = [f"{BENCH_PREFIX}{FRONT_DESK}{n:04d}" for n in range(1, count + 1)]
    have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)
    User.objects.bulk_create(
        [
            User(
                username=name,
                organization=organization,
                role=Role.ADVISOR,
                display_name=f"顾问{name[-4:]}",
                password=unusable,
            )
            for name in names
            if name not in have
        ]
    )
    return list(User.objects.filter(username__in=names).order_by("pk"))


def _chunk_rows(org_id: int, low: int, high: int) -> list[tuple[Any, ...]]:
    """(id, stage, source code, source id, created_at, first_visit_at, last_visit_at, readings) of a chunk."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "WITH seen AS (SELECT v.customer_id, array_agg(r.read_at ORDER BY r.read_at) AS readings "
            " FROM customers_vehicle v JOIN customers_mileagereading r "
            " ON r.organization_id = v.organization_id AND r.vehicle_id = v.id "
            " WHERE v.organization_id = %s AND v.customer_id >= %s AND v.customer_id < %s GROUP BY v.customer_id) "
            "SELECT c.id, c.stage, s.code, c.source_id, c.created_at, c.first_visit_at, c.last_visit_at, seen.readings "
            "FROM customers_customer c LEFT JOIN customers_source s ON s.id = c.source_id "
            "LEFT JOIN seen ON seen.customer_id = c.id "
            "WHERE c.organization_id = %s AND c.id >= %s AND c.id < %s AND c.deleted_at IS NULL ORDER BY c.id",
            [org_id, low, high, org_id, low, high],
        )
        return cursor.fetchall()


def _visits(first: Any, last: Any, readings: list[Any] | None, tz: dt.tzinfo) -> list[dt.datetime]:
    """The paid visits: from the orders when there are some (first, readings between, last), else the
    odometer readings, one a day."""
    days: dict[dt.date, dt.datetime] = {}
    for at in readings or ():
        if first is None or first < at < last:
            local = at.astimezone(tz)
            days.setdefault(local.date(), local)
    visits = sorted(days.values())
    if first is not None:
        visits = [first.astimezone(tz), *visits]
        if last > first:
            visits.append(last.astimezone(tz))
    return visits


def add_lifecycle(organization: Any, staff: list[Any]) -> str:
    """Give every customer of the organization a lifecycle, in one transaction; return a summary line."""
    from django.db import connection, transaction
    from django.utils import timezone
    from huitou.demo.lifecycle_rows import LifecycleBatch, LifecycleRows

    from huitou.customers.models import Customer
    from huitou.demo.generator import DemoRandom
    from huitou.demo.lifecycle import BUYERS, Storyteller, stage_after
    from huitou.demo.loaders import DeferredIndexes, TableWriter
    from huitou.lifecycle.models import FollowUp, FollowUpTask, StageChange, StageReason
    from huitou.tenancy.models import User

    org_id = organization.pk
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    rnd = DemoRandom(SEED)
    story = Storyteller(rnd, today=today, tz=tz)
    service = User.objects.get(username=f"{BENCH_PREFIX}service")
    keys = {f"s{n}": user.pk for n, user in enumerate(staff)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM service_serviceorder WHERE organization_id = %s LIMIT 1", [org_id])
        visits_recorded = cursor.fetchone() is not None
    rows = LifecycleRows.for_organization(
        organization_id=org_id,
        staff_ids={**keys, "service": service.pk},
        inactive_reason=(StageReason.NO_VISIT if visits_recorded else StageReason.IMPORTED).value,
    )
    models = (StageChange, FollowUp, FollowUpTask)
    writers: dict[type[Any], TableWriter] = {m: TableWriter(m, with_ids=False) for m in models}
    low = Customer.objects.for_org(org_id).order_by("pk").values_list("pk", flat=True)[0]
    high = Customer.objects.for_org(org_id).order_by("-pk").values_list("pk", flat=True)[0]
    counts = {"customers": 0, "stage changes": 0, "follow-ups": 0, "tasks": 0, "open tasks": 0}
    started = time.monotonic()
    with transaction.atomic():
        deferred = DeferredIndexes([m._meta.db_table for m in (Customer, *models)])
        deferred.drop()
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_lifecycle (id bigint, owner_id bigint, created_at timestamptz, "
                "stage varchar(10), need varchar(200), intent_grade varchar(1), intent_at timestamptz, "
                "converted_at timestamptz) ON COMMIT DROP"
            )
        for chunk_low in range(low, high + 1, CHUNK):
            batch = LifecycleBatch()
            files = []
            for cid, stage, source, source_id, created, first, last, readings in _chunk_rows(
                org_id, chunk_low, chunk_low + CHUNK
            ):
                owner = f"s{int(rnd.random() * len(staff))}"
                visits = _visits(first, last, readings, tz) if stage in BUYERS else []
                created = created.astimezone(tz)
                if visits:
                    created = min(created, visits[0] - dt.timedelta(days=story.first_visit_days(source or "")))
                events = story.story(stage=stage, source=source or "", owner=owner, created_at=created, visits=visits)
                state = rows.add(
                    batch, customer_id=cid, owner_id=keys[owner], source_id=source_id, created_at=created, events=events
                )
                assert state.stage == stage_after(events)
                files.append(
                    (
                        cid,
                        keys[owner],
                        created,
                        state.stage,
                        story.need(source or ""),
                        state.intent_grade,
                        state.intent_at,
                        state.converted_at,
                    )
                )
            writers[StageChange].write(batch.stage_changes)
            writers[FollowUp].write(batch.followups)
            writers[FollowUpTask].write(batch.tasks)
            with connection.cursor() as cursor, cursor.cursor.copy("COPY bench_lifecycle FROM STDIN") as copy:
                for file in files:
                    copy.write_row(file)
            counts["customers"] += len(files)
            counts["stage changes"] += len(batch.stage_changes)
            counts["follow-ups"] += len(batch.followups)
            counts["tasks"] += len(batch.tasks)
            counts["open tasks"] += sum(t["closed_at"] is None for t in batch.tasks)
            print(f"  {counts['customers']:>9,} customers  {time.monotonic() - started:6.0f} s", flush=True)
        updating = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE customers_customer c SET owner_id = f.owner_id, created_at = f.created_at, stage = f.stage, "
                "need = f.need, intent_grade = f.intent_grade, intent_at = f.intent_at, "
                "converted_at = f.converted_at FROM bench_lifecycle f WHERE c.id = f.id"
            )
        updated = time.monotonic() - updating
        rebuilding = time.monotonic()
        print(f"  customers updated in {updated:.0f} s; rebuilding indexes and foreign keys ...", flush=True)
        deferred.rebuild()
        rebuilt = time.monotonic() - rebuilding
    written = time.monotonic() - started
    vacuumed = time.monotonic()
    with connection.cursor() as cursor:
        for model in (Customer, *models):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    summary = ", ".join(f"{n:,} {label}" for label, n in counts.items())
    return (
        f"lifecycle added: {summary} ({len(staff):,} front-desk staff; visits from "
        f"{'orders' if visits_recorded else 'odometer readings'}) in {written:.0f} s, committed "
        f"(of which {updated:.0f} s updating the customers, {rebuilt:.0f} s rebuilding indexes and foreign keys); "
        f"VACUUM ANALYZE {time.monotonic() - vacuumed:.0f} s"
    )


def spread_over_staff(organization: Any, staff: list[Any]) -> str:
    """Hand the customers, and their open tasks, to ``staff`` in turn (by customer id), as a chain's
    front desk shares them; then VACUUM ANALYZE. For a lifecycle written with the demo's few staff."""
    from django.db import connection, transaction

    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_staff (n int PRIMARY KEY, id bigint) ON COMMIT DROP")
        with cursor.cursor.copy("COPY bench_staff FROM STDIN") as copy:
            for n, user in enumerate(staff):
                copy.write_row((n, user.pk))
        cursor.execute(
            "UPDATE customers_customer c SET owner_id = s.id FROM bench_staff s "
            "WHERE c.organization_id = %s AND s.n = c.id %% %s",
            [organization.pk, len(staff)],
        )
        cursor.execute(
            "UPDATE lifecycle_followuptask t SET assignee_id = c.owner_id FROM customers_customer c "
            "WHERE t.organization_id = %s AND t.closed_at IS NULL AND c.id = t.customer_id",
            [organization.pk],
        )
    with connection.cursor() as cursor:
        for table in ("customers_customer", "lifecycle_followuptask", "tenancy_user"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    return f"customers and open tasks spread over {len(staff):,} front-desk staff in {time.monotonic() - started:.0f} s"


def ensure_lifecycle(organization: Any, wanted: int, staff_count: int) -> str:
    from huitou.lifecycle.models import FollowUp
    from huitou.tenancy.models import User

    have = FollowUp.objects.for_org(organization).count()
    if have >= wanted * 0.9:
        line = f"reusing {have:,} follow-ups written earlier"
        front = User.objects.for_org(organization).filter(username__startswith=f"{BENCH_PREFIX}{FRONT_DESK}")
        if front.count() < staff_count:
            line += "; " + spread_over_staff(organization, ensure_staff(organization, staff_count))
        print(line)
        return line
    if have:
        sys.exit(f"{have:,} follow-ups already, fewer than {wanted:,}: rebuild with bench/search.py --rebuild first")
    staff = ensure_staff(organization, staff_count)
    print(f"giving the customers a lifecycle ({len(staff):,} front-desk staff) ...", flush=True)
    from huitou.tenancy.scope import unscoped

    with unscoped():
        line = add_lifecycle(organization, staff)
    print(line)
    return line


# --- the measurements ------------------------------------------------------------------------


class Measure:
    """Runs a callable many times: times, SQL query counts and the statements of the last run."""

    def __init__(self, only: str = "") -> None:
        self.only = only  # letters of the measurements to run ("" for all)
        self.results: list[tuple[str, list[float], list[int], str]] = []
        self.statements: dict[str, list[tuple[str, float]]] = {}

    def run(self, label: str, call: Callable[[int], Any], runs: int, note: str = "", warm_up: int = 20) -> None:
        """Time ``call(n)`` for n in 0..runs-1, after ``warm_up`` untimed calls (the data a running
        server keeps in memory)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        if self.only and label[1] not in self.only:
            return
        warm = time.perf_counter()
        for n in range(min(warm_up, runs)):
            call(n)
        if (time.perf_counter() - warm) / min(warm_up, runs) > SLOW_RUN_S:
            runs = min(runs, 50)  # seconds each: 50 samples tell p50 and p95 well enough
        times, queries = [], []
        last: list[dict[str, str]] = []
        for n in range(runs):
            connection.queries_log.clear()  # the log keeps 9,000 queries: count from empty
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                call(n)
                times.append(time.perf_counter() - started)
            queries.append(len(captured))
            last = captured.captured_queries
        self.results.append((label, times, queries, note))
        self.statements[label] = [(q["sql"], float(q["time"])) for q in last]
        p95 = percentile(times, 0.95) * 1000
        print(f"  {label}: p50 {percentile(times, 0.5) * 1000:.1f} ms, p95 {p95:.1f} ms, {max(queries)} queries")

    def table(self) -> list[str]:
        lines = ["| what | runs | p50 | p95 | SQL queries | notes |", "|---|---|---|---|---|---|"]
        for label, times, queries, note in self.results:
            count = f"{min(queries)}" if min(queries) == max(queries) else f"{min(queries)}–{max(queries)}"
            lines.append(
                f"| {label} | {len(times)} | {percentile(times, 0.5) * 1000:.1f} ms | "
                f"{percentile(times, 0.95) * 1000:.1f} ms | {count} | {note} |"
            )
        return lines

    def slow(self) -> list[str]:
        return [label for label, times, _q, _n in self.results if percentile(times, 0.95) * 1000 > SLOW_MS]


def work_list_page(organization: Any, assignee_id: int, due: str, today: dt.date) -> list[str]:
    """What ``lifecycle.views.work.followups_mine`` reads: the tab counts, the page count and one
    page of tasks with customer and assignee; the page shows each customer's need."""
    from django.core.paginator import Paginator

    from huitou.lifecycle.selectors import task_counts, tasks_due

    tasks = tasks_due(organization=organization, due=due, assignee_id=assignee_id, today=today)
    task_counts(organization=organization, assignee_id=assignee_id, today=today)
    page = Paginator(tasks, 20).get_page(1)
    return [f"{task.customer.name} {task.customer.need} {task.action} {task.assignee}" for task in page.object_list]


def prospect_page(organization: Any) -> list[str]:
    """What ``lifecycle.views.prospects.prospect_list`` reads for a manager: everyone's prospects and
    intent customers, newest first, the count and a page of 20 with each one's next task day."""
    from huitou.lifecycle import selectors
    from huitou.web.paging import CappedPaginator

    prospects = selectors.with_next_due(selectors.prospects_list(organization=organization), organization=organization)
    page = CappedPaginator(prospects, 20).get_page(1)
    return [f"{c.name} {c.need} {c.owner} {c.source} {getattr(c, 'next_due', None)}" for c in page.object_list]


def customer_list_page(organization: Any) -> list[str]:
    from huitou.customers.selectors import customer_list
    from huitou.web.paging import CappedPaginator

    page = CappedPaginator(customer_list(organization=organization, stage="prospect"), 20).get_page(1)
    return [f"{c.name} {c.owner} {c.source}" for c in page.object_list]


def record_followup(organization: Any, customer: Any, by: Any, today: dt.date) -> None:
    from django.db import transaction

    from huitou.lifecycle.services.followups import followup_record

    with transaction.atomic():
        followup_record(
            customer=customer,
            by=by,
            channel="phone",
            content="电话联系客户，了解车况和需求，报了保养套餐价格",
            result="客户说周末过来",
            grade="A",
            next_step="周末前再跟进一次",
            next_due=today + dt.timedelta(days=3),
        )
        transaction.set_rollback(True)  # leave the bench data as it is


def explain(statements: dict[str, list[tuple[str, float]]]) -> None:
    from django.db import connection

    for label, queries in statements.items():
        for sql, _seconds in queries:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            print(f"\n--- {label}\n{sql}")
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                for (line,) in cursor.fetchall():
                    print(line)


def measure(organization: Any, runs: int, seed: int, only: str = "") -> Measure:
    from django.db.models import Count
    from django.utils import timezone

    from huitou.analytics.funnel import BY_SOURCE, BY_STAFF, funnel
    from huitou.customers.models import Customer, Stage
    from huitou.lifecycle.models import FollowUpTask
    from huitou.lifecycle.selectors import DUE_OVERDUE, DUE_TODAY, backlog_by_staff
    from huitou.tenancy.models import User

    rnd = random.Random(seed)
    today = timezone.localdate()
    m = Measure(only)
    busy = list(
        FollowUpTask.objects.for_org(organization)
        .filter(closed_at=None, due_on=today)
        .values_list("assignee_id", flat=True)
        .distinct()
    )
    picks = [rnd.choice(busy) for _n in range(runs)]
    tasks = FollowUpTask.objects.for_org(organization).filter(closed_at=None, assignee_id__in=picks)
    today_n = sorted(
        tasks.filter(due_on=today).values("assignee_id").annotate(n=Count("pk")).values_list("n", flat=True)
    )
    over_n = sorted(
        tasks.filter(due_on__lt=today).values("assignee_id").annotate(n=Count("pk")).values_list("n", flat=True)
    )
    print(f"(a, b) work lists of {len(set(picks))} staff of the {len(busy):,} with follow-ups due today ...")
    m.run(
        "(a) my follow-ups today, first page",
        lambda n: work_list_page(organization, picks[n], DUE_TODAY, today),
        runs,
        f"random staff: {today_n[len(today_n) // 2]} due today (median), {today_n[-1]} at most",
        warm_up=runs,
    )
    m.run(
        "(b) my overdue follow-ups, first page",
        lambda n: work_list_page(organization, picks[n], DUE_OVERDUE, today),
        runs,
        f"{over_n[len(over_n) // 2]} overdue (median), {over_n[-1]} at most",
        warm_up=runs,
    )
    staff = User.objects.for_org(organization).count()
    due = FollowUpTask.objects.for_org(organization).filter(closed_at=None, due_on__lte=today).count()
    m.run(
        "(c) manager's backlog by staff",
        lambda n: backlog_by_staff(organization=organization, today=today),
        max(runs // 3, 50),
        f"{staff:,} staff, {due:,} open tasks due today or overdue",
    )

    def by_source(start: dt.date) -> Callable[[int], Any]:
        return lambda n: funnel(organization=organization, date_from=start, date_to=today, by=BY_SOURCE)

    for days in (30, 90, 365):
        start = today - dt.timedelta(days=days - 1)
        wanted = not only or "d" in only
        cohort = funnel(organization=organization, date_from=start, date_to=today).total.prospects if wanted else 0
        m.run(
            f"(d) funnel by source, {days} days",
            by_source(start),
            max(runs // (3 if days > 90 else 1), 50),
            f"{cohort:,} files created",
        )
    start = today - dt.timedelta(days=89)
    m.run(
        "(e) funnel by staff, 90 days",
        lambda n: funnel(organization=organization, date_from=start, date_to=today, by=BY_STAFF),
        runs,
        "",
    )
    prospects = list(
        Customer.objects.for_org(organization)
        .filter(stage=Stage.PROSPECT, deleted_at=None)
        .order_by("?")
        .select_related("owner")[:runs]
    )
    m.run(
        "(f) record a follow-up with a grade and a next step",
        lambda n: record_followup(
            organization, prospects[n % len(prospects)], prospects[n % len(prospects)].owner, today
        ),
        runs,
        "random prospects; one transaction, rolled back (commit not timed)",
    )
    m.run(
        "(g) prospect list, first page", lambda n: prospect_page(organization), runs, "prospects_list + with_next_due"
    )
    m.run(
        "(g) customer_list(stage=prospect), first page",
        lambda n: customer_list_page(organization),
        runs,
        "",
    )
    return m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--followups", type=int, default=3_000_000, help="follow-ups wanted (default 3,000,000)")
    parser.add_argument(
        "--staff", type=int, default=2_000, help="front-desk staff the customers are spread over (default 2,000)"
    )
    parser.add_argument("--runs", type=int, default=300, help="samples of each measurement (default 300)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each measured statement once")
    parser.add_argument("--only", default="", help="letters of the measurements to run, e.g. ab (default all)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the bench needs a PostgreSQL database URL")
    setup_django(args.database_url)

    from django.core.management import call_command
    from django.db import connection

    from huitou.customers.models import Customer
    from huitou.demo.models import DemoOrganization
    from huitou.lifecycle.models import FollowUp, FollowUpTask, StageChange
    from huitou.service.models import ServiceOrder

    call_command("migrate", verbosity=0)
    marker = DemoOrganization.objects.filter(user_prefix=BENCH_PREFIX).select_related("organization").first()
    if marker is None:
        sys.exit("No bench organization: run bench/search.py first (it builds 1,000,000 customers).")
    org = marker.organization
    built = ensure_lifecycle(org, args.followups, args.staff)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    sizes = (
        f"{Customer.objects.for_org(org).count():,} customers, {ServiceOrder.objects.for_org(org).count():,} orders, "
        f"{FollowUp.objects.for_org(org).count():,} follow-ups, {StageChange.objects.for_org(org).count():,} stage "
        f"changes, {FollowUpTask.objects.for_org(org).count():,} tasks "
        f"({FollowUpTask.objects.for_org(org).filter(closed_at=None).count():,} open); PostgreSQL {version}"
    )
    print(sizes)
    print(f"machine: {machine()}")
    m = measure(org, args.runs, args.seed, args.only)
    if args.explain:
        explain(m.statements)
    print()
    print(built)
    print(sizes)
    print(f"machine: {machine()}")
    print()
    print("\n".join(m.table()))
    slow = m.slow()
    if slow:
        print(f"\nslower than {SLOW_MS:.0f} ms at p95: {', '.join(slow)} (run with --explain)")


if __name__ == "__main__":
    main()
