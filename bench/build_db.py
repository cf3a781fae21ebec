"""Build the benchmarks' data set: a demo organization of up to millions of customers, in bulk.

    .venv/bin/python bench/build_db.py --customers 1000000 [--orders-per-customer 5 [--loyalty]] [--database-url URL]

What ``huitou demo`` writes through the services, written directly for
large N (``bench/bulkload``): the demo's staff and logins, customers,
vehicles, mileage readings, their lifecycle (stage changes, follow-ups,
tasks) and, with ``--orders-per-customer``, paid orders with lines and
payments; with ``--loyalty`` too, membership for every customer (accounts,
points, stored value, coupons, package cards, referral rewards). On
PostgreSQL a big load into empty tables drops their secondary indexes
and foreign keys and rebuilds them at the end, locking the tables
until it commits: give it a database of its own. The database is
``--database-url``, else ``$BENCH_DATABASE_URL``, else
``postgres://postgres@127.0.0.1:5432/huitou_bench`` (created when missing).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from common import setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huitou_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--orders-per-customer", type=float, default=None)
    parser.add_argument("--org", default="", help="organization name (default the demo's)")
    parser.add_argument("--user-prefix", default="", help="prefix of the usernames")
    parser.add_argument("--reset", action="store_true", help="delete this demo organization first, if it exists")
    parser.add_argument(
        "--loyalty",
        action="store_true",
        help="then membership for every customer: accounts, points, stored value, coupons, cards, referral rewards",
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if args.database_url.startswith(("postgres://", "postgresql://")):
        from search import ensure_database

        ensure_database(args.database_url, rebuild=False)
    setup_django(args.database_url)

    from bulkload.build import bulk_build
    from django.core.management import call_command

    from huitou.demo.services import DEMO_ORG_NAME

    call_command("migrate", verbosity=0)
    started = time.monotonic()

    def progress(done: int) -> None:
        print(f"  {done:>9,} / {args.customers:,} customers  {time.monotonic() - started:7.1f} s")

    result = bulk_build(
        customers=args.customers,
        seed=args.seed,
        org_name=args.org or DEMO_ORG_NAME,
        user_prefix=args.user_prefix,
        reset=args.reset,
        orders_per_customer=args.orders_per_customer,
        progress=progress,
        log=print,
    )
    if not result.created:
        print(f"{result.organization.name} exists; nothing changed (use --reset to rebuild it).")
        return
    stats = result.stats
    assert stats is not None
    print(
        f"{result.organization.name}: {stats.customers:,} customers, {stats.vehicles:,} vehicles, "
        f"{stats.readings:,} mileage readings, {stats.followups:,} follow-ups in {stats.seconds:.0f} s "
        f"(of which {stats.rebuild_seconds:.0f} s rebuilding indexes and foreign keys)"
    )
    if result.orders is not None:
        o = result.orders
        print(f"orders: {o.orders:,} paid orders, {o.lines:,} lines, {o.payments:,} payments in {o.seconds:.0f} s")
    if args.loyalty:
        if result.orders is None:
            sys.exit("--loyalty needs --orders-per-customer: the ledgers follow the paid orders.")
        from bulkload.loyalty_rows import bulk_loyalty
        from django.db import transaction

        from huitou.tenancy.scope import unscoped

        with unscoped(), transaction.atomic():
            loyalty = bulk_loyalty(organization=result.organization, log=print)
        entries = loyalty.ledger_entries
        print(f"membership: {loyalty.accounts:,} accounts, {entries:,} ledger entries in {loyalty.seconds:.0f} s")
    print(f"total {time.monotonic() - started:.0f} s, committed")


if __name__ == "__main__":
    main()
