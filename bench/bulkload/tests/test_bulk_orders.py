"""The benchmarks' bulk orders: paid orders from each file's conversion, visit stats as the service sets them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Min, Sum
from django.utils import timezone

from bulkload.build import bulk_build
from bulkload.orders import BulkStats, customer_visits_refresh_all
from huitou.customers.models import Customer
from huitou.lifecycle.models import StageChange
from huitou.service.models import OrderState, Payment, ServiceOrder
from huitou.service.services.orders import customer_visits_refresh, order_number
from huitou.tenancy.models import Organization

NOW = dt.datetime(2026, 6, 15, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def orders_of(organization: Organization) -> Any:
    return ServiceOrder.objects.for_org(organization)


def first_paid(organization: Organization) -> dict[int, dt.datetime]:
    return dict(
        ServiceOrder.objects.for_org(organization)
        .filter(state=OrderState.PAID)
        .values("customer_id")
        .annotate(first=Min("paid_at"))
        .values_list("customer_id", "first")
    )


def test_bulk_orders_begin_with_each_files_conversion(db: Any) -> None:
    org = bulk_build(
        customers=60, seed=4, now=NOW, orders_per_customer=3, user_prefix="bo_", org_name="批量订单"
    ).organization
    paid = first_paid(org)
    assert paid
    for c in Customer.objects.for_org(org):
        assert c.converted_at == paid.get(c.pk) or (c.converted_at is not None and not c.vehicles.exists())
        assert c.first_visit_at == paid.get(c.pk)
        if c.converted_at is not None:
            assert c.intent_at is not None and c.intent_at <= c.converted_at
        if c.stage in ("dormant", "lost") and c.converted_at is not None:
            assert (NOW - c.last_visit_at).days > 180
    reasons = set(StageChange.objects.for_org(org).values_list("reason", flat=True))
    assert "no_visit" in reasons and "imported" not in reasons


def test_the_bulk_path_writes_paid_orders_with_lines_and_payments_and_the_visit_stats(db: Any) -> None:
    result = bulk_build(customers=30, seed=4, orders_per_customer=3, user_prefix="bk_", org_name="批量")
    org = result.organization
    stats = result.orders
    assert isinstance(stats, BulkStats)
    orders = orders_of(org)
    assert orders.count() == stats.orders > 30
    assert not orders.exclude(state=OrderState.PAID).exists()
    for order in orders.annotate(line_sum=Sum("lines__amount")):
        assert order.total == order.amount_paid == Decimal(order.line_sum).quantize(Decimal("0.01"))
    paid = dict(Payment.objects.for_org(org).values("order_id").annotate(s=Sum("amount")).values_list("order_id", "s"))
    assert all(Decimal(paid[o.pk]).quantize(Decimal("0.01")) == o.total for o in orders)
    numbers = list(orders.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    for customer in Customer.objects.for_org(org):
        mine = orders.filter(customer=customer)
        assert customer.visit_count == mine.count()
        assert customer.lifetime_spend == Decimal(mine.aggregate(s=Sum("total"))["s"] or 0).quantize(Decimal("0.01"))
    # The bulk refresh gives the same figures as the service's refresh.
    assert customer_visits_refresh_all(organization_id=org.pk) == len(set(orders.values_list("customer_id", flat=True)))


def test_visit_figures_and_order_numbers_are_what_the_services_give(db: Any) -> None:
    org = bulk_build(customers=30, seed=6, orders_per_customer=3, user_prefix="vs_", org_name="对照").organization
    customers = Customer.objects.for_org(org).order_by("pk")
    fields = ("visit_count", "lifetime_spend", "first_visit_at", "last_visit_at")
    in_bulk = list(customers.values_list("pk", *fields))
    assert sum(row[1] for row in in_bulk) > 30
    for pk, *_figures in in_bulk:
        customer_visits_refresh(organization_id=org.pk, customer_id=pk)
    assert list(customers.values_list("pk", *fields)) == in_bulk
    for order in orders_of(org):
        day = timezone.localdate(order.opened_at)
        assert order.number.startswith(order_number(day, 1)[:-4])
