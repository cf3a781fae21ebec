"""Stored value: top-ups with their bonus, paying in proportion, refunds to the card, the card refund, rewards."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from huitou.customers.models import Customer
from huitou.loyalty import errors
from huitou.loyalty.models import LoyaltyAccount, StoredValueEntry, TopUpRule
from huitou.loyalty.selectors.wallet import statement, stored_value_sum
from huitou.loyalty.services.stored_value import (
    stored_value_refund,
    stored_value_reward,
    stored_value_reward_reverse,
    stored_value_top_up,
    top_up_bonus,
)
from huitou.service.errors import StateConflict
from huitou.service.models import OrderState, Payment, ServiceOrder
from huitou.service.services.orders import order_add_line, order_adjust, order_complete, order_pay
from huitou.tenancy.models import Organization, User

M = Decimal


@pytest.fixture
def rules(org: Organization) -> None:
    TopUpRule.objects.create(organization=org, minimum=M("1000"), bonus=M("100"))
    TopUpRule.objects.create(organization=org, minimum=M("3000"), bonus=M("400"))


@pytest.fixture
def customer(make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(name="储值客户")


@pytest.fixture
def due(
    customer: Customer,
    advisor: User,
    make_vehicle: Callable[..., Any],
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., Any],
) -> Callable[[str], ServiceOrder]:
    """``due(price)``: a completed order of the customer at ``price``, nothing paid."""
    item = make_service_item(labour_price="100.00")
    vehicle = make_vehicle(customer)

    def run(price: str) -> ServiceOrder:
        order = make_order(vehicle=vehicle)
        order_add_line(order=order, by=advisor, service=item, unit_price=price)
        return order_complete(order=order, by=advisor)

    return run


def account(customer: Customer) -> LoyaltyAccount:
    return LoyaltyAccount.objects.for_org(customer.organization_id).get(customer=customer)


def entries(customer: Customer) -> list[StoredValueEntry]:
    return list(StoredValueEntry.objects.for_org(customer.organization_id).filter(customer=customer).order_by("pk"))


# --- top-ups -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("rules")
@pytest.mark.parametrize(
    ("amount", "bonus"),
    [("999.99", "0.00"), ("1000", "100.00"), ("2999", "100.00"), ("3000", "400.00"), ("5000.50", "400.00")],
)
def test_a_top_up_gets_the_bonus_of_the_largest_rule_it_meets(
    customer: Customer, advisor: User, amount: str, bonus: str
) -> None:
    entry = stored_value_top_up(customer=customer, amount=amount, method="wechat", by=advisor)
    assert (entry.kind, entry.principal, entry.bonus) == ("top_up", M(amount).quantize(M("0.01")), M(bonus))
    assert (account(customer).stored_principal, account(customer).stored_bonus) == (entry.principal, M(bonus))
    assert (entry.principal_after, entry.bonus_after, entry.method) == (entry.principal, M(bonus), "wechat")


def test_an_inactive_rule_gives_nothing(org: Organization, customer: Customer, advisor: User) -> None:
    TopUpRule.objects.create(organization=org, minimum=M("500"), bonus=M("50"), is_active=False)
    assert top_up_bonus(organization=org, amount=M("800")) == 0


@pytest.mark.parametrize("amount", ["0", "-5", "1.234", "abc", "1000001"])
def test_a_top_up_of_a_wrong_amount_is_refused(customer: Customer, advisor: User, amount: str) -> None:
    with pytest.raises(ValidationError) as exc:
        stored_value_top_up(customer=customer, amount=amount, method="cash", by=advisor)
    assert exc.value.message_dict == {"amount": [str(errors.TOP_UP_AMOUNT_INVALID)]}
    assert entries(customer) == []


@pytest.mark.parametrize("method", ["stored_value", "", "bitcoin"])
def test_a_top_up_needs_an_outside_method(customer: Customer, advisor: User, method: str) -> None:
    with pytest.raises(ValidationError) as exc:
        stored_value_top_up(customer=customer, amount="100", method=method, by=advisor)
    assert exc.value.message_dict == {"method": [str(errors.TOP_UP_METHOD_INVALID)]}


# --- paying -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("rules")
def test_paying_takes_principal_and_bonus_in_proportion(
    customer: Customer, advisor: User, due: Callable[[str], ServiceOrder]
) -> None:
    stored_value_top_up(customer=customer, amount="1000", method="cash", by=advisor)  # 1000 + 100
    order = due("330.00")
    order_pay(order=order, by=advisor, method="stored_value", amount="330.00")
    spend = entries(customer)[-1]
    # 330 × 1000/1100 = 300.00 principal, 30.00 bonus
    assert (spend.kind, spend.principal, spend.bonus, spend.order_id) == ("spend", M("-300.00"), M("-30.00"), order.pk)
    assert (account(customer).stored_principal, account(customer).stored_bonus) == (M("700.00"), M("70.00"))
    assert order.state == OrderState.PAID


@pytest.mark.usefixtures("rules")
def test_the_rounding_fen_goes_to_the_principal_and_the_last_payment_empties_both(
    customer: Customer, advisor: User, due: Callable[[str], ServiceOrder]
) -> None:
    stored_value_top_up(customer=customer, amount="1000", method="cash", by=advisor)  # 1000 + 100
    order_pay(order=due("10.01"), by=advisor, method="stored_value", amount="10.01")
    first = entries(customer)[-1]
    # 10.01 × 1000/1100 = 9.1 → 9.10 principal, 0.91 bonus
    assert (first.principal, first.bonus) == (M("-9.10"), M("-0.91"))
    rest = account(customer).stored_balance
    order_pay(order=due(str(rest)), by=advisor, method="stored_value", amount=rest)
    assert (account(customer).stored_principal, account(customer).stored_bonus) == (0, 0)


def test_paying_more_than_the_balance_is_refused_and_writes_nothing(
    customer: Customer, advisor: User, due: Callable[[str], ServiceOrder]
) -> None:
    stored_value_top_up(customer=customer, amount="100", method="cash", by=advisor)
    order = due("150.00")
    with pytest.raises(StateConflict) as exc:
        order_pay(order=order, by=advisor, method="stored_value", amount="150.00")
    assert str(exc.value) == str(errors.BALANCE_TOO_LOW % {"balance": M("100.00"), "amount": M("150.00")})
    assert Payment.objects.for_org(order.organization_id).filter(order=order).count() == 0
    assert len(entries(customer)) == 1
    assert account(customer).stored_principal == M("100.00")


def test_a_customer_without_an_account_cannot_pay_with_stored_value(
    customer: Customer, advisor: User, due: Callable[[str], ServiceOrder]
) -> None:
    with pytest.raises(StateConflict):
        order_pay(order=due("10.00"), by=advisor, method="stored_value", amount="10.00")
    assert entries(customer) == []


@pytest.mark.usefixtures("rules")
def test_stored_value_and_cash_pay_one_order_together(
    customer: Customer, advisor: User, due: Callable[[str], ServiceOrder]
) -> None:
    stored_value_top_up(customer=customer, amount="50", method="cash", by=advisor)
    order = due("80.00")
    order_pay(order=order, by=advisor, method="stored_value", amount="50.00")
    order_pay(order=order, by=advisor, method="cash", amount="30.00")
    assert order.state == OrderState.PAID
    assert account(customer).stored_balance == 0


# --- refunds ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("rules")
def test_an_order_refunded_to_the_card_gives_back_in_the_proportion_it_spent(
    customer: Customer, advisor: User, owner: User, due: Callable[[str], ServiceOrder]
) -> None:
    stored_value_top_up(customer=customer, amount="1000", method="cash", by=advisor)  # 1000 + 100
    order = due("220.00")
    order_pay(order=order, by=advisor, method="stored_value", amount="220.00")  # −200 principal, −20 bonus
    stored_value_top_up(customer=customer, amount="100", method="cash", by=advisor)  # the proportion moves
    order_adjust(order=order, by=owner, amount="-110.00", reason="洗车未做")
    order_pay(order=order, by=owner, method="stored_value", amount="-110.00")
    back = entries(customer)[-1]
    assert (back.kind, back.principal, back.bonus, back.order_id) == ("order_refund", M("100.00"), M("10.00"), order.pk)
    assert (account(customer).stored_principal, account(customer).stored_bonus) == (M("1000.00"), M("90.00"))


@pytest.mark.usefixtures("rules")
def test_a_refund_to_the_card_is_at_most_what_the_order_spent_from_it(
    customer: Customer, advisor: User, owner: User, due: Callable[[str], ServiceOrder]
) -> None:
    stored_value_top_up(customer=customer, amount="1000", method="cash", by=advisor)
    order = due("200.00")
    order_pay(order=order, by=advisor, method="stored_value", amount="50.00")
    order_pay(order=order, by=advisor, method="cash", amount="150.00")
    order_adjust(order=order, by=owner, amount="-120.00", reason="打折")
    with pytest.raises(StateConflict) as exc:
        order_pay(order=order, by=owner, method="stored_value", amount="-120.00")
    assert str(exc.value) == str(errors.REFUND_MORE_THAN_SPENT % {"spent": M("50.00")})
    order_pay(order=order, by=owner, method="stored_value", amount="-50.00")
    order_pay(order=order, by=owner, method="cash", amount="-70.00")
    assert account(customer).stored_balance == M("1100.00")


@pytest.mark.usefixtures("rules")
def test_the_card_refund_pays_back_unspent_principal_only(
    customer: Customer, advisor: User, owner: User, due: Callable[[str], ServiceOrder]
) -> None:
    stored_value_top_up(customer=customer, amount="1000", method="cash", by=advisor)  # 1000 + 100
    order_pay(order=due("550.00"), by=advisor, method="stored_value", amount="550.00")  # −500, −50
    refund = stored_value_refund(customer=customer, method="cash", reason="搬家", by=owner)
    assert (refund.kind, refund.principal, refund.bonus, refund.method) == ("card_refund", M("-500.00"), 0, "cash")
    forfeited = entries(customer)[-1]
    assert (forfeited.kind, forfeited.bonus, forfeited.reverses_id) == ("reverse", M("-50.00"), refund.pk)
    assert account(customer).stored_balance == 0
    with pytest.raises(StateConflict) as exc:
        stored_value_refund(customer=customer, method="cash", reason="again", by=owner)
    assert str(exc.value) == str(errors.CARD_REFUND_NOTHING)


def test_the_card_refund_needs_a_method_and_a_reason(customer: Customer, owner: User) -> None:
    with pytest.raises(ValidationError) as exc:
        stored_value_refund(customer=customer, method="stored_value", reason=" ", by=owner)
    assert exc.value.message_dict == {
        "method": [str(errors.CARD_REFUND_METHOD_INVALID)],
        "reason": [str(errors.CARD_REFUND_REASON_REQUIRED)],
    }


# --- rewards --------------------------------------------------------------------------------------


def test_a_reward_is_bonus_and_is_taken_back_as_far_as_unspent(
    customer: Customer, advisor: User, due: Callable[[str], ServiceOrder]
) -> None:
    reward = stored_value_reward(customer=customer, bonus=M("30.00"), reason="转介绍奖励")
    assert (reward.kind, reward.principal, reward.bonus, reward.bonus_after) == ("reward", 0, M("30.00"), M("30.00"))
    order_pay(order=due("10.00"), by=advisor, method="stored_value", amount="10.00")
    back = stored_value_reward_reverse(entry=reward, reason="首单退款")
    assert back.bonus == M("-20.00")
    assert account(customer).stored_balance == 0
    with pytest.raises(ValidationError):
        stored_value_reward(customer=customer, bonus=M("0"), reason="x")


# --- the statement sums to the balance ----------------------------------------------------------------


@pytest.mark.usefixtures("rules")
def test_the_statement_lists_every_movement_and_sums_to_the_balance(
    customer: Customer, advisor: User, owner: User, due: Callable[[str], ServiceOrder]
) -> None:
    stored_value_top_up(customer=customer, amount="1000", method="cash", by=advisor)
    order = due("330.00")
    order_pay(order=order, by=advisor, method="stored_value", amount="330.00")
    stored_value_reward(customer=customer, bonus=M("9.90"), reason="奖励")
    found = statement(customer=customer, ledger="stored_value")
    assert found.count == 3
    assert [i.kind for i in found.items] == ["reward", "spend", "top_up"]
    assert [i.amount for i in found.items] == ["9.90", "-330.00", "1100.00"]
    assert found.items[1].order_id == order.pk and found.items[1].balance_after == "770.00"
    assert sum(M(i.amount) for i in found.items) == account(customer).stored_balance == stored_value_sum(customer)
