"""The daily care sweep: what is due becomes a care task, once.

For a day D and one organization it (1) refreshes the maintenance dues of
vehicles read since their dues were computed, then (2) selects, in a few
indexed queries, what is due by D plus each rule's lead days and has no task
of the same key yet — maintenance, insurance renewal, annual inspection, and
through ``sweep_people``, ``sweep_warranty`` and ``sweep_expiring`` the care
owed to people, promises on order lines and coupons and package cards near
their last day — and (3) writes those tasks in batches. A rule limited to
some grades or tags (``audience``) filters in the same selects, by subquery.
The work is proportional to what changed and what falls due, not to the
number of cars.
A task's key names its subject and period, and a unique constraint holds it:
a second run for the same day, or two sweeps at once, add nothing; a missed
day is caught up because everything due by D counts, down to
``CATCH_UP_DAYS`` back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from huitou.care.models import CareKind, CareTask, MaintenanceDue
from huitou.care.services import sweep_expiring, sweep_people, sweep_warranty
from huitou.care.services.audience import audience_q
from huitou.care.services.dues import dues_rebuild
from huitou.care.services.rules import RuleSettings, owner_for, rules_for
from huitou.care.services.task_rows import tasks_insert
from huitou.care.services.wording import day_words as _day
from huitou.care.services.wording import fill
from huitou.customers.models import Vehicle
from huitou.tenancy.models import Organization

# Reminders older than this are not made on a first run or after a long gap: a car that missed
# its service by months is the win-back list's, not a reminder's.
CATCH_UP_DAYS = 60
BATCH = 1000
WRITE_BATCH = 10_000  # tasks written per transaction


def _key(prefix: str, *fields: str) -> Any:
    """The SQL expression of a task key: ``prefix`` and the fields' values joined by ':'."""
    expressions: list[Any] = [Value(prefix)]
    for field in fields:
        expressions += [Value(":"), Cast(F(field), CharField())]
    return Concat(*expressions, output_field=CharField())


def _without_task(queryset: Any, organization_id: int, kind: str, key: Any) -> Any:
    taken = CareTask.objects.filter(organization_id=organization_id, kind=kind, key=OuterRef("task_key"))
    return queryset.annotate(task_key=key).filter(~Exists(taken))


def refresh_stale_dues(organization: Organization, now: dt.datetime) -> int:
    """Dues of vehicles with a reading newer than their computation (a few per day, many after an import),
    rewritten a chunk of vehicles at a time (``dues_rebuild``)."""
    stale = (
        MaintenanceDue.objects.for_org(organization)
        .filter(vehicle__mileage_at__gt=F("computed_at"))
        .values_list("vehicle_id", flat=True)
        .distinct()
    )
    return dues_rebuild(organization=organization, now=now, vehicle_ids=list(stale))


def _maintenance(org: Organization, day: dt.date, rule: RuleSettings) -> Iterator[dict[str, Any]]:
    dues = MaintenanceDue.objects.for_org(org).filter(
        audience_q(rule, org.pk, "vehicle__customer_id"),
        due_on__lte=day + dt.timedelta(days=rule.lead_days),
        due_on__gte=day - dt.timedelta(days=CATCH_UP_DAYS),
        vehicle__deleted_at__isnull=True,
        vehicle__customer__deleted_at__isnull=True,
    )
    dues = _without_task(
        dues, org.pk, CareKind.MAINTENANCE, _key("maintenance", "vehicle_id", "service_id", "last_order_id")
    )
    for row in dues.values(
        "task_key",
        "vehicle_id",
        "vehicle__plate",
        "vehicle__customer_id",
        "vehicle__customer__name",
        "vehicle__customer__owner_id",
        "service_id",
        "service__name",
        "last_done_on",
        "last_km",
        "km_per_day",
        "due_km",
        "due_on",
        "due_by",
    ).iterator(chunk_size=BATCH):
        if row["due_by"] == MaintenanceDue.By.KM:
            reason = _("%(service)s due about %(due)s at %(due_km)s km: last %(last)s · %(km)s km, %(rate)s km a day")
        else:
            reason = _("%(service)s due %(due)s: last %(last)s · %(km)s km, %(rate)s km a day")
        values = {
            "service": row["service__name"],
            "due": _day(row["due_on"]),
            "due_km": f"{row['due_km']:,}" if row["due_km"] is not None else "?",
            "last": row["last_done_on"].isoformat(),
            "km": f"{row['last_km']:,}" if row["last_km"] is not None else "?",
            "rate": round(row["km_per_day"]) if row["km_per_day"] is not None else "?",
        }
        yield {
            "kind": CareKind.MAINTENANCE,
            "key": row["task_key"],
            "customer_id": row["vehicle__customer_id"],
            "vehicle_id": row["vehicle_id"],
            "service_id": row["service_id"],
            "owner_id": owner_for(rule, customer_owner_id=row["vehicle__customer__owner_id"]),
            "due_on": row["due_on"],
            "reason": reason % values,
            "script": fill(
                rule.script,
                name=row["vehicle__customer__name"],
                plate=row["vehicle__plate"],
                service=row["service__name"],
                due_date=_day(row["due_on"]),
                shop=org.name,
            ),
        }


def _vehicle_date(org: Organization, day: dt.date, rule: RuleSettings, field: str) -> Iterator[dict[str, Any]]:
    """Insurance renewal or annual inspection: the date on the vehicle, ``lead_days`` ahead."""
    kind = CareKind.INSURANCE if field == "insurance_expiry" else CareKind.INSPECTION
    vehicles = Vehicle.objects.for_org(org).filter(
        Q(**{f"{field}__lte": day + dt.timedelta(days=rule.lead_days)}),
        Q(**{f"{field}__gte": day - dt.timedelta(days=CATCH_UP_DAYS)}),
        audience_q(rule, org.pk),
        deleted_at__isnull=True,
        customer__deleted_at__isnull=True,
    )
    vehicles = _without_task(vehicles, org.pk, kind, _key(str(kind), "id", field))
    if kind == CareKind.INSURANCE:
        reason = _("Insurance of %(plate)s ends %(due)s")
    else:
        reason = _("Annual inspection of %(plate)s due by %(due)s")
    for row in vehicles.values(
        "task_key", "id", "plate", "customer_id", "customer__name", "customer__owner_id", field
    ).iterator(chunk_size=BATCH):
        due_on = row[field]
        yield {
            "kind": kind,
            "key": row["task_key"],
            "customer_id": row["customer_id"],
            "vehicle_id": row["id"],
            "service_id": None,
            "owner_id": owner_for(rule, customer_owner_id=row["customer__owner_id"]),
            "due_on": due_on,
            "reason": reason % {"plate": row["plate"], "due": _day(due_on)},
            "script": fill(
                rule.script, name=row["customer__name"], plate=row["plate"], due_date=_day(due_on), shop=org.name
            ),
        }


def _write(org: Organization, rows: Iterable[dict[str, Any]], now: dt.datetime) -> int:
    """The rows as tasks, ``WRITE_BATCH`` a transaction (``task_rows``); returns how many were offered."""
    offered = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= WRITE_BATCH:
            tasks_insert(organization_id=org.pk, rows=batch, now=now)
            offered += len(batch)
            batch = []
    tasks_insert(organization_id=org.pk, rows=batch, now=now)
    return offered + len(batch)


# The care owed to people rather than cars (``sweep_people``), in the order the sweep makes it.
PEOPLE = {
    CareKind.BIRTHDAY: sweep_people.birthdays,
    CareKind.FESTIVAL: sweep_people.festivals,
    CareKind.DECLINED_WORK: sweep_people.declined_work,
    CareKind.WINBACK: sweep_people.winback,
    CareKind.WARRANTY: sweep_warranty.warranties,  # a promise on an order line (``sweep_warranty``)
    CareKind.COUPON_EXPIRING: sweep_expiring.coupons,  # what the customer holds (``sweep_expiring``)
    CareKind.CARD_EXPIRING: sweep_expiring.cards,
}


def care_sweep(
    *, organization: Organization, day: dt.date | None = None, now: dt.datetime | None = None
) -> dict[str, int]:
    """Make the care tasks due by ``day`` (today by default); returns how many of each kind were added.

    ``bulk_create(ignore_conflicts=True)`` returns the rows offered, not those kept, so the figures
    are counted from the tasks stamped with this run's ``now``.
    """
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    rules = rules_for(organization)
    with translation.override(settings.LANGUAGE_CODE):
        refresh_stale_dues(organization, now)
        if rules[CareKind.MAINTENANCE].is_active:
            _write(organization, _maintenance(organization, day, rules[CareKind.MAINTENANCE]), now)
        for kind, field in ((CareKind.INSURANCE, "insurance_expiry"), (CareKind.INSPECTION, "inspection_due")):
            if rules[kind].is_active:
                _write(organization, _vehicle_date(organization, day, rules[kind], field), now)
        for kind, rows in PEOPLE.items():
            if rules[kind].is_active:
                _write(organization, rows(organization, day, rules[kind]), now)
    added: dict[str, int] = dict.fromkeys((CareKind.MAINTENANCE, CareKind.INSURANCE, CareKind.INSPECTION, *PEOPLE), 0)
    stamped = CareTask.objects.for_org(organization).filter(created_at=now).values("kind").annotate(n=Count("id"))
    for row in stamped:
        if row["kind"] in added:
            added[row["kind"]] = row["n"]
    return added
