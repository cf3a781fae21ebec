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
from django.db import transaction
from django.db.models import Min, Sum
from django.db.models.functions import Length
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record
from huitou.customers.models import Customer, MileageReading, Vehicle
from huitou.customers.services import mileage_record
from huitou.lib.money import MoneyError, line_amount, parse_decimal, parse_money, round_fen
from huitou.service import errors, events
from huitou.service.errors import StateConflict
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
from huitou.service.services.catalog import price_for
from huitou.tenancy.models import Organization, Shop, User

ZERO = Decimal("0.00")
MAX_TOTAL = Decimal("1e10")  # an order's money columns hold 12 digits, 2 of them fen
EDITABLE = (OrderState.OPEN, OrderState.IN_PROGRESS, OrderState.COMPLETED)


def _locked(order: ServiceOrder) -> ServiceOrder:
    """Reload the order under a row lock; the caller's object gets the fresh values."""
    fresh = ServiceOrder.objects.select_for_update().get(pk=order.pk)
    for field in ServiceOrder._meta.concrete_fields:
        setattr(order, field.attname, getattr(fresh, field.attname))
    return order


def _history(order: ServiceOrder, action: str, by: User | None, changes: dict[str, Any], note: str = "") -> None:
    change_record(
        organization_id=order.organization_id,
        subject=order,
        action=action,
        actor=by,
        customer_id=order.customer_id,
        changes=changes,
        note=note,
    )


def _recompute(order: ServiceOrder) -> None:
    # round_fen: on SQLite a SUM of decimals comes back from floats (Decimal('29.9900000000000')).
    sums = OrderLine.objects.filter(order=order).aggregate(total=Sum("amount"))
    adjustments = OrderAdjustment.objects.filter(order=order).aggregate(total=Sum("amount"))
    paid = Payment.objects.filter(order=order).aggregate(total=Sum("amount"))
    order.lines_total = round_fen(sums["total"] or ZERO)
    order.adjustments_total = round_fen(adjustments["total"] or ZERO)
    order.total = order.lines_total + order.adjustments_total
    order.amount_paid = round_fen(paid["total"] or ZERO)
    order.save(update_fields=["lines_total", "adjustments_total", "total", "amount_paid"])


def customer_visits_refresh(*, customer_id: int) -> None:
    """Visit count, lifetime spend, first and last visit from the paid orders.

    Recomputed (not incremented), so voids and adjustments can never leave
    them wrong.
    """
    paid = ServiceOrder.objects.filter(customer_id=customer_id, state=OrderState.PAID)
    row = paid.aggregate(spend=Sum("total"), first=Min("paid_at"))
    last = paid.order_by("-paid_at").values_list("paid_at", flat=True).first()
    Customer.objects.filter(pk=customer_id).update(
        visit_count=paid.count(),
        lifetime_spend=round_fen(row["spend"] or ZERO),
        first_visit_at=row["first"],
        last_visit_at=last,
    )


def _next_number(organization: Organization, when: dt.datetime) -> str:
    """``YYYYMMDD-NNNN``, per organization and local day, under a lock on the organization."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    prefix = timezone.localtime(when).strftime("%Y%m%d-")
    last = (
        ServiceOrder.objects.for_org(organization)
        .filter(number__startswith=prefix)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{sequence:04d}"


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
) -> ServiceOrder:
    """Receive a car: the order is opened for the vehicle's current owner."""
    if shop.organization_id != organization.pk:
        raise ValidationError({"shop": [errors.SHOP_UNKNOWN]})
    if vehicle.organization_id != organization.pk or vehicle.deleted_at is not None:
        raise ValidationError({"vehicle_id": [errors.VEHICLE_UNKNOWN]})
    advisor = advisor or by
    if advisor.organization_id != organization.pk:
        raise ValidationError({"advisor": [errors.ADVISOR_INVALID]})
    now = timezone.now()
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
        )
    return order


def _check_editable(order: ServiceOrder) -> None:
    if order.state not in EDITABLE:
        raise StateConflict(errors.ORDER_LOCKED)


def order_add_line(
    *,
    order: ServiceOrder,
    by: User,
    service: ServiceItem | None = None,
    part: Part | None = None,
    quantity: Any = 1,
    unit_price: Any = None,
    discount: Any = 0,
    technician: User | None = None,
) -> OrderLine:
    """Add a service item or a part. The price defaults to the shop's price."""
    if (service is None) == (part is None):
        raise ValidationError({"item": [errors.ITEM_REQUIRED]})
    item = service or part
    assert item is not None
    if item.organization_id != order.organization_id or not item.is_active:
        raise ValidationError({"item": [errors.ITEM_UNKNOWN]})
    if technician is not None and (technician.organization_id != order.organization_id or not technician.is_active):
        raise ValidationError({"technician_id": [errors.TECHNICIAN_INVALID]})
    problems: dict[str, list[Any]] = {}
    try:
        qty = parse_decimal(quantity, 2, max_digits=8)  # OrderLine.quantity's size
        if qty <= 0:
            raise MoneyError(quantity)
    except MoneyError:
        problems["quantity"] = [errors.QUANTITY_INVALID]
        qty = Decimal(1)
    try:
        price = price_for(shop_id=order.shop_id, item=item) if unit_price in (None, "") else parse_money(unit_price)
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
        )
        _recompute(order)
        _history(
            order,
            ChangeEntry.Action.UPDATED,
            by,
            {"line": [None, f"{line.name} × {qty} @ {price} − {off} = {line.amount}"], "total": [None, order.total]},
        )
    return line


def order_remove_line(*, line: OrderLine, by: User) -> ServiceOrder:
    order = line.order
    with transaction.atomic():
        _locked(order)
        _check_editable(order)
        Recommendation.objects.filter(line=line).update(line=None, status=Recommendation.Status.OPEN)
        line.delete()
        _recompute(order)
        _history(
            order,
            ChangeEntry.Action.UPDATED,
            by,
            {"line": [f"{line.name} × {line.quantity} = {line.amount}", None], "total": [None, order.total]},
        )
    return order


def _transition(order: ServiceOrder, by: User, allowed: Iterable[str], target: str, message: Any) -> None:
    if order.state not in allowed:
        raise StateConflict(message)
    before = order.state
    order.state = target
    now = timezone.now()
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
    _history(order, ChangeEntry.Action.UPDATED, by, {"state": [before, target]})


def order_start(*, order: ServiceOrder, by: User) -> ServiceOrder:
    with transaction.atomic():
        _locked(order)
        _transition(order, by, (OrderState.OPEN,), OrderState.IN_PROGRESS, errors.ORDER_CANNOT_START)
    return order


def order_complete(*, order: ServiceOrder, by: User) -> ServiceOrder:
    with transaction.atomic():
        _locked(order)
        _transition(
            order, by, (OrderState.OPEN, OrderState.IN_PROGRESS), OrderState.COMPLETED, errors.ORDER_CANNOT_COMPLETE
        )
        events.order_completed.send(sender=ServiceOrder, order=order, by=by)
    return order


def order_pay(
    *, order: ServiceOrder, by: User, method: str, amount: Any, reference: str = "", at: dt.datetime | None = None
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
            at=at or timezone.now(),
        )
        _recompute(order)
        _history(
            order, ChangeEntry.Action.UPDATED, by, {"payment": [None, str(value)], "payment_method": [None, method]}
        )
        if order.state == OrderState.COMPLETED and order.amount_due == 0:
            _transition(order, by, (OrderState.COMPLETED,), OrderState.PAID, errors.ORDER_NOT_COMPLETED)
            customer_visits_refresh(customer_id=order.customer_id)
            events.order_paid.send(sender=ServiceOrder, order=order, by=by)
    return payment


def order_void(*, order: ServiceOrder, by: User, reason: str) -> ServiceOrder:
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
        order.state, order.void_reason, order.voided_at = OrderState.VOID, reason[:200], timezone.now()
        order.save(update_fields=["state", "void_reason", "voided_at"])
        _history(order, ChangeEntry.Action.DELETED, by, {"state": [before, OrderState.VOID]}, note=reason)
        customer_visits_refresh(customer_id=order.customer_id)
        events.order_voided.send(sender=ServiceOrder, order=order, by=by, reason=reason)
    return order


def order_adjust(*, order: ServiceOrder, by: User, amount: Any, reason: str) -> OrderAdjustment:
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
            at=timezone.now(),
        )
        before = order.total
        _recompute(order)
        _history(order, ChangeEntry.Action.UPDATED, by, {"total": [before, order.total]}, note=reason)
        customer_visits_refresh(customer_id=order.customer_id)
        events.order_adjusted.send(sender=ServiceOrder, order=order, by=by, adjustment=adjustment)
    return adjustment


def recommendation_add(
    *,
    order: ServiceOrder,
    by: User,
    description: str,
    urgency: str = Recommendation.Urgency.SOON,
    estimate: Any = None,
    service: ServiceItem | None = None,
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
            recorded_at=timezone.now(),
        )
        _history(order, ChangeEntry.Action.UPDATED, by, {"recommendation": [None, recommendation.description]})
    return recommendation


def recommendation_decide(
    *, recommendation: Recommendation, by: User, accept: bool, service: ServiceItem | None = None
) -> Recommendation:
    """The customer's answer: accepted work becomes a line; declined work stays for follow-up.

    Work recorded as free text needs its service item (``service``) to be accepted.
    """
    order = recommendation.order
    service = service or recommendation.service
    if accept and service is None:
        raise ValidationError({"service_id": [errors.ITEM_REQUIRED]})
    with transaction.atomic():
        locked = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        if locked.status != Recommendation.Status.OPEN:
            raise StateConflict(errors.RECOMMENDATION_DECIDED)
        if accept:
            _locked(order)
            _check_editable(order)
            assert service is not None
            recommendation.service = service
            recommendation.line = order_add_line(
                order=order, by=by, service=service, unit_price=recommendation.estimate
            )
        recommendation.status = Recommendation.Status.ACCEPTED if accept else Recommendation.Status.DECLINED
        recommendation.decided_at = timezone.now()
        recommendation.save(update_fields=["status", "decided_at", "line", "service"])
        _history(
            order,
            ChangeEntry.Action.UPDATED,
            by,
            {
                "recommendation": [recommendation.description, recommendation.description],
                "recommendation_status": [Recommendation.Status.OPEN, recommendation.status],
            },
        )
    return recommendation
