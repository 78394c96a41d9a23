"""A citizen on a 375 px phone: sign up with an SMS code, verify identity, add a parent with proof."""
import pytest

from notifications.models import DevSms
from tests.browser import wait_for_path
from tests.e2e.conftest import assert_fits_phone
from tests.factories import RegionFactory, SchemeFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = "13912345678"


@pytest.fixture
def sms_inline(settings):
    """Run the SMS task in-process so the dev gateway stores the code while the page waits.

    The live server commits for real (transaction=True), so on_commit callbacks fire by
    themselves; only the broker hop is replaced.
    """
    from portal.celery import app

    # Read Celery's own value before touching Django settings: the first access loads Celery's
    # configuration from them, and would otherwise "restore" the eager flag we are about to set.
    previous = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _dev_face_check(settings):
    settings.IDENTITY_DEV_PROVIDER_ALLOWED = True


def _code_for(phone: str) -> str:
    sms = DevSms.objects.filter(phone__endswith=phone).order_by("-pk").first()
    assert sms is not None, "no SMS code was sent"
    return sms.params["code"]


def test_signup_identity_and_household_at_375px(live_server, phone_page, screenshot, sms_inline, tmp_path):
    from django.core.cache import cache

    cache.clear()
    region = RegionFactory(code="430500", province="湖南省", city="邵阳市")
    SchemeFactory(code="employee_retired", name="职工医保（退休）", order=2)
    page = phone_page

    # 1. Sign up with the mobile number; the code arrives by "SMS" (the dev gateway).
    page.goto(live_server.url + "/accounts/signup/")
    page.get_by_label("手机号").fill("+86 139-1234-5678")
    assert_fits_phone(page)
    screenshot(page, "1-signup")
    page.get_by_role("button", name="获取验证码并注册").click()
    wait_for_path(page, "/accounts/phone/verify/")
    code_input = page.locator("#id_code")
    assert code_input.get_attribute("inputmode") == "numeric"
    assert code_input.get_attribute("autocomplete") == "one-time-code"
    code_input.fill(_code_for(PHONE))
    assert_fits_phone(page)
    screenshot(page, "2-code")
    page.get_by_role("button", name="确认").click()

    # 2. Straight on to real-name identity, then the (development) face check.
    wait_for_path(page, "/me/identity/")
    page.get_by_label("姓名").fill("刘建华")
    page.get_by_label("身份证号").fill("11010519491231002x")
    page.get_by_label("参保地").select_option(str(region.pk))
    page.get_by_label("参保类型").select_option(label="职工医保（退休）")
    assert_fits_phone(page)
    screenshot(page, "3-identity")
    page.get_by_role("button", name="下一步：人脸识别").click()
    wait_for_path(page, "/me/identity/face/")
    assert "110105********002X" in page.content()
    assert_fits_phone(page)
    page.get_by_role("button", name="开始人脸识别").click()
    wait_for_path(page, "/me/")
    assert page.get_by_text("实名认证已通过").is_visible()
    assert page.locator(".badge.ok").first.inner_text() == "已认证"

    # 3. Add the mother as a household member with a photo of the 户口本 page.
    from PIL import Image

    photo = tmp_path / "hukou.jpg"
    Image.new("RGB", (600, 400), (230, 220, 200)).save(photo, format="JPEG")
    page.get_by_role("link", name="添加家庭成员").first.click()
    wait_for_path(page, "/me/household/add/")
    page.get_by_label("姓名").fill("刘桂英")
    page.get_by_label("身份证号").fill("440524188001010014")
    page.get_by_label("与您的关系").select_option("parent")
    page.get_by_label("户口本").check()
    page.get_by_label("证明材料照片或扫描件").set_input_files(str(photo))
    assert_fits_phone(page)
    screenshot(page, "4-household-add")
    page.get_by_role("button", name="保存").click()
    wait_for_path(page, "/me/household/")
    card = page.locator(".card").filter(has_text="刘**")
    assert card.is_visible()
    assert "440524********0014" in card.inner_text()
    assert "440524188001010014" not in page.content()
    assert_fits_phone(page)
    screenshot(page, "5-household")

    # The header links to "我的" for a signed-in citizen.
    page.get_by_role("link", name="我的", exact=True).click()
    wait_for_path(page, "/me/")
    assert "刘**" in page.content()
    assert_fits_phone(page)
    screenshot(page, "6-me")
