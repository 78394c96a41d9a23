"""Decision services: transitions, events, notifications, certification dates, experts."""
import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from applications.lifecycle import TransitionNotAllowed
from applications.models import ApplicationEvent, ApplicationStatus as S, Certification, EventKind, MaterialVerdict
from notifications.models import Notification
from reviews import services
from reviews.reasons import RejectionReason
from tests.factories import DiseaseFactory
from tests.reviews.factories import material, submitted_application

pytestmark = pytest.mark.django_db


def test_claim_then_release(shaoyang, sy_reviewer):
    case = submitted_application(region_obj=shaoyang)
    services.application_claim(application_id=case.pk, user=sy_reviewer)
    case.refresh_from_db()
    assert (case.status, case.assignee) == (S.IN_REVIEW, sy_reviewer)
    services.application_release(application_id=case.pk, user=sy_reviewer)
    case.refresh_from_db()
    assert (case.status, case.assignee) == (S.SUBMITTED, None)
    assert list(case.events.values_list("kind", flat=True)) == [EventKind.CLAIMED, EventKind.RELEASED]


def test_claim_taken_by_someone_else_fails(shaoyang, sy_reviewer, sy_reviewer2):
    case = submitted_application(region_obj=shaoyang)
    services.application_claim(application_id=case.pk, user=sy_reviewer)
    with pytest.raises(ValidationError):
        services.application_claim(application_id=case.pk, user=sy_reviewer2)


def test_out_of_scope_staff_cannot_act(shaoyang, lps_reviewer):
    case = submitted_application(region_obj=shaoyang)
    with pytest.raises(type(case).DoesNotExist):
        services.application_claim(application_id=case.pk, user=lps_reviewer)
    with pytest.raises(type(case).DoesNotExist):
        services.application_approve(application_id=case.pk, user=lps_reviewer)


def test_assign_only_to_staff_who_may_see_the_case(shaoyang, sy_reviewer, sy_reviewer2, lps_reviewer):
    case = submitted_application(region_obj=shaoyang)
    with pytest.raises(ValidationError):
        services.application_assign(application_id=case.pk, assignee=lps_reviewer, actor=sy_reviewer)
    services.application_assign(application_id=case.pk, assignee=sy_reviewer2, actor=sy_reviewer)
    case.refresh_from_db()
    assert (case.status, case.assignee) == (S.IN_REVIEW, sy_reviewer2)


def test_reveal_records_who_looked_hidden_from_citizen(shaoyang, sy_reviewer):
    case = submitted_application(region_obj=shaoyang)
    assert services.application_reveal_id_number(application_id=case.pk, user=sy_reviewer) == case.patient.id_number
    event = ApplicationEvent.objects.get(application=case, kind=EventKind.ID_REVEALED)
    assert event.actor == sy_reviewer and event.visible_to_citizen is False


def test_expert_cannot_reveal_or_decide(shaoyang, sy_experts):
    case = submitted_application(region_obj=shaoyang)
    with pytest.raises(PermissionDenied):
        services.application_reveal_id_number(application_id=case.pk, user=sy_experts[0])
    with pytest.raises(PermissionDenied):
        services.application_approve(application_id=case.pk, user=sy_experts[0])


@time_machine.travel(dt.datetime(2026, 11, 20, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False)
@pytest.mark.parametrize(
    ("rule", "months", "end"),
    [
        ("long_term", None, None),
        ("months", 12, dt.date(2027, 11, 20)),
        ("months", 3, dt.date(2027, 2, 20)),
        ("year_end", None, dt.date(2026, 12, 31)),
    ],
)
def test_approve_creates_certification_with_validity(shaoyang, sy_reviewer, rule, months, end):
    disease = DiseaseFactory(region=shaoyang, validity_rule=rule, validity_months=months)
    case = submitted_application(region_obj=shaoyang, disease=disease)
    cert = services.application_approve(application_id=case.pk, user=sy_reviewer)
    case.refresh_from_db()
    assert case.status == S.APPROVED and case.decided_at is not None
    assert cert.begndate == dt.date(2026, 11, 20)
    assert cert.enddate == end
    assert (cert.person, cert.disease, cert.opsp_dise_code, cert.opsp_dise_name) == (
        case.patient, disease, disease.code, disease.name)
    assert cert.ide_fixmedins_name == "邵阳市中心医院"
    assert cert.scheme == case.scheme
    assert Notification.objects.filter(user=case.applicant, template_key="application_approved").exists()
    assert case.events.filter(kind=EventKind.APPROVED, actor=sy_reviewer).exists()


def test_month_end_validity_clamps(shaoyang, sy_reviewer):
    disease = DiseaseFactory(region=shaoyang, validity_rule="months", validity_months=1)
    case = submitted_application(region_obj=shaoyang, disease=disease)
    with time_machine.travel(dt.datetime(2027, 1, 31, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False):
        cert = services.application_approve(application_id=case.pk, user=sy_reviewer)
    assert cert.enddate == dt.date(2027, 2, 28)


def test_second_decision_is_refused(shaoyang, sy_reviewer, sy_reviewer2):
    case = submitted_application(region_obj=shaoyang)
    services.application_approve(application_id=case.pk, user=sy_reviewer)
    with pytest.raises(TransitionNotAllowed):
        services.application_reject(application_id=case.pk, user=sy_reviewer2, reason=RejectionReason.OTHER, note="x")
    assert Certification.objects.filter(application=case).count() == 1


def test_reject_needs_reason_and_notifies(shaoyang, sy_reviewer):
    case = submitted_application(region_obj=shaoyang)
    with pytest.raises(ValidationError):
        services.application_reject(application_id=case.pk, user=sy_reviewer, reason="bogus")
    with pytest.raises(ValidationError):
        services.application_reject(application_id=case.pk, user=sy_reviewer, reason=RejectionReason.OTHER, note=" ")
    services.application_reject(application_id=case.pk, user=sy_reviewer, reason=RejectionReason.HOSPITAL_LEVEL,
                                note="诊断证明由一级医院出具")
    case.refresh_from_db()
    assert case.status == S.REJECTED
    event = case.events.get(kind=EventKind.REJECTED)
    assert event.data["reason_code"] == "hospital_level" and event.data["note"] == "诊断证明由一级医院出具"
    assert event.data["reason"] == "诊断医院级别不符合要求：诊断证明由一级医院出具"
    assert Notification.objects.filter(user=case.applicant, template_key="application_rejected").exists()


def test_supplement_lists_everything_and_stops_the_clock(shaoyang, sy_reviewer):
    case = submitted_application(region_obj=shaoyang)
    good = material(application=case, slot="id_card")
    blurry = material(application=case, slot="diagnosis")
    services.application_request_supplement(
        application_id=case.pk,
        user=sy_reviewer,
        verdicts={good.pk: MaterialVerdict.ACCEPTED, blurry.pk: MaterialVerdict.UNREADABLE},
        verdict_notes={blurry.pk: "公章看不清"},
        extra_items=["近一年出院小结", ""],
        note="请补传",
    )
    case.refresh_from_db()
    good.refresh_from_db()
    blurry.refresh_from_db()
    assert case.status == S.SUPPLEMENT_REQUESTED
    assert case.clock_started_at is None and case.due_at is None
    assert (good.verdict, good.flagged_for_supplement) == (MaterialVerdict.ACCEPTED, False)
    assert (blurry.verdict, blurry.flagged_for_supplement, blurry.verdict_note) == (
        MaterialVerdict.UNREADABLE, True, "公章看不清")
    event = case.events.get(kind=EventKind.SUPPLEMENT_REQUESTED)
    assert event.data["documents"] == [blurry.pk]
    assert event.data["extra_items"] == ["近一年出院小结"]
    # The itemised notice the citizen's page reads: one slot per flagged document, then extras.
    assert [(i["slot"], i["text"]) for i in event.data["items"]] == [
        ("diagnosis", "诊断证明.png：无法辨认，公章看不清"),
        (None, "近一年出院小结"),
    ]
    assert event.visible_to_citizen
    assert Notification.objects.filter(user=case.applicant, template_key="supplement_requested").exists()


def test_supplement_must_request_something(shaoyang, sy_reviewer):
    case = submitted_application(region_obj=shaoyang)
    doc = material(application=case)
    with pytest.raises(ValidationError):
        services.application_request_supplement(application_id=case.pk, user=sy_reviewer,
                                                verdicts={doc.pk: MaterialVerdict.ACCEPTED})
    case.refresh_from_db()
    doc.refresh_from_db()
    assert case.status == S.SUBMITTED and doc.verdict == MaterialVerdict.PENDING  # rolled back


def test_supplement_rejects_a_material_of_another_case(shaoyang, sy_reviewer):
    case = submitted_application(region_obj=shaoyang)
    other = material(application=submitted_application(region_obj=shaoyang))
    with pytest.raises(ValidationError):
        services.application_request_supplement(application_id=case.pk, user=sy_reviewer,
                                                verdicts={other.pk: MaterialVerdict.UNREADABLE})


@pytest.fixture
def expert_region(shaoyang):
    shaoyang.settings.expert_review = True
    shaoyang.settings.save(update_fields=["expert_review"])
    return shaoyang


def test_expert_region_needs_two_agreeing_experts(expert_region, sy_reviewer, sy_experts):
    case = submitted_application(region_obj=expert_region)
    with pytest.raises(ValidationError):
        services.application_approve(application_id=case.pk, user=sy_reviewer)
    services.expert_opinion_record(application_id=case.pk, expert=sy_experts[0], recommendation="approve")
    with pytest.raises(ValidationError):
        services.expert_opinion_record(application_id=case.pk, expert=sy_experts[0], recommendation="approve")
    with pytest.raises(ValidationError):
        services.application_approve(application_id=case.pk, user=sy_reviewer)
    services.expert_opinion_record(application_id=case.pk, expert=sy_experts[1], recommendation="approve")
    services.application_approve(application_id=case.pk, user=sy_reviewer)
    case.refresh_from_db()
    assert case.status == S.APPROVED


def test_disagreeing_experts_escalate_to_supervisor(expert_region, sy_reviewer, sy_supervisor, sy_experts):
    case = submitted_application(region_obj=expert_region)
    services.expert_opinion_record(application_id=case.pk, expert=sy_experts[0], recommendation="approve")
    services.expert_opinion_record(application_id=case.pk, expert=sy_experts[1], recommendation="reject")
    case.refresh_from_db()
    assert case.status == S.ESCALATED
    with pytest.raises(PermissionDenied):
        services.application_approve(application_id=case.pk, user=sy_reviewer)
    services.application_approve(application_id=case.pk, user=sy_supervisor)
    case.refresh_from_db()
    assert case.status == S.APPROVED


def test_opinions_of_an_earlier_round_do_not_count(expert_region, sy_reviewer, sy_experts):
    case = submitted_application(region_obj=expert_region)
    services.expert_opinion_record(application_id=case.pk, expert=sy_experts[0], recommendation="approve")
    services.expert_opinion_record(application_id=case.pk, expert=sy_experts[1], recommendation="approve")
    # A resubmission restarts the clock: a new round (the applications service sets it; simulated).
    type(case).objects.filter(pk=case.pk).update(clock_started_at=case.clock_started_at + dt.timedelta(days=3))
    with pytest.raises(ValidationError):
        services.application_approve(application_id=case.pk, user=sy_reviewer)


def test_groups_are_idempotent():
    from django.contrib.auth.models import Group

    services.staff_groups_ensure()
    services.staff_groups_ensure()
    reviewer = Group.objects.get(name="门特审核员")
    assert reviewer.permissions.filter(codename="decide_application").exists()
    assert Group.objects.get(name="门特主管").permissions.filter(codename="decide_escalated").exists()
    assert not Group.objects.get(name="门特医学专家").permissions.filter(codename="decide_application").exists()


def test_approving_an_extension_extends_the_parent_certification(shaoyang, sy_reviewer, sy_reviewer2):
    disease = DiseaseFactory(region=shaoyang, validity_rule="months", validity_months=12)
    first = submitted_application(region_obj=shaoyang, disease=disease)
    cert = services.application_approve(application_id=first.pk, user=sy_reviewer)
    old_end = cert.enddate
    extension = submitted_application(region_obj=shaoyang, disease=disease, kind="extension", parent=first,
                                      patient=first.patient, applicant=first.applicant)
    result = services.application_approve(application_id=extension.pk, user=sy_reviewer2)
    assert result.pk == cert.pk
    cert.refresh_from_db()
    assert cert.enddate > old_end
    assert Certification.objects.filter(person=first.patient).count() == 1
    assert Notification.objects.filter(template_key="extension_approved", user=first.applicant).exists()


def test_reconsideration_is_decided_by_someone_else(shaoyang, sy_reviewer, sy_reviewer2):
    first = submitted_application(region_obj=shaoyang)
    services.application_reject(application_id=first.pk, user=sy_reviewer, reason=RejectionReason.CRITERIA_NOT_MET)
    again = submitted_application(region_obj=shaoyang, kind="reconsideration", parent=first, patient=first.patient,
                                  applicant=first.applicant, disease=first.disease)
    with pytest.raises(PermissionDenied):
        services.application_approve(application_id=again.pk, user=sy_reviewer)
    services.application_approve(application_id=again.pk, user=sy_reviewer2)
