"""A stored-value payment's statements: the order, the ledger, and what a paid order sets off, each read once."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from huitou.care.models import CareKind, CareTask
from huitou.customers.models import Customer, Vehicle
from huitou.loyalty.models import LoyaltyAccount, PointsEntry, StoredValueEntry
from huitou.loyalty.services.stored_value import stored_value_top_up
from huitou.loyalty.services.tiers import membership_set_tier
from huitou.loyalty.starter import loyalty_seed
from huitou.service.models import OrderState, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_line, order_complete, order_pay
from huitou.service.starter import catalog_seed
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_car(
    org: Organization,
    owner: User,
    advisor: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> Vehicle:
    """A silver member's car, with stored value and one paid visit behind them (the starter programme)."""
    catalog_seed(organization=org)
    loyalty_seed(organization=org)
    customer = make_customer(name="储值客户")
    membership_set_tier(customer=customer, tier="silver", by=owner)
    stored_value_top_up(customer=customer, amount="3000", method="cash", by=advisor)
    return make_vehicle(customer, mileage_km=20000)


def _wash(org: Organization, vehicle: Vehicle, advisor: User, make_order: Callable[..., ServiceOrder]) -> ServiceOrder:
    order = make_order(vehicle=vehicle)
    order_add_line(order=order, by=advisor, service=ServiceItem.objects.for_org(org).get(code="D01"))
    return order_complete(order=order, by=advisor)


def test_a_stored_value_payment_reads_each_row_once(
    org: Organization,
    advisor: User,
    member_car: Vehicle,
    make_order: Callable[..., ServiceOrder],
    django_assert_num_queries: Any,
) -> None:
    first = _wash(org, member_car, advisor, make_order)
    order_pay(order=first, by=advisor, method="stored_value", amount=first.amount_due)
    order = _wash(org, member_car, advisor, make_order)
    # order_pay: 1 savepoint, 2 the order locked, 3 the payment;
    # payment_taken (stored value): 4 the account locked, 5 its balances, 6 the ledger entry;
    # 7 the order's amount paid and state, 8 both history entries (one INSERT),
    # 9 the customer's visit figures (one UPDATE);
    # order_paid — lifecycle: 10 the customer locked;
    # membership: 11 the account locked with the customer, the tier, the points already earned and
    # the 12 months' spend and visits, 12 the lines with their points rates and card products,
    # 13 the tiers, 14 the programme, 15 the points balance, 16 the points entry, 17 the coupon rules
    # the total meets with the coupons they gave this order (none: a wash is under 100);
    # care: 18 the rules, 19 the customer's name and owner with the shop's name, 20 the services
    # done, 21 the callback (inserted once per order), 22 the car's serviced items with intervals
    # and its purchase date, 23 its maintenance dues rewritten; 24 release the savepoint.
    # The dashboard's daily facts (analytics, after the receivers above of each event): 25 the
    # payment's day marked, 26 the day paid and, within 13 months of it, the first visit's marked.
    with django_assert_num_queries(26):
        order_pay(order=order, by=advisor, method="stored_value", amount=order.amount_due)

    order.refresh_from_db()
    assert (order.state, order.amount_paid) == (OrderState.PAID, Decimal("38.00"))
    customer = Customer.objects.for_org(org).get(pk=order.customer_id)
    assert (customer.visit_count, customer.lifetime_spend) == (2, Decimal("76.00"))
    account = LoyaltyAccount.objects.for_org(org).get(customer=customer)
    assert account.stored_balance == Decimal("3400.00") - Decimal("76.00")
    spent = StoredValueEntry.objects.for_org(org).filter(order=order).get()
    assert spent.principal + spent.bonus == Decimal("-38.00")
    earned = PointsEntry.objects.for_org(org).filter(order=order, kind=PointsEntry.Kind.EARN).get()
    assert earned.amount == 45  # 38 yuan × 1 point × silver's 1.2
    assert account.points == 90
    assert CareTask.objects.for_org(org).filter(kind=CareKind.CALLBACK, order=order).count() == 1
