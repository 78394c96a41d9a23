"""Staff sign-in: second factor, enrollment, lockout, idle timeout; citizens unaffected."""
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.urls import reverse

from reviews.security import SESSION_LAST_SEEN, totp_authenticator_get
from tests.reviews.conftest import PASSWORD, totp_code_now

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"
QUEUE = "/admin/applications/application/"


def _login(client, user, code=""):
    return client.post(LOGIN, {"username": user.username, "password": PASSWORD, "otp_code": code, "next": QUEUE})


def test_enrolled_staff_need_the_code(sy_reviewer):
    secret = generate_totp_secret()
    TOTP.activate(sy_reviewer, secret)
    client = Client()
    assert _login(client, sy_reviewer).status_code == 200  # no code: form shown again
    assert _login(client, sy_reviewer, "000000" if totp_code_now(secret) != "000000" else "111111").status_code == 200
    response = _login(client, sy_reviewer, totp_code_now(secret))
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert client.get(QUEUE).status_code == 200
    # The first backend signed them in: Django's, with the cheap user read (portal.auth_backends).
    assert client.session["_auth_user_backend"] == "portal.auth_backends.ModelBackend"


def test_a_code_cannot_be_replayed(sy_reviewer):
    secret = generate_totp_secret()
    TOTP.activate(sy_reviewer, secret)
    code = totp_code_now(secret)
    assert _login(Client(), sy_reviewer, code).status_code == 302
    assert _login(Client(), sy_reviewer, code).status_code == 200


def test_staff_without_authenticator_must_enrol_first(sy_reviewer):
    client = Client()
    assert _login(client, sy_reviewer).status_code == 302
    response = client.get(QUEUE)
    assert response.status_code == 302 and response["Location"] == reverse("reviews:totp_enroll")
    page = client.get(reverse("reviews:totp_enroll")).content.decode()
    secret = page.split('data-testid="totp-secret">')[1].split("<")[0]
    assert client.post(reverse("reviews:totp_enroll"), {"code": "12345"}).status_code == 200  # wrong
    assert totp_authenticator_get(user=sy_reviewer) is None
    response = client.post(reverse("reviews:totp_enroll"), {"code": totp_code_now(secret)})
    assert response.status_code == 302
    assert totp_authenticator_get(user=sy_reviewer) is not None
    assert client.get(QUEUE).status_code == 200


def test_mfa_can_be_switched_off_for_the_embedded_demo(settings, sy_reviewer):
    settings.STAFF_MFA_REQUIRED = False
    client = Client()
    _login(client, sy_reviewer)
    assert client.get(QUEUE).status_code == 200


def test_staff_session_from_another_login_path_is_not_trusted(client, sy_reviewer):
    TOTP.activate(sy_reviewer, generate_totp_secret())
    client.force_login(sy_reviewer)  # e.g. signed in through the citizens' login
    response = client.get(QUEUE)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_lockout_after_repeated_failures(settings, sy_reviewer):
    settings.STAFF_LOGIN_MAX_FAILURES = 3
    client = Client()
    for _ in range(3):
        client.post(LOGIN, {"username": sy_reviewer.username, "password": "wrong", "next": QUEUE})
    response = _login(client, sy_reviewer)  # now even the right password is refused
    assert response.status_code == 200 and "临时锁定" in response.content.decode()


def test_lockout_counts_wrong_codes_too(settings, sy_reviewer):
    settings.STAFF_LOGIN_MAX_FAILURES = 2
    secret = generate_totp_secret()
    TOTP.activate(sy_reviewer, secret)
    client = Client()
    _login(client, sy_reviewer, "000001")
    _login(client, sy_reviewer, "000002")
    assert _login(client, sy_reviewer, totp_code_now(secret)).status_code == 200


def test_idle_staff_session_expires(mfa_login, sy_reviewer, settings):
    settings.STAFF_IDLE_TIMEOUT_SECONDS = 60
    client = mfa_login(sy_reviewer)
    assert client.get(QUEUE).status_code == 200
    session = client.session
    session[SESSION_LAST_SEEN] = int(time.time()) - 61
    session.save()
    response = client.get(QUEUE)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert client.get(QUEUE).status_code == 302  # really logged out


def test_citizens_are_not_affected(client, settings):
    from tests.factories import UserFactory

    settings.STAFF_IDLE_TIMEOUT_SECONDS = 0
    citizen = UserFactory()
    client.force_login(citizen)
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 200  # no idle logout, no MFA enrolment redirect
    assert SESSION_LAST_SEEN not in client.session
