"""Coupons (优惠券, 工时券): templates and rules, issuing, using as a discount line, giving back, expiry.

A coupon's ``state`` is its ledger's latest word: every change writes a
``CouponEntry`` with ``state_after`` in the same transaction, under
``select_for_update`` of the coupon row (after the order row when an order is
involved: the product's lock order). A coupon is used once: the second use,
from the same counter or another, finds it ``used`` under the lock (409).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.lib.money import MoneyError, parse_money, round_fen
from huitou.loyalty import errors
from huitou.loyalty.models import Coupon, CouponEntry, CouponKind, CouponRule, CouponTemplate, CouponTrigger
from huitou.service.errors import StateConflict
from huitou.service.models import OrderLine, ServiceItem, ServiceOrder
from huitou.service.services.orders import EDITABLE, order_add_discount
from huitou.tenancy.models import Organization, User

ZERO = Decimal("0.00")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out at the counter
CODE_LENGTH = 10
MAX_BULK = 10_000
RULE_TRIGGERS = (CouponTrigger.ORDER_PAID, CouponTrigger.JOINED, CouponTrigger.BIRTHDAY)


# --- templates and rules ------------------------------------------------------------------------


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    return str(data.get(key) or "").strip()[:limit]


def coupon_template_save(
    *, organization: Organization, data: dict[str, Any], template: CouponTemplate | None = None
) -> CouponTemplate:
    """Create or change a template (store manager). ``data`` keys as the model's; ``services`` a list of
    ServiceItem (or ids) of the organization; keys missing from ``data`` keep the template's values."""
    current = template
    problems: dict[str, list[Any]] = {}

    def pick(key: str, default: Any) -> Any:
        if key in data and data[key] is not None:
            return data[key]
        return getattr(current, key) if current is not None else default

    code = str(pick("code", "")).strip()
    name = str(pick("name", "")).strip()
    kind = pick("kind", "")
    if not code or len(code) > 30 or not all(c.isalnum() or c in "-_" for c in code) or not code.isascii():
        problems["code"] = [errors.TEMPLATE_CODE_REQUIRED]
    elif (
        CouponTemplate.objects.for_org(organization)
        .filter(code=code)
        .exclude(pk=current.pk if current is not None else 0)
        .exists()
    ):
        problems["code"] = [errors.TEMPLATE_CODE_TAKEN]
    if not name or len(name) > 60:
        problems["name"] = [errors.TEMPLATE_NAME_REQUIRED]
    if kind not in CouponKind.values:
        problems["kind"] = [errors.TEMPLATE_KIND_INVALID]
    value = ZERO
    try:
        value = parse_money(pick("value", ZERO))
    except MoneyError:
        value = Decimal(-1)
    if kind == CouponKind.AMOUNT and not ZERO < value < Decimal("1e8"):
        problems["value"] = [errors.TEMPLATE_AMOUNT_INVALID]
    if kind == CouponKind.PERCENT and not ZERO < value <= 100:
        problems["value"] = [errors.TEMPLATE_PERCENT_INVALID]
    if kind == CouponKind.FREE_SERVICE:
        value = ZERO
    free = pick("free_service", None)
    if isinstance(free, int | str) and str(free).isdigit():
        free = ServiceItem.objects.for_org(organization).filter(pk=int(free)).first()
    if kind == CouponKind.FREE_SERVICE:
        if not isinstance(free, ServiceItem) or free.organization_id != organization.pk:
            problems["free_service"] = [errors.TEMPLATE_FREE_SERVICE_REQUIRED]
    else:
        free = None
    try:
        min_spend = parse_money(pick("min_spend", ZERO))
        if min_spend < 0 or min_spend >= Decimal("1e8"):
            raise MoneyError(min_spend)
    except MoneyError:
        problems["min_spend"] = [errors.TEMPLATE_MIN_SPEND_INVALID]
        min_spend = ZERO
    try:
        days = int(pick("days_valid", 90))
        if not 1 <= days <= 3650:
            raise ValueError(days)
    except (TypeError, ValueError):
        problems["days_valid"] = [errors.TEMPLATE_DAYS_INVALID]
        days = 90
    services: list[ServiceItem] | None = None
    if data.get("services") is not None:
        wanted = [s.pk if isinstance(s, ServiceItem) else s for s in data["services"]]
        services = list(ServiceItem.objects.for_org(organization).filter(pk__in=wanted))
        if len(services) != len(set(wanted)):
            problems["services"] = [errors.TEMPLATE_SERVICE_UNKNOWN]
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        template = current or CouponTemplate(organization=organization)
        template.code, template.name, template.kind = code, name, kind
        template.value, template.free_service, template.min_spend, template.days_valid = value, free, min_spend, days
        template.is_active = bool(pick("is_active", True))
        try:
            with transaction.atomic():
                template.save()
        except IntegrityError:
            raise ValidationError({"code": [errors.TEMPLATE_CODE_TAKEN]}) from None
        if free is not None and not services and (services is not None or current is None):
            services = [free]  # a free service's coupon takes money off that service (none named: the same)
        if services is not None:
            template.services.set(services)
    return template


def coupon_rule_save(*, organization: Organization, data: dict[str, Any], rule: CouponRule | None = None) -> CouponRule:
    """Create or change an issuing rule: ``template``, ``trigger``, ``min_order_total``, ``is_active``."""
    problems: dict[str, list[Any]] = {}
    template = data.get("template", rule.template if rule else None)
    if not isinstance(template, CouponTemplate) or template.organization_id != organization.pk:
        problems["template"] = [errors.TEMPLATE_UNKNOWN]
    trigger = data.get("trigger") or (rule.trigger if rule else "")
    if trigger not in RULE_TRIGGERS:
        problems["trigger"] = [errors.RULE_TRIGGER_INVALID]
    try:
        minimum = parse_money(data.get("min_order_total", rule.min_order_total if rule else ZERO) or ZERO)
        if minimum < 0 or minimum >= Decimal("1e8"):
            raise MoneyError(minimum)
    except MoneyError:
        problems["min_order_total"] = [errors.RULE_MIN_TOTAL_INVALID]
        minimum = ZERO
    if problems:
        raise ValidationError(problems)
    assert isinstance(template, CouponTemplate)
    rule = rule or CouponRule(organization=organization)
    rule.template, rule.trigger, rule.min_order_total = template, trigger, minimum
    rule.is_active = bool(data.get("is_active", rule.is_active if rule.pk else True))
    rule.save()
    return rule


# --- issuing ------------------------------------------------------------------------------------


def _entry(
    coupon: Coupon,
    kind: str,
    *,
    at: dt.datetime,
    by: User | None,
    order: ServiceOrder | None = None,
    line_id: int | None = None,
    amount: Decimal | None = None,
    reason: str = "",
) -> CouponEntry:
    return CouponEntry.objects.create(
        organization_id=coupon.organization_id,
        coupon=coupon,
        customer_id=coupon.customer_id,
        kind=kind,
        state_after=coupon.state,
        amount=amount,
        order=order,
        line_id=line_id,
        reason=reason[:200],
        by=by,
        at=at,
    )


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def coupon_issue(
    *,
    customer: Customer,
    template: CouponTemplate,
    source: str,
    by: User | None,
    origin_order: ServiceOrder | None = None,
    now: dt.datetime | None = None,
    reason: str = "",
) -> Coupon:
    """Give the customer a coupon of ``template``, valid ``days_valid`` days from today (China time)."""
    if template.organization_id != customer.organization_id:
        raise ValidationError({"template": [errors.TEMPLATE_UNKNOWN]})
    if not template.is_active:
        raise ValidationError({"template": [errors.TEMPLATE_INACTIVE]})
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        for attempt in range(5):
            try:
                with transaction.atomic():
                    coupon = Coupon.objects.create(
                        organization_id=customer.organization_id,
                        customer=customer,
                        template=template,
                        name=template.name,
                        code=_new_code(),
                        state=Coupon.State.ISSUED,
                        source=source,
                        origin_order=origin_order,
                        issued_at=now,
                        expires_on=timezone.localdate(now) + dt.timedelta(days=template.days_valid),
                        issued_by=by,
                    )
                break
            except IntegrityError:
                if attempt == 4:
                    raise
        _entry(coupon, CouponEntry.Kind.ISSUE, at=now, by=by, order=origin_order, reason=reason or source)
    return coupon


def coupons_on_trigger(
    *,
    customer: Customer,
    trigger: str,
    by: User | None,
    order: ServiceOrder | None = None,
    now: dt.datetime | None = None,
) -> list[Coupon]:
    """Issue what the organization's active rules for ``trigger`` give (once per order, membership or year).

    ``order_paid``: rules whose ``min_order_total`` the order's total reaches, once per order and
    template; ``joined``: once per customer and template; ``birthday``: once per calendar year.
    """
    now = now or timezone.now()
    rules = (
        CouponRule.objects.for_org(customer.organization_id)
        .filter(trigger=trigger, is_active=True, template__is_active=True)
        .select_related("template")
        .order_by("pk")
    )
    if order is not None:
        rules = rules.filter(min_order_total__lte=order.total)
    issued: list[Coupon] = []
    due = list(rules)  # most paid orders meet no rule: one query, nothing more
    if not due:
        return issued
    with transaction.atomic(savepoint=False):
        for rule in due:
            held = Coupon.objects.for_org(customer.organization_id).filter(
                customer=customer, template=rule.template, source=trigger
            )
            if trigger == CouponTrigger.ORDER_PAID:
                held = held.filter(origin_order=order)
            elif trigger == CouponTrigger.BIRTHDAY:
                held = held.filter(issued_at__year=timezone.localdate(now).year)
            if held.exists():
                continue
            issued.append(
                coupon_issue(
                    customer=customer, template=rule.template, source=trigger, by=by, origin_order=order, now=now
                )
            )
    return issued


def bulk_reason(batch: str) -> str:
    return f"bulk:{batch}"


def coupons_issue_bulk(
    *, template: CouponTemplate, customer_ids: Iterable[int], by: User | None, batch: str | None = None
) -> str:
    """Queue the template for a list of the organization's customers; returns the batch key.

    The list is checked now (422 for an unknown or deleted file); the coupons are
    issued by a huey task after the commit, safe to run twice (a customer who
    already has one of this batch is skipped).
    """
    from huitou.loyalty.tasks_rewards import issue_bulk

    ids = sorted({int(i) for i in customer_ids})
    if not ids or len(ids) > MAX_BULK:
        raise ValidationError({"customer_ids": [errors.BULK_CUSTOMERS_REQUIRED]})
    if not template.is_active:
        raise ValidationError({"template": [errors.TEMPLATE_INACTIVE]})
    found = Customer.objects.active().for_org(template.organization_id).filter(pk__in=ids).count()
    if found != len(ids):
        raise ValidationError({"customer_ids": [errors.BULK_CUSTOMERS_UNKNOWN]})
    batch = batch or secrets.token_hex(8)
    by_id = by.pk if by is not None else None
    transaction.on_commit(lambda: issue_bulk(template.organization_id, template.pk, ids, batch, by_id))
    return batch


def coupons_issue_batch(
    *, template: CouponTemplate, customer_ids: list[int], batch: str, by: User | None, now: dt.datetime | None = None
) -> int:
    """Issue one bulk batch (the huey task's work); customers already served by this batch are skipped."""
    now = now or timezone.now()
    reason = bulk_reason(batch)
    done = set(
        CouponEntry.objects.for_org(template.organization_id)
        .filter(kind=CouponEntry.Kind.ISSUE, reason=reason)
        .values_list("customer_id", flat=True)
    )
    customers = Customer.objects.active().for_org(template.organization_id).filter(pk__in=customer_ids).order_by("pk")
    made = 0
    for customer in customers:
        if customer.pk in done:
            continue
        coupon_issue(customer=customer, template=template, source=CouponTrigger.BULK, by=by, now=now, reason=reason)
        made += 1
    return made


# --- using, giving back ---------------------------------------------------------------------------


def _line_left(line: OrderLine) -> Decimal:
    """What is still charged for a line after the discounts that apply to it."""
    off = OrderLine.objects.for_org(line.organization_id).filter(applies_to=line).aggregate(s=Sum("amount"))["s"]
    return round_fen(line.amount + (off or ZERO))


def _discount_for(coupon: Coupon, order: ServiceOrder) -> tuple[Decimal, OrderLine | None]:
    """The money off and the line it applies to (None: the whole order)."""
    template = coupon.template
    lines = (
        OrderLine.objects.for_org(order.organization_id)
        .filter(order=order, kind=OrderLine.Kind.SERVICE)
        .order_by("-amount", "pk")
    )
    if template.kind == CouponKind.FREE_SERVICE:
        for line in lines.filter(service=template.free_service):
            left = _line_left(line)
            if left > 0:
                per_unit = round_fen(line.unit_price) if line.quantity > 1 else left
                return min(left, per_unit), line
        raise StateConflict(errors.COUPON_NOTHING_TO_DISCOUNT)
    service_ids = set(template.services.values_list("pk", flat=True))
    if service_ids:
        base = ZERO
        best: OrderLine | None = None
        for line in lines.filter(service_id__in=service_ids):
            left = _line_left(line)
            base += max(left, ZERO)
            if left > 0 and (best is None or left > _line_left(best)):
                best = line
        if best is None:
            raise StateConflict(errors.COUPON_NOTHING_TO_DISCOUNT)
        ceiling = min(base, order.total)
    else:
        ceiling = order.total
        best = None
    if ceiling <= 0:
        raise StateConflict(errors.COUPON_NOTHING_TO_DISCOUNT)
    off = template.value if template.kind == CouponKind.AMOUNT else round_fen(ceiling * template.value / 100)
    off = min(off, ceiling)
    # A single line takes it when it can (the bill shows what it discounts); else the order.
    if best is not None and off > _line_left(best):
        best = None
    return off, best


def coupon_apply(*, order: ServiceOrder, coupon: Coupon, by: User, now: dt.datetime | None = None) -> OrderLine:
    """Use the coupon on the order: a discount line named after it. Used once (409 the second time).

    Lock order: the order, then the coupon. Refused: another customer's coupon
    (422), not ``issued`` or past its date, below its minimum spend, nothing to
    discount, a second coupon on the same order (409).
    """
    now = now or timezone.now()
    if coupon.organization_id != order.organization_id:
        raise ValidationError({"coupon_id": [errors.COUPON_NOT_THEIRS]})
    with transaction.atomic():
        order = ServiceOrder.objects.for_org(order.organization_id).select_for_update().get(pk=order.pk)
        coupon = (
            Coupon.objects.for_org(order.organization_id)
            .select_for_update()
            .select_related("template")
            .get(pk=coupon.pk)
        )
        if coupon.customer_id != order.customer_id:
            raise ValidationError({"coupon_id": [errors.COUPON_NOT_THEIRS]})
        if coupon.state != Coupon.State.ISSUED:
            raise StateConflict(errors.COUPON_NOT_AVAILABLE % {"state": coupon.get_state_display()})
        if coupon.expires_on < timezone.localdate(now):
            raise StateConflict(errors.COUPON_EXPIRED % {"date": coupon.expires_on})
        if order.state not in EDITABLE:
            from huitou.service.errors import ORDER_LOCKED

            raise StateConflict(ORDER_LOCKED)
        if Coupon.objects.for_org(order.organization_id).filter(used_order=order, state=Coupon.State.USED).exists():
            raise StateConflict(errors.COUPON_ONE_PER_ORDER)
        if order.total < coupon.template.min_spend:
            raise StateConflict(errors.COUPON_MIN_SPEND % {"min": coupon.template.min_spend, "total": order.total})
        off, line = _discount_for(coupon, order)
        discount = order_add_discount(
            order=order, by=by, name=coupon.name, amount=off, applies_to=line, note=f"优惠券 {coupon.code}", now=now
        )
        coupon.state, coupon.used_order = Coupon.State.USED, order
        coupon.save(update_fields=["state", "used_order"])
        _entry(coupon, CouponEntry.Kind.USE, at=now, by=by, order=order, line_id=discount.pk, amount=off)
    return discount


def coupons_give_back(
    *, order: ServiceOrder, by: User | None, line_id: int | None = None, now: dt.datetime | None = None
) -> list[Coupon]:
    """Return the coupons used on the order (or on one discount line) to the customer: ``issued`` again."""
    now = now or timezone.now()
    returned = []
    with transaction.atomic():
        uses = CouponEntry.objects.for_org(order.organization_id).filter(order=order, kind=CouponEntry.Kind.USE)
        if line_id is not None:
            uses = uses.filter(line_id=line_id)
        coupon_ids = list(uses.values_list("coupon_id", flat=True))
        coupons = (
            Coupon.objects.for_org(order.organization_id)
            .select_for_update()
            .filter(pk__in=coupon_ids, used_order=order, state=Coupon.State.USED)
            .order_by("pk")
        )
        for coupon in coupons:
            coupon.state, coupon.used_order = Coupon.State.ISSUED, None
            coupon.save(update_fields=["state", "used_order"])
            _entry(coupon, CouponEntry.Kind.RETURN, at=now, by=by, order=order, reason=order.number)
            returned.append(coupon)
    return returned


def coupons_revoke_for_refund(*, order: ServiceOrder, by: User | None, now: dt.datetime | None = None) -> list[Coupon]:
    """An order adjusted to 0: the unused coupons it earned are revoked (used ones stay used)."""
    if order.total != 0:
        return []
    now = now or timezone.now()
    revoked = []
    with transaction.atomic():
        coupons = (
            Coupon.objects.for_org(order.organization_id)
            .select_for_update()
            .filter(origin_order=order, state=Coupon.State.ISSUED)
            .order_by("pk")
        )
        for coupon in coupons:
            coupon.state = Coupon.State.REVOKED
            coupon.save(update_fields=["state"])
            _entry(coupon, CouponEntry.Kind.REVOKE, at=now, by=by, order=order, reason=order.number)
            revoked.append(coupon)
    return revoked


def coupon_revoke(*, coupon: Coupon, by: User, reason: str, now: dt.datetime | None = None) -> Coupon:
    """Withdraw an issued coupon by hand (a mistake at issue)."""
    now = now or timezone.now()
    with transaction.atomic():
        coupon = Coupon.objects.for_org(coupon.organization_id).select_for_update().get(pk=coupon.pk)
        if coupon.state != Coupon.State.ISSUED:
            raise StateConflict(errors.COUPON_NOT_REVOCABLE)
        coupon.state = Coupon.State.REVOKED
        coupon.save(update_fields=["state"])
        _entry(coupon, CouponEntry.Kind.REVOKE, at=now, by=by, reason=reason)
    return coupon


def coupons_expire(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """Every issued coupon past its last day becomes ``expired`` (one insert, one update per batch)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    total = 0
    while True:
        with transaction.atomic():
            coupons = list(
                Coupon.objects.for_org(organization)
                .select_for_update(skip_locked=True)
                .filter(state=Coupon.State.ISSUED, expires_on__lt=today)
                .order_by("pk")[:1000]
            )
            if not coupons:
                return total
            ids = [c.pk for c in coupons]
            Coupon.objects.for_org(organization).filter(pk__in=ids).update(state=Coupon.State.EXPIRED)
            CouponEntry.objects.bulk_create(
                CouponEntry(
                    organization_id=organization.pk,
                    coupon_id=c.pk,
                    customer_id=c.customer_id,
                    kind=CouponEntry.Kind.EXPIRE,
                    state_after=Coupon.State.EXPIRED,
                    reason=str(c.expires_on),
                    at=now,
                )
                for c in coupons
            )
            total += len(coupons)


def coupons_birthday(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """Issue the birthday-month rules' coupons to the active customers whose birthday falls this month."""
    from huitou.loyalty.services.points import in_birthday_month

    now = now or timezone.now()
    today = timezone.localdate(now)
    if not CouponRule.objects.for_org(organization).filter(trigger=CouponTrigger.BIRTHDAY, is_active=True).exists():
        return 0
    made = 0
    customers = Customer.objects.active().for_org(organization).filter(birth_month__isnull=False).order_by("pk")
    for customer in customers.iterator(chunk_size=2000):
        if in_birthday_month(customer, today):
            made += len(coupons_on_trigger(customer=customer, trigger=CouponTrigger.BIRTHDAY, by=None, now=now))
    return made
