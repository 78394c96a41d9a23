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


@pytest.fixture
def sms_inline(settings):
    """Celery runs the SMS task in-process (no worker in the suite); pair with
    ``django_capture_on_commit_callbacks(execute=True)`` to get the SMS into ``DevSms``."""
    from portal.celery import app

    # Read Celery's own value before touching Django settings: the first access loads Celery's
    # configuration from them, and would otherwise "restore" the eager flag we are about to set.
    previous = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
