"""``huitou demo``: a demo organization with staff of every role and realistic customers."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from huitou.demo.orders import BulkStats, HistoryStats
from huitou.demo.services import DEMO_ORG_NAME, LOGIN_URL, DemoError, DemoResult, demo_build
from huitou.lifecycle.models import FollowUp, FollowUpTask, StageChange
from huitou.tenancy.roles import Role


class Command(BaseCommand):
    help = (
        "Create the demo organization 顺达汽修 (two shops, users owner/advisor/service/tech) with realistic "
        "customers, vehicles, mileage histories and lifecycles (follow-ups, stage changes, follow-up tasks "
        "due today). The same --seed gives the same people, cars and plates; "
        "the dates end yesterday. With --org and --user-prefix, add a further organization whose users are "
        "<prefix>owner, <prefix>advisor, ... Large bulk loads on PostgreSQL lock the customer tables until "
        "they finish: give them a database of their own."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=300, help="number of customers (default 300)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument("--reset", action="store_true", help="delete this demo organization first, if it exists")
        parser.add_argument("--org", default="", help=f"organization name (default {DEMO_ORG_NAME})")
        parser.add_argument("--user-prefix", default="", help="prefix of the usernames; needed with --org")
        parser.add_argument(
            "--method",
            choices=("auto", "services", "bulk"),
            default="auto",
            help="services: through the business services, with change history (slow); bulk: COPY/batched "
            "inserts (fast); auto: services up to 2,000 customers",
        )
        parser.add_argument(
            "--orders-per-customer",
            type=float,
            default=None,
            help="write about this many paid orders per customer in bulk (COPY on PostgreSQL) instead of the "
            "service history of a small demo",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        org_name, prefix = options["org"].strip(), options["user_prefix"].strip()
        if bool(org_name) != bool(prefix):
            raise CommandError("--org and --user-prefix go together: a further organization needs its own usernames.")
        total = options["customers"]
        started = time.monotonic()

        def progress(done: int) -> None:
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed else 0
            self.stdout.write(f"  {done:>9,} / {total:,} customers  {elapsed:7.1f} s  ({rate:,.0f}/s)")

        try:
            result = demo_build(
                customers=total,
                seed=options["seed"],
                org_name=org_name or DEMO_ORG_NAME,
                user_prefix=prefix,
                reset=options["reset"],
                method=options["method"],
                progress=progress if options["verbosity"] >= 1 else None,
                log=self.stdout.write if options["verbosity"] >= 1 else None,
                orders_per_customer=options["orders_per_customer"],
            )
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        self._report(result, time.monotonic() - started)

    def _report_orders(self, result: DemoResult) -> None:
        orders = result.orders
        if isinstance(orders, HistoryStats):
            self.stdout.write(
                f"  service history: {orders.orders:,} orders ({orders.paid:,} paid, {orders.voided} void, "
                f"{orders.open_today} open today), {orders.lines:,} lines, {orders.payments:,} payments, "
                f"{orders.adjustments} adjustments, {orders.declined} declined recommendations, "
                f"{orders.appointments} appointments in {orders.seconds:.1f} s"
            )
        elif isinstance(orders, BulkStats):
            self.stdout.write(
                f"  orders in bulk: {orders.orders:,} paid orders, {orders.lines:,} lines, {orders.payments:,} "
                f"payments in {orders.seconds:.1f} s"
            )

    def _report_lifecycle(self, result: DemoResult) -> None:
        org = result.organization
        today = timezone.localdate()
        tasks = FollowUpTask.objects.for_org(org).filter(closed_at=None)
        self.stdout.write(
            f"  lifecycle: {FollowUp.objects.for_org(org).count():,} follow-ups, "
            f"{StageChange.objects.for_org(org).count():,} stage changes, {tasks.count():,} open follow-up tasks "
            f"({tasks.filter(due_on=today).count():,} due today, {tasks.filter(due_on__lt=today).count():,} overdue)"
        )

    def _report(self, result: DemoResult, seconds: float) -> None:
        org = result.organization
        if not result.created:
            self.stdout.write(
                f"The demo organization {org.name} already exists; nothing changed (use --reset to rebuild it)."
            )
        else:
            stats = result.stats
            assert stats is not None
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created demo organization {org.name}: {stats.customers:,} customers, {stats.vehicles:,} "
                    f"vehicles, {stats.readings:,} mileage readings in {seconds:.1f} s ({result.method})."
                )
            )
            if stats.rebuild_seconds:
                self.stdout.write(f"  of which {stats.rebuild_seconds:.1f} s rebuilding indexes and foreign keys")
            self._report_orders(result)
            self._report_lifecycle(result)
        self.stdout.write(f"\nLog in at {LOGIN_URL}")
        width = max(len(login.username) for login in result.logins)
        for login in result.logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.password}  {Role(login.role).label}")
        self.stdout.write("These demo passwords are public: do not keep a demo organization on a shop's real system.")
