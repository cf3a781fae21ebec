"""Substring search on SQLite: FTS5 trigram index tables, the counterpart of PostgreSQL's pg_trgm indexes.

An index table (``customers_vehicle_trgm``) holds the trigrams of a table's
text columns and answers ``LIKE '%part%'`` of three characters or more
without reading every row; triggers keep it in step with its table. Django
rebuilds a SQLite table to alter it (and its triggers go with the old one),
so after every ``migrate`` ``trigram_tables_ensure`` puts back whatever is
missing and refills an index table it had to mend.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

# (index table, table, text columns)
TRIGRAM_TABLES: list[tuple[str, str, tuple[str, ...]]] = [
    ("customers_vehicle_trgm", "customers_vehicle", ("plate", "vin")),
    ("customers_customer_trgm", "customers_customer", ("name",)),
]
TRIGGERS = ("insert", "delete", "update")


def _statements(index: str, table: str, columns: tuple[str, ...]) -> dict[str, str]:
    listed = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    # Names from TRIGRAM_TABLES only, never input.
    insert = f"INSERT INTO {index}(rowid, {listed}) VALUES (new.id, {new});"  # noqa: S608
    delete = f"INSERT INTO {index}({index}, rowid, {listed}) VALUES ('delete', old.id, {old});"  # noqa: S608
    on_update = f"AFTER UPDATE OF {listed} ON {table}"
    return {
        index: (
            f"CREATE VIRTUAL TABLE {index} USING fts5({listed}, content='{table}', content_rowid='id', "
            "tokenize='trigram')"
        ),
        f"{index}_insert": f"CREATE TRIGGER {index}_insert AFTER INSERT ON {table} BEGIN {insert} END",
        f"{index}_delete": f"CREATE TRIGGER {index}_delete AFTER DELETE ON {table} BEGIN {delete} END",
        f"{index}_update": f"CREATE TRIGGER {index}_update {on_update} BEGIN {delete} {insert} END",
    }


def trigram_tables_ensure(connection: BaseDatabaseWrapper) -> list[str]:
    """Create the index tables and triggers missing on a SQLite database (nothing elsewhere);
    an index table created or missing a trigger is refilled from its table. Returns what was made."""
    if connection.vendor != "sqlite":
        return []
    made: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        existing = {row[0] for row in cursor.fetchall()}
        for index, table, columns in TRIGRAM_TABLES:
            if table not in existing:
                continue  # before the table's own migration
            missing = {name: sql for name, sql in _statements(index, table, columns).items() if name not in existing}
            for sql in missing.values():
                cursor.execute(sql)
            if missing:
                cursor.execute(f"INSERT INTO {index}({index}) VALUES ('rebuild')")  # noqa: S608
                made += missing
    return made


def trigram_table(table: str, column: str) -> str:
    """The index table holding ``column`` of ``table``."""
    for index, indexed, columns in TRIGRAM_TABLES:
        if indexed == table and column in columns:
            return index
    raise LookupError(f"no trigram index for {table}.{column}")


def trigram_tables_drop(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for index, _table, _columns in TRIGRAM_TABLES:
            for trigger in TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {index}_{trigger}")
            cursor.execute(f"DROP TABLE IF EXISTS {index}")


def trigram_tables_purge(connection: BaseDatabaseWrapper) -> None:
    """Merge each index table into one segment, which drops the entries of rows since changed.

    A changed row's old trigrams stay in the index table's pages, marked
    deleted, until its segments are merged: erasure merges them so that no
    part of an erased name, plate or VIN is left in the file.
    """
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for index, _table, _columns in TRIGRAM_TABLES:
            cursor.execute(f"INSERT INTO {index}({index}) VALUES ('optimize')")  # noqa: S608


def ensure_after_migrate(using: str = "default", **_kwargs: Any) -> None:
    """``post_migrate`` receiver: a migration that rebuilt a table dropped its triggers."""
    trigram_tables_ensure(connections[using])
