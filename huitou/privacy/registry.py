"""What each app keeps about a person, for the copy and for erasure.

An app that stores personal data registers a ``PersonalDataKind`` (in its
``AppConfig.ready()``) with a collector, which returns the person's rows of
that kind as flat JSON-able dicts (one sheet of the readable copy, one list
of the machine-readable one), and an eraser, which anonymises them in place
with set-based updates. See docs/privacy.md.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.functional import Promise

REDACTED = "***"


@dataclass
class Identifiers:
    """The values that identify a person.

    ``names`` (every name the person's files have had) are replaced where
    they are a whole value (a household or transfer entry in another file's
    history names them) and anywhere in the person's own text. ``tokens``
    (phones, WeChat ids, emails, plates, VINs: long and distinctive) are
    replaced wherever they appear.
    """

    names: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)

    def add_name(self, value: Any) -> None:
        if isinstance(value, str) and len(value.strip()) >= 2:
            self.names.add(value.strip())

    def add_token(self, value: Any, minimum: int = 5) -> None:
        if isinstance(value, str) and len(value.strip()) >= minimum:
            self.tokens.add(value.strip())

    def _pattern(self, own: bool) -> re.Pattern[str] | None:
        words = sorted(self.tokens | (self.names if own else set()), key=len, reverse=True)
        return re.compile("|".join(re.escape(w) for w in words)) if words else None

    def scrub_text(self, text: str, *, own: bool) -> str:
        if not text:
            return text
        if not own and text.strip() in self.names:
            return REDACTED
        pattern = self._pattern(own)
        return pattern.sub(REDACTED, text) if pattern else text

    def scrub_json(self, value: Any, *, own: bool) -> Any:
        if isinstance(value, str):
            return self.scrub_text(value, own=own)
        if isinstance(value, list):
            return [self.scrub_json(v, own=own) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub_json(v, own=own) for k, v in value.items()}
        return value

    def all(self) -> set[str]:
        return self.names | self.tokens

    def mentioned_in(self, *fields: str, json_fields: Iterable[str] = ()) -> Q:
        """Rows whose text ``fields`` or JSON ``json_fields`` contain any identifier (a filter to scope further).

        JSON is searched as text in both spellings: as typed (PostgreSQL's jsonb)
        and with ``\\uXXXX`` escapes (what SQLite keeps).
        """
        found = Q(pk__in=[])
        for value in self.all():
            escaped = json.dumps(value)[1:-1]
            for name in fields:
                found |= Q(**{f"{name}__contains": value})
            for name in json_fields:
                found |= Q(**{f"_text_{name}__contains": value}) | Q(**{f"_text_{name}__contains": escaped})
        return found


def json_as_text(*json_fields: str) -> dict[str, Cast]:
    """Annotations ``_text_<field>`` that ``Identifiers.mentioned_in(json_fields=...)`` searches."""
    return {f"_text_{name}": Cast(name, TextField()) for name in json_fields}


@dataclass
class Person:
    """One person as the shop knows them: their files (the file and the duplicates merged into it)."""

    organization_id: int
    customer_ids: list[int]
    identifiers: Identifiers
    now: dt.datetime
    tombstone: str = ""


Collector = Callable[[Person], list[dict[str, Any]]]
Eraser = Callable[[Person], None]


@dataclass(frozen=True)
class PersonalDataKind:
    """One kind of personal data: ``name`` (the JSON key, the sheet), ``title`` (the sheet's title).

    ``collect`` gives the person's rows; ``erase`` anonymises them. Erasers
    run in ``order`` (lower first); the change history's runs last, so it can
    scrub what the others wrote. ``identify`` adds the values that identify
    the person in this kind (a plate, an old phone in the history) before any
    eraser runs.
    """

    name: str
    title: str | Promise
    collect: Collector | None = None
    erase: Eraser | None = None
    identify: Callable[[Person], None] | None = None
    order: int = 100


_KINDS: dict[str, PersonalDataKind] = {}


def register(kind: PersonalDataKind) -> PersonalDataKind:
    _KINDS[kind.name] = kind
    return kind


def kinds() -> list[PersonalDataKind]:
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.name))


def plain(value: Any) -> Any:
    """A JSON-able value: money and numbers as text, moments in ISO 8601."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def rows_of(queryset: Any, fields: Iterable[str]) -> list[dict[str, Any]]:
    names = list(fields)
    return [{k: plain(v) for k, v in row.items()} for row in queryset.values(*names)]
