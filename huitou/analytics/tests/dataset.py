"""A hand-built funnel whose right answer is known (not collected: no ``test_`` prefix).

Customers are made through the real services: ``customer_create`` with a
source, follow-ups with an intent grade, orders completed and paid (one
with a second order, one with an adjustment), a deleted file and a merged
one. Then created_at, intent_at and converted_at are set with ``update()``
to known local times (Asia/Shanghai), so that the days to convert are exact.

The range is March 2025 (``DATE_FROM``..``DATE_TO``)::

    source    owner     file  created (local)   intent   converted       paid          days
    referral  advisor   R1    03-01 00:00       yes      03-03 00:00     300.00        2
    referral  advisor   R2    03-10 09:00       yes      03-15 09:00     500 + 200     5
    referral  advisor   R3    03-20 10:00       yes      -
    referral  advisor   R4    03-31 23:30       -        -                             (the last day counts)
    wechat    service   W1    03-05 08:00       yes      03-06 20:00     120 - 20      1.5
    wechat    service   W2    03-05 09:00       yes      03-09 09:00     88.88         4
    wechat    service   W3    03-06 10:00       yes      03-16 10:00     1000.00       10
    wechat    service   W4    03-07 12:00       -        -
    walk_in   owner     K1    03-12 15:00       yes      -
    (none)    advisor   N1    03-15 11:00       -        -

Not counted: X1 referral created 04-01 00:10 (the day after), X2 referral
created 02-28 23:59 (the day before), X3 wechat deleted, M1 walk_in merged
into a file created in January, and the other organization's files in March.
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
from huitou.customers.services import customer_delete
from huitou.lifecycle.services.followups import followup_record
from huitou.lifecycle.services.merge import customer_merge
from huitou.service.services.orders import order_adjust
from huitou.service.tests.support import paid
from huitou.tenancy.models import Organization, User

DATE_FROM = dt.date(2025, 3, 1)
DATE_TO = dt.date(2025, 3, 31)


def local(month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware datetime at a wall-clock time of 2025 in the shops' time zone."""
    return timezone.make_aware(dt.datetime(2025, month, day, hour, minute))


@dataclass(frozen=True)
class Expected:
    key: str
    label: str
    prospects: int
    intent: int
    converted: int
    intent_rate: float
    conversion_rate: float
    median_days_to_convert: float | None
    revenue: Decimal


# Sorted as the funnel sorts: most prospects first, then by key.
BY_SOURCE = [
    Expected("referral", "老带新", 4, 3, 2, 0.75, 0.5, 3.5, Decimal("1000.00")),  # median of 2 and 5
    Expected("wechat", "微信", 4, 3, 3, 0.75, 0.75, 4.0, Decimal("1188.88")),  # median of 1.5, 4 and 10
    Expected("", "", 1, 0, 0, 0.0, 0.0, None, Decimal("0.00")),  # no source; label: "Not given", translated
    Expected("walk_in", "自然到店", 1, 1, 0, 1.0, 0.0, None, Decimal("0.00")),
]
BY_STAFF = [
    Expected("advisor", "李顾问", 5, 3, 2, 0.6, 0.4, 3.5, Decimal("1000.00")),
    Expected("service", "赵客服", 4, 3, 3, 0.75, 0.75, 4.0, Decimal("1188.88")),
    Expected("owner", "王店长", 1, 1, 0, 1.0, 0.0, None, Decimal("0.00")),
]
# Median of 2, 5, 1.5, 4 and 10.
TOTAL = Expected("", "", 10, 7, 5, 0.7, 0.5, 4.0, Decimal("2188.88"))


@dataclass
class Dataset:
    customers: dict[str, Customer]


def build(
    *,
    org: Organization,
    staff: dict[str, User],
    other_org: Organization,
    outsider: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Any],
    make_order: Callable[..., Any],
    make_service_item: Callable[..., Any],
) -> Dataset:
    """The files of the table above; ``staff`` holds ``owner``, ``advisor`` and ``service``."""
    advisor, service, owner = staff["advisor"], staff["service"], staff["owner"]
    item = make_service_item(name="保养")
    made: dict[str, Customer] = {}

    def customer(name: str, source: str | None, by: User, **extra: Any) -> Customer:
        data: dict[str, Any] = {"name": name, **extra}
        if source is not None:
            data["source"] = source
        made[name] = make_customer(by=by, **data)
        return made[name]

    def graded(c: Customer, by: User) -> None:
        followup_record(customer=c, by=by, channel="phone", content="问了保养价格", grade="A")

    def pay(c: Customer, by: User, *prices: str) -> list[Any]:
        car = make_vehicle(c, by=by)
        return [paid(make_order(car, by=by), item, by, price) for price in prices]

    for name in ("R1", "R2", "R3", "R4"):
        customer(name, "referral", advisor)
    for name in ("R1", "R2", "R3"):
        graded(made[name], advisor)
    pay(made["R1"], advisor, "300.00")
    pay(made["R2"], advisor, "500.00", "200.00")  # a second paid order adds to the revenue

    for name in ("W1", "W2", "W3", "W4"):
        customer(name, "wechat", service)
    (w1_order,) = pay(made["W1"], advisor, "120.00")
    order_adjust(order=w1_order, by=owner, amount="-20.00", reason="老客户优惠")  # 100.00 in the end
    pay(made["W2"], advisor, "88.88")
    pay(made["W3"], advisor, "1000.00")

    graded(customer("K1", "walk_in", owner), owner)
    customer("N1", None, advisor)

    # Not counted.
    for name in ("X1", "X2"):
        graded(customer(name, "referral", advisor), advisor)
    pay(made["X1"], advisor, "999.00")
    pay(customer("X3", "wechat", service), advisor, "777.00")
    customer_delete(customer=made["X3"], by=owner)
    keep = customer("KEEP", "walk_in", owner)
    graded(customer("M1", "walk_in", owner), owner)
    pay(made["M1"], advisor, "555.00")
    other = make_customer(organization=other_org, by=outsider, name="隔壁客户", source="referral")
    car = make_vehicle(other, by=outsider)
    paid(make_order(car, by=outsider), make_service_item(organization=other_org), outsider, "666.00")
    other_prospect = make_customer(organization=other_org, by=outsider, name="隔壁潜客", source="wechat")

    times: dict[str, tuple[dt.datetime, dt.datetime | None, dt.datetime | None]] = {
        # name: created, intent, converted
        "R1": (local(3, 1), local(3, 2), local(3, 3)),
        "R2": (local(3, 10, 9), local(3, 11, 9), local(3, 15, 9)),
        "R3": (local(3, 20, 10), local(3, 21), None),
        "R4": (local(3, 31, 23, 30), None, None),
        "W1": (local(3, 5, 8), local(3, 6, 20), local(3, 6, 20)),
        "W2": (local(3, 5, 9), local(3, 9, 9), local(3, 9, 9)),
        "W3": (local(3, 6, 10), local(3, 16, 10), local(3, 16, 10)),
        "W4": (local(3, 7, 12), None, None),
        "K1": (local(3, 12, 15), local(3, 13), None),
        "N1": (local(3, 15, 11), None, None),
        "X1": (local(4, 1, 0, 10), local(4, 2), local(4, 3)),
        "X2": (local(2, 28, 23, 59), local(3, 2), None),
        "X3": (local(3, 8, 10), local(3, 9), local(3, 9)),
        "M1": (local(3, 8, 11), local(3, 9), local(3, 10)),
        "KEEP": (local(1, 15, 10), None, None),
    }
    for name, (created, intent, converted) in times.items():
        Customer.objects.for_org(made[name].organization_id).filter(pk=made[name].pk).update(
            created_at=created, intent_at=intent, converted_at=converted
        )
    Customer.objects.for_org(other.organization_id).filter(pk__in=[other.pk, other_prospect.pk]).update(
        created_at=local(3, 10), intent_at=local(3, 11)
    )
    Customer.objects.for_org(other.organization_id).filter(pk=other.pk).update(converted_at=local(3, 12))
    # Merging keeps the earliest creation (January): neither file is in March's cohort.
    made["KEEP"] = customer_merge(
        keep=Customer.objects.for_org(keep.organization_id).get(pk=keep.pk), other=made["M1"], by=owner
    )
    return Dataset(customers=made)


@pytest.fixture
def funnel_data(
    org: Organization,
    owner: User,
    advisor: User,
    service: User,
    other_org: Organization,
    outsider: User,
    make_customer: Callable[..., Any],
    make_vehicle: Callable[..., Any],
    make_order: Callable[..., Any],
    make_service_item: Callable[..., Any],
) -> Dataset:
    """The data set above, built for a test (a plugin in the root ``conftest.py``: every test can ask for it)."""
    return build(
        org=org,
        staff={"owner": owner, "advisor": advisor, "service": service},
        other_org=other_org,
        outsider=outsider,
        make_customer=make_customer,
        make_vehicle=make_vehicle,
        make_order=make_order,
        make_service_item=make_service_item,
    )


def check(rows: list[Any], expected: list[Expected], *, label: Callable[[Any], str] = lambda r: r.label) -> None:
    """Every number of every row, as the funnel computes it."""
    assert [r.key for r in rows] == [e.key for e in expected]
    for row, want in zip(rows, expected, strict=True):
        got = (
            row.prospects,
            row.intent,
            row.converted,
            row.intent_rate,
            row.conversion_rate,
            row.median_days_to_convert,
            row.revenue,
        )
        assert got == (
            want.prospects,
            want.intent,
            want.converted,
            want.intent_rate,
            want.conversion_rate,
            want.median_days_to_convert,
            want.revenue,
        ), want.key
        if want.label:
            assert label(row) == want.label
