"""A reviewer works a case end to end in the admin while the citizen follows it on her phone.

Reviewer: signs in with password and TOTP code, filters the queue, opens the case, asks for one
document again (一次性告知). Citizen: re-uploads only that document and resubmits. Reviewer:
approves. Citizen: sees the certification.
"""
import pytest
from django.conf import settings as django_settings
from django.test import Client

from applications.models import Application, ApplicationStatus as S
from tests.applications import corpus
from tests.applications.factories import verified_citizen
from tests.browser import wait_for_path
from tests.e2e.conftest import assert_fits_phone
from tests.factories import DiseaseFactory, SchemeFactory
from tests.reviews.conftest import PASSWORD, totp_code_now
from tests.reviews.factories import OrganisationFactory, material, region, staff_user, submitted_application

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tasks_in_process(monkeypatch):
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


def _citizen_login(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_reviewer_supplement_then_approve_citizen_sees_certification(
    live_server, browser, phone_page, screenshot, tasks_in_process
):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from catalog.models import RequiredMaterial

    shaoyang = region("430500")
    scheme = SchemeFactory()
    citizen, person = verified_citizen(full_name="王秀兰", region=shaoyang, scheme=scheme)
    disease = DiseaseFactory(region=shaoyang, schemes=[scheme], name="糖尿病", validity_rule="long_term",
                             entry_standard="二级及以上医院诊断；空腹血糖≥7.0mmol/L")
    RequiredMaterial.objects.create(disease=disease, code="diagnosis", name="疾病诊断证明书", order=1)
    RequiredMaterial.objects.create(disease=disease, code="lab", name="化验报告", order=2)
    case = submitted_application(region_obj=shaoyang, disease=disease, applicant=citizen, patient=person,
                                 scheme=scheme)
    diagnosis_doc = material(application=case, slot="diagnosis", name="诊断证明.png")
    material(application=case, slot="lab", pdf=True, name="化验单.pdf")
    organisation = OrganisationFactory(name="邵阳市中心医院", kind="hospitals", regions=[shaoyang])
    reviewer = staff_user(organisation=organisation, username="sy_reviewer")
    secret = generate_totp_secret()
    TOTP.activate(reviewer, secret)

    # --- the reviewer signs in with password and authenticator code -----------------------
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk.set_default_timeout(15_000)
    staff = desk.new_page()
    staff.goto(live_server.url + "/admin/login/?next=/admin/applications/application/")
    staff.locator("#id_username").fill("sy_reviewer")
    staff.locator("#id_password").fill(PASSWORD)
    staff.locator("#id_otp_code").fill(totp_code_now(secret, seconds_left=10))
    staff.locator("#login-form [type=submit]").click()
    wait_for_path(staff, "/admin/applications/application/")
    screenshot(staff, "01-queue")

    # Filter: unassigned cases due later than today.
    staff.get_by_role("link", name="未分配").click()
    staff.get_by_role("link", name="未超期").click()
    assert "assigned=none" in staff.url and "deadline=on_time" in staff.url
    staff.get_by_role("link", name=case.acceptance_number).click()
    assert staff.get_by_test_id("acceptance-number").inner_text() == case.acceptance_number
    assert "王秀兰" not in staff.content() and "王**" in staff.content()
    screenshot(staff, "02-case")

    # Claim, then ask for the diagnosis certificate again, once, with the reason.
    staff.get_by_role("button", name="领取").click()
    assert staff.get_by_test_id("status").inner_text() == "审核中"
    staff.locator(f"select[name='supplement-verdict_{diagnosis_doc.pk}']").select_option("missing_stamp")
    staff.locator(f"input[name='supplement-verdict_note_{diagnosis_doc.pk}']").fill("诊断证明缺少医院公章")
    staff.get_by_role("button", name="一次性告知补正").click()
    assert staff.get_by_test_id("status").inner_text() == "待补正"
    screenshot(staff, "03-supplement-requested")

    # --- the citizen re-uploads only that document ----------------------------------------
    page = phone_page
    _citizen_login(page, live_server, citizen)
    page.goto(f"{live_server.url}/applications/{case.pk}/")
    notice = page.locator("#supplement")
    assert "诊断证明缺少医院公章" in notice.inner_text()
    assert notice.locator("form[data-upload]").count() == 1  # only the flagged slot
    assert_fits_phone(page)
    screenshot(page, "04-citizen-notice")
    notice.locator("input[type=file][multiple]").set_input_files(
        {"name": "诊断证明-盖章.jpg", "mimeType": "image/jpeg", "buffer": corpus.jpeg_bytes(size=(1200, 900))}
    )
    with page.expect_navigation():
        notice.get_by_role("button", name="上传").click()
    page.get_by_role("button", name="提交补正材料").click()
    page.wait_for_load_state()
    case.refresh_from_db()
    assert case.status == S.SUBMITTED and case.due_at is not None
    screenshot(page, "05-citizen-resubmitted")

    # --- the reviewer approves ----------------------------------------------------------
    staff.reload()
    assert staff.get_by_test_id("status").inner_text() == "已受理"
    assert "诊断证明-盖章.jpg" in staff.content()
    staff.get_by_role("button", name="审核通过").click()
    assert staff.get_by_test_id("status").inner_text() == "已通过"
    screenshot(staff, "06-approved")
    desk.close()

    # --- the citizen sees the certification ----------------------------------------------
    page.goto(f"{live_server.url}/certifications/")
    assert "糖尿病" in page.content() and "长期有效" in page.content()
    assert_fits_phone(page)
    screenshot(page, "07-citizen-certification")
    assert Application.objects.get(pk=case.pk).certification.begndate
