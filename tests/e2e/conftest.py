"""Browser fixtures live in tests/browser.py and are registered once for the whole suite by
tests/conftest.py (one Playwright and one Chromium per run: two sync Playwright instances in one
process collide). Kept importable here for ``assert_fits_phone``."""
from tests.browser import PHONE, assert_fits_phone  # noqa: F401
