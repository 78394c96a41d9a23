"""A daughter applies on her phone (375 px) for her mother: three uploads, submit, receipt PDF, /track/.

The account is created with factories and logged in through a session cookie: sign-up by SMS code
is the accounts area's page and has its own browser test.
"""
import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.applications import corpus
from tests.applications.factories import CriterionFactory, HouseholdMemberFactory, RequiredMaterialFactory, verified_citizen
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
    page.goto(live_server.url + "/applications/")
    assert_fits_phone(page)
    screenshot(page, "01-my-applications-empty")
    page.get_by_role("link", name="新的门特申请").click()

    # Step 1: who is the patient.
    page.get_by_label("李**", exact=False).check()
    assert_fits_phone(page)
    screenshot(page, "02-patient")
    page.get_by_role("button", name="下一步").click()

    # Step 2: region defaults from the mother's record; choose the disease.
    page.get_by_label("申请病种").select_option(label=disease.name)
    # The page reloads with the disease's entry criteria (progressive enhancement).
    page.get_by_label("舒张压≥90mmHg", exact=False).check()
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
    assert "李**" in page.content() and "李秀英" not in page.content()
    assert_fits_phone(page)
    screenshot(page, "07-receipt")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载回执 PDF").first.click()
    download = download_info.value
    assert download.suggested_filename == f"receipt-{number}.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"

    # "我的申请" lists it with its badge.
    page.goto(live_server.url + "/applications/")
    assert page.locator(".app-list .badge").first.inner_text() == "已受理"
    screenshot(page, "08-my-applications")

    # The public lookup, as the mother would do at home.
    page.goto(live_server.url + "/track/")
    page.get_by_label("受理编号").fill(number)
    page.get_by_label("患者身份证号").fill(mother.id_number)
    page.get_by_role("button", name="查询").click()
    result = page.get_by_test_id("track-result")
    assert "已受理" in result.inner_text() and "李**" in result.inner_text()
    assert mother.id_number not in page.content()
    assert_fits_phone(page)
    screenshot(page, "09-track")
