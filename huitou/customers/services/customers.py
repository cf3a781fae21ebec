"""Customer files: registering, changing, deleting and restoring them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record, diff, snapshot
from huitou.customers import errors, events
from huitou.customers.models import (
    BirthdayCalendar,
    ConsentRecord,
    Customer,
    Gender,
    Source,
    Stage,
    Vehicle,
)
from huitou.customers.services._common import _as_int, _Errors, _save_unique
from huitou.customers.services.completeness import customer_refresh_completeness
from huitou.customers.services.consent import consent_set
from huitou.customers.services.tags import customer_tags_set
from huitou.lib.birthdays import BirthdayError
from huitou.lib.birthdays import validate as validate_birthday
from huitou.lib.phones import PhoneError, last4, normalize_phone
from huitou.lib.pinyin import pinyin_keys
from huitou.loyalty.services.referrals import referrer_check
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
        else:
            # The referral abuse guards (membership's rule: same phone, household or car; fixed once converted).
            try:
                referrer_check(customer=customer, referrer=referrer)
            except ValidationError as exc:
                for message in exc.message_dict["referrer"]:
                    errs.add("referrer", message)
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
    probe = (
        Customer.objects.for_org(customer.organization_id).get(pk=customer.pk)
        if customer is not None
        else Customer(organization=organization)
    )
    try:
        _clean_customer(organization, data, probe)
    except ValidationError as exc:
        return exc
    return None


def _set_keys(customer: Customer) -> None:
    customer.name_pinyin, customer.name_initials = pinyin_keys(customer.name)


def customer_create(
    *,
    organization: Organization,
    by: User | None,
    data: Mapping[str, Any],
    consents: Mapping[str, bool] | None = None,
    consent_method: str = ConsentRecord.Method.VERBAL,
    consent_purpose: str = "",
    now: dt.datetime | None = None,
) -> Customer:
    """Register a customer (or prospect). The owner defaults to ``by``; ``now`` is when (default: now)."""
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
    now = now or timezone.now()
    with transaction.atomic():
        _save_unique(customer)
        if tags:
            customer_tags_set(customer=customer, names=tags)
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
            at=now,
        )
        for channel in granted:
            consent_set(
                customer=customer,
                channel=channel,
                granted=True,
                method=consent_method,
                purpose=consent_purpose,
                by=by,
                now=now,
            )
        customer_refresh_completeness(customer=customer)
        events.customer_created.send(sender=Customer, customer=customer, by=by, now=now)
    return customer


def customer_update(*, customer: Customer, by: User | None, data: Mapping[str, Any]) -> Customer:
    """Change fields of a customer file; only the keys in ``data`` change."""
    if customer.deleted_at is not None:
        raise ValidationError(errors.CUSTOMER_DELETED)
    organization = customer.organization
    owner_id_before = customer.owner_id
    before = snapshot(customer, CUSTOMER_HISTORY_FIELDS)
    # Only what this change sets is written: the caller's object may be older than the row (a payment
    # since set the first paid order, the visit figures), and saving it whole would put those back.
    as_read = {f.attname: getattr(customer, f.attname) for f in customer._meta.concrete_fields}
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
        changed = [name for name, value in as_read.items() if getattr(customer, name) != value]
        _save_unique(customer, update_fields=[*changed, "updated_at"])
        if tags is not None:
            customer_tags_set(customer=customer, names=tags)
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
        events.customer_updated.send(
            sender=Customer, customer=customer, by=by, changes=changes, owner_id_before=owner_id_before
        )
    return customer


def customer_delete(*, customer: Customer, by: User | None) -> None:
    """Soft delete: the file and its vehicles are hidden, nothing is lost."""
    if customer.deleted_at is not None:
        return
    now = timezone.now()
    with transaction.atomic():
        vehicles = list(Vehicle.objects.for_org(customer.organization_id).active().filter(customer=customer))
        Vehicle.objects.for_org(customer.organization_id).filter(pk__in=[v.pk for v in vehicles]).update(
            deleted_at=now, deleted_by=by
        )
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
