"""Django's PostgreSQL backend with a health check that skips the round trip when it can.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request
and every Celery task that reuses a kept connection: under load, one statement in four of a
citizen page and of an SMS delivery. Most of those checks can be answered locally:

* a connection that a request or task used **moments ago** (``DB_HEALTH_CHECK_IDLE_SECONDS``,
  default 1 s) without a database error, and
* on whose socket **nothing is waiting to be read**. An idle connection receives nothing from
  PostgreSQL unless the server is going away: a restart, ``pg_terminate_backend``, an idle
  timeout or a failover sends its error message and closes the socket, which makes it readable.

is usable without asking. Anything else (idle longer, bytes or EOF waiting, an error last time)
gets Django's ``SELECT 1``, as before. What the shortcut cannot see is a server that vanished
without closing the connection within that second; the next query then fails as it would have
after a ``SELECT 1`` that passed a moment earlier.
"""
from __future__ import annotations

import select
import time

from django.conf import settings
from django.db.backends.postgresql import base


def _idle_seconds() -> float:
    return float(getattr(settings, "DB_HEALTH_CHECK_IDLE_SECONDS", 1.0))


class DatabaseWrapper(base.DatabaseWrapper):
    # When a request or task that used this connection last ended without a database error.
    _worked_at: float | None = None

    def connect(self):
        self._worked_at = None
        super().connect()

    def is_usable(self):
        if self.connection is not None and self._worked_at is not None and not self.errors_occurred:
            recent = time.monotonic() - self._worked_at < _idle_seconds()
            if recent and not self.connection.closed and not _readable(self.connection):
                return True
        return super().is_usable()

    def close_if_unusable_or_obsolete(self):
        # Runs at the end of every request and task (and at its start). health_check_done is
        # set once this connection was used (opened or checked) since the last call; with no
        # error it answered, so it counts as working now.
        used = self.connection is not None and self.health_check_done and not self.errors_occurred
        if self.errors_occurred:
            self._worked_at = None  # Django's own check decides, with a round trip
        super().close_if_unusable_or_obsolete()
        if self.connection is None:
            self._worked_at = None
        elif used:
            self._worked_at = time.monotonic()


def _readable(connection) -> bool:
    """True when the server sent something to an idle connection: an error before closing, EOF."""
    try:
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    except (OSError, ValueError):  # no socket any more
        return True
