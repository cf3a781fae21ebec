"""A paid order as membership sees it: read once, shared by the tier, points, coupon, card and referral rules.

``order_paid`` runs inside ``order_pay``'s transaction with the order row
locked. Membership reads what its rules need in four queries — the
customer's account under its row lock (with the customer, the tier, whether
the order earned its points already and the last 12 months' spend and
visits), the active tiers, the programme's settings, and the order's lines
(with each line's points rate and whether it sells a package card) — and
hands them to each rule, which then only writes. The account object is the
one every rule changes, so the points are earned at a tier reached on this
order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import BooleanField, DecimalField, IntegerField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from huitou.customers.models import Customer
from huitou.lib.money import round_fen
from huitou.loyalty.models import (
    CardProduct,
    LoyaltyAccount,
    LoyaltyProgram,
    PointsCategoryRate,
    PointsEntry,
    Tier,
)
from huitou.loyalty.services.accounts import account_locked
from huitou.loyalty.services.program import program_for
from huitou.loyalty.services.tiers import ROLLING_DAYS, active_tiers
from huitou.service.models import OrderLine, OrderState, ServiceItem, ServiceOrder

ZERO = Decimal("0.00")


class PaidLine(NamedTuple):
    """A line of the paid order, with what the rules ask of it."""

    id: int
    kind: str
    service_id: int | None
    amount: Decimal
    category: str | None  # the service's category (None for a part)
    points_rate: Decimal | None  # the category's points per yuan (None: the programme's)
    sells_card: bool  # the service is a package card product's sale item


@dataclass
class PaidOrder:
    """What the membership rules of one paid order share (valid inside its transaction only)."""

    order: ServiceOrder
    account: LoyaltyAccount  # locked; ``customer`` and ``tier`` loaded
    tiers: list[Tier]  # the active ones, by rank
    program: LoyaltyProgram
    lines: list[PaidLine]
    points_earned: bool  # the order has its EARN entry already
    spend: Decimal  # paid in the 12 months up to the payment
    visits: int

    @property
    def customer(self) -> Customer:
        return self.account.customer


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def paid_order_read(order: ServiceOrder) -> PaidOrder:
    """Lock the customer's account (made first if missing) and read what the rules of a paid order need.

    The per-order figures are SQL fragments (``RawSQL``) on the queries' own
    tables: built as ``Subquery``/``Exists`` they cost more to compile than to run.
    """
    org = order.organization_id
    paid_at = order.paid_at or timezone.now()
    since = paid_at - dt.timedelta(days=ROLLING_DAYS)
    window = [connection.ops.adapt_datetimefield_value(when) for when in (since, paid_at)]
    orders, points = _table(ServiceOrder), _table(PointsEntry)
    recent = (  # ``rolling_measures``' orders: the customer's paid orders in the 12 months up to the payment
        f"FROM {orders} WHERE organization_id = %s AND customer_id = %s AND state = %s "
        "AND paid_at > %s AND paid_at <= %s"
    )
    recent_params = [org, order.customer_id, OrderState.PAID.value, *window]
    accounts = (
        LoyaltyAccount.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("customer", "tier")
        .filter(customer_id=order.customer_id)
        .annotate(
            # Table names from the models; every value a parameter.
            points_earned=RawSQL(  # noqa: S611
                f"EXISTS (SELECT 1 FROM {points} WHERE organization_id = %s AND order_id = %s AND kind = %s)",  # noqa: S608
                [org, order.pk, PointsEntry.Kind.EARN.value],
                output_field=BooleanField(),
            ),
            recent_spend=RawSQL(f"SELECT SUM(total) {recent}", recent_params, output_field=DecimalField()),  # noqa: S611
            recent_visits=RawSQL(f"SELECT COUNT(*) {recent}", recent_params, output_field=IntegerField()),  # noqa: S611
        )
    )
    account = accounts.first()
    if account is None:
        account_locked(order.customer_id, organization_id=org)
        account = accounts.get()
    lines, rates, items, cards = _table(OrderLine), _table(PointsCategoryRate), _table(ServiceItem), _table(CardProduct)
    rows = (
        OrderLine.objects.for_org(org)
        .filter(order_id=order.pk)
        .order_by("pk")
        .values_list(
            "id",
            "kind",
            "service_id",
            "amount",
            "service__category",
            RawSQL(  # noqa: S611
                f"SELECT r.points_per_yuan FROM {rates} r JOIN {items} i ON i.category = r.category "  # noqa: S608
                f"WHERE r.organization_id = %s AND i.id = {lines}.service_id",
                [org],
                output_field=DecimalField(),
            ),
            RawSQL(  # noqa: S611
                f"EXISTS (SELECT 1 FROM {cards} c "  # noqa: S608
                f"WHERE c.organization_id = %s AND c.sale_item_id = {lines}.service_id)",
                [org],
                output_field=BooleanField(),
            ),
        )
    )
    return PaidOrder(
        order=order,
        account=account,
        tiers=active_tiers(org),
        program=program_for(org),
        lines=[PaidLine(*row) for row in rows],
        points_earned=bool(account.points_earned),
        spend=round_fen(account.recent_spend or ZERO),
        visits=account.recent_visits or 0,
    )
