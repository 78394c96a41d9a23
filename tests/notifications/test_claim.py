"""The claim in one round trip (``sending._claim_in_one_round_trip``) against the general path.

It is a shortcut, so it must claim exactly when the general path would and otherwise leave the row
alone for the general path to decide (and say why). Transactional tests: the shortcut only runs
outside a transaction, as in a worker.
"""
import itertools
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.utils import timezone

from notifications import sending
from notifications.limits import sms_daily_limit_params, sms_daily_limit_reached, sms_daily_limit_reached_sql
from notifications.models import Channel, Notification, NotificationStatus
from notifications.services import notification_create, sms_send_login_code
from tests.notifications.locks import row_locked_elsewhere

pytestmark = pytest.mark.django_db(transaction=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=SHANGHAI)
NIGHT = datetime(2026, 11, 22, 22, 30, tzinfo=SHANGHAI)
_earlier = itertools.count()


def _sms(*, phone="13800000071", key="application:71:approved", template_key="application_approved", urgent=True):
    (sms,) = notification_create(
        event_key=key,
        template_key=template_key,
        params={"number": "430500-20261122-000071", "end_date": "2026-12-31", "code": "123456"},
        phone=phone,
        channels=(Channel.SMS,),
        urgent=urgent,
    )
    return sms


def _already_sent(*, phone, count, claimed_at, template_key="application_approved", status=NotificationStatus.SENT):
    for _ in range(count):
        sms = _sms(phone=phone, key=f"earlier:{next(_earlier)}", template_key=template_key)
        Notification.objects.filter(pk=sms.pk).update(status=status, claimed_at=claimed_at)


def _fast(sms):
    return sending._claim_in_one_round_trip(notification_id=sms.pk, now=timezone.now())


def _from_another_connection(pk):
    """The row as another session sees it: only what was committed."""
    seen = {}

    def read():
        try:
            seen["row"] = Notification.objects.values("status", "attempts", "delivery_uncertain", "claimed_at").get(pk=pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(10)
    return seen["row"]


def test_a_due_row_is_claimed_and_the_claim_is_committed_when_it_returns():
    with time_machine.travel(NOON, tick=False):
        sms = _sms()
        notification, previous_uncertain, previous_claimed_at = _fast(sms)
    assert (previous_uncertain, previous_claimed_at) == (False, None)
    assert not connection.in_atomic_block
    assert _from_another_connection(sms.pk) == {
        "status": NotificationStatus.SENDING, "attempts": 1, "delivery_uncertain": True, "claimed_at": NOON,
    }
    assert notification.pk == sms.pk and notification.attempts == 1 and notification.reference == sms.reference
    assert notification.recipient == "13800000071" and notification.params == sms.params
    assert notification.template_key == "application_approved"


def test_an_uncertain_row_hands_back_what_the_earlier_attempt_left_for_the_lookup():
    earlier = NOON - timedelta(minutes=15)
    with time_machine.travel(NOON, tick=False):
        sms = _sms()
        Notification.objects.filter(pk=sms.pk).update(
            status=NotificationStatus.FAILED, attempts=1, delivery_uncertain=True, claimed_at=earlier
        )
        notification, previous_uncertain, previous_claimed_at = _fast(sms)
    assert (previous_uncertain, previous_claimed_at) == (True, earlier)
    assert notification.attempts == 2


@pytest.mark.parametrize(
    ("case", "general_path_says"),
    [
        ("not_before in the future", "not_yet"),
        ("non-urgent at night", "quiet_hours"),
        ("the number has its day's SMS", "limited"),
        ("already sent", "skipped_sent"),
        ("dead", "skipped_dead"),
        ("an in-site message", "not_sms"),
    ],
)
def test_what_the_general_path_would_not_claim_is_left_alone(case, general_path_says, limits):
    limits(SMS_PER_NUMBER_PER_DAY=2)
    now = NIGHT if case == "non-urgent at night" else NOON
    with time_machine.travel(NOON, tick=False):  # written by day; a reminder is not urgent
        sms = _sms(template_key="certification_expiring" if case == "non-urgent at night" else "application_approved")
    with time_machine.travel(now, tick=False):
        if case == "not_before in the future":
            Notification.objects.filter(pk=sms.pk).update(not_before=now + timedelta(minutes=5))
        elif case == "the number has its day's SMS":
            _already_sent(phone=sms.recipient, count=2, claimed_at=now - timedelta(hours=23))
        elif case == "already sent":
            Notification.objects.filter(pk=sms.pk).update(status=NotificationStatus.SENT)
        elif case == "dead":
            Notification.objects.filter(pk=sms.pk).update(status=NotificationStatus.DEAD)
        elif case == "an in-site message":
            Notification.objects.filter(pk=sms.pk).update(channel=Channel.INBOX)
        before = Notification.objects.values().get(pk=sms.pk)
        assert _fast(sms) is None
        assert Notification.objects.values().get(pk=sms.pk) == before
        assert sending.notification_deliver(notification_id=sms.pk) == general_path_says


@pytest.mark.parametrize(
    "case",
    [
        "urgent at night",
        "not_before passed",
        "earlier SMS left the 24 h window",
        "earlier rows failed or dead",
        "earlier rows were login codes",
        "a login code when the number has its day's result SMS",
    ],
)
def test_what_the_general_path_would_claim_is_claimed(case, limits):
    limits(SMS_PER_NUMBER_PER_DAY=2)
    now = NIGHT if case == "urgent at night" else NOON
    phone = "13800000072"
    with time_machine.travel(now, tick=False):
        if case == "earlier SMS left the 24 h window":
            _already_sent(phone=phone, count=2, claimed_at=now - timedelta(hours=24, seconds=1))
        elif case == "earlier rows failed or dead":
            _already_sent(phone=phone, count=1, claimed_at=now, status=NotificationStatus.FAILED)
            _already_sent(phone=phone, count=1, claimed_at=now, status=NotificationStatus.DEAD)
        elif case == "earlier rows were login codes":
            _already_sent(phone=phone, count=2, claimed_at=now, template_key="login_code")
        elif case == "a login code when the number has its day's result SMS":
            _already_sent(phone=phone, count=2, claimed_at=now)
        if case == "a login code when the number has its day's result SMS":
            sms = sms_send_login_code(phone=phone, code="123456")
        else:
            sms = _sms(phone=phone)
        if case == "not_before passed":
            Notification.objects.filter(pk=sms.pk).update(not_before=now)
        claimed = _fast(sms)
    assert claimed is not None
    assert Notification.objects.get(pk=sms.pk).status == NotificationStatus.SENDING


def test_a_row_another_worker_is_claiming_is_skipped_without_waiting():
    sms = _sms()
    with row_locked_elsewhere(sms.pk):
        assert _fast(sms) is None
    assert Notification.objects.get(pk=sms.pk).status == NotificationStatus.PENDING


@pytest.mark.parametrize("sent_before", [0, 1, 2, 3])
def test_the_limit_written_in_sql_gives_the_orms_answer(sent_before, limits):
    limits(SMS_PER_NUMBER_PER_DAY=2)
    phone = "13800000073"
    now = timezone.now()
    _already_sent(phone=phone, count=sent_before, claimed_at=now - timedelta(hours=1))
    _already_sent(phone=phone, count=2, claimed_at=now - timedelta(hours=25))  # out of the window
    _already_sent(phone=phone, count=2, claimed_at=now, template_key="login_code")  # their own limit
    orm = Notification.objects.filter(sms_daily_limit_reached(phone=phone, now=now)).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sms_daily_limit_reached_sql(recipient_column='%(phone)s')}",
            {"phone": phone, **sms_daily_limit_params(now=now)},
        )
        (sql,) = cursor.fetchone()
    assert orm == sql == (sent_before >= 2)
