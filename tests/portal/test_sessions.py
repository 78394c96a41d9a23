"""Sessions in the database with their account's key (``portal.sessions``): a signed-in request
reads its session and its account in one statement, Redis is not on the way, expired sessions are
neither read nor kept, and the sessions of Django's table come over without signing anyone out."""
import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DjangoDBStore
from django.contrib.sessions.models import Session as DjangoSession
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.models import Session, User
from portal.sessions import SessionStore
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DOWN = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on port 9
                    "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}


def _fields(user) -> dict:
    return {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}


def _reads_of(table: str, queries) -> list[str]:
    return [q["sql"] for q in queries if f'FROM "{table}"' in q["sql"]]


def test_a_session_row_names_its_account(client):
    anonymous = SessionStore()
    anonymous["cart"] = 1
    anonymous.save()
    assert Session.objects.get(pk=anonymous.session_key).user_id is None
    user = UserFactory()
    client.force_login(user)
    assert Session.objects.get(pk=client.cookies["sessionid"].value).user_id == user.pk
    assert not DjangoSession.objects.exists()  # Django's table is no longer written


def test_a_signed_in_page_reads_session_and_account_in_one_statement(client):
    from applications.selectors import account_person_id
    from notifications.selectors import INBOX_UNREAD_ATTRIBUTE
    from tests.certifications.factories import citizen

    user, me = citizen()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("applications:list"))
    assert response.status_code == 200
    read = response.wsgi_request.user
    (statement,) = _reads_of("portal_session", queries.captured_queries)
    assert 'LEFT JOIN "portal_user" u' in statement
    assert not _reads_of("portal_user", queries.captured_queries), "the account was read again"
    assert type(read._wrapped) is User and _fields(read) == _fields(User.objects.get(pk=user.pk))
    assert getattr(read, INBOX_UNREAD_ATTRIBUTE) == 0 and account_person_id(user=read) == me.pk


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_is_one_execute(client, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)  # as in production (compose)
    client.force_login(UserFactory())
    client.get(reverse("me:home"))  # the connection's first visit prepares it
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("me:home")).status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert [s for s in sql if s.startswith("EXECUTE portal_session_read(")], sql
    assert not [s for s in sql if "portal_account_read" in s or 'FROM "portal_user"' in s], sql


def test_an_account_the_session_did_not_bring_is_read_by_key():
    """The row read with the session serves only its own account."""
    from portal.auth_backends import AuthenticationBackend, account_row_given

    first, second = UserFactory(), UserFactory()
    store = SessionStore()
    store[SESSION_KEY] = str(first.pk)
    store.save()
    loaded = SessionStore(store.session_key)
    loaded.load()
    assert loaded.account_row[0] == first.pk
    with account_row_given(loaded.account_row):
        with CaptureQueriesContext(connection) as queries:
            assert AuthenticationBackend().get_user(first.pk) == first
        assert len(queries) == 0
        with CaptureQueriesContext(connection) as queries:
            assert AuthenticationBackend().get_user(second.pk) == second
        assert len(queries) == 1


def test_sessions_of_an_inactive_or_deleted_account_sign_nobody_in(client):
    user = UserFactory()
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = client.get(reverse("applications:list"))
    assert response.status_code == 302 and not response.wsgi_request.user.is_authenticated

    other = UserFactory()
    client.force_login(other)
    key = client.cookies["sessionid"].value
    other.delete()
    assert not Session.objects.filter(pk=key).exists()  # the account's sessions go with it
    assert client.get(reverse("applications:list")).status_code == 302


def test_an_expired_session_is_not_read(client):
    user = UserFactory()
    client.force_login(user)
    Session.objects.filter(user=user).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(reverse("applications:list"))
    assert response.status_code == 302 and not response.wsgi_request.user.is_authenticated


def test_pages_sign_in_and_out_while_redis_is_down(client, settings, caplog):
    settings.CACHES = {**settings.CACHES, **DOWN}  # the shell's fragments stay in memory
    user = UserFactory()
    client.force_login(user)
    response = client.get(reverse("applications:list"))
    assert response.status_code == 200 and response.wsgi_request.user == user
    key = client.cookies["sessionid"].value
    assert client.post(reverse("account_logout")).status_code == 302
    assert not Session.objects.filter(pk=key).exists()
    assert client.get(reverse("applications:list")).status_code == 302  # to the login page
    fallbacks = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "session" in r.getMessage().lower()]
    assert not fallbacks  # nothing about sessions had to fall back


def test_expired_sessions_are_cleared_every_night(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["portal-session-clear-expired"]
    assert entry["task"] == "portal.tasks.session_clear_expired"


def _djangos_sessions(user):
    """Sessions as the release before portal/migrations/0004 wrote them, in Django's own table."""
    signed_in, anonymous, expired = DjangoDBStore(), DjangoDBStore(), DjangoDBStore()
    signed_in.update({SESSION_KEY: str(user.pk), "_auth_user_backend": "portal.auth_backends.AuthenticationBackend",
                      "_auth_user_hash": user.get_session_auth_hash()})
    anonymous["lang"] = "en"
    for store in (signed_in, anonymous, expired):
        store.save()
    DjangoSession.objects.filter(pk=expired.session_key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    return signed_in, anonymous, expired


def test_the_migration_copies_live_sessions_with_their_account_and_can_be_undone(client):
    migration = importlib.import_module("portal.migrations.0004_session")
    user = UserFactory()
    signed_in, anonymous, expired = _djangos_sessions(user)

    migration.sessions_copy(apps, None)
    copied = {s.pk: s.user_id for s in Session.objects.all()}
    assert copied == {signed_in.session_key: user.pk, anonymous.session_key: None}
    # Left in Django's table for the release still running while the upgrade rolls.
    assert DjangoSession.objects.count() == 3
    client.cookies["sessionid"] = signed_in.session_key
    response = client.get(reverse("applications:list"))
    assert response.status_code == 200 and response.wsgi_request.user == user

    Session.objects.filter(pk=anonymous.session_key).update(session_data=SessionStore().encode({"lang": "zh-hans"}))
    migration.sessions_copy_back(apps, None)
    assert DjangoDBStore(anonymous.session_key).load() == {"lang": "zh-hans"}  # what the new release wrote wins


@pytest.mark.parametrize("database", ["postgresql", "other"])
def test_a_session_the_old_release_wrote_during_the_roll_is_moved_at_its_first_visit(client, database, monkeypatch):
    if database == "other":  # the embedded default's path: Django's read (SQLite)
        monkeypatch.setattr(connection, "vendor", "sqlite")
    user = UserFactory()
    signed_in, anonymous, expired = _djangos_sessions(user)
    client.cookies["sessionid"] = signed_in.session_key
    response = client.get(reverse("applications:list"))
    assert response.status_code == 200 and response.wsgi_request.user == user
    assert Session.objects.get(pk=signed_in.session_key).user_id == user.pk
    assert not DjangoSession.objects.filter(pk=signed_in.session_key).exists()
    client.cookies["sessionid"] = expired.session_key
    assert client.get(reverse("applications:list")).status_code == 302
    assert not Session.objects.filter(pk=expired.session_key).exists()
    assert SessionStore(anonymous.session_key).load() == {"lang": "en"}


def test_expired_sessions_of_both_tables_are_cleared(settings):
    user = UserFactory()
    _djangos_sessions(user)
    live, expired = SessionStore(), SessionStore()
    for store in (live, expired):
        store["x"] = 1
        store.save()
    Session.objects.filter(pk=expired.session_key).update(expire_date=timezone.now() - dt.timedelta(minutes=1))
    from portal.tasks import session_clear_expired

    assert session_clear_expired() == 2
    assert list(Session.objects.values_list("pk", flat=True)) == [live.session_key]
    assert DjangoSession.objects.count() == 2


def test_a_sessions_text_is_decoded_once_and_each_request_gets_its_own_dict(client, monkeypatch, settings):
    """Decoding is a function of the signed text and the secret keys: the same text decodes to
    the same data without checking its signature again; the row itself is read every time, so a
    logout still ends the session at once."""
    from portal import sessions

    sessions.decoded.clear()
    user = UserFactory()
    client.force_login(user)
    key = client.cookies["sessionid"].value
    calls = []
    original = SessionStore.decode
    monkeypatch.setattr(SessionStore, "decode", lambda self, text: calls.append(text) or original(self, text))
    first, second = SessionStore(key), SessionStore(key)
    assert first[SESSION_KEY] == second[SESSION_KEY] == str(user.pk) and len(calls) == 1
    first["changed"] = second["changed"] = "x"  # each request's own copy
    assert "changed" not in SessionStore(key).keys() and len(calls) == 1
    # Written again: a new text, decoded.
    first.save()
    assert SessionStore(key)["changed"] == "x" and len(calls) == 2
    # Data holding a list or a dict is decoded every time (it could be changed in place).
    first["basket"] = [1]
    first.save()
    SessionStore(key).load(), SessionStore(key).load()
    assert len(calls) == 4
    del first["basket"]
    first.save()  # (the same text as before if written in the same second: signed with the time)
    before = len(calls)
    assert SessionStore(key).load() == SessionStore(key).load() and len(calls) - before <= 1
    # Another secret: decoded again, and the text signed under the old one is refused.
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    before = len(calls)
    assert SessionStore(key).load() == {} and len(calls) == before + 1
    # Logged out: the row is gone, whatever was decoded before.
    Session.objects.filter(pk=key).delete()
    assert SessionStore(key).load() == {}
