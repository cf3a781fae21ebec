"""Django's PostgreSQL backend, with three costs of every request taken out.

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

Planning: the hot reads' statements are kept whole (``huitou.lib.statements``),
their values bound as parameters. ``fetch_prepared()`` runs such a
statement as a prepared statement of the connection (psycopg prepares it on
its first run there and names it) with its generic plan: PostgreSQL neither
parses nor plans it again, where planning a page of customers with their
owner, source, score and tags took about a millisecond. The connection's
``plan_cache_mode`` is ``force_generic_plan``, which prepared statements
heed (and PL/pgSQL functions, of which there are none), and only kept
statements are prepared: Django's own queries are sent with their values in
the text, as before, and psycopg keeps no count of them. The kept
statements' conditions are all ones an index serves with the value unknown
(equality, ranges: ``huitou.lib.conditions``; trigram patterns, by cost).
``OPTIONS["prepared_statements"] = False`` (``DB_PREPARED_STATEMENTS=0``)
sends them as ordinary queries, for a connection pooler that does not keep
prepared statements or refuses the ``plan_cache_mode`` startup option.
"""

from __future__ import annotations

import functools
import select
import time
from collections.abc import Sequence
from typing import Any, cast

import psycopg
from django.db import NotSupportedError
from django.db.backends.postgresql import base, operations
from psycopg.adapt import AdaptersMap, Loader
from psycopg.pq import Format, TransactionStatus
from psycopg.types.datetime import TimestamptzLoader
from psycopg.types.numeric import IntDumper

# A connection used this recently, with nothing unread, is taken as it is; one quiet for longer gets Django's check.
RECENTLY_USED_SECONDS = 1.0
TIMESTAMPTZ_OID = psycopg.postgres.types["timestamptz"].oid
# psycopg's own timestamptz loader: the compiled one when psycopg[binary] is installed.
_PARSER: Any = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT) or TimestamptzLoader


# While a kept statement runs, only statements run with ``prepare=True`` are prepared (none runs this often);
# otherwise the connection keeps no count of the statements it runs (Django's default, None).
EXPLICIT_ONLY = 2**62
# PostgreSQL's refusal of a prepared statement whose result columns a migration changed since.
CHANGED_RESULT = "cached plan must not change result type"

# Django's cursor that sends the values apart from the statement (psycopg's own), its callproc included.
_ServerBindingCursor: Any = base.ServerBindingCursor


class IntAsInText(IntDumper):
    """An integer typed as the same number written in a statement's text is: ``integer``, ``bigint`` past
    its range. psycopg would pick the smallest type for each value (``smallint`` up to 32,767), and one
    statement would be prepared again for each combination of its ids' sizes. Not ``bigint`` for all: the
    trigram indexes' organization column (``btree_gin``, ``bigint``) would then match the organization's id,
    a list of every car of the organization to intersect with the pattern's (three times slower at a million
    cars), where an ``integer`` leaves that condition to the rows found."""

    def upgrade(self, obj: int, format: Any) -> Any:
        if -(2**31) <= obj < 2**31:
            return self._int4_dumper
        return super().upgrade(obj, format)


class PreparedCursor(_ServerBindingCursor):
    """A cursor whose statements are prepared on the connection (on their first run) and then run by name,
    integers typed as in the text (``IntAsInText``)."""

    def __init__(self, connection: Any) -> None:
        super().__init__(connection)
        self.adapters.register_dumper(int, IntAsInText)

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> Any:
        connection = self.connection
        connection.prepare_threshold = EXPLICIT_ONLY
        try:
            return super().execute(query, params, prepare=True, binary=binary)
        finally:
            connection.prepare_threshold = None


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        # A statement run by name carries no text of its own: its SQL with the values, as Django's debug
        # log and query counts show the others.
        if isinstance(cursor, PreparedCursor):
            try:
                return self.compose_sql(sql, params)
            except psycopg.errors.DataError:  # as Django's own: the log must not hide the statement's error
                return None  # type: ignore[return-value]
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    prepares = True  # (set from the options when connecting)

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        self.prepares = bool(params.pop("prepared_statements", True))
        if "context" in params:
            params["context"] = _adapters(params["context"], self.timezone)
        if self.prepares:
            params["options"] = " ".join(filter(None, [params.get("options"), "-c plan_cache_mode=force_generic_plan"]))
        return params

    def prepared_cursor(self) -> Any:
        """A cursor (Django's wrapper: logged, errors translated) whose statements run prepared, with their
        generic plan; an ordinary one when prepared statements are turned off."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        if not self.prepares:
            return self.cursor()
        self.last_used = time.monotonic()
        with self.wrap_database_errors:
            return cast(Any, self)._prepare_cursor(PreparedCursor(self.connection))

    def fetch_prepared(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of a kept statement, run prepared (``prepared_cursor``).

        A statement whose result columns a migration changed since this connection prepared it is refused
        by PostgreSQL. Outside a transaction the connection is then replaced (a new one has nothing
        prepared) and the statement run again; inside one the error stands, and the rollback that follows
        makes the connection forget what it prepared.
        """

        def fetch() -> list[tuple[Any, ...]]:
            with self.prepared_cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())

        try:
            return fetch()
        except NotSupportedError as error:
            if CHANGED_RESULT not in str(error) or self.in_atomic_block or not self.get_autocommit():
                raise
        self.close()
        return fetch()

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
