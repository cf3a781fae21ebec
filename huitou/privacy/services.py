"""Personal-data rights: a copy of everything kept about a customer, erasure, and the retention job."""

from __future__ import annotations

import calendar
import datetime as dt
import io
import json
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import Workbook

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record
from huitou.customers.models import Customer
from huitou.customers.trigram import trigram_tables_purge
from huitou.exports.registry import Column
from huitou.exports.writers import add_sheet
from huitou.privacy import errors
from huitou.privacy.models import Erasure, PrivacySettings
from huitou.privacy.registry import Identifiers, Person, json_as_text, kinds
from huitou.tenancy.models import Organization, TenantModel, User
from huitou.tenancy.roles import Perm

COPY_FORMAT = "huitou.personal-data/1"
RETENTION_BATCH = 50


def tombstone() -> str:
    """What an erased file is called, in the shop's language: 已注销客户."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Erased customer")


def person_files(*, organization_id: int, customer_ids: Iterable[int]) -> list[int]:
    """The files and every duplicate merged into them, however deep."""
    found = set(customer_ids)
    frontier = set(found)
    while frontier:
        merged = set(
            Customer.objects.for_org(organization_id).filter(merged_into_id__in=frontier).values_list("pk", flat=True)
        )
        frontier = merged - found
        found |= frontier
    return sorted(found)


def _person(*, organization_id: int, customer_ids: Iterable[int], now: dt.datetime) -> Person:
    person = Person(
        organization_id=organization_id,
        customer_ids=person_files(organization_id=organization_id, customer_ids=customer_ids),
        identifiers=Identifiers(),
        now=now,
        tombstone=tombstone(),
    )
    for kind in kinds():
        if kind.identify is not None:
            kind.identify(person)
    return person


# --- the copy ----------------------------------------------------------------------------------


def personal_data_copy(*, customer: Customer, by: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything kept about ``customer`` (with the duplicates merged into the file), by kind.

    ``{"format", "made_at", "organization", "customer_id", "kinds": {name: [rows]}}``; a kind
    with nothing for the person is an empty list. Recorded in the file's history.
    """
    if not by.has_role_perm(Perm.COPY_PERSONAL_DATA):
        raise PermissionDenied
    now = now or timezone.now()
    person = Person(
        organization_id=customer.organization_id,
        customer_ids=person_files(organization_id=customer.organization_id, customer_ids=[customer.pk]),
        identifiers=Identifiers(),
        now=now,
    )
    collected = {kind.name: kind.collect(person) for kind in kinds() if kind.collect is not None}
    document = {
        "format": COPY_FORMAT,
        "made_at": now.isoformat(),
        "organization": customer.organization.name,
        "customer_id": customer.pk,
        "kinds": collected,
    }
    change_record(
        organization_id=customer.organization_id,
        subject=customer,
        action=ChangeEntry.Action.CREATED,
        actor=by,
        customer_id=customer.pk,
        changes={"personal_data_copy": [None, sorted(collected)]},
        at=now,
    )
    return document


def personal_data_workbook(document: dict[str, Any]) -> bytes:
    """The copy as a workbook a person can read: one sheet per kind, a column per field."""
    book = Workbook(write_only=True)
    titles = {kind.name: str(kind.title) for kind in kinds()}
    for name, rows in document["kinds"].items():
        fields: list[str] = []
        for row in rows:
            fields += [k for k in row if k not in fields]
        columns = [Column(f, 16) for f in fields] or [Column(gettext("Nothing kept"), 20)]
        values = ([_cell(row.get(f)) for f in fields] for row in rows)
        add_sheet(book, titles.get(name, name), columns, values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


# --- erasure -----------------------------------------------------------------------------------


# Columns that hold other people's own values (their name, phone, plate), never text about the
# person: the sweep leaves them alone.
SWEEP_SKIPS = frozenset(
    {
        ("customers", "customer", "name"),
        ("customers", "customer", "phone"),
        ("customers", "customer", "phone_last4"),
        ("customers", "customer", "name_pinyin"),
        ("customers", "customer", "name_initials"),
        ("customers", "vehicle", "plate"),
        ("customers", "vehicle", "vin"),
    }
)


def _sweep_fields(model: type[models.Model]) -> tuple[list[str], list[str]]:
    texts, jsons = [], []
    for f in model._meta.concrete_fields:
        key = (model._meta.app_label, model._meta.model_name, f.name)
        if key in SWEEP_SKIPS or f.choices:
            continue
        if isinstance(f, models.JSONField):
            jsons.append(f.attname)
        elif isinstance(f, models.CharField | models.TextField) and not isinstance(f, models.SlugField):
            texts.append(f.attname)
    return texts, jsons


def sweep(person: Person) -> int:
    """Every text and JSON column of every tenant table, of whatever app: text that mentions the
    person (a relative's note naming them, a message, a typed search) loses their identifiers.

    The safety net behind the kinds' erasers, which know their own columns. Names are replaced
    inside text too, so a note about 张三丰 loses "张三" when 张三 is erased: over-redaction of
    someone else's note is the price of never leaving the person in one.
    """
    changed = 0
    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        texts, jsons = _sweep_fields(model)
        if not texts and not jsons:
            continue
        rows = model.objects.for_org(person.organization_id)
        if jsons:
            rows = rows.annotate(**json_as_text(*jsons))
        found = list(rows.filter(person.identifiers.mentioned_in(*texts, json_fields=jsons)))
        for row in found:
            for name in texts:
                setattr(row, name, person.identifiers.scrub_text(getattr(row, name), own=True))
            for name in jsons:
                setattr(row, name, person.identifiers.scrub_json(getattr(row, name), own=True))
        if found:
            model.objects.for_org(person.organization_id).bulk_update(found, texts + jsons)
            changed += len(found)
    return changed


def _erase(person: Person) -> None:
    for kind in kinds():
        if kind.erase is not None:
            kind.erase(person)
    sweep(person)
    trigram_tables_purge(connection)


def customer_erase(*, customer: Customer, by: User, reason: str, now: dt.datetime | None = None) -> Erasure:
    """Anonymise the person of ``customer`` for good (store manager only, ``Perm.ERASE_CUSTOMERS``).

    Every registered kind's eraser runs over the file and the duplicates merged
    into it, in one transaction: the file becomes a soft-deleted tombstone that
    keeps its visits, spend, orders and ledgers. The ``Erasure`` row records
    who, when and why (the reason too loses the person's identifiers).
    """
    if not by.has_role_perm(Perm.ERASE_CUSTOMERS):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [errors.REASON_REQUIRED]})
    now = now or timezone.now()
    org_id = customer.organization_id
    with transaction.atomic():
        Customer.objects.for_org(org_id).select_for_update().get(pk=customer.pk)
        if Erasure.objects.for_org(org_id).filter(customer_id=customer.pk).exists():
            raise ValidationError(errors.ALREADY_ERASED)
        person = _person(organization_id=org_id, customer_ids=[customer.pk], now=now)
        _erase(person)
        erasure = Erasure.objects.create(
            organization_id=org_id,
            customer_id=customer.pk,
            by=by,
            reason=person.identifiers.scrub_text(reason, own=True)[:200],
            at=now,
            files=len(person.customer_ids),
        )
        change_record(
            organization_id=org_id,
            subject=erasure,
            action=ChangeEntry.Action.CREATED,
            actor=by,
            customer_id=customer.pk,
            changes={"erased": [None, person.customer_ids]},
            at=now,
        )
    customer.refresh_from_db()
    return erasure


def is_erased(customer: Customer) -> bool:
    return Erasure.objects.for_org(customer.organization_id).filter(customer_id=customer.pk).exists()


# --- retention ---------------------------------------------------------------------------------


def retention_set(*, organization: Organization, months: int | None, by: User) -> PrivacySettings:
    """Anonymise prospects who never paid after ``months`` (None: keep them, the default)."""
    if not by.has_role_perm(Perm.MANAGE_SETTINGS):
        raise PermissionDenied
    if months is not None and not 1 <= months <= 120:
        raise ValidationError({"prospect_retention_months": [errors.RETENTION_INVALID]})
    found, _ = PrivacySettings.objects.update_or_create(
        organization=organization, defaults={"prospect_retention_months": months}
    )
    return found


def retention_months(organization: Organization | int) -> int | None:
    found = PrivacySettings.objects.for_org(organization).first()
    return found.prospect_retention_months if found else None


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time ``months`` earlier (the month's last day when it is shorter)."""
    years, month = divmod(moment.month - 1 - months, 12)
    year = moment.year + years
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def expired_prospects(*, organization: Organization | int, months: int, now: dt.datetime) -> Any:
    """Files registered more than ``months`` ago that never paid, not yet erased (nor merged into another)."""
    cutoff = months_before(now, months)
    erased = Erasure.objects.for_org(organization).values("customer_id")
    return (
        Customer.objects.for_org(organization)
        .filter(created_at__lt=cutoff, converted_at__isnull=True, visit_count=0, merged_into__isnull=True)
        .exclude(pk__in=erased)
    )


def prospects_anonymise(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """The retention job: anonymise expired prospects in batches (each batch one set of updates,
    one transaction); how many files. Nothing happens while the setting is off. Safe to run twice."""
    months = retention_months(organization)
    if not months:
        return 0
    now = now or timezone.now()
    reason = gettext("Retention: a prospect who never paid, kept %(months)s months") % {"months": months}
    done = 0
    while True:
        with transaction.atomic():
            ids = list(
                expired_prospects(organization=organization, months=months, now=now)
                .order_by("pk")
                .values_list("pk", flat=True)[:RETENTION_BATCH]
            )
            if not ids:
                return done
            person = _person(organization_id=organization.pk, customer_ids=ids, now=now)
            _erase(person)
            Erasure.objects.bulk_create(
                [Erasure(organization=organization, customer_id=pk, by=None, reason=reason, at=now) for pk in ids]
            )
            done += len(ids)
