"""A daughter applies on her phone (375 px) for her mother: three uploads, submit, receipt PDF, /track/.

The account is created with factories and logged in through a session cookie: sign-up by SMS code
is the accounts area's page and has its own browser test.
"""
import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.applications import corpus
from tests.applications.factories import CriterionFactory, HouseholdMemberFactory, RequiredMaterialFactory, verified_citizen
from tests.browser import wait_for_path
from tests.e2e.conftest import assert_fits_phone
from tests.factories import DiseaseFactory, InstitutionFactory, PersonFactory, RegionFactory, SchemeFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tasks_in_process(monkeypatch):
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


def _login(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def _file(name, data, mime):
    return {"name": name, "mimeType": mime, "buffer": data}


def _apply_through_the_wizard(page, live_server, screenshot, *, patient_choice, masked_name, disease, hospital, criterion_text):
    """From "我的申请" to the receipt: the five steps with three uploads. Returns the number."""
    page.goto(live_server.url + "/applications/")
    assert_fits_phone(page)
    screenshot(page, "01-my-applications-empty")
    page.get_by_role("link", name="新的门特申请").click()

    # Step 1: who is the patient.
    page.get_by_label(patient_choice, exact=False).check()
    assert_fits_phone(page)
    screenshot(page, "02-patient")
    page.get_by_role("button", name="下一步").click()

    # Step 2: region defaults from the mother's record; choose the disease.
    page.get_by_label("申请病种").select_option(label=disease.name)
    # The page reloads with the disease's entry criteria (progressive enhancement).
    page.get_by_label(criterion_text, exact=False).check()
    assert_fits_phone(page)
    screenshot(page, "03-disease")
    page.get_by_role("button", name="保存并下一步").click()

    # Step 3: disease information, with the designated hospital.
    page.locator("#id_diagnosis").fill("原发性高血压 3 级")
    page.locator("#id_diagnosing_institution").select_option(label=f"{hospital.name}（三级甲）")
    page.locator("#id_diagnosis_date").fill("2026-03-01")
    page.locator("#id_designated_institution").select_option(label=f"{hospital.name}（三级甲）")
    assert_fits_phone(page)
    screenshot(page, "04-disease-info")
    page.get_by_role("button", name="保存并下一步").click()

    # Step 4: three uploads, one per slot, through the JS progress path.
    uploads = [
        ("疾病诊断证明书", _file("诊断证明.jpg", corpus.jpeg_bytes(size=(1200, 900)), "image/jpeg")),
        ("代办人身份证", _file("我的身份证.jpg", corpus.jpeg_bytes(size=(800, 500)), "image/jpeg")),
        ("关系证明或授权委托书", _file("户口本.pdf", corpus.pdf_bytes(), "application/pdf")),
    ]
    for slot_name, payload in uploads:
        section = page.locator("section.app-slot", has=page.get_by_role("heading", name=slot_name))
        section.locator("input[type=file][multiple]").set_input_files(payload)
        with page.expect_navigation():
            section.get_by_role("button", name="上传").click()
        assert page.locator("section.app-slot", has=page.get_by_role("heading", name=slot_name)).get_by_role("link", name=payload["name"]).is_visible()
    assert_fits_phone(page)
    screenshot(page, "05-materials")
    page.get_by_role("link", name="下一步：确认提交").click()

    # Step 5: review, consent, submit.
    assert page.locator(".app-missing").count() == 0
    page.get_by_label("我已阅读并同意上述医疗健康信息处理授权").check()
    assert_fits_phone(page)
    screenshot(page, "06-review")
    page.get_by_role("button", name="提交申请").click()

    number = page.get_by_test_id("acceptance-number").inner_text().strip()
    assert number.startswith("430500-") and len(number) == len("430500-20261122-000001")
    assert masked_name in page.content()
    assert_fits_phone(page)
    screenshot(page, "07-receipt")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载回执 PDF").first.click()
    download = download_info.value
    assert download.suggested_filename == f"receipt-{number}.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"

    return number


def test_apply_for_mother_submit_receipt_and_track(live_server, phone_page, screenshot, tasks_in_process):
    region = RegionFactory()
    scheme = SchemeFactory()
    user, _ = verified_citizen(full_name="王小红", region=region, scheme=scheme)
    mother = PersonFactory(full_name="李秀英", region=region, scheme=scheme)
    HouseholdMemberFactory(account=user, person=mother, relationship="parent")
    disease = DiseaseFactory(region=region, schemes=[scheme], name="高血压（合并心、脑、肾并发症）")
    RequiredMaterialFactory(disease=disease, code="diagnosis", name="疾病诊断证明书", description="二级及以上医院出具，加盖公章")
    CriterionFactory(disease=disease, text="非同日 3 次测量，舒张压≥90mmHg")
    hospital = InstitutionFactory(region=region, name="邵阳市中心医院", level=3)

    page = phone_page
    _login(page, live_server, user)
    number = _apply_through_the_wizard(
        page, live_server, screenshot, patient_choice="李**", masked_name="李**", disease=disease, hospital=hospital, criterion_text="舒张压≥90mmHg"
    )
    assert "李**" in page.content() and "李秀英" not in page.content()

    _listed_and_tracked(page, live_server, screenshot, number=number, id_number=mother.id_number, masked="李**")


def _listed_and_tracked(page, live_server, screenshot, *, number, id_number, masked):
    # "我的申请" lists it with its badge.
    page.goto(live_server.url + "/applications/")
    assert page.locator(".app-list .badge").first.inner_text() == "已受理"
    screenshot(page, "08-my-applications")

    # The public lookup, as the mother would do at home (a fresh browser would do the same).
    page.goto(live_server.url + "/track/")
    page.get_by_label("受理编号").fill(number)
    page.get_by_label("患者身份证号").fill(id_number)
    page.get_by_role("button", name="查询").click()
    result = page.get_by_test_id("track-result")
    assert "已受理" in result.inner_text() and masked in result.inner_text()
    assert id_number not in page.content()
    assert_fits_phone(page)
    screenshot(page, "09-track")


def test_full_journey_signup_identity_household_apply(live_server, phone_page, screenshot, tasks_in_process, settings):
    """The issue's journey end to end: sign up with a code from the developer SMS inbox, pass
    the (development) face check, add the mother, then apply for her."""
    from django.core.cache import cache

    from notifications.models import DevSms

    cache.clear()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.IDENTITY_DEV_PROVIDER_ALLOWED = True
    region = RegionFactory()
    scheme = SchemeFactory()
    disease = DiseaseFactory(region=region, schemes=[scheme], name="糖尿病")
    RequiredMaterialFactory(disease=disease, code="diagnosis", name="疾病诊断证明书")
    CriterionFactory(disease=disease, text="空腹血糖≥7.0mmol/L")
    hospital = InstitutionFactory(region=region, name="邵阳市第一人民医院", level=3)
    page = phone_page

    page.goto(live_server.url + "/accounts/signup/")
    page.get_by_label("手机号").fill("13912340000")
    page.get_by_role("button", name="获取验证码并注册").click()
    wait_for_path(page, "/accounts/phone/verify/")
    sms = DevSms.objects.filter(phone__endswith="13912340000").order_by("-pk").first()
    page.locator("#id_code").fill(sms.params["code"])
    page.get_by_role("button", name="确认").click()
    wait_for_path(page, "/me/identity/")
    page.get_by_label("姓名").fill("刘建华")
    page.get_by_label("身份证号").fill("11010519491231002x")
    page.get_by_label("参保地").select_option(str(region.pk))
    page.get_by_label("参保类型").select_option(label=scheme.name)
    page.get_by_role("button", name="下一步：人脸识别").click()
    wait_for_path(page, "/me/identity/face/")
    page.get_by_role("button", name="开始人脸识别").click()
    wait_for_path(page, "/me/")
    page.get_by_role("link", name="添加家庭成员").first.click()
    wait_for_path(page, "/me/household/add/")
    page.get_by_label("姓名").fill("刘桂英")
    page.get_by_label("身份证号").fill("440524188001010014")
    page.get_by_label("与您的关系").select_option("parent")
    page.get_by_label("户口本").check()
    page.get_by_label("证明材料照片或扫描件").set_input_files(_file("户口本.jpg", corpus.jpeg_bytes(), "image/jpeg"))
    page.get_by_role("button", name="保存").click()
    wait_for_path(page, "/me/household/")

    number = _apply_through_the_wizard(
        page, live_server, screenshot, patient_choice="440524", masked_name="刘**", disease=disease, hospital=hospital, criterion_text="空腹血糖"
    )
    _listed_and_tracked(page, live_server, screenshot, number=number, id_number="440524188001010014", masked="刘**")
