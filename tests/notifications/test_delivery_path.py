"""What one delivery costs the database, and the per-number limit under concurrent claims.

The drain's speed comes from doing little per SMS (bench/notifications_drain.py); these tests pin
that down and show the shortcuts keep the guarantees: the claim is the one commit that waits for
the log flush, and two claims for one number cannot both pass its daily limit.
``test_claim.py`` holds the one-round-trip claim to the general path's decisions.
"""
import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from notifications import sending
from notifications.limits import recipient_lock
from notifications.models import Channel, DevSms, Notification, NotificationStatus
from notifications.services import notification_create
from tests.notifications.processes import wait_until


def _sms(phone="13800000051", key="application:51:submitted"):
    (sms,) = notification_create(
        event_key=key,
        template_key="application_submitted",
        params={"number": "430500-20261122-000051"},
        phone=phone,
        channels=(Channel.SMS,),
    )
    return sms


def _statements(queries) -> list[str]:
    return [query["sql"] for query in queries]


@pytest.mark.django_db(transaction=True)
def test_one_delivery_is_one_claim_round_trip_the_gateway_write_and_one_unflushed_update():
    # The connection's first delivery prepares the claim and the success statements
    # (portal.prepared); every later one runs them by name.
    assert sending.notification_deliver(notification_id=_sms(key="application:50:submitted").pk) == "sent"
    sms = _sms()
    with CaptureQueriesContext(connection) as captured:
        assert sending.notification_deliver(notification_id=sms.pk) == "sent"
    sql = _statements(captured.captured_queries)
    assert [statement.split(" ", 1)[0] for statement in sql] == [
        "EXECUTE",  # the claim: row and number locked, then the UPDATE; one transaction, flushed
        "SET",  # the dev gateway's "provider": an INSERT that does not wait for the flush either
        "SET",  # the success, one statement that does not wait for the flush
    ], sql
    assert sql[0].startswith("EXECUTE notification_claim_lock(") and "; EXECUTE notification_claim(" in sql[0]
    assert "synchronous_commit" not in sql[0]  # the claim is the one commit that waits for the flush
    assert sql[1].startswith("SET LOCAL synchronous_commit TO OFF; INSERT INTO")
    assert sql[2].startswith("SET LOCAL synchronous_commit TO OFF; EXECUTE notification_sent(")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'notification_%'")
        assert {name for (name,) in cursor.fetchall()} == {"notification_claim_lock", "notification_claim", "notification_sent"}
    lock_row_and_number, claim = (statement.sql for statement in sending._claim_statements())
    assert "pg_advisory_xact_lock" in lock_row_and_number and lock_row_and_number.endswith("FOR UPDATE SKIP LOCKED) due")
    assert claim.startswith("UPDATE ") and "NOT EXISTS" in claim
    with connection.cursor() as cursor:  # the setting ended with that statement's transaction
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.SENT and sms.provider == "dev" and sms.sent_at is not None
    assert not sms.delivery_uncertain and sms.attempts == 1 and sms.not_before is None
    assert sms.provider_message_id == DevSms.objects.get(reference=str(sms.reference)).message_id


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_task_for_a_sent_row_writes_nothing_and_locks_nothing():
    sms = _sms(key="application:52:submitted")
    sending.notification_deliver(notification_id=sms.pk)
    with CaptureQueriesContext(connection) as captured:
        assert sending.notification_deliver(notification_id=sms.pk) == "skipped_sent"
    sql = _statements(captured.captured_queries)
    assert not [s for s in sql if s.startswith(("UPDATE", "INSERT", "DELETE", "SET"))], sql
    assert DevSms.objects.count() == 1


@pytest.mark.django_db
def test_inside_a_callers_transaction_the_success_is_recorded_by_that_transaction():
    # A caller's commit must keep its own durability: no SET LOCAL inside its transaction.
    sms = _sms(key="application:53:submitted")
    with CaptureQueriesContext(connection) as captured:
        assert sending.notification_deliver(notification_id=sms.pk) == "sent"
    assert not [s for s in _statements(captured.captured_queries) if "synchronous_commit" in s]
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.SENT and not sms.delivery_uncertain


@pytest.mark.django_db(transaction=True)
def test_two_claims_for_one_number_at_once_never_pass_its_daily_limit(limits):
    """Both claims wait for the number's lock (held here); the one that gets it second sees the
    first one's claim committed and is held back."""
    limits(SMS_PER_NUMBER_PER_DAY=1)
    rows = [_sms(phone="13800000054", key="application:54:approved"), _sms(phone="13800000054", key="application:55:approved")]
    holding, release = threading.Event(), threading.Event()
    outcomes: list[str] = []

    def hold_the_numbers_lock():
        try:
            with transaction.atomic():
                recipient_lock(recipient="13800000054")
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    def deliver(row):
        try:
            outcomes.append(sending.notification_deliver(notification_id=row.pk))
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_numbers_lock)
    holder.start()
    assert holding.wait(10)
    threads = [threading.Thread(target=deliver, args=(row,)) for row in rows]
    try:
        for thread in threads:
            thread.start()

        def both_wait_for_the_lock() -> bool:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                return cursor.fetchone()[0] == 2

        wait_until(both_wait_for_the_lock, timeout=10, what="both claims to wait for the number's lock")
    finally:
        release.set()
        for thread in [holder, *threads]:
            thread.join(15)
    assert sorted(outcomes) == ["limited", "sent"]
    held = Notification.objects.get(pk__in=[row.pk for row in rows], status=NotificationStatus.PENDING)
    assert held.attempts == 0 and held.not_before is not None and "daily SMS limit" in held.last_error
    assert DevSms.objects.filter(phone="13800000054").count() == 1
    with transaction.atomic():  # nothing is left locked
        assert Notification.objects.select_for_update(nowait=True).filter(pk=held.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_lost_its_prepared_statements_prepares_them_again():
    """A pooler's DISCARD ALL (or DEALLOCATE) between deliveries: the next one still sends once."""
    assert sending.notification_deliver(notification_id=_sms(key="application:54:submitted").pk) == "sent"
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    sms = _sms(phone="13800000055", key="application:55:submitted")
    assert sending.notification_deliver(notification_id=sms.pk) == "sent"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.SENT and sms.attempts == 1
    assert DevSms.objects.filter(reference=str(sms.reference)).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'notification_%'")
        assert cursor.fetchone() == (3,)


@pytest.mark.django_db(transaction=True)
def test_a_crash_that_loses_the_dev_gateways_unflushed_row_ends_with_one_message(limits, published):
    """The dev gateway's row and the success are committed without the flush; a crash can lose
    both (never the success alone: the log is written in order). The flushed claim brings the row
    back as sending and uncertain; the lookup finds no message, so it is sent again, once."""
    from datetime import timedelta

    from django.utils import timezone

    limits(SENDING_STUCK_AFTER_SECONDS=600)
    sms = _sms(phone="13800000056", key="application:56:submitted")
    assert sending.notification_deliver(notification_id=sms.pk) == "sent"
    # What the database holds after such a crash: the claim, nothing after it.
    DevSms.objects.filter(reference=str(sms.reference)).delete()
    Notification.objects.filter(pk=sms.pk).update(
        status=NotificationStatus.SENDING, delivery_uncertain=True, claimed_at=timezone.now() - timedelta(minutes=11),
        sent_at=None, provider="", provider_message_id="",
    )
    assert sending.outbox_sweep()["stuck"] == 1
    assert sending.notification_deliver(notification_id=sms.pk) == "sent"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.SENT and sms.attempts == 2
    assert DevSms.objects.filter(reference=str(sms.reference)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_prepared_statements_off_runs_the_same_statements_as_text(settings):
    settings.DB_PREPARED_STATEMENTS = False
    sms = _sms(phone="13800000057", key="application:57:submitted")
    with CaptureQueriesContext(connection) as captured:
        assert sending.notification_deliver(notification_id=sms.pk) == "sent"
    sql = _statements(captured.captured_queries)
    assert sql[0].startswith("SELECT pg_advisory_xact_lock(") and "; UPDATE " in sql[0]
    assert sql[2].startswith("SET LOCAL synchronous_commit TO OFF; UPDATE ")
    assert not [s for s in sql if "PREPARE" in s or "EXECUTE" in s]


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_cannot_keep_prepared_statements_runs_them_as_text(monkeypatch, caplog):
    """A transaction-pooling PgBouncer gives each statement another server: what one prepared,
    the next cannot execute. Played here by dropping the statements right after preparing them."""
    from portal import prepared

    original = prepared._prepare

    def prepared_then_lost(cursor, statements, done):
        original(cursor, statements, done)
        cursor.execute("DEALLOCATE ALL")

    monkeypatch.setattr(prepared, "_prepare", prepared_then_lost)
    monkeypatch.setattr(prepared, "_prepared_on", prepared.weakref.WeakKeyDictionary())
    monkeypatch.setattr(prepared, "_as_text", prepared.weakref.WeakSet())
    first, second = _sms(phone="13800000058", key="application:58:submitted"), _sms(phone="13800000059", key="application:59:submitted")
    assert sending.notification_deliver(notification_id=first.pk) == "sent"
    assert "running them as text" in caplog.text
    with CaptureQueriesContext(connection) as captured:
        assert sending.notification_deliver(notification_id=second.pk) == "sent"
    assert not [s for s in _statements(captured.captured_queries) if "PREPARE" in s or "EXECUTE" in s]
    for sms in (first, second):
        sms.refresh_from_db()
        assert sms.status == NotificationStatus.SENT and sms.attempts == 1
        assert DevSms.objects.filter(reference=str(sms.reference)).count() == 1
