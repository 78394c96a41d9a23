"""The catalog on a 375 px phone: province → city → search → disease, in Chromium."""
import pytest

from catalog.loader import catalog_load
from tests.e2e.conftest import assert_fits_phone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_find_a_disease_in_shaoyang_on_a_phone(live_server, phone_page, screenshot):
    catalog_load()
    page = phone_page
    page.goto(live_server.url + "/catalog/")
    assert_fits_phone(page)

    page.get_by_role("link", name="湖南省").click()
    page.wait_for_load_state()
    assert_fits_phone(page)
    page.get_by_role("link", name="邵阳市").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "湖南省 · 邵阳市"
    assert "已载入 8 / 声明 43 种" in page.locator(".counts").inner_text()
    assert_fits_phone(page)
    screenshot(page, "shaoyang-region")

    page.get_by_label("按病种名称搜索").fill("肿瘤")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_load_state()
    results = page.locator(".disease-list .name")
    assert results.all_inner_texts() == ["恶性肿瘤门诊放化疗"]
    assert_fits_phone(page)

    results.first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "恶性肿瘤门诊放化疗"
    body = page.locator("main").inner_text()
    for expected in ("准入标准", "所需材料", "报销待遇", "80%", "85%", "70%", "认定后 24 个月", "未核实"):
        assert expected in body, expected
    assert_fits_phone(page)
    screenshot(page, "shaoyang-disease")


def test_disease_page_fits_in_english_and_elder_mode(live_server, phone_page, screenshot):
    """Longer English labels and 21 px elder-mode text must still fit the phone."""
    catalog_load()
    page = phone_page
    page.goto(live_server.url + "/catalog/520200/")
    with page.expect_navigation():
        page.locator("#lang-select").select_option("en")
    assert "Loaded 11 of 49 declared" in page.locator(".counts").inner_text()
    with page.expect_navigation():
        page.locator("form[action*='elder-mode'] button").click()
    assert page.evaluate("document.documentElement.classList.contains('elder')")
    assert_fits_phone(page)
    page.get_by_role("link", name="重性精神病（含精神分裂症、双相情感障碍等）").click()
    page.wait_for_load_state()
    assert "No official data yet" in page.locator("main").inner_text()
    assert_fits_phone(page)
    screenshot(page, "liupanshui-disease-en-elder")
