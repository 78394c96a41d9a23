import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from applications.models import CertificationStatus
from certifications import services, tasks
from certifications.models import CertificationEvent, CertificationEventKind
from notifications.models import Notification
from tests.certifications.factories import png_upload

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(day: str, time: str = "00:20"):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SH), tick=False)


def test_not_expired_on_its_last_day(certification):
    with at("2026-12-31"):
        assert services.certification_expire_due() == 0
    certification.refresh_from_db()
    assert certification.status == CertificationStatus.ACTIVE


def test_expires_the_day_after_once_with_one_notification(certification, owner):
    user, _ = owner
    with at("2027-01-01"):
        assert tasks.certifications_daily_sweep.run()["expired"] == 1
        assert tasks.certifications_daily_sweep.run()["expired"] == 0
    certification.refresh_from_db()
    assert certification.status == CertificationStatus.EXPIRED
    key = f"certification:{certification.pk}:expired:2026-12-31"
    assert CertificationEvent.objects.filter(key=key, kind=CertificationEventKind.EXPIRED).count() == 1
    rows = Notification.objects.filter(event_key=key)
    assert rows.count() >= 1 and {n.user_id for n in rows} == {user.pk}
    # Health data never travels in the params: the acceptance number identifies the case.
    assert set(rows[0].params) == {"number", "end_date"}


def test_renewal_reminder_once_when_the_window_opens(certification, owner):
    user, _ = owner
    with at("2026-11-30"):
        assert services.certification_remind_due() == 0
    with at("2026-12-01"):
        assert services.certification_remind_due() == 1
        assert services.certification_remind_due() == 0
    key = f"certification:{certification.pk}:renewal_open:2026-12-31"
    sms = Notification.objects.get(event_key=key, channel="sms")
    assert sms.template_key == "certification_expiring"
    assert sms.params == {"number": certification.application.acceptance_number, "end_date": "2026-12-31"}
    from notifications.templates_text import render_text

    assert "2026-12-31" in render_text(sms.template_key, sms.params)


def test_no_reminder_while_a_renewal_is_pending(certification, owner):
    user, _ = owner
    with at("2026-12-02", "10:00"):
        services.renewal_request(certification=certification, user=user, files={"id_photo": png_upload()})
        assert services.certification_remind_due() == 0


def test_revoked_certifications_are_left_alone(certification):
    certification.status = CertificationStatus.REVOKED
    certification.save(update_fields=["status"])
    with at("2027-02-01"):
        assert services.certification_expire_due() == 0
    certification.refresh_from_db()
    assert certification.status == CertificationStatus.REVOKED


def test_expiry_without_its_template_still_expires(certification, monkeypatch):
    # Were the template missing from notifications/templates_text.py, the state still moves.
    from notifications import templates_text

    monkeypatch.setattr(templates_text, "TEMPLATES", {k: v for k, v in templates_text.TEMPLATES.items()
                                                      if k != services.TEMPLATE_EXPIRED})
    with at("2027-01-01"):
        assert services.certification_expire_due() == 1
    assert not Notification.objects.filter(event_key__contains=":expired:").exists()
