"""Quick capture of prospects (潜客) at the counter, on the phone and at events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from huitou.customers import errors as customer_errors
from huitou.customers.models import Customer, Vehicle
from huitou.customers.services import customer_create, vehicle_create
from huitou.lib.phones import PhoneError, normalize_phone
from huitou.lib.plates import PlateError, normalize_plate
from huitou.lifecycle import errors
from huitou.lifecycle.services.ownership import owner_next_in_turn
from huitou.tenancy.models import Organization, User

# ``owner`` in a capture: a staff id, ME (the default) or ROUND_ROBIN, for the rotation.
ME = "me"
ROUND_ROBIN = "auto"
PROSPECT_FIELDS = ("name", "phone", "wechat", "source", "need", "referrer")
VEHICLE_FIELDS = ("plate", "brand", "model")


class DuplicateFound(ValidationError):
    """The phone or plate of a new record is already in an existing file."""

    def __init__(self, messages: dict[str, list[Any]], duplicates: list[Customer]) -> None:
        super().__init__(messages)
        self.duplicates = duplicates


def owner_mode_valid(owner: Any) -> bool:
    """Whether ``owner`` names who follows a prospect up: ME, ROUND_ROBIN or a staff id
    (which staff member, the customer file's own rules check)."""
    if isinstance(owner, str) and owner.isdecimal() and len(owner) < 19:  # a staff id, within 64 bits
        return True
    if isinstance(owner, int) and not isinstance(owner, bool):
        return 0 < owner < 2**63
    return owner in (ME, ROUND_ROBIN)


def duplicates_find(*, organization: Organization, phone: str = "", plate: str = "") -> dict[str, Customer]:
    """Existing active files with this phone or with a car of this plate, by the field that matched."""
    found: dict[str, Customer] = {}
    if phone:
        try:
            number = normalize_phone(phone)
        except PhoneError:
            number = ""
        if number:
            match = Customer.objects.for_org(organization).active().filter(phone=number).first()
            if match is not None:
                found["phone"] = match
    if plate:
        try:
            canonical = normalize_plate(plate)
        except PlateError:
            canonical = ""
        if canonical:
            vehicle = (
                Vehicle.objects.for_org(organization)
                .active()
                .filter(plate=canonical, customer__deleted_at=None)
                .select_related("customer")
                .first()
            )
            if vehicle is not None:
                found["plate"] = vehicle.customer
    return found


def prospect_capture(*, organization: Organization, by: User, data: Mapping[str, Any]) -> Customer:
    """Register a prospect: who they are, how they came, what they need, and their car if known.

    ``data`` holds ``name``, ``phone`` and/or ``wechat``, ``source`` (a code),
    ``need``, ``referrer`` (a customer id), ``owner`` (a staff id, ME or
    ROUND_ROBIN; anything else is refused) and optionally ``plate``, ``brand``, ``model``.
    A phone or plate already on file is refused, naming the file.
    """
    phone = str(data.get("phone") or "").strip()
    wechat = str(data.get("wechat") or "").strip()
    plate = str(data.get("plate") or "").strip()
    owner = data.get("owner") or ME
    missing: dict[str, list[Any]] = {}
    if not owner_mode_valid(owner):
        missing["owner"] = [errors.OWNER_MODE_INVALID]
    if not phone and not wechat:
        missing["phone"] = [customer_errors.CONTACT_REQUIRED]
    if not data.get("source"):
        # The funnel tells sources apart: a prospect always has one.
        missing["source"] = [errors.SOURCE_REQUIRED]
    if missing:
        raise ValidationError(missing)
    found = duplicates_find(organization=organization, phone=phone, plate=plate)
    if found:
        messages: dict[str, list[Any]] = {}
        if "phone" in found:
            messages["phone"] = [errors.DUPLICATE_PHONE % {"name": found["phone"].name}]
        if "plate" in found:
            messages["plate"] = [
                errors.DUPLICATE_PLATE % {"plate": normalize_plate(plate), "name": found["plate"].name}
            ]
        raise DuplicateFound(messages, list(dict.fromkeys(found.values())))

    fields = {f: data[f] for f in PROSPECT_FIELDS if f in data}
    with transaction.atomic():
        if owner == ROUND_ROBIN:
            fields["owner"] = owner_next_in_turn(organization=organization).pk
        elif owner != ME:
            fields["owner"] = owner
        customer = customer_create(organization=organization, by=by, data=fields)
        if plate or data.get("brand") or data.get("model"):
            vehicle_create(customer=customer, by=by, data={f: data.get(f) or "" for f in VEHICLE_FIELDS})
    return customer
