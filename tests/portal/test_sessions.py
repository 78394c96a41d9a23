"""Sessions kept in PostgreSQL and read through Redis (``portal.sessions``): a signed-in page reads
no session row while the cache holds it, works from the database when the cache is down, and a
session ended while the cache was down does not come back for longer than SESSION_CACHE_SECONDS."""
import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.sessions import SessionStore
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DOWN = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on port 9
                    "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}


def _session_reads(queries) -> int:
    return sum('FROM "django_session"' in q["sql"] for q in queries)


def test_a_signed_in_page_reads_the_session_from_the_cache(client):
    client.force_login(UserFactory())
    client.get(reverse("applications:list"))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("applications:list")).status_code == 200
    assert _session_reads(ctx.captured_queries) == 0


def test_the_database_is_the_record(client):
    user = UserFactory()
    client.force_login(user)
    key = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=key).exists()
    cache.clear()  # an emptied (restarted) Redis
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("applications:list"))
    assert response.status_code == 200 and response.wsgi_request.user == user
    assert _session_reads(ctx.captured_queries) == 1  # read once, and put back in the cache
    assert SessionStore(key).load()["_auth_user_id"] == str(user.pk)


def test_pages_sign_in_and_out_while_the_cache_is_down(client, settings, caplog):
    settings.CACHES = {**settings.CACHES, **DOWN}  # Redis down; the shell's fragments stay in memory
    user = UserFactory()
    client.force_login(user)
    response = client.get(reverse("applications:list"))
    assert response.status_code == 200 and response.wsgi_request.user == user
    assert "session cache unavailable" in caplog.text  # the broken cache was really asked
    key = client.cookies["sessionid"].value
    assert client.post(reverse("account_logout")).status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(reverse("applications:list")).status_code == 302  # to the login page


def test_a_cached_entry_lives_at_most_session_cache_seconds(settings, monkeypatch):
    settings.SESSION_CACHE_SECONDS = 300
    seen = {}
    real_set = cache.set
    monkeypatch.setattr(cache, "set", lambda key, value, timeout=None: seen.update({key: timeout}) or real_set(key, value, timeout))
    store = SessionStore()
    store["x"] = 1
    store.set_expiry(8 * 3600)
    store.save(must_create=True)
    assert seen[store.cache_key] == 300
    cache.delete(store.cache_key)
    SessionStore(store.session_key).load()  # a miss fills the cache again, with the same bound
    assert seen[store.cache_key] == 300


def test_an_ended_session_is_gone_from_the_cache_when_it_answers(client):
    client.force_login(UserFactory())
    key = client.cookies["sessionid"].value
    client.get(reverse("applications:list"))
    assert cache.get(SessionStore.cache_key_prefix + key) is not None
    client.post(reverse("account_logout"))
    assert cache.get(SessionStore.cache_key_prefix + key) is None
    assert SessionStore(key).load() == {}
