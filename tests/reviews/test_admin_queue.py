"""The queue over HTTP: columns, filters, search, bulk actions, query counts, no full COUNT(*)."""
import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.models import ApplicationStatus as S
from tests.reviews.factories import submitted_application

pytestmark = pytest.mark.django_db
QUEUE = "admin:applications_application_changelist"


def _listed(client, **params):
    response = client.get(reverse(QUEUE), params)
    assert response.status_code == 200
    return [app.pk for app in response.context["cl"].result_list]


def test_columns_show_masked_name_and_badges(mfa_login, sy_reviewer, shaoyang):
    now = timezone.now()
    overdue = submitted_application(region_obj=shaoyang, due_at=now - dt.timedelta(hours=1))
    body = mfa_login(sy_reviewer).get(reverse(QUEUE)).content.decode()
    assert overdue.acceptance_number in body
    assert overdue.patient.full_name not in body  # only the masked name
    assert overdue.patient.full_name[0] + "*" in body
    assert "review-badge--overdue" in body
    assert overdue.patient.id_number not in body


def test_deadline_and_assignee_filters(mfa_login, sy_reviewer, sy_reviewer2, shaoyang):
    now = timezone.now()
    overdue = submitted_application(region_obj=shaoyang, due_at=now - dt.timedelta(minutes=1))
    later = submitted_application(region_obj=shaoyang, due_at=now + dt.timedelta(days=10))
    mine = submitted_application(region_obj=shaoyang, status=S.IN_REVIEW, assignee=sy_reviewer,
                                 due_at=now + dt.timedelta(days=10))
    theirs = submitted_application(region_obj=shaoyang, status=S.IN_REVIEW, assignee=sy_reviewer2,
                                   due_at=now + dt.timedelta(days=10))
    client = mfa_login(sy_reviewer)
    assert _listed(client, deadline="overdue") == [overdue.pk]
    assert set(_listed(client, deadline="on_time")) == {later.pk, mine.pk, theirs.pk}
    assert _listed(client, assigned="me") == [mine.pk]
    assert set(_listed(client, assigned="none")) == {overdue.pk, later.pk}
    assert _listed(client, status="in_review", assigned="me") == [mine.pk]


def test_due_today_filter(mfa_login, sy_reviewer, shaoyang):
    now = timezone.localtime()
    end_of_day = now.replace(hour=23, minute=59, second=0)
    if end_of_day <= now + dt.timedelta(minutes=1):
        pytest.skip("too close to midnight to place a case later today")
    today = submitted_application(region_obj=shaoyang, due_at=end_of_day)
    submitted_application(region_obj=shaoyang, due_at=now + dt.timedelta(days=3))
    assert _listed(mfa_login(sy_reviewer), deadline="due_today") == [today.pk]


def test_search_by_acceptance_number_exact_or_prefix_never_id_number(mfa_login, sy_reviewer, shaoyang):
    a = submitted_application(region_obj=shaoyang)
    b = submitted_application(region_obj=shaoyang)
    client = mfa_login(sy_reviewer)
    assert _listed(client, q=a.acceptance_number) == [a.pk]
    assert set(_listed(client, q=a.acceptance_number[:15])) >= {a.pk, b.pk}
    assert _listed(client, q=a.patient.id_number) == []
    assert _listed(client, q=a.patient.full_name) == []


def test_bulk_claim_release_assign(mfa_login, sy_reviewer, sy_reviewer2, shaoyang):
    cases = [submitted_application(region_obj=shaoyang) for _ in range(3)]
    client = mfa_login(sy_reviewer)
    ids = [str(c.pk) for c in cases]
    client.post(reverse(QUEUE), {"action": "claim_selected", "_selected_action": ids})
    for c in cases:
        c.refresh_from_db()
        assert (c.status, c.assignee) == (S.IN_REVIEW, sy_reviewer)
    client.post(reverse(QUEUE), {"action": "assign_selected", "_selected_action": ids[:1], "assignee": "sy_reviewer2"})
    cases[0].refresh_from_db()
    assert cases[0].assignee == sy_reviewer2
    client.post(reverse(QUEUE), {"action": "release_selected", "_selected_action": ids[1:]})
    for c in cases[1:]:
        c.refresh_from_db()
        assert (c.status, c.assignee) == (S.SUBMITTED, None)


def test_bulk_claim_reports_cases_taken_by_others(mfa_login, sy_reviewer, sy_reviewer2, shaoyang):
    taken = submitted_application(region_obj=shaoyang, status=S.IN_REVIEW, assignee=sy_reviewer2)
    response = mfa_login(sy_reviewer).post(
        reverse(QUEUE), {"action": "claim_selected", "_selected_action": [str(taken.pk)]}, follow=True
    )
    assert "已由" in response.content.decode()
    taken.refresh_from_db()
    assert taken.assignee == sy_reviewer2


def _queries_for_queue(client) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse(QUEUE)).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_query_count_is_the_same_for_1_and_100_rows(mfa_login, sy_reviewer, shaoyang, sy_reviewer2):
    client = mfa_login(sy_reviewer)
    submitted_application(region_obj=shaoyang, assignee=sy_reviewer2, status=S.IN_REVIEW)
    one = _queries_for_queue(client)
    for i in range(99):
        submitted_application(region_obj=shaoyang, assignee=sy_reviewer2 if i % 2 else None,
                              status=S.IN_REVIEW if i % 2 else S.SUBMITTED)
    hundred = _queries_for_queue(client)
    assert len(one) == len(hundred), "\n".join(hundred)


def test_no_full_table_count(mfa_login, sy_reviewer, shaoyang):
    submitted_application(region_obj=shaoyang)
    queries = _queries_for_queue(mfa_login(sy_reviewer))
    counts = [q for q in queries if "COUNT(" in q.upper() and "applications_application" in q]
    assert counts, "the paginator still counts (capped)"
    for sql in counts:
        assert "LIMIT" in sql.upper(), f"uncapped count: {sql}"


def test_export_follows_the_queue_filters(mfa_login, sy_reviewer, shaoyang):
    now = timezone.now()
    overdue = submitted_application(region_obj=shaoyang, due_at=now - dt.timedelta(hours=1))
    later = submitted_application(region_obj=shaoyang, due_at=now + dt.timedelta(days=5))
    response = mfa_login(sy_reviewer).get(reverse("admin:reviews_export"), {"deadline": "overdue"})
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert overdue.acceptance_number in body and later.acceptance_number not in body
    assert "已超期" in body and overdue.patient.full_name not in body


def test_date_drill_down_never_aggregates_over_the_queue(mfa_login, sy_reviewer, shaoyang):
    """The year → month → day links come from the calendar: Django's own date_hierarchy would run
    DISTINCT DATE_TRUNC / MIN / MAX over the whole scope (most of the page at a million cases)."""
    today = timezone.localdate()
    this_month = submitted_application(region_obj=shaoyang)
    last_year = submitted_application(region_obj=shaoyang)
    from applications.models import Application

    Application.objects.filter(pk=last_year.pk).update(submitted_at=timezone.now() - dt.timedelta(days=400))
    client = mfa_login(sy_reviewer)
    for params in ({}, {"submitted_at__year": today.year}, {"submitted_at__year": today.year, "submitted_at__month": today.month}):
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(reverse(QUEUE), params).content.decode()
        aggregates = [q["sql"] for q in ctx.captured_queries if re.search(r"DATE_TRUNC|MIN\(|MAX\(", q["sql"], re.I)]
        assert not aggregates, aggregates
    assert f"submitted_at__year={today.year}" in client.get(reverse(QUEUE)).content.decode()
    assert _listed(client, submitted_at__year=today.year, submitted_at__month=today.month) == [this_month.pk]
    assert last_year.pk in _listed(client, submitted_at__year=(timezone.localdate() - dt.timedelta(days=400)).year)
    assert "submitted_at__day=1" in body  # the month view lists its days
