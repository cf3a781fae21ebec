"""The PostgreSQL backend's health check: no round trip for a quiet connection, a new one for an ended one."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper

from huitou.lib.postgresql.base import RECENTLY_USED_SECONDS

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's own check"),
    pytest.mark.django_db,
]


@pytest.fixture
def kept() -> Iterator[Any]:
    """A kept connection of its own, as a server thread holds one between requests."""
    wrapper: Any = connections.create_connection("default")
    assert wrapper.health_check_enabled is False  # set when it connects, from the settings
    wrapper.ensure_connection()
    assert wrapper.health_check_enabled is True
    yield wrapper
    wrapper.close()


def _next_request(wrapper: Any) -> int:
    """What Django does between two requests, then the next request's first statement."""
    wrapper.close_if_unusable_or_obsolete()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_the_backend_is_this_projects(kept: Any) -> None:
    assert type(kept).__module__ == "huitou.lib.postgresql.base"


def _sent(kept: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements the kept connection sends from now on, Django's and the health check's alike."""
    sent: list[str] = []
    execute = type(kept.connection).execute

    def counted(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(type(kept.connection), "execute", counted)
    cursor_execute = type(kept.connection.cursor()).execute

    def counted_cursor(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return cursor_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(type(kept.connection.cursor()), "execute", counted_cursor)
    return sent


def test_a_quiet_connection_used_a_moment_ago_is_used_without_a_statement_of_its_own(
    kept: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _next_request(kept)
    sent = _sent(kept, monkeypatch)
    assert _next_request(kept) == first  # the same connection
    assert sent == ["SELECT pg_backend_pid()"]  # no SELECT 1 before it
    assert DjangoWrapper.is_usable(kept) and sent[-1] == "SELECT 1"  # what Django's own check would have sent


def test_a_connection_quiet_for_longer_gets_djangos_check(kept: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # A server gone without a word (a failover at the same address) leaves nothing to read: after a
    # quiet spell the check goes to the server, as Django's does.
    first = _next_request(kept)
    kept.last_used -= RECENTLY_USED_SECONDS + 0.5
    sent = _sent(kept, monkeypatch)
    assert _next_request(kept) == first
    assert sent == ["SELECT 1", "SELECT pg_backend_pid()"]


def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it(kept: Any) -> None:
    ended = _next_request(kept)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [ended])
    # The server's farewell (or the end of the stream) reaches the kept connection's socket.
    assert select.select([kept.connection.fileno()], [], [], 5)[0]
    started = time.monotonic()
    replaced = _next_request(kept)
    assert replaced != ended  # a new connection, and the request's statement ran on it
    assert time.monotonic() - started < 5


def test_a_connection_after_a_failed_statement_gets_djangos_own_check(
    kept: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _next_request(kept)
    kept.errors_occurred = True
    checked: list[bool] = []
    usable = DjangoWrapper.is_usable

    def django_check(self: Any) -> bool:
        checked.append(True)
        return usable(self)

    monkeypatch.setattr(DjangoWrapper, "is_usable", django_check)
    _next_request(kept)
    assert checked == [True]
    assert kept.errors_occurred is False


def test_timestamps_load_as_djangos_own_loader_gives_them(kept: Any) -> None:
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    values = [
        "2026-12-07 18:40:01.123456+00",
        "2026-12-07 02:40:01+08",
        "1999-12-31 23:59:59.999999-05:30",
        "0001-01-01 00:00:00+00",
        "2024-02-29 12:00:00.5+14",
    ]
    query = "SELECT v::timestamptz FROM unnest(%s::text[]) AS v"
    with kept.cursor() as cursor:
        cursor.execute(query, [values])
        ours = [row[0] for row in cursor.fetchall()]
        assert cursor.cursor.adapters.get_loader(1184, 0).__name__ == "TimestampLoader"  # this backend's
    raw = kept.connection.cursor()
    register_tzloader(kept.timezone, raw)  # Django's own loader, on this cursor alone
    raw.execute(query, [values])
    djangos = [row[0] for row in raw.fetchall()]
    assert ours == djangos
    assert [v.tzinfo for v in ours] == [v.tzinfo for v in djangos]
    assert [v.isoformat() for v in ours] == [v.isoformat() for v in djangos]
