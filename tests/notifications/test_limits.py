"""Rules before a provider is called: quiet hours for non-urgent rows, per-number daily limit,
one login code a minute."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications.errors import LoginCodeDailyLimit, LoginCodeTooSoon, SmsLimitExceeded
from notifications.limits import quiet_hours_end
from notifications.models import Channel, Notification, NotificationStatus
from notifications.sending import notification_deliver, outbox_sweep
from notifications.services import notification_create, sms_send_login_code

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hour, minute=0, day=22):
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def _reminder(phone="13900000001", key="cert:1:expiring:30", urgent=False):
    return notification_create(
        event_key=key,
        template_key="certification_expiring",
        params={"number": "430500-20261122-000017", "end_date": "2026-12-31"},
        phone=phone,
        channels=(Channel.SMS,),
        urgent=urgent,
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(20, 59), None),
        (at(21, 0), at(8, 0, day=23)),
        (at(23, 30), at(8, 0, day=23)),
        (at(0, 10), at(8, 0)),
        (at(7, 59), at(8, 0)),
        (at(8, 0), None),
        (at(12, 0), None),
    ],
)
def test_quiet_hours_end(now, expected):
    assert quiet_hours_end(now=now) == expected


def test_a_non_urgent_row_written_at_night_waits_for_8_am_and_is_not_queued(published):
    with time_machine.travel(at(22, 30), tick=False):
        (sms,) = _reminder()
    assert sms.not_before == at(8, 0, day=23)
    with time_machine.travel(at(7, 0, day=23), tick=False):
        assert notification_deliver(notification_id=sms.pk) == "not_yet"
        outbox_sweep()
    assert published == []
    with time_machine.travel(at(8, 2, day=23), tick=False):
        assert outbox_sweep()["queued"] == 1
        assert notification_deliver(notification_id=sms.pk) == "sent"


def test_urgent_rows_ignore_quiet_hours(published):
    with time_machine.travel(at(23, 0), tick=False):
        (sms,) = notification_create(
            event_key="application:1:approved", template_key="application_approved",
            params={"number": "430500-20261122-000001"}, phone="13900000001", channels=(Channel.SMS,),
        )
        assert sms.not_before is None
        assert notification_deliver(notification_id=sms.pk) == "sent"


def test_a_non_urgent_retry_falling_into_the_night_is_held_at_send_time():
    with time_machine.travel(at(20, 0), tick=False):
        (sms,) = _reminder()
    with time_machine.travel(at(21, 30), tick=False):
        assert notification_deliver(notification_id=sms.pk) == "quiet_hours"
    sms.refresh_from_db()
    assert sms.status == NotificationStatus.PENDING and sms.not_before == at(8, 0, day=23)


def test_at_most_n_notification_sms_per_number_per_rolling_day(limits):
    limits(SMS_PER_NUMBER_PER_DAY=3)
    rows = []
    with time_machine.travel(at(10, 0), tick=False):
        for i in range(4):
            rows.extend(_reminder(key=f"e{i}", urgent=True))
        outcomes = [notification_deliver(notification_id=row.pk) for row in rows]
        # Another number is not affected.
        (other,) = _reminder(phone="13900000002", key="other", urgent=True)
        assert notification_deliver(notification_id=other.pk) == "sent"
    assert outcomes == ["sent", "sent", "sent", "limited"]
    held = Notification.objects.get(pk=rows[3].pk)
    assert held.status == NotificationStatus.PENDING and held.not_before == at(10, 0, day=23)
    with time_machine.travel(at(10, 1, day=23), tick=False):
        assert notification_deliver(notification_id=held.pk) == "sent"


def test_login_codes_do_not_use_up_the_notification_allowance(limits):
    limits(SMS_PER_NUMBER_PER_DAY=1, LOGIN_CODE_INTERVAL_SECONDS=60)
    with time_machine.travel(at(10, 0), tick=False):
        code = sms_send_login_code(phone="13900000003", code="123456")
        assert notification_deliver(notification_id=code.pk) == "sent"
        (sms,) = _reminder(phone="13900000003", urgent=True)
        assert notification_deliver(notification_id=sms.pk) == "sent"


def test_one_login_code_per_number_per_minute_with_a_clear_error():
    with time_machine.travel(at(10, 0), tick=False):
        first = sms_send_login_code(phone="+8613900000004", code="111111")
    assert first.recipient == "13900000004" and first.params == {"code": "111111"}
    with time_machine.travel(at(10, 0) + timedelta(seconds=40), tick=False):
        with pytest.raises(LoginCodeTooSoon) as caught:
            sms_send_login_code(phone="13900000004", code="222222")
    assert caught.value.retry_after == 20
    assert "20" in caught.value.message and "秒" in caught.value.message
    assert isinstance(caught.value, SmsLimitExceeded)
    assert Notification.objects.filter(template_key="login_code").count() == 1  # nothing written
    # Another number is free; the same number is free after a minute.
    with time_machine.travel(at(10, 0) + timedelta(seconds=40), tick=False):
        sms_send_login_code(phone="13900000005", code="333333")
    with time_machine.travel(at(10, 1), tick=False):
        sms_send_login_code(phone="13900000004", code="444444")


def test_login_codes_have_a_daily_cap(limits):
    limits(LOGIN_CODES_PER_NUMBER_PER_DAY=3)
    for minute in range(3):
        with time_machine.travel(at(10, minute * 2), tick=False):
            sms_send_login_code(phone="13900000006", code="1")
    with time_machine.travel(at(12, 0), tick=False):
        with pytest.raises(LoginCodeDailyLimit) as caught:
            sms_send_login_code(phone="13900000006", code="1")
    assert caught.value.retry_after == int(timedelta(hours=22).total_seconds())
    with time_machine.travel(at(10, 1, day=23), tick=False):
        sms_send_login_code(phone="13900000006", code="1")


def test_login_code_is_urgent_even_at_night():
    with time_machine.travel(at(23, 0), tick=False):
        code = sms_send_login_code(phone="13900000007", code="654321")
        assert code.not_before is None
        assert notification_deliver(notification_id=code.pk) == "sent"


def test_reminder_templates_are_never_urgent_so_a_midnight_job_does_not_wake_anyone():
    with time_machine.travel(at(0, 20), tick=False):
        (sms,) = _reminder(urgent=True)  # the caller forgot urgent=False
    assert not sms.urgent and sms.not_before == at(8, 0)
    with time_machine.travel(at(0, 20), tick=False):
        (result,) = notification_create(
            event_key="application:9:approved", template_key="application_approved",
            params={"number": "430500-20261122-000009"}, phone="13900000008", channels=(Channel.SMS,),
        )
    assert result.urgent and result.not_before is None  # a decision goes out at once


@pytest.mark.django_db
def test_account_notices_share_the_code_limits_but_not_the_result_sms_quota(settings):
    """A stranger's login/signup attempts (codes or enumeration-prevention notices) must not use
    up the number's daily quota for results such as 审核通过."""
    from django.utils import timezone

    from notifications.errors import LoginCodeTooSoon
    from notifications.limits import sms_daily_next_slot
    from notifications.models import Notification, NotificationStatus
    from notifications.services import sms_send_account_notice, sms_send_login_code

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SMS_PER_NUMBER_PER_DAY": 2}
    phone = "13712345678"
    sms_send_account_notice(phone=phone, template_key="signup_account_exists")
    with pytest.raises(LoginCodeTooSoon):  # a code within the same minute as a notice
        sms_send_login_code(phone=phone, code="123456")
    Notification.objects.filter(recipient=phone).update(status=NotificationStatus.SENT, claimed_at=timezone.now())
    assert sms_daily_next_slot(phone=phone, now=timezone.now()) is None
    with pytest.raises(ValueError):
        sms_send_account_notice(phone=phone, template_key="application_approved")


@pytest.mark.django_db
def test_a_full_daily_quota_does_not_hold_back_an_account_notice(settings):
    """The daily cap is for result SMS; a login notice is limited with the codes instead."""
    from django.utils import timezone

    from notifications.models import Notification, NotificationStatus
    from notifications.sending import notification_deliver
    from notifications.services import notification_create, sms_send_account_notice

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SMS_PER_NUMBER_PER_DAY": 1}
    phone = "13712345679"
    notification_create(event_key="application:1:approved", template_key="application_approved",
                        params={"number": "430500-20261122-000001"}, phone=phone, channels=("sms",))
    Notification.objects.filter(recipient=phone).update(status=NotificationStatus.SENT, claimed_at=timezone.now())
    notice = sms_send_account_notice(phone=phone, template_key="login_unknown_account")
    assert notification_deliver(notification_id=notice.pk) == "sent"
