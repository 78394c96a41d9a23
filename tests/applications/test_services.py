"""Services: the draft, uploads, submit (numbering, idempotency, notification), withdraw, resubmit."""
import datetime as dt
import re
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications import services
from applications.lifecycle import TransitionNotAllowed
from applications.models import (
    PROXY_AGENT_ID_SLOT,
    PROXY_RELATIONSHIP_SLOT,
    Application,
    ApplicationEvent,
    ApplicationStatus,
    EventKind,
    UploadedMaterial,
)
from notifications.models import Notification
from tests.applications import corpus
from tests.applications.factories import (
    ApplicationFactory,
    CriterionFactory,
    HouseholdMemberFactory,
    IdentityFactory,
    RequiredMaterialFactory,
    UploadedMaterialFactory,
    complete_materials,
    jpeg_upload,
    supplement_request,
    upload,
    verified_citizen,
)
from tests.factories import DiseaseFactory, InstitutionFactory, PersonFactory, RegionFactory, SchemeFactory, UserFactory

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"^430500-\d{8}-\d{6}$")


def own_application(**kwargs):
    user, person = verified_citizen()
    application = ApplicationFactory(applicant=user, patient=person, **kwargs)
    RequiredMaterialFactory(disease=application.disease, code="diagnosis", name="疾病诊断证明书")
    return user, application


# --- draft -------------------------------------------------------------------------------------

def test_create_draft_for_household_member_takes_region_and_scheme_from_the_patient():
    user, _ = verified_citizen()
    parent = PersonFactory(region=RegionFactory(code="520200", city="六盘水市"))
    HouseholdMemberFactory(account=user, person=parent)
    application = services.application_create_draft(user=user, patient=parent)
    assert application.status == ApplicationStatus.DRAFT
    assert application.region.code == "520200"
    assert application.scheme_id == parent.scheme_id
    assert application.events.get().kind == EventKind.CREATED


def test_create_draft_refuses_a_stranger():
    user, _ = verified_citizen()
    with pytest.raises(ValidationError):
        services.application_create_draft(user=user, patient=PersonFactory())


def test_drafts_are_allowed_for_unverified_accounts():
    identity = IdentityFactory(unverified=True)
    application = services.application_create_draft(user=identity.user, patient=identity.person)
    assert application.pk


def test_set_disease_keeps_self_check_but_never_refuses_on_it():
    user, application = own_application()
    criteria = [CriterionFactory(disease=application.disease) for _ in range(3)]
    services.application_set_disease(
        application=application, region=application.region, scheme=application.scheme, disease=application.disease,
        self_check={str(criteria[0].pk): True},
    )
    application.refresh_from_db()
    answers = application.self_check
    assert answers[str(criteria[0].pk)] == {"text": criteria[0].text, "answer": True}
    assert answers[str(criteria[1].pk)]["answer"] is False
    assert application.wizard_step >= 3


def test_set_disease_refuses_a_disease_not_open_to_the_scheme():
    user, application = own_application()
    residents = SchemeFactory(code="resident", name="城乡居民")
    only_residents = DiseaseFactory(region=application.region, schemes=[residents])
    with pytest.raises(ValidationError):
        services.application_set_disease(
            application=application, region=application.region, scheme=application.scheme, disease=only_residents, self_check={}
        )


def test_disease_info_future_date_refused_low_level_hospital_allowed():
    user, application = own_application()
    level1 = InstitutionFactory(region=application.region, level=1, grade="")
    with time_machine.travel(dt.datetime(2026, 11, 22, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False):
        with pytest.raises(ValidationError) as caught:
            services.application_set_disease_info(
                application=application, diagnosis="糖尿病", diagnosing_institution=level1,
                diagnosis_date=dt.date(2026, 11, 23), designated_institution=None,
            )
        assert "diagnosis_date" in caught.value.message_dict
        services.application_set_disease_info(
            application=application, diagnosis="糖尿病", diagnosing_institution=level1,
            diagnosis_date=dt.date(2026, 11, 22), designated_institution=None,
        )
    application.refresh_from_db()
    assert application.diagnosing_institution == level1


def test_designated_institution_must_be_designated():
    user, application = own_application()
    not_designated = InstitutionFactory(region=application.region, designated=False)
    with pytest.raises(ValidationError) as caught:
        services.application_set_disease_info(
            application=application, diagnosis="x", diagnosing_institution=application.diagnosing_institution,
            diagnosis_date=timezone.localdate(), designated_institution=not_designated,
        )
    assert "designated_institution" in caught.value.message_dict


# --- uploads -------------------------------------------------------------------------------------

def test_material_add_stores_under_a_random_name_and_keeps_the_original_name():
    user, application = own_application()
    material = services.material_add(application=application, user=user, slot="diagnosis", file=upload("病历.pdf", corpus.pdf_bytes()))
    assert material.original_name == "病历.pdf"
    assert "病历" not in material.file.name and material.file.name.endswith(".pdf")
    assert material.processed is True  # PDFs need no pixel work
    assert material.content_type == "application/pdf"


def test_material_add_refuses_unknown_slot_and_other_accounts():
    user, application = own_application()
    with pytest.raises(ValidationError):
        services.material_add(application=application, user=user, slot="nope", file=jpeg_upload())
    with pytest.raises(ValidationError):
        services.material_add(application=application, user=UserFactory(), slot="diagnosis", file=jpeg_upload())


def test_proxy_slots_only_when_applying_for_someone_else():
    user, person = verified_citizen()
    parent = PersonFactory()
    HouseholdMemberFactory(account=user, person=parent)
    application = ApplicationFactory(applicant=user, patient=parent)
    services.material_add(application=application, user=user, slot=PROXY_AGENT_ID_SLOT, file=jpeg_upload())
    own = ApplicationFactory(applicant=user, patient=person)
    with pytest.raises(ValidationError):
        services.material_add(application=own, user=user, slot=PROXY_AGENT_ID_SLOT, file=jpeg_upload())


def test_file_count_limit_names_the_file(settings):
    settings.UPLOAD_MAX_FILES_PER_APPLICATION = 2
    user, application = own_application()
    for n in range(2):
        services.material_add(application=application, user=user, slot="diagnosis", file=upload(f"{n}.pdf", corpus.pdf_bytes()))
    with pytest.raises(ValidationError) as caught:
        services.material_add(application=application, user=user, slot="diagnosis", file=upload("third.pdf", corpus.pdf_bytes()))
    assert "third.pdf" in caught.value.messages[0] and "2" in caught.value.messages[0]


def test_no_uploads_after_submit():
    user, application = own_application(submitted=True)
    with pytest.raises(ValidationError):
        services.material_add(application=application, user=user, slot="diagnosis", file=jpeg_upload())


# --- processing task -------------------------------------------------------------------------------

def _processed(application, user, name, data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        material = services.material_add(application=application, user=user, slot="diagnosis", file=upload(name, data, "image/jpeg"))
    material.refresh_from_db()
    assert material.processed and not material.processing_error
    with material.file.open("rb") as handle:
        return material, handle.read()


def test_gps_exif_is_removed(django_capture_on_commit_callbacks):
    from PIL import Image
    import io

    user, application = own_application()
    original = corpus.jpeg_bytes(exif=corpus.gps_exif())
    assert 0x8825 in Image.open(io.BytesIO(original)).getexif()  # the test file really has GPS
    material, stored = _processed(application, user, "gps.jpg", original, django_capture_on_commit_callbacks)
    exif = Image.open(io.BytesIO(stored)).getexif()
    assert 0x8825 not in exif and 0x010F not in exif
    assert b"PhoneMaker" not in stored
    assert material.thumbnail and material.sharpness is not None


@pytest.mark.parametrize(
    ("case", "payload"),
    [("jpeg_with_html_appended", b"<script>"), ("jpeg_with_php_comment", b"<?php"), ("jpeg_zip_polyglot", b"PK\x03\x04")],
)
def test_reencoding_drops_whatever_rides_along(case, payload, django_capture_on_commit_callbacks):
    name, data, _ = corpus.hostile_corpus()[case]
    assert payload in data
    user, application = own_application()
    material, stored = _processed(application, user, name, data, django_capture_on_commit_callbacks)
    assert payload not in stored
    assert stored.rstrip(b"\x00").endswith(b"\xff\xd9")
    assert material.sha256 != "" and material.size == len(stored)


def test_blurry_photo_scores_below_threshold_and_sharp_above(django_capture_on_commit_callbacks):
    from applications.image_processing import blur_threshold

    user, application = own_application()
    blurry, _ = _processed(application, user, "blur.jpg", corpus.jpeg_bytes(sharp=False), django_capture_on_commit_callbacks)
    sharp, _ = _processed(application, user, "sharp.jpg", corpus.jpeg_bytes(sharp=True), django_capture_on_commit_callbacks)
    assert blurry.sharpness < blur_threshold() < sharp.sharpness


def test_processing_twice_is_harmless(django_capture_on_commit_callbacks):
    user, application = own_application()
    material, _ = _processed(application, user, "a.jpg", corpus.jpeg_bytes(), django_capture_on_commit_callbacks)
    name = material.file.name
    services.material_process(material_id=material.pk)
    material.refresh_from_db()
    assert material.file.name == name


# --- submit ---------------------------------------------------------------------------------------

def test_submit_lists_everything_missing_at_once():
    identity = IdentityFactory(unverified=True)
    application = Application.objects.create(applicant=identity.user, patient=identity.person)
    with pytest.raises(ValidationError) as caught:
        services.application_submit(application=application, user=identity.user, consent_version=None)
    messages = caught.value.messages
    for fragment in ("实名认证", "参保地区", "病种", "诊断", "诊断医院", "诊断日期", "授权"):
        assert any(fragment in m for m in messages), fragment
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.DRAFT


def test_submit_missing_materials_named():
    user, application = own_application()
    with pytest.raises(ValidationError) as caught:
        services.application_submit(application=application, user=user, consent_version="2026-11-v1")
    assert caught.value.messages == ["缺少材料：疾病诊断证明书"]


def test_proxy_submit_needs_agent_documents():
    user, _ = verified_citizen()
    parent = PersonFactory()
    HouseholdMemberFactory(account=user, person=parent)
    application = ApplicationFactory(applicant=user, patient=parent)
    with pytest.raises(ValidationError) as caught:
        services.application_submit(application=application, user=user, consent_version="2026-11-v1")
    assert any("代办人身份证" in m for m in caught.value.messages)
    assert any("关系证明" in m for m in caught.value.messages)


def test_submit_issues_number_starts_clock_sets_due_and_notifies(django_capture_on_commit_callbacks):
    user, application = own_application()
    complete_materials(application)
    # Monday 2026-11-23 10:00 in Shanghai; the region promises 5 working days.
    with time_machine.travel(dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False):
        with django_capture_on_commit_callbacks(execute=False):
            submitted = services.application_submit(application=application, user=user, consent_version="2026-11-v1")
    assert submitted.acceptance_number == "430500-20261123-000001"
    assert submitted.status == ApplicationStatus.SUBMITTED
    assert submitted.consent_version == "2026-11-v1" and submitted.consent_at == submitted.submitted_at
    assert submitted.clock_started_at == submitted.submitted_at
    assert timezone.localtime(submitted.due_at) == dt.datetime(2026, 11, 30, 10, tzinfo=timezone.get_current_timezone())
    event = submitted.events.get(kind=EventKind.SUBMITTED)
    assert event.data["acceptance_number"] == submitted.acceptance_number
    notes = Notification.objects.filter(event_key=f"application:{submitted.pk}:submitted")
    assert notes.exists() and notes.first().params == {"number": submitted.acceptance_number}


def test_number_uses_the_shanghai_date():
    user, application = own_application()
    complete_materials(application)
    # 2026-11-22 17:30 UTC is already the 23rd in Shanghai.
    with time_machine.travel(dt.datetime(2026, 11, 22, 17, 30, tzinfo=dt.timezone.utc), tick=False):
        submitted = services.application_submit(application=application, user=user, consent_version="2026-11-v1")
    assert submitted.acceptance_number.startswith("430500-20261123-")


def test_submit_twice_gives_one_number_and_one_event():
    user, application = own_application()
    complete_materials(application)
    first = services.application_submit(application=application, user=user, consent_version="2026-11-v1")
    second = services.application_submit(application=application, user=user, consent_version="2026-11-v1")
    assert first.acceptance_number == second.acceptance_number
    assert application.events.filter(kind=EventKind.SUBMITTED).count() == 1


def test_numbers_are_sequential_per_region_and_day():
    numbers = []
    for _ in range(3):
        user, application = own_application()
        complete_materials(application)
        numbers.append(services.application_submit(application=application, user=user, consent_version="2026-11-v1").acceptance_number)
    sequences = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert sequences == [sequences[0], sequences[0] + 1, sequences[0] + 2]
    assert all(NUMBER.match(n) for n in numbers)


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_get_unique_consecutive_numbers():
    """Eight submits at once on PostgreSQL: the counter row serialises them."""
    assert connection.vendor == "postgresql"
    pairs = []
    for _ in range(8):
        user, application = own_application()
        complete_materials(application)
        pairs.append((user, application))
    barrier = threading.Barrier(len(pairs))
    results, errors = [], []

    def run(user, application):
        from django.db import connections

        try:
            barrier.wait()
            results.append(services.application_submit(application=application, user=user, consent_version="2026-11-v1").acceptance_number)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    sequences = sorted(int(n.rsplit("-", 1)[1]) for n in results)
    assert sequences == list(range(1, 9))
    assert len({n.rsplit("-", 1)[0] for n in results}) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_of_one_application_gives_one_number():
    user, application = own_application()
    complete_materials(application)
    barrier = threading.Barrier(4)
    results = []

    def run():
        from django.db import connections

        try:
            barrier.wait()
            results.append(services.application_submit(application=application, user=user, consent_version="2026-11-v1").acceptance_number)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len(set(results)) == 1
    assert ApplicationEvent.objects.filter(application=application, kind=EventKind.SUBMITTED).count() == 1


# --- withdraw / resubmit -------------------------------------------------------------------------

@pytest.mark.parametrize("trait", ["submitted", "in_review", "supplement_requested"])
def test_withdraw_before_a_decision(trait):
    user, application = own_application(**{trait: True})
    withdrawn = services.application_withdraw(application=application, user=user, reason="已在医院办理")
    assert withdrawn.status == ApplicationStatus.WITHDRAWN
    assert withdrawn.events.get(kind=EventKind.WITHDRAWN).data == {"reason": "已在医院办理"}
    # One SMS and one in-site message for the applicant.
    assert sorted(Notification.objects.filter(event_key=f"application:{application.pk}:withdrawn").values_list("channel", flat=True)) == ["inbox", "sms"]


@pytest.mark.parametrize("trait", ["approved", "rejected", "withdrawn"])
def test_no_withdraw_after_a_decision(trait):
    user, application = own_application(**{trait: True})
    with pytest.raises(ValidationError):
        services.application_withdraw(application=application, user=user)


def test_only_the_applicant_withdraws():
    user, application = own_application(submitted=True)
    with pytest.raises(ValidationError):
        services.application_withdraw(application=application, user=UserFactory())


def test_resubmit_needs_new_files_for_flagged_items_then_restarts_the_clock():
    user, application = own_application(supplement_requested=True)
    flagged = UploadedMaterialFactory(application=application, slot="diagnosis", created_at=timezone.now())
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        supplement_request(application, flag=[flagged], items=[{"slot": "diagnosis", "text": "诊断证明书照片模糊"}, {"text": "近一年门诊病历"}])
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        with pytest.raises(ValidationError) as caught:
            services.application_resubmit(application=application, user=user)
        assert len(caught.value.messages) == 2  # the flagged slot and the extra item, together
        services.material_add(application=application, user=user, slot="diagnosis", file=upload("new.pdf", corpus.pdf_bytes()))
        services.material_add(application=application, user=user, slot="supplement:extra", file=upload("病历.pdf", corpus.pdf_bytes()))
        # Slots that were not flagged stay closed.
        with pytest.raises(ValidationError):
            services.material_add(application=application, user=user, slot="other", file=upload("x.pdf", corpus.pdf_bytes()))
        resubmitted = services.application_resubmit(application=application, user=user)
    assert resubmitted.status == ApplicationStatus.SUBMITTED
    assert resubmitted.clock_started_at > resubmitted.submitted_at
    assert resubmitted.due_at is not None
    flagged.refresh_from_db()
    assert flagged.superseded_at is not None and not flagged.flagged_for_supplement
    assert resubmitted.events.filter(kind=EventKind.RESUBMITTED).count() == 1
    notices = Notification.objects.filter(template_key="application_resubmitted", user=user)
    assert sorted(notices.values_list("channel", flat=True)) == ["inbox", "sms"]


def test_resubmit_from_the_wrong_status_is_refused():
    user, application = own_application(approved=True)
    with pytest.raises(TransitionNotAllowed):
        services.application_resubmit(application=application, user=user)


def test_discard_draft_removes_it():
    user, application = own_application()
    UploadedMaterialFactory(application=application)
    services.application_draft_discard(application=application, user=user)
    assert not Application.objects.filter(pk=application.pk).exists()
    assert not UploadedMaterial.objects.filter(application_id=application.pk).exists()


def test_new_supplement_file_may_be_removed_but_reviewed_files_may_not():
    user, application = own_application(supplement_requested=True)
    reviewed = UploadedMaterialFactory(application=application, slot="diagnosis", created_at=timezone.now() - dt.timedelta(days=1))
    supplement_request(application, flag=[reviewed])
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        fresh = services.material_add(application=application, user=user, slot="diagnosis", file=upload("新.pdf", corpus.pdf_bytes()))
    with pytest.raises(ValidationError):
        services.material_remove(material=reviewed, user=user)
    services.material_remove(material=fresh, user=user)
    assert not UploadedMaterial.objects.filter(pk=fresh.pk).exists()


def test_round_trip_with_the_reviews_supplement_service():
    """The contract with reviews.services: its itemised event and flags drive our upload slots."""
    from reviews.services import application_request_supplement

    user, application = own_application(in_review=True)
    photo = UploadedMaterialFactory(application=application, slot="diagnosis", created_at=timezone.now() - dt.timedelta(hours=1))
    staff = UserFactory(is_staff=True, is_superuser=True, phone=None)
    application_request_supplement(
        application_id=application.pk, user=staff, verdicts={photo.pk: "unreadable"}, verdict_notes={photo.pk: "看不清"},
        extra_items=["近一年门诊病历"],
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUPPLEMENT_REQUESTED
    from applications import selectors

    assert selectors.supplement_slots(application=application) == {"diagnosis", "supplement:extra"}
    # The case page hands over the timeline and files it read: the same slots and notice, no query.
    page = selectors.application_page_for_citizen(user=user, pk=application.pk)
    events, materials = page.events, page.materials
    with CaptureQueriesContext(connection) as queries:
        from_rows = selectors.supplement_slots(application=application, events=events, materials=materials)
        notice = selectors.supplement_request_event(application=application, events=events)
    assert from_rows == {"diagnosis", "supplement:extra"} and not queries.captured_queries
    assert notice == selectors.supplement_request_event(application=application)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1)):
        services.material_add(application=application, user=user, slot="diagnosis", file=upload("清楚.pdf", corpus.pdf_bytes()))
        services.material_add(application=application, user=user, slot="supplement:extra", file=upload("病历.pdf", corpus.pdf_bytes()))
        resubmitted = services.application_resubmit(application=application, user=user)
    assert resubmitted.status == ApplicationStatus.SUBMITTED and resubmitted.clock_started_at is not None
    photo.refresh_from_db()
    assert photo.superseded_at is not None


def test_sweep_requeues_lost_processing(django_capture_on_commit_callbacks, settings):
    user, application = own_application()
    # Stored as if the task had been lost: an image, not processed, uploaded 10 minutes ago.
    with time_machine.travel(timezone.now() - dt.timedelta(minutes=10)):
        material = UploadedMaterialFactory(
            application=application, processed=False, content_type="image/jpeg",
            file=ContentFile(corpus.jpeg_bytes(), name="a.jpg"),
        )
    fresh = UploadedMaterialFactory(application=application, processed=False, content_type="image/jpeg")
    from applications.tasks import material_process_sweep

    material_process_sweep()
    material.refresh_from_db()
    fresh.refresh_from_db()
    assert material.processed and material.thumbnail
    assert not fresh.processed  # too recent: its own task may still be on the way
    assert settings.CELERY_BEAT_SCHEDULE["applications-material-sweep"]["task"] == "applications.tasks.material_process_sweep"


def test_changing_region_clears_hospitals_of_the_old_region():
    user, application = own_application(designated_institution=None)
    other_region = RegionFactory(code="411000", city="许昌市")
    disease = DiseaseFactory(region=other_region, schemes=[application.scheme])
    services.application_set_disease(application=application, region=other_region, scheme=application.scheme, disease=disease, self_check={})
    application.refresh_from_db()
    assert application.region == other_region and application.diagnosing_institution is None
