import pytest

from notifications import publishing
from tests.notifications.processes import PrivateRedis, Worker
from tests.notifications.scripted_gateway import ScriptedGateway


@pytest.fixture(autouse=True)
def published(request, monkeypatch):
    """Record what would be handed to the broker (unit tests never publish for real).

    Tests that run real processes ask for ``private_redis`` and publish for real instead.
    """
    publishing.broker_pause_reset()
    if "private_redis" in request.fixturenames:
        yield None
        return
    calls: list[tuple[int, int | None]] = []
    monkeypatch.setattr(publishing, "_apply", lambda notification_id, countdown: calls.append((notification_id, countdown)))
    # A batch task (rows of one transaction) counts as each of its rows published without delay;
    # test_publishing.py looks at the batches themselves.
    monkeypatch.setattr(publishing, "_apply_batch", lambda ids: calls.extend((pk, None) for pk in ids))
    yield calls
    publishing.broker_pause_reset()


@pytest.fixture
def scripted(settings):
    settings.SMS_GATEWAY = "tests.notifications.scripted_gateway.ScriptedGateway"
    settings.SMS_FAILOVER_GATEWAY = ""
    ScriptedGateway.reset()
    yield ScriptedGateway
    ScriptedGateway.reset()


@pytest.fixture
def limits(settings):
    """Change NOTIFICATIONS entries for one test: ``limits(MAX_ATTEMPTS=2)``."""

    def change(**values):
        settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, **values}

    return change


@pytest.fixture
def private_redis(tmp_path):
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def make(**kwargs) -> Worker:
        worker = Worker(log=tmp_path / "worker.log", **kwargs)
        started.append(worker)
        return worker.start()

    yield make
    for worker in started:
        worker.kill()
