"""Supervision: dashboard figures and the daily overdue digest."""
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from reviews import services
from reviews.dashboard import dashboard_build
from reviews.reasons import RejectionReason
from reviews.roles import StaffRole
from reviews.selectors import application_list_for_staff
from tests.factories import InstitutionFactory
from tests.reviews.factories import staff_user, submitted_application

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def test_dashboard_figures(shaoyang, sy_reviewer, sy_supervisor):
    hospital = InstitutionFactory(region=shaoyang, name="邵阳市第一人民医院")
    start = dt.datetime(2026, 11, 16, 9, tzinfo=TZ)  # a Monday, office opens 08:30
    fast = submitted_application(region_obj=shaoyang, submitted_at=start, diagnosing_institution=hospital)
    slow = submitted_application(region_obj=shaoyang, submitted_at=start, diagnosing_institution=hospital,
                                 disease=fast.disease)
    with time_machine.travel(dt.datetime(2026, 11, 17, 9, tzinfo=TZ), tick=False):  # 1 working day
        services.application_approve(application_id=fast.pk, user=sy_reviewer)
    with time_machine.travel(dt.datetime(2026, 11, 26, 9, tzinfo=TZ), tick=False):  # 8 working days: late
        services.application_reject(application_id=slow.pk, user=sy_reviewer, reason=RejectionReason.OTHER, note="x")
    submitted_application(region_obj=shaoyang, due_at=timezone.now() - dt.timedelta(hours=2))  # overdue now
    data = dashboard_build(cases=application_list_for_staff(user=sy_supervisor))
    assert data.overdue_now == 1 and data.open_now == 1
    assert data.median_days == Decimal("4.50")  # median of 1 and 8 working days
    assert [(b.label, b.value) for b in data.compliance_by_region] == [("邵阳市", 50.0)]
    assert [(b.label, b.value) for b in data.compliance_by_organisation] == [("邵阳市中心医院", 50.0)]
    assert [(b.label, b.value) for b in data.approval_by_disease] == [(fast.disease.name, 50.0)]
    assert [(b.label, b.value) for b in data.approval_by_hospital] == [("邵阳市第一人民医院", 50.0)]


def test_dashboard_page_needs_supervisor(mfa_login, sy_reviewer, sy_supervisor, shaoyang):
    submitted_application(region_obj=shaoyang)
    assert mfa_login(sy_reviewer).get(reverse("admin:reviews_dashboard")).status_code == 403
    body = mfa_login(sy_supervisor).get(reverse("admin:reviews_dashboard")).content.decode()
    assert "监督看板" in body and "<svg" in body and "2027" in body  # the calendar warning


def test_overdue_digest_goes_to_supervisors_once_per_day(shaoyang, liupanshui, sy_supervisor, sy_reviewer, lps_org):
    lps_supervisor = staff_user(organisation=lps_org, roles=(StaffRole.SUPERVISOR,), username="lps_sup")
    now = dt.datetime(2026, 11, 23, 8, tzinfo=TZ)  # a Monday
    for _ in range(2):
        submitted_application(region_obj=shaoyang, due_at=now - dt.timedelta(hours=1))
    submitted_application(region_obj=liupanshui, due_at=now + dt.timedelta(days=1))  # not overdue
    assert services.overdue_digest_send(now=now) == 1
    assert services.overdue_digest_send(now=now) == 0  # idempotent within the day
    note = Notification.objects.get(template_key="reviews_overdue_digest")
    assert note.user == sy_supervisor and note.params == {"count": 2}
    assert not Notification.objects.filter(user__in=[sy_reviewer, lps_supervisor]).exists()


def test_no_digest_on_rest_days(shaoyang, sy_supervisor):
    now = dt.datetime(2026, 10, 3, 8, tzinfo=TZ)  # National Day holiday
    submitted_application(region_obj=shaoyang, due_at=now - dt.timedelta(hours=1))
    assert services.overdue_digest_send(now=now) == 0


def test_digest_task_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reviews-overdue-digest"]
    from portal.celery import app

    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


def test_a_zero_median_is_shown_as_zero(mfa_login, sy_reviewer, sy_supervisor, shaoyang):
    sunday = dt.datetime(2026, 11, 22, 10, tzinfo=TZ)
    case = submitted_application(region_obj=shaoyang, submitted_at=sunday)
    with time_machine.travel(sunday + dt.timedelta(hours=1), tick=False):
        services.application_approve(application_id=case.pk, user=sy_reviewer)  # decided on a rest day
    body = mfa_login(sy_supervisor).get(reverse("admin:reviews_dashboard")).content.decode()
    assert 'data-testid="median">0.00<' in body
