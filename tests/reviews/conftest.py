import time

import pytest
from django.core.cache import cache

from reviews.roles import StaffRole
from tests.reviews.factories import OrganisationFactory, region, staff_user


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Lockout counters and used TOTP codes live in the cache (this area's own Redis db)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def shaoyang(db):
    return region("430500")


@pytest.fixture
def liupanshui(db):
    return region("520200")


@pytest.fixture
def xuchang(db):
    return region("411000")


@pytest.fixture
def lps_org(liupanshui):
    return OrganisationFactory(name="六盘水市医疗保障事务中心", regions=[liupanshui])


@pytest.fixture
def xc_org(xuchang):
    return OrganisationFactory(name="许昌市医疗保障中心", regions=[xuchang])


@pytest.fixture
def sy_org(shaoyang):
    return OrganisationFactory(name="邵阳市中心医院", kind="hospitals", regions=[shaoyang])


@pytest.fixture
def lps_reviewer(lps_org):
    return staff_user(organisation=lps_org, username="lps_reviewer")


@pytest.fixture
def xc_reviewer(xc_org):
    return staff_user(organisation=xc_org, username="xc_reviewer")


@pytest.fixture
def sy_reviewer(sy_org):
    return staff_user(organisation=sy_org, username="sy_reviewer")


@pytest.fixture
def sy_reviewer2(sy_org):
    return staff_user(organisation=sy_org, username="sy_reviewer2")


@pytest.fixture
def sy_supervisor(sy_org):
    return staff_user(organisation=sy_org, roles=(StaffRole.SUPERVISOR,), username="sy_supervisor")


@pytest.fixture
def sy_experts(sy_org):
    return [staff_user(organisation=sy_org, roles=(StaffRole.EXPERT,), username=f"sy_expert{i}") for i in (1, 2)]


PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's password


def totp_code_now(secret: str, *, seconds_left: float = 2.0) -> str:
    """The code an authenticator app shows now, with at least ``seconds_left`` before it changes.

    allauth accepts only the current 30 s step (MFA_TOTP_TOLERANCE is 0), so a code read in
    the last second of a step and checked in the next one fails the login; CI saw that race once
    in the browser test. Waiting out the end of a step keeps the code valid for the whole check,
    the way a person waits for a fresh code. The test client posts at once (2 s is ample); the
    browser test types the code and clicks, and asks for more.
    """
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    period = app_settings.TOTP_PERIOD
    remaining = period - time.time() % period
    if remaining < seconds_left:
        time.sleep(remaining + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


@pytest.fixture
def mfa_login():
    """Sign a staff member in through the real admin login: password plus a TOTP code.

    This is how every admin test gets its client: the user is enrolled with a real TOTP
    authenticator (allauth.mfa) and the login form checks the code, so the middleware that
    guards staff sessions sees a verified session exactly as in production.
    """
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.test import Client

    from reviews.security import totp_authenticator_get

    clients: dict[int, Client] = {}

    def login(user) -> Client:
        # One login per user and test: a TOTP code is single-use within its 30-second period.
        if user.pk in clients:
            return clients[user.pk]
        client = Client()
        secret = generate_totp_secret()
        if totp_authenticator_get(user=user) is None:
            TOTP.activate(user, secret)
        else:
            from allauth.mfa.utils import decrypt

            secret = decrypt(totp_authenticator_get(user=user).data["secret"])
        response = client.post(
            "/admin/login/",
            {"username": user.username, "password": PASSWORD, "otp_code": totp_code_now(secret), "next": "/admin/"},
        )
        assert response.status_code == 302, f"MFA login failed for {user.username}"
        clients[user.pk] = client
        return client

    return login
