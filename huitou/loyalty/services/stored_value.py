"""Stored value (储值卡): top-ups with their bonus, paying orders, refunds, rewards.

Every movement is one ``StoredValueEntry`` written with the new cached
balance of the account row, which ``account_locked`` holds under
``select_for_update`` for the rest of the caller's transaction. Principal
(money the customer paid in) and bonus (given by the shop) move separately:

- a payment takes both in proportion to the balance, the principal's share
  rounded half-up to the fen and the bonus taking the rest (so the last
  payment of a balance empties both exactly);
- an order refunded to the card (a negative stored-value payment) gives back
  in the proportion that order spent, never more than it spent;
- refunding the card pays out the unspent principal; the unspent bonus is
  forfeited (a second entry says so).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.lib.money import DecimalIn, MoneyError, parse_money, round_fen
from huitou.loyalty import errors
from huitou.loyalty.models import LoyaltyAccount, StoredValueEntry, TopUpRule
from huitou.loyalty.services.accounts import account_locked
from huitou.service.errors import StateConflict
from huitou.service.models import Payment, PaymentMethod, ServiceOrder
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.selectors import shops_for_user

ZERO = Decimal("0.00")
MAX_TOP_UP = Decimal("1000000")  # one top-up of a million yuan is a typing mistake, not a customer
# How money comes in for a top-up, or goes back out for a refund: anything but the card itself.
OUTSIDE_METHODS = [m for m in PaymentMethod.values if m != PaymentMethod.STORED_VALUE]


def top_up_bonus(*, organization: Organization | int, amount: Decimal) -> Decimal:
    """The bonus of the largest active rule the amount meets (1,000 → 100, 3,000 → 400), or 0."""
    rule = (
        TopUpRule.objects.for_org(organization)
        .filter(is_active=True, minimum__lte=amount)
        .order_by("-minimum")
        .values_list("bonus", flat=True)
        .first()
    )
    return rule if rule is not None else ZERO


def _entry(
    account: LoyaltyAccount,
    *,
    kind: str,
    principal: Decimal,
    bonus: Decimal,
    at: dt.datetime,
    by: User | None,
    reason: str = "",
    **links: Any,
) -> StoredValueEntry:
    """Move the locked account's balances and write the entry that says so."""
    account.stored_principal += principal
    account.stored_bonus += bonus
    account.save(update_fields=["stored_principal", "stored_bonus"])
    return StoredValueEntry.objects.create(
        organization_id=account.organization_id,
        customer_id=account.customer_id,
        kind=kind,
        principal=principal,
        bonus=bonus,
        principal_after=account.stored_principal,
        bonus_after=account.stored_bonus,
        reason=reason[:200],
        by=by,
        at=at,
        **links,
    )


def stored_value_top_up(
    *,
    customer: Customer,
    amount: DecimalIn,
    method: str,
    by: User | None,
    shop: Shop | None = None,
    reference: str = "",
    now: dt.datetime | None = None,
) -> StoredValueEntry:
    """The customer pays ``amount`` in by ``method``; the top-up rule met adds its bonus.

    One entry carries both (principal = the amount, bonus = the rule's).
    """
    problems: dict[str, list[Any]] = {}
    try:
        value = parse_money(amount)
        if not ZERO < value <= MAX_TOP_UP:
            raise MoneyError(amount)
    except MoneyError:
        problems["amount"] = [errors.TOP_UP_AMOUNT_INVALID]
        value = ZERO
    if method not in OUTSIDE_METHODS:
        problems["method"] = [errors.TOP_UP_METHOD_INVALID]
    if problems:
        raise ValidationError(problems)
    if customer.deleted_at is not None:
        raise StateConflict(errors.TOP_UP_CUSTOMER_DELETED)
    shop = counter_shop(shop=shop, organization_id=customer.organization_id, by=by)
    bonus = top_up_bonus(organization=customer.organization_id, amount=value)
    reason = f"{reference}".strip()
    with transaction.atomic():
        account = account_locked(customer)
        return _entry(
            account,
            kind=StoredValueEntry.Kind.TOP_UP,
            principal=value,
            bonus=bonus,
            method=method,
            shop=shop,
            reason=reason,
            by=by,
            at=now or timezone.now(),
        )


def counter_shop(*, shop: Shop | None, organization_id: int, by: User | None) -> Shop | None:
    """Where money changed hands: ``shop`` (the page's current shop) when it is the organization's,
    else the staff member's first shop (the API's default, as for a new order), else none."""
    if shop is not None and shop.organization_id == organization_id:
        return shop
    if by is None or by.organization_id != organization_id:
        return None
    return shops_for_user(by).first()


def _split(amount: Decimal, principal: Decimal, bonus: Decimal) -> tuple[Decimal, Decimal]:
    """``amount`` as (principal, bonus) in the proportion of ``principal`` to ``bonus``.

    The principal's share is rounded half-up to the fen and the bonus takes the
    rest; neither share exceeds its side when ``amount`` ≤ principal + bonus.
    """
    whole = principal + bonus
    if whole == 0:
        return amount, ZERO
    share = round_fen(amount * principal / whole)
    return share, amount - share


def stored_value_on_payment(*, order: ServiceOrder, payment: Payment, by: User | None) -> StoredValueEntry | None:
    """A stored-value payment (or refund to the card) moves the ledger of the order's customer.

    Called on ``payment_taken`` inside ``order_pay``'s transaction, the order row
    locked: more than the balance raises ``StateConflict`` and nothing is written.
    """
    if payment.method != PaymentMethod.STORED_VALUE:
        return None
    if order.customer_id is None:
        raise StateConflict(errors.STORED_VALUE_NO_CUSTOMER)
    account = account_locked(order.customer_id, organization_id=order.organization_id)
    amount = payment.amount
    if amount > 0:
        balance = account.stored_balance
        if amount > balance:
            raise StateConflict(errors.BALANCE_TOO_LOW % {"balance": balance, "amount": amount})
        principal, bonus = _split(amount, account.stored_principal, account.stored_bonus)
        return _entry(
            account,
            kind=StoredValueEntry.Kind.SPEND,
            principal=-principal,
            bonus=-bonus,
            order=order,
            payment=payment,
            reason=order.number,
            by=by,
            at=payment.at,
        )
    # A refund to the card: back in the proportion this order spent, at most what it spent.
    spent = (
        StoredValueEntry.objects.for_org(order.organization_id)
        .filter(order=order, customer_id=order.customer_id, payment__isnull=False)
        .aggregate(principal=Sum("principal"), bonus=Sum("bonus"))
    )
    spent_principal = -round_fen(spent["principal"] or ZERO)
    spent_bonus = -round_fen(spent["bonus"] or ZERO)
    back = -amount
    if back > spent_principal + spent_bonus:
        raise StateConflict(errors.REFUND_MORE_THAN_SPENT % {"spent": spent_principal + spent_bonus})
    principal, bonus = _split(back, spent_principal, spent_bonus)
    return _entry(
        account,
        kind=StoredValueEntry.Kind.ORDER_REFUND,
        principal=principal,
        bonus=bonus,
        order=order,
        payment=payment,
        reason=order.number,
        by=by,
        at=payment.at,
    )


def stored_value_refund(
    *,
    customer: Customer,
    method: str,
    reason: str,
    by: User | None,
    shop: Shop | None = None,
    now: dt.datetime | None = None,
) -> StoredValueEntry:
    """Close out the card: the unspent principal is paid back by ``method``; the bonus is forfeited.

    Returns the refund entry; a second entry (``REVERSE``) takes the unspent bonus off.
    """
    reason = (reason or "").strip()
    problems: dict[str, list[Any]] = {}
    if method not in OUTSIDE_METHODS:
        problems["method"] = [errors.CARD_REFUND_METHOD_INVALID]
    if not reason:
        problems["reason"] = [errors.CARD_REFUND_REASON_REQUIRED]
    if problems:
        raise ValidationError(problems)
    shop = counter_shop(shop=shop, organization_id=customer.organization_id, by=by)
    now = now or timezone.now()
    with transaction.atomic():
        account = account_locked(customer)
        principal, bonus = account.stored_principal, account.stored_bonus
        if principal <= 0:
            raise StateConflict(errors.CARD_REFUND_NOTHING)
        refund = _entry(
            account,
            kind=StoredValueEntry.Kind.CARD_REFUND,
            principal=-principal,
            bonus=ZERO,
            method=method,
            shop=shop,
            reason=reason,
            by=by,
            at=now,
        )
        if bonus > 0:
            _entry(
                account,
                kind=StoredValueEntry.Kind.REVERSE,
                principal=ZERO,
                bonus=-bonus,
                reverses=refund,
                reason=reason,
                by=by,
                at=now,
            )
    return refund


def stored_value_reward(
    *,
    customer: Customer,
    bonus: Decimal,
    reason: str,
    order: ServiceOrder | None = None,
    by: User | None = None,
    now: dt.datetime | None = None,
) -> StoredValueEntry:
    """Credit ``bonus`` (a reward: a referral's share of a bill) to the customer's stored value as bonus."""
    if bonus <= 0 or bonus != round_fen(bonus):
        raise ValidationError({"bonus": [errors.REWARD_INVALID]})
    with transaction.atomic():
        account = account_locked(customer)
        return _entry(
            account,
            kind=StoredValueEntry.Kind.REWARD,
            principal=ZERO,
            bonus=bonus,
            order=order,
            reason=reason,
            by=by,
            at=now or timezone.now(),
        )


def stored_value_reward_reverse(
    *, entry: StoredValueEntry, reason: str, by: User | None = None, now: dt.datetime | None = None
) -> StoredValueEntry:
    """Take a reward back as far as its bonus is unspent (a bonus already spent is not owed back)."""
    with transaction.atomic():
        account = account_locked(entry.customer_id, organization_id=entry.organization_id)
        taken = min(entry.bonus, account.stored_bonus)
        return _entry(
            account,
            kind=StoredValueEntry.Kind.REVERSE,
            principal=ZERO,
            bonus=-taken,
            order_id=entry.order_id,
            reverses=entry,
            reason=reason,
            by=by,
            at=now or timezone.now(),
        )
