"""Writing generated customers to the database.

``load_with_services`` goes through the real services, one customer at a
time and on the demo clock, so a small demo also has change history and
its lifecycle (stage changes, follow-ups, tasks) carries the story's
dates. ``BulkLoader`` writes the same rows directly, in chunks: PostgreSQL
COPY, or ``executemany`` inserts on other databases. It computes the derived
columns (pinyin keys, last four phone digits, file completeness) with the
same library functions the services use, and the lifecycle rows with
``LifecycleRows``, so both paths give identical files.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import connection, models, transaction
from django.utils import timezone

from huitou.customers.models import (
    ConsentRecord,
    Customer,
    CustomerTag,
    Household,
    MileageReading,
    Source,
    Tag,
    Vehicle,
    VehicleOwnership,
)
from huitou.customers.services import customer_create, household_link, mileage_record, vehicle_create
from huitou.demo import vocab
from huitou.demo.clock import DemoClock
from huitou.demo.lifecycle_rows import LifecycleBatch, LifecycleRows
from huitou.demo.lifecycle_services import lifecycle_apply
from huitou.demo.specs import PAID, CustomerSpec, LifeEvent, StageEventSpec, VehicleSpec
from huitou.lib import completeness as completeness_lib
from huitou.lib.phones import last4
from huitou.lib.pinyin import pinyin_keys
from huitou.lifecycle.models import FollowUp, FollowUpTask, StageChange, StageReason
from huitou.tenancy.models import Organization, User

LOADED_MODELS = (
    Household,
    Customer,
    CustomerTag,
    ConsentRecord,
    Vehicle,
    VehicleOwnership,
    MileageReading,
    StageChange,
    FollowUp,
    FollowUpTask,
)
# Loads of at least this many customers into tables that hold no more than the
# load rebuild indexes and foreign keys once at the end (PostgreSQL).
REBUILD_MIN = 50_000
_MOBILE = re.compile(r"\+861\d{10}")

# Who reads the odometer when a car comes in.
READINGS_BY = "advisor"
CHUNK_SIZE = 20_000
# A referral names a customer at most this many files back (the generator's window, and more).
REFERRER_IDS_KEPT = 10_000

Progress = Callable[[int], None]


@dataclass
class LoadStats:
    customers: int = 0
    vehicles: int = 0
    readings: int = 0
    followups: int = 0
    seconds: float = 0.0
    rebuild_seconds: float = 0.0  # of ``seconds``: building indexes and checking foreign keys
    # Services path with the order history to come: each file's events from its first paid visit on.
    after_first_visit: dict[int, list[LifeEvent]] = field(default_factory=dict)


class DeferredIndexes:
    """Drop the secondary indexes and foreign keys of some tables, and rebuild them.

    PostgreSQL only, inside the caller's transaction: a failed load rolls the
    drop back too. Building an index once over a million rows takes seconds;
    updating it row by row takes many minutes, and so do per-row foreign key
    checks, which re-adding the constraint replaces with one join. Indexes that
    back a constraint (primary keys, unique constraints) stay. Until commit the
    tables are locked against every other session, and the tables their foreign
    keys point at (staff, organizations, sources) against writes.
    """

    def __init__(self, tables: Sequence[str]) -> None:
        self.tables = list(tables)
        self.indexes: list[tuple[str, str]] = []
        self.foreign_keys: list[tuple[str, str, str]] = []

    def drop(self) -> None:
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = ANY(%s::regclass[]) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY 1",
                [self.tables],
            )
            self.indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
                [self.tables],
            )
            self.foreign_keys = cursor.fetchall()
            # Run the foreign key checks queued so far: a table with pending checks cannot be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name, _definition in self.indexes:
                cursor.execute(f"DROP INDEX {name}")
            for table, name, _definition in self.foreign_keys:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {qn(name)}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def rebuild(self) -> None:
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for _name, definition in self.indexes:
                cursor.execute(definition)
            for table, name, definition in self.foreign_keys:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {qn(name)} {definition}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _batches(items: Iterable[CustomerSpec], size: int) -> Iterator[list[CustomerSpec]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


# --- through the services ------------------------------------------------------------------


def load_with_services(
    *,
    organization: Organization,
    staff: Mapping[str, User],
    specs: Iterable[CustomerSpec],
    progress: Progress | None = None,
    orders_follow: bool = False,
) -> LoadStats:
    """Register each customer, vehicle and reading through the services, and apply the
    file's lifecycle, each step at the time it happened in the story.

    With ``orders_follow`` the order history comes next and converts the
    files: each file's events from its first paid visit on are left in
    ``LoadStats.after_first_visit`` for it (``huitou.demo.orders``).
    """
    stats = LoadStats()
    started = time.monotonic()
    first_members: dict[int, Customer] = {}
    ids: dict[int, int] = {}
    clock = DemoClock(timezone.now())
    with clock.running():
        for spec in specs:
            with transaction.atomic():
                customer = _create_with_services(organization, staff, spec, first_members, ids, clock, stats)
                later = _lifecycle_with_services(customer, staff, spec, clock, orders_follow, stats)
                if later:
                    stats.after_first_visit[customer.pk] = later
                Customer.objects.filter(pk=customer.pk).update(created_at=spec.created_at, updated_at=spec.updated_at)
            ids[spec.index] = customer.pk
            if spec.household is not None and spec.household == spec.index:
                first_members[spec.index] = customer
            stats.customers += 1
            if progress and stats.customers % 100 == 0:
                progress(stats.customers)
    stats.seconds = time.monotonic() - started
    return stats


def _create_with_services(
    organization: Organization,
    staff: Mapping[str, User],
    spec: CustomerSpec,
    first_members: dict[int, Customer],
    ids: Mapping[int, int],
    clock: DemoClock,
    stats: LoadStats,
) -> Customer:
    by = staff[spec.owner]
    clock.set(spec.created_at)
    data: dict[str, Any] = {**spec.service_data(), "owner": by.pk}
    if spec.referrer is not None:
        data["referrer"] = ids[spec.referrer]
    customer = customer_create(
        organization=organization,
        by=by,
        data=data,
        consents=dict.fromkeys(spec.consents, True),
        consent_method=spec.consent_method,
        consent_purpose=vocab.CONSENT_PURPOSE if spec.consents else "",
    )
    for vspec in spec.vehicles:
        clock.set(vspec.created_at)
        vehicle = vehicle_create(
            customer=customer, by=by, data=vspec.service_data(), vin_confirmed=vspec.vin_check_failed
        )
        for reading in vspec.readings:
            clock.set(reading.read_at)
            mileage_record(vehicle=vehicle, km=reading.km, by=staff[READINGS_BY], read_at=reading.read_at)
        # The bulk path's vehicle: changed last when it was registered (the readings keep its mileage).
        Vehicle.objects.filter(pk=vehicle.pk).update(updated_at=vspec.created_at)
        stats.vehicles += 1
        stats.readings += len(vspec.readings)
    if spec.household is not None and spec.household in first_members:
        clock.set(spec.created_at)
        household_link(customer=customer, other=first_members.pop(spec.household), by=by)
    return customer


def _lifecycle_with_services(
    customer: Customer,
    staff: Mapping[str, User],
    spec: CustomerSpec,
    clock: DemoClock,
    orders_follow: bool,
    stats: LoadStats,
) -> list[LifeEvent]:
    """Apply the file's story; with ``orders_follow``, only up to its first paid visit (returns the rest)."""
    events = spec.lifecycle
    for n, event in enumerate(events):
        if orders_follow and isinstance(event, StageEventSpec) and event.kind == PAID:
            return events[n:]
        lifecycle_apply(event, customer=customer, staff=staff, clock=clock, visits_recorded=orders_follow)
        stats.followups += not isinstance(event, StageEventSpec)
    return []


# --- in bulk -------------------------------------------------------------------------------


class TableWriter:
    """Writes full rows of one model: COPY on PostgreSQL, ``executemany`` elsewhere.

    Rows are dicts by column attname; a missing column gets the field's default.
    With ``with_ids`` the caller takes ids from the table's sequence first
    (``allocate_ids``) so rows can refer to each other; otherwise the database
    numbers the rows.
    """

    def __init__(self, model: type[models.Model], *, with_ids: bool) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
        self.columns = [f.attname for f in self.fields]
        self.table = model._meta.db_table
        self.postgres = connection.vendor == "postgresql"
        qn = connection.ops.quote_name
        quoted = ", ".join(qn(cast(str, f.column)) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        # Table and column names come from the model, quoted; values are bound or streamed.
        self.copy_sql = f"COPY {qn(self.table)} ({quoted}) FROM STDIN"
        self.insert_sql = f"INSERT INTO {qn(self.table)} ({quoted}) VALUES ({placeholders})"  # noqa: S608

    def defaults(self) -> dict[str, Any]:
        now = timezone.now()
        values: dict[str, Any] = {}
        for f in self.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                values[f.attname] = now
            elif not f.primary_key:
                values[f.attname] = f.get_default()
        return values

    def allocate_ids(self, count: int) -> list[int]:
        if count == 0:
            return []
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the load runs in one write transaction, so no one else takes ids meanwhile.
            table = connection.ops.quote_name(self.table)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            start = cursor.fetchone()[0]
            if connection.vendor == "sqlite":
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
                row = cursor.fetchone()
                start = max(start, row[0] if row else 0)
        return list(range(start + 1, start + 1 + count))

    def _values(self, rows: Sequence[Mapping[str, Any]]) -> list[Sequence[Any]]:
        """Each row's values in column order. Rows of one call usually hold the same keys:
        the columns the first lacks are filled from the defaults, all in C (``itemgetter``)."""
        defaults = self.defaults()
        columns = self.columns
        fill = {c: defaults.get(c) for c in columns if c not in rows[0]}
        getter = operator.itemgetter(*columns)
        values: list[Sequence[Any]] = []
        for row in rows:
            try:
                values.append(getter({**fill, **row} if fill else row))
            except KeyError:
                values.append([row.get(c, defaults.get(c)) for c in columns])
        return values

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        tuples = self._values(rows)
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for values in tuples:
                        copy.write_row(values)
            else:
                prepared = [
                    [f.get_db_prep_save(v, connection) for f, v in zip(self.fields, values, strict=True)]
                    for values in tuples
                ]
                cursor.executemany(self.insert_sql, prepared)


@functools.lru_cache(maxsize=200_000)
def _pinyin(name: str) -> tuple[str, str]:
    return pinyin_keys(name)


def _last4(phone: str) -> str:
    """``last4`` without parsing for mobiles: their national form is the 11 digits after +86."""
    return phone[-4:] if _MOBILE.fullmatch(phone) else last4(phone)


class BulkLoader:
    """Writes generated customers in chunks, all in the caller's transaction.

    ``visits_recorded``: paid orders will follow (``huitou.demo.orders.bulk_orders``),
    so the daily visit check's moves are recorded as its own; without them
    they are imported, as the services path does.
    """

    def __init__(
        self,
        *,
        organization: Organization,
        staff: Mapping[str, User],
        chunk_size: int = CHUNK_SIZE,
        visits_recorded: bool = False,
    ) -> None:
        self.org_id = organization.pk
        self.staff_ids = {key: user.pk for key, user in staff.items()}
        self.chunk_size = chunk_size
        self.sources = dict(Source.objects.for_org(self.org_id).values_list("code", "pk"))
        self.tags = self._ensure_tags()
        self.households: dict[int, int] = {}
        self.ids: dict[int, int] = {}  # recent files' ids by index, for referrals
        self.writers = {m: TableWriter(m, with_ids=m in (Household, Customer, Vehicle)) for m in LOADED_MODELS}
        self.lifecycle = LifecycleRows.for_organization(
            organization_id=self.org_id,
            staff_ids=self.staff_ids,
            inactive_reason=(StageReason.NO_VISIT if visits_recorded else StageReason.IMPORTED).value,
        )
        # One unsaved customer reused to compute the completeness score with the model's own rules.
        self._probe = Customer(organization_id=self.org_id)

    def _ensure_tags(self) -> dict[str, int]:
        names = [v for k, v in vars(vocab).items() if k.startswith("TAG_")]
        Tag.objects.bulk_create([Tag(organization_id=self.org_id, name=n) for n in names], ignore_conflicts=True)
        return dict(Tag.objects.for_org(self.org_id).filter(name__in=names).values_list("name", "pk"))

    def load(
        self,
        specs: Iterable[CustomerSpec],
        *,
        total: int,
        progress: Progress | None = None,
        log: Callable[[str], None] | None = None,
    ) -> LoadStats:
        """Write ``total`` customers from ``specs``, then refresh the planner statistics."""
        stats = LoadStats()
        started = time.monotonic()
        tables = [m._meta.db_table for m in LOADED_MODELS]
        deferred = DeferredIndexes(tables) if self._worth_rebuilding(total) else None
        if deferred:
            if log:
                log("Loading without indexes and foreign keys (rebuilt at the end); the customer tables are locked.")
            deferred.drop()
        for chunk in _batches(specs, self.chunk_size):
            self._write_chunk(chunk, stats)
            if progress:
                progress(stats.customers)
        if deferred:
            if log:
                log(f"Rebuilding {len(deferred.indexes)} indexes and {len(deferred.foreign_keys)} foreign keys ...")
            rebuilt = time.monotonic()
            deferred.rebuild()
            stats.rebuild_seconds = time.monotonic() - rebuilt
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        stats.seconds = time.monotonic() - started
        return stats

    def _worth_rebuilding(self, total: int) -> bool:
        """A big load into tables no bigger than it: one index build beats a million updates."""
        if connection.vendor != "postgresql" or total < REBUILD_MIN:
            return False
        existing = Customer.objects.all()[: total + 1].count()
        return existing <= total

    def _write_chunk(self, chunk: list[CustomerSpec], stats: LoadStats) -> None:
        w = self.writers
        org_id = self.org_id
        customer_ids = w[Customer].allocate_ids(len(chunk))
        vehicle_specs = [(cid, v) for cid, spec in zip(customer_ids, chunk, strict=True) for v in spec.vehicles]
        vehicle_ids = w[Vehicle].allocate_ids(len(vehicle_specs))

        households = []
        new_keys = [s.household for s in chunk if s.household is not None and s.household not in self.households]
        for key, hid in zip(new_keys, w[Household].allocate_ids(len(new_keys)), strict=True):
            self.households[key] = hid
        for cid, spec in zip(customer_ids, chunk, strict=True):
            self.ids[spec.index] = cid
        if len(self.ids) > REFERRER_IDS_KEPT + len(chunk):
            oldest = chunk[0].index - REFERRER_IDS_KEPT
            self.ids = {index: cid for index, cid in self.ids.items() if index >= oldest}
        customers, links, consents = [], [], []
        lifecycle = LifecycleBatch()
        for cid, spec in zip(customer_ids, chunk, strict=True):
            household_id = None
            if spec.household is not None:
                household_id = self.households[spec.household]
                if spec.household != spec.index:  # the second member links the household
                    del self.households[spec.household]
                    households.append({"id": household_id, "organization_id": org_id, "created_at": spec.created_at})
            customers.append(self._customer_row(cid, spec, household_id, lifecycle))
            links += [{"organization_id": org_id, "customer_id": cid, "tag_id": self.tags[t]} for t in spec.tags]
            consents += [
                {
                    "organization_id": org_id,
                    "customer_id": cid,
                    "channel": channel,
                    "granted": True,
                    "method": spec.consent_method,
                    "purpose": vocab.CONSENT_PURPOSE,
                    "at": spec.created_at,
                    "recorded_by_id": self.staff_ids[spec.owner],
                }
                for channel in spec.consents
            ]

        vehicles, ownerships, readings = [], [], []
        recorder = self.staff_ids[READINGS_BY]
        for vid, (cid, v) in zip(vehicle_ids, vehicle_specs, strict=True):
            vehicles.append(self._vehicle_row(vid, cid, v))
            ownerships.append(
                {"organization_id": org_id, "vehicle_id": vid, "customer_id": cid, "since": v.created_at, "until": None}
            )
            readings += [
                {
                    "organization_id": org_id,
                    "vehicle_id": vid,
                    "km": r.km,
                    "read_at": r.read_at,
                    "odometer_replaced": False,
                    "source": MileageReading.Source.MANUAL.value,
                    "recorded_by_id": recorder,
                }
                for r in v.readings
            ]

        w[Household].write(households)
        w[Customer].write(customers)
        w[CustomerTag].write(links)
        w[ConsentRecord].write(consents)
        w[Vehicle].write(vehicles)
        w[VehicleOwnership].write(ownerships)
        w[MileageReading].write(readings)
        w[StageChange].write(lifecycle.stage_changes)
        w[FollowUp].write(lifecycle.followups)
        w[FollowUpTask].write(lifecycle.tasks)
        stats.followups += len(lifecycle.followups)
        stats.customers += len(chunk)
        stats.vehicles += len(vehicles)
        stats.readings += len(readings)

    def _customer_row(
        self, cid: int, spec: CustomerSpec, household_id: int | None, lifecycle: LifecycleBatch
    ) -> dict[str, Any]:
        owner_id = self.staff_ids[spec.owner]
        source_id = self.sources[spec.source]
        state = self.lifecycle.add(
            lifecycle,
            customer_id=cid,
            owner_id=owner_id,
            source_id=source_id,
            created_at=spec.created_at,
            events=spec.lifecycle,
        )
        name_pinyin, name_initials = _pinyin(spec.name)
        row: dict[str, Any] = {
            "id": cid,
            "organization_id": self.org_id,
            "name": spec.name,
            "gender": spec.gender,
            "phone": spec.phone,
            "phone_last4": _last4(spec.phone),
            "wechat": spec.wechat,
            "email": spec.email,
            "address": spec.address,
            "birth_year": spec.birth_year,
            "birth_month": spec.birth_month,
            "birth_day": spec.birth_day,
            "birthday_calendar": spec.birthday_calendar,
            "age_bracket": spec.age_bracket,
            "source_id": source_id,
            "stage": state.stage,
            "owner_id": owner_id,
            "household_id": household_id,
            "need": spec.need,
            "referrer_id": self.ids[spec.referrer] if spec.referrer is not None else None,
            "intent_grade": state.intent_grade,
            "intent_at": state.intent_at,
            "converted_at": state.converted_at,
            "merged_into_id": None,
            "consent_sms": "sms" in spec.consents,
            "consent_wechat": "wechat" in spec.consents,
            "consent_phone": "phone" in spec.consents,
            "consent_email": "email" in spec.consents,
            "preferred_channel": spec.preferred_channel,
            "preferred_time": spec.preferred_time,
            "occupation": spec.occupation,
            "family": spec.family,
            "personality": spec.personality,
            "habits": spec.habits,
            "hobbies": spec.hobbies,
            "lifestyle": spec.lifestyle,
            "values": spec.values,
            "notes": spec.notes,
            "name_pinyin": name_pinyin,
            "name_initials": name_initials,
            "created_at": spec.created_at,
            "updated_at": spec.updated_at,
            "created_by_id": owner_id,
            "deleted_at": None,
            "deleted_by_id": None,
        }
        probe = self._probe
        for attname, value in row.items():
            setattr(probe, attname, value)
        row["completeness"] = completeness_lib.completeness(probe.completeness_facts(bool(spec.vehicles)))
        return row

    def _vehicle_row(self, vid: int, cid: int, v: VehicleSpec) -> dict[str, Any]:
        latest = v.mileage
        return {
            "id": vid,
            "organization_id": self.org_id,
            "customer_id": cid,
            "plate": v.plate,
            "vin": v.vin,
            "vin_check_failed": v.vin_check_failed,
            "brand": v.brand,
            "model": v.model,
            "year": v.year,
            "colour": v.colour,
            "purchase_date": v.purchase_date,
            "insurance_expiry": v.insurance_expiry,
            "inspection_due": v.inspection_due,
            "mileage_km": latest.km if latest else None,
            "mileage_at": latest.read_at if latest else None,
            "created_at": v.created_at,
            "updated_at": v.created_at,
            "deleted_at": None,
            "deleted_by_id": None,
        }
