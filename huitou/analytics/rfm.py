"""RFM scores, segments, grades and churn risk of every customer: one set-based refresh per organization.

``scores_refresh`` is what the nightly job and ``huitou analytics rfm`` run.
It works in a few statements whatever the number of customers (no loop per
customer): the organization's typical visit interval, one INSERT ... SELECT
with window functions that writes or rewrites every customer's row
(``ON CONFLICT DO UPDATE``: the manual grade stays), one DELETE of rows of
files no longer active, and one UPDATE that applies the grade rules
(``grades_apply``, also run alone when the rules change).

Figures (the same on SQLite ≥ 3.25 and PostgreSQL):

- Paid orders are orders in state ``paid`` of active files (merged files
  are closed and their orders moved to the kept file, so they count once);
  voided orders are never paid. Orders of every shop count.
- Over the window (default the last 12 months: local days after the same
  day ``window_months`` ago, up to today): recency = days from the local
  day of the last paid order to today; frequency = paid orders; monetary =
  money received on them net of refunds (``amount_paid``: an adjustment
  down followed by its refund lowers it).
- Score rule (quintiles, ties deterministic): among the organization's
  customers with a paid order in the window, a customer's score is
  ``1 + ⌊5 × w / n⌋`` where ``n`` is how many are scored and ``w`` how many
  of them are strictly worse (for R: more days since the last order; for F:
  fewer orders; for M: less money). Equal values always get the same score;
  a tie takes the score of its lowest position. This is ``RANK()`` over the
  value: ``w = RANK() - 1``.
- Segment: each of R, F, M is high when its score is above the middle
  score 3 (4 or 5), low otherwise; the eight combinations are ``RfmSegment``.
- Churn risk over all paid history: the customer's rhythm is the mean
  number of days between their paid visits (distinct local days), rounded;
  a one-visit customer takes the organization's typical interval (the
  median of the repeat customers' rhythms, ``DEFAULT_INTERVAL_DAYS``
  without any). Gap = days since the last paid visit. High when the gap
  is at least twice the rhythm, medium from one and a half times, else low.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from huitou.analytics.models import (
    DEFAULT_WINDOW_MONTHS,
    SEGMENT_OF,
    CustomerScore,
    Grade,
    GradeRules,
    RfmSegment,
)
from huitou.customers.models import Customer
from huitou.loyalty.models import LoyaltyAccount, Tier
from huitou.service.models import OrderState, ServiceOrder
from huitou.tenancy.models import Organization

MIDDLE_SCORE = 3
# A one-visit customer's rhythm when the organization has no repeat customer yet.
DEFAULT_INTERVAL_DAYS = 180
# The gap, in rhythms, from which the churn risk is medium and high.
MEDIUM_FROM = Decimal("1.5")
HIGH_FROM = Decimal("2")

# Default grade rules, until the store manager sets them.
DEFAULT_A_SEGMENTS = [RfmSegment.IMPORTANT_VALUE.value]
DEFAULT_A_MIN_REFERRALS = 3
DEFAULT_B_SEGMENTS = [
    RfmSegment.IMPORTANT_DEVELOP.value,
    RfmSegment.IMPORTANT_KEEP.value,
    RfmSegment.IMPORTANT_WIN_BACK.value,
    RfmSegment.VALUE.value,
]


def _org_id(organization: Organization | int) -> int:
    return int(organization.pk if isinstance(organization, Organization) else organization)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier (the month's last day when it is shorter)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def window_start(today: dt.date, months: int) -> dt.date:
    """The first local day inside a window of ``months`` ending today."""
    return months_before(today, months) + dt.timedelta(days=1)


class _Sql:
    """The few expressions that differ between SQLite and PostgreSQL."""

    def __init__(self) -> None:
        self.pg = connection.vendor == "postgresql"

    def q(self, model: Any) -> str:
        return str(connection.ops.quote_name(model._meta.db_table))

    def day(self, column: str) -> str:
        """The local (shop time zone) day of a timestamp column."""
        if self.pg:
            return f"CAST(({column} AT TIME ZONE '{settings.TIME_ZONE}') AS date)"
        offset = timezone.localtime().utcoffset() or dt.timedelta(0)
        return f"date({column}, '{int(offset.total_seconds()) // 60:+d} minutes')"

    def date(self, value: dt.date) -> str:
        return f"DATE '{value.isoformat()}'" if self.pg else f"'{value.isoformat()}'"

    def days(self, later: str, earlier: str) -> str:
        if self.pg:
            return f"({later} - {earlier})"
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

    def money(self, expression: str) -> str:
        # On SQLite a SUM of decimals is a float sum.
        return expression if self.pg else f"ROUND({expression}, 2)"


@dataclass(frozen=True)
class Rules:
    a_segments: list[str]
    a_min_referrals: int | None
    a_min_tier_rank: int | None
    b_segments: list[str]
    b_min_referrals: int | None
    b_min_tier_rank: int | None
    window_months: int


def grade_rules(*, organization: Organization | int) -> GradeRules:
    """The organization's grade rules (unsaved defaults when none are set)."""
    org_id = _org_id(organization)
    found = GradeRules.objects.for_org(org_id).select_related("a_min_tier", "b_min_tier").first()
    if found is not None:
        return found
    return GradeRules(
        organization_id=org_id,
        a_segments=list(DEFAULT_A_SEGMENTS),
        a_min_referrals=DEFAULT_A_MIN_REFERRALS,
        b_segments=list(DEFAULT_B_SEGMENTS),
        window_months=DEFAULT_WINDOW_MONTHS,
    )


def _rules(organization_id: int) -> Rules:
    r = grade_rules(organization=organization_id)
    return Rules(
        a_segments=[s for s in r.a_segments if s in RfmSegment.values],
        a_min_referrals=r.a_min_referrals,
        a_min_tier_rank=r.a_min_tier.rank if r.a_min_tier else None,
        b_segments=[s for s in r.b_segments if s in RfmSegment.values],
        b_min_referrals=r.b_min_referrals,
        b_min_tier_rank=r.b_min_tier.rank if r.b_min_tier else None,
        window_months=r.window_months,
    )


def _paid_orders(sql: _Sql, org: int) -> str:
    """Paid orders of active files, with their local day."""
    orders, customers = sql.q(ServiceOrder), sql.q(Customer)
    return (
        f"SELECT o.customer_id, o.amount_paid, {sql.day('o.paid_at')} AS day "  # noqa: S608
        f"FROM {orders} o JOIN {customers} c ON c.id = o.customer_id AND c.organization_id = o.organization_id "
        f"WHERE o.organization_id = {org} AND o.state = '{OrderState.PAID.value}' AND o.paid_at IS NOT NULL "
        "AND c.deleted_at IS NULL"
    )


def _visits(sql: _Sql, org: int) -> str:
    """Per customer over all history: distinct visit days, first and last."""
    return (
        "SELECT customer_id, COUNT(DISTINCT day) AS visit_days, MIN(day) AS first_day, MAX(day) AS last_day "  # noqa: S608
        f"FROM ({_paid_orders(sql, org)}) p GROUP BY customer_id"
    )


def typical_interval(*, organization: Organization | int) -> int:
    """The median of the repeat customers' rhythms (mean days between visits), rounded; a default without any."""
    sql, org = _Sql(), _org_id(organization)
    rhythm = f"{sql.days('last_day', 'first_day')} * 1.0 / (visit_days - 1)"
    statement = (
        "SELECT AVG(iv) FROM ("  # noqa: S608
        "SELECT iv, ROW_NUMBER() OVER (ORDER BY iv) AS rn, COUNT(*) OVER () AS n FROM ("
        f"SELECT {rhythm} AS iv FROM ({_visits(sql, org)}) v WHERE visit_days > 1) r"
        ") ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2)"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement)
        value = cursor.fetchone()[0]
    return DEFAULT_INTERVAL_DAYS if value is None else max(1, int(Decimal(str(value)).quantize(Decimal(1))))


def _segment_case() -> str:
    high = {name: f"{name} > {MIDDLE_SCORE}" for name in ("r", "f", "m")}
    whens = " ".join(
        f"WHEN {high['r'] if rh else 'NOT ' + high['r']} AND {high['f'] if fh else 'NOT ' + high['f']} "
        f"AND {high['m'] if mh else 'NOT ' + high['m']} THEN '{segment}'"
        for (rh, fh, mh), segment in SEGMENT_OF.items()
    )
    return f"CASE WHEN r IS NULL THEN '' {whens} END"


def _score(order: str) -> str:
    """1 + ⌊5 × (customers strictly worse) / (customers scored)⌋: ties share a score (see the module)."""
    return f"(1 + 5 * (RANK() OVER (ORDER BY {order}) - 1) / COUNT(*) OVER ())"


def _rounded_interval(sql: _Sql, typical: int) -> str:
    span = sql.days("v.last_day", "v.first_day")
    return (
        f"CASE WHEN v.visit_days > 1 THEN CAST(ROUND({span} * 1.0 / (v.visit_days - 1)) AS INTEGER) ELSE {typical} END"
    )


def _grade_condition(segments: list[str], min_referrals: int | None, min_rank: int | None, sql: _Sql, org: int) -> str:
    parts = []
    if segments:
        parts.append("segment IN (" + ", ".join(f"'{s}'" for s in segments) + ")")
    if min_referrals is not None:
        parts.append(f"referrals >= {int(min_referrals)}")
    if min_rank is not None:
        accounts, tiers = sql.q(LoyaltyAccount), sql.q(Tier)
        parts.append(
            f"EXISTS (SELECT 1 FROM {accounts} la JOIN {tiers} t ON t.id = la.tier_id "  # noqa: S608
            f"WHERE la.organization_id = {org} AND la.customer_id = {sql.q(CustomerScore)}.customer_id "
            f"AND t.rank >= {int(min_rank)})"
        )
    return "(" + " OR ".join(parts) + ")" if parts else "(1 = 0)"


def scores_refresh(*, organization: Organization | int, today: dt.date | None = None) -> int:
    """Recompute every customer's RFM, segment, grade and churn risk; the number of rows kept.

    Idempotent: run twice on the same day, it leaves the same rows (only
    ``computed_at`` moves). The manual grade and its reason are kept.
    """
    org = _org_id(organization)
    today = today or timezone.localdate()
    sql = _Sql()
    rules = _rules(org)
    since = window_start(today, rules.window_months)
    typical = typical_interval(organization=org)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    scores, customers = sql.q(CustomerScore), sql.q(Customer)
    today_sql = sql.date(today)
    windowed = (
        "SELECT customer_id, recency_days, frequency, monetary, "  # noqa: S608
        f"{_score('recency_days DESC')} AS r, {_score('frequency')} AS f, {_score('monetary')} AS m FROM ("
        f"SELECT customer_id, {sql.days(today_sql, 'MAX(day)')} AS recency_days, COUNT(*) AS frequency, "
        f"{sql.money('SUM(amount_paid)')} AS monetary "
        f"FROM ({_paid_orders(sql, org)}) p WHERE day >= {sql.date(since)} GROUP BY customer_id) agg"
    )
    referrals = (
        f"SELECT referrer_id, COUNT(*) AS n FROM {customers} "  # noqa: S608
        f"WHERE organization_id = {org} AND referrer_id IS NOT NULL AND deleted_at IS NULL "
        "AND converted_at IS NOT NULL GROUP BY referrer_id"
    )
    interval = _rounded_interval(sql, typical)
    gap = sql.days(today_sql, "v.last_day")
    churn = (
        f"CASE WHEN v.last_day IS NULL THEN '' "
        f"WHEN {gap} * 1.0 >= {HIGH_FROM} * ({interval}) THEN 'high' "
        f"WHEN {gap} * 1.0 >= {MEDIUM_FROM} * ({interval}) THEN 'medium' ELSE 'low' END"
    )
    base = (
        "SELECT c.id AS customer_id, w.recency_days, COALESCE(w.frequency, 0) AS frequency, "  # noqa: S608
        "COALESCE(w.monetary, 0) AS monetary, w.r, w.f, w.m, COALESCE(ref.n, 0) AS referrals, "
        f"COALESCE(v.visit_days, 0) AS visit_days, "
        f"CASE WHEN v.last_day IS NULL THEN NULL ELSE {interval} END AS interval_days, "
        f"CASE WHEN v.last_day IS NULL THEN NULL ELSE {gap} END AS gap_days, {churn} AS churn_risk "
        f"FROM {customers} c "
        f"LEFT JOIN ({_visits(sql, org)}) v ON v.customer_id = c.id "
        f"LEFT JOIN ({windowed}) w ON w.customer_id = c.id "
        f"LEFT JOIN ({referrals}) ref ON ref.referrer_id = c.id "
        f"LEFT JOIN {scores} s ON s.customer_id = c.id AND s.organization_id = {org} "
        f"WHERE c.organization_id = {org} AND c.deleted_at IS NULL "
        "AND (v.customer_id IS NOT NULL OR ref.n > 0 OR s.grade_override <> '')"
    )
    columns = (
        "recency_days, frequency, monetary, r, f, m, segment, referrals, visit_days, interval_days, gap_days, "
        "churn_risk"
    )
    upsert = (
        f"INSERT INTO {scores} (organization_id, customer_id, computed_at, {columns}, grade, "  # noqa: S608
        "grade_override, grade_reason) "
        f"SELECT {org}, customer_id, %s, recency_days, frequency, monetary, r, f, m, {_segment_case()}, referrals, "
        f"visit_days, interval_days, gap_days, churn_risk, '{Grade.C.value}', '', '' FROM ({base}) b WHERE 1 = 1 "
        "ON CONFLICT (customer_id) DO UPDATE SET computed_at = excluded.computed_at, "
        + ", ".join(f"{c} = excluded.{c}" for c in columns.replace(" ", "").split(","))
    )
    stale = f"DELETE FROM {scores} WHERE organization_id = {org} AND computed_at <> %s"  # noqa: S608
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(upsert, [now])
            cursor.execute(stale, [now])
        grades_apply(organization=org, rules=rules)
    return CustomerScore.objects.for_org(org).count()


def grades_apply(*, organization: Organization | int, rules: Rules | None = None) -> None:
    """Apply the grade rules to every scored customer: one UPDATE (the manual grades stay on top)."""
    org = _org_id(organization)
    rules = rules or _rules(org)
    sql = _Sql()
    a = _grade_condition(rules.a_segments, rules.a_min_referrals, rules.a_min_tier_rank, sql, org)
    b = _grade_condition(rules.b_segments, rules.b_min_referrals, rules.b_min_tier_rank, sql, org)
    grades = (
        f"UPDATE {sql.q(CustomerScore)} SET grade = CASE WHEN {a} THEN 'A' WHEN {b} THEN 'B' ELSE 'C' END "  # noqa: S608
        f"WHERE organization_id = {org}"
    )
    with connection.cursor() as cursor:
        cursor.execute(grades)


# --- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreBand:
    score: int
    customers: int
    low: Any  # the range of values with this score (days, orders or yuan)
    high: Any


@dataclass(frozen=True)
class RfmSummary:
    segments: list[tuple[str, str, int]]  # (code, label, customers), in ``RfmSegment`` order
    scored: int
    bands: dict[str, list[ScoreBand]]  # "r", "f", "m" → score 5 down to 1
    computed_at: dt.datetime | None


VALUE_OF = {"r": "recency_days", "f": "frequency", "m": "monetary"}


def rfm_summary(*, organization: Organization | int) -> RfmSummary:
    """Segment counts and the cut points of each score. Queries: 1 segments, 3 bands (one per letter)."""
    org = _org_id(organization)
    # Files deleted since the last refresh drop out at once (their rows go at the next refresh).
    scored = CustomerScore.objects.for_org(org).exclude(segment="").filter(customer__deleted_at__isnull=True)
    counts = {row["segment"]: row for row in scored.values("segment").annotate(n=Count("pk"), at=Max("computed_at"))}
    segments = [(s.value, str(s.label), counts[s.value]["n"] if s.value in counts else 0) for s in RfmSegment]
    bands: dict[str, list[ScoreBand]] = {}
    for letter, value in VALUE_OF.items():
        rows = scored.values(letter).annotate(n=Count("pk"), lo=Min(value), hi=Max(value)).order_by(f"-{letter}")
        bands[letter] = [
            ScoreBand(score=row[letter], customers=row["n"], low=_plain(row["lo"]), high=_plain(row["hi"]))
            for row in rows
        ]
    at = max((row["at"] for row in counts.values()), default=None)
    return RfmSummary(segments=segments, scored=sum(n for _, _, n in segments), bands=bands, computed_at=at)


def _plain(value: Any) -> Any:
    if isinstance(value, float):  # SQLite's decimals
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return value
