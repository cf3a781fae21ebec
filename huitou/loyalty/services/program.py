"""An organization's membership settings (one ``LoyaltyProgram`` row): read, made when missing, changed."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from huitou.audit.services import change_record
from huitou.loyalty import errors
from huitou.loyalty.models import LoyaltyProgram
from huitou.tenancy.models import Organization, User

# field: (smallest, largest, decimal places or None for a whole number)
PROGRAM_FIELDS: dict[str, tuple[Decimal, Decimal, int | None]] = {
    "points_per_yuan": (Decimal(0), Decimal("9999.99"), 2),
    "point_value": (Decimal("0.0001"), Decimal("99.9999"), 4),
    "birthday_multiplier": (Decimal(1), Decimal("99.99"), 2),
    "points_expire_after_years": (Decimal(1), Decimal(10), None),
    "max_points_share": (Decimal(0), Decimal(1), 2),
    "tier_review_months": (Decimal(1), Decimal(60), None),
}


def program_for(organization: Organization | int) -> LoyaltyProgram:
    """The organization's settings, made with the defaults the first time they are needed."""
    organization_id = organization if isinstance(organization, int) else organization.pk
    program = LoyaltyProgram.objects.for_org(organization_id).first()
    if program is not None:
        return program
    try:
        with transaction.atomic():
            return LoyaltyProgram.objects.create(organization_id=organization_id)
    except IntegrityError:  # made by a concurrent first read
        return LoyaltyProgram.objects.for_org(organization_id).get()


def _number(value: Any, low: Decimal, high: Decimal, places: int | None) -> Decimal | int:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(value) from exc
    if not number.is_finite() or number < low or number > high:
        raise ValueError(value)
    if places is None:
        if number != number.to_integral_value():
            raise ValueError(value)
        return int(number)
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(value)
    return number.quantize(Decimal(1).scaleb(-places))


def program_save(*, organization: Organization, data: Mapping[str, Any], by: User | None) -> LoyaltyProgram:
    """Change the settings given in ``data`` (any of ``PROGRAM_FIELDS``); each is checked against its range."""
    problems: dict[str, list[Any]] = {}
    values: dict[str, Any] = {}
    for field, (low, high, places) in PROGRAM_FIELDS.items():
        if field not in data or data[field] in (None, ""):
            continue
        try:
            values[field] = _number(data[field], low, high, places)
        except ValueError:
            problems[field] = [errors.PROGRAM_NUMBER_INVALID]
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        program = program_for(organization)
        program = LoyaltyProgram.objects.for_org(organization).select_for_update().get(pk=program.pk)
        changes = {f: [str(getattr(program, f)), str(v)] for f, v in values.items() if getattr(program, f) != v}
        for field, value in values.items():
            setattr(program, field, value)
        if changes:
            program.save(update_fields=list(values))
            change_record(
                organization_id=organization.pk,
                subject=program,
                action="updated",
                actor=by,
                changes=changes,
            )
    return program
