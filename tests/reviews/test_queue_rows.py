"""The review queue's row columns are plain strings (a page lists 100 cases): they must show what
Django's own columns showed, and the list must not read the encrypted columns it never shows."""
import pytest
from django.contrib import admin
from django.contrib.admin.sites import site
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.models import Application, ApplicationStatus as S
from tests.reviews.factories import submitted_application

pytestmark = pytest.mark.django_db


def test_the_checkbox_column_is_the_markup_django_renders(shaoyang):
    case = submitted_application(region_obj=shaoyang)
    queue = site._registry[Application]
    assert queue.action_checkbox(case) == admin.ModelAdmin.action_checkbox(queue, case)


def test_the_queue_lists_times_in_local_minutes_and_never_selects_id_numbers_or_diagnoses(
    mfa_login, sy_reviewer, shaoyang
):
    case = submitted_application(region_obj=shaoyang, diagnosis="2型糖尿病伴肾病")
    client = mfa_login(sy_reviewer)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("admin:applications_application_changelist")).content.decode()
    listing = [q["sql"] for q in ctx.captured_queries
               if q["sql"].startswith('SELECT "applications_application"."id"') and '"applications_person"' in q["sql"]]
    assert listing, "the list query was not captured"
    assert all('"id_number"' not in sql and '"diagnosis"' not in sql for sql in listing)
    assert case.acceptance_number in html
    assert timezone.localtime(case.submitted_at).strftime("%Y-%m-%d %H:%M") in html
    assert timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M") in html
    assert "2型糖尿病伴肾病" not in html and case.patient.id_number not in html


def test_exporting_selected_rows_prints_masked_id_numbers_without_a_query_per_row(mfa_login, sy_reviewer, shaoyang):
    """The action's queryset starts from the list's, which skips the ID number: the export must ask
    for it again in its one query, not once per row."""
    cases = [submitted_application(region_obj=shaoyang, status=S.IN_REVIEW) for _ in range(2)]
    client = mfa_login(sy_reviewer)
    url = reverse("admin:applications_application_changelist")

    def export(selected):
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(url, {"action": "export_selected_csv", "_selected_action": [c.pk for c in selected],
                                         "index": 0})
            body = b"".join(response.streaming_content).decode("utf-8-sig")
        return len(ctx.captured_queries), body

    one, body = export(cases[:1])
    assert cases[0].patient.id_number[-4:] in body and cases[0].patient.id_number not in body
    cases += [submitted_application(region_obj=shaoyang, status=S.IN_REVIEW) for _ in range(4)]
    six, body = export(cases)
    assert len(body.splitlines()) == 7
    assert all(c.patient.id_number[-4:] in body and c.patient.id_number not in body for c in cases)
    assert six == one
