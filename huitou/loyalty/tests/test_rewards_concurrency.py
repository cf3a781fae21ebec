"""Races: one coupon used from two counters, the last points redeemed twice at once.

Threads with their own connections (PostgreSQL): the row locks decide; the
loser answers a conflict and nothing of it is written.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from huitou.customers.models import Customer
from huitou.loyalty.models import Coupon, CouponEntry, CouponKind, CouponTrigger, LoyaltyAccount, PointsEntry
from huitou.loyalty.services.coupons import coupon_apply, coupon_issue, coupon_template_save
from huitou.loyalty.services.points import points_redeem
from huitou.service.errors import StateConflict
from huitou.service.models import OrderLine, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.service.tests.test_concurrency import postgres_only, race, split
from huitou.tenancy.models import Organization, User

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def counters(
    advisor: User, make_customer: Callable[..., Customer], make_vehicle: Any, make_order: Any, make_service_item: Any
) -> tuple[Customer, ServiceItem, list[ServiceOrder]]:
    """A customer with two open orders of one 300-yuan service, at two counters."""
    customer = make_customer(name="陈先生")
    item = make_service_item(labour_price="300.00")
    vehicle = make_vehicle(customer)
    orders = []
    for _ in range(2):
        order = make_order(vehicle=vehicle)
        order_add_line(order=order, by=advisor, service=item)
        orders.append(order)
    return customer, item, orders


def test_one_coupon_from_two_counters_exactly_one_wins(
    org: Organization, advisor: User, owner: User, counters: Any
) -> None:
    customer, _item, orders = counters
    template = coupon_template_save(
        organization=org, data={"code": "c20", "name": "20元工时券", "kind": CouponKind.AMOUNT, "value": "20"}
    )
    coupon = coupon_issue(customer=customer, template=template, source=CouponTrigger.MANUAL, by=advisor)
    results = race(
        lambda: coupon_apply(order=orders[0], coupon=coupon, by=advisor),
        lambda: coupon_apply(order=orders[1], coupon=coupon, by=owner),
    )
    won, lost = split(results)
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], StateConflict)
    coupon.refresh_from_db()
    assert coupon.state == Coupon.State.USED
    discounts = OrderLine.objects.for_org(org).filter(kind=OrderLine.Kind.DISCOUNT)
    assert discounts.count() == 1
    assert coupon.used_order_id == discounts.get().order_id
    assert CouponEntry.objects.for_org(org).filter(coupon=coupon, kind="use").count() == 1
    totals = sorted(
        ServiceOrder.objects.for_org(org).filter(pk__in=[o.pk for o in orders]).values_list("total", flat=True)
    )
    assert totals == [Decimal("280.00"), Decimal("300.00")]


def test_the_last_points_redeemed_from_two_counters_never_overdraw(
    org: Organization, advisor: User, owner: User, counters: Any, make_order: Any
) -> None:
    customer, item, orders = counters
    earner = make_order(vehicle=customer.vehicles.first())
    order_add_line(order=earner, by=advisor, service=item, unit_price="100.00")
    order_complete(order=earner, by=advisor)
    order_pay(order=earner, by=advisor, method="cash", amount=earner.total)  # 100 points
    results = race(
        lambda: points_redeem(order=orders[0], points=80, by=advisor),
        lambda: points_redeem(order=orders[1], points=80, by=owner),
    )
    won, lost = split(results)
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], StateConflict)
    account = LoyaltyAccount.objects.for_org(org).get(customer=customer)
    assert account.points == 20
    rows = PointsEntry.objects.for_org(org).filter(customer=customer)
    assert sum(rows.values_list("amount", flat=True)) == 20
    assert OrderLine.objects.for_org(org).filter(kind=OrderLine.Kind.DISCOUNT).count() == 1
