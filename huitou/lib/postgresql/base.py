"""Django's PostgreSQL backend, with two costs of every request taken out.

Timestamps: Django reads each ``timestamptz`` through psycopg's Python
parser (its loader subclasses that one to set the time zone), a few
microseconds a value, which on a page of a few hundred rows adds up to
milliseconds. Here psycopg's own loader (compiled, with psycopg[binary])
parses and the value gets the same time zone as Django's would give it.

The health check: with ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1``
before the first statement of every request on a kept connection: a round
trip to the server on every page and API call, for the rare connection
that went bad while it sat between requests. A connection the server ended (a restart,
an administrator's ``pg_terminate_backend``, ``idle_session_timeout``) has
something to read on its socket: the server's last message, or the end
of the stream. A connection between requests never has anything to read
otherwise: no statement is outstanding and nothing here listens for
notifications. So a connection used within the last second
(``RECENTLY_USED_SECONDS``: requests coming one after another, where the
round trip costs most) has its socket looked at instead (a poll that does
not wait); one with something unread on it, one quiet for longer, one
after a failed statement or the driver already knows broken gets Django's
own check (which finds it unusable, and a new connection is opened). A
connection whose server vanished without a word (a failover to another
machine at the same address, a dropped NAT entry) looks quiet: within
that second, its next request fails once and the connection is replaced,
as without health checks; after it, Django's check catches it.
"""

from __future__ import annotations

import functools
import select
import time
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg.adapt import AdaptersMap, Loader
from psycopg.pq import Format, TransactionStatus
from psycopg.types.datetime import TimestamptzLoader

# A connection used this recently, with nothing unread, is taken as it is; one quiet for longer gets Django's check.
RECENTLY_USED_SECONDS = 1.0
TIMESTAMPTZ_OID = psycopg.postgres.types["timestamptz"].oid
# psycopg's own timestamptz loader: the compiled one when psycopg[binary] is installed.
_PARSER: Any = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT) or TimestamptzLoader


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        if "context" in params:
            params["context"] = _adapters(params["context"], self.timezone)
        return params

    def create_cursor(self, name: str | None = None) -> Any:
        self.last_used = time.monotonic()
        return super().create_cursor(name)

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        settled = (
            time.monotonic() - getattr(self, "last_used", 0.0) < RECENTLY_USED_SECONDS
            and not self.errors_occurred  # after a failed statement, Django's check at the request's end
            and connection.info.transaction_status == TransactionStatus.IDLE
            and _quiet(connection.fileno())
        )
        return settled or bool(super().is_usable())


def _quiet(fd: int) -> bool:
    """Whether the socket ``fd`` has nothing to read (checked at once, without waiting)."""
    try:
        poller = select.poll()
    except AttributeError:  # Windows has no poll()
        readable, _, _ = select.select([fd], [], [], 0)
        return not readable
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return not poller.poll(0)


@functools.lru_cache
def _adapters(template: AdaptersMap, timezone: Any) -> AdaptersMap:
    """Django's adapters (``template``, one per time zone) with the quicker timestamp loader."""
    adapters = AdaptersMap(template)
    adapters.register_loader(TIMESTAMPTZ_OID, _timestamp_loader(timezone))
    return adapters


def _timestamp_loader(tz: Any) -> type[Loader]:
    class TimestampLoader(Loader):
        """A ``timestamptz`` as Django loads it (aware, in ``timezone``), parsed by psycopg's own loader."""

        # Django's create_cursor compares this with the connection's time zone.
        timezone = tz

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._parse = _PARSER(oid, context).load

        def load(self, data: Any) -> Any:
            return self._parse(data).replace(tzinfo=self.timezone)

    return TimestampLoader
