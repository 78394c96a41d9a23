"""Publishing the rows of one transaction together, and the task that delivers them one by one.

Celery's own cost per task (publish, fetch, ack) is shared by the rows of a transaction; each row
is still claimed on its own, so a crash leaves at most one row uncertain (bench/notifications_drain.py).
"""
import pytest
from django.db import transaction

from notifications import publishing, tasks
from notifications.models import Channel, DevSms, Notification, NotificationStatus
from notifications.sending import outbox_sweep
from notifications.services import notification_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tasks_published(monkeypatch):
    """What went to the broker, task by task: ("one", id) or ("batch", [ids])."""
    sent: list = []
    monkeypatch.setattr(publishing, "_apply", lambda notification_id, countdown: sent.append(("one", notification_id)))
    monkeypatch.setattr(publishing, "_apply_batch", lambda ids: sent.append(("batch", ids)))
    return sent


def _sms(i: int) -> int:
    (sms,) = notification_create(
        event_key=f"application:{i}:approved",
        template_key="application_approved",
        params={"number": f"430500-20261122-{i:06d}"},
        phone=f"138{i:08d}",
        channels=(Channel.SMS,),
    )
    return sms.pk


def test_the_rows_of_one_transaction_go_out_after_its_commit_in_batches(tasks_published):
    with transaction.atomic():
        ids = [_sms(i) for i in range(25)]
        assert tasks_published == []  # nothing before the commit
    size = publishing.PUBLISH_BATCH_SIZE
    assert tasks_published == [("batch", ids[:size]), ("batch", ids[size : 2 * size]), ("batch", ids[2 * size :])]


def test_a_single_row_goes_out_as_its_own_task(tasks_published):
    pk = _sms(1)  # notification_create's own transaction
    with transaction.atomic():
        other = _sms(2)
    assert tasks_published == [("one", pk), ("one", other)]


def test_a_row_rolled_back_in_a_savepoint_does_not_hold_back_the_others(tasks_published):
    with transaction.atomic():
        try:
            with transaction.atomic():
                _sms(1)  # the first row, whose commit hook is the first one registered
                raise RuntimeError("the caller's step failed")
        except RuntimeError:
            pass
        kept = [_sms(2), _sms(3)]
    ((kind, ids),) = tasks_published
    assert kind == "batch" and ids[-2:] == kept  # the rolled-back row's id may travel: no row, no SMS
    assert Notification.objects.filter(pk__in=ids).count() == 2


def test_a_rolled_back_transaction_leaves_nothing_for_the_next_one(tasks_published):
    try:
        with transaction.atomic():
            _sms(1)
            _sms(2)
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    with transaction.atomic():
        kept = [_sms(3), _sms(4)]
    assert tasks_published == [("batch", kept)]


def test_broker_down_stops_publishing_and_the_sweep_queues_the_rows_later(monkeypatch, settings, tasks_published):
    def broker_down(ids):
        raise ConnectionError("redis down")

    monkeypatch.setattr(publishing, "_apply_batch", broker_down)
    with transaction.atomic():
        ids = [_sms(i) for i in range(15)]
    assert tasks_published == []
    publishing.broker_pause_reset()
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SWEEP_PENDING_GRACE_SECONDS": 0}
    assert outbox_sweep()["queued"] == 15
    assert sorted(pk for _, pk in tasks_published) == ids


def test_a_batch_delivers_each_row_once_and_skips_what_is_not_due(published):
    ids = [_sms(i) for i in range(3)]
    tasks.notification_send(ids[0])
    outcomes = tasks.notification_send_batch([*ids, 999_999_999])
    assert outcomes == {"skipped_sent": 1, "sent": 2, "busy_or_missing": 1}
    assert DevSms.objects.count() == 3
    assert set(Notification.objects.values_list("status", "attempts")) == {(NotificationStatus.SENT, 1)}


def test_a_row_that_raises_does_not_stop_the_rest(monkeypatch, published):
    ids = [_sms(i) for i in range(3)]
    real = tasks.notification_deliver

    def database_hiccup_on_the_first(*, notification_id):
        if notification_id == ids[0]:
            raise RuntimeError("connection lost")
        return real(notification_id=notification_id)

    monkeypatch.setattr(tasks, "notification_deliver", database_hiccup_on_the_first)
    assert tasks.notification_send_batch(ids) == {"error": 1, "sent": 2}
    assert Notification.objects.get(pk=ids[0]).status == NotificationStatus.PENDING  # for the sweep


def test_a_batch_past_its_time_queues_the_rest_as_a_new_task(monkeypatch, tasks_published):
    ids = [_sms(i) for i in range(4)]
    tasks_published.clear()
    monkeypatch.setattr(tasks, "BATCH_SECONDS", 0)
    assert tasks.notification_send_batch(ids) == {"sent": 1, "requeued": 3}
    assert tasks_published == [("batch", ids[1:])]


def test_a_worker_dying_mid_batch_leaves_one_row_uncertain_and_the_rest_due(scripted, settings, published):
    """The blast radius of a crash is the row in hand, as with one task per row."""
    ids = [_sms(i) for i in range(3)]
    scripted.script = [None, SystemExit("worker killed while the provider holds the request")]
    with pytest.raises(SystemExit):
        tasks.notification_send_batch(ids)
    rows = {row.pk: row for row in Notification.objects.filter(pk__in=ids)}
    assert rows[ids[0]].status == NotificationStatus.SENT
    assert rows[ids[1]].status == NotificationStatus.SENDING and rows[ids[1]].delivery_uncertain
    assert rows[ids[2]].status == NotificationStatus.PENDING and rows[ids[2]].attempts == 0
    published.clear()
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SWEEP_PENDING_GRACE_SECONDS": 0}
    outbox_sweep()
    assert published == [(ids[2], None)]  # the stuck one waits for SENDING_STUCK_AFTER_SECONDS, then a lookup
    tasks.notification_send_batch([ids[2]])
    assert len(scripted.sent) == 2
