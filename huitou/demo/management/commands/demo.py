"""``huitou demo``: a demo organization with staff of every role and realistic customers."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from huitou.demo.orders import HistoryStats
from huitou.demo.services import (
    DEFAULT_CUSTOMERS,
    DEFAULT_SEED,
    DEMO_ORG_NAME,
    LOGIN_URL,
    MAX_CUSTOMERS,
    DemoError,
    DemoResult,
    demo_build,
)
from huitou.lifecycle.models import FollowUp, FollowUpTask, StageChange
from huitou.tenancy.roles import Role


class Command(BaseCommand):
    help = (
        "Create the demo organization 顺达汽修 (two shops, users owner/advisor/service/tech) with realistic "
        "customers, vehicles, mileage histories and lifecycles (follow-ups, stage changes, follow-up tasks "
        "due today). The same --seed gives the same people, cars and plates; "
        "the dates end yesterday. With --org and --user-prefix, add a further organization whose users are "
        "<prefix>owner, <prefix>advisor, ... Everything goes through the business services, with change "
        "history; the benchmarks' million-row data sets come from bench/build_db.py."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=DEFAULT_CUSTOMERS,
            help=f"number of customers (default {DEFAULT_CUSTOMERS}, at most {MAX_CUSTOMERS:,})",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
        parser.add_argument("--reset", action="store_true", help="delete this demo organization first, if it exists")
        parser.add_argument("--org", default="", help=f"organization name (default {DEMO_ORG_NAME})")
        parser.add_argument("--user-prefix", default="", help="prefix of the usernames; needed with --org")

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
                progress=progress if options["verbosity"] >= 1 else None,
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
            loyalty, callbacks = orders.loyalty, orders.callbacks
            self.stdout.write(
                f"  membership: {loyalty.members} members, {loyalty.top_ups} top-ups, {loyalty.cards_sold} package "
                f"cards sold ({loyalty.card_uses} uses), {loyalty.coupons_used} coupons used, "
                f"{loyalty.points_redeemed:,} points redeemed; callbacks: {callbacks.done} done, "
                f"{callbacks.skipped} skipped"
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
                    f"vehicles, {stats.readings:,} mileage readings in {seconds:.1f} s."
                )
            )
            self._report_orders(result)
            self._report_lifecycle(result)
        self.stdout.write(f"\nLog in at {LOGIN_URL}")
        width = max(len(login.username) for login in result.logins)
        for login in result.logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.password}  {Role(login.role).label}")
        self.stdout.write("These demo passwords are public: do not keep a demo organization on a shop's real system.")
