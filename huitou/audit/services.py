from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.tenancy.models import User


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a field value for the history."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {f: _plain(getattr(obj, f)) for f in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}


def change_record(
    *,
    organization_id: int,
    subject: models.Model,
    action: str,
    actor: User | None,
    changes: Mapping[str, Any] | None = None,
    customer_id: int | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> ChangeEntry:
    entry = change_entry(
        organization_id=organization_id,
        subject=subject,
        action=action,
        actor=actor,
        changes=changes,
        customer_id=customer_id,
        note=note,
        at=at,
    )
    entry.save(force_insert=True)
    return entry


def change_entry(
    *,
    organization_id: int,
    subject: models.Model,
    action: str,
    actor: User | None,
    changes: Mapping[str, Any] | None = None,
    customer_id: int | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> ChangeEntry:
    """``change_record``'s entry, not yet written: several are written with one ``bulk_create``."""
    return ChangeEntry(
        organization_id=organization_id,
        subject_type=subject._meta.model_name or "",
        subject_id=subject.pk,
        customer_id=customer_id,
        action=action,
        changes={k: _plain(v) for k, v in (changes or {}).items()},
        note=note[:200],
        actor=actor if actor is not None and actor.pk else None,
        at=at or timezone.now(),
    )
