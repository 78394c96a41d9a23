"""Staff pages that list rows outside the changelists (tests/test_admin_query_counts.py): the
counter form's disease list, the supervision dashboard, the queue's CSV export and the decision
page's materials, timeline and expert opinions."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from applications.models import ApplicationEvent, ApplicationStatus as S, EventKind
from reviews.models import ExpertOpinion, Recommendation
from reviews.roles import StaffRole
from tests.applications.factories import CriterionFactory, RequiredMaterialFactory
from tests.factories import DiseaseFactory, InstitutionFactory
from tests.query_counts import assert_same_query_count, page_queries
from tests.reviews.factories import material, staff_user, submitted_application

pytestmark = pytest.mark.django_db


def test_counter_form_does_not_grow_with_diseases(mfa_login, sy_reviewer, shaoyang):
    DiseaseFactory(region=shaoyang)
    client = mfa_login(sy_reviewer)
    url = reverse("reviews:counter_new")
    few, html = page_queries(client, url)
    assert html.count("邵阳市 · ") == 1
    DiseaseFactory.create_batch(4, region=shaoyang)
    many, html = page_queries(client, url)
    assert html.count("邵阳市 · ") == 5
    assert_same_query_count(few, many, page=url, rows=(1, 5))


def _decided_case(region, reviewer):
    """An approved case of its own disease and hospital, with the decision event by ``reviewer``."""
    submitted = timezone.now() - dt.timedelta(days=3)
    case = submitted_application(
        region_obj=region, status=S.APPROVED, submitted_at=submitted, decided_at=timezone.now(),
        diagnosing_institution=InstitutionFactory(region=region),
    )
    ApplicationEvent.objects.create(application=case, kind=EventKind.APPROVED, actor=reviewer,
                                    from_status=S.IN_REVIEW, to_status=S.APPROVED)
    submitted_application(region_obj=region)  # and one still open
    return case


def test_dashboard_does_not_grow_with_cases_regions_or_organisations(
    mfa_login, sy_org, sy_supervisor, sy_reviewer, shaoyang, xuchang, liupanshui, xc_org, lps_org
):
    _decided_case(shaoyang, sy_reviewer)
    client = mfa_login(sy_supervisor)
    url = reverse("admin:reviews_dashboard")
    few, html = page_queries(client, url)
    assert "许昌市" not in html
    sy_org.regions.add(xuchang, liupanshui)
    for place, org in ((shaoyang, sy_org), (xuchang, xc_org), (liupanshui, lps_org)):
        for _ in range(2):
            _decided_case(place, staff_user(organisation=org))
    many, html = page_queries(client, url)
    assert "许昌市" in html and "六盘水市" in html
    assert_same_query_count(few, many, page=url, rows=(2, 14))


def test_csv_export_does_not_grow_with_cases(mfa_login, sy_reviewer, sy_reviewer2, shaoyang):
    submitted_application(region_obj=shaoyang, assignee=sy_reviewer2, status=S.IN_REVIEW)
    client = mfa_login(sy_reviewer)
    url = reverse("admin:reviews_export")
    few, body = page_queries(client, url)
    assert len(body.splitlines()) == 2
    for i in range(5):
        submitted_application(region_obj=shaoyang, disease=DiseaseFactory(region=shaoyang),
                              assignee=sy_reviewer2 if i % 2 else None)
    many, body = page_queries(client, url)
    assert len(body.splitlines()) == 7
    assert_same_query_count(few, many, page=url, rows=(1, 6))


def _review_rows(case, experts):
    """One more of everything the decision page lists: a required material and its upload, an
    entry criterion, an event by a staff member and an expert opinion of the current round."""
    required = RequiredMaterialFactory(disease=case.disease)
    CriterionFactory(disease=case.disease)
    material(application=case, slot=required.code)
    expert = staff_user(organisation=experts, roles=(StaffRole.EXPERT,))
    ApplicationEvent.objects.create(application=case, kind=EventKind.CLAIMED, actor=expert)
    ExpertOpinion.objects.create(application=case, expert=expert, round_started_at=case.clock_started_at,
                                 recommendation=Recommendation.APPROVE)


def test_decision_page_does_not_grow_with_materials_events_or_opinions(mfa_login, sy_org, sy_reviewer, shaoyang):
    shaoyang.settings.expert_review = True
    shaoyang.settings.save(update_fields=["expert_review"])
    case = submitted_application(region_obj=shaoyang, status=S.IN_REVIEW, assignee=sy_reviewer)
    _review_rows(case, sy_org)
    client = mfa_login(sy_reviewer)
    url = reverse("admin:applications_application_change", args=[case.pk])
    few, html = page_queries(client, url)
    assert html.count('class="review-material"') == 1 and html.count("同意认定") == 1
    for _ in range(3):
        _review_rows(case, sy_org)
    many, html = page_queries(client, url)
    assert html.count('class="review-material"') == 4 and html.count("同意认定") == 4
    assert_same_query_count(few, many, page=url, rows=(5, 20))
