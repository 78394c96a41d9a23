"""What one delivery costs the database, and the per-number limit under concurrent claims.

The drain's speed comes from doing little per SMS (bench/notifications_drain.py); these tests pin
that down and show the shortcuts keep the guarantees: the claim is the one commit that waits for
the log flush, and two claims for one number cannot both pass its daily limit.
"""
import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from notifications import sending
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
def test_one_delivery_is_one_claim_transaction_the_gateway_write_and_one_unflushed_update():
    sms = _sms()
    with CaptureQueriesContext(connection) as captured:
        assert sending.notification_deliver(notification_id=sms.pk) == "sent"
    sql = _statements(captured.captured_queries)
    assert [statement.split(" ", 1)[0] for statement in sql] == [
        "BEGIN",
        "SELECT",  # the row, locked; a row another worker holds is skipped
        "SELECT",  # the number's advisory lock
        "UPDATE",  # the claim, with the daily limit checked in the same statement
        "COMMIT",  # the one commit that waits for the log flush: before the provider is called
        "INSERT",  # the dev gateway's "provider"
        "SET",  # the success, one statement that does not wait for the flush
    ], sql
    assert sql[1].endswith("FOR UPDATE SKIP LOCKED")
    assert "pg_advisory_xact_lock" in sql[2]
    assert "EXISTS" in sql[3]
    assert sql[6].startswith("SET LOCAL synchronous_commit TO OFF; UPDATE")
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
def test_two_claims_for_one_number_at_once_never_pass_its_daily_limit(limits, monkeypatch):
    """The second claim waits for the number's lock and then sees the first claim committed."""
    limits(SMS_PER_NUMBER_PER_DAY=1)
    first = _sms(phone="13800000054", key="application:54:approved")
    second = _sms(phone="13800000054", key="application:55:approved")
    holding, go_on = threading.Event(), threading.Event()
    real_lock = sending.recipient_lock

    def lock_then_pause_the_first(*, recipient):
        real_lock(recipient=recipient)
        if threading.current_thread().name == "first":
            holding.set()  # the first claim holds the lock and has not claimed yet
            go_on.wait(10)

    monkeypatch.setattr(sending, "recipient_lock", lock_then_pause_the_first)
    outcomes: dict[str, str] = {}

    def deliver(row):
        try:
            outcomes[threading.current_thread().name] = sending.notification_deliver(notification_id=row.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(row,), name=name) for row, name in ((first, "first"), (second, "second"))]
    threads[0].start()
    try:
        assert holding.wait(10)
        threads[1].start()

        def second_waits_for_the_lock() -> bool:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                return cursor.fetchone()[0] == 1

        wait_until(second_waits_for_the_lock, timeout=10, what="the second claim to wait for the number's lock")
    finally:
        go_on.set()
        for thread in threads:
            if thread.is_alive() or thread is threads[0]:
                thread.join(15)
    assert outcomes == {"first": "sent", "second": "limited"}
    second.refresh_from_db()
    assert second.status == NotificationStatus.PENDING and second.attempts == 0
    assert second.not_before is not None and "daily SMS limit" in second.last_error
    assert DevSms.objects.filter(phone="13800000054").count() == 1
    with transaction.atomic():  # nothing is left locked
        assert Notification.objects.select_for_update(nowait=True).filter(pk=second.pk).exists()
