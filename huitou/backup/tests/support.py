"""Installations for the backup tests: a data directory, and on PostgreSQL a database of its own.

The tests run the real ``huitou`` command in child processes against these,
and read the numbers back with plain SQL of their own (``numbers``), not with
the code under test. The engine is the one of the test run: SQLite, or the
PostgreSQL server of DATABASE_URL, where each installation gets a database
named after the run's test database, created here and dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

POSTGRES = connection.vendor == "postgresql"
HUITOU = Path(sys.executable).with_name("huitou")


def huitou_command() -> list[str]:
    """The installed ``huitou`` script (what a shop runs), or the module when not installed."""
    return [str(HUITOU)] if HUITOU.exists() else [sys.executable, "-m", "huitou.cli"]


def _admin() -> psycopg.Connection[Any]:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname="postgres",
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        autocommit=True,
    )


def _url(name: str) -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


@dataclass
class Installation:
    data_dir: Path
    database: str = ""  # PostgreSQL: the database's name; SQLite: the file in data_dir
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def sqlite_file(self) -> Path:
        return self.data_dir / "huitou.sqlite3"

    @property
    def media(self) -> Path:
        return self.data_dir / "media"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"} and not k.startswith("HUITOU_")
        }
        env["HUITOU_DATA_DIR"] = str(self.data_dir)
        if self.database:
            env["DATABASE_URL"] = _url(self.database)
        env.update(self.extra_env)
        env.update(extra)
        return env

    def run(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*huitou_command(), *args], env=self.env(**env), capture_output=True, text=True, timeout=300, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"huitou {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def connect(self) -> Any:
        if self.database:
            db = settings.DATABASES["default"]
            return psycopg.connect(
                dbname=self.database,
                host=db.get("HOST") or None,
                port=db.get("PORT") or None,
                user=db.get("USER") or None,
                password=db.get("PASSWORD") or None,
            )
        return sqlite3.connect(self.sqlite_file)


def numbers(installation: Installation) -> dict[str, Any]:
    """The figures a shop would check, read with the tests' own SQL."""
    connection = installation.connect()
    try:
        cursor = connection.cursor()

        def one(sql: str) -> Any:
            cursor.execute(sql)
            return cursor.fetchone()[0]

        def money(table: str, column: str) -> Decimal:
            cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608 - the tests' own names
            return sum((Decimal(str(v)).quantize(Decimal("0.01")) for (v,) in cursor.fetchall()), Decimal("0.00"))

        found: dict[str, Any] = {
            "organizations": one("SELECT COUNT(*) FROM tenancy_organization"),
            "customers": one("SELECT COUNT(*) FROM customers_customer"),
            "vehicles": one("SELECT COUNT(*) FROM customers_vehicle"),
            "orders": one("SELECT COUNT(*) FROM service_serviceorder"),
            "order lines": one("SELECT COUNT(*) FROM service_orderline"),
            "order totals": money("service_serviceorder", "total"),
            "amounts paid": money("service_serviceorder", "amount_paid"),
            "line amounts": money("service_orderline", "amount"),
            "payments": money("service_payment", "amount"),
            "history entries": one("SELECT COUNT(*) FROM audit_changeentry"),
        }
        tables = _tables(cursor, bool(installation.database))
        if "loyalty_loyaltyaccount" in tables:
            found["points"] = one("SELECT COALESCE(SUM(points), 0) FROM loyalty_loyaltyaccount")
            found["stored value"] = money("loyalty_loyaltyaccount", "stored_principal") + money(
                "loyalty_loyaltyaccount", "stored_bonus"
            )
        return found
    finally:
        connection.close()


def _tables(cursor: Any, postgres: bool) -> set[str]:
    if postgres:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row[0] for row in cursor.fetchall()}


def media_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class Installations:
    """Makes installations under ``base`` and removes their PostgreSQL databases at the end."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.databases: list[str] = []

    def new(self, *, template: Installation | None = None) -> Installation:
        """An empty installation, or a copy of ``template`` (which must be idle)."""
        key = uuid.uuid4().hex[:8]
        data_dir = self.base / key
        data_dir.mkdir(parents=True)
        database = ""
        if POSTGRES:
            test_name = settings.DATABASES["default"].get("TEST", {}).get("NAME") or "test_huitou"
            database = f"{test_name[:40]}_bk_{key}"
            with _admin() as admin:
                if template is not None:
                    admin.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template.database}"')
                else:
                    admin.execute(f'CREATE DATABASE "{database}"')
            self.databases.append(database)
        installation = Installation(data_dir=data_dir, database=database)
        if template is not None:
            if not POSTGRES:
                shutil.copy2(template.sqlite_file, installation.sqlite_file)
            if template.media.exists():
                shutil.copytree(template.media, installation.media)
        return installation

    def close(self) -> None:
        if not self.databases:
            return
        with _admin() as admin:
            for name in self.databases:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def installations(base: Path) -> Iterator[Installations]:
    made = Installations(base)
    try:
        yield made
    finally:
        made.close()
