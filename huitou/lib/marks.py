"""Rows that say "count this again": inserted at version 1, or their version raised if already there.

A reader that answers a mark removes (or sets as counted) only the version it
read, so a mark made while it worked is never lost (``analytics.facts``,
``analytics.staff_facts``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def marks_raise(
    model: type[models.Model], keys: Sequence[str], rows: Iterable[Sequence[Any]], new: dict[str, int] | None = None
) -> None:
    """For each row of key values: a new row at version 1 (``new``: the other columns' starting values),
    or the existing row's version raised by one. One statement (an ``executemany``)."""
    rows = list(rows)
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [*keys, "version", *(new or {})]
    values = ["%s"] * len(keys) + ["1", *(str(int(v)) for v in (new or {}).values())]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)}) "  # noqa: S608
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET version = {table}.version + 1",
            rows,
        )
