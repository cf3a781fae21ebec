"""Writing rows in bulk: PostgreSQL COPY (``executemany`` elsewhere), and indexes dropped and rebuilt."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any, cast

from django.db import connection, models
from django.utils import timezone


class DeferredIndexes:
    """Drop the secondary indexes and foreign keys of some tables, and rebuild them.

    PostgreSQL only, inside the caller's transaction: a failed load rolls the
    drop back too. Building an index once over a million rows takes seconds;
    updating it row by row takes many minutes, and so do per-row foreign key
    checks, which re-adding the constraint replaces with one join. Indexes that
    back a constraint (primary keys, unique constraints) stay. Until commit the
    tables are locked against every other session, and the tables their foreign
    keys point at (staff, organizations, sources) against writes.
    """

    def __init__(self, tables: Sequence[str]) -> None:
        self.tables = list(tables)
        self.indexes: list[tuple[str, str]] = []
        self.foreign_keys: list[tuple[str, str, str]] = []

    def drop(self) -> None:
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = ANY(%s::regclass[]) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY 1",
                [self.tables],
            )
            self.indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
                [self.tables],
            )
            self.foreign_keys = cursor.fetchall()
            # Run the foreign key checks queued so far: a table with pending checks cannot be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name, _definition in self.indexes:
                cursor.execute(f"DROP INDEX {name}")
            for table, name, _definition in self.foreign_keys:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {qn(name)}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def rebuild(self) -> None:
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for _name, definition in self.indexes:
                cursor.execute(definition)
            for table, name, definition in self.foreign_keys:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {qn(name)} {definition}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class TableWriter:
    """Writes full rows of one model: COPY on PostgreSQL, ``executemany`` elsewhere.

    Rows are dicts by column attname; a missing column gets the field's default.
    With ``with_ids`` the caller takes ids from the table's sequence first
    (``allocate_ids``) so rows can refer to each other; otherwise the database
    numbers the rows.
    """

    def __init__(self, model: type[models.Model], *, with_ids: bool) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
        self.columns = [f.attname for f in self.fields]
        self.table = model._meta.db_table
        self.postgres = connection.vendor == "postgresql"
        qn = connection.ops.quote_name
        quoted = ", ".join(qn(cast(str, f.column)) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        # Table and column names come from the model, quoted; values are bound or streamed.
        self.copy_sql = f"COPY {qn(self.table)} ({quoted}) FROM STDIN"
        self.insert_sql = f"INSERT INTO {qn(self.table)} ({quoted}) VALUES ({placeholders})"  # noqa: S608

    def defaults(self) -> dict[str, Any]:
        now = timezone.now()
        values: dict[str, Any] = {}
        for f in self.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                values[f.attname] = now
            elif not f.primary_key:
                values[f.attname] = f.get_default()
        return values

    def allocate_ids(self, count: int) -> list[int]:
        if count == 0:
            return []
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the load runs in one write transaction, so no one else takes ids meanwhile.
            table = connection.ops.quote_name(self.table)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            start = cursor.fetchone()[0]
            if connection.vendor == "sqlite":
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
                row = cursor.fetchone()
                start = max(start, row[0] if row else 0)
        return list(range(start + 1, start + 1 + count))

    def _values(self, rows: Sequence[Mapping[str, Any]]) -> list[Sequence[Any]]:
        """Each row's values in column order. Rows of one call usually hold the same keys:
        the columns the first lacks are filled from the defaults, all in C (``itemgetter``)."""
        defaults = self.defaults()
        columns = self.columns
        fill = {c: defaults.get(c) for c in columns if c not in rows[0]}
        getter = operator.itemgetter(*columns)
        values: list[Sequence[Any]] = []
        for row in rows:
            try:
                values.append(getter({**fill, **row} if fill else row))
            except KeyError:
                values.append([row.get(c, defaults.get(c)) for c in columns])
        return values

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        tuples = self._values(rows)
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for values in tuples:
                        copy.write_row(values)
            else:
                prepared = [
                    [f.get_db_prep_save(v, connection) for f, v in zip(self.fields, values, strict=True)]
                    for values in tuples
                ]
                cursor.executemany(self.insert_sql, prepared)
