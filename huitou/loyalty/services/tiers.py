"""Tiers (会员等级) and membership: joining, moving between tiers, the member discount, the review.

- **Joining** (``membership_set_tier`` for someone who is not a member) gives
  the account a member number, the tier, ``member_since``, moves the file to
  stage ``member`` and fires the ``joined`` coupon rules.
- **Upgrades happen at once**: when a member's order is paid and their spend or
  visits in the last 12 months reach a higher tier's entry rule
  (``tier_on_order_paid``), or when the order sold a tier's ``sale_item`` (bought
  outright; that also makes a non-member a member).
- **Downgrades happen only on the review date** (``tier_review_on``), in the
  nightly set-based review (``tiers_review``): a member whose spend (or visits)
  in the 12 months before the review meets their tier's keep-tier threshold keeps
  it; otherwise they go to the highest lower tier whose keep threshold they
  meet, or the entry tier. Every move, and every tier kept at a review, is a
  ``TierChange`` row with its reason.
- **Free services a year**: a tier with ``free_services_per_year`` gives that
  many coupons for its free service each membership year (on reaching the
  tier and on each anniversary of joining, topped up to the tier's number).
- **Member discount**: a line added to a member's open order gets a discount
  line of the tier's labour (service lines) or parts percentage, shown on the
  bill (``member_discount_for_line``); a zero discount adds nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext

from huitou.audit.services import change_record
from huitou.customers.models import Customer
from huitou.lib.money import round_fen
from huitou.lifecycle.services.stages import stage_on_membership
from huitou.loyalty import errors
from huitou.loyalty.models import (
    CardProduct,
    Coupon,
    CouponTrigger,
    LoyaltyAccount,
    LoyaltyProgram,
    Tier,
    TierChange,
    TierEntryRule,
)
from huitou.loyalty.services.accounts import account_locked
from huitou.loyalty.services.program import program_for
from huitou.service.errors import StateConflict
from huitou.service.models import Category, OrderLine, OrderState, ServiceItem, ServiceOrder
from huitou.service.services.orders import order_add_discount
from huitou.tenancy.models import Organization, User

if TYPE_CHECKING:
    from huitou.loyalty.services.paid import PaidOrder

ZERO = Decimal("0.00")
ROLLING_DAYS = 365  # "the last 12 months"
SALE_ITEM_PREFIX = "TIER-"


# --- measures and rules ------------------------------------------------------------------------


def rolling_measures(*, customer_id: int, organization_id: int, end: dt.datetime) -> tuple[Decimal, int]:
    """Spend (paid orders' totals) and visits (paid orders) in the 365 days up to ``end``."""
    row = (
        ServiceOrder.objects.for_org(organization_id)
        .filter(
            customer_id=customer_id,
            state=OrderState.PAID,
            paid_at__gt=end - dt.timedelta(days=ROLLING_DAYS),
            paid_at__lte=end,
        )
        .aggregate(spend=Sum("total"), visits=Count("id"))
    )
    return round_fen(row["spend"] or ZERO), row["visits"] or 0


def tier_reached(tier: Tier, *, spend: Decimal, visits: int) -> bool:
    """Whether ``tier``'s entry rule is met (a tier bought outright is never reached by spending)."""
    if tier.entry_rule == TierEntryRule.SPEND:
        return spend >= tier.entry_threshold
    if tier.entry_rule == TierEntryRule.VISITS:
        return visits >= tier.entry_threshold
    return False


def tier_kept(tier: Tier, *, spend: Decimal, visits: int) -> bool:
    """Whether ``tier``'s keep-tier rule (保级) is met: visits for a visits tier, spend otherwise."""
    if tier.entry_rule == TierEntryRule.VISITS:
        return visits >= tier.keep_threshold
    return spend >= tier.keep_threshold


def active_tiers(organization_id: int) -> list[Tier]:
    return list(Tier.objects.for_org(organization_id).filter(is_active=True).order_by("rank", "pk"))


def best_reached(tiers: list[Tier], *, spend: Decimal, visits: int) -> Tier | None:
    reached = [t for t in tiers if tier_reached(t, spend=spend, visits=visits)]
    return max(reached, key=lambda t: (t.rank, t.pk)) if reached else None


def member_number(sequence: int) -> str:
    """The ``sequence``-th member number of an organization: eight digits."""
    return f"{sequence:08d}"


def _next_member_number(organization_id: int) -> str:
    Organization.objects.select_for_update().filter(pk=organization_id).first()
    last = (
        LoyaltyAccount.objects.for_org(organization_id)
        .exclude(number="")
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return member_number(int(last) + 1 if last and last.isdigit() else 1)


def _review_on(organization_id: int, start: dt.date, program: LoyaltyProgram | None = None) -> dt.date:
    """``tier_review_months`` after ``start`` (the last day of a shorter month)."""
    months = (program or program_for(organization_id)).tier_review_months
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


# --- moving a member ---------------------------------------------------------------------------


def _move(
    account: LoyaltyAccount,
    tier: Tier,
    *,
    reason: str,
    by: User | None,
    now: dt.datetime,
    note: str = "",
    program: LoyaltyProgram | None = None,
) -> TierChange:
    """Record the move and set the account (locked by the caller); a non-member joins."""
    joining = account.tier_id is None
    change = TierChange.objects.create(
        organization_id=account.organization_id,
        customer_id=account.customer_id,
        from_tier_id=account.tier_id,
        to_tier=tier,
        reason=TierChange.Reason.JOINED if joining and reason == TierChange.Reason.MANUAL else reason,
        note=note[:200],
        by=by if by is not None and by.pk else None,
        at=now,
    )
    account.tier = tier
    account.tier_since = now
    account.tier_review_on = _review_on(account.organization_id, timezone.localdate(now), program)
    fields = ["tier", "tier_since", "tier_review_on"]
    if joining:
        if not account.number:
            account.number = _next_member_number(account.organization_id)
            fields.append("number")
        if account.member_since is None:
            account.member_since = now
            fields.append("member_since")
        account.joined_by = by if by is not None and by.pk else None
        fields.append("joined_by")
    account.save(update_fields=fields)
    if joining:
        customer = Customer.objects.for_org(account.organization_id).select_for_update().get(pk=account.customer_id)
        stage_on_membership(customer=customer, by=by, now=now)
        _coupons_on_joining(customer, by)
    free_services_top_up(account=account, tier=tier, by=by, now=now)
    return change


def _coupons_on_joining(customer: Customer, by: User | None) -> None:
    from huitou.loyalty.services.coupons import coupons_on_trigger

    coupons_on_trigger(customer=customer, trigger=CouponTrigger.JOINED, order=None, by=by)


def membership_year_start(member_since: dt.datetime, today: dt.date) -> dt.date:
    """The first day of the membership year ``today`` falls in (anniversaries of joining)."""
    joined = timezone.localdate(member_since)
    year = today.year
    while True:
        day = min(joined.day, calendar.monthrange(year, joined.month)[1])
        start = dt.date(year, joined.month, day)
        if start <= today or year <= joined.year:
            return max(start, joined)
        year -= 1


def free_services_top_up(*, account: LoyaltyAccount, tier: Tier, by: User | None, now: dt.datetime) -> int:
    """Issue the tier's free-service coupons this membership year still owes; returns how many."""
    if tier.free_services_per_year <= 0 or tier.free_service_id is None or account.member_since is None:
        return 0
    from huitou.loyalty.services.coupons import coupon_issue
    from huitou.loyalty.starter import free_service_template

    start = membership_year_start(account.member_since, timezone.localdate(now))
    start_at = dt.datetime.combine(start, dt.time(), tzinfo=timezone.get_current_timezone())
    issued = (
        Coupon.objects.for_org(account.organization_id)
        .filter(customer_id=account.customer_id, source=CouponTrigger.TIER, issued_at__gte=start_at)
        .count()
    )
    owed = tier.free_services_per_year - issued
    if owed <= 0:
        return 0
    items = ServiceItem.objects.for_org(account.organization_id).select_related("organization")
    service = items.get(pk=tier.free_service_id)
    template = free_service_template(organization=service.organization, service=service)
    if LoyaltyAccount.customer.is_cached(account):  # read with the account (a paid order's rules)
        customer = account.customer
    else:
        customer = Customer.objects.for_org(account.organization_id).get(pk=account.customer_id)
    for _ in range(owed):
        coupon_issue(customer=customer, template=template, source=CouponTrigger.TIER, by=by, now=now)
    return owed


def _tier_of(organization_id: int, tier: Tier | str) -> Tier:
    if isinstance(tier, Tier):
        if tier.organization_id != organization_id or not tier.is_active:
            raise ValidationError({"tier": [errors.TIER_UNKNOWN]})
        return tier
    found = Tier.objects.for_org(organization_id).filter(code=(tier or "").strip(), is_active=True).first()
    if found is None:
        raise ValidationError({"tier": [errors.TIER_UNKNOWN]})
    return found


def membership_set_tier(
    *,
    customer: Customer,
    tier: Tier | str | None,
    by: User,
    note: str = "",
    now: dt.datetime | None = None,
) -> LoyaltyAccount:
    """Join membership, or move a member to ``tier`` by hand (a code or a Tier).

    Without a tier, a non-member joins at the highest tier their last 12
    months reach (at least the entry tier). A member asked for their own tier
    gets ``StateConflict``.
    """
    now = now or timezone.now()
    organization_id = customer.organization_id
    if tier in (None, ""):
        tiers = active_tiers(organization_id)
        if not tiers:
            raise ValidationError({"tier": [errors.TIER_NONE]})
        spend, visits = rolling_measures(customer_id=customer.pk, organization_id=organization_id, end=now)
        target = best_reached(tiers, spend=spend, visits=visits) or tiers[0]
    else:
        assert tier is not None
        target = _tier_of(organization_id, tier)
    with transaction.atomic():
        account = account_locked(customer)
        if account.tier_id == target.pk:
            raise StateConflict(errors.TIER_SAME)
        _move(account, target, reason=TierChange.Reason.MANUAL, by=by, now=now, note=note)
    return account


# --- on a paid order ---------------------------------------------------------------------------


def tier_on_order_paid(
    *, order: ServiceOrder, by: User | None, now: dt.datetime | None = None, paid: PaidOrder | None = None
) -> TierChange | None:
    """A paid order: a tier bought on it is given; a member whose last 12 months reach a higher tier moves up.

    Runs inside ``order_pay``'s transaction (the order row is locked). Queries
    for a customer who is not a member and bought no tier: the account, the
    tiers (with their sale items), the order's lines if a tier is for sale;
    none with ``paid`` (``paid_order_read``: the account locked, the tiers, the
    lines, the 12 months' figures).
    """
    now = order.paid_at or now or timezone.now()
    organization_id = order.organization_id
    program = paid.program if paid is not None else None
    if paid is not None:
        account: LoyaltyAccount | None = paid.account
        tiers = paid.tiers
    else:
        account = LoyaltyAccount.objects.for_org(organization_id).filter(customer_id=order.customer_id).first()
        tiers = active_tiers(organization_id)
    bought: Tier | None = None
    for_sale = {t.sale_item_id: t for t in tiers if t.entry_rule == TierEntryRule.PURCHASE and t.sale_item_id}
    if for_sale:
        if paid is not None:
            sold_ids = [
                line.service_id
                for line in paid.lines
                if line.kind == OrderLine.Kind.SERVICE and line.service_id in for_sale
            ]
        else:
            sold = OrderLine.objects.for_org(organization_id).filter(
                order=order, kind=OrderLine.Kind.SERVICE, service_id__in=list(for_sale)
            )
            sold_ids = list(sold.values_list("service_id", flat=True))
        candidates = [for_sale[s] for s in sold_ids]
        bought = max(candidates, key=lambda t: (t.rank, t.pk)) if candidates else None
    if bought is None and (account is None or account.tier_id is None):
        return None
    if paid is None:
        account = account_locked(order.customer_id, organization_id=organization_id)
    assert account is not None
    current = next((t for t in tiers if t.pk == account.tier_id), None)
    current_rank = current.rank if current is not None else (-1 if account.tier_id is None else 0)
    if account.tier_id is not None and current is None:
        current_rank = Tier.objects.for_org(organization_id).get(pk=account.tier_id).rank
    if bought is not None and (account.tier_id is None or bought.rank > current_rank):
        note = gettext("Bought on order %(number)s") % {"number": order.number}
        return _move(account, bought, reason=TierChange.Reason.PURCHASE, by=by, now=now, note=note, program=program)
    if account.tier_id is None:
        return None
    if paid is not None:
        spend, visits = paid.spend, paid.visits
    else:
        spend, visits = rolling_measures(customer_id=order.customer_id, organization_id=organization_id, end=now)
    reached = best_reached(tiers, spend=spend, visits=visits)
    if reached is None or reached.rank <= current_rank:
        return None
    note = gettext("Spend %(spend)s, visits %(visits)s in the last 12 months") % {"spend": spend, "visits": visits}
    return _move(account, reached, reason=TierChange.Reason.UPGRADE, by=by, now=now, note=note, program=program)


# --- the member discount -----------------------------------------------------------------------


def _percent_label(percent: Decimal) -> str:
    return format(percent.normalize(), "f")


def member_discount_for_line(
    *, order: ServiceOrder, line: OrderLine, by: User | None, now: dt.datetime | None = None
) -> OrderLine | None:
    """A member's tier discount on a service (labour) or part line: a discount line, or None.

    Nothing for a non-member, a zero percentage or amount, a discount line, or
    the sale of a package card or a tier. The line's name is in the shop's
    language (``LANGUAGE_CODE``), not the clerk's: it is printed on the bill.
    """
    if line.kind not in (OrderLine.Kind.SERVICE, OrderLine.Kind.PART) or line.amount <= 0:
        return None
    account = (
        LoyaltyAccount.objects.for_org(order.organization_id)
        .filter(customer_id=order.customer_id, tier__isnull=False)
        .select_related("tier")
        .first()
    )
    if account is None or account.tier is None:
        return None
    tier = account.tier
    labour = line.kind == OrderLine.Kind.SERVICE
    percent = tier.labour_discount_percent if labour else tier.parts_discount_percent
    if percent <= 0:
        return None
    if labour:
        sold = Q(sale_item_id=line.service_id)
        if line.service_id is not None and (
            CardProduct.objects.for_org(order.organization_id).filter(sold).exists()
            or Tier.objects.for_org(order.organization_id).filter(sold).exists()
        ):
            return None
    amount = (line.amount * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount <= 0:
        return None
    with translation.override(settings.LANGUAGE_CODE):
        kind = gettext("labour") if labour else gettext("parts")
        name = gettext("Member discount · %(tier)s %(kind)s %(percent)s%%") % {
            "tier": tier.name,
            "kind": kind,
            "percent": _percent_label(percent),
        }
    return order_add_discount(order=order, by=by, name=name, amount=amount, applies_to=line, note=tier.name, now=now)


# --- tiers: the store manager's settings ------------------------------------------------------

TIER_FIELDS = (
    "code",
    "name",
    "rank",
    "entry_rule",
    "entry_threshold",
    "price",
    "keep_threshold",
    "labour_discount_percent",
    "parts_discount_percent",
    "points_multiplier",
    "free_service",
    "free_services_per_year",
    "benefits_note",
    "is_active",
)


def _decimal(value: Any, *, high: Decimal, places: int = 2) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(value) from exc
    if not number.is_finite() or number < 0 or number > high:
        raise ValueError(value)
    quantum = Decimal(1).scaleb(-places)
    if number != number.quantize(quantum):
        raise ValueError(value)
    return number.quantize(quantum)


def tier_save(
    *, organization: Organization, data: Mapping[str, Any], tier: Tier | None = None, by: User | None = None
) -> Tier:
    """Create a tier, or change ``tier`` with the fields in ``data``.

    ``free_service`` is a ServiceItem or its code. A tier bought outright
    (``purchase``) needs a price and gets its own service item (``TIER-<code>``),
    sold as an order line; its price and name follow the tier.
    """
    creating = tier is None
    current: dict[str, Any] = {}
    if tier is not None:
        current = {f: getattr(tier, f) for f in TIER_FIELDS}
    merged = {**current, **{k: v for k, v in data.items() if k in TIER_FIELDS}}
    problems: dict[str, list[Any]] = {}
    values: dict[str, Any] = {}

    code = str(merged.get("code") or "").strip()
    if not code or not all(c.isascii() and (c.isalnum() or c in "-_") for c in code) or len(code) > 30:
        problems["code"] = [errors.TIER_CODE_REQUIRED]
    elif Tier.objects.for_org(organization).filter(code=code).exclude(pk=tier.pk if tier is not None else 0).exists():
        problems["code"] = [errors.TIER_CODE_TAKEN]
    values["code"] = code
    name = str(merged.get("name") or "").strip()
    if not name or len(name) > 30:
        problems["name"] = [errors.TIER_NAME_REQUIRED]
    values["name"] = name
    rule = merged.get("entry_rule") or ""
    if rule not in TierEntryRule.values:
        problems["entry_rule"] = [errors.TIER_RULE_INVALID]
    values["entry_rule"] = rule
    try:
        raw_rank = merged.get("rank")
        rank = int(raw_rank if raw_rank not in (None, "") else 0)
        if rank < 0 or rank > 100:
            raise ValueError(rank)
        values["rank"] = rank
    except (TypeError, ValueError):
        problems["rank"] = [errors.TIER_NUMBER_INVALID]
    for field, high in (("entry_threshold", Decimal("9999999999.99")), ("keep_threshold", Decimal("9999999999.99"))):
        raw = merged.get(field)
        try:
            values[field] = _decimal(raw if raw not in (None, "") else 0, high=high)
        except ValueError:
            problems[field] = [errors.TIER_NUMBER_INVALID]
    for field in ("labour_discount_percent", "parts_discount_percent"):
        raw = merged.get(field)
        try:
            values[field] = _decimal(raw if raw not in (None, "") else 0, high=Decimal(100))
        except ValueError:
            problems[field] = [errors.TIER_PERCENT_INVALID]
    raw = merged.get("points_multiplier")
    try:
        values["points_multiplier"] = _decimal(raw if raw not in (None, "") else 1, high=Decimal("99.99"))
    except ValueError:
        problems["points_multiplier"] = [errors.TIER_MULTIPLIER_INVALID]
    raw = merged.get("price")
    if raw in (None, ""):
        values["price"] = None
        if rule == TierEntryRule.PURCHASE:
            problems["price"] = [errors.TIER_PRICE_REQUIRED]
    else:
        try:
            values["price"] = _decimal(raw, high=Decimal("9999999999.99"))
        except ValueError:
            problems["price"] = [errors.TIER_NUMBER_INVALID]
    raw = merged.get("free_services_per_year")
    try:
        per_year = int(raw if raw not in (None, "") else 0)
        if per_year < 0 or per_year > 366:
            raise ValueError(per_year)
        values["free_services_per_year"] = per_year
    except (TypeError, ValueError):
        problems["free_services_per_year"] = [errors.TIER_NUMBER_INVALID]
        per_year = 0
    free = merged.get("free_service")
    if isinstance(free, ServiceItem):
        if free.organization_id != organization.pk or not free.is_active:
            problems["free_service"] = [errors.TIER_FREE_SERVICE_INVALID]
        values["free_service"] = free
    elif free in (None, ""):
        values["free_service"] = None
    else:
        found = ServiceItem.objects.for_org(organization).filter(code=str(free).strip(), is_active=True).first()
        if found is None:
            problems["free_service"] = [errors.TIER_FREE_SERVICE_INVALID]
        values["free_service"] = found
    if per_year > 0 and values.get("free_service") is None and "free_service" not in problems:
        problems["free_service"] = [errors.TIER_FREE_SERVICE_REQUIRED]
    values["benefits_note"] = str(merged.get("benefits_note") or "").strip()[:200]
    active = merged.get("is_active")
    values["is_active"] = True if active is None else bool(active)
    if problems:
        raise ValidationError(problems)

    with transaction.atomic():
        if tier is None:
            tier = Tier(organization=organization)
            before: dict[str, Any] = {}
        else:
            tier = Tier.objects.for_org(organization).select_for_update().get(pk=tier.pk)
            before = {f: getattr(tier, f) for f in TIER_FIELDS}
        for field, value in values.items():
            setattr(tier, field, value)
        if tier.entry_rule == TierEntryRule.PURCHASE:
            tier.sale_item = _sale_item(organization, tier)
        elif tier.sale_item_id is not None:
            ServiceItem.objects.for_org(organization).filter(pk=tier.sale_item_id).update(is_active=False)
        tier.save()
        changes = {
            f: [str(before.get(f)) if before.get(f) is not None else None, str(v) if v is not None else None]
            for f, v in values.items()
            if before.get(f) != v
        }
        change_record(
            organization_id=organization.pk,
            subject=tier,
            action="created" if creating else "updated",
            actor=by,
            changes=changes,
        )
    return tier


def _sale_item(organization: Organization, tier: Tier) -> ServiceItem:
    """The service item a tier bought outright is sold as; its name and price follow the tier."""
    assert tier.price is not None
    with translation.override(settings.LANGUAGE_CODE):
        name = gettext("%(tier)s membership") % {"tier": tier.name}
    name = name[:60]
    if tier.sale_item_id is not None:
        item = ServiceItem.objects.for_org(organization).get(pk=tier.sale_item_id)
        item.name, item.labour_price, item.is_active = name, tier.price, True
        item.save(update_fields=["name", "labour_price", "is_active"])
        return item
    code = f"{SALE_ITEM_PREFIX}{tier.code.upper()}"[:30]
    found = ServiceItem.objects.for_org(organization).filter(code=code).first()
    if found is None:
        return ServiceItem.objects.create(
            organization=organization,
            code=code,
            category=Category.MAINTENANCE,
            name=name,
            labour_price=tier.price,
        )
    found.name, found.labour_price, found.is_active = name, tier.price, True
    found.save(update_fields=["name", "labour_price", "is_active"])
    return found


# --- the nightly review ------------------------------------------------------------------------


def tiers_review(
    *, organization: Organization | int, today: dt.date | None = None, now: dt.datetime | None = None
) -> dict[str, int]:
    """Review every member whose ``tier_review_on`` has come: keep or move down, set-based.

    Three statements whatever the number of members: one INSERT ... SELECT of
    a ``TierChange`` per member due (``kept`` or ``downgrade``, the target
    worked out in SQL from the 12 months' spend and visits before the review
    day), one UPDATE of their accounts from those rows, and the counts. Safe to
    run twice: the accounts' next review date moves forward, so a second run
    finds nobody due.
    """
    organization_id = organization if isinstance(organization, int) else organization.pk
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    tiers = list(Tier.objects.for_org(organization_id).order_by("-rank", "-pk"))
    if not tiers:
        return {"reviewed": 0, "kept": 0, "downgraded": 0}
    active = [t for t in tiers if t.is_active]
    lowest = min(active or tiers, key=lambda t: (t.rank, t.pk))
    end = dt.datetime.combine(today, dt.time(), tzinfo=timezone.get_current_timezone())
    start = end - dt.timedelta(days=ROLLING_DAYS)
    next_review = _review_on(organization_id, today)

    # The target: the highest tier at or below the current rank whose keep rule is met, else the lowest.
    cases: list[str] = []
    params: list[Any] = []
    for tier in active:
        measure = "m.visits" if tier.entry_rule == TierEntryRule.VISITS else "m.spend"
        cases.append(f"WHEN d.rank >= %s AND COALESCE({measure}, 0) >= CAST(%s AS NUMERIC) THEN %s")
        params += [tier.rank, str(tier.keep_threshold), tier.pk]
    target = f"CASE {' '.join(cases)} ELSE %s END" if cases else "%s"
    params.append(lowest.pk)
    # A member keeps their own tier when its keep rule is met even if it was made inactive.
    keep_own = []
    keep_params: list[Any] = []
    for tier in tiers:
        measure = "m.visits" if tier.entry_rule == TierEntryRule.VISITS else "m.spend"
        keep_own.append(f"WHEN d.tier_id = %s AND COALESCE({measure}, 0) >= CAST(%s AS NUMERIC) THEN d.tier_id")
        keep_params += [tier.pk, str(tier.keep_threshold)]

    account = LoyaltyAccount._meta.db_table
    tier_table = Tier._meta.db_table
    order_table = ServiceOrder._meta.db_table
    change_table = TierChange._meta.db_table
    due_sql = f"""
        SELECT a.customer_id, a.tier_id, t.rank
        FROM {account} a JOIN {tier_table} t ON t.id = a.tier_id
        WHERE a.organization_id = %s AND a.tier_id IS NOT NULL AND a.tier_review_on <= %s
    """  # noqa: S608 (table names, CASE arms and placeholders only)
    measures_sql = f"""
        SELECT o.customer_id, SUM(o.total) AS spend, COUNT(*) AS visits
        FROM {order_table} o
        WHERE o.organization_id = %s AND o.state = %s AND o.paid_at > %s AND o.paid_at <= %s
          AND o.customer_id IN (
              SELECT a.customer_id FROM {account} a
              WHERE a.organization_id = %s AND a.tier_id IS NOT NULL AND a.tier_review_on <= %s
          )
        GROUP BY o.customer_id
    """  # noqa: S608 (table names, CASE arms and placeholders only)
    chosen = f"CASE {' '.join(keep_own)} ELSE {target} END"
    insert_sql = f"""
        INSERT INTO {change_table} (organization_id, customer_id, from_tier_id, to_tier_id, reason, note, by_id, at)
        SELECT %s, x.customer_id, x.tier_id, x.to_tier_id,
               CASE WHEN x.to_tier_id = x.tier_id THEN %s ELSE %s END, '', NULL, %s
        FROM (
            SELECT d.customer_id, d.tier_id, {chosen} AS to_tier_id
            FROM ({due_sql}) d LEFT JOIN ({measures_sql}) m ON m.customer_id = d.customer_id
        ) x
    """  # noqa: S608 (table names, CASE arms and placeholders only)
    update_sql = f"""
        UPDATE {account} SET
            tier_since = CASE WHEN tier_id = (
                SELECT c.to_tier_id FROM {change_table} c
                WHERE c.organization_id = %s AND c.customer_id = {account}.customer_id AND c.at = %s
                  AND c.reason IN (%s, %s)
            ) THEN tier_since ELSE %s END,
            tier_id = (
                SELECT c.to_tier_id FROM {change_table} c
                WHERE c.organization_id = %s AND c.customer_id = {account}.customer_id AND c.at = %s
                  AND c.reason IN (%s, %s)
            ),
            tier_review_on = %s
        WHERE organization_id = %s AND tier_id IS NOT NULL AND tier_review_on <= %s
    """  # noqa: S608 (table names, CASE arms and placeholders only)
    reasons = [TierChange.Reason.KEPT, TierChange.Reason.DOWNGRADE]
    ops = connection.ops
    at, day, review = (
        ops.adapt_datetimefield_value(now),
        ops.adapt_datefield_value(today),
        ops.adapt_datefield_value(next_review),
    )
    window = [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)]
    insert_params = [
        organization_id,
        TierChange.Reason.KEPT,
        TierChange.Reason.DOWNGRADE,
        at,
        *keep_params,
        *params,
        organization_id,
        day,
        organization_id,
        OrderState.PAID,
        *window,
        organization_id,
        day,
    ]
    update_params = [organization_id, at, *reasons, at, organization_id, at, *reasons, review, organization_id, day]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(insert_sql, insert_params)
        reviewed = cursor.rowcount
        cursor.execute(update_sql, update_params)
    counts = (
        TierChange.objects.for_org(organization_id)
        .filter(at=now, reason__in=reasons)
        .aggregate(kept=Count("id", filter=Q(reason=TierChange.Reason.KEPT)), all=Count("id"))
    )
    return {"reviewed": reviewed, "kept": counts["kept"], "downgraded": counts["all"] - counts["kept"]}


def free_services_anniversaries(
    *, organization: Organization | int, today: dt.date | None = None, now: dt.datetime | None = None
) -> int:
    """On a member's joining anniversary, issue the tier's free-service coupons of the new year.

    Only members of a tier with free services whose anniversary is ``today``
    (a 29 February joiner on 28 February in other years); safe to run twice.
    """
    organization_id = organization if isinstance(organization, int) else organization.pk
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    days = [today.day]
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        days.append(29)
    accounts = (
        LoyaltyAccount.objects.for_org(organization_id)
        .filter(
            tier__free_services_per_year__gt=0,
            member_since__month=today.month,
            member_since__day__in=days,
            member_since__lt=dt.datetime.combine(today, dt.time(), tzinfo=timezone.get_current_timezone()),
        )
        .select_related("tier")
    )
    issued = 0
    for account in accounts.iterator(chunk_size=500):
        assert account.tier is not None
        with transaction.atomic():
            locked = account_locked(account.customer_id, organization_id=organization_id)
            issued += free_services_top_up(account=locked, tier=account.tier, by=None, now=now)
    return issued
