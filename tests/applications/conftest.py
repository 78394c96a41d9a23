import pytest


@pytest.fixture(autouse=True)
def _tasks_run_in_process(monkeypatch):
    """Tasks queued on commit run in the test process (the broker exists, but no worker does)."""
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
