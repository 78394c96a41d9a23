"""The application page lists the case's material slots, files and timeline: its query count
must not grow with them. (我的申请 itself is pinned in test_views.py.)"""
import pytest
from django.urls import reverse

from applications.models import EventKind
from tests.applications.factories import (
    ApplicationFactory,
    RequiredMaterialFactory,
    UploadedMaterialFactory,
    verified_citizen,
)
from tests.query_counts import assert_same_query_count, page_queries

pytestmark = pytest.mark.django_db


def _slot_with_files(application, files: int):
    slot = RequiredMaterialFactory(disease=application.disease)
    for _ in range(files):
        UploadedMaterialFactory(application=application, slot=slot.code)


def test_application_page_does_not_grow_with_materials_or_events(client):
    user, me = verified_citizen()
    application = ApplicationFactory(applicant=user, patient=me, in_review=True)
    _slot_with_files(application, 1)
    application.events.create(kind=EventKind.SUBMITTED, data={})
    client.force_login(user)
    url = reverse("applications:detail", args=[application.pk])
    few, html = page_queries(client, url)
    assert html.count('<li class="app-file') == 1
    for files in (2, 3, 1):
        _slot_with_files(application, files)
    for kind in (EventKind.CLAIMED, EventKind.SUPPLEMENT_REQUESTED, EventKind.RESUBMITTED):
        application.events.create(kind=kind, data={})
    many, html = page_queries(client, url)
    assert html.count('<li class="app-file') == 7 and html.count("<li><span class=\"muted\">") == 4
    assert_same_query_count(few, many, page=url, rows=(2, 11))
