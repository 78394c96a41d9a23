"""The outbox: one row per event/channel/recipient, queued after commit, claimed before sending,
retried with backoff until dead, resent through the service, swept when a task was lost."""
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from notifications.gateways.base import GatewayError, Lookup
from notifications.models import Channel, DevSms, Notification, NotificationStatus
from notifications.sending import notification_deliver, outbox_sweep, retry_delay
from notifications.services import notification_create, notification_resend
from tests.factories import UserFactory
from tests.notifications.locks import row_locked_elsewhere

pytestmark = pytest.mark.django_db


def _create(user=None, **kwargs):
    defaults = dict(
        event_key="application:1:submitted",
        template_key="application_submitted",
        params={"number": "430500-20261122-000017"},
        user=user,
    )
    return notification_create(**{**defaults, **kwargs})


def test_one_sms_and_one_inbox_row_per_event_and_the_second_call_is_a_no_op(published):
    user = UserFactory(phone="13800000001")
    first = _create(user)
    assert sorted(n.channel for n in first) == [Channel.INBOX, Channel.SMS]
    assert _create(user) == []
    assert Notification.objects.count() == 2
    sms = Notification.objects.get(channel=Channel.SMS)
    assert sms.recipient == "13800000001" and sms.status == NotificationStatus.PENDING
    inbox = Notification.objects.get(channel=Channel.INBOX)
    # The inbox row is its own delivery: written as sent, never queued.
    assert inbox.status == NotificationStatus.SENT and inbox.sent_at is not None
    assert inbox.recipient == f"user:{user.pk}"


def test_the_database_refuses_a_duplicate_row_even_past_the_service():
    _create(phone="13800000001", channels=(Channel.SMS,))
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            event_key="application:1:submitted", channel=Channel.SMS, recipient="13800000001", template_key="x"
        )


def test_phone_numbers_are_normalised_so_limits_count_one_recipient():
    _create(phone="+86 138-0000-0001", channels=(Channel.SMS,))
    assert Notification.objects.get().recipient == "13800000001"


def test_the_send_task_is_queued_only_after_commit(published, django_capture_on_commit_callbacks):
    user = UserFactory(phone="13800000002")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _create(user)
    assert published == []  # nothing reaches the broker inside the transaction
    assert len(callbacks) == 2  # the SMS row's task, and dropping the cached inbox badge count
    callbacks[0]()
    sms = Notification.objects.get(channel=Channel.SMS)
    assert published == [(sms.pk, None)]


def test_a_rolled_back_event_leaves_no_row_and_queues_nothing(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            _create(phone="13800000003", channels=(Channel.SMS,))
            raise RuntimeError("the caller's event failed")
    assert Notification.objects.count() == 0
    assert published == []


def test_unknown_template_or_missing_parameter_fails_in_the_callers_transaction():
    with pytest.raises(KeyError):
        _create(phone="13800000001", template_key="nope")
    with pytest.raises(ValueError):
        _create(phone="13800000001", params={})


def test_deliver_sends_once_through_the_dev_gateway_with_the_reference():
    (sms,) = _create(phone="13800000004", channels=(Channel.SMS,))
    assert notification_deliver(notification_id=sms.pk) == "sent"
    assert notification_deliver(notification_id=sms.pk) == "skipped_sent"  # a second task is harmless
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.SENT and sms.attempts == 1 and not sms.delivery_uncertain
    dev = DevSms.objects.get()
    assert dev.reference == str(sms.reference) and dev.message_id == sms.provider_message_id
    assert "430500-20261122-000017" in dev.text


def test_a_row_claimed_by_another_worker_is_left_alone(scripted):
    (sms,) = _create(phone="13800000005", channels=(Channel.SMS,))
    Notification.objects.filter(pk=sms.pk).update(status=NotificationStatus.SENDING, claimed_at=timezone.now())
    assert notification_deliver(notification_id=sms.pk) == "skipped_sending"
    assert scripted.sent == []


def test_claim_moves_to_sending_and_counts_the_attempt_before_the_provider_is_called(settings):
    (sms,) = _create(phone="13800000006", channels=(Channel.SMS,))
    seen = {}

    class Spy:
        name = "spy"

        def send(self, **kwargs):
            row = Notification.objects.get(pk=sms.pk)
            seen.update(status=row.status, attempts=row.attempts, uncertain=row.delivery_uncertain)
            from notifications.gateways.base import SendResult

            return SendResult("spy", "1")

    import notifications.sending as sending

    original = sending.sms_gateway
    sending.sms_gateway = lambda: Spy()
    try:
        notification_deliver(notification_id=sms.pk)
    finally:
        sending.sms_gateway = original
    assert seen == {"status": NotificationStatus.SENDING, "attempts": 1, "uncertain": True}


def test_retries_back_off_exponentially_then_the_row_is_dead(scripted, limits, published):
    limits(MAX_ATTEMPTS=3, RETRY_BASE_SECONDS=30)
    scripted.script = [GatewayError("isp.SYSTEM_ERROR")] * 3
    (sms,) = _create(phone="13800000007", channels=(Channel.SMS,))
    published.clear()
    now = timezone.now()
    assert notification_deliver(notification_id=sms.pk) == "retry"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.FAILED and sms.attempts == 1
    assert timedelta(seconds=29) < sms.not_before - now < timedelta(seconds=35)
    assert published == [(sms.pk, 30)]
    # Not due yet: a duplicate task does nothing.
    assert notification_deliver(notification_id=sms.pk) == "not_yet"
    Notification.objects.filter(pk=sms.pk).update(not_before=None)
    assert notification_deliver(notification_id=sms.pk) == "retry"
    assert published[-1] == (sms.pk, 60)
    Notification.objects.filter(pk=sms.pk).update(not_before=None)
    assert notification_deliver(notification_id=sms.pk) == "dead"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.DEAD and sms.attempts == 3 and "SYSTEM_ERROR" in sms.last_error
    assert scripted.sent == []
    assert [retry_delay(attempt=n) for n in (1, 2, 3, 4, 10)] == [30, 60, 120, 240, 3600]


def test_a_permanent_provider_error_is_dead_at_once(scripted):
    scripted.script = [GatewayError("isv.SMS_TEMPLATE_ILLEGAL", retryable=False)]
    (sms,) = _create(phone="13800000008", channels=(Channel.SMS,))
    assert notification_deliver(notification_id=sms.pk) == "dead"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.DEAD and not sms.delivery_uncertain


def test_provider_throttling_waits_without_spending_an_attempt(scripted, published):
    scripted.script = [GatewayError("isv.BUSINESS_LIMIT_CONTROL", retry_after=60)]
    (sms,) = _create(phone="13800000009", channels=(Channel.SMS,))
    published.clear()
    assert notification_deliver(notification_id=sms.pk) == "throttled"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.FAILED and sms.attempts == 0
    assert published == [(sms.pk, 60)]


def test_resend_gives_a_dead_row_fresh_attempts_and_refuses_other_rows(scripted, published):
    scripted.script = [GatewayError("boom", retryable=False, uncertain=True)]
    (sms,) = _create(phone="13800000010", channels=(Channel.SMS,))
    notification_deliver(notification_id=sms.pk)
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.DEAD and sms.delivery_uncertain
    published.clear()
    with transaction.atomic():
        notification_resend(notification_id=sms.pk)
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.PENDING and sms.attempts == 0 and not sms.delivery_uncertain
    assert notification_deliver(notification_id=sms.pk) == "sent"
    assert scripted.lookups == []  # staff decided; no lookup loop
    with pytest.raises(ValidationError):
        notification_resend(notification_id=sms.pk)


def test_sweep_requeues_due_rows_and_leaves_fresh_or_future_ones(published, limits):
    limits(SWEEP_PENDING_GRACE_SECONDS=60)
    old, fresh, future, failed_due, sent = (
        _create(phone=f"1380000002{i}", event_key=f"e{i}", channels=(Channel.SMS,))[0] for i in range(5)
    )
    now = timezone.now()
    Notification.objects.filter(pk=old.pk).update(created_at=now - timedelta(minutes=5))
    Notification.objects.filter(pk=future.pk).update(created_at=now - timedelta(minutes=5), not_before=now + timedelta(hours=1))
    Notification.objects.filter(pk=failed_due.pk).update(
        status=NotificationStatus.FAILED, not_before=now - timedelta(minutes=2)
    )
    Notification.objects.filter(pk=sent.pk).update(status=NotificationStatus.SENT, created_at=now - timedelta(hours=1))
    published.clear()
    result = outbox_sweep(now=now)
    assert sorted(pk for pk, _ in published) == sorted([old.pk, failed_due.pk])
    assert result == {"stuck": 0, "due": 2, "queued": 2}
    assert fresh.pk not in [pk for pk, _ in published]


def test_sweep_recovers_a_stuck_row_and_the_retry_looks_it_up_instead_of_sending(scripted, limits, published):
    limits(SENDING_STUCK_AFTER_SECONDS=600)
    (sms,) = _create(phone="13800000030", channels=(Channel.SMS,))
    claimed = timezone.now() - timedelta(minutes=11)
    # A worker claimed it and died mid-call: sending, uncertain.
    Notification.objects.filter(pk=sms.pk).update(
        status=NotificationStatus.SENDING, claimed_at=claimed, attempts=1, delivery_uncertain=True
    )
    published.clear()
    assert outbox_sweep()["stuck"] == 1
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.FAILED and sms.delivery_uncertain
    assert published == [(sms.pk, None)]
    scripted.lookup_answer = Lookup.FOUND
    assert notification_deliver(notification_id=sms.pk) == "found"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.SENT and sms.provider_message_id == "looked-up"
    assert scripted.sent == []  # no second SMS
    assert scripted.lookups[0]["reference"] == str(sms.reference)
    assert scripted.lookups[0]["attempted_at"] == claimed


def test_a_stuck_row_the_provider_never_got_is_sent(scripted):
    (sms,) = _create(phone="13800000031", channels=(Channel.SMS,))
    Notification.objects.filter(pk=sms.pk).update(
        status=NotificationStatus.FAILED, attempts=1, delivery_uncertain=True, claimed_at=timezone.now()
    )
    scripted.lookup_answer = Lookup.NOT_FOUND
    assert notification_deliver(notification_id=sms.pk) == "sent"
    assert len(scripted.sent) == 1 and len(scripted.lookups) == 1


def test_when_the_provider_cannot_tell_a_person_decides(scripted):
    (sms,) = _create(phone="13800000032", channels=(Channel.SMS,))
    Notification.objects.filter(pk=sms.pk).update(
        status=NotificationStatus.FAILED, attempts=1, delivery_uncertain=True, claimed_at=timezone.now()
    )
    scripted.lookup_answer = Lookup.UNKNOWN
    assert notification_deliver(notification_id=sms.pk) == "manual_check"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.DEAD and sms.delivery_uncertain
    assert "manual check" in sms.last_error and scripted.sent == []


def test_an_uncertain_failure_is_looked_up_on_the_next_attempt(scripted):
    scripted.script = [GatewayError("read timeout", uncertain=True)]
    (sms,) = _create(phone="13800000033", channels=(Channel.SMS,))
    assert notification_deliver(notification_id=sms.pk) == "retry"
    Notification.objects.filter(pk=sms.pk).update(not_before=None)
    scripted.lookup_answer = Lookup.FOUND
    assert notification_deliver(notification_id=sms.pk) == "found"
    assert scripted.sent == []


def test_a_late_failure_from_an_old_attempt_does_not_undo_a_newer_success(scripted):
    from notifications.sending import _record_failure

    (sms,) = _create(phone="13800000034", channels=(Channel.SMS,))
    notification_deliver(notification_id=sms.pk)  # attempt 1 succeeds
    sms.refresh_from_db()
    assert _record_failure(sms, attempt=1, exc=GatewayError("late")) == "retry"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.SENT


def test_the_sweep_is_in_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["notifications-sweep"]
    assert entry["task"] == "notifications.tasks.notification_sweep"
    from portal.celery import app

    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


def test_a_lookup_that_cannot_be_made_now_is_retried_and_still_uncertain(scripted, published, monkeypatch):
    (sms,) = _create(phone="13800000035", channels=(Channel.SMS,))
    Notification.objects.filter(pk=sms.pk).update(
        status=NotificationStatus.FAILED, attempts=1, delivery_uncertain=True, claimed_at=timezone.now()
    )

    def unreachable(**kwargs):
        raise GatewayError("network down")

    monkeypatch.setattr(scripted, "lookup", lambda self, **kwargs: unreachable(**kwargs))
    assert notification_deliver(notification_id=sms.pk) == "retry"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.FAILED and sms.delivery_uncertain and sms.attempts == 2
    assert scripted.sent == []


def test_a_misconfigured_gateway_fails_the_attempt_instead_of_leaving_it_sending(settings):
    settings.SMS_GATEWAY = "aliyun"
    settings.ALIYUN_SMS = {**settings.ALIYUN_SMS, "ACCESS_KEY_ID": ""}
    (sms,) = _create(phone="13800000036", channels=(Channel.SMS,))
    assert notification_deliver(notification_id=sms.pk) == "retry"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.FAILED and "ALIYUN_SMS" in sms.last_error


@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_a_concurrent_claim_is_skipped_not_waited_for(scripted):
    from django.db import connection as main_connection

    (sms,) = _create(phone="13800000037", channels=(Channel.SMS,))
    with row_locked_elsewhere(sms.pk):
        assert notification_deliver(notification_id=sms.pk) == "busy_or_missing"
        assert scripted.sent == []
    assert notification_deliver(notification_id=sms.pk) == "sent"
    assert len(scripted.sent) == 1
    assert main_connection.vendor == "postgresql"
