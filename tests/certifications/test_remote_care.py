import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from certifications import selectors, services
from certifications.models import RemoteCareKind, RemoteCareStatus
from notifications.models import Notification
from tests.certifications.factories import citizen, png_upload

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(day: str, time: str = "10:00"):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SH), tick=False)


def register(certification, user, **overrides):
    values = dict(kind=RemoteCareKind.TEMPORARY, reason="referral", province="广东省", city="广州市",
                  start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 9, 1), proof=png_upload())
    values.update(overrides)
    return services.remote_care_register(certification=certification, user=user, **values)


def test_temporary_shorter_than_six_months_refused(certification, owner):
    user, _ = owner
    with at("2026-03-01"), pytest.raises(ValidationError) as error:
        register(certification, user, end_date=dt.date(2026, 8, 31))
    assert "end_date" in error.value.message_dict
    assert "2026-09-01" in error.value.message_dict["end_date"][0]


def test_temporary_of_exactly_six_months_accepted_and_pending_review(certification, owner):
    user, _ = owner
    with at("2026-03-01"):
        registration = register(certification, user)
    assert registration.status == RemoteCareStatus.PENDING
    assert registration.proof_content_type == "image/png"
    assert registration.proof.name.startswith("remote-care/")
    assert selectors.certification_view(certification=certification).remote_care == registration


def test_auto_approved_where_the_region_says_so(certification, owner, region):
    region.settings.remote_care_auto_approve = True
    region.settings.save()
    user, _ = owner
    with at("2026-03-01"):
        registration = register(certification, user)
    assert registration.status == RemoteCareStatus.ACTIVE


def test_temporary_expires_after_its_end_date(certification, owner, django_user_model):
    user, _ = owner
    staff = django_user_model.objects.create(username="staff-rc", is_staff=True)
    with at("2026-03-01"):
        registration = register(certification, user)
        services.remote_care_decide(registration=registration, user=staff, approve=True)
    with at("2026-09-01", "00:20"):
        assert services.remote_care_expire_due() == 0  # valid through its end date
    with at("2026-09-02", "00:20"):
        assert services.remote_care_expire_due() == 1
        assert services.remote_care_expire_due() == 0
    registration.refresh_from_db()
    assert registration.status == RemoteCareStatus.EXPIRED
    assert Notification.objects.filter(event_key=f"remote_care:{registration.pk}:expired:2026-09-01").exists()


def test_long_term_valid_until_cancelled(certification, owner):
    user, _ = owner
    certification.enddate = None  # a long-term certification, so 2031 is still within it
    certification.save(update_fields=["enddate"])
    with at("2026-03-01"):
        registration = register(certification, user, kind=RemoteCareKind.LONG_TERM, reason="retired",
                                end_date=dt.date(2026, 4, 1))
    assert registration.end_date is None  # long-term: an end date is ignored
    registration.status = RemoteCareStatus.ACTIVE
    registration.save(update_fields=["status"])
    with at("2031-01-01"):
        assert services.remote_care_expire_due() == 0
    registration.refresh_from_db()
    assert registration.status == RemoteCareStatus.ACTIVE
    services.remote_care_cancel(registration=registration, user=user)
    registration.refresh_from_db()
    assert registration.status == RemoteCareStatus.CANCELLED
    with at("2031-01-02"):  # cancelled: a new one may be filed
        register(certification, user, start_date=dt.date(2031, 1, 2), end_date=dt.date(2031, 7, 2))


def test_one_open_registration_and_reason_must_match_kind(certification, owner):
    user, _ = owner
    with at("2026-03-01"):
        with pytest.raises(ValidationError) as wrong_reason:
            register(certification, user, kind=RemoteCareKind.LONG_TERM, reason="referral")
        assert "reason" in wrong_reason.value.message_dict
        register(certification, user)
        with pytest.raises(ValidationError) as second:
            register(certification, user, proof=png_upload())
    assert second.value.code == "open_exists"


def test_proof_must_be_a_real_document(certification, owner):
    user, _ = owner
    with at("2026-03-01"), pytest.raises(ValidationError) as error:
        register(certification, user, proof=SimpleUploadedFile("proof.pdf", b"MZ\x90\x00 an executable"))
    assert "proof" in error.value.message_dict


def test_rejection_needs_a_reason_and_strangers_cannot_cancel(certification, owner, django_user_model):
    user, _ = owner
    staff = django_user_model.objects.create(username="staff-rc2", is_staff=True)
    with at("2026-03-01"):
        registration = register(certification, user)
    with pytest.raises(ValidationError):
        services.remote_care_decide(registration=registration, user=staff, approve=False, note=" ")
    stranger, _ = citizen()
    with pytest.raises(ValidationError):
        services.remote_care_cancel(registration=registration, user=stranger)
    services.remote_care_decide(registration=registration, user=staff, approve=False, note="证明材料模糊")
    registration.refresh_from_db()
    assert (registration.status, registration.decision_note) == (RemoteCareStatus.REJECTED, "证明材料模糊")
