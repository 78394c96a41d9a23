import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from applications.models import ApplicationKind, ApplicationStatus, CertificationStatus, UploadedMaterial
from catalog.models import RequiredMaterial
from certifications import selectors, services
from certifications.models import CertificationEvent, CertificationEventKind
from notifications.models import Notification
from tests.certifications.factories import CertificationFactory, citizen, household_member, png_upload
from tests.factories import DiseaseFactory

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(day: str, time: str = "10:00"):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SH), tick=False)


def test_window_closed_the_day_before_it_opens(certification, owner):
    user, _ = owner
    with at("2026-11-30"):
        assert selectors.certification_display_status(certification=certification) == "active"
        with pytest.raises(ValidationError) as error:
            services.renewal_request(certification=certification, user=user, files={"id_photo": png_upload()})
    assert error.value.code == "not_open"
    assert "2026-12-01" in error.value.messages[0]


def test_window_opens_extension_window_days_before_enddate(certification, owner, django_capture_on_commit_callbacks):
    user, person = owner
    with at("2026-12-01"), django_capture_on_commit_callbacks(execute=False):
        assert selectors.certification_display_status(certification=certification) == "expiring"
        application = services.renewal_request(certification=certification, user=user, files={"id_photo": png_upload()})
    assert application.kind == ApplicationKind.EXTENSION
    assert application.parent_id == certification.application_id
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.patient_id == person.pk and application.disease_id == certification.disease_id
    assert application.acceptance_number.startswith("430500-20261201-")
    assert application.due_at is not None and application.due_at > application.submitted_at
    assert list(UploadedMaterial.objects.filter(application=application).values_list("slot", flat=True)) == ["id_photo"]
    assert Notification.objects.filter(event_key=f"application:{application.pk}:submitted", template_key="extension_submitted").exists()
    # A second one while the first waits is refused.
    with at("2026-12-02"), pytest.raises(ValidationError) as error:
        services.renewal_request(certification=certification, user=user, files={"id_photo": png_upload()})
    assert error.value.code == "pending"


def test_last_day_still_open_and_day_after_enddate_says_apply_anew(certification, owner):
    user, _ = owner
    with at("2026-12-31", "23:50"):
        services.renewal_request(certification=certification, user=user, files={"id_photo": png_upload()})
    other = CertificationFactory(application__applicant=user, application__patient=certification.person,
                                 application__region=certification.region, application__disease=certification.disease)
    with at("2027-01-01", "00:05"):
        view = selectors.certification_view(certification=other)
        assert view.status == "expired"
        assert [a.code for a in view.actions] == ["reapply"]
        with pytest.raises(ValidationError) as error:
            services.renewal_request(certification=other, user=user, files={"id_photo": png_upload()})
    assert error.value.code == "expired"


def test_photo_is_required_and_must_be_an_image(certification, owner):
    user, _ = owner
    with at("2026-12-10"):
        with pytest.raises(ValidationError) as missing:
            services.renewal_request(certification=certification, user=user, files={})
        assert missing.value.code == "missing_materials"
        from django.core.files.uploadedfile import SimpleUploadedFile

        with pytest.raises(ValidationError) as bad:
            services.renewal_request(certification=certification, user=user,
                                     files={"id_photo": SimpleUploadedFile("x.png", b"not an image at all")})
        assert bad.value.code == "bad_file"


def test_rereview_disease_asks_for_its_materials(region, owner):
    user, person = owner
    disease = DiseaseFactory(region=region, validity_rule="months", validity_months=24, rereview_required=True)
    RequiredMaterial.objects.create(disease=disease, code="pathology", name="近期病理报告", required=True)
    RequiredMaterial.objects.create(disease=disease, code="optional", name="可选", required=False)
    cert = CertificationFactory(application__applicant=user, application__patient=person,
                                application__region=region, application__disease=disease)
    assert [s.code for s in selectors.renewal_materials_for(disease=disease)] == ["id_photo", "pathology"]
    with at("2026-12-15"):
        with pytest.raises(ValidationError) as error:
            services.renewal_request(certification=cert, user=user, files={"id_photo": png_upload()})
        assert "近期病理报告" in error.value.messages[0]
        application = services.renewal_request(certification=cert, user=user,
                                               files={"id_photo": png_upload(), "pathology": png_upload()})
    assert application.kind == ApplicationKind.REREVIEW


def test_household_member_certification_and_strangers_refused(region, owner):
    user, _ = owner
    member = household_member(account=user)
    cert = CertificationFactory(application__patient=member, application__region=region)
    stranger, _ = citizen()
    with at("2026-12-20"):
        with pytest.raises(ValidationError):
            services.renewal_request(certification=cert, user=stranger, files={"id_photo": png_upload()})
        application = services.renewal_request(certification=cert, user=user, files={"id_photo": png_upload()})
    assert application.applicant_id == user.pk and application.patient_id == member.pk


@pytest.mark.parametrize(
    ("rule", "months", "expected"),
    [("months", 12, dt.date(2027, 12, 31)), ("months", 6, dt.date(2027, 6, 30)), ("year_end", None, dt.date(2027, 12, 31))],
)
def test_extend_continues_from_the_old_enddate_by_the_disease_rule(region, owner, rule, months, expected):
    user, person = owner
    disease = DiseaseFactory(region=region, validity_rule=rule, validity_months=months)
    cert = CertificationFactory(application__patient=person, application__region=region, application__disease=disease)
    with at("2027-01-05"):
        services.certification_expire_due()
        cert.refresh_from_db()
        assert cert.status == CertificationStatus.EXPIRED
        services.certification_extend(certification=cert, decided_by=user, decided_at=dt.datetime.now(tz=SH))
    cert.refresh_from_db()
    assert cert.enddate == expected
    assert cert.status == CertificationStatus.ACTIVE  # a late decision restores continuous cover


def test_extend_is_idempotent_per_application(certification, owner):
    user, _ = owner
    with at("2026-12-05"):
        application = services.renewal_request(certification=certification, user=user, files={"id_photo": png_upload()})
        now = dt.datetime.now(tz=SH)
        services.certification_extend(certification=certification, decided_by=user, decided_at=now, application=application)
        services.certification_extend(certification=certification, decided_by=user, decided_at=now, application=application)
    certification.refresh_from_db()
    assert certification.enddate == dt.date(2027, 12, 31)
    assert CertificationEvent.objects.filter(certification=certification, kind=CertificationEventKind.EXTENDED).count() == 1


def test_long_term_certification_has_nothing_to_extend(region, owner):
    user, person = owner
    cert = CertificationFactory(long_term=True, application__patient=person, application__region=region)
    view = selectors.certification_view(certification=cert)
    assert view.status == "active"
    assert [a.code for a in view.actions] == ["hospital", "remote_care"]
    with pytest.raises(ValidationError) as error:
        services.renewal_request(certification=cert, user=user, files={"id_photo": png_upload()})
    assert error.value.code == "long_term"


def test_extend_for_application_finds_the_certification_through_parents(certification, owner, region):
    from applications.models import Application, ApplicationEvent, EventKind

    user, _ = owner
    with at("2026-12-05"):
        extension = services.renewal_request(certification=certification, user=user, files={"id_photo": png_upload()})
    assert selectors.certification_extended_by(application=certification.application) is None
    assert selectors.certification_extended_by(application=extension) == certification
    # A rejected extension taken to reconsideration still extends the same certification.
    Application.objects.filter(pk=extension.pk).update(status=ApplicationStatus.REJECTED,
                                                       decided_at=dt.datetime(2026, 12, 8, 10, tzinfo=SH))
    extension.refresh_from_db()
    ApplicationEvent.objects.create(application=extension, kind=EventKind.REJECTED, actor=None)
    with at("2026-12-09"):
        reconsideration = services.reconsideration_request(application=extension, user=user, reason="照片已重新拍摄清晰")
        now = dt.datetime.now(tz=SH)
        assert services.certification_extend_for_application(application=reconsideration, decided_by=user, decided_at=now) == certification
        assert services.certification_extend_for_application(application=certification.application, decided_by=user, decided_at=now) is None
    certification.refresh_from_db()
    assert certification.enddate == dt.date(2027, 12, 31)
