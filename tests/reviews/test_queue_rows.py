"""The review queue's row columns are plain strings (a page lists 100 cases): they must show what
Django's own columns showed, and the list must not read the encrypted columns it never shows."""
import datetime as dt
import re

import pytest
from django.contrib import admin
from django.contrib.admin.sites import site
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.views.main import ChangeList
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from applications.models import Application, ApplicationStatus as S
from reviews import queue_rows
from reviews.admin import ApplicationAdmin
from reviews.templatetags import review_queue
from tests.factories import UserFactory
from tests.reviews.factories import region, staff_user, submitted_application

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


# --- the rows built a column at a time (reviews.queue_rows) -------------------------------------

def _page_html(client, url):
    html = client.get(url).content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", html)
    return re.sub(r'nonce="[^"]+"', "nonce", html)


@pytest.mark.parametrize("query", ["", "?status__exact=in_review", "?status__exact=in_review&o=-6"])
def test_the_queue_page_is_the_page_djangos_own_rows_and_links_render(mfa_login, sy_reviewer, shaoyang, monkeypatch,
                                                                      query):
    """Byte for byte, with the filters carried in each row's link: the same page with Django's
    ChangeList and ``admin_list.results`` put back."""
    now = timezone.now()
    submitted_application(region_obj=shaoyang, status=S.IN_REVIEW, assignee=sy_reviewer)
    submitted_application(region_obj=shaoyang, status=S.IN_REVIEW, submitted_at=now - dt.timedelta(days=60))
    submitted_application(region_obj=shaoyang, status=S.SUBMITTED)
    submitted_application(region_obj=shaoyang, status=S.APPROVED, disease=None)
    client = mfa_login(sy_reviewer)
    url = reverse("admin:applications_application_changelist") + query
    ours = _page_html(client, url)

    class DjangosChangeList(ChangeList):
        def get_queryset(self, request, exclude_parameters=None):  # the same rows: only the links differ
            return super().get_queryset(request, exclude_parameters).defer("diagnosis", "patient__id_number")

    monkeypatch.setattr(ApplicationAdmin, "get_changelist", lambda self, request, **kwargs: DjangosChangeList)
    monkeypatch.setattr(review_queue, "queue_result_rows", lambda cl: list(admin_list.results(cl)))
    djangos = _page_html(client, url)
    assert ours == djangos
    assert ours.count('class="action-select"') == (4 if not query else 2)
    if query:
        assert "_changelist_filters=status__exact%3Din_review" in ours


def test_every_admin_changelist_gets_djangos_rows_from_queue_rows(rf):
    """The column-at-a-time rows are general: on every registered changelist (the world of the
    query-count tests, with and without a preserved filter) they are Django's rows, whether the
    fast path covers the columns or hands the page back to Django."""
    from tests.test_admin_query_counts import REGISTRY, world_add

    world_add(home=region("430500"), unit=1)
    superuser = UserFactory(is_superuser=True, staff=True)
    fast, django_path = set(), set()
    for model, model_admin in REGISTRY:
        path = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for query in ("", "?o=-1"):
            request = rf.get(path + query)
            request.user, request.resolver_match = superuser, resolve(path)
            changelist = model_admin.get_changelist_instance(request)
            changelist.formset = None  # as changelist_view leaves it without list_editable
            assert changelist.result_list, f"{model._meta.label} lists no rows in the test world"
            ours = ["".join(row) for row in queue_rows.queue_result_rows(changelist)]
            djangos = ["".join(row) for row in admin_list.results(changelist)]
            assert ours == djangos, model._meta.label
            (fast if queue_rows._cells(changelist) is not None else django_path).add(model._meta.label)
    assert "applications.Application" in fast and "applications.Certification" in fast
    assert django_path, "no changelist took Django's path: the fallback is untested"


def test_a_related_row_that_is_gone_shows_the_empty_value_as_django_does(mfa_login, sy_reviewer, shaoyang, rf):
    case = submitted_application(region_obj=shaoyang, status=S.IN_REVIEW)
    request = rf.get(reverse("admin:applications_application_changelist"))
    request.user = staff_user(superuser=True)
    changelist = site._registry[Application].get_changelist_instance(request)
    changelist.formset = None
    changelist.result_list = [r for r in changelist.result_list if r.pk == case.pk]
    (row,) = changelist.result_list
    # What a row whose patient went missing looks like to the column code.
    row._state.fields_cache.pop("patient", None)
    row.patient_id = 10**9
    (ours,) = ["".join(cells) for cells in queue_rows.queue_result_rows(changelist)]
    djangos = "".join(admin_list.items_for_result(changelist, row, None))
    assert ours == djangos and 'class="field-patient_masked">-</td>' in ours
