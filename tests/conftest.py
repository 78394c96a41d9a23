import pytest


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Uploaded files go to a per-test directory, never to the developer's var/.

    Changing STORAGES through the ``settings`` fixture fires Django's ``setting_changed``,
    which resets ``default_storage``.
    """
    if settings.STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                **settings.STORAGES["default"],
                "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
            },
        }


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (the suite's own Redis db) and no copy of the catalog: cached values such as the
    inbox badge count are keyed by ids that a new test database hands out again."""
    from django.core.cache import cache, caches

    from catalog.selectors import catalog_copy_forget
    from portal.page_memo import page_memo_clear

    cache.clear()
    page_memo_clear()  # kept pages are keyed by rows, whose ids a new test database hands out again
    caches["shell"].clear()  # the shell's fragments: a test may change the URLs or the environment
    # The process's copy of the catalog too: a new test database reuses the ids.
    catalog_copy_forget()


# One Playwright/Chromium for every browser test in the run, wherever the test lives.
from tests.browser import browser, phone_page, screenshot  # noqa: E402,F401
