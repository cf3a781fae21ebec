"""A hand-built month of business whose dashboard is known (not collected: no ``test_`` prefix).

Everything goes through the real services (orders opened, lines, discounts,
completed and paid at given local times; adjustments and refunds; a void;
stored value; a package card; membership; the daily dormant check; a merge),
in the order it happened. The range is March 2025; shop A is the first shop
(总店), shop B the second (城西店). Times are local (Asia/Shanghai).

    who  source    visits (paid, shop, amount)                         notes
    C1   walk_in   03-02 A 300 · 03-05 A 200 (150 service + 50 part,    a voided order 03-06 (999)
                   cost unknown) · 04-20 A 100
    C2   wechat    03-11 A 650: service 500 + 2 × part 100 (cost 60)    referred by C1; paid 400 on
                   − 20 discount on the part − 30 adjusted · 05-01 B 150  03-10, 280 on 03-11, −30 refund 03-12
    C3   wechat    03-15 B 400 (stored value) · 03-20 B 100             member since 03-01; tops up 1000 03-01
    C4   (none)    03-18 A 299 (a package card) · 03-28 A 100           member since 03-25
    C5   walk_in   2024-06-10 B 250 · 03-25 A 80 · 03-26 B 120          dormant 2025-02-20, won back 03-25
    C6   walk_in   2024-12-01 A 300                                     dormant 03-15 (churned)
    M1   walk_in   03-08 B 90                                           kept file of a merge with M2
    M2   walk_in   03-05 A 60                                           merged into M1 (03-31)
    C7   walk_in   04-02 A 500                                          after the range
    and another organization's customer paid 666 on 03-10.

Expected, all shops (worked out by hand in ``test_dashboard.py``): revenue
2399.00 (500 + 650 + 500 + 399 + 200 + 150), 11 orders, ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.lifecycle.services.merge import customer_merge
from huitou.lifecycle.services.stages import stages_mark_inactive
from huitou.loyalty.services.cards import card_product_save
from huitou.loyalty.services.stored_value import stored_value_top_up
from huitou.loyalty.services.tiers import membership_set_tier, tier_save
from huitou.service.models import OrderLine, Part, ServiceItem, ServiceOrder
from huitou.service.services.orders import (
    order_add_discount,
    order_add_line,
    order_adjust,
    order_complete,
    order_open,
    order_pay,
    order_void,
)
from huitou.tenancy.models import Organization, Shop, User

DATE_FROM = dt.date(2025, 3, 1)
DATE_TO = dt.date(2025, 3, 31)


def local(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour))


def m(day: int, hour: int = 10) -> dt.datetime:
    """A time in March 2025."""
    return local(2025, 3, day, hour)


@dataclass
class Dashboard:
    customers: dict[str, Customer]
    shop_a: Shop
    shop_b: Shop
    maintenance: ServiceItem
    oil: Part
    filter: Part
    card_item: ServiceItem


def build(
    *,
    org: Organization,
    owner: User,
    other_org: Organization,
    outsider: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Any],
    make_service_item: Callable[..., ServiceItem],
    make_part: Callable[..., Part],
) -> Dashboard:
    Organization.objects.filter(pk=org.pk).update(dormant_after_days=90, lost_after_days=365)
    org.refresh_from_db()
    shop_a, shop_b = Shop.objects.for_org(org).order_by("pk")
    maintenance = make_service_item(name="保养", labour_price="100.00")
    oil = make_part(name="机油", sale_price="100.00", cost="60.00")
    filter_part = make_part(name="滤芯", sale_price="50.00", cost="30.00")
    wash = make_service_item(name="洗车", labour_price="30.00")
    product = card_product_save(
        organization=org,
        data={"code": "wash-10", "name": "洗车10次卡", "price": "299", "uses": 10, "validity_days": 365,
              "binding": "vehicle", "services": [wash.pk]},
    )  # fmt: skip
    card_item = ServiceItem.objects.for_org(org).get(pk=product.sale_item_id)
    tier_save(
        organization=org,
        data={"code": "vip", "name": "会员", "rank": 1, "entry_rule": "purchase", "price": "100"},
        by=owner,
    )
    cars: dict[str, Any] = {}
    made: dict[str, Customer] = {}

    def customer(name: str, source: str | None, **extra: Any) -> Customer:
        data: dict[str, Any] = {"name": name, **extra}
        if source:
            data["source"] = source
        made[name] = make_customer(by=owner, **data)
        cars[name] = make_vehicle(made[name], by=owner)
        return made[name]

    def order(name: str, shop: Shop, when: dt.datetime) -> ServiceOrder:
        return order_open(organization=org, vehicle=cars[name], by=owner, shop=shop, now=when)

    def visit(
        name: str, shop: Shop, when: dt.datetime, price: str, method: str = "cash", item: ServiceItem | None = None
    ) -> ServiceOrder:
        """One service line at ``price``, completed and paid in full at ``when``."""
        o = order(name, shop, when - dt.timedelta(hours=1))
        order_add_line(order=o, by=owner, service=item or maintenance, unit_price=price, now=when)
        order_complete(order=o, by=owner, now=when)
        order_pay(order=o, by=owner, method=method, amount=price, now=when)
        return o

    # 2024: C5 and C6 visit; C5 turns dormant on 2025-02-20.
    customer("C5", "walk_in")
    customer("C6", "walk_in")
    visit("C5", shop_b, local(2024, 6, 10), "250.00")
    visit("C6", shop_a, local(2024, 12, 1), "300.00")
    stages_mark_inactive(organization=org, today=dt.date(2025, 2, 20), now=local(2025, 2, 20, 3))

    c1 = customer("C1", "walk_in")
    customer("C2", "wechat", referrer=c1.pk)
    customer("C3", "wechat")
    customer("C4", None)
    customer("M1", "walk_in")
    customer("M2", "walk_in")
    customer("C7", "walk_in")

    # 03-01: C3 joins and tops up 1000 (not revenue).
    membership_set_tier(customer=made["C3"], tier="vip", by=owner, now=m(1, 9))
    stored_value_top_up(customer=made["C3"], amount="1000.00", method="wechat", by=owner, shop=shop_b, now=m(1, 9))
    visit("C1", shop_a, m(2), "300.00")
    # 03-05: C1 comes back (a service and a part whose cost was not known); M2's first visit.
    o = order("C1", shop_a, m(5, 9))
    order_add_line(order=o, by=owner, service=maintenance, unit_price="150.00", now=m(5))
    part_line = order_add_line(order=o, by=owner, part=filter_part, unit_price="50.00", now=m(5))
    OrderLine.objects.for_org(org).filter(pk=part_line.pk).update(unit_cost=None)
    order_complete(order=o, by=owner, now=m(5))
    order_pay(order=o, by=owner, method="wechat", amount="200.00", now=m(5))
    visit("M2", shop_a, m(5, 15), "60.00")
    # 03-06: an order for C1 voided.
    o = order("C1", shop_a, m(6, 9))
    order_add_line(order=o, by=owner, service=maintenance, unit_price="999.00", now=m(6))
    order_void(order=o, by=owner, reason="开错单", now=m(6))
    visit("M1", shop_b, m(8), "90.00")
    # 03-10..12: C2 pays in two parts, then an adjustment refunded.
    o = order("C2", shop_a, m(10, 8))
    order_add_line(order=o, by=owner, service=maintenance, unit_price="500.00", now=m(10))
    oil_line = order_add_line(order=o, by=owner, part=oil, quantity=2, unit_price="100.00", now=m(10))
    order_add_discount(order=o, by=owner, name="配件优惠", amount=Decimal("20.00"), applies_to=oil_line, now=m(10))
    order_complete(order=o, by=owner, now=m(10))
    order_pay(order=o, by=owner, method="cash", amount="400.00", now=m(10, 9))
    order_pay(order=o, by=owner, method="cash", amount="280.00", now=m(11, 9))
    order_adjust(order=o, by=owner, amount="-30.00", reason="老客户优惠", now=m(12))
    order_pay(order=o, by=owner, method="cash", amount="-30.00", now=m(12))
    # 03-15: the daily check makes C6 dormant; C3 pays from the stored value.
    stages_mark_inactive(organization=org, today=dt.date(2025, 3, 15), now=m(15, 3))
    visit("C3", shop_b, m(15), "400.00", method="stored_value")
    visit("C4", shop_a, m(18), "299.00", item=card_item)
    visit("C3", shop_b, m(20), "100.00")
    membership_set_tier(customer=made["C4"], tier="vip", by=owner, now=m(25, 9))
    visit("C5", shop_a, m(25), "80.00")
    visit("C5", shop_b, m(26), "120.00")
    visit("C4", shop_a, m(28), "100.00")
    made["M1"] = customer_merge(
        keep=Customer.objects.for_org(org).get(pk=made["M1"].pk),
        other=Customer.objects.for_org(org).get(pk=made["M2"].pk),
        by=owner,
    )
    # After the range.
    visit("C7", shop_a, local(2025, 4, 2), "500.00")
    visit("C1", shop_a, local(2025, 4, 20), "100.00")
    visit("C2", shop_b, local(2025, 5, 1), "150.00")

    # Another organization's order in March.
    other = make_customer(organization=other_org, by=outsider, name="隔壁客户")
    car = make_vehicle(other, by=outsider)
    other_item = make_service_item(organization=other_org)
    o = order_open(
        organization=other_org, vehicle=car, by=outsider, shop=Shop.objects.for_org(other_org).get(), now=m(10, 8)
    )
    order_add_line(order=o, by=outsider, service=other_item, unit_price="666.00", now=m(10))
    order_complete(order=o, by=outsider, now=m(10))
    order_pay(order=o, by=outsider, method="cash", amount="666.00", now=m(10))

    for name in made:
        made[name] = Customer.objects.for_org(org).get(pk=made[name].pk)
    return Dashboard(
        customers=made,
        shop_a=shop_a,
        shop_b=shop_b,
        maintenance=maintenance,
        oil=oil,
        filter=filter_part,
        card_item=card_item,
    )


@pytest.fixture
def dashboard_data(
    org: Organization,
    owner: User,
    other_org: Organization,
    outsider: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Any],
    make_service_item: Callable[..., ServiceItem],
    make_part: Callable[..., Part],
) -> Dashboard:
    """The month above, built for a test."""
    return build(
        org=org,
        owner=owner,
        other_org=other_org,
        outsider=outsider,
        make_customer=make_customer,
        make_vehicle=make_vehicle,
        make_service_item=make_service_item,
        make_part=make_part,
    )
