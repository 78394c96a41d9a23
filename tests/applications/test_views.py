"""HTTP: the wizard, uploads (incl. the hostile corpus), submit, receipt, list, detail, track, access."""
import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from applications.models import (
    PROXY_AGENT_ID_SLOT,
    PROXY_RELATIONSHIP_SLOT,
    Application,
    ApplicationStatus,
    EventKind,
    UploadedMaterial,
)
from tests.applications import corpus
from tests.applications.factories import (
    ApplicationFactory,
    CriterionFactory,
    HouseholdMemberFactory,
    IdentityFactory,
    RequiredMaterialFactory,
    UploadedMaterialFactory,
    complete_materials,
    supplement_request,
    upload,
    verified_citizen,
)
from tests.factories import DiseaseFactory, InstitutionFactory, PersonFactory, RegionFactory, SchemeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def citizen(client):
    user, person = verified_citizen(full_name="王小明")
    client.force_login(user)
    return user, person


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def ready_draft(user, person, **kwargs):
    application = ApplicationFactory(applicant=user, patient=person, **kwargs)
    RequiredMaterialFactory(disease=application.disease, code="diagnosis", name="疾病诊断证明书")
    return application


# --- the wizard, end to end over HTTP -----------------------------------------------------------------

def test_wizard_for_a_household_member_from_start_to_receipt(client, citizen, django_capture_on_commit_callbacks):
    user, me = citizen
    region = RegionFactory()
    scheme = SchemeFactory()
    mother = PersonFactory(full_name="李秀英", region=region, scheme=scheme)
    HouseholdMemberFactory(account=user, person=mother)
    disease = DiseaseFactory(region=region, schemes=[scheme], name="高血压")
    closed = DiseaseFactory(region=region, schemes=[SchemeFactory(code="resident", name="城乡居民")], name="儿童脑性瘫痪")
    criterion = CriterionFactory(disease=disease, text="收缩压≥140mmHg")
    RequiredMaterialFactory(disease=disease, code="diagnosis", name="疾病诊断证明书")
    hospital = InstitutionFactory(region=region, level=3)

    response = client.get(reverse("applications:new"))
    assert "李**（家庭成员 · 父母，" in response.content.decode() and "李秀英" not in response.content.decode()
    assert "王**（本人，" in response.content.decode()
    response = client.post(reverse("applications:new"), {"patient": mother.pk})
    application = Application.objects.get(applicant=user)
    assert response.status_code == 302 and response.url == reverse("applications:step", args=[application.pk, 2])

    page = client.get(response.url).content.decode()
    assert "高血压" in page and "儿童脑性瘫痪" not in page  # limited to the patient's scheme
    page = client.get(response.url, {"region": region.pk, "scheme": scheme.pk, "disease": disease.pk}).content.decode()
    assert "收缩压≥140mmHg" in page
    step2 = response.url
    # Without JS, choosing a disease and saving at once first shows its checklist.
    response = client.post(step2, {"region": region.pk, "scheme": scheme.pk, "disease": disease.pk, "save": "1"})
    assert response.status_code == 200 and "收缩压≥140mmHg" in response.content.decode()
    assert any("准入条件自查" in m for m in _messages(response))
    response = client.post(
        step2,
        {"region": region.pk, "scheme": scheme.pk, "disease": disease.pk, "criteria_for": disease.pk,
         f"criterion_{criterion.pk}": "on", "save": "1"},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.disease == disease and application.self_check[str(criterion.pk)]["answer"] is True
    assert closed.pk  # never offered

    response = client.post(
        reverse("applications:step", args=[application.pk, 3]),
        {"diagnosis": "原发性高血压", "diagnosing_institution": hospital.pk, "diagnosis_date": "2026-01-05", "designated_institution": hospital.pk},
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    materials_url = reverse("applications:material_upload", args=[application.pk])
    for slot, name in [("diagnosis", "诊断证明.jpg"), (PROXY_AGENT_ID_SLOT, "我的身份证.jpg"), (PROXY_RELATIONSHIP_SLOT, "户口本.pdf")]:
        data = corpus.pdf_bytes() if name.endswith(".pdf") else corpus.jpeg_bytes()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(materials_url, {"slot": slot, "files": [upload(name, data)]})
        assert response.status_code == 302
    assert application.materials.count() == 3
    assert all(m.processed for m in application.materials.all())  # the task ran (in-process in tests)

    review = client.get(reverse("applications:step", args=[application.pk, 5])).content.decode()
    assert "以下事项尚未完成" not in review
    response = client.post(reverse("applications:submit", args=[application.pk]), {"consent_version": "2026-11-v1"}, follow=True)
    assert "未同意医疗健康信息处理授权" in response.content.decode()
    response = client.post(reverse("applications:submit", args=[application.pk]), {"consent": "on", "consent_version": "2026-11-v1"})
    assert response.url == reverse("applications:receipt", args=[application.pk])
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED and re.match(r"^430500-\d{8}-\d{6}$", application.acceptance_number)
    # The double click: same receipt, same number, one event.
    again = client.post(reverse("applications:submit", args=[application.pk]), {"consent": "on", "consent_version": "2026-11-v1"})
    assert again.url == response.url
    assert application.events.filter(kind=EventKind.SUBMITTED).count() == 1

    receipt = client.get(response.url).content.decode()
    assert application.acceptance_number in receipt and "李**" in receipt and mother.id_number not in receipt
    assert "data:image/png;base64," in receipt


def test_step_three_warns_but_accepts_a_low_level_hospital(client, citizen):
    user, me = citizen
    application = ready_draft(user, me, diagnosing_institution=None)
    small = InstitutionFactory(region=application.region, level=1, grade="")
    url = reverse("applications:step", args=[application.pk, 3])
    response = client.post(url, {"diagnosis": "x", "diagnosing_institution": small.pk, "diagnosis_date": "2026-01-01"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "一级医院" in page and "二级及以上" in page


def test_future_diagnosis_date_refused_on_the_form(client, citizen):
    user, me = citizen
    application = ready_draft(user, me)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(
        reverse("applications:step", args=[application.pk, 3]),
        {"diagnosis": "x", "diagnosing_institution": application.diagnosing_institution_id, "diagnosis_date": tomorrow.isoformat()},
    )
    assert response.status_code == 200 and "诊断日期不能晚于今天" in response.content.decode()


def test_unverified_account_can_draft_but_submit_lists_identity(client):
    identity = IdentityFactory(unverified=True)
    client.force_login(identity.user)
    response = client.post(reverse("applications:new"), {"patient": identity.person.pk})
    assert response.status_code == 302
    application = Application.objects.get(applicant=identity.user)
    page = client.get(reverse("applications:step", args=[application.pk, 5])).content.decode()
    assert "账户尚未完成实名认证" in page and "未选择病种" in page and "未填写诊断" in page
    response = client.post(reverse("applications:submit", args=[application.pk]), {"consent": "on", "consent_version": "2026-11-v1"}, follow=True)
    assert "账户尚未完成实名认证" in response.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT


def test_drafts_resume_from_the_list(client, citizen):
    user, me = citizen
    application = ready_draft(user, me, wizard_step=3)
    page = client.get(reverse("applications:list")).content.decode()
    assert reverse("applications:step", args=[application.pk, 3]) in page


# --- uploads over HTTP ------------------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(corpus.hostile_corpus()))
def test_hostile_corpus_over_http_never_500(client, citizen, case, django_capture_on_commit_callbacks):
    user, me = citizen
    application = ready_draft(user, me)
    name, data, expected = corpus.hostile_corpus()[case]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("applications:material_upload", args=[application.pk]),
            {"slot": "diagnosis", "files": [upload(name, data)]},
            HTTP_X_REQUESTED_WITH="XMLHttpRequest",
        )
    body = response.json()
    if expected == "neutralise":
        assert response.status_code == 200 and body["ok"]
        material = application.materials.get()
        with material.file.open("rb") as handle:
            stored = handle.read()
        for payload in (b"<script", b"<?php", b"PK\x03\x04", b"PhoneMaker"):
            assert payload not in stored
    else:
        assert response.status_code == 400
        assert name in body["errors"][0]
        assert not application.materials.exists()


def test_plain_form_upload_reports_each_bad_file_and_keeps_the_good(client, citizen):
    user, me = citizen
    application = ready_draft(user, me)
    response = client.post(
        reverse("applications:material_upload", args=[application.pk]),
        {"slot": "diagnosis", "files": [upload("好.pdf", corpus.pdf_bytes()), upload("坏.gif", corpus.hostile_corpus()["gif"][1])]},
        follow=True,
    )
    messages = _messages(response)
    assert any("坏.gif" in m and "GIF" in m for m in messages)
    assert any("已上传 1 个文件" in m for m in messages)
    assert list(application.materials.values_list("original_name", flat=True)) == ["好.pdf"]


def test_blurry_photo_warning_on_the_materials_step(client, citizen, django_capture_on_commit_callbacks):
    user, me = citizen
    application = ready_draft(user, me)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("applications:material_upload", args=[application.pk]), {"slot": "diagnosis", "files": [upload("模糊.jpg", corpus.jpeg_bytes(sharp=False))]})
    page = client.get(reverse("applications:step", args=[application.pk, 4])).content.decode()
    assert "照片可能不清晰，建议重新拍摄" in page
    assert 'capture="environment"' in page and 'accept="image/jpeg,image/png,application/pdf,image/*"' in page


def test_file_is_served_only_to_the_citizen_with_safe_headers(client, citizen):
    user, me = citizen
    application = ready_draft(user, me)
    material = UploadedMaterialFactory(application=application, original_name="病历.pdf")
    response = client.get(reverse("applications:material_file", args=[application.pk, material.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_delete_a_draft_file(client, citizen):
    user, me = citizen
    application = ready_draft(user, me)
    material = UploadedMaterialFactory(application=application)
    response = client.post(reverse("applications:material_delete", args=[application.pk, material.pk]))
    assert response.status_code == 302 and not UploadedMaterial.objects.filter(pk=material.pk).exists()


# --- detail, withdraw, supplement ---------------------------------------------------------------------

def test_detail_shows_timeline_and_document_status(client, citizen):
    user, me = citizen
    application = ready_draft(user, me, supplement_requested=True)
    material = UploadedMaterialFactory(application=application, slot="diagnosis", original_name="旧照片.jpg")
    supplement_request(application, flag=[material], items=[{"slot": "diagnosis", "text": "诊断证明书需加盖公章"}])
    application.events.create(kind=EventKind.ID_REVEALED, visible_to_citizen=False, data={})
    page = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert "一次性告知补正" in page and "诊断证明书需加盖公章" in page
    assert "需补正" in page and "旧照片.jpg" in page
    assert "查看完整身份证号" not in page  # staff-only events stay hidden
    assert me.id_number not in page


def test_supplement_reupload_and_resubmit_over_http(client, citizen):
    user, me = citizen
    application = ready_draft(user, me, supplement_requested=True)
    material = UploadedMaterialFactory(application=application, slot="diagnosis", created_at=timezone.now() - dt.timedelta(hours=2))
    supplement_request(application, flag=[material])
    upload_url = reverse("applications:material_upload", args=[application.pk])
    # Only flagged items may be re-uploaded.
    other = client.post(upload_url, {"slot": "other", "files": [upload("x.pdf", corpus.pdf_bytes())]}, follow=True)
    assert any("不需要上传" in m for m in _messages(other))
    response = client.post(reverse("applications:resubmit", args=[application.pk]), follow=True)
    assert any("请补传" in m for m in _messages(response))
    client.post(upload_url, {"slot": "diagnosis", "files": [upload("新.pdf", corpus.pdf_bytes())]})
    response = client.post(reverse("applications:resubmit", args=[application.pk]), follow=True)
    assert any("审核时限重新计算" in m for m in _messages(response))
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_withdraw_over_http(client, citizen):
    user, me = citizen
    application = ready_draft(user, me, in_review=True)
    response = client.post(reverse("applications:withdraw", args=[application.pk]), {"reason": "不需要了"}, follow=True)
    assert any("已撤回" in m for m in _messages(response))
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN


# --- receipt PDF ----------------------------------------------------------------------------------------

def test_receipt_pdf_has_number_masked_patient_disease_materials_and_qr(client, citizen, monkeypatch):
    from reportlab.pdfgen.canvas import Canvas

    user, me = citizen
    application = ready_draft(user, me, submitted=True)
    UploadedMaterialFactory(application=application, slot="diagnosis", original_name="诊断证明.pdf")
    drawn, images = [], []
    original_draw, original_image = Canvas.drawString, Canvas.drawImage
    monkeypatch.setattr(Canvas, "drawString", lambda self, x, y, text, *a, **k: (drawn.append(text), original_draw(self, x, y, text, *a, **k))[1])
    monkeypatch.setattr(Canvas, "drawImage", lambda self, image, *a, **k: (images.append(image), original_image(self, image, *a, **k))[1])
    response = client.get(reverse("applications:receipt_pdf", args=[application.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and b"/FontFile2" in response.content  # the CJK font is embedded
    text = "\n".join(drawn)
    assert application.acceptance_number in text
    assert "王**" in text and "王小明" not in text
    assert me.id_number not in text and me.id_number[-4:] in text
    assert application.disease.name in text
    assert "疾病诊断证明书：诊断证明.pdf" in text
    assert len(images) == 1  # the QR code


# --- the list: badge and constant queries ----------------------------------------------------------------

def test_list_shows_household_cases_with_badges(client, citizen):
    user, me = citizen
    mother = PersonFactory()
    HouseholdMemberFactory(account=user, person=mother)
    # Filed by a sibling's account for the same mother: visible once submitted.
    sibling = UserFactory()
    HouseholdMemberFactory(account=sibling, person=mother)
    ApplicationFactory(applicant=sibling, patient=mother, approved=True)
    ApplicationFactory(applicant=sibling, patient=mother)  # sibling's draft: private
    ApplicationFactory(applicant=user, patient=me, supplement_requested=True)
    page = client.get(reverse("applications:list")).content.decode()
    assert page.count('class="badge') == 2
    assert "已通过" in page and "待补正" in page and "草稿" not in page


def test_list_query_count_does_not_grow(client, citizen, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user, me = citizen
    first = ApplicationFactory(applicant=user, patient=me, submitted=True)
    UploadedMaterialFactory(application=first)
    cache.clear()  # both requests read the session and the badge count from the database
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("applications:list")).content.decode().count('class="badge') == 1
    for _ in range(19):
        UploadedMaterialFactory(application=ApplicationFactory(applicant=user, patient=me, submitted=True))
    cache.clear()
    with django_assert_num_queries(len(one)):
        response = client.get(reverse("applications:list"))
    assert response.content.decode().count('class="badge') == 20
    # More than a page: the pager needs the count. The prepared statement (PostgreSQL) reads it
    # with the page's rows; the ORM's queryset (elsewhere) asks for a COUNT(*) of its own.
    from applications import citizen_sql

    for _ in range(5):
        ApplicationFactory(applicant=user, patient=me, submitted=True)
    cache.clear()
    with django_assert_num_queries(len(one) + (0 if citizen_sql.prepared_reads_available() else 1)):
        response = client.get(reverse("applications:list"))
    assert response.content.decode().count('class="badge') == 20 and "第 1 / 2 页" in response.content.decode()


@pytest.mark.parametrize("prepared", [True, False], ids=["statements", "orm"])
def test_the_list_reads_neither_diagnosis_nor_id_number(client, citizen, monkeypatch, prepared):
    """Both are encrypted at rest and the list shows neither: loading them was two decryptions
    per case on every page. Both forms of the list: its prepared statements (PostgreSQL) and the
    ORM's queryset (elsewhere)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from applications import citizen_sql

    monkeypatch.setattr(citizen_sql, "prepared_reads_available", lambda: prepared)
    user, me = citizen
    ApplicationFactory(applicant=user, patient=me, submitted=True)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("applications:list")).content.decode().count('class="badge') == 1
    if prepared:
        (listing,) = [q["sql"] for q in queries.captured_queries if 'FROM "applications_application" a JOIN' in q["sql"]]
        application, person = "a.", "p."
    else:
        (listing,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "applications_application"."id"')]
        application, person = '"applications_application".', '"applications_person".'
    assert f'{application}"diagnosis"' not in listing and f'{application}"status"' in listing
    assert f'{person}"id_number"' not in listing and f'{person}"full_name"' in listing


def test_list_is_paginated(client, citizen):
    user, me = citizen
    for _ in range(25):
        ApplicationFactory(applicant=user, patient=me, submitted=True)
    first = client.get(reverse("applications:list")).content.decode()
    second = client.get(reverse("applications:list"), {"page": 2}).content.decode()
    assert first.count('class="badge') == 20 and second.count('class="badge') == 5
    assert "?page=2" in first and "?page=1" in second
    # A page number out of range shows the last page, never an error.
    assert client.get(reverse("applications:list"), {"page": 99}).status_code == 200


# --- /track/ ----------------------------------------------------------------------------------------------

def test_track_answers_status_and_masked_name_only(client):
    application = ApplicationFactory(in_review=True, patient=PersonFactory(full_name="赵大海"))
    response = client.post(reverse("track"), {"acceptance_number": application.acceptance_number, "id_number": application.patient.id_number.lower()})
    page = response.content.decode()
    assert response.status_code == 200
    assert "审核中" in page and "赵**" in page
    assert "赵大海" not in page and application.disease.name not in page


def test_track_same_answer_for_unknown_number_and_wrong_id(client):
    application = ApplicationFactory(submitted=True)
    other = PersonFactory()
    wrong_id = client.post(reverse("track"), {"acceptance_number": application.acceptance_number, "id_number": other.id_number})
    unknown = client.post(reverse("track"), {"acceptance_number": "430500-20990101-000001", "id_number": application.patient.id_number})

    def body(response):
        html = response.content.decode()
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        return re.sub(r'value="[^"]*"', "", html)

    assert wrong_id.status_code == unknown.status_code == 200
    assert body(wrong_id) == body(unknown)
    assert "未查询到匹配的申请" in wrong_id.content.decode()


def test_track_needs_both_fields_and_hides_drafts(client):
    draft = ApplicationFactory(acceptance_number=None)
    response = client.post(reverse("track"), {"acceptance_number": "", "id_number": draft.patient.id_number})
    assert response.status_code == 200 and "这个字段是必填项" in response.content.decode()


def test_track_is_rate_limited_per_ip(client, settings):
    settings.TRACK_RATE_LIMIT = 3
    data = {"acceptance_number": "430500-20261122-000001", "id_number": PersonFactory().id_number}
    codes = [client.post(reverse("track"), data, REMOTE_ADDR="10.0.0.1").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "查询过于频繁" in client.post(reverse("track"), data, REMOTE_ADDR="10.0.0.1").content.decode()
    assert client.post(reverse("track"), data, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_track_get_prefills_number_from_the_qr_link(client):
    response = client.get(reverse("track"), {"number": "430500-20261122-000007"})
    assert 'value="430500-20261122-000007"' in response.content.decode()


# --- access: every object URL answers 404 to another account ------------------------------------------

def _object_urls(application, material):
    pk = application.pk
    return [
        ("get", reverse("applications:detail", args=[pk])),
        ("get", reverse("applications:step", args=[pk, 1])),
        ("get", reverse("applications:step", args=[pk, 4])),
        ("post", reverse("applications:submit", args=[pk])),
        ("post", reverse("applications:discard", args=[pk])),
        ("post", reverse("applications:material_upload", args=[pk])),
        ("post", reverse("applications:material_delete", args=[pk, material.pk])),
        ("get", reverse("applications:material_file", args=[pk, material.pk])),
        ("get", reverse("applications:material_thumb", args=[pk, material.pk])),
        ("get", reverse("applications:receipt", args=[pk])),
        ("get", reverse("applications:receipt_pdf", args=[pk])),
        ("post", reverse("applications:withdraw", args=[pk])),
        ("post", reverse("applications:resubmit", args=[pk])),
    ]


@pytest.mark.parametrize("trait", ["draft", "submitted"])
def test_every_object_url_is_404_for_another_account(client, trait):
    owner, person = verified_citizen()
    application = ApplicationFactory(applicant=owner, patient=person, **({} if trait == "draft" else {"submitted": True}))
    material = UploadedMaterialFactory(application=application, thumbnail="thumbnails/x.jpg")
    stranger, _ = verified_citizen()
    client.force_login(stranger)
    for method, url in _object_urls(application, material):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
    # And it is not listed.
    assert application.acceptance_number is None or application.acceptance_number not in client.get(reverse("applications:list")).content.decode()


def test_material_of_another_application_is_404_even_with_my_application_id(client, citizen):
    user, me = citizen
    mine = ApplicationFactory(applicant=user, patient=me)
    theirs = UploadedMaterialFactory()
    response = client.get(reverse("applications:material_file", args=[mine.pk, theirs.pk]))
    assert response.status_code == 404


def test_household_patient_sees_but_cannot_change_a_case_filed_for_them(client):
    child, _ = verified_citizen()
    parent_user, parent = verified_citizen()
    HouseholdMemberFactory(account=child, person=parent)
    application = ApplicationFactory(applicant=child, patient=parent, submitted=True)
    material = UploadedMaterialFactory(application=application)
    client.force_login(parent_user)
    assert client.get(reverse("applications:detail", args=[application.pk])).status_code == 200
    assert client.get(reverse("applications:material_file", args=[application.pk, material.pk])).status_code == 200
    assert client.post(reverse("applications:withdraw", args=[application.pk])).status_code == 404
    assert client.post(reverse("applications:material_upload", args=[application.pk])).status_code == 404


def test_anonymous_is_sent_to_login(client):
    application = ApplicationFactory(submitted=True)
    for path in (reverse("applications:list"), reverse("applications:detail", args=[application.pk])):
        response = client.get(path)
        assert response.status_code == 302 and "login" in response.url


def test_upload_needs_the_csrf_token(citizen):
    from django.test import Client

    user, me = citizen
    application = ready_draft(user, me)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.post(reverse("applications:material_upload", args=[application.pk]), {"slot": "diagnosis", "files": [upload("a.pdf", corpus.pdf_bytes())]})
    assert response.status_code == 403 and not application.materials.exists()


def test_oversize_file_is_cut_off_while_streaming_and_named(client, citizen, settings):
    settings.UPLOAD_MAX_BYTES = 200_000
    user, me = citizen
    application = ready_draft(user, me)
    big = b"%PDF-1.4\n" + b"0" * 5_000_000
    response = client.post(
        reverse("applications:material_upload", args=[application.pk]),
        {"slot": "diagnosis", "files": [upload("扫描件.pdf", big), upload("小.pdf", corpus.pdf_bytes())]},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    body = response.json()
    assert body["added"] == ["小.pdf"]
    assert len(body["errors"]) == 1 and "扫描件.pdf" in body["errors"][0] and "上限" in body["errors"][0]
    # Refused by the streaming handler (which never knows the full size), not after spooling.
    assert "文件大小" not in body["errors"][0]
