"""Vehicles: registering, changing, deleting and handing them to another customer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record, diff, snapshot
from huitou.customers import errors
from huitou.customers.models import (
    Customer,
    Vehicle,
    VehicleOwnership,
)
from huitou.customers.services._common import _as_int, _Errors, _save_unique
from huitou.customers.services.completeness import customer_refresh_completeness
from huitou.customers.services.mileage import mileage_record
from huitou.lib.plates import PlateError, normalize_plate
from huitou.lib.vin import VinFormatError, check_digit_ok, normalize_vin
from huitou.tenancy.models import User

VEHICLE_TEXT_FIELDS = ("brand", "model", "colour")
VEHICLE_DATE_FIELDS = ("purchase_date", "insurance_expiry", "inspection_due")
VEHICLE_FIELDS = ("plate", "vin", "year", *VEHICLE_TEXT_FIELDS, *VEHICLE_DATE_FIELDS)


def _as_date(value: Any, field: str, errs: _Errors) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errs.add(field, errors.CHOICE_INVALID)
        return None


def _clean_vehicle(organization_id: int, data: Mapping[str, Any], vehicle: Vehicle, vin_confirmed: bool) -> None:
    errs = _Errors()
    if "plate" in data:
        raw = data["plate"] or ""
        if not raw.strip():
            errs.add("plate", errors.PLATE_REQUIRED)
        else:
            try:
                vehicle.plate = normalize_plate(raw)
            except PlateError:
                errs.add("plate", errors.PLATE_INVALID)
    if "vin" in data:
        raw = data["vin"] or ""
        if raw.strip():
            try:
                vehicle.vin = normalize_vin(raw)
            except VinFormatError:
                errs.add("vin", errors.VIN_INVALID)
            else:
                vehicle.vin_check_failed = not check_digit_ok(vehicle.vin)
                if vehicle.vin_check_failed and not vin_confirmed:
                    errs.add("vin", errors.VIN_CHECK_FAILED)
        else:
            vehicle.vin, vehicle.vin_check_failed = "", False
    if "year" in data:
        year = _as_int(data["year"], "year", errs, errors.YEAR_INVALID)
        if year is not None and not 1950 <= year <= timezone.localdate().year + 1:
            errs.add("year", errors.YEAR_INVALID)
        vehicle.year = year
    for field in VEHICLE_TEXT_FIELDS:
        if field in data:
            setattr(vehicle, field, (data[field] or "").strip())
    for field in VEHICLE_DATE_FIELDS:
        if field in data:
            setattr(vehicle, field, _as_date(data[field], field, errs))
    try:
        vehicle.clean_fields(exclude=[f.name for f in Vehicle._meta.fields if f.name not in VEHICLE_TEXT_FIELDS])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                errs.add(field, message)
    active = Vehicle.objects.for_org(organization_id).active().exclude(pk=vehicle.pk)
    if vehicle.plate and "plate" not in errs and active.filter(plate=vehicle.plate).exists():
        errs.add("plate", errors.PLATE_TAKEN)
    if vehicle.vin and "vin" not in errs and active.filter(vin=vehicle.vin).exists():
        errs.add("vin", errors.VIN_TAKEN)
    errs.raise_if_any()


def vehicle_check(
    *, organization_id: int, data: Mapping[str, Any], vehicle: Vehicle | None = None, vin_confirmed: bool = False
) -> ValidationError | None:
    """Every rule ``vehicle_create``/``vehicle_update`` would apply, without saving."""
    probe = (
        Vehicle.objects.for_org(vehicle.organization_id).get(pk=vehicle.pk)
        if vehicle is not None
        else Vehicle(organization_id=organization_id)
    )
    try:
        _clean_vehicle(organization_id, data, probe, vin_confirmed)
    except ValidationError as exc:
        return exc
    return None


def vehicle_create(
    *,
    customer: Customer,
    by: User | None,
    data: Mapping[str, Any],
    vin_confirmed: bool = False,
    mileage_km: int | None = None,
    now: dt.datetime | None = None,
) -> Vehicle:
    if customer.deleted_at is not None:
        raise ValidationError(errors.CUSTOMER_DELETED)
    vehicle = Vehicle(organization_id=customer.organization_id, customer=customer)
    _clean_vehicle(customer.organization_id, {"plate": "", **data}, vehicle, vin_confirmed)
    with transaction.atomic():
        _save_unique(vehicle)
        VehicleOwnership.objects.create(
            organization_id=vehicle.organization_id, vehicle=vehicle, customer=customer, since=now or timezone.now()
        )
        change_record(
            organization_id=vehicle.organization_id,
            subject=vehicle,
            action=ChangeEntry.Action.CREATED,
            actor=by,
            customer_id=customer.pk,
            changes={f: [None, v] for f, v in snapshot(vehicle, VEHICLE_FIELDS).items() if v},
            at=now,
        )
        if mileage_km is not None:
            mileage_record(vehicle=vehicle, km=mileage_km, by=by, now=now)
        customer_refresh_completeness(customer=customer)
    return vehicle


def vehicle_update(
    *, vehicle: Vehicle, by: User | None, data: Mapping[str, Any], vin_confirmed: bool = False
) -> Vehicle:
    before = snapshot(vehicle, VEHICLE_FIELDS)
    try:
        _clean_vehicle(vehicle.organization_id, data, vehicle, vin_confirmed)
    except ValidationError:
        # Refused input must not linger on the caller's object (a retry would diff against it).
        vehicle.refresh_from_db()
        raise
    changes = diff(before, snapshot(vehicle, VEHICLE_FIELDS))
    if not changes:
        return vehicle
    with transaction.atomic():
        _save_unique(vehicle)
        change_record(
            organization_id=vehicle.organization_id,
            subject=vehicle,
            action=ChangeEntry.Action.UPDATED,
            actor=by,
            customer_id=vehicle.customer_id,
            changes=changes,
        )
    return vehicle


def vehicle_delete(*, vehicle: Vehicle, by: User | None) -> None:
    if vehicle.deleted_at is not None:
        return
    with transaction.atomic():
        vehicle.deleted_at, vehicle.deleted_by = timezone.now(), by
        vehicle.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
        change_record(
            organization_id=vehicle.organization_id,
            subject=vehicle,
            action=ChangeEntry.Action.DELETED,
            actor=by,
            customer_id=vehicle.customer_id,
            changes={"plate": [vehicle.plate, None]},
        )
        customer_refresh_completeness(customer=vehicle.customer)


def vehicle_transfer(*, vehicle: Vehicle, to_customer: Customer, by: User | None) -> Vehicle:
    """Hand a vehicle to another customer; its readings and history stay with it."""
    if vehicle.deleted_at is not None:
        raise ValidationError(errors.VEHICLE_DELETED)
    if to_customer.organization_id != vehicle.organization_id or to_customer.deleted_at is not None:
        raise ValidationError({"customer": [errors.CUSTOMER_NOT_FOUND]})
    if to_customer.pk == vehicle.customer_id:
        raise ValidationError({"customer": [errors.TRANSFER_SAME_OWNER]})
    now = timezone.now()
    previous = vehicle.customer
    with transaction.atomic():
        VehicleOwnership.objects.for_org(vehicle.organization_id).filter(vehicle=vehicle, until__isnull=True).update(
            until=now
        )
        VehicleOwnership.objects.create(
            organization_id=vehicle.organization_id, vehicle=vehicle, customer=to_customer, since=now
        )
        vehicle.customer = to_customer
        vehicle.save(update_fields=["customer", "updated_at"])
        for customer_id in (previous.pk, to_customer.pk):
            change_record(
                organization_id=vehicle.organization_id,
                subject=vehicle,
                action=ChangeEntry.Action.OWNER_CHANGED,
                actor=by,
                customer_id=customer_id,
                changes={"customer": [previous.name, to_customer.name], "plate": [vehicle.plate, vehicle.plate]},
            )
        customer_refresh_completeness(customer=previous)
        customer_refresh_completeness(customer=to_customer)
    return vehicle
