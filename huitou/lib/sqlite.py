"""Keeping the embedded SQLite database's query planner informed.

SQLite chooses among a table's indexes by the statistics ``ANALYZE`` leaves
in ``sqlite_stat1``. Without them it guesses, and on a shop's customer table
it can guess a scan of every row where one index probe would do (a name
prefix at 100,000 customers: 125 ms instead of 3 ms). With
``analysis_limit`` each index is sampled, not read whole, so refreshing the
statistics takes milliseconds at the sizes SQLite serves (22 ms at 100,000
customers). PostgreSQL keeps its own statistics (autovacuum).
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.models import F, QuerySet

# Rows sampled per index: enough to tell a selective index from a poor one.
ANALYSIS_LIMIT = 1000


def planner_stats_refresh(using: str = "default") -> bool:
    """Refresh SQLite's planner statistics (nothing elsewhere); whether it ran."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        cursor.execute("ANALYZE")
    return True


def ids_below(queryset: QuerySet[Any], last: int) -> QuerySet[Any]:
    """``queryset`` narrowed to ids below ``last``: the next page of a newest-first walk.

    SQLite 3.40 (the one Debian 12's Python links) can answer such a bound wrongly: when the
    same statement has ``id IN (subquery)`` (a tag, a tier, a set of ids) and the planner reads
    both through an index that ends with the id, it probes the index for each id of the list and
    drops the bound, so rows above it come back and a walk page by page never ends. Newer
    releases read it right. On SQLite the bound is therefore written ``id + 0 < last``, which no
    index serves: it is checked on each row found, however they are found. Elsewhere it stays
    ``id < last``, the index range PostgreSQL walks.
    """
    if queryset.db and connections[queryset.db].vendor == "sqlite":
        return queryset.alias(_id_plain=F("pk") + 0).filter(_id_plain__lt=last)
    return queryset.filter(pk__lt=last)
