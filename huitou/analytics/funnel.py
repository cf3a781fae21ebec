"""The conversion funnel: prospects created in a date range, how far they got, by source or by staff.

A cohort view: the rows are the files created between ``date_from`` and
``date_to`` (local dates, both included), and for them how many have
reached intent and how many have paid for a first order so far, the
conversion rates, the median days from first contact to first paid order
and what the converted have spent. Merged-away and deleted files do not
count. ``by=staff`` groups by each file's current owner.

The page (``analytics:funnel``) and the API (``GET /api/v1/analytics/funnel``)
both fill a missing range with ``funnel_period`` and call ``funnel``, which
refuses a reversed or too long range and an unknown grouping.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from huitou.analytics import errors
from huitou.customers.models import Customer, Source
from huitou.lib.money import round_fen
from huitou.tenancy.models import Organization, User

BY_SOURCE = "source"
BY_STAFF = "staff"
BY_CHOICES = (BY_SOURCE, BY_STAFF)
# A funnel spans at most this many days (a date range a page or an API call may ask for).
MAX_DAYS = 3 * 366
# Without a range: this many days up to today, today included.
DEFAULT_DAYS = 90
# Dates a range may use: wide, but far from the calendar's ends, where time zone arithmetic overflows.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(9998, 12, 31)


@dataclass(frozen=True)
class FunnelRow:
    key: str  # a source code or a staff username; "" for files without a source
    label: str
    prospects: int
    intent: int
    converted: int
    median_days_to_convert: float | None
    revenue: Decimal

    @property
    def intent_rate(self) -> float:
        return round(self.intent / self.prospects, 4) if self.prospects else 0.0

    @property
    def conversion_rate(self) -> float:
        return round(self.converted / self.prospects, 4) if self.prospects else 0.0


@dataclass(frozen=True)
class Funnel:
    date_from: dt.date
    date_to: dt.date
    by: str
    rows: list[FunnelRow]
    total: FunnelRow


def _days(seconds: float) -> float:
    return round(seconds / 86400, 1)


def _took() -> Greatest:
    """How long a file took from creation to its first paid order (never less than nothing)."""
    took = ExpressionWrapper(F("converted_at") - F("created_at"), output_field=DurationField())
    return Greatest(took, Value(dt.timedelta(0)), output_field=DurationField())


class _Median(Aggregate):
    """PostgreSQL's continuous median of durations: the middle one, or the mean of the middle two."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, **extra: Any) -> None:
        super().__init__(expression, output_field=DurationField(), **extra)


def _medians_in_python(cohort: QuerySet[Customer], group: str) -> tuple[dict[int | None, float], float | None]:
    """The median days to convert per group and overall from every converted file's times (one query).

    For databases without an ordered-set median (SQLite: a single shop's few thousand files).
    """
    per_group: dict[int | None, list[float]] = {}
    for key, created, converted in cohort.filter(converted_at__isnull=False).values_list(
        group, "created_at", "converted_at"
    ):
        per_group.setdefault(key, []).append(max(converted - created, dt.timedelta(0)).total_seconds())
    every = [d for ds in per_group.values() for d in ds]
    medians = {key: _days(statistics.median(ds)) for key, ds in per_group.items()}
    return medians, (_days(statistics.median(every)) if every else None)


def _bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(date_from, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min))
    return start, end


def counted_files(organization: Organization | int) -> QuerySet[Customer]:
    """The files the funnel counts: not deleted (merging away a duplicate deletes it, so it counts once)."""
    return Customer.objects.for_org(organization).filter(deleted_at=None)


def conversions_between(
    *, organization: Organization | int, date_from: dt.date, date_to: dt.date
) -> QuerySet[Customer]:
    """The funnel's conversions dated in a range: counted files whose first paid order (``converted_at``)
    falls from ``date_from`` to ``date_to`` (local dates, both included). Staff performance counts these."""
    start, end = _bounds(date_from, date_to)
    return counted_files(organization).filter(converted_at__gte=start, converted_at__lt=end)


def funnel_period(
    *, date_from: dt.date | None, date_to: dt.date | None, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The range a query means: up to today when ``date_to`` is missing, ``DEFAULT_DAYS`` long when ``date_from`` is."""
    date_to = date_to or today or timezone.localdate()
    return date_from or date_to - dt.timedelta(days=DEFAULT_DAYS - 1), date_to


def funnel_check(*, date_from: dt.date, date_to: dt.date, by: str) -> None:
    """Refuse a range that ends before it starts or spans more than ``MAX_DAYS``, and an unknown grouping.

    A date outside ``FIRST_DATE``..``LAST_DATE`` is refused as Django refuses a malformed one.
    """
    problems: dict[str, list[object]] = {}
    outside = [
        name for name, day in (("date_from", date_from), ("date_to", date_to)) if not FIRST_DATE <= day <= LAST_DATE
    ]
    for name in outside:
        problems[name] = [forms.DateField.default_error_messages["invalid"]]
    if not outside:
        if date_to < date_from:
            problems["date_to"] = [errors.RANGE_REVERSED]
        elif (date_to - date_from).days + 1 > MAX_DAYS:
            problems["date_from"] = [ValidationError(errors.RANGE_TOO_LONG, params={"days": MAX_DAYS})]
    if by not in BY_CHOICES:
        problems["by"] = [errors.BY_INVALID]
    if problems:
        raise ValidationError(problems)


def funnel(*, organization: Organization, date_from: dt.date, date_to: dt.date, by: str = BY_SOURCE) -> Funnel:
    """The funnel for files created from ``date_from`` to ``date_to``, one row per source or staff member.

    Raises ValidationError (``date_from``, ``date_to``, ``by``) for what
    ``funnel_check`` refuses. Files without a source make one row labelled
    "Not given" (key ""). Three queries: the counts, sums and (PostgreSQL)
    median conversion times per group; the median over everyone (elsewhere:
    the conversion times, the medians taken here); the labels (none when no
    group has a label to look up).
    """
    funnel_check(date_from=date_from, date_to=date_to, by=by)
    group = "source_id" if by == BY_SOURCE else "owner_id"
    start, end = _bounds(date_from, date_to)
    cohort = counted_files(organization).filter(created_at__gte=start, created_at__lt=end)
    in_database = connections[cohort.db].vendor == "postgresql"
    converted = Q(converted_at__isnull=False)
    # Counts of columns the index holds (never of the id, which it does not): read from the index alone.
    sums: dict[str, Any] = {
        "prospects": Count("created_at"),
        "intent": Count("intent_at"),
        "converted": Count("converted_at"),
        "revenue": Sum("lifetime_spend", filter=converted),
    }
    if in_database:
        sums["took"] = _Median(_took(), filter=converted)
    counts = {r[group]: r for r in cohort.values(group).annotate(**sums)}
    if in_database:
        medians = {k: _days(r["took"].total_seconds()) for k, r in counts.items() if r["took"] is not None}
        took_all = cohort.filter(converted).aggregate(took=_Median(_took()))["took"]
        median_all = _days(took_all.total_seconds()) if took_all is not None else None
    else:
        medians, median_all = _medians_in_python(cohort, group)

    if by == BY_SOURCE:
        names = {
            s.pk: (s.code, s.label)
            for s in Source.objects.for_org(organization).filter(pk__in=[k for k in counts if k is not None])
        }
    else:
        names = {u.pk: (u.username, str(u)) for u in User.objects.for_org(organization).filter(pk__in=list(counts))}
    rows = []
    for key, r in counts.items():
        code, label = names.get(key, ("", "")) if key is not None else ("", _("Not given"))
        rows.append(
            FunnelRow(
                key=code,
                label=label,
                prospects=r["prospects"],
                intent=r["intent"],
                converted=r["converted"],
                median_days_to_convert=medians.get(key),
                revenue=round_fen(r["revenue"] or Decimal("0")),
            )
        )
    rows.sort(key=lambda row: (-row.prospects, row.key))
    total = FunnelRow(
        key="",
        label=_("Total"),
        prospects=sum(r.prospects for r in rows),
        intent=sum(r.intent for r in rows),
        converted=sum(r.converted for r in rows),
        median_days_to_convert=median_all,
        revenue=round_fen(sum((r.revenue for r in rows), Decimal("0"))),
    )
    return Funnel(date_from=date_from, date_to=date_to, by=by, rows=rows, total=total)
