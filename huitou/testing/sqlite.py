"""Planner statistics written by hand, to put SQLite's query planner where a test needs it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection

# What ANALYZE found in a small shop's database: few stages, few tags, so the stage index looks
# selective. With it SQLite 3.40 answered ``id IN (tagged) AND id < n`` with rows above n.
SMALL_SHOP = {
    ("customers_customer", "customer_org_active_stage_idx"): "40 40 7 1",
    ("customers_customer", "customer_org_recent_idx"): "40 40 1",
    ("customers_customertag", "customertag_org_tag_idx"): "41 41 6 1",
    ("customers_tag", "sqlite_autoindex_customers_tag_1"): "8 8 1",
}


def _statistics_table_exists(cursor: Any) -> bool:
    cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
    return bool(cursor.fetchall())


def planner_statistics_write(stats: Mapping[tuple[str, str], str]) -> bool:
    """Make SQLite plan as if ANALYZE had found ``stats`` ((table, index) → its ``stat`` line).

    Nothing elsewhere (PostgreSQL keeps its own): returns whether it wrote. The rows go into
    ``sqlite_stat1`` inside the test's transaction, and the schema is reloaded so that the
    next statement is planned with them.
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        if not _statistics_table_exists(cursor):
            cursor.execute("ANALYZE sqlite_master")  # creates the table, empty
        cursor.execute("DELETE FROM sqlite_stat1")
        cursor.executemany(
            "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (%s, %s, %s)", [(*k, v) for k, v in stats.items()]
        )
        cursor.execute("ANALYZE sqlite_master")  # reloads the statistics into the schema
    return True


def analysed_tables() -> set[str]:
    """The tables SQLite holds planner statistics of (none elsewhere)."""
    with connection.cursor() as cursor:
        if not _statistics_table_exists(cursor):
            return set()
        cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        return {row[0] for row in cursor.fetchall()}


def forget_statistics() -> None:
    """Drop SQLite's planner statistics, as a database that was never analysed (nothing elsewhere)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        if _statistics_table_exists(cursor):
            cursor.execute("DELETE FROM sqlite_stat1")
