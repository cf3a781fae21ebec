"""A hand-built RFM data set whose right answer is worked out below (not collected: no ``test_`` prefix).

Orders are opened, completed and paid through the real services, then their
``paid_at`` is set to noon (Asia/Shanghai) of a known local day. Today is
``TODAY`` = 2026-06-30; the 12-month window holds local days from 2025-07-01.

    file  paid orders (local day: amount received)                     in window: R days  F  M
    C9    05-20: 1000, 06-10: 500, 06-28: 500                                      2       3  2000
    C8    06-01: 100 at the first shop, 06-25: 100 at the second shop              5       2  200
    C1    03-01: 400, 05-01: 300, 06-20: 300                                       10      3  1000
    C2    06-20: 200, + M7's 04-01: 150 (M7 merged into C2)                        10      2  350
    C3    2025-12-10: 1000, 2026-01-10: 2000                                       171     2  3000
    C4    2025-08-01: 100, 2025-09-01: 500 adjusted −100 and refunded 100          302     2  500
    C5    2024-06-01: 800 (outside the window: no RFM, churn only)
    C6    a voided order only (no row at all)
    D1    a deleted file with a paid order 06-29 (not scored)
    X1    another organization's customer, 06-29: 9999 (never in A's figures)

Scores, ``1 + ⌊5 × w / 6⌋`` with ``w`` the customers strictly worse (6 scored):

    R (more days is worse): C4, C3 w=0 → 1 (C3: w=1 → 1 + ⌊5/6⌋ = 1); C1, C2 w=2 → 1 + ⌊10/6⌋ = 2;
                            C8 w=4 → 1 + ⌊20/6⌋ = 4; C9 w=5 → 1 + ⌊25/6⌋ = 5
    F (fewer is worse):     C8, C2, C3, C4 (2 orders) w=0 → 1; C9, C1 (3) w=4 → 4
    M (less is worse):      C8 200 → 1, C2 350 → 1, C4 500 → 2, C1 1000 → 3, C9 2000 → 4, C3 3000 → 5

Segments (high: score above 3): C9 R5 F4 M4 重要价值; C8 R4 F1 M1 一般发展; C1 R2 F4 M3 一般保持;
C2 R2 F1 M1 一般挽留; C3 R1 F1 M5 重要挽留; C4 R1 F1 M2 一般挽留.

Churn (all history, distinct visit days; rhythm = span / (visits − 1), rounded):
C9 39/2 = 19.5 → 20, gap 2: low. C8 24, gap 5: low. C1 111/2 = 55.5 → 56, gap 10: low.
C2 80 (04-01 → 06-20), gap 10: low. C3 31, gap 171: high. C4 31, gap 302: high.
C5 one visit: the organization's typical rhythm, the median of 19.5, 24, 31, 31, 55.5, 80 = 31;
gap 759 days (2024-06-01 → 2026-06-30): high.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.customers.services import customer_delete
from huitou.lifecycle.services.merge import customer_merge
from huitou.service.models import ServiceOrder
from huitou.service.services.orders import order_adjust, order_pay, order_void
from huitou.service.tests.support import paid
from huitou.tenancy.models import Organization, Shop, User

TODAY = dt.date(2026, 6, 30)


def noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


@dataclass
class RfmWorld:
    org: Organization
    files: dict[str, Customer]


@pytest.fixture
def rfm_world(
    org: Organization,
    owner: User,
    advisor: User,
    other_org: Organization,
    outsider: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Any],
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., Any],
) -> RfmWorld:
    item = make_service_item()
    first_shop = Shop.objects.for_org(org).order_by("pk").first()
    second_shop = Shop.objects.create(organization=org, name="顺达汽修（二店）")
    files: dict[str, Customer] = {}

    def visits(name: str, *orders: tuple[str, str] | tuple[str, str, Shop]) -> Customer:
        customer = make_customer(name=name)
        car = make_vehicle(customer)
        for spec in orders:
            day, price = spec[0], spec[1]
            shop = spec[2] if len(spec) > 2 else first_shop  # type: ignore[misc]
            order = paid(make_order(car, shop=shop), item, advisor, price)
            ServiceOrder.objects.for_org(org).filter(pk=order.pk).update(paid_at=noon(dt.date.fromisoformat(day)))
        files[name] = customer
        return customer

    visits("C9", ("2026-05-20", "1000.00"), ("2026-06-10", "500.00"), ("2026-06-28", "500.00"))
    visits("C8", ("2026-06-01", "100.00", first_shop), ("2026-06-25", "100.00", second_shop))
    visits("C1", ("2026-03-01", "400.00"), ("2026-05-01", "300.00"), ("2026-06-20", "300.00"))
    visits("C2", ("2026-06-20", "200.00"))
    m7 = visits("M7", ("2026-04-01", "150.00"))
    customer_merge(keep=files["C2"], other=m7, by=owner)
    del files["M7"]
    visits("C3", ("2025-12-10", "1000.00"), ("2026-01-10", "2000.00"))
    c4 = visits("C4", ("2025-08-01", "100.00"), ("2025-09-01", "500.00"))
    adjusted = ServiceOrder.objects.for_org(org).filter(customer=c4).order_by("-paid_at").first()
    assert adjusted is not None
    order_adjust(order=adjusted, by=owner, amount="-100.00", reason="工时多算")
    order_pay(order=ServiceOrder.objects.for_org(org).get(pk=adjusted.pk), by=owner, method="cash", amount="-100.00")
    visits("C5", ("2024-06-01", "800.00"))
    c6 = make_customer(name="C6")
    order_void(order=make_order(make_vehicle(c6)), by=owner, reason="客户取消")
    files["C6"] = c6
    gone = visits("D1", ("2026-06-29", "700.00"))
    customer_delete(customer=gone, by=owner)
    stranger = make_customer(organization=other_org, by=outsider, name="X1")
    order = paid(
        make_order(make_vehicle(stranger, by=outsider), by=outsider),
        make_service_item(organization=other_org),
        outsider,
        "9999.00",
    )
    ServiceOrder.objects.for_org(other_org).filter(pk=order.pk).update(paid_at=noon(dt.date(2026, 6, 29)))
    files["X1"] = stranger
    return RfmWorld(org=org, files=files)
