"""The application page (material slots, files, timeline) and the wizard's steps (whom to apply
for, regions, schemes, diseases and their criteria, hospitals, uploads) list rows: their query
counts must not grow with them. (我的申请 itself is pinned in test_views.py.)"""
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from applications import selectors
from applications.models import SUPPLEMENT_EXTRA_SLOT, EventKind
from tests.applications.factories import (
    ApplicationFactory,
    CriterionFactory,
    HouseholdMemberFactory,
    RequiredMaterialFactory,
    UploadedMaterialFactory,
    supplement_request,
    verified_citizen,
)
from tests.factories import DiseaseFactory, InstitutionFactory, PersonFactory, RegionFactory, SchemeFactory
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


def test_a_case_awaiting_a_supplement_reads_no_more_than_another(client):
    """The notice and the slots open to upload come from the timeline and files the page read:
    the latest notice, flagged files not yet replaced, a catch-all for an item without a slot."""
    user, me = verified_citizen()
    client.force_login(user)
    other = ApplicationFactory(applicant=user, patient=me, in_review=True)
    base, _ = page_queries(client, reverse("applications:detail", args=[other.pk]))
    application = ApplicationFactory(applicant=user, patient=me, supplement_requested=True)
    replaced = UploadedMaterialFactory(application=application, slot="lab", flagged_for_supplement=True, superseded_at=timezone.now())
    flagged = UploadedMaterialFactory(application=application, slot="diagnosis", original_name="旧照片.jpg")
    supplement_request(application, items=[{"slot": "lab", "text": "化验单已过期"}])
    supplement_request(application, flag=[flagged], items=[{"slot": None, "text": "近一年门诊病历"}])
    assert replaced.slot == "lab"
    queries, html = page_queries(client, reverse("applications:detail", args=[application.pk]))
    assert len(queries) == len(base), queries
    notice = html[html.index('class="card app-supplement"'):]
    notice = notice[:notice.index("</section>")]
    assert "近一年门诊病历" in notice and "化验单已过期" not in notice  # the latest notice only (the timeline has both)
    assert selectors.supplement_slots(application=application) == {"diagnosis", SUPPLEMENT_EXTRA_SLOT}
    assert sorted(re.findall(r'name="slot" value="([^"]+)"', notice)) == sorted(["diagnosis", SUPPLEMENT_EXTRA_SLOT])


def test_the_applicants_own_case_needs_no_read_of_the_household(client):
    """The lookup checks the rule on the row it read: for the applicant's own case (most visits)
    the account's people are not read; a household member's view reads them and still opens it."""
    user, me = verified_citizen()
    application = ApplicationFactory(applicant=user, patient=me, in_review=True)
    url = reverse("applications:detail", args=[application.pk])
    client.force_login(user)
    queries, _ = page_queries(client, url)
    assert not [sql for sql in queries if "portal_householdmember" in sql], queries
    relative_user, _ = verified_citizen()
    HouseholdMemberFactory(account=relative_user, person=me)
    client.force_login(relative_user)
    queries, html = page_queries(client, url)
    assert application.acceptance_number in html
    assert [sql for sql in queries if "portal_householdmember" in sql]


def _more_of_everything_the_wizard_lists(application, user, n: int):
    """Household members to apply for, regions and schemes to choose, diseases of the region,
    criteria of the chosen disease, hospitals of the region, material slots with uploads."""
    for i in range(n):
        HouseholdMemberFactory(account=user, person=PersonFactory(region=application.region))
        RegionFactory(code=f"97{application.pk % 100:02d}{i:02d}", city=f"测试{i}市")
        scheme = SchemeFactory(code=f"qc-wizard-{application.pk}-{i}", name=f"险种{i}")
        application.disease.schemes.add(scheme)
        DiseaseFactory(region=application.region, schemes=[application.scheme, scheme])
        CriterionFactory(disease=application.disease)
        InstitutionFactory(region=application.region, designated=bool(i % 2))
        _slot_with_files(application, 1 + i % 2)


# Each step, and what shows that it lists more the second time.
WIZARD = {
    "new": (lambda a: reverse("applications:new"), 'name="patient"'),
    "patient": (lambda a: reverse("applications:step", args=[a.pk, 1]), 'name="patient"'),
    "disease": (lambda a: reverse("applications:step", args=[a.pk, 2]), "<option"),
    "info": (lambda a: reverse("applications:step", args=[a.pk, 3]), "<option"),
    "materials": (lambda a: reverse("applications:step", args=[a.pk, 4]), '<li class="app-file'),
    "review": (lambda a: reverse("applications:step", args=[a.pk, 5]), '<li class="app-file'),
}


@pytest.mark.parametrize("step", WIZARD)
def test_wizard_steps_do_not_grow_with_what_they_list(client, step):
    user, me = verified_citizen()
    application = ApplicationFactory(applicant=user, patient=me)  # a complete draft
    CriterionFactory(disease=application.disease)
    _slot_with_files(application, 1)
    client.force_login(user)
    path, marker = WIZARD[step]
    url = path(application)
    few, html = page_queries(client, url)
    shown = html.count(marker)
    assert shown >= 1
    _more_of_everything_the_wizard_lists(application, user, 3)
    many, html = page_queries(client, url)
    assert html.count(marker) > shown
    assert_same_query_count(few, many, page=url, rows=(shown, html.count(marker)))
