"""Generated customers written in chunks: vehicles, readings, consents, tags and their lifecycle rows.

The same ``CustomerSpec`` values the demo writes through the services
(``huitou.demo.loaders.load_with_services``), written directly: derived
columns (pinyin keys, last four phone digits, file completeness) come from
the same library functions and model method the services use, the
lifecycle rows from ``bulkload.lifecycle_rows``. ``bench/bulkload/tests``
compares the result with the services' own, file by file.
"""

from __future__ import annotations

import functools
import itertools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from django.db import connection

from bulkload.lifecycle_rows import LifecycleBatch, LifecycleRows
from bulkload.tables import DeferredIndexes, TableWriter
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
from huitou.demo import vocab
from huitou.demo.loaders import READINGS_BY, LoadStats
from huitou.demo.specs import CustomerSpec, VehicleSpec
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
CHUNK_SIZE = 20_000
# A referral names a customer at most this many files back (the generator's window, and more).
REFERRER_IDS_KEPT = 10_000

Progress = Callable[[int], None]


def _batches(items: Iterable[CustomerSpec], size: int) -> Iterator[list[CustomerSpec]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


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
