"""The change history an import writes, as ``audit.ChangeEntry`` rows (who, when, what, which sheet row).

A file an import creates gets one entry, as ``customer_create`` writes it
(the fields that have a value), naming its cars; a car added to a file of
an earlier batch gets its own. The cars, readings and orders of a new file
belong to that entry: its note names the import and the sheet's row.
Edits of files already there go through the customer services, which
write their own entries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from huitou.customers.models import Customer, Gender
from huitou.customers.services.customers import CUSTOMER_HISTORY_FIELDS
from huitou.imports.models import ImportJob
from huitou.tenancy.models import User

ENTRY_COLUMNS: tuple[str, ...] = ("organization_id", "subject_type", "subject_id", "customer_id", "action")
ENTRY_COLUMNS += ("changes", "actor_id", "at", "note")
VEHICLE_HISTORY_FIELDS = ("plate", "vin", "brand", "model", "colour")
# Values a new file has unless someone enters something: not news for the history.
_DEFAULTS = {"gender": Gender.UNKNOWN, "birthday_calendar": "solar"}


def entry_row(
    job: ImportJob,
    subject_type: str,
    subject_id: int,
    customer_id: int | None,
    action: str,
    changes: dict[str, Any],
    by: User,
    now: dt.datetime,
    row: int,
) -> tuple[Any, ...]:
    """An entry's values in ``ENTRY_COLUMNS`` order."""
    note = f"import #{job.pk} row {row}"
    return (job.organization_id, subject_type, subject_id, customer_id, action, changes, by.pk, now, note)


def created_changes(customer: Customer) -> dict[str, Any]:
    """What a new file's entry shows: its fields that have a value (``customer`` may be unsaved)."""
    changes: dict[str, Any] = {}
    for name in CUSTOMER_HISTORY_FIELDS:
        value = getattr(customer, name, None)
        if value and value != _DEFAULTS.get(name):
            changes[name] = [None, str(value) if not isinstance(value, int | str) else value]
    return changes


def vehicle_changes(values: dict[str, Any]) -> dict[str, Any]:
    """What a car's entry shows: its fields that have a value."""
    return {f: [None, values[f]] for f in VEHICLE_HISTORY_FIELDS if values.get(f)}
