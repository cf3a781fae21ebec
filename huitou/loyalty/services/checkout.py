"""Paying at the counter in one step: package-card uses, a coupon, points, stored value and the rest.

Everything happens in one transaction: a refusal anywhere (a card with no use
left, a coupon already used, too few points, a balance too low) leaves the
order exactly as it was. Locks follow the product's order: the order row, then
the account, then a card or a coupon (each service called takes its own).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from huitou.lib.money import MoneyError, parse_money
from huitou.loyalty import errors
from huitou.loyalty.models import Coupon, LoyaltyAccount, PackageCard
from huitou.loyalty.services.cards import card_use
from huitou.loyalty.services.coupons import coupon_apply
from huitou.loyalty.services.points import points_redeem
from huitou.loyalty.services.stored_value import OUTSIDE_METHODS
from huitou.service.models import OrderLine, OrderState, Payment, PaymentMethod, ServiceOrder
from huitou.service.services.orders import order_pay
from huitou.tenancy.models import User

ZERO = Decimal("0.00")
ALL = "all"  # stored value: as much of the amount due as the balance covers


def order_checkout(
    *,
    order: ServiceOrder,
    by: User,
    card_lines: Sequence[tuple[PackageCard, OrderLine]] = (),
    coupon: Coupon | None = None,
    points: int = 0,
    stored_value: Any = None,
    method: str = PaymentMethod.CASH,
    reference: str = "",
    now: dt.datetime | None = None,
) -> list[Payment]:
    """Settle a completed order: each card pays its line, then the coupon, the points, the stored
    value (an amount, or ``ALL``: as much as the balance covers), and ``method`` pays the rest.

    Returns the payments taken; the order is paid when they cover the total.
    """
    if method not in OUTSIDE_METHODS:
        raise ValidationError({"method": [errors.CHECKOUT_METHOD_INVALID]})
    stored: Decimal | str | None = None
    if stored_value not in (None, ""):
        if stored_value == ALL:
            stored = ALL
        else:
            try:
                stored = parse_money(stored_value)
                if stored <= 0:
                    raise MoneyError(stored_value)
            except MoneyError as exc:
                raise ValidationError({"stored_value": [errors.TOP_UP_AMOUNT_INVALID]}) from exc
    payments: list[Payment] = []
    with transaction.atomic():
        for card, line in card_lines:
            assert line.service is not None
            card_use(order=order, card=card, service=line.service, by=by, replaces=line, now=now)
        if coupon is not None:
            coupon_apply(order=order, coupon=coupon, by=by, now=now)
        if points:
            points_redeem(order=order, points=points, by=by, now=now)
        order.refresh_from_db()
        if stored is not None and order.amount_due > 0:
            if stored == ALL:
                account = LoyaltyAccount.objects.for_org(order.organization_id).filter(customer_id=order.customer_id)
                balance = next((a.stored_balance for a in account), ZERO)
                amount = min(balance, order.amount_due)
            else:
                assert isinstance(stored, Decimal)
                amount = stored
            if amount > 0:
                payments.append(
                    order_pay(order=order, by=by, method=PaymentMethod.STORED_VALUE, amount=amount, now=now)
                )
        rest = order.amount_due
        if rest > 0 or (rest == 0 and order.state == OrderState.COMPLETED):
            payments.append(order_pay(order=order, by=by, method=method, amount=rest, reference=reference, now=now))
    return payments
