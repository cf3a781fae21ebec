"""Reads of the service domain: catalog, orders, visit history, appointments."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.service.models import (
    Appointment,
    OrderAdjustment,
    OrderLine,
    Part,
    Payment,
    Recommendation,
    ServiceItem,
    ServiceOrder,
)
from huitou.tenancy.models import Organization


def service_items(organization: Organization | int, *, active_only: bool = True) -> QuerySet[ServiceItem]:
    items = ServiceItem.objects.for_org(organization).order_by("category", "name")
    return items.filter(is_active=True) if active_only else items


def parts(organization: Organization | int, *, active_only: bool = True) -> QuerySet[Part]:
    found = Part.objects.for_org(organization).order_by("name")
    return found.filter(is_active=True) if active_only else found


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local day as an aware [start, end) range."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def order_list(
    *,
    organization: Organization | int,
    shop_id: int | None = None,
    day: dt.date | None = None,
    state: str = "",
    customer_id: int | None = None,
) -> QuerySet[ServiceOrder]:
    """Orders, newest first, with customer, vehicle and advisor (one query)."""
    orders = ServiceOrder.objects.for_org(organization)
    if shop_id:
        orders = orders.filter(shop_id=shop_id)
    if day:
        start, end = day_bounds(day)
        orders = orders.filter(opened_at__gte=start, opened_at__lt=end)
    if state:
        orders = orders.filter(state=state)
    if customer_id:
        orders = orders.filter(customer_id=customer_id)
    return orders.select_related("customer", "vehicle", "advisor", "shop").order_by("-opened_at", "-pk")


def order_for_page(*, organization: Organization | int, order_id: int) -> ServiceOrder:
    """An order with everything its page and bill show, in a fixed number of queries.

    1 order (+ shop, customer, vehicle, advisor), 2 lines (+ technician),
    3 payments (+ receiver), 4 adjustments (+ author), 5 recommendations.
    Raises ServiceOrder.DoesNotExist.
    """
    return (
        ServiceOrder.objects.for_org(organization)
        .select_related("shop", "customer", "vehicle", "advisor", "organization")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("technician").order_by("pk")),
            Prefetch("payments", queryset=Payment.objects.select_related("received_by").order_by("at", "pk")),
            Prefetch("adjustments", queryset=OrderAdjustment.objects.select_related("author").order_by("at", "pk")),
            Prefetch(
                "recommendations",
                queryset=Recommendation.objects.select_related("recorded_by", "service").order_by("pk"),
            ),
        )
        .get(pk=order_id)
    )


def visit_history(*, customer: Customer, limit: int = 50) -> list[ServiceOrder]:
    """The customer's orders, newest first, with vehicle (one query)."""
    return list(
        ServiceOrder.objects.for_org(customer.organization_id)
        .filter(customer=customer)
        .select_related("vehicle", "shop")
        .order_by("-opened_at", "-pk")[:limit]
    )


def declined_recommendations(*, customer: Customer) -> QuerySet[Recommendation]:
    """Work the customer said no to, for the follow-up (建议项目未做)."""
    return (
        Recommendation.objects.for_org(customer.organization_id)
        .filter(customer=customer, status=Recommendation.Status.DECLINED)
        .select_related("vehicle")
        .order_by("-recorded_at")
    )


def appointments_between(
    *, organization: Organization | int, shop_id: int, first: dt.date, last: dt.date
) -> QuerySet[Appointment]:
    return (
        Appointment.objects.for_org(organization)
        .filter(shop_id=shop_id, day__gte=first, day__lte=last)
        .select_related("customer", "vehicle", "service")
        .order_by("day", "slot", "pk")
    )


def arrivals_today(*, organization: Organization | int, shop_id: int) -> QuerySet[Appointment]:
    """Today's expected and arrived customers for the front desk."""
    today = timezone.localdate()
    return appointments_between(organization=organization, shop_id=shop_id, first=today, last=today).filter(
        state__in=[Appointment.State.BOOKED, Appointment.State.CONFIRMED, Appointment.State.ARRIVED]
    )
