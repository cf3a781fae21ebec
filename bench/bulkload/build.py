"""The benchmarks' data set: a demo organization of up to millions of customers, written in bulk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from bulkload.customers import BulkLoader
from bulkload.orders import BulkStats, bulk_orders
from huitou.demo.generator import MAX_CUSTOMERS, DemoGenerator
from huitou.demo.loaders import LoadStats
from huitou.demo.orders import catalog_and_hours
from huitou.demo.services import DEMO_ORG_NAME, DemoError, DemoResult, demo_organization_create
from huitou.tenancy.models import Organization
from huitou.tenancy.scope import unscoped


@dataclass
class BulkResult:
    organization: Organization
    created: bool
    stats: LoadStats | None = None
    orders: BulkStats | None = None


def bulk_build(
    *,
    customers: int,
    seed: int = 2026,
    org_name: str = DEMO_ORG_NAME,
    user_prefix: str = "",
    reset: bool = False,
    now: dt.datetime | None = None,
    orders_per_customer: float | None = None,
    progress: Callable[[int], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> BulkResult:
    """A demo organization (as ``huitou demo`` makes it: shops, staff, logins) with ``customers`` customers
    from the demo's generator, their lifecycle rows and, with ``orders_per_customer``, about that many paid
    orders each, all in one transaction.

    Customers, vehicles, readings and the lifecycle are written as the
    services would have written them for the same story
    (``bench/bulkload/tests`` checks it file by file); the daily visit
    check's moves are its own when orders follow, imported otherwise.
    Loads of at least ``customers.REBUILD_MIN`` customers into tables no
    bigger than the load drop their secondary indexes and foreign keys and
    rebuild them at the end (PostgreSQL): the tables are locked until then,
    so give the bench a database of its own.
    """
    if not 0 <= customers <= MAX_CUSTOMERS:
        raise DemoError(f"--customers must be between 0 and {MAX_CUSTOMERS:,}.")
    if orders_per_customer is not None and not 0 <= orders_per_customer <= 100:
        raise DemoError("--orders-per-customer must be between 0 and 100.")
    # The loader reads and writes one organization's rows by id; purging a reset one crosses tables.
    with unscoped(), transaction.atomic():
        setup = demo_organization_create(
            customers=customers, seed=seed, org_name=org_name, user_prefix=user_prefix, reset=reset
        )
        if isinstance(setup, DemoResult):
            return BulkResult(organization=setup.organization, created=False)
        organization, staff = setup.organization, setup.staff
        now = now or timezone.localtime()
        specs = DemoGenerator(seed=seed, now=now).customers(customers)
        loader = BulkLoader(organization=organization, staff=staff, visits_recorded=orders_per_customer is not None)
        stats = loader.load(specs, total=customers, progress=progress, log=log)
        orders = None
        if orders_per_customer is not None:
            orders = bulk_orders(
                organization=organization, staff=staff, per_customer=orders_per_customer, seed=seed, now=now, log=log
            )
        else:
            catalog_and_hours(organization=organization)
    return BulkResult(organization=organization, created=True, stats=stats, orders=orders)
