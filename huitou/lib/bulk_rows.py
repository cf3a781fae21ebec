"""New rows of one table written at once: ids taken first, then COPY (PostgreSQL) or one ``executemany``.

Used by the imports (``insert_rows``) and by the care sweep (``insert_rows_skipping_taken``: rows whose
unique key is already taken are left as they are, as ``bulk_create(ignore_conflicts=True)`` would).

What ``bulk_create`` does for an import's new rows, without a model
instance per row and the per-value preparation Django's compiler does for
every column: the import gives the columns it fills, as plain values, and
each other column gets its field's default once per call. Values of the
kinds a database driver needs prepared (dates and times, decimals, JSON)
go through the field's own ``get_db_prep_save``, so what is stored is what
``save()`` would store.

Ids are taken before the rows are written, so rows of one batch can point
at each other (a car at its new owner, an order at its reading): on
PostgreSQL from the table's sequence (safe beside other writers); on SQLite
after the highest id ever given, which is safe because a write transaction
there holds the database's only write lock (``transaction_mode``
IMMEDIATE), and the batches run in one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from django.db import connection, models, transaction
from django.utils import timezone

# Fields whose Python values the drivers take as they are (str, int, bool, None, an id).
_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
    models.AutoField,
    models.BigAutoField,
)


# What psycopg also takes as it is: aware datetimes, dates and decimals (Django's PostgreSQL
# backend hands them over unchanged); SQLite needs them as Django writes them (UTC text, numbers).
_PLAIN_POSTGRES = (models.DateTimeField, models.DateField, models.DecimalField)


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    if isinstance(field, _PLAIN) or (connection.vendor == "postgresql" and isinstance(field, _PLAIN_POSTGRES)):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


class TableWriter:
    """Writes new rows of ``model``: ``write(columns, rows)`` returns the ids given, in row order."""

    def __init__(self, model: type[models.Model]) -> None:
        opts = model._meta
        self.table = cast(str, opts.db_table)
        self.pk = opts.pk
        self.fields = [f for f in opts.concrete_fields if not f.primary_key]
        self.postgres = connection.vendor == "postgresql"

    def take_ids(self, count: int) -> list[int]:
        """``count`` new ids of the table (one query)."""
        if count == 0:
            return []
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.table, self.pk.column, count],
                )
                return [row[0] for row in cursor.fetchall()]
            assert connection.in_atomic_block, "ids are taken inside the batch's write transaction"
            table = connection.ops.quote_name(self.table)
            column = connection.ops.quote_name(cast(str, self.pk.column))
            # The highest id ever given (AUTOINCREMENT keeps it in sqlite_sequence) or present.
            cursor.execute(
                f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # noqa: S608
                f"COALESCE((SELECT MAX({column}) FROM {table}), 0))",
                [self.table],
            )
            start = int(cursor.fetchone()[0])
        return list(range(start + 1, start + 1 + count))

    def write(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
        """Insert ``rows`` (values in the order of ``columns``, attnames); the other columns get their
        defaults, ``auto_now`` ones the time of the call. Returns the new rows' ids."""
        if not rows:
            return []
        assert "organization_id" in columns or "organization_id" not in {f.attname for f in self.fields}
        by_name = {f.attname: f for f in self.fields}
        given = [by_name[c] for c in columns]
        rest = [f for f in self.fields if f.attname not in set(columns)]
        now = timezone.now()
        constants: list[Any] = []
        per_row: list[models.Field[Any, Any]] = []
        for f in rest:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                constants.append(f.get_db_prep_save(now, connection))
            elif f.has_default() and callable(f.default):
                per_row.append(f)  # a fresh dict or list for each row
            else:
                constants.append(f.get_db_prep_save(f.get_default(), connection))
        tail = tuple(constants)
        converters = [(i, conv) for i, f in enumerate(given) if (conv := _converter(f)) is not None]
        ids = self.take_ids(len(rows))
        fields = [self.pk, *given, *[f for f in rest if f not in per_row], *per_row]
        qn = connection.ops.quote_name
        names = ", ".join(qn(cast(str, f.column)) for f in fields)

        def values() -> Iterable[tuple[Any, ...]]:
            for pk, row in zip(ids, rows, strict=True):
                if converters:
                    row = list(row)
                    for i, conv in converters:
                        row[i] = conv(row[i])
                extra = tuple(f.get_db_prep_save(f.get_default(), connection) for f in per_row)
                yield (pk, *row, *tail, *extra)

        with connection.cursor() as cursor:
            if self.postgres:
                # Names come from the model, quoted; values are streamed, never part of the statement.
                sql = f"COPY {qn(self.table)} ({names}) FROM STDIN"
                started = time.monotonic()
                with cursor.cursor.copy(sql) as copy:
                    for row_values in values():
                        copy.write_row(row_values)
                if connection.queries_logged:  # counted as Django counts its statements (tests, debug)
                    connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
            else:
                marks = ", ".join(["%s"] * len(fields))
                cursor.executemany(f"INSERT INTO {qn(self.table)} ({names}) VALUES ({marks})", list(values()))  # noqa: S608
        return ids

    def write_skipping_taken(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert the ``rows`` whose unique keys are free; a row whose key is taken is left out.

        PostgreSQL: COPY into a temporary table of the given columns, then one ``INSERT … SELECT … ON
        CONFLICT DO NOTHING`` with every other column's default (or the time of the call for
        ``auto_now`` ones) once; SQLite: one ``executemany`` of ``INSERT … ON CONFLICT DO NOTHING``.
        Ids come from the table itself (a skipped row takes none on SQLite).
        """
        if not rows:
            return
        by_name = {f.attname: f for f in self.fields}
        given = [by_name[c] for c in columns]  # an unknown name is a KeyError, not a silent drop
        rest = [f for f in self.fields if f.attname not in set(columns)]
        now = timezone.now()
        constants = [
            f.get_db_prep_save(
                now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default(),
                connection,
            )
            for f in rest
        ]
        converters = [(i, conv) for i, f in enumerate(given) if (conv := _converter(f)) is not None]

        def values() -> Iterable[list[Any]]:
            for row in rows:
                row = list(row)
                for i, conv in converters:
                    row[i] = conv(row[i])
                yield row

        qn = connection.ops.quote_name
        table = qn(self.table)
        staged = ", ".join(qn(cast(str, f.column)) for f in given)
        names = ", ".join(qn(cast(str, f.column)) for f in [*given, *rest])
        marks = ", ".join(["%s"] * (len(given) + len(rest)))
        if not self.postgres:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING",  # noqa: S608
                    [[*row, *constants] for row in values()],
                )
            return
        # The staging table, the copy and the move are one unit (a savepoint inside a caller's transaction).
        with transaction.atomic(), connection.cursor() as cursor:
            staging = qn(f"{self.table}_new_rows")
            copy_sql = f"COPY {staging} ({staged}) FROM STDIN"
            # Names come from the model, quoted; values are streamed or bound, never part of the statement.
            cursor.execute(f"CREATE TEMPORARY TABLE {staging} AS SELECT {staged} FROM {table} WITH NO DATA")  # noqa: S608
            started = time.monotonic()
            with cursor.cursor.copy(copy_sql) as copy:
                for row_values in values():
                    copy.write_row(row_values)
            if connection.queries_logged:  # counted as Django counts its statements (tests, debug)
                connection.queries_log.append({"sql": copy_sql, "time": f"{time.monotonic() - started:.3f}"})
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {', '.join([staged, *['%s'] * len(rest)])} "  # noqa: S608
                f"FROM {staging} ON CONFLICT DO NOTHING",
                constants,
            )
            cursor.execute(f"DROP TABLE {staging}")


def insert_rows_skipping_taken(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """New rows of ``model`` whose unique keys are free (see ``TableWriter.write_skipping_taken``)."""
    TableWriter(model).write_skipping_taken(columns, rows)


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """New rows of ``model`` (see ``TableWriter.write``); their ids in row order."""
    return TableWriter(model).write(columns, rows)
