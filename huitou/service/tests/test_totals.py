"""Totals: exact Decimal sums of the lines and adjustments, stored as decimals on every database."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection

from huitou.customers.models import Customer
from huitou.lib.money import line_amount
from huitou.service.models import (
    OrderAdjustment,
    OrderLine,
    OrderState,
    Part,
    Payment,
    ServiceItem,
    ServiceOrder,
    ShopPrice,
)
from huitou.service.services.orders import _next_number, order_add_line, order_adjust, order_complete, order_pay
from huitou.service.tests.support import fresh, history, local
from huitou.tenancy.models import Organization, User

MONEY_COLUMNS = {
    ServiceOrder: ["lines_total", "adjustments_total", "total", "amount_paid"],
    OrderLine: ["unit_price", "discount", "amount", "unit_cost"],
    Payment: ["amount"],
    OrderAdjustment: ["amount"],
    ServiceItem: ["labour_price"],
    Part: ["sale_price", "cost"],
    ShopPrice: ["price"],
    Customer: ["lifetime_spend"],
}


def is_money(value: object) -> bool:
    return isinstance(value, Decimal) and value.as_tuple().exponent == -2


def _column_types(model: type) -> dict[str, str]:
    table = model._meta.db_table  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT column_name, data_type, numeric_precision, numeric_scale"
                " FROM information_schema.columns WHERE table_name = %s",
                [table],
            )
            return {name: f"{kind}({precision},{scale})" for name, kind, precision, scale in cursor.fetchall()}
        cursor.execute(f'PRAGMA table_info("{table}")')  # noqa: S608 - a model's table name
        return {row[1]: row[2].lower() for row in cursor.fetchall()}


def test_every_money_column_is_a_decimal_column(db: None) -> None:
    for model, fields in MONEY_COLUMNS.items():
        columns = _column_types(model)
        for field in fields:
            declared = columns[model._meta.get_field(field).column]
            if connection.vendor == "postgresql":
                assert re.fullmatch(r"numeric\(1[2-4],2\)", declared), (model.__name__, field, declared)
            else:  # SQLite has no decimal storage; Django reads a "decimal" column back as Decimal
                assert declared == "decimal", (model.__name__, field, declared)


@pytest.fixture
def item(make_service_item: Callable[..., ServiceItem]) -> ServiceItem:
    return make_service_item(labour_price="0.01")


def test_money_comes_back_as_decimal_fen_never_float(
    make_order: Callable[..., ServiceOrder], item: ServiceItem, make_part: Callable[..., Part], advisor: User
) -> None:
    order = make_order()
    part = make_part(sale_price="19.99", cost="7.77")
    order_add_line(order=order, by=advisor, part=part, quantity="1.5")
    order_add_line(order=order, by=advisor, service=item, quantity="3", unit_price="0.1")
    # In memory right after the service, as a receiver or the next line of code sees it:
    assert all(is_money(getattr(order, f)) for f in MONEY_COLUMNS[ServiceOrder]), vars(order)
    assert order.total == Decimal("30.29")
    order_complete(order=order, by=advisor)
    order_pay(order=order, by=advisor, method="cash", amount="30")
    order_pay(order=order, by=advisor, method="card", amount="0.29")
    order_adjust(order=order, by=advisor, amount="-0.1", reason="抹零")
    assert all(is_money(getattr(order, f)) for f in MONEY_COLUMNS[ServiceOrder]), vars(order)

    stored = fresh(order)
    assert all(is_money(getattr(stored, f)) for f in MONEY_COLUMNS[ServiceOrder])
    for line in OrderLine.objects.filter(order=order):
        assert all(is_money(getattr(line, f)) for f in ("unit_price", "discount", "amount"))
    assert all(is_money(p.amount) for p in Payment.objects.filter(order=order))
    assert is_money(OrderAdjustment.objects.get(order=order).amount)
    assert is_money(Customer.objects.for_org(advisor.organization_id).get(pk=order.customer_id).lifetime_spend)
    assert (stored.total, stored.amount_paid, stored.amount_due) == (
        Decimal("30.19"),
        Decimal("30.29"),
        Decimal("-0.10"),
    )


def test_the_history_shows_totals_in_yuan_and_fen(
    make_order: Callable[..., ServiceOrder], item: ServiceItem, advisor: User
) -> None:
    """On SQLite a SUM of decimals is computed in floats; the totals must not say 29.9900000000000."""
    order = make_order()
    order_add_line(order=order, by=advisor, service=item, unit_price="29.99")
    order_add_line(order=order, by=advisor, service=item, unit_price="0.01", quantity="3")
    assert [entry.changes["total"] for entry in history(order)[1:]] == [[None, "29.99"], [None, "30.02"]]


def test_order_totals_are_the_exact_sum_of_their_lines_and_adjustments(
    make_order: Callable[..., ServiceOrder], item: ServiceItem, owner: User
) -> None:
    """A property test over seeded random orders (reproducible: same seed, same orders)."""
    rng = random.Random(8848)
    for _ in range(8):
        order = make_order(by=owner)
        expected = Decimal("0.00")
        for _ in range(rng.randint(1, 6)):
            quantity = Decimal(rng.randint(1, 1000)) / 100
            price = Decimal(rng.randint(0, 500_000)) / 100
            discount = Decimal(rng.randint(0, int(quantity * price * 100))) / 100
            line = order_add_line(
                order=order, by=owner, service=item, quantity=quantity, unit_price=price, discount=discount
            )
            assert line.amount == line_amount(quantity, price, discount)
            expected += line.amount
        assert fresh(order).total == fresh(order).lines_total == expected
        order_complete(order=order, by=owner)
        order_pay(order=order, by=owner, method="cash", amount=expected)
        adjustment = Decimal(rng.randint(-int(expected * 100), 10_000)) / 100 or Decimal("0.01")
        order_adjust(order=order, by=owner, amount=adjustment, reason="调整")
        stored = fresh(order)
        assert stored.state == OrderState.PAID
        assert stored.total == expected + adjustment == stored.lines_total + stored.adjustments_total
        assert stored.amount_due == adjustment


def test_the_day_in_an_order_number_is_the_local_day(org: Organization) -> None:
    from datetime import UTC, date

    just_after_midnight = local(date(2024, 6, 1), 0, 30).astimezone(UTC)  # 2024-05-31 16:30 UTC
    assert _next_number(org, just_after_midnight) == "20240601-0001"
    assert _next_number(org, local(date(2024, 6, 1), 23, 30).astimezone(UTC)) == "20240601-0001"
