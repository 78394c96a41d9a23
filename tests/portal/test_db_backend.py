"""The health check of kept PostgreSQL connections (portal/db/postgresql/base.py), on a real server.

Each test opens its own connection with the production knobs (kept, health-checked) next to the
test's own, and plays the request (or task) boundaries Django plays: ``close_if_unusable_or_obsolete``
at the start and the end, the first query in between.
"""
import time

import psycopg2
import pytest
from django.db import connection as test_connection
from django.db.backends.postgresql import base as django_postgresql

from portal.db.postgresql.base import DatabaseWrapper, _readable

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept():
    wrapper = DatabaseWrapper(
        {**test_connection.settings_dict, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}, alias="health_check_test"
    )
    yield wrapper
    wrapper.close()


@pytest.fixture
def round_trips(monkeypatch):
    """How many times Django's own check (its SELECT 1) ran."""
    calls = []
    original = django_postgresql.DatabaseWrapper.is_usable

    def counted(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)
    return calls


def request_cycle(wrapper) -> int:
    """One request: the boundary, a query, the boundary. Returns the server process that answered."""
    wrapper.close_if_unusable_or_obsolete()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    wrapper.close_if_unusable_or_obsolete()
    return pid


def terminate(pid: int) -> None:
    other = psycopg2.connect(
        host=test_connection.settings_dict["HOST"] or None,
        port=test_connection.settings_dict["PORT"] or None,
        user=test_connection.settings_dict["USER"],
        dbname=test_connection.settings_dict["NAME"],
    )
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()


def test_a_connection_used_moments_ago_is_reused_without_a_round_trip(kept, round_trips, settings):
    settings.DB_HEALTH_CHECK_IDLE_SECONDS = 30
    first = request_cycle(kept)
    assert [request_cycle(kept) for _ in range(5)] == [first] * 5
    assert round_trips == []


def test_a_connection_idle_for_longer_is_checked_with_a_round_trip(kept, round_trips, settings):
    settings.DB_HEALTH_CHECK_IDLE_SECONDS = 0.05
    first = request_cycle(kept)
    time.sleep(0.1)
    assert request_cycle(kept) == first
    assert len(round_trips) == 1


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(kept, round_trips, settings):
    """A restart, pg_terminate_backend or an idle timeout: the server says so on the socket and
    closes it; the next request gets a new connection instead of an error, even moments later."""
    settings.DB_HEALTH_CHECK_IDLE_SECONDS = 30
    first = request_cycle(kept)
    terminate(first)
    deadline = time.monotonic() + 5
    while not _readable(kept.connection) and time.monotonic() < deadline:
        time.sleep(0.01)  # the server's goodbye reaches the socket
    second = request_cycle(kept)
    assert second != first
    assert len(round_trips) == 1  # the socket was readable: Django's check ran, failed, reconnected


def test_after_a_database_error_the_full_check_decides(kept, round_trips, settings):
    from django.db import DatabaseError

    settings.DB_HEALTH_CHECK_IDLE_SECONDS = 30
    request_cycle(kept)
    kept.close_if_unusable_or_obsolete()
    with pytest.raises(DatabaseError):
        with kept.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM no_such_table")
    kept.close_if_unusable_or_obsolete()  # end of the failed request: Django checks (a rollback is needed)
    request_cycle(kept)
    assert len(round_trips) == 1  # only the check after the error

