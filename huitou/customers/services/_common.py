"""Helpers shared by the customer services: error collection, integers, unique saves."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from huitou.customers import errors


class _Errors(dict[str, list[Any]]):
    def add(self, field: str, message: Any) -> None:
        self.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


def _as_int(value: Any, field: str, errs: _Errors, message: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errs.add(field, message)
        return None


# (PostgreSQL) or the columns (SQLite); either identifies the field.
_UNIQUE_MESSAGES: dict[tuple[str, str], Any] = {
    ("customer", "phone"): errors.PHONE_TAKEN,
    ("vehicle", "plate"): errors.PLATE_TAKEN,
    ("vehicle", "vin"): errors.VIN_TAKEN,
}


def _save_unique(obj: Any, update_fields: list[str] | None = None) -> None:
    """Save (``update_fields``: those only); a unique-constraint race becomes the same field error as the check."""
    try:
        with transaction.atomic():
            obj.save(update_fields=update_fields)
    except IntegrityError as exc:
        text = str(exc)
        model = obj._meta.model_name
        for (model_name, field), message in _UNIQUE_MESSAGES.items():
            if model_name == model and (f"_unique_{field}_" in text or f".{field}" in text):
                raise ValidationError({field: [message]}) from exc
        raise
