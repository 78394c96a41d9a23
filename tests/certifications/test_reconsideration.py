import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from applications.models import ApplicationEvent, ApplicationKind, ApplicationStatus, EventKind
from catalog.working_days import add_working_time
from certifications import selectors, services
from tests.certifications.factories import ApplicationFactory, citizen

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db
REASON = "诊断证明已加盖公章，请重新审核"


def at(day: str, time: str = "10:00"):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SH), tick=False)


@pytest.fixture
def reviewer(django_user_model):
    return django_user_model.objects.create(username="reviewer-1", is_staff=True)


@pytest.fixture
def rejected(owner, region, reviewer):
    user, person = owner
    application = ApplicationFactory(
        rejected=True, applicant=user, patient=person, region=region, assignee=reviewer,
        decided_at=dt.datetime(2026, 3, 2, 16, 0, tzinfo=SH),  # a Monday
    )
    ApplicationEvent.objects.create(application=application, kind=EventKind.REJECTED, actor=reviewer,
                                    from_status="in_review", to_status="rejected")
    return application


def test_last_day_of_the_window_allowed_with_five_working_days(rejected, owner):
    user, _ = owner
    assert selectors.reconsideration_last_day(application=rejected) == dt.date(2026, 5, 1)  # 60 days
    with at("2026-05-01", "23:00"):
        case = services.reconsideration_request(application=rejected, user=user, reason=REASON)
        expected_due = add_working_time(start=case.submitted_at, days=5, settings=rejected.region.settings)
    assert (case.kind, case.parent_id, case.status) == (ApplicationKind.RECONSIDERATION, rejected.pk, ApplicationStatus.SUBMITTED)
    assert case.due_at == expected_due
    assert case.events.get(kind=EventKind.SUBMITTED).data["reason"] == REASON
    with at("2026-05-01", "23:30"), pytest.raises(ValidationError) as again:
        services.reconsideration_request(application=rejected, user=user, reason=REASON)
    assert again.value.code == "exists"


def test_day_after_the_window_refused(rejected, owner):
    user, _ = owner
    with at("2026-05-02", "00:00"), pytest.raises(ValidationError) as error:
        services.reconsideration_request(application=rejected, user=user, reason=REASON)
    assert error.value.code == "too_late"


def test_only_rejected_cases_and_only_their_people(rejected, owner, region):
    user, person = owner
    approved = ApplicationFactory(applicant=user, patient=person, region=region)
    with at("2026-03-03"):
        with pytest.raises(ValidationError) as not_rejected:
            services.reconsideration_request(application=approved, user=user, reason=REASON)
        assert not_rejected.value.code == "not_rejected"
        stranger, _ = citizen()
        with pytest.raises(ValidationError):
            services.reconsideration_request(application=rejected, user=stranger, reason=REASON)
        with pytest.raises(ValidationError):
            services.reconsideration_request(application=rejected, user=user, reason="不服")  # too short


def test_the_original_reviewer_is_excluded(rejected, owner, reviewer, django_user_model):
    user, _ = owner
    expert = django_user_model.objects.create(username="expert-1", is_staff=True)
    ApplicationEvent.objects.create(application=rejected, kind=EventKind.EXPERT_OPINION, actor=expert)
    colleague = django_user_model.objects.create(username="reviewer-2", is_staff=True)
    with at("2026-03-03"):
        case = services.reconsideration_request(application=rejected, user=user, reason=REASON)
    assert selectors.reconsideration_reviewer_allowed(application=case, user=reviewer) is False
    assert selectors.reconsideration_reviewer_allowed(application=case, user=expert) is False
    assert selectors.reconsideration_reviewer_allowed(application=case, user=colleague) is True
    # Any other kind of case: no restriction.
    assert selectors.reconsideration_reviewer_allowed(application=rejected, user=reviewer) is True


def test_assignee_without_events_is_still_the_original_reviewer(rejected, owner, django_user_model):
    user, _ = owner
    other = django_user_model.objects.create(username="assignee-x", is_staff=True)
    rejected.assignee = other
    rejected.save(update_fields=["assignee"])
    with at("2026-03-03"):
        case = services.reconsideration_request(application=rejected, user=user, reason=REASON)
    assert selectors.reconsideration_reviewer_allowed(application=case, user=other) is False
