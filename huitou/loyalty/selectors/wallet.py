"""Reads of stored value and package cards, and the customer's statement across the four ledgers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import CharField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.lib.statements import tenant_rows
from huitou.loyalty.models import (
    CardProduct,
    CouponEntry,
    LoyaltyAccount,
    PackageCard,
    PackageCardEntry,
    PointsEntry,
    StoredValueEntry,
    TopUpRule,
)
from huitou.service.models import OrderLine, ServiceOrder
from huitou.tenancy.models import Organization

ZERO = Decimal("0.00")
LEDGERS = ("points", "stored_value", "package_cards", "coupons")
LEDGER_MODELS: dict[str, Any] = {
    "points": PointsEntry,
    "stored_value": StoredValueEntry,
    "package_cards": PackageCardEntry,
    "coupons": CouponEntry,
}
STATEMENT_PAGE_SIZE = 50


def cards_for_customer(customer: Customer) -> list[dict[str, Any]]:
    """The customer's usable cards (active, not past their day), soonest expiry first (1 query).

    Each: ``id``, ``name``, ``remaining``, ``vehicle_id``, ``plate`` (or ""), ``expires_on``.
    """
    today = timezone.localdate()

    def build(org: int, pk: int) -> QuerySet[PackageCard]:
        rows = PackageCard.objects.for_org(org).filter(
            customer_id=pk, state=PackageCard.State.ACTIVE, expires_on__gte=today
        )
        return rows.select_related("vehicle").order_by("expires_on", "pk")

    # A kept statement (huitou.lib.statements): the day is part of the shape.
    cards = tenant_rows(("loyalty.cards_for_customer", today), customer.organization_id, customer.pk, build)
    return [
        {
            "id": c.pk,
            "name": c.name,
            "remaining": c.uses_left,
            "vehicle_id": c.vehicle_id,
            "plate": c.vehicle.plate if c.vehicle else "",
            "expires_on": c.expires_on,
        }
        for c in cards
    ]


def cards_expiring(
    *, organization: Organization | int, within_days: int, today: dt.date | None = None
) -> QuerySet[PackageCard]:
    """Cards with uses left whose last day is within ``within_days`` days from today (the care engine's hook).

    Each row is annotated with ``holder_id``: who can use the card now — the
    car's owner for a vehicle card (it goes with the car), else the buyer.
    Cards of a deleted file or car are left out. Ordered by holder, last day,
    card. Read through the (organization, state, expires_on) index.
    """
    today = today or timezone.localdate()
    return (
        PackageCard.objects.for_org(organization)
        .filter(
            Q(vehicle__isnull=True, customer__deleted_at__isnull=True)
            | Q(vehicle__isnull=False, vehicle__deleted_at__isnull=True, vehicle__customer__deleted_at__isnull=True),
            state=PackageCard.State.ACTIVE,
            uses_left__gt=0,
            expires_on__gte=today,
            expires_on__lte=today + dt.timedelta(days=within_days),
        )
        .annotate(holder_id=Coalesce("vehicle__customer_id", "customer_id"))
        .order_by("holder_id", "expires_on", "pk")
    )


def cards_for_order(*, organization: Organization | int, customer_id: int, vehicle_id: int) -> list[PackageCard]:
    """Cards that may pay a line of an order: the customer's own, or bound to its car (2 queries).

    With ``covers``: the ids of the services each card covers (prefetched).
    """
    today = timezone.localdate()
    cards = list(
        PackageCard.objects.for_org(organization)
        .filter(Q(customer_id=customer_id, vehicle__isnull=True) | Q(vehicle_id=vehicle_id))
        .filter(state=PackageCard.State.ACTIVE, expires_on__gte=today, uses_left__gt=0)
        .order_by("expires_on", "pk")
    )
    covered: dict[int, set[int]] = {}
    through = CardProduct.services.through
    for product_id, service_id in through.objects.filter(cardproduct_id__in={c.product_id for c in cards}).values_list(
        "cardproduct_id", "serviceitem_id"
    ):
        covered.setdefault(product_id, set()).add(service_id)
    for card in cards:
        card.covers = covered.get(card.product_id, set())  # type: ignore[attr-defined]
    return cards


def stored_balance(customer: Customer) -> tuple[Decimal, Decimal]:
    """(principal, bonus) of the customer's stored value (1 query)."""
    row = (
        LoyaltyAccount.objects.for_org(customer.organization_id)
        .filter(customer_id=customer.pk)
        .values_list("stored_principal", "stored_bonus")
        .first()
    )
    return row if row is not None else (ZERO, ZERO)


def top_up_rules(organization: Organization | int) -> list[TopUpRule]:
    return list(TopUpRule.objects.for_org(organization).filter(is_active=True).order_by("minimum"))


# --- the statement ------------------------------------------------------------------------------


@dataclass
class StatementItem:
    at: dt.datetime
    ledger: str
    kind: str
    kind_label: str
    amount: str  # yuan ("-120.00"), points or uses ("-1"), a coupon's money off ("20.00") or ""
    balance_after: str  # yuan, points, uses left, or a coupon's state
    reason: str
    order_id: int | None
    order_number: str
    detail: str  # stored value: principal and bonus; a card or a coupon: its name


@dataclass
class Statement:
    items: list[StatementItem]
    count: int


def _keys(org_id: int, customer_id: int, ledger: str) -> QuerySet[Any]:
    model = LEDGER_MODELS[ledger]
    return (
        model.objects.for_org(org_id)
        .filter(customer_id=customer_id)
        .annotate(ledger=Value(ledger, output_field=CharField()), entry_id=F("id"))
        .values_list("at", "entry_id", "ledger")
    )


def _item(ledger: str, entry: Any) -> StatementItem:
    order = entry.order
    common: dict[str, Any] = {
        "at": entry.at,
        "ledger": ledger,
        "kind": entry.kind,
        "kind_label": str(entry.get_kind_display()),
        "order_id": entry.order_id,
        "order_number": order.number if order is not None else "",
    }
    if ledger == "stored_value":
        return StatementItem(
            **common,
            amount=str(entry.principal + entry.bonus),
            balance_after=str(entry.principal_after + entry.bonus_after),
            reason=entry.reason,
            detail=f"{entry.principal}|{entry.bonus}",
        )
    if ledger == "points":
        return StatementItem(
            **common, amount=str(entry.amount), balance_after=str(entry.balance_after), reason=entry.reason, detail=""
        )
    if ledger == "package_cards":
        return StatementItem(
            **common,
            amount=str(entry.amount),
            balance_after=str(entry.uses_after),
            reason=entry.reason,
            detail=entry.card.name,
        )
    return StatementItem(
        **common,
        amount="" if entry.amount is None else str(entry.amount),
        balance_after=entry.state_after,
        reason=entry.reason,
        detail=entry.coupon.name,
    )


def statement(
    *, customer: Customer, ledger: str = "", page: int = 1, page_size: int = STATEMENT_PAGE_SIZE
) -> Statement:
    """The customer's ledger entries, newest first, one ledger or all four.

    One order for every page and the export: newest first, then the higher id,
    then the ledger's name (entries of one checkout share their moment, and two
    ledgers may hold the same id).

    Queries: 1 count and 1 page of (at, id, ledger) keys (a UNION ALL of the
    ledgers' ``(organization, customer, at, id)`` indexes when all four are
    read), then 1 query per ledger on the page for its rows with their order
    (and card or coupon).
    """
    org_id, customer_id = customer.organization_id, customer.pk
    ledgers = [ledger] if ledger in LEDGERS else list(LEDGERS)
    parts = [_keys(org_id, customer_id, name) for name in ledgers]
    keys = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True)
    count = keys.count()
    start = max(page - 1, 0) * page_size
    rows = list(keys.order_by("-at", "-entry_id", "ledger")[start : start + page_size])
    wanted: dict[str, list[int]] = {}
    for _at, entry_id, name in rows:
        wanted.setdefault(name, []).append(entry_id)
    related = {"package_cards": ("order", "card"), "coupons": ("order", "coupon")}
    found: dict[tuple[str, int], Any] = {}
    for name, ids in wanted.items():
        entries = LEDGER_MODELS[name].objects.for_org(org_id).filter(pk__in=ids)
        for entry in entries.select_related(*related.get(name, ("order",))):
            found[(name, entry.pk)] = entry
    items = [_item(name, found[(name, entry_id)]) for _at, entry_id, name in rows]
    return Statement(items=items, count=count)


def stored_value_sum(customer: Customer) -> Decimal:
    """The sum of the customer's stored-value entries: what the cached balance must equal."""
    total = (
        StoredValueEntry.objects.for_org(customer.organization_id)
        .filter(customer_id=customer.pk)
        .aggregate(p=Sum("principal"), b=Sum("bonus"))
    )
    return (total["p"] or ZERO) + (total["b"] or ZERO)


# --- the counter checkout -----------------------------------------------------------------------


@dataclass
class CardChoice:
    card: PackageCard
    line: OrderLine


@dataclass
class Checkout:
    principal: Decimal
    bonus: Decimal
    points: int
    cards: list[CardChoice]
    coupons: list[dict[str, Any]]

    @property
    def balance(self) -> Decimal:
        return self.principal + self.bonus


def checkout_options(*, order: ServiceOrder, lines: list[OrderLine]) -> Checkout:
    """What the customer may pay the order with besides money (4 queries).

    1 the account (stored value and points), 2 the cards that may pay the order's
    lines, 3 the services they cover, 4 the usable coupons. ``lines``: the order's
    lines, already loaded by the page; a card is offered for each priced line of
    quantity 1 of a service it covers.
    """
    from huitou.loyalty.selectors.rewards import coupons_for_customer

    account = (
        LoyaltyAccount.objects.for_org(order.organization_id)
        .filter(customer_id=order.customer_id)
        .values_list("stored_principal", "stored_bonus", "points")
        .first()
    ) or (ZERO, ZERO, 0)
    cards = cards_for_order(
        organization=order.organization_id, customer_id=order.customer_id, vehicle_id=order.vehicle_id
    )
    choices = []
    for line in lines:
        if line.kind != OrderLine.Kind.SERVICE or line.note or line.quantity != 1 or line.amount <= 0:
            continue
        card = next((c for c in cards if line.service_id in c.covers), None)  # type: ignore[attr-defined]
        if card is not None:
            choices.append(CardChoice(card=card, line=line))
    customer = Customer(pk=order.customer_id, organization_id=order.organization_id)
    return Checkout(
        principal=account[0],
        bonus=account[1],
        points=account[2],
        cards=choices,
        coupons=coupons_for_customer(customer),
    )
