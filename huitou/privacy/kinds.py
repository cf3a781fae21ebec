"""The personal data the core apps keep (customers, service, lifecycle, history), registered here.

Apps added later register their own kinds from their ``AppConfig.ready()``
(docs/privacy.md); these live here because the core apps predate the registry.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from huitou.analytics.facts import days_mark, first_visit_days, stage_days
from huitou.analytics.staff_facts import owners_mark
from huitou.audit.models import ChangeEntry
from huitou.customers.models import (
    AgeBracket,
    BirthdayCalendar,
    ConsentRecord,
    Customer,
    CustomerTag,
    Gender,
    Household,
    MileageReading,
    Vehicle,
    VehicleOwnership,
)
from huitou.lib.phones import national_digits
from huitou.lifecycle.models import FollowUp, FollowUpTask, StageChange, TaskOrigin
from huitou.privacy.registry import REDACTED, Person, PersonalDataKind, plain, register, rows_of
from huitou.service.models import Appointment, OrderAdjustment, OrderLine, Payment, Recommendation, ServiceOrder

# --- helpers -----------------------------------------------------------------------------------


def scrub_rows(queryset: Any, fields: tuple[str, ...], person: Person, *, own: bool = True) -> int:
    """Replace the person's identifiers in the text ``fields`` of the rows of ``queryset`` that mention them."""
    mentioned = list(queryset.filter(person.identifiers.mentioned_in(*fields)))
    for row in mentioned:
        for name in fields:
            setattr(row, name, person.identifiers.scrub_text(getattr(row, name), own=own))
    if mentioned:
        queryset.model.objects.for_org(person.organization_id).bulk_update(mentioned, list(fields))
    return len(mentioned)


def _add_phone(person: Person, phone: Any) -> None:
    if isinstance(phone, str) and phone:
        person.identifiers.add_token(phone)
        person.identifiers.add_token(national_digits(phone))


# --- the customer file -------------------------------------------------------------------------

PROFILE_FIELDS = (
    *("id", "name", "gender", "phone", "wechat", "email", "address", "birth_year", "birth_month", "birth_day"),
    *("birthday_calendar", "age_bracket", "source__label", "stage", "owner__username", "need", "intent_grade"),
    *("intent_at", "converted_at", "merged_into_id", "consent_sms", "consent_wechat", "consent_phone"),
    *("consent_email", "preferred_channel", "preferred_time", "occupation", "family", "personality", "habits"),
    *("hobbies", "lifestyle", "values", "notes", "visit_count", "lifetime_spend", "first_visit_at"),
    *("last_visit_at", "created_at", "updated_at", "deleted_at"),
)


def _customers(person: Person) -> Any:
    return Customer.objects.for_org(person.organization_id).filter(pk__in=person.customer_ids)


def identify_profile(person: Person) -> None:
    for row in _customers(person).values("name", "phone", "wechat", "email", "address", "notes"):
        person.identifiers.add_name(row["name"])
        _add_phone(person, row["phone"])
        for key in ("wechat", "email", "address", "notes"):
            person.identifiers.add_token(row[key])


def collect_profile(person: Person) -> list[dict[str, Any]]:
    rows = rows_of(_customers(person).order_by("pk"), PROFILE_FIELDS)
    tags: dict[int, list[str]] = {}
    links = CustomerTag.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)
    for customer_id, tag in links.order_by("tag__name").values_list("customer_id", "tag__name"):
        tags.setdefault(customer_id, []).append(tag)
    for row in rows:
        row["tags"] = "、".join(tags.get(row["id"], []))
    return rows


def erase_profile(person: Person) -> None:
    """The file keeps its numbers (visits, spend, first and last visit), stage, source and owner; the person goes."""
    org = person.organization_id
    households = set(_customers(person).exclude(household=None).values_list("household_id", flat=True))
    blank = {f: "" for f in ("phone", "phone_last4", "wechat", "email", "address", "need", "preferred_time")}
    blank |= {f: "" for f in ("occupation", "family", "personality", "habits", "hobbies", "lifestyle", "values")}
    # The owners' files and completeness change (the staff ranking's ``OwnerFiles``).
    owners_mark(org, _customers(person).values_list("owner_id", flat=True).distinct())
    # Deleted files are in no customer figure of the dashboard: the days they counted on are counted again.
    ids = list(_customers(person).values_list("pk", flat=True))
    days_mark(org, first_visit_days(org, ids) | stage_days(org, ids))
    _customers(person).filter(deleted_at__isnull=True).update(deleted_at=person.now)
    _customers(person).update(
        **blank,
        name=person.tombstone,
        notes="",
        name_pinyin="",
        name_initials="",
        gender=Gender.UNKNOWN,
        age_bracket=AgeBracket.UNKNOWN,
        birth_year=None,
        birth_month=None,
        birth_day=None,
        birthday_calendar=BirthdayCalendar.SOLAR,
        preferred_channel="",
        consent_sms=False,
        consent_wechat=False,
        consent_phone=False,
        consent_email=False,
        household=None,
        completeness=0,
        updated_at=person.now,
    )
    CustomerTag.objects.for_org(org).filter(customer_id__in=person.customer_ids).delete()
    # A household left with one member is no household.
    lonely = (
        Household.objects.for_org(org)
        .filter(pk__in=households)
        .annotate(n=Count("members"))
        .filter(n__lt=2)
        .values_list("pk", flat=True)
    )
    lonely_ids = list(lonely)
    Customer.objects.for_org(org).filter(household_id__in=lonely_ids).update(household=None)
    Household.objects.for_org(org).filter(pk__in=lonely_ids).delete()


register(
    PersonalDataKind("profile", _("Customer file"), collect_profile, erase_profile, identify=identify_profile, order=10)
)


# --- vehicles and mileage ----------------------------------------------------------------------

VEHICLE_FIELDS = (
    *("id", "customer_id", "plate", "vin", "brand", "model", "year", "colour", "purchase_date"),
    *("insurance_expiry", "inspection_due", "mileage_km", "mileage_at", "created_at", "deleted_at"),
)


def _vehicles(person: Person) -> Any:
    return Vehicle.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)


def identify_vehicles(person: Person) -> None:
    for plate, vin in _vehicles(person).values_list("plate", "vin"):
        person.identifiers.add_token(plate)
        person.identifiers.add_token(vin)


def collect_vehicles(person: Person) -> list[dict[str, Any]]:
    return rows_of(_vehicles(person).order_by("pk"), VEHICLE_FIELDS)


def erase_vehicles(person: Person) -> None:
    """Plate and VIN identify the owner (with the registration office's records); make, model, year,
    colour and mileage do not, and stay for the shop's figures."""
    _vehicles(person).filter(deleted_at__isnull=True).update(deleted_at=person.now)
    _vehicles(person).update(
        plate="", vin="", vin_check_failed=False, purchase_date=None, insurance_expiry=None, inspection_due=None
    )


def collect_readings(person: Person) -> list[dict[str, Any]]:
    readings = MileageReading.objects.for_org(person.organization_id).filter(
        vehicle__customer_id__in=person.customer_ids
    )
    return rows_of(
        readings.order_by("vehicle_id", "read_at"), ("vehicle_id", "km", "read_at", "odometer_replaced", "source")
    )


def collect_ownerships(person: Person) -> list[dict[str, Any]]:
    found = VehicleOwnership.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)
    return rows_of(found.order_by("since"), ("vehicle_id", "customer_id", "since", "until"))


register(
    PersonalDataKind("vehicles", _("Vehicles"), collect_vehicles, erase_vehicles, identify=identify_vehicles, order=20)
)
register(PersonalDataKind("mileage_readings", _("Mileage readings"), collect_readings, order=21))
register(PersonalDataKind("vehicle_ownerships", _("Vehicle ownership"), collect_ownerships, order=22))


def collect_consents(person: Person) -> list[dict[str, Any]]:
    found = ConsentRecord.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)
    return rows_of(found.order_by("at", "pk"), ("customer_id", "channel", "granted", "method", "purpose", "at"))


# Consent records stay: they prove what the person agreed to and withdrew (no personal value in them).
register(PersonalDataKind("consents", _("Consents"), collect_consents, order=30))


# --- service orders and appointments -----------------------------------------------------------

ORDER_FIELDS = (
    *("id", "number", "shop__name", "vehicle_id", "customer_id", "state", "mileage_km", "description"),
    *("opened_at", "started_at", "completed_at", "paid_at", "voided_at", "void_reason"),
    *("lines_total", "adjustments_total", "total", "amount_paid"),
)


def _orders(person: Person) -> Any:
    return ServiceOrder.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)


def collect_orders(person: Person) -> list[dict[str, Any]]:
    return rows_of(_orders(person).order_by("opened_at", "pk"), ORDER_FIELDS)


def collect_lines(person: Person) -> list[dict[str, Any]]:
    lines = OrderLine.objects.for_org(person.organization_id).filter(order__customer_id__in=person.customer_ids)
    fields = ("order__number", "kind", "name", "quantity", "unit_price", "discount", "amount", "note", "created_at")
    return rows_of(lines.order_by("order_id", "pk"), fields)


def collect_payments(person: Person) -> list[dict[str, Any]]:
    found = Payment.objects.for_org(person.organization_id).filter(order__customer_id__in=person.customer_ids)
    return rows_of(found.order_by("at", "pk"), ("order__number", "method", "amount", "reference", "at"))


def collect_adjustments(person: Person) -> list[dict[str, Any]]:
    found = OrderAdjustment.objects.for_org(person.organization_id).filter(order__customer_id__in=person.customer_ids)
    return rows_of(found.order_by("at", "pk"), ("order__number", "amount", "reason", "at"))


def collect_recommendations(person: Person) -> list[dict[str, Any]]:
    found = Recommendation.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)
    fields = ("order__number", "description", "urgency", "estimate", "status", "recorded_at", "decided_at")
    return rows_of(found.order_by("recorded_at", "pk"), fields)


def erase_orders(person: Person) -> None:
    """Orders, lines, payments and their amounts stay (accounting records the law asks to keep); the
    customer's own words go, and staff's reasons lose any identifier of the person."""
    org = person.organization_id
    _orders(person).update(description="")
    scrub_rows(_orders(person), ("void_reason",), person)
    scrub_rows(
        OrderAdjustment.objects.for_org(org).filter(order__customer_id__in=person.customer_ids), ("reason",), person
    )
    scrub_rows(
        Recommendation.objects.for_org(org).filter(customer_id__in=person.customer_ids), ("description",), person
    )


def _appointments(person: Person) -> Any:
    return Appointment.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)


def collect_appointments(person: Person) -> list[dict[str, Any]]:
    fields = ("id", "shop__name", "vehicle_id", "day", "slot", "state", "note", "service__name", "order_id")
    return rows_of(_appointments(person).order_by("day", "slot", "pk"), fields)


def erase_appointments(person: Person) -> None:
    _appointments(person).update(note="")


register(PersonalDataKind("orders", _("Service orders"), collect_orders, erase_orders, order=40))
register(PersonalDataKind("order_lines", _("Order lines"), collect_lines, order=41))
register(PersonalDataKind("payments", _("Payments"), collect_payments, order=42))
register(PersonalDataKind("adjustments", _("Order adjustments"), collect_adjustments, order=43))
register(PersonalDataKind("recommendations", _("Recommendations"), collect_recommendations, order=44))
register(PersonalDataKind("appointments", _("Appointments"), collect_appointments, erase_appointments, order=45))


# --- the lifecycle -----------------------------------------------------------------------------


def _followups(person: Person) -> Any:
    return FollowUp.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)


def _tasks(person: Person) -> Any:
    return FollowUpTask.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)


def _stage_changes(person: Person) -> Any:
    return StageChange.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)


def collect_followups(person: Person) -> list[dict[str, Any]]:
    fields = ("customer_id", "staff__username", "channel", "content", "result", "grade", "next_step", "next_due", "at")
    return rows_of(_followups(person).order_by("at", "pk"), fields)


def collect_tasks(person: Person) -> list[dict[str, Any]]:
    fields = ("customer_id", "assignee__username", "due_on", "channel", "action", "origin", "closed_at", "closed_as")
    return rows_of(_tasks(person).order_by("due_on", "pk"), fields)


def collect_stage_changes(person: Person) -> list[dict[str, Any]]:
    fields = ("customer_id", "from_stage", "to_stage", "reason", "note", "at")
    return rows_of(_stage_changes(person).order_by("at", "pk"), fields)


def erase_lifecycle(person: Person) -> None:
    """What was said stays counted (staff's follow-up figures), not what it said; open tasks are cancelled."""
    _followups(person).update(content="", result="", next_step="")
    _tasks(person).filter(origin=TaskOrigin.NEXT_STEP).update(action="")
    scrub_rows(_tasks(person), ("action",), person)
    _tasks(person).filter(closed_at__isnull=True).update(closed_at=person.now, closed_as=FollowUpTask.Closed.CANCELLED)
    _stage_changes(person).update(note="")


register(PersonalDataKind("follow_ups", _("Follow-ups"), collect_followups, erase_lifecycle, order=50))
register(PersonalDataKind("follow_up_tasks", _("Follow-up tasks"), collect_tasks, order=51))
register(PersonalDataKind("stage_changes", _("Stage changes"), collect_stage_changes, order=52))


# --- the change history ------------------------------------------------------------------------

# Fields of the history whose values are the person's (old and new alike): replaced whole.
PERSONAL_HISTORY_FIELDS = frozenset(
    {
        *("name", "phone", "wechat", "email", "address", "birth_year", "birth_month", "birth_day"),
        *("birthday_calendar", "gender", "age_bracket", "need", "preferred_time", "preferred_channel"),
        *("occupation", "family", "personality", "habits", "hobbies", "lifestyle", "values", "notes"),
        *("tags", "household", "customer", "plate", "vin", "vehicles", "description", "purchase_date"),
        *("insurance_expiry", "inspection_due"),
    }
)


def _history(person: Person) -> Any:
    return ChangeEntry.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)


def identify_history(person: Person) -> None:
    """Every value the person's files ever had (an old phone, a former name) is in their history."""
    ids = person.identifiers
    for changes in _history(person).values_list("changes", flat=True):
        for field, values in (changes or {}).items():
            if not isinstance(values, list):
                continue
            for value in values:
                if field == "name" and (not isinstance(value, str) or value != person.tombstone):
                    ids.add_name(value)
                elif field == "phone":
                    _add_phone(person, value)
                elif field in ("wechat", "email", "address", "notes", "plate", "vin"):
                    ids.add_token(value)


def collect_history(person: Person) -> list[dict[str, Any]]:
    rows = _history(person).order_by("at", "pk").values("subject_type", "subject_id", "action", "changes", "note", "at")
    return [{**{k: plain(v) for k, v in row.items()}, "changes": row["changes"]} for row in rows]


def _redact(changes: dict[str, Any], person: Person) -> dict[str, Any]:
    redacted: dict[str, Any] = {}
    for field, values in changes.items():
        if field in PERSONAL_HISTORY_FIELDS and isinstance(values, list):
            redacted[field] = [None if v in (None, "") else REDACTED for v in values]
        else:
            redacted[field] = person.identifiers.scrub_json(values, own=True)
    return redacted


def erase_history(person: Person) -> None:
    """The person's history keeps who changed what and when, not the values. Other files' history
    (a household, a car handed over) loses the person's identifiers in the sweep that follows."""
    entries = list(_history(person))
    for entry in entries:
        entry.changes = _redact(entry.changes or {}, person)
        entry.note = person.identifiers.scrub_text(entry.note, own=True)
    ChangeEntry.objects.for_org(person.organization_id).bulk_update(entries, ["changes", "note"])


register(
    PersonalDataKind(
        "history", _("Change history"), collect_history, erase_history, identify=identify_history, order=1000
    )
)
