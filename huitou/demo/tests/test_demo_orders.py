"""The demo's service history: catalog, hours, paid orders, visits, appointments; and the bulk path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.customers.models import Customer, MileageReading
from huitou.demo.orders import BulkStats, HistoryStats, customer_visits_refresh_all
from huitou.demo.services import demo_build
from huitou.service.models import (
    Appointment,
    OpeningHours,
    OrderAdjustment,
    OrderLine,
    OrderState,
    Part,
    Payment,
    Recommendation,
    ServiceItem,
    ServiceOrder,
)
from huitou.service.starter import PARTS, SERVICES
from huitou.tenancy.models import Organization, Shop

ZERO = Decimal("0.00")


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One small demo through the services, shared by the read-only tests of this module."""
    with django_db_blocker.unblock():
        result = demo_build(customers=40, seed=5, user_prefix="ord_", org_name="订单演示")
        yield result
        from huitou.demo.services import organization_purge

        organization_purge(organization=result.organization)


def orders_of(organization: Organization) -> Any:
    return ServiceOrder.objects.for_org(organization)


def test_the_demo_has_the_starter_catalog_and_every_shops_hours(demo: Any, db: Any) -> None:
    org = demo.organization
    assert ServiceItem.objects.for_org(org).count() == len(SERVICES)
    assert Part.objects.for_org(org).count() == len(PARTS)
    for shop in Shop.objects.for_org(org):
        assert OpeningHours.objects.for_org(org).filter(shop=shop).count() == 7


def test_most_customers_with_a_car_have_paid_orders_with_lines_technicians_and_payments(demo: Any, db: Any) -> None:
    org = demo.organization
    stats = demo.orders
    assert isinstance(stats, HistoryStats)
    paid = orders_of(org).filter(state=OrderState.PAID)
    assert paid.count() == stats.paid > 40
    with_visits = Customer.objects.for_org(org).filter(
        vehicles__mileage_at__gte=timezone.now() - dt.timedelta(days=700)
    )
    buyers = set(paid.values_list("customer_id", flat=True))
    assert len(buyers) >= 0.8 * with_visits.distinct().count()
    assert OrderLine.objects.for_org(org).filter(kind="service", technician__isnull=False).exists()
    assert OrderLine.objects.for_org(org).filter(kind="part").exists()
    assert OrderLine.objects.for_org(org).filter(discount__gt=0).exists()
    methods = set(Payment.objects.for_org(org).values_list("method", flat=True))
    assert {"wechat", "alipay"} <= methods
    # Spread over the last two years, all in the past.
    span = paid.aggregate(first=Min("paid_at"), last=Max("paid_at"))
    now = timezone.now()
    assert span["last"] <= now
    assert span["first"] < now - dt.timedelta(days=180)
    assert span["first"] > now - dt.timedelta(days=735)


def test_every_order_total_is_the_sum_of_its_lines_and_adjustments_and_paid_orders_are_paid_in_full(
    demo: Any, db: Any
) -> None:
    org = demo.organization
    lines = dict(
        OrderLine.objects.for_org(org).values("order_id").annotate(s=Sum("amount")).values_list("order_id", "s")
    )
    adjustments = dict(
        OrderAdjustment.objects.for_org(org).values("order_id").annotate(s=Sum("amount")).values_list("order_id", "s")
    )
    payments = dict(
        Payment.objects.for_org(org).values("order_id").annotate(s=Sum("amount")).values_list("order_id", "s")
    )
    for order in orders_of(org):
        line_sum = Decimal(lines.get(order.pk) or 0).quantize(Decimal("0.01"))
        adjusted = Decimal(adjustments.get(order.pk) or 0).quantize(Decimal("0.01"))
        assert order.lines_total == line_sum
        assert order.total == line_sum + adjusted
        if order.state == OrderState.PAID:
            assert order.amount_paid == order.total == Decimal(payments[order.pk]).quantize(Decimal("0.01"))
            assert order.paid_at is not None and order.opened_at <= order.completed_at <= order.paid_at


def test_visit_stats_of_every_customer_match_the_paid_orders(demo: Any, db: Any) -> None:
    org = demo.organization
    figures = {
        row["customer_id"]: row
        for row in orders_of(org)
        .filter(state=OrderState.PAID)
        .values("customer_id")
        .annotate(n=Count("pk"), spend=Sum("total"), first=Min("paid_at"), last=Max("paid_at"))
    }
    for customer in Customer.objects.for_org(org):
        row = figures.get(customer.pk)
        if row is None:
            assert (customer.visit_count, customer.lifetime_spend, customer.last_visit_at) == (0, ZERO, None)
            continue
        assert customer.visit_count == row["n"]
        assert customer.lifetime_spend == Decimal(row["spend"]).quantize(Decimal("0.01"))
        assert customer.first_visit_at == row["first"]
        assert customer.last_visit_at == row["last"]


def test_there_are_open_orders_today_voids_adjustments_and_declined_recommendations(demo: Any, db: Any) -> None:
    org = demo.organization
    today = timezone.localdate()
    open_today = orders_of(org).filter(state__in=[OrderState.OPEN, OrderState.IN_PROGRESS])
    assert open_today.exists()
    assert all(timezone.localdate(o.opened_at) == today for o in open_today)
    assert orders_of(org).filter(state=OrderState.VOID).exclude(void_reason="").exists()
    assert OrderAdjustment.objects.for_org(org).exclude(reason="").count() >= 2
    assert Recommendation.objects.for_org(org).filter(status=Recommendation.Status.DECLINED).exists()
    # Orders carry the story's day in their number and their history.
    order = orders_of(org).filter(state=OrderState.PAID).order_by("opened_at").first()
    assert order.number.startswith(timezone.localtime(order.opened_at).strftime("%Y%m%d-"))
    entry = ChangeEntry.objects.for_org(org).filter(subject_type="serviceorder", subject_id=order.pk).first()
    assert entry is not None and entry.at == order.opened_at


def test_order_mileage_follows_the_vehicles_readings(demo: Any, db: Any) -> None:
    org = demo.organization
    with_km = orders_of(org).exclude(mileage=None).select_related("mileage")
    assert with_km.exists()
    for order in with_km:
        assert order.mileage_km == order.mileage.km
        assert order.mileage.source == MileageReading.Source.ORDER
    # No reading is lower than the one before it (the demo wrote them through mileage_record's rule).
    previous: dict[int, int] = {}
    for reading in MileageReading.objects.for_org(org).order_by("vehicle_id", "read_at", "pk"):
        assert reading.km >= previous.get(reading.vehicle_id, 0)
        previous[reading.vehicle_id] = reading.km


def test_appointments_today_and_in_the_coming_days(demo: Any, db: Any) -> None:
    org = demo.organization
    today = timezone.localdate()
    appointments = Appointment.objects.for_org(org)
    assert appointments.filter(day__gt=today).exists()
    assert appointments.filter(day__gte=today).count() >= 8
    assert appointments.filter(state=Appointment.State.CONFIRMED).exists()
    assert not appointments.filter(day__lt=today).exists()


def test_the_history_is_the_same_for_the_same_seed(db: Any) -> None:
    now = timezone.localtime().replace(hour=11, minute=5, second=0, microsecond=0)

    def summary(prefix: str) -> list[tuple[Any, ...]]:
        org = demo_build(customers=12, seed=9, now=now, user_prefix=prefix, org_name="同种子" + prefix).organization
        return list(
            orders_of(org)
            .order_by("opened_at", "pk", "lines__pk")
            .values_list("number", "state", "total", "opened_at", "vehicle__plate", "lines__name")
        )

    assert summary("s1_") == summary("s2_")


def test_the_bulk_path_writes_paid_orders_with_lines_and_payments_and_the_visit_stats(db: Any) -> None:
    result = demo_build(customers=30, seed=4, method="bulk", orders_per_customer=3, user_prefix="bk_", org_name="批量")
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
