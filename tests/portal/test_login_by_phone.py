"""Sign up and log in with a mobile number and an SMS code, over HTTP, with every rate limit.

Codes travel: allauth → portal adapter → ``sms_send_login_code`` (an outbox row) → on commit a
Celery task → the dev gateway, which stores ``DevSms``. The suite runs with a real broker and no
worker, so ``sms_inline`` makes Celery run the task in-process and each request runs inside
``django_capture_on_commit_callbacks(execute=True)``: the test reads the code the citizen would
receive, through the same path production uses.
"""
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from notifications.models import DevSms
from tests.factories import UserFactory

User = get_user_model()
PHONE = "13800138000"


@pytest.fixture
def post(client, django_capture_on_commit_callbacks, sms_inline):
    def send(url, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **extra)

    return send


def last_code(phone: str) -> str:
    sms = DevSms.objects.filter(phone__endswith=phone, template_key="login_code").order_by("-pk").first()
    assert sms is not None, "no code was sent"
    return sms.params["code"]


def codes_sent(phone: str) -> int:
    return DevSms.objects.filter(phone__endswith=phone, template_key="login_code").count()


@pytest.mark.django_db
def test_signup_with_phone_and_code(client, post):
    page = client.get(reverse("account_signup"))
    html = page.content.decode()
    assert 'inputmode="numeric"' in html and "用手机号注册" in html

    response = post(reverse("account_signup"), {"phone": "+86 138-0013-8000"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_verify_phone")
    user = User.objects.get(phone=PHONE)
    assert user.phone_verified is False
    assert user.username.startswith("c_") and PHONE not in user.username
    assert not user.has_usable_password()

    page = client.get(reverse("account_verify_phone"))
    html = page.content.decode()
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    code = last_code(PHONE)
    assert len(code) == 6 and code.isdigit()

    response = post(reverse("account_verify_phone"), {"action": "verify", "code": code})
    assert response.status_code == 302
    assert response["Location"] == "/me/identity/"
    user.refresh_from_db()
    assert user.phone_verified is True
    assert client.get("/me/").status_code == 200


@pytest.mark.django_db
def test_signup_with_optional_password_then_password_login(client, post):
    post(reverse("account_signup"), {"phone": PHONE, "password1": "Shaoyang-2026-mt"})
    post(reverse("account_verify_phone"), {"action": "verify", "code": last_code(PHONE)})
    client.logout()
    response = client.post(reverse("account_login"), {"login": "138 0013 8000", "password": "Shaoyang-2026-mt"})
    assert response.status_code == 302
    assert client.get("/me/").status_code == 200


@pytest.mark.django_db
def test_signup_with_a_registered_number_tells_the_number_not_the_page(client, post):
    """Enumeration prevention: the page goes on to "enter the code"; the SMS says "log in instead"."""
    user = UserFactory(phone=PHONE)
    response = post(reverse("account_signup"), {"phone": PHONE})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_verify_phone")
    assert "已注册" not in client.get(response["Location"]).content.decode()
    assert codes_sent(PHONE) == 0
    assert DevSms.objects.filter(phone__endswith=PHONE, template_key="signup_account_exists").count() == 1
    assert list(User.objects.values_list("pk", flat=True)) == [user.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["12800138000", "1380013800", "+852 1380013800"])
def test_signup_refuses_what_is_not_a_mainland_mobile(client, post, typed):
    response = post(reverse("account_signup"), {"phone": typed})
    assert response.status_code == 200
    assert "请输入 11 位中国大陆手机号" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_login_by_code(client, post):
    user = UserFactory(phone=PHONE, phone_verified=False)
    response = post(reverse("account_request_login_code"), {"phone": "0086 13800138000"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_confirm_login_code")
    response = post(reverse("account_confirm_login_code"), {"action": "verify", "code": last_code(PHONE)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    # allauth's adapter records the first backend that is allauth's: ours, with the cheap user read.
    assert client.session["_auth_user_backend"] == "portal.auth_backends.AuthenticationBackend"
    user.refresh_from_db()
    assert user.phone_verified is True  # the code proved the number


@pytest.mark.django_db
def test_login_with_unknown_number_tells_the_number_not_the_page(client, post):
    response = post(reverse("account_request_login_code"), {"phone": PHONE})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_confirm_login_code")
    assert "尚未注册" not in client.get(response["Location"]).content.decode()
    assert codes_sent(PHONE) == 0
    assert DevSms.objects.filter(phone__endswith=PHONE, template_key="login_unknown_account").count() == 1
    assert not User.objects.exists()


@pytest.mark.django_db
def test_wrong_codes_void_the_code_after_three_tries(client, post):
    UserFactory(phone=PHONE)
    post(reverse("account_request_login_code"), {"phone": PHONE})
    right = last_code(PHONE)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(2):
        response = post(reverse("account_confirm_login_code"), {"action": "verify", "code": wrong})
        assert response.status_code == 200
        assert "验证码不正确" in response.content.decode()
    response = post(reverse("account_confirm_login_code"), {"action": "verify", "code": wrong})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_request_login_code")
    assert "验证码输错 3 次即失效" in client.get(response["Location"]).content.decode()
    # The right code no longer works either: the attempt is over.
    response = post(reverse("account_confirm_login_code"), {"action": "verify", "code": right})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_wrong_codes_at_signup_end_the_verification_with_a_message(client, post, time_machine):
    time_machine.move_to("2026-11-22 09:00:00+08:00", tick=False)
    post(reverse("account_signup"), {"phone": PHONE})
    right = last_code(PHONE)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(2):
        response = post(reverse("account_verify_phone"), {"action": "verify", "code": wrong})
        assert response.status_code == 200 and "验证码不正确" in response.content.decode()
    response = post(reverse("account_verify_phone"), {"action": "verify", "code": wrong}, follow=True)
    assert response.status_code == 200
    assert "验证码输错 3 次即失效" in response.content.decode()
    assert User.objects.get(phone=PHONE).phone_verified is False
    # The account exists, unverified: a minute later its owner gets in by logging in with a code.
    time_machine.move_to("2026-11-22 09:01:30+08:00", tick=False)
    cache.clear()  # allauth's per-number minute lives in Redis, which the time machine cannot move
    response = post(reverse("account_request_login_code"), {"phone": PHONE})
    assert response.status_code == 302
    post(reverse("account_confirm_login_code"), {"action": "verify", "code": last_code(PHONE)})
    assert User.objects.get(phone=PHONE).phone_verified is True


@pytest.mark.django_db
def test_one_code_per_number_per_minute_on_request(client, post, django_capture_on_commit_callbacks):
    UserFactory(phone=PHONE)
    post(reverse("account_request_login_code"), {"phone": PHONE})
    # The same browser is sent back to the code it already has.
    response = post(reverse("account_request_login_code"), {"phone": PHONE})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_confirm_login_code")
    # Another browser (or a script) asking for the same number is refused with a clear message.
    other = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = other.post(reverse("account_request_login_code"), {"phone": PHONE})
    assert response.status_code == 200
    assert "每分钟只能获取一次验证码" in response.content.decode()
    assert codes_sent(PHONE) == 1


@pytest.mark.django_db
def test_one_code_per_number_per_minute_on_resend(client, post):
    """"Didn't get it?" starts over (allauth's resend cannot serve an unknown number alike)."""
    UserFactory(phone=PHONE)
    post(reverse("account_request_login_code"), {"phone": PHONE})
    page = client.get(reverse("account_confirm_login_code")).content.decode()
    assert "没收到？重新获取验证码（每分钟一次）" in page
    response = post(reverse("account_logout"), {"next": reverse("account_request_login_code")}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_request_login_code")
    response = post(reverse("account_request_login_code"), {"phone": PHONE})
    assert response.status_code == 200
    assert "同一手机号每分钟只能获取一次" in response.content.decode()
    assert codes_sent(PHONE) == 1


@pytest.mark.django_db
def test_resend_after_a_minute_sends_a_new_code(client, post, time_machine):
    UserFactory(phone=PHONE)
    time_machine.move_to("2026-11-22 09:00:00+08:00", tick=False)
    post(reverse("account_request_login_code"), {"phone": PHONE})
    time_machine.move_to("2026-11-22 09:01:05+08:00", tick=False)
    cache.clear()  # allauth's per-number minute lives in Redis, which the time machine cannot move
    post(reverse("account_logout"), {"next": reverse("account_request_login_code")})
    post(reverse("account_request_login_code"), {"phone": PHONE})
    assert codes_sent(PHONE) == 2
    response = post(reverse("account_confirm_login_code"), {"action": "verify", "code": last_code(PHONE)})
    assert response.status_code == 302 and "_auth_user_id" in client.session


@pytest.mark.django_db
def test_second_signup_for_same_number_is_a_message_not_500(client, post, django_capture_on_commit_callbacks):
    post(reverse("account_signup"), {"phone": PHONE})
    # The same person again at once, from another browser (the first code has not arrived yet):
    # one SMS a minute per number, said in Chinese, whether or not the number is registered.
    other = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = other.post(reverse("account_signup"), {"phone": PHONE}, follow=True)
    assert response.status_code == 429
    assert "每分钟只能获取一次验证码" in response.content.decode()
    assert DevSms.objects.filter(phone__endswith=PHONE).count() == 1
    assert User.objects.filter(phone=PHONE).count() == 1


@pytest.mark.django_db
def test_signup_resend_within_a_minute_shows_message(client, post):
    post(reverse("account_signup"), {"phone": PHONE})
    response = post(reverse("account_verify_phone"), {"action": "resend"}, follow=True)
    assert response.status_code == 200
    assert "同一手机号每分钟只能获取一次" in response.content.decode()
    assert codes_sent(PHONE) == 1


@pytest.mark.django_db
def test_per_ip_signup_limit_answers_429_in_chinese(client, post, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/m/ip"}
    for n in range(2):
        post(reverse("account_signup"), {"phone": f"1390000000{n}"})
        client.logout()
    response = post(reverse("account_signup"), {"phone": "13900000009"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "操作过于频繁" in html and "每分钟只能获取一次验证码" in html
    assert '<html lang="zh-hans"' in html


@pytest.mark.django_db
def test_per_ip_login_limit_answers_429_in_chinese(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    for _ in range(2):
        client.post(reverse("account_login"), {"login": PHONE, "password": "nope-nope-1"})
    response = client.post(reverse("account_login"), {"login": PHONE, "password": "nope-nope-1"})
    assert response.status_code == 429
    assert "登录尝试次数过多" in response.content.decode()


@pytest.mark.django_db
def test_uncaught_rate_limit_in_verification_is_429_not_500(client, post, settings):
    """allauth lets the phone-verification limit escape the signup view; it must not be a 500."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "verify_phone": "1/m/ip"}
    post(reverse("account_signup"), {"phone": "13900000001"})
    client.logout()
    response = post(reverse("account_signup"), {"phone": "13900000002"})
    assert response.status_code == 429
    assert "每分钟只能获取一次验证码" in response.content.decode()


@pytest.mark.django_db
def test_daily_cap_of_the_sms_layer_is_a_clear_429(client, post, monkeypatch):
    """When the SMS layer refuses (its daily cap per number), the citizen sees its words, not a 500."""
    from notifications import services
    from notifications.errors import LoginCodeDailyLimit

    def refuse(*, phone, code):
        raise LoginCodeDailyLimit(retry_after=3600)

    monkeypatch.setattr(services, "sms_send_login_code", refuse)
    UserFactory(phone=PHONE)
    response = post(reverse("account_request_login_code"), {"phone": PHONE})
    assert response.status_code == 429
    assert "该手机号今日获取验证码次数已达上限，请明天再试。" in response.content.decode()


@pytest.mark.django_db
def test_login_page_is_chinese_and_phone_sized(client):
    html = client.get(reverse("account_login")).content.decode()
    assert "获取验证码" in html and 'type="tel"' in html and 'inputmode="numeric"' in html
    assert "Username" not in html and "Email" not in html


@pytest.mark.django_db
def test_login_page_in_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("account_login")).content.decode()
    assert "Get code" in html and "Sign up with your mobile number" in html


@pytest.mark.django_db
def test_change_phone_number_with_a_code_to_the_new_number(client, post, time_machine):
    time_machine.move_to("2026-11-22 09:00:00+08:00", tick=False)
    user = UserFactory(phone=PHONE)
    client.force_login(user)
    response = post(reverse("account_change_phone"), {"phone": "139 0000 1111"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.phone == PHONE  # unchanged until the new number is proven
    response = post(reverse("account_verify_phone"), {"action": "verify", "code": last_code("13900001111")})
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.phone, user.phone_verified) == ("13900001111", True)
    client.logout()
    time_machine.move_to("2026-11-22 09:01:30+08:00", tick=False)  # the next code, a minute later
    post(reverse("account_request_login_code"), {"phone": "13900001111"})
    post(reverse("account_confirm_login_code"), {"action": "verify", "code": last_code("13900001111")})
    assert client.session["_auth_user_id"] == str(user.pk)
