"""Races on stored value and package cards: simultaneous payments never overdraw, the last use goes once.

The threaded tests need PostgreSQL (each thread its own connection; the row locks
decide); the sequential versions run on every database.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from huitou.customers.models import Customer, Vehicle
from huitou.loyalty import errors
from huitou.loyalty.models import LoyaltyAccount, PackageCard, StoredValueEntry, TopUpRule
from huitou.loyalty.selectors.wallet import statement, stored_value_sum
from huitou.loyalty.services.cards import card_product_save, card_use
from huitou.loyalty.services.stored_value import stored_value_top_up
from huitou.service.errors import StateConflict
from huitou.service.models import OrderState, Payment, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.service.tests.test_concurrency import postgres_only, race, split
from huitou.tenancy.models import Organization, User

M = Decimal
PAYERS = 50
COVERED = 10  # the balance pays this many of the orders


@pytest.fixture
def customer(make_customer: Callable[..., Customer], org: Organization, advisor: User) -> Customer:
    TopUpRule.objects.create(organization=org, minimum=M("1000"), bonus=M("100"))
    customer = make_customer(name="并发客户")
    stored_value_top_up(customer=customer, amount="1000", method="cash", by=advisor)  # 1,100 = 10 × 110
    return customer


@pytest.fixture
def car(customer: Customer, make_vehicle: Callable[..., Vehicle]) -> Vehicle:
    return make_vehicle(customer)


def due_orders(
    n: int, car: Vehicle, advisor: User, make_order: Callable[..., ServiceOrder], item: ServiceItem
) -> list[ServiceOrder]:
    orders = []
    for _ in range(n):
        order = make_order(vehicle=car)
        order_add_line(order=order, by=advisor, service=item, unit_price="110.00")
        orders.append(order_complete(order=order, by=advisor))
    return orders


def pay(order: ServiceOrder, by: User) -> Callable[[], Payment]:
    return lambda: order_pay(
        order=ServiceOrder.objects.for_org(order.organization_id).get(pk=order.pk),
        by=by,
        method="stored_value",
        amount="110.00",
    )


def check_the_ledger(customer: Customer) -> None:
    account = LoyaltyAccount.objects.for_org(customer.organization_id).get(customer=customer)
    assert (account.stored_principal, account.stored_bonus) == (0, 0)
    assert stored_value_sum(customer) == 0
    items = statement(customer=customer, ledger="stored_value", page_size=100).items
    assert sum(M(i.amount) for i in items) == account.stored_balance == 0
    spends = StoredValueEntry.objects.for_org(customer.organization_id).filter(customer=customer, kind="spend")
    assert spends.count() == COVERED


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_payments_against_a_balance_for_ten_ten_succeed(
    customer: Customer,
    car: Vehicle,
    advisor: User,
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., ServiceItem],
) -> None:
    orders = due_orders(PAYERS, car, advisor, make_order, make_service_item())
    paid, refused = split(race(*(pay(order, advisor) for order in orders)))
    assert len(paid) == COVERED
    assert len(refused) == PAYERS - COVERED
    assert all(isinstance(exc, StateConflict) for exc in refused), {type(e) for e in refused}
    assert {str(exc) for exc in refused} == {
        str(errors.BALANCE_TOO_LOW % {"balance": M("0.00"), "amount": M("110.00")})
    }
    states = ServiceOrder.objects.for_org(customer.organization_id).filter(pk__in=[o.pk for o in orders])
    assert states.filter(state=OrderState.PAID).count() == COVERED
    assert Payment.objects.for_org(customer.organization_id).filter(order__in=orders).count() == COVERED
    check_the_ledger(customer)


def test_payments_one_after_the_other_stop_when_the_balance_is_spent(
    customer: Customer,
    car: Vehicle,
    advisor: User,
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., ServiceItem],
) -> None:
    results: list[Any] = []
    for order in due_orders(COVERED + 2, car, advisor, make_order, make_service_item()):
        try:
            results.append(pay(order, advisor)())
        except StateConflict as exc:
            results.append(exc)
    assert [isinstance(r, Payment) for r in results] == [True] * COVERED + [False, False]
    check_the_ledger(customer)


# --- the last use of a card, from two counters --------------------------------------------------


@pytest.fixture
def last_use(
    org: Organization,
    customer: Customer,
    car: Vehicle,
    advisor: User,
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., ServiceItem],
) -> tuple[PackageCard, ServiceItem]:
    wash = make_service_item(code="D01", name="标准洗车")
    product = card_product_save(
        organization=org,
        data={"code": "wash-1", "name": "洗车1次卡", "price": "30", "uses": 1, "services": [wash.pk]},
    )
    sale = make_order(vehicle=car)
    assert product.sale_item is not None
    order_add_line(order=sale, by=advisor, service=product.sale_item)
    order_complete(order=sale, by=advisor)
    order_pay(order=sale, by=advisor, method="cash", amount=sale.total)
    return PackageCard.objects.for_org(org).get(sold_order=sale), wash


def use(card: PackageCard, order: ServiceOrder, wash: ServiceItem, by: User) -> Callable[[], Any]:
    org_id = order.organization_id
    return lambda: card_use(
        order=ServiceOrder.objects.for_org(org_id).get(pk=order.pk),
        card=PackageCard.objects.for_org(org_id).select_related("product").get(pk=card.pk),
        service=wash,
        by=by,
    )


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_last_use_of_a_card_from_two_counters_goes_once(
    last_use: tuple[PackageCard, ServiceItem], car: Vehicle, advisor: User, make_order: Callable[..., ServiceOrder]
) -> None:
    card, wash = last_use
    first, second = make_order(vehicle=car), make_order(vehicle=car)
    used, refused = split(race(use(card, first, wash, advisor), use(card, second, wash, advisor)))
    assert len(used) == 1
    assert len(refused) == 1 and isinstance(refused[0], StateConflict), refused
    assert str(refused[0]) == str(errors.CARD_NO_USES_LEFT)
    fresh = PackageCard.objects.for_org(card.organization_id).get(pk=card.pk)
    assert (fresh.uses_left, fresh.state) == (0, "used_up")
    lines = [o.lines.count() for o in (first, second)]
    assert sorted(lines) == [0, 1]


def test_the_last_use_of_a_card_one_after_the_other_goes_once(
    last_use: tuple[PackageCard, ServiceItem], car: Vehicle, advisor: User, make_order: Callable[..., ServiceOrder]
) -> None:
    card, wash = last_use
    first, second = make_order(vehicle=car), make_order(vehicle=car)
    use(card, first, wash, advisor)()
    with pytest.raises(StateConflict):
        use(card, second, wash, advisor)()
    assert second.lines.count() == 0
