"""The demo's service history: catalog, hours, paid orders, visits, appointments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.customers.models import Customer, MileageReading
from huitou.demo.orders import HistoryStats
from huitou.demo.services import demo_build
from huitou.loyalty.models import CardProduct
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
    # The starter catalog, and the service items the starter package cards are sold as.
    assert ServiceItem.objects.for_org(org).exclude(code__startswith="CARD-").count() == len(SERVICES)
    sale_items = set(CardProduct.objects.for_org(org).values_list("sale_item_id", flat=True))
    assert (
        set(ServiceItem.objects.for_org(org).filter(code__startswith="CARD-").values_list("pk", flat=True))
        == sale_items
    )
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
    # Yesterday morning: a moment already past whenever the test runs.
    now = (timezone.localtime() - dt.timedelta(days=1)).replace(hour=11, minute=5, second=0, microsecond=0)

    def summary(prefix: str) -> list[tuple[Any, ...]]:
        org = demo_build(customers=12, seed=9, now=now, user_prefix=prefix, org_name="同种子" + prefix).organization
        return list(
            orders_of(org)
            .order_by("opened_at", "pk", "lines__pk")
            .values_list("number", "state", "total", "opened_at", "vehicle__plate", "lines__name")
        )

    assert summary("s1_") == summary("s2_")


def test_a_demo_built_just_after_midnight_keeps_todays_work_in_the_past(db: Any) -> None:
    # A minute into the day (or now, in that very minute): today's arrivals and open orders
    # fit between midnight and the moment the demo is built, never after it.
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    now = min(timezone.localtime(), midnight + dt.timedelta(minutes=1))
    org = demo_build(customers=40, seed=5, now=now, user_prefix="mn_", org_name="午夜演示").organization
    today = orders_of(org).filter(opened_at__gte=midnight)
    assert today.exists()
    assert not today.filter(opened_at__gt=now).exists()
    assert not MileageReading.objects.for_org(org).filter(read_at__gt=now).exists()


def test_orders_and_their_history_carry_the_storys_dates(demo: Any, db: Any) -> None:
    org = demo.organization
    changes = ChangeEntry.objects.for_org(org).filter(subject_type="serviceorder")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    past = orders_of(org).filter(state=OrderState.PAID, opened_at__date__lt=yesterday)
    assert past.count() > 20
    for order in past.prefetch_related("payments"):
        # The number is the day the order was opened in the story, not the day the demo was built.
        assert order.number.startswith(timezone.localtime(order.opened_at).strftime("%Y%m%d-"))
        assert order.opened_at <= order.completed_at <= order.paid_at
        assert all(order.opened_at < p.at <= order.paid_at + dt.timedelta(days=2) for p in order.payments.all())
        at = [c.at for c in changes.filter(subject_id=order.pk)]
        assert min(at) == order.opened_at
        assert max(at) < order.paid_at + dt.timedelta(days=2)
