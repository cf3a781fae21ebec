"""The counter checkout with everything at once: a package card, a coupon, points, stored value and cash.

``order_checkout`` applies them in this order, each judged on what the earlier ones left:

1. each package card pays its line (the line is replaced by one priced 0.00, "套餐卡抵扣");
2. the coupon, its minimum spend judged on the total after the cards;
3. the points, their largest share judged on the total after the coupon;
4. the stored value (an amount, or ``ALL``: as much of what is still due as the balance covers),
   split between principal and bonus in proportion to the balance;
5. the rest by the chosen method (a payment of 0.00 when nothing is left, which settles the order).

All in one transaction: a refusal anywhere leaves every row as it was. An order is voided only while
nothing has been paid on it: then the card's use, the coupon and the points come back, each as an
entry paired with the one that spent it. A paid bill is refunded instead (an adjustment, then refunds
by method): the stored value goes back to the card in the proportion the order spent it. Either way
every ledger on the customer's statement sums to the balance cached on the account.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.functional import Promise

from huitou.customers.models import Customer, Vehicle
from huitou.loyalty import errors
from huitou.loyalty.models import (
    Coupon,
    CouponEntry,
    CouponTrigger,
    LoyaltyAccount,
    PackageCard,
    PackageCardEntry,
    PointsEntry,
    StoredValueEntry,
    TopUpRule,
)
from huitou.loyalty.selectors.wallet import statement
from huitou.loyalty.services.cards import card_product_save, card_use
from huitou.loyalty.services.checkout import ALL, order_checkout
from huitou.loyalty.services.coupons import coupon_apply, coupon_issue, coupon_template_save
from huitou.loyalty.services.points import points_redeem
from huitou.loyalty.services.stored_value import stored_value_top_up
from huitou.loyalty.tests.rows import everything
from huitou.service import errors as order_errors
from huitou.service.errors import StateConflict
from huitou.service.models import OrderLine, OrderState, Payment, PaymentMethod, ServiceOrder
from huitou.service.services.catalog import part_save, service_item_save
from huitou.service.services.orders import order_add_line, order_adjust, order_complete, order_pay, order_void
from huitou.tenancy.models import Organization, User
from huitou.testing.fixtures import first_shop

M = Decimal


def _account(w: SimpleNamespace) -> LoyaltyAccount:
    return LoyaltyAccount.objects.for_org(w.org).get(customer=w.customer)


def _card(w: SimpleNamespace) -> PackageCard:
    return PackageCard.objects.for_org(w.org).get(pk=w.card.pk)


def _coupon(w: SimpleNamespace) -> Coupon:
    return Coupon.objects.for_org(w.org).get(pk=w.coupon.pk)


def _order(w: SimpleNamespace) -> ServiceOrder:
    return ServiceOrder.objects.for_org(w.org).get(pk=w.order.pk)


def _lines(order: ServiceOrder) -> list[tuple[str, str, Decimal, str, str]]:
    rows = OrderLine.objects.for_org(order.organization_id).filter(order=order).select_related("technician")
    return sorted(
        (li.kind, li.name, li.amount, li.note.split(" ")[0], li.technician.username if li.technician else "")
        for li in rows
    )


def _payments(order: ServiceOrder) -> list[tuple[str, Decimal, str]]:
    rows = Payment.objects.for_org(order.organization_id).filter(order=order).order_by("pk")
    return [(p.method, p.amount, p.reference) for p in rows]


def _statement_sums_to_the_balances(w: SimpleNamespace) -> None:
    """Every ledger of the customer's statement (all four, one page) sums to what the account and
    the cards cache; every coupon's state is its ledger's latest word."""
    items = statement(customer=w.customer, page_size=1000).items
    account = _account(w)
    assert sum(M(i.amount) for i in items if i.ledger == "stored_value") == account.stored_balance
    assert sum(int(i.amount) for i in items if i.ledger == "points") == account.points
    cards = PackageCard.objects.for_org(w.org).filter(customer=w.customer)
    assert sum(int(i.amount) for i in items if i.ledger == "package_cards") == sum(c.uses_left for c in cards)
    sums = (
        StoredValueEntry.objects.for_org(w.org)
        .filter(customer=w.customer)
        .aggregate(p=Sum("principal"), b=Sum("bonus"))
    )
    assert (M(sums["p"]).quantize(M("0.01")), M(sums["b"]).quantize(M("0.01"))) == (
        account.stored_principal,
        account.stored_bonus,
    )
    for card in cards:
        entries = PackageCardEntry.objects.for_org(w.org).filter(card=card)
        assert entries.aggregate(s=Sum("amount"))["s"] == card.uses_left
    for coupon in Coupon.objects.for_org(w.org).filter(customer=w.customer):
        latest = CouponEntry.objects.for_org(w.org).filter(coupon=coupon).order_by("-at", "-pk").first()
        assert latest is not None and latest.state_after == coupon.state


@pytest.fixture
def w(
    org: Organization,
    advisor: User,
    tech: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_order: Callable[..., ServiceOrder],
) -> SimpleNamespace:
    """张三丰's car at the counter, the work done: a wash (40.00, by the technician), an oil change
    (120.00) and an oil filter (45.00), 205.00 in all. He holds a wash card of 5 uses bought with a
    repair on an earlier visit (3,000.00 in all: 3,000 points), a 20-yuan coupon for the oil change
    on bills of 100 or more, and 1,100.00 of stored value (1,000.00 paid in, 100.00 bonus)."""
    customer = make_customer(name="张三丰", phone="13812345678")
    car = make_vehicle(customer, plate="粤B5K2M8")
    wash = service_item_save(
        organization=org, data={"code": "D01", "name": "标准洗车", "category": "detailing", "labour_price": "40.00"}
    )
    oil = service_item_save(
        organization=org, data={"code": "BY01", "name": "机油更换", "category": "maintenance", "labour_price": "120.00"}
    )
    repair = service_item_save(
        organization=org, data={"code": "JX01", "name": "发动机维修", "category": "repair", "labour_price": "2850.00"}
    )
    filter_ = part_save(
        organization=org, data={"code": "PJ01", "name": "机油滤芯", "sale_price": "45.00", "cost": "20"}
    )
    product = card_product_save(
        organization=org,
        data={"code": "wash-5", "name": "洗车5次卡", "price": "150", "uses": 5, "validity_days": 365}
        | {"binding": "vehicle", "services": [wash.pk]},
    )
    earlier = make_order(car, shop=first_shop(org))
    order_add_line(order=earlier, by=advisor, service=product.sale_item)
    order_add_line(order=earlier, by=advisor, service=repair)
    order_complete(order=earlier, by=advisor)
    order_pay(order=earlier, by=advisor, method="cash", amount="3000.00")
    template = coupon_template_save(
        organization=org,
        data={"code": "oil-20", "name": "20元工时券", "kind": "amount", "value": "20", "min_spend": "100"}
        | {"services": [oil]},
    )
    coupon = coupon_issue(customer=customer, template=template, source=CouponTrigger.MANUAL, by=advisor)
    TopUpRule.objects.create(organization=org, minimum=M("1000"), bonus=M("100"))
    stored_value_top_up(customer=customer, amount="1000", method="cash", by=advisor)
    order = make_order(car, shop=first_shop(org))
    wash_line = order_add_line(order=order, by=advisor, service=wash, technician=tech)
    order_add_line(order=order, by=advisor, service=oil)
    order_add_line(order=order, by=advisor, part=filter_)
    order_complete(order=order, by=advisor)
    w = SimpleNamespace(
        org=org, advisor=advisor, customer=customer, car=car, wash=wash, oil=oil, template=template, coupon=coupon
    )
    w.card = PackageCard.objects.for_org(org).get(product=product)
    w.order, w.wash_line, w.make_order = order, wash_line, make_order
    account = _account(w)
    assert (account.points, account.stored_principal, account.stored_bonus) == (3000, M("1000"), M("100"))
    assert (order.total, w.card.uses_left) == (M("205.00"), 5)
    return w


def _everything_at_once(w: SimpleNamespace, **changes: Any) -> list[Payment]:
    """The card pays the wash, the coupon, 1,234 points, 77.77 of stored value, the rest by WeChat Pay."""
    kwargs: dict[str, Any] = {
        "card_lines": [(w.card, w.wash_line)],
        "coupon": w.coupon,
        "points": 1234,
        "stored_value": "77.77",
        "method": PaymentMethod.WECHAT,
        "reference": "4200009999",
    }
    return order_checkout(order=w.order, by=w.advisor, **(kwargs | changes))


# --- one step, to the cent ---------------------------------------------------------------------


def test_a_card_a_coupon_points_stored_value_and_cash_settle_one_bill_to_the_cent(w: SimpleNamespace) -> None:
    payments = _everything_at_once(w)

    # 205.00 − the wash the card pays (40.00) − the coupon (20.00) − 1,234 points (12.34) = 132.66;
    # 77.77 of it from stored value, 54.89 by WeChat Pay.
    order = _order(w)
    assert (order.state, order.lines_total, order.total, order.amount_paid) == (
        OrderState.PAID,
        M("132.66"),
        M("132.66"),
        M("132.66"),
    )
    assert [(p.method, p.amount) for p in payments] == [("stored_value", M("77.77")), ("wechat", M("54.89"))]
    assert _payments(order) == [("stored_value", M("77.77"), ""), ("wechat", M("54.89"), "4200009999")]
    assert _lines(order) == [
        ("discount", "20元工时券", M("-20.00"), "优惠券", ""),
        ("discount", "积分抵扣 1234 分", M("-12.34"), "积分抵扣", ""),
        ("part", "机油滤芯", M("45.00"), "", ""),
        ("service", "机油更换", M("120.00"), "", ""),
        ("service", "标准洗车", M("0.00"), "套餐卡抵扣", "tech"),  # the technician's line, paid by the card
    ]
    coupon_line = OrderLine.objects.for_org(w.org).get(order=order, name="20元工时券")
    assert coupon_line.applies_to is not None and coupon_line.applies_to.name == "机油更换"

    # Stored value: 77.77 of 1,100.00 (1,000 : 100) is 70.70 principal and 7.07 bonus.
    spend = StoredValueEntry.objects.for_org(w.org).get(order=order, kind=StoredValueEntry.Kind.SPEND)
    assert (spend.principal, spend.bonus, spend.principal_after, spend.bonus_after) == (
        M("-70.70"),
        M("-7.07"),
        M("929.30"),
        M("92.93"),
    )
    # Points: 1,234 redeemed; the 132.66 paid earns 132 (a point a yuan, whole points).
    moves = PointsEntry.objects.for_org(w.org).filter(order=order).order_by("pk")
    assert [(e.kind, e.amount, e.balance_after) for e in moves] == [("redeem", -1234, 1766), ("earn", 132, 1898)]
    account = _account(w)
    assert (account.points, account.stored_principal, account.stored_bonus) == (1898, M("929.30"), M("92.93"))
    assert (_card(w).uses_left, _card(w).state) == (4, PackageCard.State.ACTIVE)
    coupon = _coupon(w)
    assert (coupon.state, coupon.used_order_id) == (Coupon.State.USED, order.pk)
    use = CouponEntry.objects.for_org(w.org).get(coupon=coupon, kind=CouponEntry.Kind.USE)
    assert (use.amount, use.line_id) == (M("20.00"), coupon_line.pk)
    _statement_sums_to_the_balances(w)


def test_stored_value_for_all_it_covers_takes_what_the_card_coupon_and_points_left(w: SimpleNamespace) -> None:
    payments = _everything_at_once(w, stored_value=ALL)

    # 132.66 is due after the card, the coupon and the points; the balance covers it: no cash at all.
    assert [(p.method, p.amount) for p in payments] == [("stored_value", M("132.66"))]
    spend = StoredValueEntry.objects.for_org(w.org).get(order=w.order, kind=StoredValueEntry.Kind.SPEND)
    assert (spend.principal, spend.bonus) == (M("-120.60"), M("-12.06"))  # 132.66 × 1,000/1,100 = 120.60
    assert _order(w).state == OrderState.PAID
    _statement_sums_to_the_balances(w)


def test_a_card_paying_the_whole_bill_settles_it_with_a_payment_of_nothing(w: SimpleNamespace) -> None:
    order = w.make_order(w.car)
    wash_line = order_add_line(order=order, by=w.advisor, service=w.wash)
    order_complete(order=order, by=w.advisor)

    payments = order_checkout(order=order, by=w.advisor, card_lines=[(w.card, wash_line)], method="cash")

    assert [(p.method, p.amount) for p in payments] == [("cash", M("0.00"))]
    order.refresh_from_db()
    assert (order.state, order.total) == (OrderState.PAID, M("0.00"))
    assert not PointsEntry.objects.for_org(w.org).filter(order=order).exists()  # nothing paid, nothing earned


# --- the order of application ------------------------------------------------------------------


def test_the_card_pays_its_line_before_the_coupon_judges_its_minimum_spend(w: SimpleNamespace) -> None:
    coupon_template_save(organization=w.org, data={"min_spend": "200"}, template=w.template)
    before = everything(w.org)

    # 205.00 reaches 200, but the card comes first: 165.00 is left when the coupon is judged.
    with pytest.raises(StateConflict) as refused:
        _everything_at_once(w)

    assert str(refused.value.message) == str(errors.COUPON_MIN_SPEND % {"min": M("200.00"), "total": M("165.00")})
    assert everything(w.org) == before


def test_the_coupon_comes_off_before_the_points_share_is_judged(w: SimpleNamespace) -> None:
    # Half the bill may be paid by points: half of 205.00 − 20.00, not half of 205.00.
    with pytest.raises(ValidationError) as refused:
        order_checkout(order=w.order, by=w.advisor, coupon=w.coupon, points=9300)

    assert refused.value.messages == [str(errors.POINTS_OVER_SHARE % {"share": 50, "points": 9250})]
    assert _coupon(w).state == Coupon.State.ISSUED


# --- a refusal anywhere writes nothing ---------------------------------------------------------


def _card_used_up(w: SimpleNamespace) -> dict[str, Any]:
    for _ in range(5):
        earlier = w.make_order(w.car)
        card_use(order=earlier, card=w.card, service=w.wash, by=w.advisor)
    return {}


def _coupon_used(w: SimpleNamespace) -> dict[str, Any]:
    earlier = w.make_order(w.car)
    order_add_line(order=earlier, by=w.advisor, service=w.oil)
    coupon_apply(order=earlier, coupon=w.coupon, by=w.advisor)
    return {}


def _balance_short(w: SimpleNamespace) -> dict[str, Any]:
    earlier = w.make_order(w.car)
    order_add_line(order=earlier, by=w.advisor, service=w.oil, unit_price="1050.00")
    order_complete(order=earlier, by=w.advisor)
    order_pay(order=earlier, by=w.advisor, method="stored_value", amount="1050.00")  # 50.00 left
    return {}


FAILURES = [
    pytest.param(_card_used_up, StateConflict, errors.CARD_NO_USES_LEFT, {}, id="the card has no use left"),
    pytest.param(
        _coupon_used,
        StateConflict,
        errors.COUPON_NOT_AVAILABLE,
        {"state": Coupon.State.USED.label},
        id="the coupon is used already",
    ),
    pytest.param(
        lambda w: {"points": 5000},
        StateConflict,
        errors.POINTS_TOO_FEW,
        {"balance": 3000, "points": 5000},
        id="too few points",
    ),
    pytest.param(
        _balance_short,
        StateConflict,
        errors.BALANCE_TOO_LOW,
        {"balance": M("50.00"), "amount": M("77.77")},
        id="the balance is short",
    ),
    pytest.param(
        lambda w: {"stored_value": "140.00"},
        StateConflict,
        order_errors.PAYMENT_TOO_MUCH,
        {"amount": M("140.00"), "due": M("132.66")},
        id="more stored value than is due",
    ),
    pytest.param(
        lambda w: {"method": "stored_value"},
        ValidationError,
        errors.CHECKOUT_METHOD_INVALID,
        {},
        id="the rest by stored value",
    ),
]


@pytest.mark.parametrize(("arrange", "raised", "message", "params"), FAILURES)
def test_a_refusal_of_any_part_writes_nothing_at_all(
    w: SimpleNamespace, arrange: Callable[[SimpleNamespace], dict[str, Any]], raised: type, message: Any, params: Any
) -> None:
    changes = arrange(w)
    before = everything(w.org)

    with pytest.raises(raised) as refused:
        _everything_at_once(w, **changes)

    error = refused.value
    assert isinstance(error, StateConflict | ValidationError)
    said = error.message if isinstance(error, StateConflict) else error.messages[0]
    rendered = {k: str(v) if isinstance(v, Promise) else v for k, v in params.items()}
    assert str(said) == str(message % rendered if rendered else message)
    assert everything(w.org) == before  # no line replaced, no discount, no entry, no payment, no balance moved


def test_a_checkout_before_the_work_is_done_writes_nothing(w: SimpleNamespace) -> None:
    order = w.make_order(w.car)
    wash_line = order_add_line(order=order, by=w.advisor, service=w.wash)
    order_add_line(order=order, by=w.advisor, service=w.oil)
    before = everything(w.org)

    # The card, the coupon and the points would go on an open order; the payment may not.
    with pytest.raises(StateConflict) as refused:
        order_checkout(order=order, by=w.advisor, card_lines=[(w.card, wash_line)], coupon=w.coupon, points=1000)

    assert str(refused.value.message) == str(order_errors.ORDER_NOT_COMPLETED)
    assert everything(w.org) == before


# --- voided, or refunded: what comes back ------------------------------------------------------


def test_a_void_before_payment_gives_back_the_card_use_the_coupon_and_the_points(w: SimpleNamespace) -> None:
    # The checkout's steps before any money: what the API does call by call.
    card_use(order=w.order, card=w.card, service=w.wash, by=w.advisor, replaces=w.wash_line)
    coupon_apply(order=w.order, coupon=w.coupon, by=w.advisor)
    points_redeem(order=w.order, points=1234, by=w.advisor)
    assert (_card(w).uses_left, _coupon(w).state, _account(w).points) == (4, Coupon.State.USED, 1766)

    order_void(order=w.order, by=w.advisor, reason="客户改天再来")

    # Each spending entry has its giving-back entry, paired with it.
    use = PackageCardEntry.objects.for_org(w.org).get(order=w.order, kind=PackageCardEntry.Kind.USE)
    back = PackageCardEntry.objects.for_org(w.org).get(order=w.order, kind=PackageCardEntry.Kind.RETURN)
    assert (use.amount, back.amount, back.reverses_id, back.uses_after) == (-1, 1, use.pk, 5)
    redeem = PointsEntry.objects.for_org(w.org).get(order=w.order, kind=PointsEntry.Kind.REDEEM)
    returned = PointsEntry.objects.for_org(w.org).get(order=w.order, kind=PointsEntry.Kind.REVERSE)
    assert (redeem.amount, returned.amount, returned.reverses_id, returned.balance_after) == (
        -1234,
        1234,
        redeem.pk,
        3000,
    )
    coupon_moves = CouponEntry.objects.for_org(w.org).filter(coupon=w.coupon, order=w.order).order_by("at", "pk")
    assert [(e.kind, e.state_after) for e in coupon_moves] == [("use", "used"), ("return", "issued")]
    card, coupon, account = _card(w), _coupon(w), _account(w)
    assert (card.uses_left, card.state) == (5, PackageCard.State.ACTIVE)
    assert (coupon.state, coupon.used_order_id) == (Coupon.State.ISSUED, None)
    assert (account.points, account.stored_balance) == (3000, M("1100.00"))
    assert not StoredValueEntry.objects.for_org(w.org).filter(order=w.order).exists()
    _statement_sums_to_the_balances(w)
    # What came back can pay again.
    reopened = w.make_order(w.car)
    line = order_add_line(order=reopened, by=w.advisor, service=w.wash)
    order_add_line(order=reopened, by=w.advisor, service=w.oil)
    order_complete(order=reopened, by=w.advisor)
    order_checkout(order=reopened, by=w.advisor, card_lines=[(_card(w), line)], coupon=_coupon(w), points=1234)
    assert (_card(w).uses_left, _coupon(w).state, _account(w).points) == (4, Coupon.State.USED, 1766 + 87)


def test_once_stored_value_has_paid_part_of_it_the_order_cannot_be_voided(w: SimpleNamespace) -> None:
    coupon_apply(order=w.order, coupon=w.coupon, by=w.advisor)
    order_pay(order=w.order, by=w.advisor, method="stored_value", amount="50.00")
    before = everything(w.org)

    with pytest.raises(StateConflict) as refused:
        order_void(order=w.order, by=w.advisor, reason="客户改天再来")

    assert str(refused.value.message) == str(order_errors.ORDER_HAS_PAYMENTS)
    assert everything(w.org) == before


def test_a_mixed_bill_refunded_in_full_puts_the_stored_value_back_as_it_was_spent(w: SimpleNamespace) -> None:
    _everything_at_once(w)
    before = everything(w.org)
    with pytest.raises(StateConflict) as refused:
        order_void(order=w.order, by=w.advisor, reason="返工")
    assert str(refused.value.message) == str(order_errors.ORDER_CANNOT_VOID_PAID)
    assert everything(w.org) == before

    order_adjust(order=w.order, by=w.advisor, amount="-132.66", reason="返工，全额退款")
    order_pay(order=w.order, by=w.advisor, method="stored_value", amount="-77.77")
    order_pay(order=w.order, by=w.advisor, method="wechat", amount="-54.89", reference="退款")

    order = _order(w)
    assert (order.state, order.total, order.amount_paid, order.amount_due) == (OrderState.PAID, 0, 0, 0)
    # The refund to the card pairs with the spend: 70.70 principal and 7.07 bonus, back in the same proportion.
    spend = StoredValueEntry.objects.for_org(w.org).get(order=order, kind=StoredValueEntry.Kind.SPEND)
    refund = StoredValueEntry.objects.for_org(w.org).get(order=order, kind=StoredValueEntry.Kind.ORDER_REFUND)
    assert (refund.principal, refund.bonus) == (-spend.principal, -spend.bonus) == (M("70.70"), M("7.07"))
    account = _account(w)
    assert (account.stored_principal, account.stored_bonus) == (M("1000.00"), M("100.00"))
    # The points the bill earned are taken back with it.
    earned = PointsEntry.objects.for_org(w.org).get(order=order, kind=PointsEntry.Kind.EARN)
    taken = PointsEntry.objects.for_org(w.org).get(order=order, kind=PointsEntry.Kind.REVERSE, reverses=earned)
    assert (earned.amount, taken.amount) == (132, -132)
    _statement_sums_to_the_balances(w)


def test_the_statement_of_the_four_ledgers_reads_in_fixed_queries_however_long(
    w: SimpleNamespace, client_for: Callable[[User], Any], django_assert_num_queries: Any
) -> None:
    from django.urls import reverse

    _everything_at_once(w)
    # 1 count, 1 a page of keys (the four ledgers' union), 1 per ledger on the page with its orders,
    # cards or coupons.
    with django_assert_num_queries(6):
        found = statement(customer=w.customer)
    assert {i.ledger for i in found.items} == {"points", "stored_value", "package_cards", "coupons"}
    for _ in range(60):
        stored_value_top_up(customer=w.customer, amount="10", method="cash", by=w.advisor)
    with django_assert_num_queries(6):
        longer = statement(customer=w.customer, page=2)  # the last ten top-ups, then everything before
    assert longer.count == found.count + 60 and len(longer.items) == found.count + 10
    assert {i.ledger for i in longer.items} == {"points", "stored_value", "package_cards", "coupons"}

    # The page: 1 session, 2 user + organization, 3 the customer, the statement's six (one page of
    # 50 with all four ledgers on it), the account's balance, the user's shops.
    client = client_for(w.advisor)
    url = reverse("loyalty:statement", args=[w.customer.pk])
    with django_assert_num_queries(11):
        page = client.get(url + "?page=2")
    assert {i.ledger for i in page.context["items"]} == {"points", "stored_value", "package_cards", "coupons"}
