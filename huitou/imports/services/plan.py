"""What each row of a batch will do: create, update, skip as a duplicate, or be refused.

The classification reads the organization's files once per batch (one
query each for the phones, the plates and the VINs of the batch, one for
the files this import made in earlier batches) and keeps across batches
what this run has placed (``RunState``), so a later row of the same phone
adds a car to the file an earlier row made, and the dry run and the real
run classify alike.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils import timezone

from huitou.customers.models import Customer, Source, Vehicle
from huitou.imports import errors
from huitou.imports.models import ImportedCustomer, ImportJob, ImportKind, OnDuplicate
from huitou.imports.services.rows import Row
from huitou.service.models import ServiceItem
from huitou.tenancy.models import Organization

CREATE, UPDATE, SKIP, REFUSE = "create", "update", "skip", "refuse"
_BRACKETS = re.compile(r"[(（【\[].*?[)）】\]]")
# An imported visit is dated at noon, China time, of the day the sheet gives.
VISIT_TIME = dt.time(12)


def item_key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def local_noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, VISIT_TIME))


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    refused: list[Row] = field(default_factory=list)


@dataclass
class RunState:
    """What one run has placed so far, across its batches (a restarted run finds it in the database)."""

    new_phones: dict[str, int] = field(default_factory=dict)  # phone -> customer key
    new_plates: dict[str, int] = field(default_factory=dict)  # plate -> row
    new_vins: set[str] = field(default_factory=set)
    items: dict[str, ServiceItem] | None = None
    sources: dict[str, Source] | None = None
    next_key: int = -1  # keys of files not written yet (the dry run's, and a batch's before it writes)
    order_numbers: dict[dt.date, int] = field(default_factory=dict)  # day -> its next order number

    def item(self, organization: Organization, text: str) -> ServiceItem | None:
        """The catalog's item a sheet names: by code or name, with or without what its name says in
        brackets (小保养 is 小保养（机油+机滤）), half-width, any case. The catalog is read once per run."""
        if self.items is None:
            self.items = {}
            short: dict[str, list[ServiceItem]] = {}
            for item in ServiceItem.objects.for_org(organization).order_by("-is_active", "pk"):
                self.items.setdefault(item_key(item.name), item)
                self.items.setdefault(item_key(item.code), item)
                short.setdefault(item_key(_BRACKETS.sub("", item.name)), []).append(item)
            for key, items in short.items():
                if len(items) == 1:
                    self.items.setdefault(key, items[0])
        return self.items.get(item_key(text))

    def source_for(self, organization: Organization, text: str) -> Source | None:
        if self.sources is None:
            self.sources = {}
            for source in Source.objects.for_org(organization):
                self.sources[source.label.casefold()] = source
                self.sources[source.code.casefold()] = source
        return self.sources.get(text.casefold())


@dataclass
class Plan:
    """What a row will do."""

    row: Row
    action: str
    customer: Customer | None = None  # a file already there (update, or a car added to it)
    customer_key: int | None = None  # a file this run creates: below 0 until written, then its id
    vehicle: Vehicle | None = None  # the car already there


@dataclass
class _OnFile:
    """The organization's files that a batch's phones, plates and VINs name."""

    by_phone: dict[str, Customer]
    by_plate: dict[str, Vehicle]
    vin_plates: dict[str, str]
    ours: set[int]  # files this import made in earlier batches (or an interrupted run of it)


def _on_file(job: ImportJob, rows: Sequence[Row]) -> _OnFile:
    org = job.organization_id
    phones = {r.values["phone"] for r in rows if r.values.get("phone")}
    plates = {r.values["plate"] for r in rows if r.values.get("plate")}
    vins = {r.values["vin"] for r in rows if r.values.get("vin")}
    by_phone = {c.phone: c for c in Customer.objects.for_org(org).active().filter(phone__in=phones)} if phones else {}
    by_plate = (
        {v.plate: v for v in Vehicle.objects.for_org(org).active().filter(plate__in=plates).select_related("customer")}
        if plates
        else {}
    )
    vin_plates = (
        dict(Vehicle.objects.for_org(org).active().filter(vin__in=vins).values_list("vin", "plate")) if vins else {}
    )
    known_ids = {c.pk for c in by_phone.values()} | {v.customer_id for v in by_plate.values()}
    ours = (
        set(
            ImportedCustomer.objects.for_org(org)
            .filter(job=job, customer_id__in=known_ids)
            .values_list("customer_id", flat=True)
        )
        if known_ids
        else set()
    )
    return _OnFile(by_phone, by_plate, vin_plates, ours)


def classify_files(job: ImportJob, rows: Sequence[Row], state: RunState) -> list[Plan]:
    """The plans of a batch of customer or prospect rows (four reads of the organization's files)."""
    on_file = _on_file(job, [r for r in rows if r.ok])
    plans: list[Plan] = []
    for row in rows:
        plan = _classify(job, row, state, on_file) if row.ok else Plan(row, REFUSE)
        if plan.action != REFUSE and job.kind == ImportKind.PROSPECTS:
            _resolve_source(job.organization, row, state)
            if not row.ok:
                plan = Plan(row, REFUSE)
        plans.append(plan)
        if plan.action == CREATE:
            if plan.customer is None and plan.customer_key is None:
                plan.customer_key = state.next_key
                state.next_key -= 1
                if row.values.get("phone"):
                    state.new_phones[row.values["phone"]] = plan.customer_key
            if row.values.get("plate"):
                state.new_plates[row.values["plate"]] = row.number
            if row.values.get("vin"):
                state.new_vins.add(row.values["vin"])
    return plans


def _classify(job: ImportJob, row: Row, state: RunState, on_file: _OnFile) -> Plan:
    v = row.values
    phone, plate, vin = v.get("phone", ""), v.get("plate", ""), v.get("vin", "")
    vehicle = on_file.by_plate.get(plate) if plate else None
    if plate and plate in state.new_plates:
        row.refuse("plate", errors.PLATE_TWICE % {"row": state.new_plates[plate]})
        return Plan(row, REFUSE)
    if vehicle is not None and vehicle.customer_id in on_file.ours:
        row.refuse("plate", errors.PLATE_TWICE_EARLIER)
        return Plan(row, REFUSE)
    if vin and (vin in state.new_vins or (vin in on_file.vin_plates and on_file.vin_plates[vin] != plate)):
        row.refuse("vin", errors.VIN_TAKEN)
        return Plan(row, REFUSE)
    # This run's own file: a further car of the same phone.
    if phone and phone in state.new_phones:
        return Plan(row, CREATE, customer_key=state.new_phones[phone])
    existing = on_file.by_phone.get(phone) if phone else None
    if existing is not None and existing.pk in on_file.ours:
        state.new_phones[phone] = existing.pk
        return Plan(row, CREATE, customer=existing, customer_key=existing.pk)
    if existing is not None and vehicle is not None and vehicle.customer_id != existing.pk:
        row.refuse("plate", errors.PLATE_OTHER_OWNER % {"name": vehicle.customer.name})
        return Plan(row, REFUSE)
    if existing is None and vehicle is not None:
        if phone and vehicle.customer.phone and vehicle.customer.phone != phone:
            row.refuse("plate", errors.PLATE_OTHER_OWNER % {"name": vehicle.customer.name})
            return Plan(row, REFUSE)
        existing = vehicle.customer
    if existing is None:
        return Plan(row, CREATE)
    if job.on_duplicate == OnDuplicate.SKIP:
        return Plan(row, SKIP, customer=existing, vehicle=vehicle)
    return Plan(row, UPDATE, customer=existing, vehicle=vehicle)


def _resolve_source(org: Organization, row: Row, state: RunState) -> None:
    text = row.values.get("source", "")
    if not text:
        row.values["source_obj"] = None
        return
    source = state.source_for(org, text)
    if source is None:
        row.refuse("source", errors.SOURCE_UNKNOWN)
    row.values["source_obj"] = source


def count(plans: Sequence[Plan]) -> BatchResult:
    """The batch's report from its plans (a row refused while it was written counts as refused)."""
    result = BatchResult()
    for plan in plans:
        if plan.action == REFUSE or not plan.row.ok:
            result.failed += 1
            result.refused.append(plan.row)
        elif plan.action == CREATE:
            result.created += 1
        elif plan.action == UPDATE:
            result.updated += 1
        else:
            result.skipped += 1
    return result
