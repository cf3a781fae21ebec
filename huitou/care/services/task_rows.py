"""The sweep's new care tasks written a batch at a time, a task already there left as it is.

The sweep's heaviest night (a first run, or a catch-up) makes hundreds of
thousands of tasks. ``bulk_create(ignore_conflicts=True)`` builds a model
instance per row and prepares every column of every row in Python, which
was most of that night's time. The batch goes through the shared row
writer (``lib.bulk_rows``): on PostgreSQL streamed with COPY into a
temporary table and moved with one ``INSERT … SELECT … ON CONFLICT DO
NOTHING``, on SQLite one ``executemany`` of the same insert. The unique key
``(organization, kind, key)`` still decides, so two sweeps at once or a
second run add nothing; the columns the sweep does not fill get their
field's default, as ``save()`` would store it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from huitou.care.models import CareTask
from huitou.lib.bulk_rows import insert_rows_skipping_taken


def tasks_insert(*, organization_id: int, rows: list[dict[str, Any]], now: dt.datetime) -> None:
    """Insert ``rows`` (CareTask attnames → values) stamped ``created_at=now``, skipping keys already taken."""
    if not rows:
        return
    names = sorted(set().union(*rows))
    columns = ["organization_id", "created_at", *names]
    values = [[organization_id, now, *(row.get(name) for name in names)] for row in rows]
    insert_rows_skipping_taken(CareTask, columns, values)
