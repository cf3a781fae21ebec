"""Writes to customer and vehicle files. Every rule about them lives here.

Callers (pages, API, imports, demo) pass plain values; the services
normalise, validate, write inside one transaction and record the change
history. Refused input raises ``ValidationError`` with per-field messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record, diff, snapshot
from huitou.customers import errors, events
from huitou.customers.models import (
    BirthdayCalendar,
    Channel,
    ConsentRecord,
    Customer,
    CustomerTag,
    Gender,
    Household,
    MileageReading,
    Source,
    Stage,
    Tag,
    Vehicle,
    VehicleOwnership,
)
from huitou.lib import completeness as completeness_lib
from huitou.lib.birthdays import BirthdayError
from huitou.lib.birthdays import validate as validate_birthday
from huitou.lib.phones import PhoneError, last4, normalize_phone
from huitou.lib.pinyin import pinyin_keys
from huitou.lib.plates import PlateError, normalize_plate
from huitou.lib.vin import VinFormatError, check_digit_ok, normalize_vin
from huitou.tenancy.models import Organization, User

# Fields a caller may set on a customer, as plain values. ``source`` is a
# source code, ``owner`` a staff id, ``tags`` a list of tag names.
CUSTOMER_TEXT_FIELDS = (
    "name",
    "wechat",
    "email",
    "address",
    "preferred_time",
    "occupation",
    "family",
    "personality",
    "habits",
    "hobbies",
    "lifestyle",
    "values",
    "notes",
    "need",
)
# The stage is not among them: it changes only through the lifecycle services.
CUSTOMER_CHOICE_FIELDS = ("gender", "birthday_calendar", "age_bracket", "preferred_channel")
CUSTOMER_FIELDS = (
    *CUSTOMER_TEXT_FIELDS,
    *CUSTOMER_CHOICE_FIELDS,
    "phone",
    "birth_year",
    "birth_month",
    "birth_day",
    "source",
    "owner",
    "referrer",
    "tags",
)
# Values a new file has unless someone enters something: not news for the history.
_FIELD_DEFAULTS = {"gender": Gender.UNKNOWN, "birthday_calendar": BirthdayCalendar.SOLAR}
# What the history shows for a customer.
CUSTOMER_HISTORY_FIELDS = (
    *CUSTOMER_TEXT_FIELDS,
    *CUSTOMER_CHOICE_FIELDS,
    "phone",
    "birth_year",
    "birth_month",
    "birth_day",
    "source",
    "owner",
    "referrer",
)

VEHICLE_TEXT_FIELDS = ("brand", "model", "colour")
VEHICLE_DATE_FIELDS = ("purchase_date", "insurance_expiry", "inspection_due")
VEHICLE_FIELDS = ("plate", "vin", "year", *VEHICLE_TEXT_FIELDS, *VEHICLE_DATE_FIELDS)

DEFAULT_SOURCES = (
    ("opening_promo", "开业酬宾"),
    ("flyer", "传单"),
    ("dealer_partner", "合作车商"),
    ("gas_station", "加油站"),
    ("wechat", "微信"),
    ("referral", "老带新"),
    ("competitor_switch", "转店"),
    ("walk_in", "自然到店"),
    ("online", "网络平台"),
    ("event", "活动"),
)


class _Errors(dict[str, list[Any]]):
    def add(self, field: str, message: Any) -> None:
        self.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


def sources_seed(*, organization: Organization) -> None:
    """Give a new organization the sources seen in the field."""
    Source.objects.bulk_create(
        [
            Source(organization=organization, code=code, label=label, sort_order=i)
            for i, (code, label) in enumerate(DEFAULT_SOURCES)
        ],
        ignore_conflicts=True,
    )


# --- customers ----------------------------------------------------------------------------


def _as_int(value: Any, field: str, errs: _Errors, message: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errs.add(field, message)
        return None


def _clean_customer(organization: Organization, data: Mapping[str, Any], customer: Customer) -> list[str] | None:
    """Apply ``data`` to ``customer`` (unsaved), validating every rule.

    Returns the tag names to set (None: leave tags alone).
    """
    errs = _Errors()
    if "stage" in data:
        errs.add("stage", errors.STAGE_NOT_HERE)
    for field in CUSTOMER_TEXT_FIELDS:
        if field in data:
            setattr(customer, field, (data[field] or "").strip())
    for field in CUSTOMER_CHOICE_FIELDS:
        if field in data:
            model_field = cast("models.Field[Any, Any]", Customer._meta.get_field(field))
            value = data[field] or model_field.get_default()
            allowed = {choice for choice, _label in model_field.flatchoices} | ({""} if model_field.blank else set())
            if value not in allowed:
                errs.add(field, errors.CHOICE_INVALID)
                continue
            setattr(customer, field, value)

    if not customer.name:
        errs.add("name", errors.NAME_REQUIRED)
    if "email" in data and customer.email:
        try:
            validate_email(customer.email)
        except ValidationError:
            errs.add("email", errors.EMAIL_INVALID)

    if "phone" in data:
        raw = (data["phone"] or "").strip()
        try:
            customer.phone = normalize_phone(raw) if raw else ""
        except PhoneError:
            errs.add("phone", errors.PHONE_INVALID)
        customer.phone_last4 = last4(customer.phone)

    if any(f in data for f in ("birth_year", "birth_month", "birth_day", "birthday_calendar")):
        if "birth_year" in data:
            customer.birth_year = _as_int(data["birth_year"], "birth_year", errs, errors.BIRTH_YEAR_INVALID)
        if "birth_month" in data:
            customer.birth_month = _as_int(data["birth_month"], "birth_month", errs, errors.BIRTHDAY_INVALID)
        if "birth_day" in data:
            customer.birth_day = _as_int(data["birth_day"], "birth_day", errs, errors.BIRTHDAY_INVALID)
        this_year = timezone.localdate().year
        if customer.birth_year is not None and not 1900 <= customer.birth_year <= this_year:
            errs.add("birth_year", errors.BIRTH_YEAR_INVALID)
        elif bool(customer.birth_month) != bool(customer.birth_day):
            errs.add("birth_day" if customer.birth_month else "birth_month", errors.BIRTHDAY_INCOMPLETE)
        elif customer.birth_month and customer.birth_day:
            try:
                validate_birthday(
                    customer.birth_month, customer.birth_day, customer.birthday_calendar, customer.birth_year
                )
            except BirthdayError:
                errs.add("birth_day", errors.BIRTHDAY_INVALID)

    if "owner" in data:
        owner_id = _as_int(data["owner"], "owner", errs, errors.OWNER_INVALID)
        owner = User.objects.for_org(organization).filter(pk=owner_id, is_active=True).first() if owner_id else None
        if owner is None:
            errs.add("owner", errors.OWNER_INVALID)
        else:
            customer.owner = owner

    if "source" in data:
        code = data["source"] or ""
        source = Source.objects.for_org(organization).filter(code=code).first() if code else None
        if code and source is None:
            errs.add("source", errors.SOURCE_INVALID)
        customer.source = source

    if "referrer" in data:
        referrer_id = _as_int(data["referrer"], "referrer", errs, errors.REFERRER_INVALID) if data["referrer"] else None
        referrer = (
            Customer.objects.for_org(organization).active().filter(pk=referrer_id).first() if referrer_id else None
        )
        if referrer_id and (referrer is None or referrer.pk == customer.pk):
            errs.add("referrer", errors.REFERRER_INVALID)
        customer.referrer = referrer

    tags: list[str] | None = None
    if "tags" in data:
        tags = sorted({str(t).strip() for t in (data["tags"] or []) if str(t).strip()})
        if any(len(t) > 30 for t in tags):
            errs.add("tags", errors.TAG_TOO_LONG)

    try:
        customer.clean_fields(
            exclude=[
                f.name
                for f in Customer._meta.fields
                if f.name not in CUSTOMER_TEXT_FIELDS + CUSTOMER_CHOICE_FIELDS or f.name in errs
            ]
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                errs.add(field, message)

    if customer.phone and "phone" not in errs:
        taken = Customer.objects.for_org(organization).active().filter(phone=customer.phone)
        if customer.pk:
            taken = taken.exclude(pk=customer.pk)
        if taken.exists():
            errs.add("phone", errors.PHONE_TAKEN)
    errs.raise_if_any()
    return tags


def customer_check(
    *, organization: Organization, data: Mapping[str, Any], customer: Customer | None = None
) -> ValidationError | None:
    """Every rule ``customer_create``/``customer_update`` would apply, without saving.

    Forms use it to show all problems at once, also while some fields
    still fail their type checks.
    """
    probe = Customer.objects.get(pk=customer.pk) if customer is not None else Customer(organization=organization)
    try:
        _clean_customer(organization, data, probe)
    except ValidationError as exc:
        return exc
    return None


def _set_keys(customer: Customer) -> None:
    customer.name_pinyin, customer.name_initials = pinyin_keys(customer.name)


def customer_refresh_completeness(*, customer: Customer) -> int:
    has_vehicle = Vehicle.objects.for_org(customer.organization_id).active().filter(customer=customer).exists()
    score = completeness_lib.completeness(customer.completeness_facts(has_vehicle))
    if score != customer.completeness:
        customer.completeness = score
        Customer.objects.filter(pk=customer.pk).update(completeness=score)
    return score


def _set_tags(customer: Customer, names: Iterable[str]) -> None:
    org_id = customer.organization_id
    wanted = set(names)
    existing = {t.name: t for t in Tag.objects.for_org(org_id).filter(name__in=wanted)}
    for name in wanted - existing.keys():
        existing[name] = Tag.objects.create(organization_id=org_id, name=name)
    CustomerTag.objects.for_org(org_id).filter(customer=customer).exclude(tag__name__in=wanted).delete()
    have = set(CustomerTag.objects.for_org(org_id).filter(customer=customer).values_list("tag__name", flat=True))
    CustomerTag.objects.bulk_create(
        [CustomerTag(organization_id=org_id, customer=customer, tag=existing[n]) for n in wanted - have]
    )


# Unique rules that a concurrent write can still break between check and save:
# (model, field) -> message. The database's error names the constraint
# (PostgreSQL) or the columns (SQLite); either identifies the field.
_UNIQUE_MESSAGES: dict[tuple[str, str], Any] = {
    ("customer", "phone"): errors.PHONE_TAKEN,
    ("vehicle", "plate"): errors.PLATE_TAKEN,
    ("vehicle", "vin"): errors.VIN_TAKEN,
}


def _save_unique(obj: Any) -> None:
    """Save; a unique-constraint race becomes the same field error as the check."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        text = str(exc)
        model = obj._meta.model_name
        for (model_name, field), message in _UNIQUE_MESSAGES.items():
            if model_name == model and (f"_unique_{field}_" in text or f".{field}" in text):
                raise ValidationError({field: [message]}) from exc
        raise


def customer_create(
    *,
    organization: Organization,
    by: User | None,
    data: Mapping[str, Any],
    consents: Mapping[str, bool] | None = None,
    consent_method: str = ConsentRecord.Method.VERBAL,
    consent_purpose: str = "",
) -> Customer:
    """Register a customer (or prospect). The owner defaults to ``by``."""
    customer = Customer(organization=organization, created_by=by, stage=Stage.PROSPECT)
    if by is not None and by.organization_id == organization.pk and "owner" not in data:
        customer.owner = by
    if "owner" not in data and customer.owner_id is None:
        # No owner given and ``by`` cannot be one (no user, or staff of another organization).
        raise ValidationError({"owner": [errors.OWNER_INVALID]})
    data = {"name": "", **data}
    tags = _clean_customer(organization, data, customer)
    granted = [c for c, on in (consents or {}).items() if on]
    if granted and not consent_purpose.strip():
        raise ValidationError({"consent_purpose": [errors.CONSENT_PURPOSE_REQUIRED]})
    _set_keys(customer)
    with transaction.atomic():
        _save_unique(customer)
        if tags:
            _set_tags(customer, tags)
        change_record(
            organization_id=organization.pk,
            subject=customer,
            action=ChangeEntry.Action.CREATED,
            actor=by,
            customer_id=customer.pk,
            changes={
                f: [None, v]
                for f, v in snapshot(customer, CUSTOMER_HISTORY_FIELDS).items()
                if v and v != _FIELD_DEFAULTS.get(f)
            },
        )
        for channel in granted:
            consent_set(
                customer=customer,
                channel=channel,
                granted=True,
                method=consent_method,
                purpose=consent_purpose,
                by=by,
            )
        customer_refresh_completeness(customer=customer)
        events.customer_created.send(sender=Customer, customer=customer, by=by)
    return customer


def customer_update(*, customer: Customer, by: User | None, data: Mapping[str, Any]) -> Customer:
    """Change fields of a customer file; only the keys in ``data`` change."""
    if customer.deleted_at is not None:
        raise ValidationError(errors.CUSTOMER_DELETED)
    organization = customer.organization
    before = snapshot(customer, CUSTOMER_HISTORY_FIELDS)
    before_tags = sorted(customer.tag_links.values_list("tag__name", flat=True)) if "tags" in data else []
    try:
        tags = _clean_customer(organization, data, customer)
    except ValidationError:
        # Refused input must not linger on the caller's object (a retry would diff against it).
        customer.refresh_from_db()
        raise
    _set_keys(customer)
    changes: dict[str, Any] = diff(before, snapshot(customer, CUSTOMER_HISTORY_FIELDS))
    if tags is not None and tags != before_tags:
        changes["tags"] = [before_tags, tags]
    if not changes:
        return customer
    with transaction.atomic():
        _save_unique(customer)
        if tags is not None:
            _set_tags(customer, tags)
        action = ChangeEntry.Action.OWNER_CHANGED if set(changes) == {"owner"} else ChangeEntry.Action.UPDATED
        change_record(
            organization_id=customer.organization_id,
            subject=customer,
            action=action,
            actor=by,
            customer_id=customer.pk,
            changes=changes,
        )
        customer_refresh_completeness(customer=customer)
    return customer


def consent_set(
    *, customer: Customer, channel: str, granted: bool, method: str, purpose: str, by: User | None
) -> ConsentRecord:
    """Record consent given or withdrawn for one channel (personal-information law)."""
    errs = _Errors()
    if channel not in Channel.values:
        errs.add("channel", errors.CHOICE_INVALID)
    if method not in ConsentRecord.Method.values:
        errs.add("method", errors.CHOICE_INVALID)
    if not (purpose or "").strip():
        errs.add("purpose", errors.CONSENT_PURPOSE_REQUIRED)
    errs.raise_if_any()
    with transaction.atomic():
        record = ConsentRecord.objects.create(
            organization_id=customer.organization_id,
            customer=customer,
            channel=channel,
            granted=granted,
            method=method,
            purpose=purpose.strip()[:200],
            at=timezone.now(),
            recorded_by=by,
        )
        field = f"consent_{channel}"
        before = getattr(customer, field)
        setattr(customer, field, granted)
        Customer.objects.filter(pk=customer.pk).update(**{field: granted})
        change_record(
            organization_id=customer.organization_id,
            subject=customer,
            action=ChangeEntry.Action.CONSENT,
            actor=by,
            customer_id=customer.pk,
            changes={field: [before, granted], "method": [None, method], "purpose": [None, record.purpose]},
        )
        customer_refresh_completeness(customer=customer)
    return record


def customer_delete(*, customer: Customer, by: User | None) -> None:
    """Soft delete: the file and its vehicles are hidden, nothing is lost."""
    if customer.deleted_at is not None:
        return
    now = timezone.now()
    with transaction.atomic():
        vehicles = list(Vehicle.objects.for_org(customer.organization_id).active().filter(customer=customer))
        Vehicle.objects.filter(pk__in=[v.pk for v in vehicles]).update(deleted_at=now, deleted_by=by)
        customer.deleted_at, customer.deleted_by = now, by
        customer.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
        change_record(
            organization_id=customer.organization_id,
            subject=customer,
            action=ChangeEntry.Action.DELETED,
            actor=by,
            customer_id=customer.pk,
            changes={"vehicles": [[v.plate for v in vehicles], []]},
        )
        events.customer_deleted.send(sender=Customer, customer=customer, by=by)


def customer_restore(*, customer: Customer, by: User | None) -> Customer:
    """Undo a soft delete, with the vehicles deleted together with the file."""
    if customer.deleted_at is None:
        return customer
    deleted_at = customer.deleted_at
    with transaction.atomic():
        customer.deleted_at, customer.deleted_by = None, None
        _save_unique(customer)
        vehicles = Vehicle.objects.for_org(customer.organization_id).filter(customer=customer, deleted_at=deleted_at)
        for vehicle in vehicles:
            vehicle.deleted_at, vehicle.deleted_by = None, None
            _save_unique(vehicle)
        change_record(
            organization_id=customer.organization_id,
            subject=customer,
            action=ChangeEntry.Action.RESTORED,
            actor=by,
            customer_id=customer.pk,
        )
        events.customer_restored.send(sender=Customer, customer=customer, by=by)
    return customer


def household_link(*, customer: Customer, other: Customer, by: User | None) -> Household:
    """Put two customers of one organization in the same household."""
    if customer.pk == other.pk:
        raise ValidationError({"other": [errors.HOUSEHOLD_SELF]})
    if customer.organization_id != other.organization_id or other.deleted_at or customer.deleted_at:
        raise ValidationError({"other": [errors.CUSTOMER_NOT_FOUND]})
    org_id = customer.organization_id
    with transaction.atomic():
        household = customer.household or other.household
        if household is None:
            household = Household.objects.create(organization_id=org_id)
        for member in (customer, other):
            if member.household_id and member.household_id != household.pk:
                merged = member.household_id
                Customer.objects.for_org(org_id).filter(household_id=merged).update(household=household)
                Household.objects.for_org(org_id).filter(pk=merged).delete()
            member.household = household
        Customer.objects.for_org(org_id).filter(pk__in=[customer.pk, other.pk]).update(household=household)
        for a, b in ((customer, other), (other, customer)):
            change_record(
                organization_id=org_id,
                subject=a,
                action=ChangeEntry.Action.LINKED,
                actor=by,
                customer_id=a.pk,
                changes={"household": [None, b.name]},
            )
    return household


def household_unlink(*, customer: Customer, by: User | None) -> None:
    if customer.household_id is None:
        return
    with transaction.atomic():
        household_id = customer.household_id
        customer.household = None
        Customer.objects.filter(pk=customer.pk).update(household=None)
        change_record(
            organization_id=customer.organization_id,
            subject=customer,
            action=ChangeEntry.Action.UNLINKED,
            actor=by,
            customer_id=customer.pk,
        )
        remaining = Customer.objects.for_org(customer.organization_id).filter(household_id=household_id)
        if remaining.count() < 2:
            remaining.update(household=None)
            Household.objects.filter(pk=household_id).delete()


# --- vehicles -----------------------------------------------------------------------------


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
    probe = Vehicle.objects.get(pk=vehicle.pk) if vehicle is not None else Vehicle(organization_id=organization_id)
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
) -> Vehicle:
    if customer.deleted_at is not None:
        raise ValidationError(errors.CUSTOMER_DELETED)
    vehicle = Vehicle(organization_id=customer.organization_id, customer=customer)
    _clean_vehicle(customer.organization_id, {"plate": "", **data}, vehicle, vin_confirmed)
    with transaction.atomic():
        _save_unique(vehicle)
        VehicleOwnership.objects.create(
            organization_id=vehicle.organization_id, vehicle=vehicle, customer=customer, since=timezone.now()
        )
        change_record(
            organization_id=vehicle.organization_id,
            subject=vehicle,
            action=ChangeEntry.Action.CREATED,
            actor=by,
            customer_id=customer.pk,
            changes={f: [None, v] for f, v in snapshot(vehicle, VEHICLE_FIELDS).items() if v},
        )
        if mileage_km is not None:
            mileage_record(vehicle=vehicle, km=mileage_km, by=by)
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


def mileage_record(
    *,
    vehicle: Vehicle,
    km: Any,
    by: User | None,
    read_at: dt.datetime | None = None,
    odometer_replaced: bool = False,
    source: str = MileageReading.Source.MANUAL,
) -> MileageReading:
    """Add an odometer reading. A reading lower than the one before it is
    refused unless it is marked as an odometer replacement."""
    errs = _Errors()
    value = _as_int(km, "km", errs, errors.MILEAGE_INVALID)
    if value is None and "km" not in errs:
        errs.add("km", errors.MILEAGE_INVALID)
    if value is not None and not 0 <= value <= 5_000_000:
        errs.add("km", errors.MILEAGE_INVALID)
    now = timezone.now()
    read_at = read_at or now
    if read_at > now + dt.timedelta(minutes=5):
        errs.add("read_at", errors.MILEAGE_FUTURE)
    errs.raise_if_any()
    assert value is not None
    with transaction.atomic():
        locked = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
        readings = MileageReading.objects.for_org(vehicle.organization_id).filter(vehicle=vehicle)
        previous = readings.filter(read_at__lte=read_at).order_by("-read_at", "-pk").first()
        following = readings.filter(read_at__gt=read_at).order_by("read_at", "pk").first()
        if not odometer_replaced:
            if previous is not None and value < previous.km:
                raise ValidationError({"km": [errors.MILEAGE_LOWER % {"km": value, "previous": previous.km}]})
            if following is not None and not following.odometer_replaced and value > following.km:
                raise ValidationError({"km": [errors.MILEAGE_HIGHER_THAN_LATER % {"km": value, "later": following.km}]})
        reading = MileageReading.objects.create(
            organization_id=vehicle.organization_id,
            vehicle=vehicle,
            km=value,
            read_at=read_at,
            odometer_replaced=odometer_replaced,
            source=source,
            recorded_by=by,
        )
        if following is None:
            locked.mileage_km, locked.mileage_at = value, read_at
            locked.save(update_fields=["mileage_km", "mileage_at"])
            vehicle.mileage_km, vehicle.mileage_at = value, read_at
        change_record(
            organization_id=vehicle.organization_id,
            subject=vehicle,
            action=ChangeEntry.Action.MILEAGE,
            actor=by,
            customer_id=vehicle.customer_id,
            changes={"km": [previous.km if previous else None, value]},
            note="odometer replaced" if odometer_replaced else "",
        )
    return reading
