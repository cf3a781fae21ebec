"""The warranty reminder: a promise on an order line (质保, "3 months or 3,000 km") before it lapses.

For every line of a paid order with a promise, the promise lapses on whichever
comes first (``dues.next_due``, the rule of the maintenance reminders): the
paid date plus the months, or the day the car is estimated to reach the
order's mileage plus the kilometres. The daily distance is the vehicle's from
its maintenance dues (``MaintenanceDue.km_per_day``), else the estimate from
its readings (``lib.mileage.estimate``, one query per batch of lines), else the
default. The task is due the rule's days ahead of the lapse (never before the
visit), one per line: key ``warranty:<line>``. A missed night is caught up
while the promise still runs; a lapsed promise gets no reminder. Voided orders
are never paid, deleted files and cars are left out.

The lines are read through a partial index of the lines with a promise, and a
promise by months that ended before this month is left out in SQL, so the
nightly work follows the promises still running, not every order ever paid.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.db.models import CharField, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat, ExtractMonth, ExtractYear
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from huitou.care.models import CareKind, CareTask, MaintenanceDue
from huitou.care.services.audience import audience_q
from huitou.care.services.dues import add_months, next_due
from huitou.care.services.rules import RuleSettings, owner_for
from huitou.care.services.wording import day_words, fill
from huitou.customers.models import MileageReading
from huitou.lib.mileage import DEFAULT_KM_PER_DAY, Estimate, Reading, estimate
from huitou.service.models import OrderLine, OrderState
from huitou.tenancy.models import Organization

BATCH = 1000
LAST_DAY = dt.date(9999, 12, 31)

FIELDS = (
    "id",
    "task_key",
    "name",
    "service_id",
    "warranty_months",
    "warranty_km",
    "km_per_day",
    "order_id",
    "order__paid_at",
    "order__mileage_km",
    "order__advisor_id",
    "order__vehicle_id",
    "order__vehicle__plate",
    "order__vehicle__purchase_date",
    "order__vehicle__customer_id",
    "order__vehicle__customer__name",
    "order__vehicle__customer__owner_id",
)


def promised_lines(org: Organization, day: dt.date, rule: RuleSettings) -> Any:
    """Lines of paid orders with a promise that may still run on ``day`` and have no reminder yet
    (of the customers the rule reaches: the car's owner now)."""
    taken = CareTask.objects.filter(organization_id=org.pk, kind=CareKind.WARRANTY, key=OuterRef("task_key"))
    rate = MaintenanceDue.objects.filter(
        organization_id=org.pk, vehicle_id=OuterRef("order__vehicle_id"), km_per_day__isnull=False
    ).values("km_per_day")[:1]
    # Whole months from the paid month to this one: a promise of fewer months ended before this month.
    months_gone = (Value(day.year) - ExtractYear("order__paid_at")) * 12 + (
        Value(day.month) - ExtractMonth("order__paid_at")
    )
    return (
        OrderLine.objects.for_org(org)
        .filter(
            Q(warranty_months__isnull=False) | Q(warranty_km__isnull=False),
            audience_q(rule, org.pk, "order__vehicle__customer_id"),
            order__state=OrderState.PAID,
            order__vehicle__deleted_at__isnull=True,
            order__vehicle__customer__deleted_at__isnull=True,
        )
        .annotate(months_gone=months_gone)
        .filter(Q(warranty_months__isnull=True) | Q(warranty_months__gte=F("months_gone")))
        .annotate(task_key=Concat(Value("warranty:"), Cast("id", CharField()), output_field=CharField()))
        .filter(~Exists(taken))
        .annotate(km_per_day=Subquery(rate))
    )


def _rates_from_readings(org: Organization, vehicles: dict[int, dt.date | None]) -> dict[int, float]:
    """Each vehicle's daily distance from its readings (one query), the default without any."""
    readings: dict[int, list[Reading]] = defaultdict(list)
    rows = MileageReading.objects.for_org(org).filter(vehicle_id__in=list(vehicles))
    for vehicle_id, km, at, replaced in rows.values_list("vehicle_id", "km", "read_at", "odometer_replaced"):
        readings[vehicle_id].append(Reading(timezone.localdate(at), km, replaced))
    rates = {}
    for vehicle_id, purchase_date in vehicles.items():
        found = estimate(readings.get(vehicle_id, []), purchase_date=purchase_date)
        rates[vehicle_id] = found.km_per_day if found else DEFAULT_KM_PER_DAY
    return rates


def _long_date(day: dt.date) -> str:
    """ "2027年3月5日" (the active language's date format)."""
    return formats.date_format(day, "DATE_FORMAT")


def _reason(row: dict[str, Any], due: dt.date) -> str:
    """The promise's limits in words: the date (by months, else the estimated day) and the odometer."""
    months, km, mileage = row["warranty_months"], row["warranty_km"], row["order__mileage_km"]
    values = {
        "service": row["name"],
        "due": _long_date(due),
        "km": f"{(mileage or 0) + km:,}" if km and mileage is not None else f"{km or 0:,}",
    }
    if months and km:
        if mileage is not None:
            text = _("%(service)s warranty ends %(due)s or at %(km)s km, whichever comes first")
        else:
            text = _("%(service)s warranty ends %(due)s or %(km)s km after the visit, whichever comes first")
    elif months:
        text = _("%(service)s warranty ends %(due)s")
    elif mileage is not None:
        text = _("%(service)s warranty ends at %(km)s km (about %(due)s)")
    else:
        text = _("%(service)s warranty ends %(km)s km after the visit (about %(due)s)")
    return (text % values)[:200]


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    while batch := list(islice(rows, BATCH)):
        yield batch


def warranties(org: Organization, day: dt.date, rule: RuleSettings) -> Iterator[dict[str, Any]]:
    ahead = dt.timedelta(days=rule.lead_days)
    rows = promised_lines(org, day, rule).values(*FIELDS).iterator(chunk_size=BATCH)
    for batch in _batches(rows):
        unknown = {
            r["order__vehicle_id"]: r["order__vehicle__purchase_date"]
            for r in batch
            if r["warranty_km"] and r["km_per_day"] is None
        }
        rates = _rates_from_readings(org, unknown) if unknown else {}
        for row in batch:
            paid_on = timezone.localdate(row["order__paid_at"])
            months, km, mileage = row["warranty_months"], row["warranty_km"], row["order__mileage_km"]
            odometer = None
            if km:
                rate = row["km_per_day"] if row["km_per_day"] is not None else rates[row["order__vehicle_id"]]
                # Anchored at the visit: the order's mileage (or 0, counting the distance since) on the paid day.
                odometer = Estimate(rate, paid_on, mileage or 0, "fit", 1)
            due = next_due(
                last_done_on=paid_on, last_km=mileage or 0, interval_km=km, interval_months=months, odometer=odometer
            )
            if due is None:
                continue
            lapse = min(due.due_on, LAST_DAY)
            if lapse < day or lapse > day + ahead:  # ended already, or not yet within the days ahead
                continue
            due_on = max(lapse - ahead, paid_on)
            yield {
                "kind": CareKind.WARRANTY,
                "key": row["task_key"],
                "customer_id": row["order__vehicle__customer_id"],
                "vehicle_id": row["order__vehicle_id"],
                "order_id": row["order_id"],
                "service_id": row["service_id"],
                "owner_id": owner_for(
                    rule,
                    customer_owner_id=row["order__vehicle__customer__owner_id"],
                    advisor_id=row["order__advisor_id"],
                ),
                "due_on": due_on,
                "reason": _reason(row, add_months(paid_on, months) if months else lapse),
                "script": fill(
                    rule.script,
                    name=row["order__vehicle__customer__name"],
                    plate=row["order__vehicle__plate"],
                    service=row["name"],
                    due_date=day_words(lapse),
                    shop=org.name,
                ),
            }
