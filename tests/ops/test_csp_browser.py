"""The Content-Security-Policy in a real browser: pages raise no violation, and the language
picker (formerly an inline onchange) still switches language through static/js/portal.js."""
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _violations(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text) if "Content Security Policy" in message.text else None)
    return messages


def test_pages_raise_no_csp_violation_and_the_language_picker_works(live_server, phone_page):
    page = phone_page
    violations = _violations(page)
    for path in ("/", "/catalog/", "/accounts/login/", "/accounts/signup/", "/track/"):
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    with page.expect_navigation():
        page.locator("#lang-select").select_option("en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert violations == []


def test_an_inline_script_would_be_blocked(live_server, phone_page):
    # Proves the policy is enforced by the browser, so the test above can fail.
    page = phone_page
    violations = _violations(page)
    page.goto(live_server.url + "/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.__inline") is None
    assert violations and "script-src" in violations[0]
