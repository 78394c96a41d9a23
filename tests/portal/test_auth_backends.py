"""portal.auth_backends: the user of a signed-in request read by a prepared statement, and
sessions signed in under the replaced backends' paths kept signed in."""
from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.auth_backends import SUCCESSORS, AuthenticationBackend, ModelBackend
from portal.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _fields(user) -> dict:
    return {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}


@pytest.mark.parametrize("backend", [ModelBackend, AuthenticationBackend])
def test_the_user_read_is_the_orms_user(backend):
    user = UserFactory(phone="13800138000", phone_verified=True, first_name="张", is_staff=True)
    with CaptureQueriesContext(connection) as queries:
        read = backend().get_user(user.pk)
    assert len(queries) == 1
    assert type(read) is User
    assert _fields(read) == _fields(User.objects.get(pk=user.pk))
    assert read._state.adding is False and read._state.db == "default"
    assert read.get_session_auth_hash() == user.get_session_auth_hash()
    assert not read.get_deferred_fields()


@pytest.mark.parametrize("backend", [ModelBackend, AuthenticationBackend])
def test_no_user_for_an_inactive_account_a_missing_one_or_a_malformed_key(backend):
    inactive = UserFactory(is_active=False)
    assert backend().get_user(inactive.pk) is None
    assert backend().get_user(inactive.pk + 1000) is None
    assert backend().get_user("not-a-number") is None


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_user_is_one_execute(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)  # as in production (compose)
    user = UserFactory()
    AuthenticationBackend().get_user(user.pk)  # the connection's first read prepares it
    with CaptureQueriesContext(connection) as queries:
        assert AuthenticationBackend().get_user(user.pk) == user
    assert [q["sql"] for q in queries.captured_queries] == [f"EXECUTE portal_account_read({user.pk})"]


def _signed_in_under(client, user, backend_path: str) -> None:
    """A session as ``django.contrib.auth.login`` left it when ``backend_path`` signed ``user`` in."""
    session = client.session
    session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: backend_path,
                    HASH_SESSION_KEY: user.get_session_auth_hash()})
    session.save()
    client.cookies["sessionid"] = session.session_key


@pytest.mark.parametrize("old_path", sorted(SUCCESSORS))
def test_a_session_signed_in_under_a_replaced_path_stays_signed_in_and_moves(client, old_path):
    user = UserFactory()
    _signed_in_under(client, user, old_path)

    response = client.get(reverse("me:home"))
    assert response.status_code == 200 and response.wsgi_request.user == user
    assert client.session[BACKEND_SESSION_KEY] == SUCCESSORS[old_path]
    assert client.get(reverse("me:home")).status_code == 200


def test_a_session_under_an_unknown_path_is_still_signed_out(client):
    user = UserFactory()
    _signed_in_under(client, user, "somewhere.else.Backend")
    response = client.get(reverse("me:home"))
    assert response.status_code == 302 and not response.wsgi_request.user.is_authenticated


def test_a_changed_password_still_ends_a_moved_session(client):
    user = UserFactory()
    _signed_in_under(client, user, "django.contrib.auth.backends.ModelBackend")
    user.set_password("another-secret-9")
    user.save()
    assert client.get(reverse("me:home")).status_code == 302


def test_the_own_person_comes_with_the_user_and_follows_a_new_identity():
    from applications.selectors import account_person_id
    from portal.auth_backends import OWN_PERSON_ATTRIBUTE
    from tests.certifications.factories import citizen

    user, me = citizen()
    read = AuthenticationBackend().get_user(user.pk)
    with CaptureQueriesContext(connection) as queries:
        assert account_person_id(user=read) == me.pk
    assert len(queries) == 0
    newcomer = AuthenticationBackend().get_user(UserFactory().pk)
    assert getattr(newcomer, OWN_PERSON_ATTRIBUTE) is None
    with CaptureQueriesContext(connection) as queries:
        assert account_person_id(user=newcomer) is None
    assert len(queries) == 0


def test_an_identity_submitted_in_the_request_is_the_own_person_for_the_rest_of_it():
    from applications.selectors import account_person_id
    from portal.services import identity_submit
    from tests.factories import RegionFactory, SchemeFactory, make_id_number

    user = AuthenticationBackend().get_user(UserFactory().pk)
    assert account_person_id(user=user) is None
    identity = identity_submit(user=user, full_name="李四", id_number=make_id_number(sequence=17),
                               region=RegionFactory(), scheme=SchemeFactory())
    assert account_person_id(user=user) == identity.person_id
