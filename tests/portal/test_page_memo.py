"""portal.page_memo: 我的申请 and the case page served again from this process's memory, for as
long as what they are rendered from stays the same; never another account's page, never a stale one."""
import pickle
import re

import pytest
from django import forms
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Application, ApplicationStatus, EventKind
from catalog.models import Disease
from portal import page_memo
from portal.context_processors import ELDER_MODE_COOKIE
from tests.applications.factories import (
    ApplicationFactory,
    HouseholdMemberFactory,
    UploadedMaterialFactory,
    supplement_request,
    verified_citizen,
)
from tests.factories import PersonFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _normal(html: bytes) -> str:
    """The page with its CSRF tokens blanked: each rendering masks the token afresh."""
    return TOKEN.sub('name="csrfmiddlewaretoken" value=""', html.decode())


@pytest.fixture
def citizen(client):
    user, person = verified_citizen(full_name="王小明")
    client.force_login(user)
    return user, person


def _cases(user, person):
    """One case of each kind a citizen's pages show, with files and a timeline."""
    submitted = ApplicationFactory(applicant=user, patient=person, submitted=True)
    UploadedMaterialFactory(application=submitted, original_name="诊断证明.pdf")
    supplement = ApplicationFactory(applicant=user, patient=person, supplement_requested=True)
    flagged = UploadedMaterialFactory(application=supplement, original_name="旧照片.jpg")
    supplement_request(supplement, flag=[flagged], items=[{"slot": "diagnosis", "text": "需加盖公章"}])
    approved = ApplicationFactory(applicant=user, patient=person, approved=True)
    draft = ApplicationFactory(applicant=user, patient=person)
    return {"submitted": submitted, "supplement": supplement, "approved": approved, "draft": draft}


def _pages(cases) -> list[str]:
    return [reverse("applications:list")] + [
        reverse("applications:detail", args=[case.pk]) for name, case in cases.items() if name != "draft"
    ]


def test_a_kept_page_is_byte_for_byte_the_page_rendered_afresh(client, citizen):
    user, person = citizen
    pages = _pages(_cases(user, person))
    fresh = {path: _normal(client.get(path).content) for path in pages}  # misses: rendered, then kept
    assert page_memo.memo.hits == 0 and page_memo.memo.misses == len(pages)
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200
        assert _normal(response.content) == fresh[path]
    assert page_memo.memo.hits == len(pages)
    # And the same as a rendering with the memo off altogether.
    page_memo.page_memo_clear()
    django_settings.PAGE_MEMO_BYTES, budget = 0, django_settings.PAGE_MEMO_BYTES
    try:
        for path in pages:
            assert _normal(client.get(path).content) == fresh[path]
    finally:
        django_settings.PAGE_MEMO_BYTES = budget
    assert len(page_memo.memo) == 0


def test_a_kept_page_reads_what_a_rendered_one_reads(client, citizen):
    """The rows are read on every request; only rendering is spared. If a template read something
    lazily (a relation not loaded), the rendered page would make a query the kept one skips, and
    the kept page could show that value stale: the two must make the same queries."""
    user, person = citizen
    for path in _pages(_cases(user, person)):
        client.get(path)  # the process's catalog copy is filled by the first visit
        page_memo.page_memo_clear()
        with CaptureQueriesContext(connection) as rendered:
            client.get(path)
        with CaptureQueriesContext(connection) as kept:
            client.get(path)
        assert page_memo.memo.hits, path
        assert _statements(kept) == _statements(rendered), path


def _statements(queries) -> list[str]:
    # The session is read as of the request's time (portal.sessions), the one value that differs.
    return [re.sub(r"'\d{4}-\d\d-\d\dT[\d:.]+\+00:00'::timestamptz", "<now>", q["sql"]) for q in queries]


def test_a_case_that_moves_on_is_shown_as_it_is_now(client, citizen):
    user, person = citizen
    case = ApplicationFactory(applicant=user, patient=person, in_review=True)
    detail = reverse("applications:detail", args=[case.pk])
    for path in (detail, reverse("applications:list")):
        assert "审核中" in client.get(path).content.decode()
        client.get(path)
    Application.objects.filter(pk=case.pk).update(status=ApplicationStatus.APPROVED)
    for path in (detail, reverse("applications:list")):
        page = client.get(path).content.decode()
        assert "已通过" in page and "审核中" not in page
    # A new file, a new step of the timeline: the case page changes with them.
    UploadedMaterialFactory(application=case, original_name="补充说明.pdf")
    page = client.get(detail).content.decode()
    assert "补充说明.pdf" in page
    case.events.create(kind=EventKind.EXPERT_OPINION, visible_to_citizen=True, data={})
    assert "专家意见" in client.get(detail).content.decode()


def test_a_renamed_disease_is_shown_renamed(client, citizen):
    user, person = citizen
    case = ApplicationFactory(applicant=user, patient=person, submitted=True)
    path = reverse("applications:list")
    client.get(path)
    Disease.objects.filter(pk=case.disease_id).update(name="改名后的病种")
    from catalog.selectors import catalog_copy_forget

    catalog_copy_forget()  # what a catalog save does in its process (catalog.signals)
    assert "改名后的病种" in client.get(path).content.decode()


def test_accounts_never_share_a_kept_page():
    """Two accounts that see the same case the same way (a mother's case, filed by a third
    account, seen by her two children) render the same HTML, yet each gets its own entry; and
    the applicant, who may withdraw, sees their own page."""
    mother = PersonFactory(full_name="李秀英")
    children = [verified_citizen()[0] for _ in range(2)]
    for child in children:
        HouseholdMemberFactory(account=child, person=mother)
    applicant, _ = verified_citizen()
    HouseholdMemberFactory(account=applicant, person=mother)
    case = ApplicationFactory(applicant=applicant, patient=mother, in_review=True)
    path = reverse("applications:detail", args=[case.pk])
    clients = {}
    for user in (*children, applicant):
        clients[user.pk] = Client()
        clients[user.pk].force_login(user)
    pages = {user.pk: [_normal(clients[user.pk].get(path).content) for _ in range(2)] for user in (*children, applicant)}
    assert page_memo.memo.misses == 3 and page_memo.memo.hits == 3
    first, second = (pages[child.pk] for child in children)
    assert first[0] == first[1] == second[0] == second[1]
    assert "确认撤回" in pages[applicant.pk][1] and "确认撤回" not in first[1]  # only the applicant may withdraw


def test_what_the_shell_shows_is_in_the_key(client, citizen):
    user, person = citizen
    ApplicationFactory(applicant=user, patient=person, submitted=True)
    path = reverse("applications:list")
    chinese = client.get(path).content.decode()
    english = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "我的申请" in chinese and "My applications" in english
    client.cookies[ELDER_MODE_COOKIE] = "1"
    assert 'class="elder"' in client.get(path).content.decode()
    del client.cookies[ELDER_MODE_COOKIE]
    assert 'class="elder"' not in client.get(path).content.decode()
    # The badge: a new message shows on the next page.
    assert 'id="unread-badge"' not in client.get(path).content.decode()
    NotificationFactory(user=user)  # read with the user on PostgreSQL: no cache to drop
    assert 'id="unread-badge"' in client.get(path).content.decode()
    # The path: the shell's forms send the visitor back to it.
    assert 'name="next" value="/applications/?page=1"' in client.get(path + "?page=1").content.decode()


def test_a_waiting_message_is_shown_once_and_the_page_not_kept(client, citizen):
    user, person = citizen
    case = ApplicationFactory(applicant=user, patient=person, in_review=True)
    response = client.post(reverse("applications:withdraw", args=[case.pk]), {"reason": "不需要了"}, follow=True)
    assert "已撤回" in response.content.decode()
    assert page_memo.memo.misses == 0 and len(page_memo.memo) == 0  # the page with the message was not kept
    again = client.get(response.request["PATH_INFO"]).content.decode()
    assert 'class="messages"' not in again


def test_a_kept_page_carries_this_requests_token(citizen):
    """Each serve puts the request's own masked token in; a form posted from a kept page passes
    the CSRF check, and a visitor without the token cookie gets one."""
    user, person = citizen
    case = ApplicationFactory(applicant=user, patient=person, in_review=True)
    path = reverse("applications:detail", args=[case.pk])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    first = client.get(path)
    assert django_settings.CSRF_COOKIE_NAME in first.cookies
    kept = client.get(path)
    assert page_memo.memo.hits == 1
    assert django_settings.CSRF_COOKIE_NAME in kept.cookies  # renewed, as get_token has it
    tokens = TOKEN.findall(kept.content.decode())
    assert tokens and page_memo._TOKEN_PLACEHOLDER not in kept.content.decode()
    assert TOKEN.findall(first.content.decode()) != tokens  # masked afresh
    token = tokens[0].split('value="')[1].rstrip('"')
    response = client.post(reverse("applications:withdraw", args=[case.pk]), {"reason": "不需要了", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == ApplicationStatus.WITHDRAWN
    # A new visitor (no token cookie yet) served a kept page gets the cookie with it.
    fresh = Client(enforce_csrf_checks=True)
    fresh.force_login(user)
    client.get(path)
    response = fresh.get(path)
    assert django_settings.CSRF_COOKIE_NAME in response.cookies


def test_the_token_is_djangos_format_unmasks_to_the_secret_and_its_mask_is_uniform(rf):
    """``request_token`` masks as Django does (same alphabet, length and cipher), from one read
    of os.urandom, with every character equally likely at every position."""
    import collections

    from django.middleware.csrf import CSRF_ALLOWED_CHARS, _unmask_cipher_token, get_token

    request = rf.get("/")
    request.META["CSRF_COOKIE"] = secret = get_token(rf.get("/"))[32:][::-1]  # any valid secret
    counts = collections.Counter()
    tokens = set()
    for _ in range(4000):
        token = page_memo.request_token(request)
        assert len(token) == 64 and set(token) <= set(CSRF_ALLOWED_CHARS)
        assert _unmask_cipher_token(token) == secret
        counts.update(token[:32])
        tokens.add(token)
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert len(tokens) == 4000
    # 128,000 mask characters over 62: about 2,065 each (σ ≈ 45). Taking every byte modulo 62
    # (no dropping) would give the first 8 characters about 2,500 each, far outside this band.
    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    assert all(1850 < n < 2280 for n in counts.values()), sorted(counts.values())
    # No secret yet (or a malformed one): Django's get_token makes it.
    bare = rf.get("/")
    assert len(page_memo.request_token(bare)) == 64 and len(bare.META["CSRF_COOKIE"]) == 32


def test_the_context_processors_are_the_ones_keyed():
    """A new context processor adds to every page: page_memo must say what it adds to the key."""
    processors = set(django_settings.TEMPLATES[0]["OPTIONS"]["context_processors"])
    assert processors == page_memo.KEYED_CONTEXT_PROCESSORS


def test_off_when_the_budget_is_zero(client, citizen, settings):
    user, person = citizen
    ApplicationFactory(applicant=user, patient=person, submitted=True)
    settings.PAGE_MEMO_BYTES = 0
    for _ in range(2):
        assert client.get(reverse("applications:list")).status_code == 200
    assert len(page_memo.memo) == 0 and page_memo.memo.hits == 0


# --- the key and the store --------------------------------------------------------------------------------

def test_the_key_follows_every_loaded_value_and_related_row():
    case = ApplicationFactory(submitted=True)
    same = Application.objects.select_related("patient").get(pk=case.pk)
    again = Application.objects.select_related("patient").get(pk=case.pk)
    assert page_memo.context_key({"a": same}) == page_memo.context_key({"a": again})
    again.acceptance_number = "other"
    assert page_memo.context_key({"a": same}) != page_memo.context_key({"a": again})
    again = Application.objects.select_related("patient").get(pk=case.pk)
    again.patient.full_name = "别人"
    assert page_memo.context_key({"a": same}) != page_memo.context_key({"a": again})
    # JSON in a row is keyed whole.
    again = Application.objects.select_related("patient").get(pk=case.pk)
    again.self_check = {**(again.self_check or {}), "changed": True}
    assert pickle.dumps(page_memo.context_key({"a": same})) != pickle.dumps(page_memo.context_key({"a": again}))
    # A relation not loaded is not in the key, and neither is it shown without a query.
    bare = Application.objects.get(pk=case.pk)
    assert page_memo.context_key(bare) != page_memo.context_key(same)


def test_rows_that_point_back_at_each_other_are_keyed():
    """A one-to-one caches both ends (the account and its identity): keying them must end."""
    user, person = verified_citizen()
    identity = user.identity  # caches the identity on the user, and the user on the identity
    assert identity._state.fields_cache["user"] is user
    key = page_memo.context_key(user)
    identity.person.full_name = "改过"
    assert page_memo.context_key(user) != key


def test_values_with_state_of_their_own_are_not_keyed():
    """A model instance in an attribute compares by key alone; a bound form by identity;
    a queryset reads when rendered. The page is then rendered as usual."""
    case = ApplicationFactory(submitted=True)
    holder = Application.objects.get(pk=case.pk)
    holder.extra = PersonFactory()
    assert page_memo.context_key(holder) != page_memo.context_key(Application.objects.get(pk=case.pk))
    person = holder.extra
    key = page_memo.context_key(holder)
    person.full_name = "改过"
    assert page_memo.context_key(holder) != key  # the instance in the attribute is keyed by its values

    class Reason(forms.Form):
        reason = forms.CharField()

    assert page_memo.context_key(Reason()) == page_memo.context_key(Reason())
    for value in (Reason({"reason": "x"}), Application.objects.all(), object()):
        with pytest.raises(page_memo._Unkeyable):
            page_memo.context_key({"value": value})


def test_the_store_keeps_the_latest_pages_within_its_budget():
    store = page_memo._Memo()
    for n in range(5):
        store.put(("page", n), "x" * 40, budget=100)
    assert len(store) == 2 and store.get(("page", 4)) and store.get(("page", 3)) and store.get(("page", 0)) is None
    store.put(("page", 3), "y" * 10, budget=100)  # replacing an entry counts its new size
    store.put(("big",), "z" * 101, budget=100)  # larger than the budget: not kept, nothing dropped
    assert store.get(("big",)) is None and store.get(("page", 3)) == "y" * 10 and store.get(("page", 4))


def test_the_store_holds_a_digest_of_the_values_not_the_values(client, citizen):
    user, person = citizen
    case = ApplicationFactory(applicant=user, patient=person, submitted=True)
    client.get(reverse("applications:detail", args=[case.pk]))
    ((account, template, digest),) = page_memo.memo._entries
    assert (account, template) == (user.pk, "applications/detail.html")
    assert isinstance(digest, bytes) and len(digest) == 32


def test_a_context_that_cannot_be_pickled_is_rendered_as_usual(rf, citizen):
    user, _ = citizen

    class Local(forms.Form):  # a class defined in a function: pickle cannot name it
        reason = forms.CharField()

    request = rf.get("/applications/")
    request.user = user
    request._messages = []
    response = page_memo.memo_render(request, "applications/list.html", {"applications": [], "page": None, "form": Local()})
    assert response.status_code == 200 and len(page_memo.memo) == 0


def test_an_unkeyable_context_is_rendered_as_usual(rf, citizen):
    user, _ = citizen
    request = rf.get("/applications/")
    request.user = user
    request.session = {}
    request._messages = []
    response = page_memo.memo_render(request, "applications/list.html", {"applications": Application.objects.none(), "page": None})
    assert response.status_code == 200 and len(page_memo.memo) == 0


def test_the_badge_from_the_cache_is_in_the_key(client, citizen, monkeypatch):
    """Without PostgreSQL the user is read by Django's backend and the badge comes from the
    cache, not with the user: the shell's part of the key holds it."""
    from django.contrib.auth.backends import ModelBackend
    from django.core.cache import cache

    from portal import auth_backends

    monkeypatch.setattr(auth_backends._PreparedUserRead, "get_user", ModelBackend.get_user)
    user, person = citizen
    ApplicationFactory(applicant=user, patient=person, submitted=True)
    path = reverse("applications:list")
    assert 'id="unread-badge"' not in client.get(path).content.decode()
    NotificationFactory(user=user)
    cache.clear()  # the count the cache held
    assert 'id="unread-badge"' in client.get(path).content.decode()


# --- pages keyed on the rows they read (PostgreSQL) ---------------------------------------------------

def test_a_kept_page_makes_nothing_of_its_rows(client, citizen, monkeypatch):
    """我的申请 and the case page are keyed on their statements' rows: a kept page is served
    without making a case, a patient, a timeline or a file of them, or building its context."""
    from applications import citizen_sql

    user, person = citizen
    pages = _pages(_cases(user, person))
    for path in pages:
        client.get(path)
    made = []
    original = citizen_sql._with_patient
    monkeypatch.setattr(citizen_sql, "_with_patient", lambda *args: made.append(args) or original(*args))
    hits = page_memo.memo.hits
    for path in pages:
        assert client.get(path).status_code == 200
    assert page_memo.memo.hits == hits + len(pages) and made == []
    assert all(key[2] for key in page_memo.memo._entries)


def test_the_count_is_in_a_lists_key(client, citizen):
    """Page 1 of 我的申请 shows how many pages there are: a case added at the end of the list
    leaves page 1's rows as they were and changes that number."""
    import datetime as dt

    from django.utils import timezone

    user, person = citizen
    for _ in range(40):
        ApplicationFactory(applicant=user, patient=person, submitted=True)
    path = reverse("applications:list")
    assert "第 1 / 2 页" in client.get(path).content.decode()
    assert "第 1 / 2 页" in client.get(path).content.decode() and page_memo.memo.hits == 1
    oldest = ApplicationFactory(applicant=user, patient=person, submitted=True)
    Application.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - dt.timedelta(days=3650))
    assert "第 1 / 3 页" in client.get(path).content.decode()


def test_a_page_whose_making_reads_the_database_is_served_not_kept(rf, citizen):
    """The rows must be all a page keyed on them is made from: one whose context reads anything
    else (here, a query of its own) is rendered and served, and not kept."""
    user, person = citizen
    case = ApplicationFactory(applicant=user, patient=person, submitted=True)
    request = rf.get("/applications/")
    request.user = user
    request._messages = []

    from applications.selectors import application_rows

    def reading():
        return {"applications": application_rows(applications=Application.objects.select_related("patient").filter(pk=case.pk)), "page": None}

    response = page_memo.memo_render(request, "applications/list.html", reading, read=("rows", 1))
    assert response.status_code == 200 and case.acceptance_number in response.content.decode()
    assert len(page_memo.memo) == 0
    rows = application_rows(applications=Application.objects.select_related("patient").filter(pk=case.pk))
    page_memo.memo_render(request, "applications/list.html", lambda: {"applications": rows, "page": None}, read=("rows", 1))
    assert len(page_memo.memo) == 1
    again = page_memo.memo_render(request, "applications/list.html", reading, read=("rows", 1))
    assert page_memo.memo.hits == 1 and case.acceptance_number in again.content.decode()


def test_a_catalog_row_changed_elsewhere_shows_when_the_copy_is_refreshed(client, citizen, monkeypatch):
    """A page kept for its rows holds the catalog names it was made with; another process's
    edit shows once this process's copy is due for a refresh, as on a page rendered afresh."""
    from catalog import selectors as catalog_selectors

    user, person = citizen
    case = ApplicationFactory(applicant=user, patient=person, submitted=True)
    paths = [reverse("applications:list"), reverse("applications:detail", args=[case.pk])]
    for path in paths * 2:
        assert case.disease.name in client.get(path).content.decode()
    Disease.objects.filter(pk=case.disease_id).update(name="另一进程改的名")  # no signal in this process
    later = catalog_selectors.time.monotonic() + catalog_selectors.CATALOG_COPY_SECONDS + 1
    monkeypatch.setattr(catalog_selectors.time, "monotonic", lambda: later)
    for path in paths:
        assert "另一进程改的名" in client.get(path).content.decode(), path
