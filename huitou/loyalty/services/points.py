"""Points (积分): earned on paid orders, taken back with refunds, redeemed as money off, expired oldest first.

Every movement is a ``PointsEntry`` written under the account's row lock
(``account_locked``) together with the new cached ``LoyaltyAccount.points``.

Which earned points are still there is worked out from the append-only
ledger, never stored on an entry: the *lots* are the entries that carry an
``expires_on`` (earned and bonus points); every other entry (redeemed,
expired, taken back, given back, corrected) is *consumption*, and
consumption eats the lots oldest expiry first. So the points of the lots
expiring on or before a day D that are still unspent are
``max(0, lots(≤ D) − consumed)`` — one sum per customer, which is what the
expiry job and the year-end list compute in SQL (docs/decisions.md).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.lib.money import round_fen
from huitou.loyalty import errors
from huitou.loyalty.models import LoyaltyAccount, LoyaltyProgram, PointsCategoryRate, PointsEntry
from huitou.loyalty.services.accounts import account_locked
from huitou.service.errors import StateConflict
from huitou.service.models import OrderLine, ServiceOrder
from huitou.service.services.orders import order_add_discount
from huitou.tenancy.models import Organization, User

if TYPE_CHECKING:
    from huitou.loyalty.services.paid import PaidOrder

ZERO = Decimal("0.00")
MAX_POINTS = 100_000_000  # more than any customer holds; keeps the column safe
BATCH = 1_000  # customers per transaction in the expiry job

# The bill's line for redeemed points (printed as is, like "套餐卡抵扣").
REDEEM_LINE = "积分抵扣 {points} 分"


def program_for(organization: Organization | int) -> LoyaltyProgram:
    """The organization's settings (made with the defaults if the organization has none yet)."""
    organization_id = organization if isinstance(organization, int) else organization.pk
    program = LoyaltyProgram.objects.for_org(organization_id).first()
    if program is None:
        program, _created = LoyaltyProgram.objects.get_or_create(organization_id=organization_id)
    return program


def expiry_date(*, program: LoyaltyProgram, earned_on: dt.date) -> dt.date:
    """Points earned on ``earned_on`` expire at the end of the year ``points_expire_after_years`` later."""
    return dt.date(earned_on.year + program.points_expire_after_years, 12, 31)


def _write(
    account: LoyaltyAccount,
    *,
    kind: str,
    amount: int,
    at: dt.datetime,
    by: User | None,
    order: ServiceOrder | None = None,
    line_id: int | None = None,
    expires_on: dt.date | None = None,
    reverses: PointsEntry | None = None,
    reason: str = "",
) -> PointsEntry:
    """One entry and the new cached balance (the account is locked by the caller)."""
    account.points += amount
    assert account.points >= 0
    account.save(update_fields=["points"])
    return PointsEntry.objects.create(
        organization_id=account.organization_id,
        customer_id=account.customer_id,
        kind=kind,
        amount=amount,
        balance_after=account.points,
        expires_on=expires_on,
        order=order,
        line_id=line_id,
        reverses=reverses,
        reason=reason[:200],
        by=by,
        at=at,
    )


# --- earning ------------------------------------------------------------------------------------


def in_birthday_month(customer: Customer, day: dt.date) -> bool:
    if not customer.birth_month:
        return False
    if customer.birth_day:
        upcoming = customer.next_birthday(day.replace(day=1))
        return upcoming is not None and (upcoming.year, upcoming.month) == (day.year, day.month)
    return customer.birth_month == day.month


def points_for_order(
    *, order: ServiceOrder, account: LoyaltyAccount | None, program: LoyaltyProgram, paid: PaidOrder | None = None
) -> int:
    """What a paid order earns: each line's share of the total × its category's rate, × tier × birthday.

    Discount lines (a member's discount, coupons, points) lower what is earned:
    the lines' rates are weighted by their amounts and applied to the order's
    total, so money not paid earns nothing. With ``paid`` the lines, their
    rates and the customer are those already read.
    """
    if paid is not None:
        lines = [(line.amount, line.category) for line in paid.lines if line.kind != OrderLine.Kind.DISCOUNT]
    else:
        lines = list(
            OrderLine.objects.for_org(order.organization_id)
            .filter(order=order)
            .exclude(kind=OrderLine.Kind.DISCOUNT)
            .values_list("amount", "service__category")
        )
    gross = sum((amount for amount, _category in lines), ZERO)
    if gross <= 0 or order.total <= 0:
        return 0
    if paid is not None:
        rates = {line.category: line.points_rate for line in paid.lines if line.points_rate is not None}
    else:
        rates = dict(
            PointsCategoryRate.objects.for_org(order.organization_id).values_list("category", "points_per_yuan")
        )
    weighted = sum((amount * rates.get(category, program.points_per_yuan) for amount, category in lines), ZERO)
    raw = weighted * order.total / gross
    tier = account.tier if account is not None and account.tier_id is not None else None
    if tier is not None:
        raw *= tier.points_multiplier
    if paid is not None:
        customer = paid.customer
    else:
        customer = Customer.objects.for_org(order.organization_id).get(pk=order.customer_id)
    if in_birthday_month(customer, timezone.localdate(order.paid_at or timezone.now())):
        raw *= program.birthday_multiplier
    return min(int(raw.to_integral_value(rounding=ROUND_DOWN)), MAX_POINTS)


def points_earn(
    *, order: ServiceOrder, by: User | None, now: dt.datetime | None = None, paid: PaidOrder | None = None
) -> PointsEntry | None:
    """Credit what a paid order earns (once per order; run again, it adds nothing).

    With ``paid`` (``paid_order_read``) nothing is read again: the account is locked already.
    """
    now = now or order.paid_at or timezone.now()
    with transaction.atomic(savepoint=False):
        if paid is not None:
            account, earned, program = paid.account, paid.points_earned, paid.program
        else:
            account = account_locked(order.customer_id, organization_id=order.organization_id)
            rows = PointsEntry.objects.for_org(order.organization_id)
            earned = rows.filter(order=order, kind=PointsEntry.Kind.EARN).exists()
            program = program_for(order.organization_id)
        if earned:
            return None
        points = points_for_order(order=order, account=account, program=program, paid=paid)
        if points <= 0:
            return None
        return _write(
            account,
            kind=PointsEntry.Kind.EARN,
            amount=points,
            at=now,
            by=by,
            order=order,
            expires_on=expiry_date(program=program, earned_on=timezone.localdate(now)),
            reason=order.number,
        )


def points_follow_total(*, order: ServiceOrder, by: User | None, now: dt.datetime | None = None) -> PointsEntry | None:
    """After an adjustment, keep what the order earned in proportion to its new total.

    The target is ``earned × total / lines_total``; points already taken back
    count. Down: the difference is taken back (never more than the customer
    still holds: spent points stay spent). Up again: what was taken back is
    given back, with the earned points' expiry.
    """
    now = now or timezone.now()
    with transaction.atomic():
        account = account_locked(order.customer_id, organization_id=order.organization_id)
        rows = PointsEntry.objects.for_org(order.organization_id).filter(order=order)
        earn = rows.filter(kind=PointsEntry.Kind.EARN).first()
        if earn is None:
            return None
        taken = -(rows.filter(kind=PointsEntry.Kind.REVERSE, reverses=earn).aggregate(s=Sum("amount"))["s"] or 0)
        if order.lines_total > 0:
            ratio = min(max(order.total / order.lines_total, Decimal(0)), Decimal(1))
        else:
            ratio = Decimal(0)
        target = int((earn.amount * ratio).to_integral_value(rounding=ROUND_DOWN))
        change = target - (earn.amount - taken)  # < 0: take back; > 0: give back
        if change < 0:
            change = -min(-change, account.points)
        elif change > 0:
            change = min(change, taken)
        if change == 0:
            return None
        return _write(
            account,
            kind=PointsEntry.Kind.REVERSE,
            amount=change,
            at=now,
            by=by,
            order=order,
            reverses=earn,
            expires_on=earn.expires_on if change > 0 else None,
            reason=order.number,
        )


# --- redeeming ----------------------------------------------------------------------------------


def _parse_points(points: Any) -> int:
    if isinstance(points, bool | float):
        raise ValidationError({"points": [errors.POINTS_INVALID]})
    try:
        value = int(str(points).strip())
    except (TypeError, ValueError):
        raise ValidationError({"points": [errors.POINTS_INVALID]}) from None
    if value <= 0 or value > MAX_POINTS:
        raise ValidationError({"points": [errors.POINTS_INVALID]})
    return value


def points_redeemed_on(order: ServiceOrder) -> int:
    """Points redeemed on the order and not given back."""
    rows = PointsEntry.objects.for_org(order.organization_id).filter(order=order)
    spent = rows.filter(kind=PointsEntry.Kind.REDEEM).aggregate(s=Sum("amount"))["s"] or 0
    back = rows.filter(kind=PointsEntry.Kind.REVERSE, reverses__kind=PointsEntry.Kind.REDEEM).aggregate(
        s=Sum("amount")
    )["s"]
    return -(spent + (back or 0))


def points_redeem(*, order: ServiceOrder, points: Any, by: User, now: dt.datetime | None = None) -> OrderLine:
    """Take ``points`` off the customer's balance as a discount line "积分抵扣 N 分" at the program's rate.

    Refused (409) when the customer holds fewer points; refused (422) beyond
    the program's largest share of the order paid by points. The order is
    locked first, then the account (the product's lock order).
    """
    value = _parse_points(points)
    now = now or timezone.now()
    with transaction.atomic():
        order = ServiceOrder.objects.for_org(order.organization_id).select_for_update().get(pk=order.pk)
        program = program_for(order.organization_id)
        money = round_fen(value * program.point_value)
        if money <= 0:
            raise ValidationError({"points": [errors.POINTS_WORTH_NOTHING]})
        already = points_redeemed_on(order)
        already_money = round_fen(already * program.point_value)
        ceiling = round_fen((order.total + already_money) * program.max_points_share) - already_money
        if money > ceiling:
            most = max(int((ceiling / program.point_value).to_integral_value(rounding=ROUND_DOWN)), 0)
            raise ValidationError(
                {"points": [errors.POINTS_OVER_SHARE % {"share": int(program.max_points_share * 100), "points": most}]}
            )
        account = account_locked(order.customer_id, organization_id=order.organization_id)
        if account.points < value:
            raise StateConflict(errors.POINTS_TOO_FEW % {"balance": account.points, "points": value})
        line = order_add_discount(
            order=order,
            by=by,
            name=REDEEM_LINE.format(points=value),
            amount=money,
            note=REDEEM_LINE.format(points=value),
            now=now,
        )
        _write(
            account,
            kind=PointsEntry.Kind.REDEEM,
            amount=-value,
            at=now,
            by=by,
            order=order,
            line_id=line.pk,
            reason=order.number,
        )
    return line


def points_give_back(
    *, order: ServiceOrder, by: User | None, line_id: int | None = None, now: dt.datetime | None = None
) -> list[PointsEntry]:
    """Return the points redeemed on the order (or on one of its discount lines), once each."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = PointsEntry.objects.for_org(order.organization_id)
        redemptions = rows.filter(order=order, kind=PointsEntry.Kind.REDEEM).exclude(
            pk__in=rows.filter(reverses__isnull=False, order=order).values("reverses")
        )
        if line_id is not None:
            redemptions = redemptions.filter(line_id=line_id)
        redemptions_list = list(redemptions.order_by("pk"))
        if not redemptions_list:
            return []
        account = account_locked(order.customer_id, organization_id=order.organization_id)
        return [
            _write(
                account,
                kind=PointsEntry.Kind.REVERSE,
                amount=-entry.amount,
                at=now,
                by=by,
                order=order,
                line_id=entry.line_id,
                reverses=entry,
                reason=order.number,
            )
            for entry in redemptions_list
        ]


# --- expiry -------------------------------------------------------------------------------------


def _unspent_until(rows: QuerySet[PointsEntry], day: dt.date) -> QuerySet[Any]:
    """Per customer: the points of lots expiring on or before ``day`` that are still unspent (> 0 only).

    ``max(0, Σ lots expiring ≤ day + Σ consumption)`` (consumption entries are
    negative, a give-back positive), the module docstring's rule in one GROUP BY.
    """
    return (
        rows.values("customer_id")
        .annotate(
            due=Greatest(
                Coalesce(
                    Sum(
                        Case(
                            When(expires_on__isnull=True, then=F("amount")),
                            When(expires_on__lte=day, then=F("amount")),
                            default=Value(0),
                            output_field=IntegerField(),
                        )
                    ),
                    0,
                ),
                0,
            )
        )
        .filter(due__gt=0)
    )


def points_expire(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """Expire every customer's points whose lots ended before today; returns the points expired.

    Set-based: one GROUP BY finds the customers with unspent expired lots; each
    batch of them is locked, summed again under the lock, and written with one
    insert and one update. Safe to run twice (expired points are consumption).
    """
    now = now or timezone.now()
    yesterday = timezone.localdate(now) - dt.timedelta(days=1)
    rows = PointsEntry.objects.for_org(organization)
    candidates = list(_unspent_until(rows, yesterday).order_by("customer_id").values_list("customer_id", flat=True))
    total = 0
    for start in range(0, len(candidates), BATCH):
        batch = candidates[start : start + BATCH]
        with transaction.atomic():
            accounts = {
                a.customer_id: a
                for a in LoyaltyAccount.objects.for_org(organization)
                .select_for_update()
                .filter(customer_id__in=batch)
                .order_by("pk")
            }
            due = dict(_unspent_until(rows.filter(customer_id__in=batch), yesterday).values_list("customer_id", "due"))
            entries = []
            for customer_id, points in due.items():
                account = accounts[customer_id]
                points = min(points, account.points)
                if points <= 0:
                    continue
                account.points -= points
                total += points
                entries.append(
                    PointsEntry(
                        organization_id=organization.pk,
                        customer_id=customer_id,
                        kind=PointsEntry.Kind.EXPIRE,
                        amount=-points,
                        balance_after=account.points,
                        reason=str(yesterday),
                        at=now,
                    )
                )
            PointsEntry.objects.bulk_create(entries)
            LoyaltyAccount.objects.for_org(organization).bulk_update(
                [accounts[e.customer_id] for e in entries], ["points"], batch_size=BATCH
            )
    return total


def points_expiring_by(*, organization: Organization, day: dt.date) -> QuerySet[Any]:
    """Customers with points that will have expired after ``day`` unless redeemed: ``customer_id``, ``due``."""
    return _unspent_until(PointsEntry.objects.for_org(organization), day)
