"""Service orders: opening, lines, the state machine, payments, adjustments.

Every write locks the order row, changes it, recomputes its totals and
records the change history in one transaction. Writes the state machine
forbids raise ``StateConflict``; refused input raises ``ValidationError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import Length
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_entry, change_record
from huitou.customers.models import Customer, MileageReading, Vehicle
from huitou.customers.services import mileage_record
from huitou.lib.money import DecimalIn, MoneyError, line_amount, parse_decimal, parse_money, round_fen
from huitou.service import errors, events
from huitou.service.errors import RoleRefused, StateConflict
from huitou.service.models import (
    OrderAdjustment,
    OrderLine,
    OrderState,
    Part,
    Payment,
    PaymentMethod,
    Recommendation,
    ServiceItem,
    ServiceOrder,
)
from huitou.service.selectors import shop_price
from huitou.service.services.warranty import line_promise
from huitou.service.warranty import FROM_ITEM
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Perm, Role

ZERO = Decimal("0.00")
MAX_TOTAL = Decimal("1e10")  # an order's money columns hold 12 digits, 2 of them fen
EDITABLE = (OrderState.OPEN, OrderState.IN_PROGRESS, OrderState.COMPLETED)


def _locked(order: ServiceOrder) -> ServiceOrder:
    """Reload the order under a row lock; the caller's object gets the fresh values."""
    fresh = ServiceOrder.objects.for_org(order.organization_id).select_for_update().get(pk=order.pk)
    for field in ServiceOrder._meta.concrete_fields:
        setattr(order, field.attname, getattr(fresh, field.attname))
    return order


def _history(
    order: ServiceOrder,
    action: str,
    by: User | None,
    changes: dict[str, Any],
    note: str = "",
    now: dt.datetime | None = None,
) -> None:
    change_record(
        organization_id=order.organization_id,
        subject=order,
        action=action,
        actor=by,
        customer_id=order.customer_id,
        changes=changes,
        note=note,
        at=now,
    )


def _recompute(order: ServiceOrder) -> None:
    # round_fen: on SQLite a SUM of decimals comes back from floats (Decimal('29.9900000000000')).
    sums = OrderLine.objects.for_org(order.organization_id).filter(order=order).aggregate(total=Sum("amount"))
    adjustments = (
        OrderAdjustment.objects.for_org(order.organization_id).filter(order=order).aggregate(total=Sum("amount"))
    )
    paid = Payment.objects.for_org(order.organization_id).filter(order=order).aggregate(total=Sum("amount"))
    order.lines_total = round_fen(sums["total"] or ZERO)
    order.adjustments_total = round_fen(adjustments["total"] or ZERO)
    order.total = order.lines_total + order.adjustments_total
    order.amount_paid = round_fen(paid["total"] or ZERO)
    order.save(update_fields=["lines_total", "adjustments_total", "total", "amount_paid"])


def _entry(order: ServiceOrder, by: User | None, changes: dict[str, Any], now: dt.datetime | None) -> ChangeEntry:
    """A history entry of the order, written by the caller (with others in one ``bulk_create``)."""
    return change_entry(
        organization_id=order.organization_id,
        subject=order,
        action=ChangeEntry.Action.UPDATED,
        actor=by,
        customer_id=order.customer_id,
        changes=changes,
        at=now,
    )


def customer_visits_refresh(*, organization_id: int, customer_id: int) -> None:
    """Visit count, lifetime spend, first and last visit from the paid orders.

    Recomputed (not incremented), so voids and adjustments can never leave
    them wrong: one UPDATE from one pass over the customer's paid orders,
    written in SQL (the ORM's four subqueries cost more to build than to run).
    """
    customers, orders = (connection.ops.quote_name(m._meta.db_table) for m in (Customer, ServiceOrder))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {customers} SET (visit_count, lifetime_spend, first_visit_at, last_visit_at) = "  # noqa: S608
            # ROUND: on SQLite a SUM of decimals is a float sum.
            "(SELECT COUNT(*), COALESCE(ROUND(SUM(total), 2), 0), MIN(paid_at), MAX(paid_at) "
            f"FROM {orders} WHERE organization_id = %s AND customer_id = %s AND state = %s) "
            "WHERE organization_id = %s AND id = %s",
            [organization_id, customer_id, OrderState.PAID.value, organization_id, customer_id],
        )


def order_number(day: dt.date, sequence: int) -> str:
    """The ``sequence``-th order number of a local day: ``YYYYMMDD-NNNN``."""
    return f"{day:%Y%m%d}-{sequence:04d}"


def _next_number(organization: Organization, when: dt.datetime) -> str:
    """``YYYYMMDD-NNNN``, per organization and local day, under a lock on the organization."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    day = timezone.localdate(when)
    prefix = order_number(day, 0)[:-4]
    last = (
        ServiceOrder.objects.for_org(organization)
        .filter(number__startswith=prefix)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return order_number(day, sequence)


def order_open(
    *,
    organization: Organization,
    shop: Shop,
    vehicle: Vehicle,
    by: User,
    mileage_km: Any = None,
    description: str = "",
    advisor: User | None = None,
    expected_finish_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ServiceOrder:
    """Receive a car: the order is opened for the vehicle's current owner."""
    if shop.organization_id != organization.pk:
        raise ValidationError({"shop": [errors.SHOP_UNKNOWN]})
    if vehicle.organization_id != organization.pk or vehicle.deleted_at is not None:
        raise ValidationError({"vehicle_id": [errors.VEHICLE_UNKNOWN]})
    advisor = advisor or by
    if advisor.organization_id != organization.pk:
        raise ValidationError({"advisor": [errors.ADVISOR_INVALID]})
    now = now or timezone.now()
    with transaction.atomic():
        reading: MileageReading | None = None
        if mileage_km not in (None, ""):
            try:
                reading = mileage_record(
                    vehicle=vehicle, km=mileage_km, by=by, source=MileageReading.Source.ORDER, read_at=now
                )
            except ValidationError as exc:
                raise ValidationError({"mileage": exc.message_dict.get("km", exc.messages)}) from exc
        order = ServiceOrder.objects.create(
            organization=organization,
            shop=shop,
            number=_next_number(organization, now),
            customer_id=vehicle.customer_id,
            vehicle=vehicle,
            mileage=reading,
            mileage_km=reading.km if reading else None,
            description=(description or "").strip(),
            advisor=advisor,
            expected_finish_at=expected_finish_at,
            opened_at=now,
            created_by=by,
        )
        _history(
            order,
            ChangeEntry.Action.CREATED,
            by,
            {"number": [None, order.number], "plate": [None, vehicle.plate], "mileage": [None, order.mileage_km]},
            now=now,
        )
    return order


def _check_editable(order: ServiceOrder) -> None:
    if order.state not in EDITABLE:
        raise StateConflict(errors.ORDER_LOCKED)


def may_set_line_price(user: User) -> bool:
    """Whether ``user`` may charge a line at another price than the shop's, or discount it.

    Those who settle bills with the customer (store manager, service advisor) may; a
    technician records the work, and it is charged at the shop's price (honest billing:
    the price is agreed at the counter, not in the bay).
    """
    return user.has_role_perm(Perm.SETTLE_ORDERS)


def _is_zero(value: Any) -> bool:
    try:
        return parse_money(value) == 0
    except MoneyError:
        return False


def order_add_line(
    *,
    order: ServiceOrder,
    by: User,
    service: ServiceItem | None = None,
    part: Part | None = None,
    quantity: DecimalIn = 1,
    unit_price: DecimalIn | None = None,
    discount: DecimalIn | None = 0,
    technician: User | None = None,
    covered: str = "",
    warranty_months: Any = FROM_ITEM,
    warranty_km: Any = FROM_ITEM,
    now: dt.datetime | None = None,
) -> OrderLine:
    """Add a service item or a part.

    The price is the shop's (``selectors.shop_price``) with no discount; only someone who
    ``may_set_line_price`` sets another price or a discount (``RoleRefused`` otherwise). A
    technician adding a line without naming one is its technician. ``covered`` is for the
    services of other domains that pay for the line themselves (a package card's use): the
    line is priced 0.00 with that note printed on the bill. ``order_line_added`` is sent.
    The line promises the item's warranty unless other terms are named (``services.warranty``).
    """
    sets_price = unit_price not in (None, "")
    sets_discount = discount not in (None, "") and not _is_zero(discount)
    if (sets_price or sets_discount) and not may_set_line_price(by):
        raise RoleRefused(errors.PRICE_NOT_YOURS, "unit_price" if sets_price else "discount")
    if covered:
        unit_price, discount = ZERO, ZERO
    if technician is None and by.role == Role.TECHNICIAN:
        technician = by
    if (service is None) == (part is None):
        raise ValidationError({"item": [errors.ITEM_REQUIRED]})
    item = service or part
    assert item is not None
    if item.organization_id != order.organization_id or not item.is_active:
        raise ValidationError({"item": [errors.ITEM_UNKNOWN]})
    if technician is not None and (technician.organization_id != order.organization_id or not technician.is_active):
        raise ValidationError({"technician_id": [errors.TECHNICIAN_INVALID]})
    promise = line_promise(item=item, by=by, months=warranty_months, km=warranty_km)
    problems: dict[str, list[Any]] = {}
    try:
        qty = parse_decimal(quantity, 2, max_digits=8)  # OrderLine.quantity's size
        if qty <= 0:
            raise MoneyError(quantity)
    except MoneyError:
        problems["quantity"] = [errors.QUANTITY_INVALID]
        qty = Decimal(1)
    try:
        price = shop_price(shop=order.shop_id, item=item) if unit_price in (None, "") else parse_money(unit_price)
        if price < 0:
            raise MoneyError(unit_price)
    except MoneyError:
        problems["unit_price"] = [errors.PRICE_INVALID]
        price = ZERO
    try:
        off = parse_money(discount if discount not in (None, "") else 0)
        if off < 0 or off > qty * price:
            raise MoneyError(discount)
    except MoneyError:
        problems["discount"] = [errors.DISCOUNT_INVALID]
        off = ZERO
    amount = line_amount(qty, price, off)
    if not problems and amount.adjusted() >= 10:  # more than OrderLine.amount holds
        problems["quantity"] = [errors.QUANTITY_INVALID]
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        _locked(order)
        _check_editable(order)
        line = OrderLine.objects.create(
            organization_id=order.organization_id,
            order=order,
            kind=OrderLine.Kind.SERVICE if service else OrderLine.Kind.PART,
            service=service,
            part=part,
            name=item.name,
            quantity=qty,
            unit_price=price,
            discount=off,
            amount=amount,
            unit_cost=part.cost if part is not None else None,
            technician=technician,
            note=covered[:60],
            warranty_months=promise[0],
            warranty_km=promise[1],
        )
        _recompute(order)
        _history(
            order,
            ChangeEntry.Action.UPDATED,
            by,
            {"line": [None, f"{line.name} × {qty} @ {price} − {off} = {line.amount}"], "total": [None, order.total]}
            | {f: [None, v] for f, v in zip(("warranty_months", "warranty_km"), promise, strict=True) if v},
            note=covered,
            now=now,
        )
        events.order_line_added.send(sender=ServiceOrder, order=order, line=line, by=by, now=now)
    return line


def order_add_discount(
    *,
    order: ServiceOrder,
    by: User | None,
    name: str,
    amount: Decimal,
    applies_to: OrderLine | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> OrderLine:
    """Take ``amount`` (yuan, more than zero) off the order as a line of its own.

    For the services of other domains that grant money off (a member's discount, a coupon,
    points): the bill shows the discount and its reason instead of a lower price. Never more
    than ``applies_to``'s amount, nor more than the order's total; whether the customer is owed
    the discount is the caller's rule.
    """
    if amount <= 0:
        raise ValidationError({"amount": [errors.DISCOUNT_INVALID]})
    with transaction.atomic():
        _locked(order)
        _check_editable(order)
        ceiling = applies_to.amount if applies_to is not None else order.total
        if amount > ceiling:
            raise StateConflict(errors.DISCOUNT_MORE_THAN_DUE % {"amount": amount, "total": ceiling})
        line = OrderLine.objects.create(
            organization_id=order.organization_id,
            order=order,
            kind=OrderLine.Kind.DISCOUNT,
            name=name[:60],
            quantity=Decimal(1),
            unit_price=-amount,
            discount=ZERO,
            amount=-amount,
            applies_to=applies_to,
            note=note[:60],
        )
        _recompute(order)
        _history(
            order,
            ChangeEntry.Action.UPDATED,
            by,
            {"line": [None, f"{line.name} = {line.amount}"], "total": [None, order.total]},
            note=note,
            now=now,
        )
    return line


def order_remove_line(*, line: OrderLine, by: User) -> ServiceOrder:
    """Remove a line (with the discounts that apply to it); ``order_line_removed`` is sent first.

    A discount line is price-setting: only someone who ``may_set_line_price`` removes one.
    """
    order = line.order
    if line.kind == OrderLine.Kind.DISCOUNT and not may_set_line_price(by):
        raise RoleRefused(errors.PRICE_NOT_YOURS)
    with transaction.atomic():
        _locked(order)
        _check_editable(order)
        for discount in OrderLine.objects.for_org(order.organization_id).filter(applies_to=line):
            events.order_line_removed.send(sender=ServiceOrder, order=order, line=discount, by=by)
        events.order_line_removed.send(sender=ServiceOrder, order=order, line=line, by=by)
        Recommendation.objects.for_org(order.organization_id).filter(line=line).update(
            line=None, status=Recommendation.Status.OPEN
        )
        line.delete()
        _recompute(order)
        if order.lines_total < 0:
            raise StateConflict(errors.DISCOUNTS_EXCEED_LINES)
        _history(
            order,
            ChangeEntry.Action.UPDATED,
            by,
            {"line": [f"{line.name} × {line.quantity} = {line.amount}", None], "total": [None, order.total]},
        )
    return order


def _transition(
    order: ServiceOrder, by: User, allowed: Iterable[str], target: str, message: Any, now: dt.datetime | None = None
) -> None:
    if order.state not in allowed:
        raise StateConflict(message)
    before = order.state
    order.state = target
    now = now or timezone.now()
    stamp: dict[str, str] = {
        OrderState.IN_PROGRESS: "started_at",
        OrderState.COMPLETED: "completed_at",
        OrderState.PAID: "paid_at",
    }
    fields = ["state"]
    if target in stamp:
        setattr(order, stamp[target], now)
        fields.append(stamp[target])
    order.save(update_fields=fields)
    _history(order, ChangeEntry.Action.UPDATED, by, {"state": [before, target]}, now=now)


def order_start(*, order: ServiceOrder, by: User, now: dt.datetime | None = None) -> ServiceOrder:
    with transaction.atomic():
        _locked(order)
        _transition(order, by, (OrderState.OPEN,), OrderState.IN_PROGRESS, errors.ORDER_CANNOT_START, now=now)
    return order


def order_complete(*, order: ServiceOrder, by: User, now: dt.datetime | None = None) -> ServiceOrder:
    with transaction.atomic():
        _locked(order)
        _transition(
            order,
            by,
            (OrderState.OPEN, OrderState.IN_PROGRESS),
            OrderState.COMPLETED,
            errors.ORDER_CANNOT_COMPLETE,
            now=now,
        )
    return order


def order_pay(
    *,
    order: ServiceOrder,
    by: User,
    method: str,
    amount: DecimalIn,
    reference: str = "",
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Payment:
    """Take a payment (or, after a downward adjustment, give a refund as a negative one).

    A completed order becomes paid when its payments cover the total; a
    payment may never carry the balance past zero.
    """
    if method not in PaymentMethod.values:
        raise ValidationError({"method": [errors.PAYMENT_METHOD_INVALID]})
    try:
        value = parse_money(amount)
    except MoneyError as exc:
        raise ValidationError({"amount": [errors.PAYMENT_AMOUNT_INVALID]}) from exc
    with transaction.atomic():
        _locked(order)
        if order.state == OrderState.VOID:
            raise StateConflict(errors.ORDER_VOID)
        if order.state in (OrderState.OPEN, OrderState.IN_PROGRESS):
            raise StateConflict(errors.ORDER_NOT_COMPLETED)
        due = order.amount_due
        if due == 0 and not (value == 0 and order.state == OrderState.COMPLETED):
            raise StateConflict(errors.PAYMENT_NOTHING_DUE)
        if (due > 0 and value < 0) or (due < 0 and value > 0):
            raise StateConflict(errors.PAYMENT_WRONG_SIGN % {"due": due})
        if abs(value) > abs(due):
            raise StateConflict(errors.PAYMENT_TOO_MUCH % {"amount": value, "due": due})
        if value == 0 and due != 0:
            raise ValidationError({"amount": [errors.PAYMENT_AMOUNT_INVALID]})
        payment = Payment.objects.create(
            organization_id=order.organization_id,
            order=order,
            method=method,
            amount=value,
            reference=(reference or "")[:64],
            received_by=by,
            at=at or now or timezone.now(),
        )
        events.payment_taken.send(sender=ServiceOrder, order=order, payment=payment, by=by)
        # A payment changes only what is paid: the locked row's figure, which the checks above
        # trust too (every write recomputes the totals under this lock), plus this payment; and
        # the state when the payments cover the total. One UPDATE, one INSERT of the history.
        order.amount_paid += value
        fields = ["amount_paid"]
        history = [_entry(order, by, {"payment": [None, str(value)], "payment_method": [None, method]}, now=now)]
        covered = order.state == OrderState.COMPLETED and order.amount_due == 0
        if covered:
            order.state, order.paid_at = OrderState.PAID, now or timezone.now()
            fields += ["state", "paid_at"]
            history.append(_entry(order, by, {"state": [OrderState.COMPLETED, OrderState.PAID]}, now=order.paid_at))
        order.save(update_fields=fields)
        ChangeEntry.objects.bulk_create(history)
        if covered:
            customer_visits_refresh(organization_id=order.organization_id, customer_id=order.customer_id)
            events.order_paid.send(sender=ServiceOrder, order=order, by=by)
    return payment


def order_void(*, order: ServiceOrder, by: User, reason: str, now: dt.datetime | None = None) -> ServiceOrder:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [errors.VOID_REASON_REQUIRED]})
    with transaction.atomic():
        _locked(order)
        if order.state == OrderState.VOID:
            raise StateConflict(errors.ORDER_ALREADY_VOID)
        if order.state == OrderState.PAID:
            raise StateConflict(errors.ORDER_CANNOT_VOID_PAID)
        if order.amount_paid != 0:
            raise StateConflict(errors.ORDER_HAS_PAYMENTS)
        before = order.state
        order.state, order.void_reason, order.voided_at = OrderState.VOID, reason[:200], now or timezone.now()
        order.save(update_fields=["state", "void_reason", "voided_at"])
        _history(order, ChangeEntry.Action.DELETED, by, {"state": [before, OrderState.VOID]}, note=reason, now=now)
        customer_visits_refresh(organization_id=order.organization_id, customer_id=order.customer_id)
        events.order_voided.send(sender=ServiceOrder, order=order, by=by, reason=reason)
    return order


def order_adjust(
    *, order: ServiceOrder, by: User, amount: DecimalIn, reason: str, now: dt.datetime | None = None
) -> OrderAdjustment:
    """Change a paid order's total with a reason: honest billing, never an edit."""
    reason = (reason or "").strip()
    problems: dict[str, list[Any]] = {}
    try:
        value = parse_money(amount)
        if value == 0:
            problems["amount"] = [errors.ADJUSTMENT_ZERO]
    except MoneyError:
        problems["amount"] = [errors.PAYMENT_AMOUNT_INVALID]
        value = ZERO
    if not reason:
        problems["reason"] = [errors.ADJUSTMENT_REASON_REQUIRED]
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        _locked(order)
        if order.state != OrderState.PAID:
            raise StateConflict(errors.ORDER_NOT_PAID)
        if order.total + value < 0:
            raise ValidationError({"amount": [errors.ADJUSTMENT_BELOW_ZERO]})
        if order.total + value >= MAX_TOTAL:
            raise ValidationError({"amount": [errors.TOTAL_TOO_LARGE]})
        adjustment = OrderAdjustment.objects.create(
            organization_id=order.organization_id,
            order=order,
            amount=value,
            reason=reason[:200],
            author=by,
            at=now or timezone.now(),
        )
        before = order.total
        _recompute(order)
        _history(order, ChangeEntry.Action.UPDATED, by, {"total": [before, order.total]}, note=reason, now=now)
        customer_visits_refresh(organization_id=order.organization_id, customer_id=order.customer_id)
        events.order_adjusted.send(sender=ServiceOrder, order=order, by=by, adjustment=adjustment)
    return adjustment


def recommendation_add(
    *,
    order: ServiceOrder,
    by: User,
    description: str,
    urgency: str = Recommendation.Urgency.SOON,
    estimate: DecimalIn | None = None,
    service: ServiceItem | None = None,
    now: dt.datetime | None = None,
) -> Recommendation:
    problems: dict[str, list[Any]] = {}
    description = (description or "").strip()[:200]  # Recommendation.description's size, like the reasons
    if not description and service is None:
        problems["description"] = [errors.DESCRIPTION_REQUIRED]
    if urgency not in Recommendation.Urgency.values:
        problems["urgency"] = [errors.URGENCY_INVALID]
    if service is not None and service.organization_id != order.organization_id:
        problems["service_id"] = [errors.ITEM_UNKNOWN]
    value = None
    if estimate not in (None, ""):
        try:
            value = parse_money(estimate)
            if value < 0:
                raise MoneyError(estimate)
        except MoneyError:
            problems["estimate"] = [errors.PRICE_INVALID]
    if problems:
        raise ValidationError(problems)
    if order.state == OrderState.VOID:
        raise StateConflict(errors.ORDER_VOID)
    with transaction.atomic():
        recommendation = Recommendation.objects.create(
            organization_id=order.organization_id,
            order=order,
            customer_id=order.customer_id,
            vehicle_id=order.vehicle_id,
            service=service,
            description=description or (service.name if service else ""),
            urgency=urgency,
            estimate=value,
            recorded_by=by,
            recorded_at=now or timezone.now(),
        )
        _history(order, ChangeEntry.Action.UPDATED, by, {"recommendation": [None, recommendation.description]}, now=now)
    return recommendation


def recommendation_decide(
    *,
    recommendation: Recommendation,
    by: User,
    accept: bool,
    service: ServiceItem | None = None,
    now: dt.datetime | None = None,
) -> Recommendation:
    """The customer's answer: accepted work becomes a line; declined work stays for follow-up.

    Work recorded as free text needs its service item (``service``) to be accepted.
    """
    order = recommendation.order
    service = service or recommendation.service
    if accept and service is None:
        raise ValidationError({"service_id": [errors.ITEM_REQUIRED]})
    with transaction.atomic():
        locked = (
            Recommendation.objects.for_org(recommendation.organization_id).select_for_update().get(pk=recommendation.pk)
        )
        if locked.status != Recommendation.Status.OPEN:
            raise StateConflict(errors.RECOMMENDATION_DECIDED)
        if accept:
            _locked(order)
            _check_editable(order)
            assert service is not None
            recommendation.service = service
            recommendation.line = order_add_line(
                order=order, by=by, service=service, unit_price=recommendation.estimate, now=now
            )
        recommendation.status = Recommendation.Status.ACCEPTED if accept else Recommendation.Status.DECLINED
        recommendation.decided_at = now or timezone.now()
        recommendation.save(update_fields=["status", "decided_at", "line", "service"])
        _history(
            order,
            ChangeEntry.Action.UPDATED,
            by,
            {
                "recommendation": [recommendation.description, recommendation.description],
                "recommendation_status": [Recommendation.Status.OPEN, recommendation.status],
            },
            now=now,
        )
    return recommendation
