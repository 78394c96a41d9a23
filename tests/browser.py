"""Browser tests: Playwright driving Debian's Chromium (no browser download is possible here).

Registered for the whole suite in tests/conftest.py; import only `assert_fits_phone` and
`wait_for_path` from here."""
import os
from urllib.parse import urlsplit
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test itself
# (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
OUTPUT_DIR = Path(__file__).resolve().parents[2] / "test-results"
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone_page(browser, request):
    """A fresh 375 px wide page (an ordinary phone) in Chinese."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(request):
    """``screenshot(page, "name")`` saves a PNG under test-results/<test name>/."""
    folder = OUTPUT_DIR / request.node.name
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def assert_fits_phone(page) -> None:
    """Nothing on the page is wider than the phone screen (no sideways scrolling)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the 375px screen"


def wait_for_path(page, path: str) -> None:
    """Wait until the page is at exactly ``path`` (query string ignored).

    Playwright's glob ``**/me/`` also matches ``/accounts/login/?next=/me/``, so a login that
    failed looked like one that worked and the test broke a step later with a misleading
    timeout. Comparing the path alone makes the failing step the one that reports.
    """
    page.wait_for_url(lambda url: urlsplit(url).path == path)
