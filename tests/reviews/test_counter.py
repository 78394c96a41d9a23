"""Counter-assisted filing: staff enter and submit a walk-in citizen's application."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from applications.models import Application, ApplicationStatus as S, EntryChannel, EventKind
from catalog.models import RequiredMaterial
from notifications.models import Notification
from tests.factories import DiseaseFactory, InstitutionFactory, make_id_number

pytestmark = pytest.mark.django_db


def _scan(name="诊断证明.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (230, 230, 230)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def disease(shaoyang):
    disease = DiseaseFactory(region=shaoyang)
    RequiredMaterial.objects.create(disease=disease, code="diagnosis", name="疾病诊断证明书")
    return disease


def _post(client, disease, **overrides):
    hospital = InstitutionFactory(region=disease.region)
    data = {
        "full_name": "王秀兰",
        "id_number": make_id_number(address="430502", birth="19500101", sequence=77),
        "phone": "13912345678",
        "scheme": disease.schemes.first().pk,
        "diagnosis": "原发性高血压",
        "diagnosing_institution": hospital.pk,
        "diagnosis_date": "2026-10-01",
        "designated_institution": hospital.pk,
        "file_diagnosis": _scan(),
    }
    data.update(overrides)
    return client.post(f"{reverse('reviews:counter_new')}?disease={disease.pk}", data)


def test_counter_filing_submits_and_notifies(mfa_login, sy_reviewer, disease):
    response = _post(mfa_login(sy_reviewer), disease)
    assert response.status_code == 302, response.content.decode()[-3000:]
    case = Application.objects.get()
    assert case.status == S.SUBMITTED and case.acceptance_number.startswith("430500-")
    assert (case.entry_channel, case.entered_by) == (EntryChannel.COUNTER, sy_reviewer)
    assert case.due_at and case.clock_started_at
    assert case.applicant.phone == "13912345678" and not case.applicant.is_staff
    assert case.materials.get().uploaded_by == sy_reviewer
    assert case.events.get(kind=EventKind.SUBMITTED).actor == sy_reviewer
    assert Notification.objects.filter(user=case.applicant, template_key="application_submitted").exists()
    assert response["Location"] == reverse("admin:applications_application_change", args=[case.pk])


def test_counter_filing_lists_missing_scans(mfa_login, sy_reviewer, disease):
    response = _post(mfa_login(sy_reviewer), disease, file_diagnosis="")
    assert response.status_code == 200
    assert "缺少材料：疾病诊断证明书" in response.content.decode()
    assert not Application.objects.exists()


def test_counter_filing_outside_scope_is_refused(mfa_login, lps_reviewer, disease):
    client = mfa_login(lps_reviewer)
    page = client.get(reverse("reviews:counter_new")).content.decode()
    assert disease.name not in page  # the 邵阳 disease is not offered
    _post(client, disease)
    assert not Application.objects.exists()


def test_experts_cannot_file_at_the_counter(mfa_login, sy_experts):
    assert mfa_login(sy_experts[0]).get(reverse("reviews:counter_new")).status_code == 403
