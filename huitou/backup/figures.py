"""The numbers a backup records and a restore must give back.

A backup measures its own copy of the database (the SQLite copy, or the
PostgreSQL snapshot ``pg_dump`` reads), so the numbers are those of the
archive, not of a database that moved on while it was written: the rows of
every table, the sum of every money column, and headline figures: customers,
orders, order totals, amounts paid and the ledger balances cached on account
rows (points, stored value, package-card uses left).

Measures are plain SQL on a DB-API cursor, so they run on a file that Django
is not connected to (the SQLite copy) and on the PostgreSQL snapshot. A
restore recomputes them from the table and column names the manifest holds,
checked as plain identifiers (a manifest never brings SQL of its own).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Balances cached on account rows (the sums of their ledgers), by model; besides these, any
# number field named ``balance`` or ``*_balance`` counts as one.
LEDGER_BALANCES = {
    "loyalty.LoyaltyAccount": ("points", "stored_principal", "stored_bonus"),
    "loyalty.PackageCard": ("uses_left",),
}


@dataclass(frozen=True)
class Measure:
    key: str
    table: str
    column: str = ""  # empty: count the rows
    places: int = 0  # decimal places of a summed column

    def sql(self) -> str:
        for name in (self.table, self.column) if self.column else (self.table,):
            if not IDENTIFIER.match(name):
                raise ValueError(f"not a table or column name: {name!r}")
        if not self.column:
            return f'SELECT COUNT(*) FROM "{self.table}"'  # noqa: S608 - checked identifiers
        # Summed in whole fen so SQLite (which keeps decimals as REAL) adds exactly.
        scaled = f'ROUND("{self.column}" * {10**self.places})' if self.places else f'"{self.column}"'
        return f'SELECT COALESCE(SUM(CAST({scaled} AS BIGINT)), 0) FROM "{self.table}"'  # noqa: S608

    def value(self, raw: Any) -> int | str:
        if not self.column:
            return int(raw)
        return str(Decimal(int(raw)).scaleb(-self.places).quantize(Decimal(1).scaleb(-self.places)))

    @property
    def headline(self) -> bool:
        """Printed always; the others (rows and money sums of each table) only when they differ."""
        return not self.key.startswith(("rows:", "sum:"))


def _tables() -> list[type[models.Model]]:
    seen: set[str] = set()
    found = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and meta.db_table not in seen:
            seen.add(meta.db_table)
            found.append(model)
    return sorted(found, key=lambda m: m._meta.db_table)


def _sum(key: str, model: type[models.Model], field: models.Field[Any, Any]) -> Measure:
    places = field.decimal_places if isinstance(field, models.DecimalField) else 0
    return Measure(key=key, table=model._meta.db_table, column=str(field.column), places=places or 0)


def measures() -> list[Measure]:
    """Headline figures first (customers, orders, money, balances), then every table's rows."""
    from huitou.customers.models import Customer
    from huitou.service.models import ServiceOrder

    found = [
        Measure(key="customers", table=Customer._meta.db_table),
        Measure(key="orders", table=ServiceOrder._meta.db_table),
        _sum("order_totals", ServiceOrder, ServiceOrder._meta.get_field("total")),
        _sum("order_amount_paid", ServiceOrder, ServiceOrder._meta.get_field("amount_paid")),
    ]
    for model in _tables():
        named = LEDGER_BALANCES.get(model._meta.label, ())
        for field in model._meta.concrete_fields:
            is_number = isinstance(field, models.DecimalField | models.IntegerField)
            if is_number and (field.name in named or field.name == "balance" or field.name.endswith("_balance")):
                found.append(_sum(f"balance:{model._meta.label}.{field.name}", model, field))
    for model in _tables():
        found.append(Measure(key=f"rows:{model._meta.db_table}", table=model._meta.db_table))
        found += [
            _sum(f"sum:{model._meta.db_table}.{field.column}", model, field)
            for field in model._meta.concrete_fields
            if isinstance(field, models.DecimalField)
        ]
    return found


def measure(cursor: Any, wanted: list[Measure]) -> dict[str, int | str]:
    """Each measure's value read through ``cursor`` (sqlite3, psycopg or Django's)."""
    values: dict[str, int | str] = {}
    for item in wanted:
        cursor.execute(item.sql())
        values[item.key] = item.value(cursor.fetchone()[0])
    return values


def to_manifest(wanted: list[Measure], values: dict[str, int | str]) -> list[dict[str, Any]]:
    return [{**asdict(item), "value": values[item.key]} for item in wanted]


def from_manifest(entries: list[dict[str, Any]]) -> tuple[list[Measure], dict[str, int | str]]:
    wanted = [
        Measure(key=str(e["key"]), table=str(e["table"]), column=str(e["column"]), places=int(e["places"]))
        for e in entries
    ]
    return wanted, {str(e["key"]): e["value"] for e in entries}


@dataclass(frozen=True)
class Comparison:
    key: str
    recorded: int | str
    found: int | str | None

    @property
    def equal(self) -> bool:
        return self.recorded == self.found


def compare(recorded: dict[str, int | str], found: dict[str, int | str]) -> list[Comparison]:
    return [Comparison(key=key, recorded=value, found=found.get(key)) for key, value in recorded.items()]
