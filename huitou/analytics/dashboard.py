"""The owner's dashboard (经营看板): money, customers and retention for a date range and a shop (or all).

Definitions, the same on the page (``analytics:dashboard``), in the API
(``GET /api/v1/analytics/dashboard``) and behind every link to the customer
and order lists (``figure_orders``, ``figure_customers``):

- **revenue**: the payments taken from ``date_from`` to ``date_to`` (local
  days, both included; a refund is a negative payment), on orders that are
  not void, at the shop when one is chosen. Stored-value top-ups are not
  payments of an order, so they are not revenue; paying an order from the
  stored value is. A package card is sold as an order line: revenue when
  that order is paid.
- **orders**: the orders whose payment completed (``paid_at``) in the range.
  **average ticket** = revenue / orders (0 without orders).
- **gross margin**: on the part lines of those orders whose cost is known
  (``OrderLine.unit_cost``, the part's cost when the line was added), with
  the discount lines given on them: (sales − cost) / sales; unknown (None)
  when no such line. Labour has no recorded cost and is left out.
- **new customers**: files whose first paid visit (``first_visit_at``) is in
  the range (with a shop: that first visit was at the shop), by source.
- **active customers**: those with an order paid in the range; **repeat
  rate**: of them, those with two or more.
- **members' share**: revenue paid while the customer was a member (joined
  the membership, ``LoyaltyAccount.member_since``, before the payment) /
  revenue; **referral share**: revenue of customers referred by another /
  revenue.
- **return rates** (7/30/90 days): of the new customers whose first visit is
  at least that many days ago, those with another paid order within that
  many days of the first (at any shop).
- **cohorts**: the new customers by the month of their first visit, and how
  many of them paid for an order in each of the 12 following months.
- **churned**: customers moved to dormant in the range; **won back**: those
  who came back from dormant or lost with a paid order in the range (the
  lifecycle's stage changes). With a shop: customers who have a paid order
  at that shop.

Merged-away files count nowhere (their orders and stage changes moved to the
kept file); deleted files count in no customer figure. The money figures
and the top items are read from the daily facts (``facts``: each day's
figures, computed by these same definitions and kept when orders change);
so are the new customers, their returns and cohorts (``DayNewFact``), and the
active and repeat customers of ranges up to 366 days (``DayVisitFact``); churned
and won-back customers are live SQL on the indexed tables.
Seven queries whatever the range (see ``dashboard``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from huitou.analytics import errors, facts
from huitou.analytics.funnel import FIRST_DATE, LAST_DATE, MAX_DAYS
from huitou.analytics.models import DayFact, DayItemFact, DayNewFact
from huitou.analytics.sets import (
    costed_lines,
    member_when_paid,
    new_customers_in,
    next_visit,
    paid_orders_in,
    payments_in,
    stage_changes_in,
    visit_gap,
)
from huitou.customers.models import Customer
from huitou.lib.money import round_fen
from huitou.lifecycle.models import StageReason
from huitou.service.models import OrderLine, OrderState, ServiceOrder
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm

ZERO = Decimal("0.00")
GRAIN_DAY, GRAIN_WEEK, GRAIN_MONTH = "day", "week", "month"
GRAINS = (GRAIN_DAY, GRAIN_WEEK, GRAIN_MONTH)
# Without a choice: one point a day up to this many days, a week up to a year, then a month.
DAYS_BY_DAY = 62
DAYS_BY_WEEK = 366
RETURN_WINDOWS = (7, 30, 90)
COHORT_MONTHS = 12
TOP_ITEMS = 10

# The figures the lists can show (``?figure=<name>&from=&to=&figure_shop=``).
ORDER_FIGURES = ("paid", "revenue", "member", "referral", "margin")  # and "service:<id>", "part:<id>"
CUSTOMER_FIGURES = (
    "new",
    "active",
    "repeat",
    "churned",
    "won_back",
)  # and "new:<source>", "return:<days>[:measured]", "cohort:<YYYY-MM>:<k>"


@dataclass(frozen=True)
class Point:
    """One day, week or month of the series (clipped to the range)."""

    date_from: dt.date
    date_to: dt.date
    revenue: Decimal
    orders: int
    part_sales: Decimal
    part_cost: Decimal

    @property
    def average_ticket(self) -> Decimal:
        return round_fen(self.revenue / self.orders) if self.orders else ZERO

    @property
    def gross_margin(self) -> float | None:
        return _margin(self.part_sales, self.part_cost)


@dataclass(frozen=True)
class SourceCount:
    key: str  # the source's code; "" for files without one
    label: str
    count: int


@dataclass(frozen=True)
class ReturnRate:
    days: int
    measured: int  # new customers whose first visit is at least ``days`` ago
    returned: int

    @property
    def rate(self) -> float:
        return round(self.returned / self.measured, 4) if self.measured else 0.0


@dataclass(frozen=True)
class Cohort:
    month: dt.date  # the first of the month
    size: int
    returned: list[int | None]  # months 1..12 after; None for a month not begun yet

    def shares(self) -> list[float | None]:
        return [None if n is None else (round(n / self.size, 4) if self.size else 0.0) for n in self.returned]


@dataclass(frozen=True)
class Item:
    kind: str  # "service" or "part"
    id: int
    name: str
    quantity: Decimal
    revenue: Decimal
    orders: int


@dataclass(frozen=True)
class Dashboard:
    date_from: dt.date
    date_to: dt.date
    shop_id: int | None
    grain: str
    revenue: Decimal
    orders: int
    part_sales: Decimal
    part_cost: Decimal
    new_customers: int
    new_by_source: list[SourceCount]
    active_customers: int
    repeat_customers: int
    member_revenue: Decimal
    referral_revenue: Decimal
    return_rates: list[ReturnRate]
    cohorts: list[Cohort]
    churned: int
    won_back: int
    top_services: list[Item]
    top_parts: list[Item]
    series: list[Point] = field(default_factory=list)

    @property
    def average_ticket(self) -> Decimal:
        return round_fen(self.revenue / self.orders) if self.orders else ZERO

    @property
    def gross_margin(self) -> float | None:
        return _margin(self.part_sales, self.part_cost)

    @property
    def gross_profit(self) -> Decimal | None:
        return None if self.gross_margin is None else self.part_sales - self.part_cost

    @property
    def repeat_rate(self) -> float:
        return _share(self.repeat_customers, self.active_customers)

    @property
    def member_revenue_share(self) -> float:
        return _share(self.member_revenue, self.revenue)

    @property
    def referral_share(self) -> float:
        return _share(self.referral_revenue, self.revenue)


def _share(part: Decimal | int, whole: Decimal | int) -> float:
    return round(float(part) / float(whole), 4) if whole else 0.0


def _margin(sales: Decimal, cost: Decimal) -> float | None:
    return round(float((sales - cost) / sales), 4) if sales else None


# --- the range ---------------------------------------------------------------------------------


def dashboard_check(*, date_from: dt.date, date_to: dt.date, grain: str = "") -> None:
    """Refuse a reversed range, one longer than ``MAX_DAYS``, a date out of bounds, an unknown grain."""
    problems: dict[str, list[object]] = {}
    outside = [n for n, d in (("date_from", date_from), ("date_to", date_to)) if not FIRST_DATE <= d <= LAST_DATE]
    for name in outside:
        problems[name] = [forms.DateField.default_error_messages["invalid"]]
    if not outside:
        if date_to < date_from:
            problems["date_to"] = [errors.RANGE_REVERSED]
        elif (date_to - date_from).days + 1 > MAX_DAYS:
            problems["date_from"] = [ValidationError(errors.RANGE_TOO_LONG, params={"days": MAX_DAYS})]
    if grain and grain not in GRAINS:
        problems["grain"] = [errors.GRAIN_INVALID]
    if problems:
        raise ValidationError(problems)


def auto_grain(date_from: dt.date, date_to: dt.date) -> str:
    days = (date_to - date_from).days + 1
    return GRAIN_DAY if days <= DAYS_BY_DAY else GRAIN_WEEK if days <= DAYS_BY_WEEK else GRAIN_MONTH


def buckets(date_from: dt.date, date_to: dt.date, grain: str) -> list[tuple[dt.date, dt.date]]:
    """The days, weeks (Monday to Sunday) or calendar months of the range, the first and last clipped to it."""
    out = []
    day = date_from
    while day <= date_to:
        if grain == GRAIN_DAY:
            last = day
        elif grain == GRAIN_WEEK:
            last = day + dt.timedelta(days=6 - day.weekday())
        else:
            last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        last = min(last, date_to)
        out.append((day, last))
        day = last + dt.timedelta(days=1)
    return out


def _bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(date_from, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min))
    return start, end


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def _local_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


CHURNED = Q(to_stage="dormant")
WON_BACK = Q(reason=StageReason.RETURNED)


# --- the dashboard -----------------------------------------------------------------------------


def dashboard(
    *,
    organization: Organization | int,
    date_from: dt.date,
    date_to: dt.date,
    shop_id: int | None = None,
    grain: str = "",
    now: dt.datetime | None = None,
) -> Dashboard:
    """Every figure of the dashboard for ``date_from``..``date_to`` (local days) at a shop or all.

    Raises ValidationError (``date_from``, ``date_to``, ``grain``) for what
    ``dashboard_check``refuses. ``grain`` empty: chosen by the range's
    length (``auto_grain``). ``now`` (default: now) decides which first
    visits are old enough for each return rate and which cohort months have
    begun. The caller checks that ``shop_id`` is a shop of the organization.

    Seven queries, however long the range: 0 any stale day (if so, the
    facts' refresh first), 1 the daily facts by local day (revenue, members',
    referred customers', paid orders, costed part lines), 4 active and repeat
    customers (daily facts for ranges up to 366 days, live beyond), 5 new
    customers by source (daily facts), 6–7 return rates and
    cohorts (daily facts, one query), 8 churned and won back, 9 the items'
    daily facts by service and part. One more when the day from which a
    return window counts (now less 7, 30 or 90 days) is in the range: that
    day's new customers are measured one by one, to the minute.
    """
    dashboard_check(date_from=date_from, date_to=date_to, grain=grain)
    grain = grain or auto_grain(date_from, date_to)
    org = organization
    now = now or timezone.now()
    start, end = _bounds(date_from, date_to)

    # 0. The daily facts are brought up to date first (one query when nothing changed).
    org_id = org if isinstance(org, int) else org.pk
    if facts.facts_stale(org_id):
        facts.facts_refresh(org_id)

    r: Any  # a row of each grouped query in turn
    # 1. The money of each local day: payments, paid orders, costed part lines (daily facts).
    by_day_revenue: dict[dt.date, Decimal] = {}
    by_day_orders: dict[dt.date, int] = {}
    by_day_parts: dict[dt.date, tuple[Decimal, Decimal]] = {}
    member_revenue = referral_revenue = ZERO
    day_facts = DayFact.objects.for_org(org).filter(day__gte=date_from, day__lte=date_to)
    if shop_id:
        day_facts = day_facts.filter(shop_id=shop_id)
    for r in (
        day_facts.values("day")
        .annotate(
            revenue=Sum("revenue"),
            member=Sum("member_revenue"),
            referral=Sum("referral_revenue"),
            orders=Sum("orders"),
            sales=Sum("part_sales"),
            cost=Sum("part_cost"),
        )
        .order_by()
    ):
        day = _local_date(r["day"])
        by_day_revenue[day] = round_fen(r["revenue"] or ZERO)
        by_day_orders[day] = r["orders"] or 0
        by_day_parts[day] = (round_fen(r["sales"] or ZERO), round_fen(r["cost"] or ZERO))
        member_revenue += round_fen(r["member"] or ZERO)
        referral_revenue += round_fen(r["referral"] or ZERO)

    paid = paid_orders_in(org, start, end, shop_id)
    # 4. Active and repeat customers: from the daily facts up to a year, live beyond.
    if (date_to - date_from).days < facts.VISIT_FACT_DAYS:
        active, repeat = facts.active_and_repeat(org_id, date_from, date_to, shop_id)
    else:
        visits = paid.values("customer_id").annotate(n=Count("pk")).order_by()
        counted = visits.aggregate(active=Count("customer_id"), repeat=Count("customer_id", filter=Q(n__gte=2)))
        active, repeat = counted["active"] or 0, counted["repeat"] or 0

    # 5. New customers by source (daily facts).
    new_days = DayNewFact.objects.for_org(org).filter(day__gte=date_from, day__lte=date_to)
    if shop_id:
        new_days = new_days.filter(shop_id=shop_id)
    new_by_source = [
        SourceCount(key=r["source__code"] or "", label=r["source__label"] or _("Not given"), count=r["n"])
        for r in new_days.values("source__code", "source__label").annotate(n=Sum("customers")).order_by()
        if r["n"]
    ]
    new_by_source.sort(key=lambda s: (-s.count, s.key))

    # 6. Return rates: the days whose new customers are all old enough from the daily facts; the
    # day on which "old enough" falls (now less 7, 30, 90 days), its new customers one by one.
    local_now = timezone.localtime(now)
    edges = {days: local_now - dt.timedelta(days=days) for days in RETURN_WINDOWS}
    whole: dict[str, Any] = {}
    for days, edge in edges.items():
        before = Q(day__lt=edge.date())
        whole[f"m{days}"] = Sum("customers", filter=before)
        whole[f"r{days}"] = Sum(f"returned_{days}", filter=before)
    # 7. Cohorts: the new customers by the month of their first visit, from the daily facts (same query).
    months = [f"month_{k}" for k in range(1, COHORT_MONTHS + 1)]
    cohort_rows: list[Any] = list(
        new_days.annotate(cohort=TruncMonth("day"))
        .values("cohort")
        .annotate(size=Sum("customers"), **{m: Sum(m) for m in months}, **whole)
        .order_by()
    )
    measured = {days: sum(r[f"m{days}"] or 0 for r in cohort_rows) for days in RETURN_WINDOWS}
    returned = {days: sum(r[f"r{days}"] or 0 for r in cohort_rows) for days in RETURN_WINDOWS}
    edge_days = [edge.date() for edge in edges.values() if date_from <= edge.date() <= date_to]
    if edge_days:
        on_edge = Q()
        for edge_day in edge_days:
            day_start, day_end = _bounds(edge_day, edge_day)
            on_edge |= Q(first_visit_at__gte=day_start, first_visit_at__lt=day_end)
        windows = {}
        for days, edge in edges.items():
            day_start, _day_end = _bounds(edge.date(), edge.date())
            old_enough = Q(first_visit_at__gte=day_start, first_visit_at__lte=edge)
            windows[f"m{days}"] = Count("pk", filter=old_enough)
            windows[f"r{days}"] = Count("pk", filter=old_enough & Q(gap__lte=dt.timedelta(days=days)))
        edge_counts = (
            new_customers_in(org, start, end, shop_id)
            .filter(on_edge)
            .annotate(next_visit=next_visit(org))
            .annotate(gap=visit_gap())
            .aggregate(**windows)
        )
        for days in RETURN_WINDOWS:
            measured[days] += edge_counts[f"m{days}"]
            returned[days] += edge_counts[f"r{days}"]
    return_rates = [ReturnRate(days, measured[days], returned[days]) for days in RETURN_WINDOWS]
    this_month = local_now.date().replace(day=1)
    cohorts = [
        Cohort(
            month=_local_date(r["cohort"]).replace(day=1),
            size=r["size"],
            returned=[
                (r[f"month_{k}"] or 0)
                if _add_months(_local_date(r["cohort"]).replace(day=1), k) <= this_month
                else None
                for k in range(1, COHORT_MONTHS + 1)
            ],
        )
        for r in cohort_rows
        if r["size"]
    ]
    cohorts.sort(key=lambda c: c.month)

    # 8. Churned and won back: from the daily facts for every shop up to a year, live otherwise.
    if not shop_id and (date_to - date_from).days < facts.VISIT_FACT_DAYS:
        churned, won_back = facts.churned_and_won_back(org_id, date_from, date_to)
    else:
        # Only the two kinds of change are read (the stage index serves the churned).
        changes = (
            stage_changes_in(org, start, end, shop_id)
            .filter(CHURNED | WON_BACK)
            .aggregate(
                churned=Count("customer_id", filter=CHURNED, distinct=True),
                won_back=Count("customer_id", filter=WON_BACK, distinct=True),
            )
        )
        churned, won_back = changes["churned"], changes["won_back"]

    # 9. Top services and parts (line amounts, before any discount line; daily facts).
    item_days = DayItemFact.objects.for_org(org).filter(day__gte=date_from, day__lte=date_to)
    if shop_id:
        item_days = item_days.filter(shop_id=shop_id)
    items = (
        item_days.values("kind", "service_id", "part_id", "service__name", "part__name")
        .annotate(quantity=Sum("quantity"), revenue=Sum("revenue"), orders=Sum("orders"))
        .order_by()
    )
    top: dict[str, list[Item]] = {OrderLine.Kind.SERVICE: [], OrderLine.Kind.PART: []}
    for r in items:
        service = r["kind"] == OrderLine.Kind.SERVICE
        top[r["kind"]].append(
            Item(
                kind=r["kind"],
                id=r["service_id"] if service else r["part_id"],
                name=(r["service__name"] if service else r["part__name"]) or "",
                quantity=Decimal(r["quantity"]).quantize(Decimal("0.01")),
                revenue=round_fen(r["revenue"] or ZERO),
                orders=r["orders"],
            )
        )
    for kind in top:
        top[kind].sort(key=lambda i: (-i.revenue, -i.orders, i.name, i.id))

    series = []
    for first, last in buckets(date_from, date_to, grain):
        span = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        series.append(
            Point(
                date_from=first,
                date_to=last,
                revenue=sum((by_day_revenue.get(d, ZERO) for d in span), ZERO),
                orders=sum(by_day_orders.get(d, 0) for d in span),
                part_sales=sum((by_day_parts.get(d, (ZERO, ZERO))[0] for d in span), ZERO),
                part_cost=sum((by_day_parts.get(d, (ZERO, ZERO))[1] for d in span), ZERO),
            )
        )
    return Dashboard(
        date_from=date_from,
        date_to=date_to,
        shop_id=shop_id,
        grain=grain,
        revenue=sum(by_day_revenue.values(), ZERO),
        orders=sum(by_day_orders.values()),
        part_sales=sum((s for s, _c in by_day_parts.values()), ZERO),
        part_cost=sum((c for _s, c in by_day_parts.values()), ZERO),
        new_customers=sum(s.count for s in new_by_source),
        new_by_source=new_by_source,
        active_customers=active,
        repeat_customers=repeat,
        member_revenue=member_revenue,
        referral_revenue=referral_revenue,
        return_rates=return_rates,
        cohorts=cohorts,
        churned=churned,
        won_back=won_back,
        top_services=top[OrderLine.Kind.SERVICE][:TOP_ITEMS],
        top_parts=top[OrderLine.Kind.PART][:TOP_ITEMS],
        series=series,
    )


# --- the lists behind the figures --------------------------------------------------------------


def figure_orders(
    *, organization: Organization | int, figure: str, date_from: dt.date, date_to: dt.date, shop_id: int | None
) -> QuerySet[Any, Any] | None:
    """The orders behind an order figure of the dashboard (None: not an order figure).

    ``paid`` (orders), ``revenue``, ``member``, ``referral`` (orders with a
    payment in the range, of a member at the time, of a referred customer),
    ``margin`` (paid orders with a costed part line), ``service:<id>`` and
    ``part:<id>`` (paid orders with that item). A queryset of ids to filter
    a list with, in the list's own query.
    """
    org = organization
    start, end = _bounds(date_from, date_to)
    paid = paid_orders_in(org, start, end, shop_id)
    kind, _sep, ref = figure.partition(":")
    if figure == "paid":
        return paid.values("pk")
    if figure == "margin":
        return paid.filter(pk__in=costed_lines(org).values("order_id")).values("pk")
    if kind in ("service", "part") and ref.isdigit():
        lines = OrderLine.objects.for_org(org).filter(kind=kind, **{f"{kind}_id": int(ref)})
        return paid.filter(pk__in=lines.values("order_id")).values("pk")
    payments = payments_in(org, start, end, shop_id)
    if figure == "member":
        payments = payments.filter(member_when_paid(org, "order__customer_id", "at"))
    elif figure == "referral":
        payments = payments.filter(order__customer__referrer__isnull=False)
    elif figure != "revenue":
        return None
    return ServiceOrder.objects.for_org(org).filter(pk__in=payments.values("order_id")).values("pk")


def figure_customers(
    *,
    organization: Organization | int,
    figure: str,
    date_from: dt.date,
    date_to: dt.date,
    shop_id: int | None,
    now: dt.datetime | None = None,
) -> QuerySet[Any, Any] | None:
    """The customers behind a customer figure of the dashboard (None: not a customer figure).

    ``new`` (``new:<source code>``, ``new:`` for no source), ``active``,
    ``repeat``, ``return:<days>`` (returned in that many days) and
    ``return:<days>:measured`` (old enough to tell), ``cohort:<YYYY-MM>:<k>``
    (the month's new customers who paid in the k-th month after; 0: all of
    them), ``churned``, ``won_back``. A queryset of ids.
    """
    org = organization
    now = now or timezone.now()
    start, end = _bounds(date_from, date_to)
    parts = figure.split(":")
    name = parts[0]
    new = new_customers_in(org, start, end, shop_id)
    if name == "new" and len(parts) <= 2:
        if len(parts) == 2:
            new = new.filter(source__code=parts[1]) if parts[1] else new.filter(source__isnull=True)
        return new.values("pk")
    if name in ("active", "repeat"):
        visits = paid_orders_in(org, start, end, shop_id).values("customer_id").annotate(n=Count("pk")).order_by()
        if name == "repeat":
            visits = visits.filter(n__gte=2)
        return Customer.objects.for_org(org).filter(pk__in=visits.values("customer_id")).values("pk")
    if name == "return" and len(parts) in (2, 3) and parts[1].isdigit() and int(parts[1]) <= MAX_DAYS:
        days = int(parts[1])
        measured = new.filter(first_visit_at__lte=now - dt.timedelta(days=days))
        if len(parts) == 3:
            return measured.values("pk")
        returned = measured.annotate(next_visit=next_visit(org)).annotate(gap=visit_gap())
        return returned.filter(gap__lte=dt.timedelta(days=days)).values("pk")
    if name == "cohort" and len(parts) == 3 and parts[2].isdigit():
        try:
            month = dt.date.fromisoformat(f"{parts[1]}-01")
        except ValueError:
            return None
        k = int(parts[2])
        if not (FIRST_DATE <= month <= LAST_DATE - dt.timedelta(days=400) and k <= COHORT_MONTHS):
            return None
        first, last = _bounds(month, _add_months(month, 1) - dt.timedelta(days=1))
        members = new.filter(first_visit_at__gte=first, first_visit_at__lt=last)
        if k == 0:
            return members.values("pk")
        paid_from, paid_to = _bounds(_add_months(month, k), _add_months(month, k + 1) - dt.timedelta(days=1))
        orders = ServiceOrder.objects.for_org(org).filter(
            state=OrderState.PAID, paid_at__gte=paid_from, paid_at__lt=paid_to
        )
        return members.filter(pk__in=orders.values("customer_id")).values("pk")
    if name in ("churned", "won_back"):
        changes = stage_changes_in(org, start, end, shop_id).filter(CHURNED if name == "churned" else WON_BACK)
        return Customer.objects.for_org(org).filter(pk__in=changes.values("customer_id")).values("pk")
    return None


@dataclass(frozen=True)
class Behind:
    """A dashboard figure a list is narrowed to: what it is, and the ids of the rows behind it."""

    figure: str
    label: str
    date_from: dt.date
    date_to: dt.date
    shop_id: int | None
    ids: QuerySet[Any]

    def query(self) -> dict[str, Any]:
        """The parameters that ask for it again (kept by the list's own links)."""
        query: dict[str, Any] = {
            "figure": self.figure,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
        }
        if self.shop_id:
            query["figure_shop"] = self.shop_id
        return query


def _figure_label(figure: str) -> str:
    name, _sep, rest = figure.partition(":")
    labels = {
        "paid": _("Paid orders"),
        "revenue": _("Revenue"),
        "member": _("Revenue from members"),
        "referral": _("Revenue from referred customers"),
        "margin": _("Orders with parts of known cost"),
        "service": _("Orders with this service"),
        "part": _("Orders with this part"),
        "new": _("New customers"),
        "active": _("Active customers"),
        "repeat": _("Customers with two or more paid orders"),
        "churned": _("Turned dormant"),
        "won_back": _("Won back"),
        "cohort": _("Cohort of the first visit"),
    }
    if name == "return":
        days, _sep, measured = rest.partition(":")
        if measured:
            return _("New customers measured for a return within %(days)s days") % {"days": days}
        return _("New customers who came back within %(days)s days") % {"days": days}
    return str(labels.get(name, figure))


def figure_behind(*, organization: Organization | int, user: User, params: Any, of: str) -> Behind | None:
    """The figure a list was asked to show (``?figure=&from=&to=&figure_shop=``), or None.

    ``of`` is ``"orders"`` or ``"customers"``. A figure of the other kind, an
    unknown one, a malformed or refused range: None (the list shows as usual).
    Only for those who may see the dashboard (others get the list as usual).
    No query: the ids are a subquery of the list's own.
    """
    figure = str(params.get("figure", ""))[:40]
    if not figure or not user.has_role_perm(Perm.VIEW_DASHBOARD):
        return None
    try:
        date_from = dt.date.fromisoformat(str(params.get("from", "")))
        date_to = dt.date.fromisoformat(str(params.get("to", "")))
        dashboard_check(date_from=date_from, date_to=date_to)
    except (ValueError, ValidationError):
        return None
    shop = str(params.get("figure_shop", ""))[:18]  # fits a bigint
    shop_id = int(shop) if shop.isdigit() else None
    find = figure_orders if of == "orders" else figure_customers
    ids = find(organization=organization, figure=figure, date_from=date_from, date_to=date_to, shop_id=shop_id)
    if ids is None:
        return None
    return Behind(figure, _figure_label(figure), date_from, date_to, shop_id, ids)
