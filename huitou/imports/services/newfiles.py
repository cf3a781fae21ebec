"""New files and new cars of a batch, written at once.

A shop moving in brings tens of thousands of files. What the services
would write for each — the customer with its search keys (pinyin, last four
digits) and completeness, the link to the import, the stage change, the
change history, the cars with their ownership, the odometer readings and
the last service as a paid order of the catalog's item — is computed with
the same rule functions the services call (``pinyin_keys``, ``last4``,
``completeness``, ``order_number``) and written table by table, one
statement per table and batch (``lib.bulk_rows.insert_rows``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Min, Sum

from huitou.analytics.staff_facts import owners_mark
from huitou.audit.models import ChangeEntry
from huitou.customers.models import (
    BirthdayCalendar,
    Customer,
    Gender,
    MileageReading,
    Stage,
    Vehicle,
    VehicleOwnership,
)
from huitou.imports.models import ImportedCustomer, ImportJob, ImportKind
from huitou.imports.services.history import ENTRY_COLUMNS, created_changes, entry_row, vehicle_changes
from huitou.imports.services.orders import OrderSpec, paid_orders
from huitou.imports.services.plan import CREATE, Plan, RunState, local_noon
from huitou.lib import completeness as completeness_lib
from huitou.lib.bulk_rows import insert_rows
from huitou.lib.money import round_fen
from huitou.lib.pinyin import pinyin_keys
from huitou.lifecycle.models import StageChange, StageReason
from huitou.service.models import OrderState, ServiceItem, ServiceOrder
from huitou.tenancy.models import User

CUSTOMER_COLUMNS = (
    "organization_id",
    "name",
    "phone",
    "phone_last4",  # the last four digits of the E.164 form are the national number's (``phones.last4``)
    "wechat",
    "gender",
    "address",
    "notes",
    "need",
    "source_id",
    "stage",
    "owner_id",
    "created_by_id",
    "birth_year",
    "birth_month",
    "birth_day",
    "birthday_calendar",
    "name_pinyin",
    "name_initials",
    "completeness",
    "visit_count",
    "first_visit_at",
    "last_visit_at",
    "intent_at",
    "converted_at",
)
LINK_COLUMNS = ("organization_id", "job_id", "customer_id", "row")
STAGE_COLUMNS = ("organization_id", "customer_id", "from_stage", "to_stage", "reason", "note", "by_id", "at")
VEHICLE_COLUMNS: tuple[str, ...] = ("organization_id", "customer_id", "plate", "vin", "brand", "model", "colour")
VEHICLE_COLUMNS += ("mileage_km", "mileage_at")
OWNERSHIP_COLUMNS = ("organization_id", "vehicle_id", "customer_id", "since")
READING_COLUMNS = ("organization_id", "vehicle_id", "km", "read_at", "source", "recorded_by_id")


# Names repeat across a shop's customers (and rows): each is read into pinyin once.
_pinyin_keys = functools.lru_cache(maxsize=16384)(pinyin_keys)


class _Probe:
    """One unsaved customer that takes each new file's values in turn, for the model's rules
    (``completeness_facts``) and the history's snapshot: no model instance per row."""

    def __init__(self, job: ImportJob, by: User) -> None:
        self.customer = Customer(organization_id=job.organization_id, owner=by, created_by=by)
        self.stage = Stage.PROSPECT if job.kind == ImportKind.PROSPECTS else Stage.CUSTOMER
        self.customer.stage = self.stage

    def load(self, v: dict[str, Any]) -> Customer:
        c = self.customer
        c.name = v["name"]
        c.phone = v.get("phone", "")
        c.wechat = v.get("wechat", "")
        c.address = v.get("address", "")
        c.notes = v.get("notes", "")
        c.need = v.get("need", "")
        c.gender = v.get("gender") or Gender.UNKNOWN
        c.source = v.get("source_obj")
        birthday = v.get("birthday")
        if birthday:
            c.birth_year, c.birth_month, c.birth_day, c.birthday_calendar = birthday
        else:
            c.birth_year = c.birth_month = c.birth_day = None
            c.birthday_calendar = BirthdayCalendar.SOLAR
        return c


def _history_items(job: ImportJob, state: RunState, plans: Iterable[Plan]) -> dict[str, ServiceItem]:
    """Plate -> the catalog item of the row's last service, for rows with a date and a known item."""
    if job.kind != ImportKind.CUSTOMERS:
        return {}
    items: dict[str, ServiceItem] = {}
    for plan in plans:
        v = plan.row.values
        if v.get("service_item") and v.get("last_service_date"):
            item = state.item(job.organization, v["service_item"])
            if item is not None:
                items[v["plate"]] = item
    return items


def write_new_files(job: ImportJob, plans: Sequence[Plan], state: RunState, by: User, now: dt.datetime) -> None:
    """Write the files and cars the batch's plans create (in the caller's transaction)."""
    org = job.organization_id
    firsts: dict[int, Plan] = {}  # new file key (below 0) -> the row that makes it
    for plan in plans:
        key = plan.customer_key
        if plan.action == CREATE and plan.customer is None and key is not None and key < 0:
            firsts.setdefault(key, plan)
    car_plans = [p for p in plans if p.action == CREATE and p.row.values.get("plate")]
    history = _history_items(job, state, car_plans)
    # A new file's visits are its imported orders (what ``customer_visits_refresh`` would count).
    visits: dict[int, list[dt.datetime]] = {}
    cars_of: set[int] = set()
    for plan in car_plans:
        key = plan.customer_key or 0
        if plan.customer is None and key < 0:
            cars_of.add(key)
            if plan.row.values["plate"] in history:
                visits.setdefault(key, []).append(local_noon(plan.row.values["last_service_date"]))

    probe = _Probe(job, by)
    customers: list[tuple[Any, ...]] = []
    changes: list[dict[str, Any]] = []
    for key, plan in firsts.items():
        v = plan.row.values
        c = probe.load(v)
        pinyin, initials = _pinyin_keys(c.name)
        score = completeness_lib.completeness(c.completeness_facts(key in cars_of))
        times = visits.get(key)
        first, last = (min(times), max(times)) if times else (None, None)
        customers.append(
            (org, c.name, c.phone, c.phone[-4:], c.wechat, c.gender, c.address, c.notes, c.need)
            + (c.source.pk if c.source is not None else None, probe.stage, by.pk, by.pk)
            + (c.birth_year, c.birth_month, c.birth_day, c.birthday_calendar, pinyin, initials, score)
            + (len(times) if times else 0, first, last, first, first)
        )
        changes.append(created_changes(c))
    ids = insert_rows(Customer, CUSTOMER_COLUMNS, customers)
    if ids:
        owners_mark(org, [by.pk])  # the staff ranking's files per owner
    new_ids = dict(zip(firsts, ids, strict=True))
    for key, customer_id in new_ids.items():
        phone = firsts[key].row.values.get("phone")
        if phone:
            state.new_phones[phone] = customer_id
    insert_rows(
        ImportedCustomer,
        LINK_COLUMNS,
        [(org, job.pk, new_ids[key], plan.row.number) for key, plan in firsts.items()],
    )
    note = job.filename[:200]
    insert_rows(
        StageChange,
        STAGE_COLUMNS,
        [(org, customer_id, "", probe.stage, StageReason.IMPORTED, note, by.pk, now) for customer_id in ids],
    )

    # The cars: of the new files, of files this run made in earlier batches (and of an interrupted run).
    owners: list[int] = []
    later: set[int] = set()
    for plan in car_plans:
        key = plan.customer_key or 0
        owner_id = plan.customer.pk if plan.customer is not None else (new_ids[key] if key < 0 else key)
        owners.append(owner_id)
        if key >= 0:
            later.add(owner_id)
    vehicles = []
    for plan, owner_id in zip(car_plans, owners, strict=True):
        v = plan.row.values
        km = v.get("mileage")
        read_at = (
            (local_noon(v["last_service_date"]) if v.get("last_service_date") else now) if km is not None else None
        )
        vehicles.append(
            (org, owner_id, v["plate"], v.get("vin", ""), v.get("brand", ""), v.get("model", ""), v.get("colour", ""))
            + (km, read_at)
        )
    vehicle_ids = insert_rows(Vehicle, VEHICLE_COLUMNS, vehicles)
    insert_rows(
        VehicleOwnership,
        OWNERSHIP_COLUMNS,
        [(org, vehicle_id, owner_id, now) for vehicle_id, owner_id in zip(vehicle_ids, owners, strict=True)],
    )
    with_km = [(vid, car) for vid, car in zip(vehicle_ids, vehicles, strict=True) if car[7] is not None]
    reading_ids = insert_rows(
        MileageReading,
        READING_COLUMNS,
        [(org, vid, car[7], car[8], MileageReading.Source.IMPORT, by.pk) for vid, car in with_km],
    )
    readings = {vid: (reading_id, car[7]) for (vid, car), reading_id in zip(with_km, reading_ids, strict=True)}

    # The last service of each car whose item the catalog has: a paid order of that item, priced 0.
    specs = []
    for plan, vehicle_id, owner_id in zip(car_plans, vehicle_ids, owners, strict=True):
        v = plan.row.values
        item = history.get(v["plate"])
        if item is not None:
            reading_id, km = readings.get(vehicle_id, (None, None))
            specs.append(OrderSpec(plan.row, v["last_service_date"], vehicle_id, owner_id, v["plate"], item))
            specs[-1].reading_id, specs[-1].km = reading_id, km
    paid_orders(job, specs, state, by, now, None)

    # The history: one entry per new file, naming its cars (the cars, readings and orders an import
    # writes are its, as the entry's note says); one per car added to a file already there.
    plates: dict[int, list[str]] = {}
    for owner_id, car in zip(owners, vehicles, strict=True):
        plates.setdefault(owner_id, []).append(car[2])
    entries = []
    for plan, customer_id, change in zip(firsts.values(), ids, changes, strict=True):
        if customer_id in plates:
            change["vehicles"] = [None, plates[customer_id]]
        entries.append(
            entry_row(
                job, "customer", customer_id, customer_id, ChangeEntry.Action.CREATED, change, by, now, plan.row.number
            )
        )
    for plan, vehicle_id, owner_id in zip(car_plans, vehicle_ids, owners, strict=True):
        if owner_id in later:
            change = vehicle_changes(plan.row.values)
            entries.append(
                entry_row(
                    job, "vehicle", vehicle_id, owner_id, ChangeEntry.Action.CREATED, change, by, now, plan.row.number
                )
            )
    insert_rows(ChangeEntry, ENTRY_COLUMNS, entries)
    if later:
        with_orders = {spec.customer_id for spec in specs} & later
        _refresh_later_files(org, later, with_orders)


def _refresh_later_files(org: int, customer_ids: set[int], with_orders: set[int]) -> None:
    """Files of earlier batches that got a car: their completeness now counts a car, and the visits
    of those that got an order are counted again from their paid orders (``customer_visits_refresh``'s
    figures, for all of them in one read); a first paid order makes them converted, as it does a new file."""
    customers = Customer.objects.for_org(org).in_bulk(list(customer_ids))
    changed: dict[int, Customer] = {}
    for customer in customers.values():
        score = completeness_lib.completeness(customer.completeness_facts(True))
        if score != customer.completeness:
            customer.completeness = score
            changed[customer.pk] = customer
    fields = ["completeness"]
    if with_orders:
        fields += ["visit_count", "lifetime_spend", "first_visit_at", "last_visit_at", "intent_at", "converted_at"]
        figures = (
            ServiceOrder.objects.for_org(org)
            .filter(customer_id__in=with_orders, state=OrderState.PAID)
            .values("customer_id")
            .annotate(visits=Count("pk"), spend=Sum("total"), first=Min("paid_at"), last=Max("paid_at"))
        )
        for row in figures:
            customer = customers[row["customer_id"]]
            customer.visit_count = row["visits"]
            customer.lifetime_spend = round_fen(row["spend"] or Decimal("0.00"))
            customer.first_visit_at, customer.last_visit_at = row["first"], row["last"]
            customer.converted_at = customer.converted_at or row["first"]
            customer.intent_at = customer.intent_at or customer.converted_at
            changed[customer.pk] = customer
    if changed:
        Customer.objects.for_org(org).bulk_update(list(changed.values()), fields, batch_size=500)
        owners_mark(org, {c.owner_id for c in changed.values()})
