"""我的申请's prepared statements (``applications.citizen_sql``) against the ORM's rule they restate.

The ORM's querysets (``application_list_for_citizen``, ``portal.selectors._person_ids``) are the
rule; the statements must list the same cases in the same order, count them the same, load the
same fields and leave the same ones unread, for every kind of case the access tests know.
"""
import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications import citizen_sql, selectors
from applications.citizen_sql import CitizenApplicationList
from applications.models import Application, Person
from portal import selectors as portal_selectors
from portal.page_memo import page_memo_clear
from portal.models import HouseholdMember, Identity
from tests.applications.factories import ApplicationFactory
from tests.certifications.factories import citizen
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def _world():
    parent_user, parent = citizen()
    child_user, child = citizen()
    HouseholdMember.objects.create(account=child_user, person=parent, relationship="parent", proof_kind="hukou")
    unverified_user = UserFactory()
    claimed = PersonFactory()
    # Typed someone's name and number but never passed the check: must not open their cases.
    Identity.objects.create(user=unverified_user, person=claimed, verified_at=None, provider="test")
    stranger = PersonFactory()
    cases = [
        ApplicationFactory(applicant=child_user, patient=parent, submitted=True),
        ApplicationFactory(applicant=child_user, patient=parent),  # the child's draft for the parent
        ApplicationFactory(applicant=parent_user, patient=parent, submitted=True),
        ApplicationFactory(applicant=parent_user, patient=parent),  # the parent's own draft
        ApplicationFactory(applicant=UserFactory(), patient=parent, submitted=True),  # a third account's
        ApplicationFactory(applicant=UserFactory(), patient=parent),  # … and its draft
        ApplicationFactory(applicant=UserFactory(), patient=stranger, submitted=True),
        ApplicationFactory(applicant=child_user, patient=stranger, submitted=True),
        ApplicationFactory(applicant=UserFactory(), patient=claimed, submitted=True),
        ApplicationFactory(applicant=child_user, patient=None, region=parent.region, scheme=parent.scheme),
    ]
    # Equal creation times: the key must break the tie the same way in both forms.
    Application.objects.filter(pk__in=[cases[0].pk, cases[2].pk, cases[4].pk]).update(
        created_at=timezone.now() - dt.timedelta(days=3)
    )
    return [parent_user, child_user, unverified_user, UserFactory()], cases


def _orm(user):
    return selectors.application_list_for_citizen(user=user).only(*selectors.CITIZEN_LIST_FIELDS)


def _loaded(instance, model) -> dict:
    deferred = instance.get_deferred_fields()
    return {f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields if f.attname not in deferred}


def test_the_statements_list_count_and_load_what_the_orm_does_for_every_account():
    users, cases = _world()
    seen_any = False
    for user in users:
        expected = list(_orm(user))
        listed = CitizenApplicationList(user_id=user.pk)
        assert listed.count() == len(expected) == len(listed), user
        assert [a.pk for a in listed[:50]] == [a.pk for a in expected], user
        for start, stop in ((0, 2), (2, 4), (3, None), (1, 1)):
            assert [a.pk for a in listed[start:stop]] == [a.pk for a in expected[start:stop]], (user, start, stop)
        assert sorted(portal_selectors.person_ids_for_account(user=user)) == sorted(portal_selectors._person_ids(user=user))
        # A full slice brings the count with its rows (the paginator then asks for no COUNT of
        # its own); one that is not full, or whose list was counted already, does not.
        for stop in (1, 2, len(expected), len(expected) + 1):
            fresh = CitizenApplicationList(user_id=user.pk)
            with CaptureQueriesContext(connection) as queries:
                fresh[0:stop]
                assert fresh.count() == len(expected), (user, stop)
            assert len(queries) == (1 if stop <= len(expected) else 2), (user, stop)
        for mine, theirs in zip(listed[:50], expected):
            seen_any = True
            assert mine.get_deferred_fields() == theirs.get_deferred_fields()
            assert {"diagnosis", "applicant_id", "due_at"} <= mine.get_deferred_fields()
            assert _loaded(mine, Application) == _loaded(theirs, Application)
            with CaptureQueriesContext(connection) as queries:
                patient = mine.patient
            assert len(queries) == 0  # read with the case, as select_related does
            if theirs.patient is None:
                assert patient is None
            else:
                assert patient.get_deferred_fields() == theirs.patient.get_deferred_fields()
                assert "id_number" in patient.get_deferred_fields() and "full_name" not in patient.get_deferred_fields()
                assert _loaded(patient, Person) == _loaded(theirs.patient, Person)
    assert seen_any
    # Spot check that the rule is the intended one, not only the ORM's twin.
    child_user = users[1]
    assert {a.pk for a in CitizenApplicationList(user_id=child_user.pk)[:50]} == {
        cases[0].pk, cases[1].pk, cases[2].pk, cases[4].pk, cases[7].pk, cases[9].pk
    }
    assert CitizenApplicationList(user_id=users[2].pk).count() == 0  # the unverified claim opens nothing


def test_only_slices_are_taken():
    with pytest.raises(TypeError):
        CitizenApplicationList(user_id=1)[0]


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_the_list_page_is_the_same_page_with_the_orms_querysets(client, monkeypatch):
    users, _ = _world()
    child_user = users[1]
    for _ in range(21):  # two pages, so the count is taken too
        ApplicationFactory(applicant=child_user, submitted=True)
    client.force_login(child_user)
    pages = {}
    for prepared in (True, False):
        monkeypatch.setattr(citizen_sql, "prepared_reads_available", lambda prepared=prepared: prepared)
        page_memo_clear()  # each form renders its own pages (the memo would serve the first form's)
        pages[prepared] = [
            _without_tokens(client.get(reverse("applications:list"), {"page": n}).content.decode()) for n in (1, 2)
        ]
    assert pages[True] == pages[False]
    assert "第 1 / 2 页" in pages[True][0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("conn_max_age, prepares", [(60, True), (None, True), (0, False)], ids=["60s", "for-ever", "closed"])
def test_outside_a_transaction_the_list_runs_prepared_statements(client, monkeypatch, conn_max_age, prepares):
    # As in production (compose: DB_CONN_MAX_AGE=60), or connections kept for ever (None). A
    # connection closed after every request (0) would prepare on every visit: then they go as text.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", conn_max_age)
    user, me = citizen()
    ApplicationFactory(applicant=user, patient=me, submitted=True)
    client.force_login(user)
    client.get(reverse("applications:list"))  # the connection's first visit prepares them
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("applications:list")).content.decode()
    assert page.count('class="badge') == 1
    statements = [q["sql"] for q in queries.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'citizen_%%'")
        names = {name for (name,) in cursor.fetchall()}
    if prepares:
        assert [sql for sql in statements if "citizen_" in sql] == [f"EXECUTE citizen_case_page({user.pk}, 21, 21, 0, true)"], statements
        assert names == {"citizen_case_page"}
    else:
        assert not [sql for sql in statements if "PREPARE" in sql or "EXECUTE" in sql]
        assert [sql for sql in statements if 'FROM "applications_application" a JOIN' in sql]


# --- the case page's reads ------------------------------------------------------------------------

def _case_page_world():
    from applications.models import ApplicationEvent, UploadedMaterial
    from tests.applications.factories import UploadedMaterialFactory

    users, cases = _world()
    case = cases[0]
    same_time = timezone.now() - dt.timedelta(hours=2)
    for kind, visible in (("submitted", True), ("note", False), ("supplement_requested", True), ("resubmitted", True)):
        ApplicationEvent.objects.create(application=case, kind=kind, visible_to_citizen=visible,
                                        data={"items": [{"text": "病历"}], "reason": "x"})
    ApplicationEvent.objects.filter(application=case).update(created_at=same_time)  # the key breaks ties
    old = UploadedMaterialFactory(application=case, slot="diagnosis")
    UploadedMaterialFactory(application=case, slot="diagnosis", flagged=True)
    UploadedMaterialFactory(application=case, slot="a_first_slot", processed=False, sharpness=12.5)
    UploadedMaterialFactory(application=case, slot="diagnosis")
    UploadedMaterial.objects.filter(pk=old.pk).update(superseded_at=timezone.now())
    return users, cases


def _assert_same_case(mine: Application, theirs: Application) -> None:
    """``mine`` is ``theirs`` (read with ``select_related("patient")``): every field, the patient
    already there, both decrypted as the ORM does."""
    assert mine.get_deferred_fields() == set() and _loaded(mine, Application) == _loaded(theirs, Application)
    assert mine.diagnosis == theirs.diagnosis
    with CaptureQueriesContext(connection) as queries:
        patient = mine.patient
    assert len(queries) == 0
    if theirs.patient is None:
        assert patient is None
    else:
        assert _loaded(patient, Person) == _loaded(theirs.patient, Person) and patient.id_number == theirs.patient.id_number


def test_the_case_pages_statements_read_what_the_orm_does():
    from applications.models import ApplicationEvent, UploadedMaterial

    users, cases = _case_page_world()
    for case in cases:
        theirs = Application.objects.select_related("patient").get(pk=case.pk)
        _assert_same_case(citizen_sql.application_with_patient(pk=case.pk), theirs)
        events = selectors.application_event_list_for_citizen(application=case)
        for include_superseded in (True, False):
            files = citizen_sql.material_list(application_id=case.pk, include_superseded=include_superseded)
            expected = list(selectors.material_list(application=case, include_superseded=include_superseded))
            assert [_loaded(m, UploadedMaterial) for m in files] == [_loaded(m, UploadedMaterial) for m in expected]
        # The three in one statement: the same case, patient, timeline and files (superseded too).
        read = citizen_sql.case_page(pk=case.pk)
        # What the access check reads off the row, without making anything.
        assert (read.applicant_id, read.patient_id, read.status) == (theirs.applicant_id, theirs.patient_id, theirs.status)
        assert "parts" not in read.__dict__
        together, timeline, every_file = read.parts
        _assert_same_case(together, theirs)
        assert [_loaded(e, ApplicationEvent) for e in timeline] == [_loaded(e, ApplicationEvent) for e in events]
        assert [_loaded(m, UploadedMaterial) for m in every_file] == [
            _loaded(m, UploadedMaterial) for m in selectors.material_list(application=case, include_superseded=True)
        ]
        assert [e.data for e in timeline] == [e.data for e in events]  # JSON decoded as the ORM does
    assert len(citizen_sql.case_page(pk=cases[0].pk).parts[1]) == 3  # the hidden note left out
    assert len(citizen_sql.material_list(application_id=cases[0].pk, include_superseded=True)) == 4
    assert len(citizen_sql.material_list(application_id=cases[0].pk, include_superseded=False)) == 3
    with pytest.raises(Application.DoesNotExist):
        citizen_sql.application_with_patient(pk=max(c.pk for c in cases) + 1000)
    with pytest.raises(Application.DoesNotExist):
        citizen_sql.case_page(pk=max(c.pk for c in cases) + 1000)
    assert [len(part) for part in citizen_sql.case_page(pk=cases[0].pk).parts[1:]] == [3, 4]
    for user in users + [UserFactory()]:
        expected = selectors.account_person(user=user)
        assert selectors.account_person_id(user=user) == (expected.pk if expected else None)


def test_the_case_page_is_the_same_page_with_the_orms_querysets(client, monkeypatch):
    users, cases = _case_page_world()
    client.force_login(users[1])  # the child: its own filing for the parent, a 代办 case
    pages = {}
    for prepared in (True, False):
        monkeypatch.setattr(citizen_sql, "prepared_reads_available", lambda prepared=prepared: prepared)
        page_memo_clear()  # each form renders its own pages (the memo would serve the first form's)
        pages[prepared] = [
            _without_tokens(client.get(reverse("applications:detail", args=[case.pk])).content.decode())
            for case in (cases[0], cases[2], cases[7])
        ]
        assert client.get(reverse("applications:detail", args=[cases[6].pk])).status_code == 404  # a stranger's
    assert pages[True] == pages[False]
    assert "代办人身份证" in pages[True][0] and "需补正" in pages[True][0] and "已替换" in pages[True][0]
