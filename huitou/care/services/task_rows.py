"""The sweep's new care tasks written a batch at a time, a task already there left as it is.

The sweep's heaviest night (a first run, or a catch-up) makes hundreds of
thousands of tasks. ``bulk_create(ignore_conflicts=True)`` builds a model
instance per row and prepares every column of every row in Python, which
was most of that night's time. On PostgreSQL the batch is streamed with
COPY into a temporary table of the columns the sweep fills, then moved with
one ``INSERT … SELECT … ON CONFLICT DO NOTHING``: the unique key
``(organization, kind, key)`` still decides, so two sweeps at once or a
second run add nothing. The other columns get their field's default once
per batch, as ``save()`` would store it. SQLite goes through
``bulk_create``.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, cast

from django.db import connection, transaction

from huitou.care.models import CareTask

STAGING = "care_task_rows"  # the temporary table, dropped at the end of each batch


def tasks_insert(*, organization_id: int, rows: list[dict[str, Any]], now: dt.datetime) -> None:
    """Insert ``rows`` (CareTask attnames → values) stamped ``created_at=now``, skipping keys already taken."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        tasks = [CareTask(organization_id=organization_id, created_at=now, **row) for row in rows]
        CareTask.objects.bulk_create(tasks, ignore_conflicts=True)
        return
    fields = {f.attname: f for f in CareTask._meta.concrete_fields if not f.primary_key}
    columns = sorted(set().union(*rows))
    given = [fields[name] for name in columns]  # an unknown name is a KeyError, not a silent drop
    fixed = {"organization_id": organization_id, "created_at": now}
    rest = [f for name, f in fields.items() if name not in columns]
    constants = [
        f.get_db_prep_save(fixed[f.attname] if f.attname in fixed else f.get_default(), connection) for f in rest
    ]
    qn = connection.ops.quote_name
    staged = ", ".join(qn(cast(str, f.column)) for f in given)
    filled = ", ".join(qn(cast(str, f.column)) for f in rest)
    table = qn(CareTask._meta.db_table)
    # Names come from the model, quoted; values are streamed or bound, never part of the statement.
    copy_sql = f"COPY {STAGING} ({staged}) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGING} AS SELECT {staged} FROM {table} WITH NO DATA")  # noqa: S608
        started = time.monotonic()
        with cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row([row.get(name) for name in columns])
        if connection.queries_logged:  # counted as Django counts its statements (tests, debug)
            connection.queries_log.append({"sql": copy_sql, "time": f"{time.monotonic() - started:.3f}"})
        cursor.execute(
            f"INSERT INTO {table} ({staged}, {filled}) "  # noqa: S608
            f"SELECT {staged}, {', '.join(['%s'] * len(rest))} FROM {STAGING} ON CONFLICT DO NOTHING",
            constants,
        )
        cursor.execute(f"DROP TABLE {STAGING}")
