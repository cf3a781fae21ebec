"""Points: earned on paid orders, taken back with refunds, redeemed as a discount line, given back, expired FIFO."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from huitou.customers.models import Customer
from huitou.loyalty import errors
from huitou.loyalty.models import LoyaltyAccount, PointsCategoryRate, PointsEntry, Tier, TierEntryRule
from huitou.loyalty.selectors.rewards import points_year_end
from huitou.loyalty.services.accounts import account_locked
from huitou.loyalty.services.points import points_expire, points_redeem, program_for
from huitou.service.errors import StateConflict
from huitou.service.models import Category, OrderLine, ServiceOrder
from huitou.service.services.orders import (
    order_add_line,
    order_adjust,
    order_complete,
    order_pay,
    order_remove_line,
    order_void,
)
from huitou.tenancy.models import Organization, User

CN = dt.timezone(dt.timedelta(hours=8))


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=CN)


@pytest.fixture
def customer(make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(name="陈先生")


@pytest.fixture
def bill(
    advisor: User, make_vehicle: Callable[..., Any], make_order: Callable[..., ServiceOrder], make_service_item: Any
) -> Callable[..., ServiceOrder]:
    """``bill(customer, price, when=, pay=True)``: one service at ``price``, completed (and paid)."""
    items: dict[str, Any] = {}

    def run(
        customer: Customer,
        price: str = "200.00",
        *,
        when: dt.datetime | None = None,
        pay: bool = True,
        category: str = Category.MAINTENANCE,
    ) -> ServiceOrder:
        if category not in items:
            items[category] = make_service_item(category=category)
        vehicle = customer.vehicles.first() or make_vehicle(customer)
        order = make_order(vehicle=vehicle)
        order_add_line(order=order, by=advisor, service=items[category], unit_price=price, now=when)
        if pay:
            order_complete(order=order, by=advisor, now=when)
            order_pay(order=order, by=advisor, method="cash", amount=order.total, now=when)
        return order

    return run


def balance(customer: Customer) -> int:
    account = LoyaltyAccount.objects.for_org(customer.organization_id).filter(customer=customer).first()
    return account.points if account else 0


def entries(customer: Customer) -> list[tuple[str, int]]:
    rows = PointsEntry.objects.for_org(customer.organization_id).filter(customer=customer).order_by("pk")
    return list(rows.values_list("kind", "amount"))


def ledger_sums_to_balance(customer: Customer) -> None:
    rows = PointsEntry.objects.for_org(customer.organization_id).filter(customer=customer).order_by("pk")
    running = 0
    for entry in rows:
        running += entry.amount
        assert entry.balance_after == running
    assert running == balance(customer)


def test_a_paid_order_earns_a_point_a_yuan_expiring_at_the_end_of_the_next_year(
    customer: Customer, bill: Callable[..., ServiceOrder]
) -> None:
    order = bill(customer, "200.00", when=at(2025, 6, 3))
    earn = PointsEntry.objects.for_org(customer.organization_id).get(customer=customer)
    assert (earn.kind, earn.amount, earn.order_id) == (PointsEntry.Kind.EARN, 200, order.pk)
    assert earn.expires_on == dt.date(2026, 12, 31)
    assert balance(customer) == 200


def test_the_category_rate_the_tier_multiplier_and_the_birthday_month_multiply(
    org: Organization, make_customer: Callable[..., Customer], bill: Callable[..., ServiceOrder]
) -> None:
    PointsCategoryRate.objects.create(organization=org, category=Category.DETAILING, points_per_yuan=Decimal(2))
    gold = Tier.objects.create(
        organization=org,
        code="gold",
        name="金卡",
        rank=2,
        entry_rule=TierEntryRule.SPEND,
        points_multiplier=Decimal("1.5"),
    )
    born_in_june = make_customer(birth_month=6, birth_day=20)
    with transaction.atomic():
        account = account_locked(born_in_june)
        account.tier = gold
        account.save(update_fields=["tier"])
    bill(born_in_june, "100.00", when=at(2025, 6, 3), category=Category.DETAILING)  # 100 × 2 × 1.5 × 2
    assert balance(born_in_june) == 600
    bill(born_in_june, "100.00", when=at(2025, 7, 3), category=Category.MAINTENANCE)  # 100 × 1 × 1.5
    assert balance(born_in_june) == 750


def test_paying_twice_the_event_earns_once(
    customer: Customer, bill: Callable[..., ServiceOrder], advisor: User
) -> None:
    from huitou.loyalty.services.points import points_earn

    order = bill(customer, "200.00")
    assert points_earn(order=order, by=advisor) is None
    assert balance(customer) == 200


def test_a_downward_adjustment_takes_back_in_proportion_and_up_again_gives_back(
    customer: Customer, bill: Callable[..., ServiceOrder], owner: User
) -> None:
    order = bill(customer, "200.00")
    order_adjust(order=order, by=owner, amount="-50.00", reason="返工折让")
    assert balance(customer) == 150
    order_adjust(order=order, by=owner, amount="-150.00", reason="全额退款")
    assert balance(customer) == 0
    order_adjust(order=order, by=owner, amount="100.00", reason="补收")
    assert balance(customer) == 100
    assert [k for k, _ in entries(customer)] == ["earn", "reverse", "reverse", "reverse"]
    ledger_sums_to_balance(customer)


def test_a_refund_takes_back_no_more_than_the_customer_still_holds(
    customer: Customer, bill: Callable[..., ServiceOrder], advisor: User, owner: User
) -> None:
    paid = bill(customer, "200.00")
    spend = bill(customer, "300.00", pay=False)
    points_redeem(order=spend, points=150, by=advisor)
    order_adjust(order=paid, by=owner, amount="-200.00", reason="全额退款")
    assert balance(customer) == 0
    assert entries(customer)[-1] == (PointsEntry.Kind.REVERSE, -50)
    assert paid.total == 0


def test_redeeming_adds_a_discount_line_at_the_programme_rate(
    customer: Customer, bill: Callable[..., ServiceOrder], advisor: User
) -> None:
    bill(customer, "500.00")
    order = bill(customer, "300.00", pay=False)
    line = points_redeem(order=order, points=400, by=advisor)
    order.refresh_from_db()
    assert (line.kind, line.name, line.amount) == (OrderLine.Kind.DISCOUNT, "积分抵扣 400 分", Decimal("-4.00"))
    assert order.total == Decimal("296.00")
    assert balance(customer) == 100
    redeem = PointsEntry.objects.for_org(customer.organization_id).get(kind=PointsEntry.Kind.REDEEM)
    assert (redeem.amount, redeem.line_id, redeem.order_id) == (-400, line.pk, order.pk)


def test_too_few_points_is_a_conflict_and_writes_nothing(
    customer: Customer, bill: Callable[..., ServiceOrder], advisor: User
) -> None:
    bill(customer, "100.00")
    order = bill(customer, "300.00", pay=False)
    with pytest.raises(StateConflict) as caught:
        points_redeem(order=order, points=101, by=advisor)
    assert caught.value.message == errors.POINTS_TOO_FEW % {"balance": 100, "points": 101}
    order.refresh_from_db()
    assert order.total == Decimal("300.00")
    assert not OrderLine.objects.for_org(order.organization_id).filter(order=order, kind="discount").exists()
    assert balance(customer) == 100


def test_points_pay_at_most_the_programmes_share(
    org: Organization, customer: Customer, bill: Callable[..., ServiceOrder], advisor: User
) -> None:
    bill(customer, "20000.00")
    order = bill(customer, "100.00", pay=False)
    with pytest.raises(ValidationError) as caught:
        points_redeem(order=order, points=5001, by=advisor)  # 50.01 of 100.00 at 50%
    assert caught.value.message_dict["points"] == [str(errors.POINTS_OVER_SHARE % {"share": 50, "points": 5000})]
    points_redeem(order=order, points=3000, by=advisor)
    with pytest.raises(ValidationError):
        points_redeem(order=order, points=2001, by=advisor)
    points_redeem(order=order, points=2000, by=advisor)
    order.refresh_from_db()
    assert order.total == Decimal("50.00")
    assert program_for(org).max_points_share == Decimal("0.50")


@pytest.mark.parametrize("points", [0, -5, "ten", 1.5, True])
def test_points_must_be_a_whole_number_above_zero(
    customer: Customer, bill: Callable[..., ServiceOrder], advisor: User, points: Any
) -> None:
    order = bill(customer, "100.00", pay=False)
    with pytest.raises(ValidationError) as caught:
        points_redeem(order=order, points=points, by=advisor)
    assert caught.value.message_dict["points"] == [str(errors.POINTS_INVALID)]


def test_removing_the_points_line_gives_the_points_back_once(
    customer: Customer, bill: Callable[..., ServiceOrder], advisor: User
) -> None:
    bill(customer, "500.00")
    order = bill(customer, "300.00", pay=False)
    line = points_redeem(order=order, points=400, by=advisor)
    order_remove_line(line=line, by=advisor)
    assert balance(customer) == 500
    order_void(order=order, by=advisor, reason="客户取消")
    assert balance(customer) == 500
    assert [k for k, _ in entries(customer)] == ["earn", "redeem", "reverse"]
    ledger_sums_to_balance(customer)


def test_voiding_the_order_gives_back_every_redemption(
    customer: Customer, bill: Callable[..., ServiceOrder], advisor: User
) -> None:
    bill(customer, "500.00")
    order = bill(customer, "300.00", pay=False)
    points_redeem(order=order, points=100, by=advisor)
    points_redeem(order=order, points=200, by=advisor)
    order_void(order=order, by=advisor, reason="客户取消")
    assert balance(customer) == 500
    ledger_sums_to_balance(customer)


def test_expiry_takes_the_oldest_points_first_across_a_year_end(
    org: Organization, customer: Customer, bill: Callable[..., ServiceOrder], advisor: User
) -> None:
    bill(customer, "300.00", when=at(2024, 6, 1))  # 300 expiring 2025-12-31
    bill(customer, "200.00", when=at(2025, 3, 1))  # 200 expiring 2026-12-31
    spend = bill(customer, "1000.00", pay=False, when=at(2025, 11, 1))
    points_redeem(order=spend, points=250, by=advisor, now=at(2025, 11, 1))  # eats 250 of the 2024 lot

    count, rows = points_year_end(organization=org, year=2025)
    assert count == 1
    assert (rows[0]["customer"].pk, rows[0]["points"], rows[0]["expiring"]) == (customer.pk, 250, 50)

    assert points_expire(organization=org, now=at(2025, 12, 31, 23)) == 0  # not yet: the last day counts
    assert points_expire(organization=org, now=at(2026, 1, 1, 0)) == 50
    assert balance(customer) == 200
    assert points_expire(organization=org, now=at(2026, 1, 2)) == 0  # run again: nothing more
    assert points_year_end(organization=org, year=2025)[0] == 0
    assert points_year_end(organization=org, year=2026)[1][0]["expiring"] == 200

    # Given back after the year end, the 2024 points come back into a lot already over: they expire next.
    order_void(order=spend, by=advisor, reason="客户取消", now=at(2026, 1, 5))
    assert balance(customer) == 450
    assert points_expire(organization=org, now=at(2026, 1, 6)) == 250
    assert balance(customer) == 200
    ledger_sums_to_balance(customer)


def test_expiry_is_one_set_for_many_customers(
    org: Organization, make_customer: Callable[..., Customer], bill: Callable[..., ServiceOrder]
) -> None:
    people = [make_customer() for _ in range(3)]
    for n, person in enumerate(people):
        bill(person, f"{100 * (n + 1)}.00", when=at(2023, 5, 1))
    assert points_expire(organization=org, now=at(2025, 1, 1)) == 600
    assert [balance(p) for p in people] == [0, 0, 0]


def test_another_organizations_points_are_not_expired(
    other_org: Organization, customer: Customer, bill: Callable[..., ServiceOrder]
) -> None:
    bill(customer, "100.00", when=at(2023, 5, 1))
    assert points_expire(organization=other_org, now=at(2025, 1, 1)) == 0
    assert balance(customer) == 100
