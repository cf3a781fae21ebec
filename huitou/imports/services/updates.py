"""Rows that change a file already there: through the customer services, one savepoint per row.

Update takes the row's values; merge fills only what the file lacks. The
rules and the history of an edit are the services' (``customer_update``,
``vehicle_create``, ``vehicle_update``, ``mileage_record``); a refusal
makes the row an error row and leaves the file as it was. In a dry run the
services run and are rolled back, so its report says what they would refuse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from huitou.audit.models import ChangeEntry
from huitou.customers.models import MileageReading, Vehicle
from huitou.customers.services import customer_update, mileage_record, vehicle_create, vehicle_update
from huitou.imports.models import ImportJob, ImportKind, OnDuplicate
from huitou.imports.services.history import ENTRY_COLUMNS
from huitou.imports.services.orders import OrderSpec, paid_orders
from huitou.imports.services.plan import UPDATE, Plan, RunState, local_noon
from huitou.lib.bulk_rows import insert_rows
from huitou.service.models import OrderLine, ServiceItem
from huitou.service.services.orders import customer_visits_refresh
from huitou.tenancy.models import User


def _customer_values(v: dict[str, Any]) -> dict[str, Any]:
    """The row's customer fields that have a value, as the customer services name them."""
    data: dict[str, Any] = {}
    for name in ("name", "phone", "wechat", "address", "need", "notes"):
        if v.get(name):
            data[name] = v[name]
    if v.get("gender"):
        data["gender"] = v["gender"]
    if v.get("source_obj") is not None:
        data["source"] = v["source_obj"].code
    birthday = v.get("birthday")
    if birthday:
        year, month, day, calendar = birthday
        data.update({"birth_year": year, "birth_month": month, "birth_day": day, "birthday_calendar": calendar})
    return data


def _vehicle_values(v: dict[str, Any]) -> dict[str, Any]:
    return {name: v[name] for name in ("plate", "vin", "brand", "model", "colour") if v.get(name)}


def update_files(job: ImportJob, plans: Sequence[Plan], state: RunState, by: User, now: dt.datetime) -> None:
    """Write the batch's updates (in the caller's transaction)."""
    for plan in plans:
        if plan.action == UPDATE and plan.customer is not None:
            _update_file(job, plan, state, by=by, now=now)


class _DryRun(Exception):
    """Rolls back what a dry run tried."""


def try_updates(job: ImportJob, plans: Sequence[Plan], state: RunState, by: User, now: dt.datetime) -> None:
    """The dry run of the rows that change a file: the services run and are rolled back."""
    updates = [p for p in plans if p.action == UPDATE and p.customer is not None]
    if not updates:
        return
    try:
        with transaction.atomic():
            update_files(job, updates, state, by, now)
            raise _DryRun
    except _DryRun:
        pass
    for plan in updates:  # the services' objects may hold what was rolled back
        if plan.customer is not None:
            plan.customer.refresh_from_db()


def _update_file(job: ImportJob, plan: Plan, state: RunState, by: User, now: dt.datetime) -> None:
    """Update (or merge into) an existing file with the row; a refusal makes the row an error row."""
    customer = plan.customer
    assert customer is not None
    v = plan.row.values
    merge = job.on_duplicate == OnDuplicate.MERGE
    data = _customer_values(v)
    data.pop("phone", None)  # the phone is how the file was found (or the file has its own)
    if merge:
        data = {k: val for k, val in data.items() if not getattr(customer, k if k != "source" else "source_id", None)}
        if customer.birth_month:
            for key in ("birth_year", "birth_month", "birth_day", "birthday_calendar"):
                data.pop(key, None)
    if "notes" in data and customer.notes and not merge and v["notes"] not in customer.notes:
        data["notes"] = f"{customer.notes}\n{v['notes']}"
    try:
        with transaction.atomic():
            if v.get("phone") and not customer.phone:
                data["phone"] = v["phone"]
            if data:
                customer_update(customer=customer, by=by, data=data)
            _update_car(job, plan, state, merge, by, now)
    except ValidationError as exc:
        plan.row.refuse_service(exc)


def _update_car(job: ImportJob, plan: Plan, state: RunState, merge: bool, by: User, now: dt.datetime) -> None:
    customer = plan.customer
    assert customer is not None
    v = plan.row.values
    if not v.get("plate"):
        return
    vehicle = plan.vehicle
    data = _vehicle_values(v)
    if vehicle is None:
        vehicle = vehicle_create(customer=customer, by=by, data=data, now=now)
    else:
        data.pop("plate")
        if merge:
            data = {k: val for k, val in data.items() if not getattr(vehicle, k)}
        if data:
            vehicle_update(vehicle=vehicle, by=by, data=data)
    if v.get("mileage") is not None:
        read_at = local_noon(v["last_service_date"]) if v.get("last_service_date") else now
        same = MileageReading.objects.for_org(job.organization_id).filter(
            vehicle=vehicle, km=v["mileage"], read_at=read_at
        )
        if not same.exists():  # the same reading imported before
            mileage_record(
                vehicle=vehicle, km=v["mileage"], by=by, read_at=read_at, source=MileageReading.Source.IMPORT, now=now
            )
    if job.kind == ImportKind.CUSTOMERS and v.get("service_item") and v.get("last_service_date"):
        item = state.item(job.organization, v["service_item"])
        if item is not None and not _has_order(job, vehicle, item, v["last_service_date"]):
            reading = (
                MileageReading.objects.for_org(job.organization_id)
                .filter(vehicle=vehicle, read_at=local_noon(v["last_service_date"]))
                .first()
            )
            spec = OrderSpec(plan.row, v["last_service_date"], vehicle.pk, customer.pk, vehicle.plate, item)
            if reading is not None:
                spec.reading_id, spec.km = reading.pk, reading.km
            entries: list[tuple[Any, ...]] = []
            paid_orders(job, [spec], state, by, now, entries)
            insert_rows(ChangeEntry, ENTRY_COLUMNS, entries)
            customer_visits_refresh(organization_id=job.organization_id, customer_id=customer.pk)


def _has_order(job: ImportJob, vehicle: Vehicle, item: ServiceItem, day: dt.date) -> bool:
    at = local_noon(day)
    return (
        OrderLine.objects.for_org(job.organization_id)
        .filter(order__vehicle=vehicle, order__opened_at=at, service=item)
        .exists()
    )
