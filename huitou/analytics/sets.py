"""The sets behind the dashboard's figures: the payments, paid orders, lines, new customers and
stage changes of a period, as the dashboard defines them (``dashboard``'s docstring).

One home for the definitions: the live statements of ``dashboard`` and the
writers of the daily facts (``facts``) both build on these.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery

from huitou.customers.models import Customer
from huitou.lifecycle.models import StageChange
from huitou.loyalty.models import LoyaltyAccount
from huitou.service.models import OrderLine, OrderState, Payment, ServiceOrder
from huitou.tenancy.models import Organization


def payments_in(
    org: Organization | int, start: dt.datetime, end: dt.datetime, shop_id: int | None
) -> QuerySet[Payment]:
    payments = Payment.objects.for_org(org).filter(at__gte=start, at__lt=end).exclude(order__state=OrderState.VOID)
    return payments.filter(order__shop_id=shop_id) if shop_id else payments


def member_when_paid(org: Organization | int, customer: str, at: str) -> Exists:
    """The customer (``customer``: a path to its id) had joined the membership by ``at`` (a path to a time)."""
    return Exists(
        LoyaltyAccount.objects.for_org(org).filter(
            customer_id=OuterRef(customer), member_since__isnull=False, member_since__lte=OuterRef(at)
        )
    )


def paid_orders_in(
    org: Organization | int, start: dt.datetime, end: dt.datetime, shop_id: int | None
) -> QuerySet[ServiceOrder]:
    orders = ServiceOrder.objects.for_org(org).filter(state=OrderState.PAID, paid_at__gte=start, paid_at__lt=end)
    return orders.filter(shop_id=shop_id) if shop_id else orders


def costed_lines(org: Organization | int) -> QuerySet[OrderLine]:
    """Part lines with a known cost, and the discount lines given on them."""
    return OrderLine.objects.for_org(org).filter(
        Q(kind=OrderLine.Kind.PART, unit_cost__isnull=False)
        | Q(kind=OrderLine.Kind.DISCOUNT, applies_to__kind=OrderLine.Kind.PART, applies_to__unit_cost__isnull=False)
    )


def first_visit_at_shop(org: Organization | int, customer: str, first_visit: str, shop_id: int) -> Exists:
    return Exists(
        ServiceOrder.objects.for_org(org).filter(
            customer_id=OuterRef(customer), state=OrderState.PAID, paid_at=OuterRef(first_visit), shop_id=shop_id
        )
    )


def visited_shop(org: Organization | int, customer: str, shop_id: int) -> Exists:
    return Exists(
        ServiceOrder.objects.for_org(org).filter(customer_id=OuterRef(customer), state=OrderState.PAID, shop_id=shop_id)
    )


def new_customers_in(
    org: Organization | int, start: dt.datetime, end: dt.datetime, shop_id: int | None
) -> QuerySet[Customer]:
    """Files whose first paid visit is in the range (at the shop, when one is chosen)."""
    customers = Customer.objects.for_org(org).filter(
        deleted_at__isnull=True, first_visit_at__gte=start, first_visit_at__lt=end
    )
    if shop_id:
        customers = customers.filter(first_visit_at_shop(org, "pk", "first_visit_at", shop_id))
    return customers


def next_visit(org: Organization | int) -> Subquery:
    """The customer's first paid order after the first visit: when it was paid."""
    later = ServiceOrder.objects.for_org(org).filter(
        customer_id=OuterRef("pk"), state=OrderState.PAID, paid_at__gt=OuterRef("first_visit_at")
    )
    return Subquery(later.order_by("paid_at").values("paid_at")[:1])


def visit_gap() -> ExpressionWrapper:
    return ExpressionWrapper(F("next_visit") - F("first_visit_at"), output_field=DurationField())


def stage_changes_in(
    org: Organization | int, start: dt.datetime, end: dt.datetime, shop_id: int | None
) -> QuerySet[StageChange]:
    changes = StageChange.objects.for_org(org).filter(at__gte=start, at__lt=end, customer__deleted_at__isnull=True)
    return changes.filter(visited_shop(org, "customer_id", shop_id)) if shop_id else changes
