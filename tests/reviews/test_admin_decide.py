"""Deciding a case through the admin change view, over HTTP."""
import pytest
from django.urls import reverse

from applications.models import ApplicationEvent, ApplicationStatus as S, Certification, EventKind, MaterialVerdict
from tests.reviews.factories import material, submitted_application

pytestmark = pytest.mark.django_db


def _url(case):
    return reverse("admin:applications_application_change", args=[case.pk])


def test_review_page_shows_summary_materials_and_standard(mfa_login, sy_reviewer, shaoyang):
    case = submitted_application(region_obj=shaoyang)
    image = material(application=case, slot="id_card")
    pdf = material(application=case, slot="diagnosis", pdf=True)
    body = mfa_login(sy_reviewer).get(_url(case)).content.decode()
    assert case.acceptance_number in body
    assert case.patient.id_number not in body
    assert case.patient.id_number[:6] + "********" + case.patient.id_number[-4:] in body
    assert case.disease.entry_standard in body
    assert f'<img src="{reverse("admin:reviews_material", args=[case.pk, image.pk])}"' in body
    assert f'<iframe src="{reverse("admin:reviews_material", args=[case.pk, pdf.pk])}"' in body


def test_pdf_may_be_framed_by_the_review_page_only(mfa_login, sy_reviewer, shaoyang):
    case = submitted_application(region_obj=shaoyang)
    pdf = material(application=case, pdf=True)
    response = mfa_login(sy_reviewer).get(reverse("admin:reviews_material", args=[case.pk, pdf.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert "sandbox" in response["Content-Security-Policy"]


def test_reveal_shows_id_once_and_records_who_looked(mfa_login, sy_reviewer, shaoyang):
    case = submitted_application(region_obj=shaoyang)
    client = mfa_login(sy_reviewer)
    response = client.post(_url(case), {"action": "reveal"})
    assert response.status_code == 200
    assert case.patient.id_number in response.content.decode()
    event = ApplicationEvent.objects.get(application=case, kind=EventKind.ID_REVEALED)
    assert event.actor == sy_reviewer and not event.visible_to_citizen
    # The next plain view is masked again.
    assert case.patient.id_number not in client.get(_url(case)).content.decode()


def test_claim_supplement_then_approve_over_http(mfa_login, sy_reviewer, shaoyang):
    case = submitted_application(region_obj=shaoyang)
    good = material(application=case, slot="id_card")
    bad = material(application=case, slot="diagnosis")
    client = mfa_login(sy_reviewer)
    client.post(_url(case), {"action": "claim"})
    case.refresh_from_db()
    assert case.status == S.IN_REVIEW and case.assignee == sy_reviewer
    response = client.post(_url(case), {
        "action": "supplement",
        f"supplement-verdict_{good.pk}": MaterialVerdict.ACCEPTED,
        f"supplement-verdict_{bad.pk}": MaterialVerdict.MISSING_STAMP,
        f"supplement-verdict_note_{bad.pk}": "无医院公章",
        "supplement-extra_items": "近一年门诊病历\n",
        "supplement-note": "",
    }, follow=True)
    assert "已一次性告知申请人补正" in response.content.decode()
    case.refresh_from_db()
    bad.refresh_from_db()
    assert case.status == S.SUPPLEMENT_REQUESTED and case.due_at is None
    assert bad.verdict == MaterialVerdict.MISSING_STAMP and bad.flagged_for_supplement
    # While the applicant holds the case, nothing can be decided.
    response = client.post(_url(case), {"action": "approve"}, follow=True)
    assert "不能变为" in response.content.decode()
    # Resubmission (the applications engineer's service) hands it back; simulated here.
    type(case).objects.filter(pk=case.pk).update(status=S.SUBMITTED)
    client.post(_url(case), {"action": "approve"})
    case.refresh_from_db()
    assert case.status == S.APPROVED
    assert Certification.objects.filter(application=case).exists()


def test_reject_over_http_requires_a_reason(mfa_login, sy_reviewer, shaoyang):
    case = submitted_application(region_obj=shaoyang)
    client = mfa_login(sy_reviewer)
    response = client.post(_url(case), {"action": "reject", "reject-reason": "", "reject-note": ""}, follow=True)
    assert "不通过原因" in response.content.decode()  # the form's error is reported
    case.refresh_from_db()
    assert case.status == S.SUBMITTED
    client.post(_url(case), {"action": "reject", "reject-reason": "criteria_not_met", "reject-note": "血压记录不足"})
    case.refresh_from_db()
    assert case.status == S.REJECTED


def test_expert_records_opinion_over_http(mfa_login, sy_experts, shaoyang):
    shaoyang.settings.expert_review = True
    shaoyang.settings.save(update_fields=["expert_review"])
    case = submitted_application(region_obj=shaoyang)
    client = mfa_login(sy_experts[0])
    body = client.get(_url(case)).content.decode()
    assert 'value="opinion"' in body and 'name="action" value="approve"' not in body  # experts do not decide
    client.post(_url(case), {"action": "opinion", "opinion-recommendation": "approve", "opinion-note": "符合"})
    assert case.expert_opinions.get().expert == sy_experts[0]


def test_timeline_is_read_only_and_complete(mfa_login, sy_reviewer, shaoyang):
    case = submitted_application(region_obj=shaoyang)
    client = mfa_login(sy_reviewer)
    client.post(_url(case), {"action": "claim"})
    client.post(_url(case), {"action": "release"})
    body = client.get(_url(case)).content.decode()
    assert "开始审核" in body and "退回队列" in body
