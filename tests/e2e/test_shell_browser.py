import pytest

from tests.e2e.conftest import assert_fits_phone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_home_at_375px_with_elder_mode(live_server, phone_page, screenshot):
    page = phone_page
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "门诊慢特病资格认定"
    assert_fits_phone(page)
    base_size = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.get_by_role("button", name="长辈模式").click()
    page.wait_for_load_state()
    elder_size = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert elder_size > base_size
    assert_fits_phone(page)
    screenshot(page, "home-elder-mode")
    # Remembered across pages.
    page.goto(live_server.url + "/catalog/")
    assert page.evaluate("document.documentElement.classList.contains('elder')")
