"""Enumeration prevention: a number being registered here hints at a chronic disease, so login and
signup answer the same for every number, and only the number's own SMS tells the truth.

Each probe runs in a fresh browser and compares what an outsider sees for a registered and an
unregistered number: status, redirect and page text (CSRF tokens and the typed number aside).
"""
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from notifications.models import DevSms
from tests.factories import UserFactory

User = get_user_model()
KNOWN = "13800138000"
UNKNOWN = "13900139000"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def probe(django_capture_on_commit_callbacks, sms_inline):
    """POST as an outsider in a fresh browser, follow redirects; (status, chain, page text)."""

    def run(url: str, phone: str, client: Client | None = None, **data):
        client = client or Client()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"phone": phone, **data}, follow=True)
        html = CSRF.sub("csrf", response.content.decode()).replace(phone, "<phone>")
        return response.status_code, [url for url, _ in response.redirect_chain], html

    return run


def sms(phone: str) -> list[str]:
    return list(DevSms.objects.filter(phone__endswith=phone).order_by("pk").values_list("template_key", flat=True))


@pytest.fixture
def registered(db):
    return UserFactory(phone=KNOWN, phone_verified=True)


@pytest.mark.django_db
def test_login_by_code_looks_the_same_for_an_unknown_number(probe, registered):
    known = probe(reverse("account_request_login_code"), KNOWN)
    unknown = probe(reverse("account_request_login_code"), UNKNOWN)
    assert known[0] == unknown[0] == 200
    assert known[1] == unknown[1] == [reverse("account_confirm_login_code")]
    assert known[2] == unknown[2]
    assert "验证码已发送至 <phone>" in unknown[2] and "注册" not in unknown[2].split("<main", 1)[-1]
    # The registered number got its code; the other one a notice and no code.
    assert sms(KNOWN) == ["login_code"]
    assert sms(UNKNOWN) == ["login_unknown_account"]
    notice = DevSms.objects.get(phone__endswith=UNKNOWN)
    assert "尚未注册" in notice.text and "用手机号注册" in notice.text and not re.search(r"\d{6}", notice.text)
    assert not User.objects.filter(phone=UNKNOWN).exists()


@pytest.mark.django_db
def test_signup_looks_the_same_for_a_registered_number(probe, registered):
    known = probe(reverse("account_signup"), KNOWN)
    unknown = probe(reverse("account_signup"), UNKNOWN)
    assert known[0] == unknown[0] == 200
    assert known[1] == unknown[1] == [reverse("account_verify_phone")]
    assert known[2] == unknown[2]
    assert "验证码已发送至 <phone>" in known[2]
    # The new number got a code (and an unverified account); the registered one a notice only.
    assert sms(UNKNOWN) == ["login_code"]
    assert sms(KNOWN) == ["signup_account_exists"]
    notice = DevSms.objects.get(phone__endswith=KNOWN)
    assert "已注册" in notice.text and "验证码直接登录" in notice.text
    assert User.objects.filter(phone=KNOWN).count() == 1
    registered.refresh_from_db()
    assert registered.phone_verified is True and registered.is_active


@pytest.mark.django_db
def test_a_wrong_code_after_signup_looks_the_same(probe, registered):
    """Someone probing a registered number cannot tell by typing a code either."""
    pages = []
    for phone in (KNOWN, UNKNOWN):
        client = Client()
        probe(reverse("account_signup"), phone, client=client)
        pages.append(probe(reverse("account_verify_phone"), phone, client=client, action="verify", code="000000"))
    assert pages[0] == pages[1]
    assert pages[0][0] == 200 and "验证码不正确" in pages[0][2]


@pytest.mark.django_db
def test_signup_page_offers_no_number_change(probe, registered):
    """allauth offers "change the number" only for a new number; the page offers it to no one."""
    for phone in (KNOWN, UNKNOWN):
        _, _, html = probe(reverse("account_signup"), phone)
        assert "更换手机号" not in html and 'name="action" value="change"' not in html
        assert "取消，换个手机号" in html


@pytest.mark.django_db
def test_a_second_request_within_a_minute_is_refused_alike(probe, registered):
    answers = {}
    for phone in (KNOWN, UNKNOWN):
        probe(reverse("account_request_login_code"), phone)
        answers[phone] = probe(reverse("account_request_login_code"), phone)
    assert answers[KNOWN] == answers[UNKNOWN]
    assert answers[KNOWN][0] == 200 and "每分钟只能获取一次验证码" in answers[KNOWN][2]
    assert sms(KNOWN) == ["login_code"] and sms(UNKNOWN) == ["login_unknown_account"]


@pytest.mark.django_db
def test_a_notice_counts_like_a_code_for_the_next_minute(probe, registered):
    """Signup for a registered number, then login by code from elsewhere within the minute: the
    code waits like it would after a code, so the two flows together tell nothing either."""
    answers = {}
    for phone in (KNOWN, UNKNOWN):
        probe(reverse("account_signup"), phone)
        answers[phone] = probe(reverse("account_request_login_code"), phone)
    assert answers[KNOWN] == answers[UNKNOWN]
    assert answers[KNOWN][0] == 429
    assert "验证码发送过于频繁，请" in answers[KNOWN][2] and '<html lang="zh-hans"' in answers[KNOWN][2]
    assert sms(KNOWN) == ["signup_account_exists"] and sms(UNKNOWN) == ["login_code"]


@pytest.mark.django_db
def test_daily_cap_is_the_same_for_notices_and_codes(probe, registered, settings, time_machine):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "LOGIN_CODES_PER_NUMBER_PER_DAY": 2}
    answers = {}
    for phone in (KNOWN, UNKNOWN):
        for minute in range(3):
            time_machine.move_to(f"2026-11-22 10:0{minute * 2}:00+08:00", tick=False)
            cache.clear()  # allauth's own per-minute counter lives in Redis
            answers[phone] = probe(reverse("account_request_login_code"), phone)
    assert answers[KNOWN] == answers[UNKNOWN]
    assert answers[KNOWN][0] == 429
    assert "该手机号今日获取验证码次数已达上限，请明天再试。" in answers[KNOWN][2]
    assert sms(KNOWN) == ["login_code"] * 2
    assert sms(UNKNOWN) == ["login_unknown_account"] * 2


@pytest.mark.django_db
def test_password_login_says_the_same_for_an_unknown_number(registered):
    answers = []
    for phone in (KNOWN, UNKNOWN):
        response = Client().post(reverse("account_login"), {"login": phone, "password": "Wrong-pass-2026"})
        answers.append((response.status_code, CSRF.sub("csrf", response.content.decode()).replace(phone, "<phone>")))
    assert answers[0] == answers[1]
    assert "手机号或密码不正确" in answers[0][1]


@pytest.mark.django_db
def test_the_unknown_number_can_sign_up_after_the_notice(probe, django_capture_on_commit_callbacks, time_machine):
    """The notice's advice works: a minute later, signup sends a code and the account is made."""
    time_machine.move_to("2026-11-22 10:00:00+08:00", tick=False)
    probe(reverse("account_request_login_code"), UNKNOWN)
    time_machine.move_to("2026-11-22 10:01:05+08:00", tick=False)
    cache.clear()
    client = Client()
    probe(reverse("account_signup"), UNKNOWN, client=client)
    code = DevSms.objects.filter(phone__endswith=UNKNOWN, template_key="login_code").get().params["code"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_verify_phone"), {"action": "verify", "code": code})
    assert response.status_code == 302
    assert User.objects.get(phone=UNKNOWN).phone_verified is True
