"""Django's PostgreSQL backend, its health check made without a round trip while the connection is quiet.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first
statement of every request on a kept connection: a round trip to the
server on every page and API call, for the rare connection that went bad
while it sat between requests. A connection the server ended (a restart,
an administrator's ``pg_terminate_backend``, ``idle_session_timeout``) has
something to read on its socket: the server's last message, or the end
of the stream. So the socket is looked at first (a poll that does not
wait), and only a connection with something unread on it, or one the
driver already knows is broken or closed, gets Django's own check (which
then finds it unusable, and a new connection is opened). A connection
between requests never has anything to read otherwise: no statement is
outstanding and nothing here listens for notifications.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        settled = (
            not self.errors_occurred  # after a failed statement, Django's check at the request's end
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
