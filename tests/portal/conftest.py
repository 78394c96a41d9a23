import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in Redis (this area's own db number): each test starts clean."""
    cache.clear()


@pytest.fixture(autouse=True)
def _dev_identity_provider(settings):
    # The development face check refuses to run unless allowed (it passes everyone).
    settings.IDENTITY_DEV_PROVIDER_ALLOWED = True
