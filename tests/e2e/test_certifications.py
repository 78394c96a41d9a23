"""Browser tests at 375 px: an extension (延期) and a designated-hospital change."""
import datetime as dt
import io

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from PIL import Image

from applications.models import Application, ApplicationKind
from tests.certifications.factories import CertificationFactory, citizen
from tests.browser import wait_for_path
from tests.e2e.conftest import assert_fits_phone
from tests.factories import DiseaseFactory, InstitutionFactory, RegionFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, live_server, user) -> None:
    """force_login in a test client, then hand its session cookie to the browser."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }])


def photo_file(tmp_path):
    path = tmp_path / "手持身份证.jpg"
    Image.new("RGB", (640, 480), (180, 160, 140)).save(path, format="JPEG")
    return path


def test_extension_at_375px(live_server, phone_page, screenshot, tmp_path):
    region = RegionFactory()
    user, person = citizen()
    disease = DiseaseFactory(region=region, name="糖尿病", validity_rule="months", validity_months=12)
    today = timezone.localdate()
    cert = CertificationFactory(application__applicant=user, application__patient=person, application__region=region,
                                application__disease=disease, begndate=today - dt.timedelta(days=355),
                                enddate=today + dt.timedelta(days=10))
    page = phone_page
    login(page, live_server, user)
    page.goto(live_server.url + "/certifications/")
    assert page.locator("h1").inner_text() == "我的门特资格"
    assert page.get_by_text("即将到期").first.is_visible()
    assert_fits_phone(page)
    screenshot(page, "1-my-certifications")
    page.get_by_role("link", name="申请延期").click()
    assert page.locator("h1").inner_text() == "申请延期"
    assert page.get_by_text(f"{cert.enddate:%Y-%m-%d}").first.is_visible()
    page.set_input_files("input[name=id_photo]", str(photo_file(tmp_path)))
    assert_fits_phone(page)
    screenshot(page, "2-extension-form")
    page.get_by_role("button", name="提交申请").click()
    wait_for_path(page, f"/certifications/{cert.pk}/")
    assert "已提交，受理编号" in page.locator(".messages").inner_text()
    assert page.get_by_text("已提交，正在审核").first.is_visible()
    assert_fits_phone(page)
    screenshot(page, "3-extension-submitted")
    case = Application.objects.get(parent=cert.application)
    assert case.kind == ApplicationKind.EXTENSION and case.materials.count() == 1


def test_hospital_change_at_375px(live_server, phone_page, screenshot):
    region = RegionFactory()
    user, person = citizen()
    first = InstitutionFactory(region=region, name="六盘水市人民医院", level=3, district="钟山区")
    second = InstitutionFactory(region=region, name="六盘水市第二人民医院", level=2, district="水城区")
    third = InstitutionFactory(region=region, name="钟山区人民医院", level=2, district="钟山区")
    cert = CertificationFactory(application__applicant=user, application__patient=person, application__region=region,
                                begndate=timezone.localdate(), enddate=None, designated_institution=first)
    page = phone_page
    login(page, live_server, user)
    page.goto(live_server.url + f"/certifications/{cert.pk}/")
    page.get_by_role("link", name="变更定点医疗机构").click()
    page.select_option("select[name=level]", "2")
    page.select_option("select[name=district]", "水城区")
    page.get_by_role("button", name="筛选").click()
    assert page.get_by_text(second.name).is_visible()
    assert page.get_by_text(third.name).count() == 0
    assert_fits_phone(page)
    screenshot(page, "1-filtered-hospitals")
    page.get_by_label(second.name).check()
    page.get_by_role("button", name="确认选择").click()
    wait_for_path(page, f"/certifications/{cert.pk}/")
    assert second.name in page.locator(".messages").inner_text()
    screenshot(page, "2-changed")
    # The second change in the same calendar year is refused with the date it is possible again.
    page.goto(live_server.url + f"/certifications/{cert.pk}/hospital/")
    next_year = f"{timezone.localdate().year + 1}-01-01"
    assert next_year in page.locator("main").inner_text()
    page.get_by_label(third.name).check()
    page.get_by_role("button", name="确认选择").click()
    assert next_year in page.locator(".messages").inner_text()
    assert_fits_phone(page)
    screenshot(page, "3-second-change-refused")
    cert.refresh_from_db()
    assert cert.designated_institution == second
    # The other certification pages fit the phone too.
    for path, name in ((f"/certifications/{cert.pk}/", "4-detail"), (f"/certifications/{cert.pk}/remote-care/", "5-remote-care-form")):
        page.goto(live_server.url + path)
        assert_fits_phone(page)
        screenshot(page, name)
