"""Daily facts: each local day's figures, kept so a year of the dashboard reads a few hundred rows.

The definitions stay where they are (``dashboard``, ``staff``): a fact is
what the live statement gives for one day, written down. How they are kept:

- Whatever changes a day's figure marks that day stale (``days_mark``,
  ``times_mark``, ``customers_mark``, ``first_visits_mark_ids``) in the transaction
  that made the change: a payment or a refund, an order paid, a merge, a
  referrer set, an import. A stale day is one row (``StaleDay``) whose
  version goes up with every mark.
- ``facts_refresh`` computes the stale days again from the live tables, one
  run of consecutive days at a time, with every writer of ``DAY_WRITERS``,
  and removes the marks whose version it read: a change committed while it
  ran leaves its mark for the next refresh. After a mark's transaction
  commits, a huey task refreshes the organization; whoever reads facts
  refreshes what is still stale first, so what they show is never behind.
- ``facts_rebuild`` computes a whole range (the first run, data written
  around the services, a repair): ``huitou analytics facts``.

Refreshes of one organization take turns (a transaction-level advisory lock
on PostgreSQL; SQLite has one writer at a time anyway).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from huitou.analytics.models import DayChangeFact, DayFact, DayItemFact, DayNewFact, DayVisitFact, StaleDay
from huitou.analytics.sets import costed_lines, member_when_paid, paid_orders_in, payments_in
from huitou.customers.models import Customer
from huitou.lib.marks import marks_raise
from huitou.lib.money import round_fen
from huitou.lifecycle.models import StageChange, StageReason
from huitou.service.models import OrderLine, OrderState, Payment, ServiceOrder

ZERO = Decimal("0.00")
# The days one transaction of a rebuild covers (a quarter).
REBUILD_DAYS = 92
# Stale marks removed per statement (each is a (day, version) condition).
UNMARK_BATCH = 500
# pg_advisory_xact_lock(key, organization): the first key of the facts' locks.
LOCK_KEY = 0x6874_6661  # "htfa"

# Who writes facts for a run of days: (organization id, first day, last day) → None. Each deletes
# what it had for those days and writes them again from the live tables.
DayWriter = Callable[[int, dt.date, dt.date], None]
DAY_WRITERS: list[DayWriter] = []
# Where the facts' history starts and ends, per writer's data: organization id → instants (None: nothing).
SpanReader = Callable[[int], list[dt.datetime | None]]
SPAN_READERS: list[SpanReader] = []


def day_writer(writer: DayWriter) -> DayWriter:
    """Register a writer of daily facts (a decorator)."""
    DAY_WRITERS.append(writer)
    return writer


def local_day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date() if timezone.is_aware(at) else at.date()


def bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants from the start of ``first`` to the start of the day after ``last`` (local time)."""
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min))
    return start, end


# --- marking ---------------------------------------------------------------------------------------


def days_mark(organization_id: int, days: Iterable[dt.date]) -> None:
    """Mark local days stale, in the caller's transaction; a refresh is queued for after it commits.

    One statement: an insert that raises the version of a day already stale.
    """
    marked = sorted(set(days))
    if not marked:
        return
    marks_raise(StaleDay, ["organization_id", "day"], [(organization_id, day) for day in marked])
    _refresh_after_commit(organization_id)


def paid_order_mark(organization_id: int, *, customer_id: int, paid_at: dt.datetime, within: dt.timedelta) -> None:
    """Mark the day an order was paid and, when that is within ``within`` after the customer's first
    paid visit, the day of that first visit (whose returns and cohort it moves): one statement, the
    first visit read inside it."""
    table = connection.ops.quote_name(StaleDay._meta.db_table)
    customers = connection.ops.quote_name(Customer._meta.db_table)
    tzname = timezone.get_current_timezone_name()
    first_day, first_params = connection.ops.datetime_cast_date_sql("first_visit_at", (), tzname)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (organization_id, day, version) "  # noqa: S608
            "SELECT %s, day, 1 FROM ("
            "SELECT %s AS day "
            f"UNION SELECT {first_day} AS day FROM {customers} "
            "WHERE organization_id = %s AND id = %s AND first_visit_at < %s AND first_visit_at >= %s"
            ") AS marked WHERE true "  # WHERE: SQLite reads ON CONFLICT after a bare SELECT as a join's ON
            f"ON CONFLICT (organization_id, day) DO UPDATE SET version = {table}.version + 1",
            [
                organization_id,
                local_day(paid_at),
                *first_params,
                organization_id,
                customer_id,
                _param(paid_at),
                _param(paid_at - within),
            ],
        )
    _refresh_after_commit(organization_id)


def times_mark(organization_id: int, times: Iterable[dt.datetime | None]) -> None:
    """Mark the local days of these instants stale (None is skipped)."""
    days_mark(organization_id, {local_day(t) for t in times if t is not None})


def customer_days(organization_id: int, customer_ids: Iterable[int]) -> set[dt.date]:
    """Every local day with a payment or a paid order of these customers (two queries; none without ids)."""
    ids = list(customer_ids)
    if not ids:
        return set()
    tz = timezone.get_current_timezone()
    payments = (
        Payment.objects.for_org(organization_id)
        .filter(order__customer_id__in=ids)
        .annotate(day=TruncDate("at", tzinfo=tz))
        .values_list("day", flat=True)
        .distinct()
    )
    paid = (
        ServiceOrder.objects.for_org(organization_id)
        .filter(customer_id__in=ids, state=OrderState.PAID)
        .annotate(day=TruncDate("paid_at", tzinfo=tz))
        .values_list("day", flat=True)
        .distinct()
    )
    return {_as_date(d) for d in [*payments, *paid] if d is not None}


def customers_mark(organization_id: int, customer_ids: Iterable[int]) -> None:
    """Mark stale every day with a payment or a paid order of these customers (their figures moved)."""
    days_mark(organization_id, customer_days(organization_id, customer_ids))


def _param(value: dt.datetime) -> Any:
    """A time as a parameter of raw SQL: as the ORM would write it (SQLite: naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def _as_date(value: dt.date | dt.datetime | str) -> dt.date:
    if isinstance(value, str):  # SQLite hands back the text of a date
        return dt.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, dt.datetime) else value


class _RefreshLater:
    """The refresh queued for after the commit: one per organization and transaction, however many marks."""

    def __init__(self, organization_id: int) -> None:
        self.organization_id = organization_id

    def __call__(self) -> None:
        from huitou.analytics.tasks import facts_refresh_for  # noqa: PLC0415 - tasks import this module

        facts_refresh_for(self.organization_id)


def _refresh_after_commit(organization_id: int) -> None:
    waiting = transaction.get_connection().run_on_commit
    if not any(isinstance(f, _RefreshLater) and f.organization_id == organization_id for _ids, f, *_ in waiting):
        transaction.on_commit(_RefreshLater(organization_id))


# --- computing -------------------------------------------------------------------------------------


def _lock(organization_id: int) -> None:
    """Wait for another refresh of the organization to finish (until the transaction ends)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_KEY, organization_id])


def _runs(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) runs."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + dt.timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _unmark(organization_id: int, stale: list[tuple[dt.date, int]]) -> None:
    for n in range(0, len(stale), UNMARK_BATCH):
        answered = Q()
        for day, version in stale[n : n + UNMARK_BATCH]:
            answered |= Q(day=day, version=version)
        StaleDay.objects.for_org(organization_id).filter(answered).delete()


def facts_stale(organization_id: int) -> bool:
    """Whether any day of the organization waits for a refresh (one query)."""
    return StaleDay.objects.for_org(organization_id).exists()


def facts_refresh(organization_id: int) -> int:
    """Compute the stale days of the organization again; the number of days done.

    One transaction: the lock, the stale marks, each writer per run of
    consecutive days, the answered marks removed.
    """
    with transaction.atomic():
        _lock(organization_id)
        stale = list(StaleDay.objects.for_org(organization_id).order_by("day").values_list("day", "version"))
        for first, last in _runs([day for day, _version in stale]):
            for writer in DAY_WRITERS:
                writer(organization_id, first, last)
        _unmark(organization_id, stale)
    return len(stale)


def day_span(reader: SpanReader) -> SpanReader:
    """Register a reader of the first and last instant some writer's facts come from (a decorator)."""
    SPAN_READERS.append(reader)
    return reader


@day_span
def money_span(organization_id: int) -> list[dt.datetime | None]:
    """The first and last payment, and the first and last order paid."""
    payments = Payment.objects.for_org(organization_id).aggregate(first=Min("at"), last=Max("at"))
    paid = ServiceOrder.objects.for_org(organization_id).filter(state=OrderState.PAID)
    orders = paid.aggregate(first=Min("paid_at"), last=Max("paid_at"))
    return [payments["first"], payments["last"], orders["first"], orders["last"]]


def facts_span(organization_id: int) -> tuple[dt.date, dt.date] | None:
    """The first and last local day any writer has something for (None: nothing yet)."""
    times = [t for reader in SPAN_READERS for t in reader(organization_id) if t is not None]
    if not times:
        return None
    return local_day(min(times)), local_day(max(times))


def facts_rebuild(
    organization_id: int,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    chunk_days: int = REBUILD_DAYS,
    progress: Callable[[dt.date, dt.date], None] | None = None,
) -> int:
    """Compute every day from ``date_from`` to ``date_to`` (default: the whole history); the days done.

    One transaction per ``chunk_days`` days (resumable: pass the next
    ``date_from``); the stale marks inside a chunk are answered by it. Days
    outside the range keep their facts.
    """
    span = facts_span(organization_id)
    if date_from is None or date_to is None:
        if span is None:
            return 0
        date_from = date_from or span[0]
        date_to = date_to or max(span[1], timezone.localdate())
    done = 0
    first = date_from
    while first <= date_to:
        last = min(first + dt.timedelta(days=chunk_days - 1), date_to)
        with transaction.atomic():
            _lock(organization_id)
            stale = list(
                StaleDay.objects.for_org(organization_id)
                .filter(day__gte=first, day__lte=last)
                .values_list("day", "version")
            )
            for writer in DAY_WRITERS:
                writer(organization_id, first, last)
            _unmark(organization_id, stale)
        done += (last - first).days + 1
        if progress is not None:
            progress(first, last)
        first = last + dt.timedelta(days=1)
    return done


# --- the dashboard's money and items ----------------------------------------------------------------

MONEY = DecimalField(max_digits=14, decimal_places=2)


@day_writer
def money_days_write(organization_id: int, first: dt.date, last: dt.date) -> None:
    """``DayFact`` of the days: payments (revenue, members', referred), paid orders, costed part lines.

    Three grouped reads by shop and local day (the dashboard's statements),
    one delete, one insert.
    """
    org = organization_id
    tz = timezone.get_current_timezone()
    start, end = bounds(first, last)
    facts: dict[tuple[int, dt.date], dict[str, Any]] = {}
    r: Any  # a row of each grouped read in turn

    def fact(shop_id: int, day: Any) -> dict[str, Any]:
        return facts.setdefault((shop_id, _as_date(day)), {})

    for r in (
        payments_in(org, start, end, None)
        .annotate(day=TruncDate("at", tzinfo=tz))
        .values("order__shop_id", "day")
        .annotate(
            revenue=Sum("amount"),
            member=Sum("amount", filter=Q(member_when_paid(org, "order__customer_id", "at"))),
            referral=Sum("amount", filter=Q(order__customer__referrer__isnull=False)),
        )
        .order_by()
    ):
        row = fact(r["order__shop_id"], r["day"])
        row["revenue"] = round_fen(r["revenue"] or ZERO)
        row["member_revenue"] = round_fen(r["member"] or ZERO)
        row["referral_revenue"] = round_fen(r["referral"] or ZERO)

    paid = paid_orders_in(org, start, end, None)
    for r in (
        paid.annotate(day=TruncDate("paid_at", tzinfo=tz)).values("shop_id", "day").annotate(n=Count("pk")).order_by()
    ):
        fact(r["shop_id"], r["day"])["orders"] = r["n"]

    for r in (
        costed_lines(org)
        .filter(order__in=paid.values("pk"))
        .annotate(day=TruncDate("order__paid_at", tzinfo=tz))
        .values("order__shop_id", "day")
        .annotate(
            sales=Sum("amount"),
            cost=Sum(
                ExpressionWrapper(F("unit_cost") * F("quantity"), output_field=MONEY),
                filter=Q(kind=OrderLine.Kind.PART),
            ),
        )
        .order_by()
    ):
        row = fact(r["order__shop_id"], r["day"])
        row["part_sales"] = round_fen(r["sales"] or ZERO)
        row["part_cost"] = round_fen(r["cost"] or ZERO)

    DayFact.objects.for_org(org).filter(day__gte=first, day__lte=last).delete()
    DayFact.objects.bulk_create(
        [DayFact(organization_id=org, shop_id=shop_id, day=day, **row) for (shop_id, day), row in facts.items()],
        batch_size=1000,
    )


@day_writer
def item_days_write(organization_id: int, first: dt.date, last: dt.date) -> None:
    """``DayItemFact`` of the days: the service and part lines of the orders paid, by shop, day and item.

    One grouped read, one delete, one insert.
    """
    org = organization_id
    tz = timezone.get_current_timezone()
    start, end = bounds(first, last)
    rows = (
        OrderLine.objects.for_org(org)
        .filter(
            order__in=paid_orders_in(org, start, end, None).values("pk"),
            kind__in=[OrderLine.Kind.SERVICE, OrderLine.Kind.PART],
        )
        .annotate(day=TruncDate("order__paid_at", tzinfo=tz))
        .values("order__shop_id", "day", "kind", "service_id", "part_id")
        .annotate(
            quantity=Coalesce(Sum("quantity"), Value(Decimal("0"))),
            revenue=Sum("amount"),
            orders=Count("order_id", distinct=True),
        )
        .order_by()
    )
    items = [
        DayItemFact(
            organization_id=org,
            shop_id=r["order__shop_id"],
            day=_as_date(r["day"]),
            kind=r["kind"],
            service_id=r["service_id"],
            part_id=r["part_id"],
            quantity=Decimal(r["quantity"]).quantize(Decimal("0.01")),
            revenue=round_fen(r["revenue"] or ZERO),
            orders=r["orders"],
        )
        for r in rows
    ]
    DayItemFact.objects.for_org(org).filter(day__gte=first, day__lte=last).delete()
    DayItemFact.objects.bulk_create(items, batch_size=1000)


# --- the dashboard's new customers, their returns and cohorts -----------------------------------------

RETURN_WINDOWS = (7, 30, 90)
COHORT_MONTHS = 12


def _months_between(first: dt.date, later: dt.date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


@day_writer
def new_days_write(organization_id: int, first: dt.date, last: dt.date) -> None:
    """``DayNewFact`` of the days: the files whose first paid visit was on them, with their later visits.

    Two reads (the new customers with the shop of the first visit; their paid
    orders of the 13 months after it), one delete, one insert. Deleted files
    are left out, as in every customer figure.
    """
    org = organization_id
    start, end = bounds(first, last)
    new: list[Any] = list(
        Customer.objects.for_org(org)
        .filter(deleted_at__isnull=True, first_visit_at__gte=start, first_visit_at__lt=end)
        .values_list("pk", "first_visit_at", "source_id")
    )
    rows: dict[tuple[int, dt.date, int | None], dict[str, int]] = {}
    if new:
        firsts = {pk: at for pk, at, _source in new}
        later = (
            ServiceOrder.objects.for_org(org)
            .filter(
                customer_id__in=firsts,
                state=OrderState.PAID,
                paid_at__gte=start,
                paid_at__lt=end + dt.timedelta(days=31 * (COHORT_MONTHS + 1)),
            )
            .order_by("customer_id", "paid_at", "pk")
            .values_list("customer_id", "paid_at", "shop_id")
        )
        visits: dict[int, list[Any]] = {}
        for customer_id, paid_at, paid_shop in later.iterator(chunk_size=5000):
            visits.setdefault(customer_id, []).append((paid_at, paid_shop))
        for pk, first_at, source_id in new:
            theirs = visits.get(pk, [])
            shop_id = next((shop for at, shop in theirs if at == first_at), None)
            if shop_id is None:  # no paid order at that instant any more: counted when the file is refreshed
                continue
            row = rows.setdefault((shop_id, local_day(first_at), source_id), {"customers": 0})
            row["customers"] += 1
            after = [at for at, _shop in theirs if at > first_at]
            if after:
                gap = after[0] - first_at
                for days in RETURN_WINDOWS:
                    if gap <= dt.timedelta(days=days):
                        row[f"returned_{days}"] = row.get(f"returned_{days}", 0) + 1
            first_day = local_day(first_at)
            for k in {_months_between(first_day, local_day(at)) for at, _shop in theirs}:
                if 1 <= k <= COHORT_MONTHS:
                    row[f"month_{k}"] = row.get(f"month_{k}", 0) + 1
    DayNewFact.objects.for_org(org).filter(day__gte=first, day__lte=last).delete()
    DayNewFact.objects.bulk_create(
        [
            DayNewFact(organization_id=org, shop_id=shop_id, day=day, source_id=source_id, **counts)
            for (shop_id, day, source_id), counts in rows.items()
        ],
        batch_size=1000,
    )


def first_visit_days(organization_id: int, customer_ids: Iterable[int]) -> set[dt.date]:
    """The local days of these files' first paid visits (one query; none without ids)."""
    ids = list(customer_ids)
    if not ids:
        return set()
    firsts = Customer.objects.for_org(organization_id).filter(pk__in=ids, first_visit_at__isnull=False)
    return {local_day(at) for at in firsts.values_list("first_visit_at", flat=True) if at is not None}


def first_visits_mark_ids(organization_id: int, customer_ids: Iterable[int]) -> None:
    """Mark the days of these files' first visits stale, read from the database (one query)."""
    days_mark(organization_id, first_visit_days(organization_id, customer_ids))


# --- active and repeat customers ---------------------------------------------------------------------
#
# A customer is active in days s..e when one of their paid orders falls in it; the first such order
# is the one whose previous paid order (the customer's, any shop) is before s. So with g1 the days
# from an order's local day d back to its previous order's (none: GAP_CAP), the active customers
# are the orders of s..e with g1 > d - s. A repeat customer (two or more orders in s..e) is counted
# by their second order there: g1 <= d - s < g2, g2 the days back to the last-but-one. Since
# g1 < g2, #{g1 <= k < g2} = #{g1 <= k} - #{g2 <= k}: a day needs only how many of its orders have
# each g1 and each g2, whatever the range asking. The same with a shop's own orders.

GAP_CAP = 367  # gaps of this many days or more (or none) are all "long ago": ranges up to 366 days
VISIT_FACT_DAYS = GAP_CAP - 1


def _gap(day: dt.date, before: dt.datetime | None) -> int:
    return GAP_CAP if before is None else min((day - local_day(before)).days, GAP_CAP)


@day_writer
def visit_days_write(organization_id: int, first: dt.date, last: dt.date) -> None:
    """``DayVisitFact`` of the days: per day (and shop) how many paid orders had each gap to the
    customer's previous two paid orders (of any shop, and of the same shop).

    One read (the days' paid orders with the four previous times, by window
    functions over the customers' orders of the ``GAP_CAP`` days before), one
    delete, one insert.
    """
    org = organization_id
    start, end = bounds(first, last)
    lookback = start - dt.timedelta(days=GAP_CAP + 1)
    orders = connection.ops.quote_name(ServiceOrder._meta.db_table)
    paid = OrderState.PAID.value
    sql = (
        "SELECT paid_at, shop_id, p1, p2, s1, s2 FROM ("  # noqa: S608
        "SELECT paid_at, shop_id, "
        "LAG(paid_at, 1) OVER w AS p1, LAG(paid_at, 2) OVER w AS p2, "
        "LAG(paid_at, 1) OVER ws AS s1, LAG(paid_at, 2) OVER ws AS s2 "
        f"FROM {orders} WHERE organization_id = %s AND state = %s AND paid_at >= %s AND paid_at < %s "
        f"AND customer_id IN (SELECT customer_id FROM {orders} "
        "WHERE organization_id = %s AND state = %s AND paid_at >= %s AND paid_at < %s) "
        "WINDOW w AS (PARTITION BY customer_id ORDER BY paid_at, id), "
        "ws AS (PARTITION BY customer_id, shop_id ORDER BY paid_at, id)"
        ") AS visits WHERE paid_at >= %s"
    )
    counts: dict[tuple[int | None, dt.date, int], list[int]] = {}

    def count(shop_id: int | None, day: dt.date, gap: int, which: int) -> None:
        counts.setdefault((shop_id, day, gap), [0, 0])[which] += 1

    with connection.cursor() as cursor:
        lookback, start, end = (_param(t) for t in (lookback, start, end))
        cursor.execute(sql, [org, paid, lookback, end, org, paid, start, end, start])
        for paid_at, shop_id, p1, p2, s1, s2 in cursor.fetchall():
            p1, p2, s1, s2 = (_aware(t) for t in (p1, p2, s1, s2))
            day = local_day(_aware(paid_at) or paid_at)
            count(None, day, _gap(day, p1), 0)
            count(None, day, _gap(day, p2), 1)
            count(shop_id, day, _gap(day, s1), 0)
            count(shop_id, day, _gap(day, s2), 1)
    DayVisitFact.objects.for_org(org).filter(day__gte=first, day__lte=last).delete()
    DayVisitFact.objects.bulk_create(
        [
            DayVisitFact(
                organization_id=org,
                shop_id=shop_id,
                day=day,
                day_number=day.toordinal(),
                gap=gap,
                first=n[0],
                second=n[1],
            )
            for (shop_id, day, gap), n in counts.items()
        ],
        batch_size=2000,
    )


def _aware(value: Any) -> dt.datetime | None:
    """A time from a raw cursor as an aware datetime (SQLite hands back text or naive UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


def active_and_repeat(
    organization_id: int, date_from: dt.date, date_to: dt.date, shop_id: int | None
) -> tuple[int, int]:
    """Active and repeat customers of the days from ``DayVisitFact`` (one query; ranges up to
    ``VISIT_FACT_DAYS`` days)."""
    k = F("day_number") - date_from.toordinal()
    rows = DayVisitFact.objects.for_org(organization_id).filter(day__gte=date_from, day__lte=date_to)
    rows = rows.filter(shop_id=shop_id) if shop_id else rows.filter(shop__isnull=True)
    sums = rows.aggregate(
        active=Sum("first", filter=Q(gap__gt=k)),
        within=Sum("first", filter=Q(gap__lte=k)),
        twice=Sum("second", filter=Q(gap__lte=k)),
    )
    return sums["active"] or 0, (sums["within"] or 0) - (sums["twice"] or 0)


# --- churned and won back ------------------------------------------------------------------------------
#
# Churned: customers moved to dormant in the range; won back: customers who came back with a paid
# order (the lifecycle's stage changes). Distinct customers, as active customers are: a change
# counts when the same customer's previous change of its kind is before the range.

CHURNED_SQL = "to_stage = 'dormant'"
WON_BACK_SQL = f"reason = '{StageReason.RETURNED.value}'"


@day_writer
def change_days_write(organization_id: int, first: dt.date, last: dt.date) -> None:
    """``DayChangeFact`` of the days: their churn and win-back changes of files not deleted, by the gap
    to the customer's previous one of the kind. One read (window functions over the customers'
    changes of the ``GAP_CAP`` days before), one delete, one insert."""
    org = organization_id
    start, end = bounds(first, last)
    lookback = start - dt.timedelta(days=GAP_CAP + 1)
    changes = connection.ops.quote_name(StageChange._meta.db_table)
    customers = connection.ops.quote_name(Customer._meta.db_table)
    kinds = f"({CHURNED_SQL} OR {WON_BACK_SQL})"
    churned = f"CASE WHEN {CHURNED_SQL} THEN 1 ELSE 0 END"
    sql = (
        "SELECT at, churned, previous FROM ("  # noqa: S608
        f"SELECT at, {churned} AS churned, "
        f"LAG(at, 1) OVER (PARTITION BY customer_id, {churned} ORDER BY at, id) AS previous "
        f"FROM {changes} WHERE organization_id = %s AND {kinds} AND at >= %s AND at < %s "
        f"AND customer_id IN (SELECT customer_id FROM {changes} "
        f"WHERE organization_id = %s AND {kinds} AND at >= %s AND at < %s) "
        f"AND customer_id IN (SELECT id FROM {customers} WHERE organization_id = %s AND deleted_at IS NULL)"
        ") AS moves WHERE at >= %s"
    )
    counts: dict[tuple[dt.date, str, int], int] = {}
    with connection.cursor() as cursor:
        lookback, start, end = (_param(t) for t in (lookback, start, end))
        cursor.execute(sql, [org, lookback, end, org, start, end, org, start])
        for at, is_churned, previous in cursor.fetchall():
            day = local_day(_aware(at) or at)
            kind = DayChangeFact.Kind.CHURNED if is_churned else DayChangeFact.Kind.WON_BACK
            key = (day, kind, _gap(day, _aware(previous)))
            counts[key] = counts.get(key, 0) + 1
    DayChangeFact.objects.for_org(org).filter(day__gte=first, day__lte=last).delete()
    DayChangeFact.objects.bulk_create(
        [
            DayChangeFact(organization_id=org, day=day, day_number=day.toordinal(), kind=kind, gap=gap, changes=n)
            for (day, kind, gap), n in counts.items()
        ],
        batch_size=2000,
    )


def churned_and_won_back(organization_id: int, date_from: dt.date, date_to: dt.date) -> tuple[int, int]:
    """Churned and won-back customers of the days, every shop, from ``DayChangeFact`` (one query;
    ranges up to ``VISIT_FACT_DAYS`` days)."""
    first_in_range = Q(gap__gt=F("day_number") - date_from.toordinal())
    sums = (
        DayChangeFact.objects.for_org(organization_id)
        .filter(day__gte=date_from, day__lte=date_to)
        .aggregate(
            churned=Sum("changes", filter=first_in_range & Q(kind=DayChangeFact.Kind.CHURNED)),
            won_back=Sum("changes", filter=first_in_range & Q(kind=DayChangeFact.Kind.WON_BACK)),
        )
    )
    return sums["churned"] or 0, sums["won_back"] or 0


def stage_days(organization_id: int, customer_ids: Iterable[int]) -> set[dt.date]:
    """The local days of these customers' churn and win-back changes (one query; none without ids)."""
    ids = list(customer_ids)
    if not ids:
        return set()
    moves = StageChange.objects.for_org(organization_id).filter(
        Q(to_stage="dormant") | Q(reason=StageReason.RETURNED), customer_id__in=ids
    )
    return {local_day(at) for at in moves.values_list("at", flat=True)}
