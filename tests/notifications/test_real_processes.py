"""Real processes (tests/notifications/processes.py): a private redis-server and a real `celery
worker` subprocess against the test database. Bounded by timeouts; everything started is killed.

(a) Broker down: creating notifications (services, and a citizen's submit over HTTP) succeeds
    quickly and rows wait; when Redis returns, the sweep and a worker deliver each exactly once.
(b) A worker SIGKILLed while the provider holds its request: after a restart the provider has
    received each message exactly once (the stuck row is looked up, not resent).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.db import connection, transaction
from django.urls import reverse

from notifications import publishing
from notifications.models import Channel, DevSms, Notification, NotificationStatus
from notifications.sending import outbox_sweep
from notifications.services import notification_create, sms_send_login_code
from tests.applications.factories import (
    ApplicationFactory,
    RequiredMaterialFactory,
    complete_materials,
    verified_citizen,
)
from tests.factories import UserFactory
from tests.notifications.fake_provider import FakeServer, RecordingProvider
from tests.notifications.processes import BASE_DIR, publishing_to, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _sms_rows():
    return list(Notification.objects.filter(channel=Channel.SMS).order_by("pk"))


def test_broker_down_rows_wait_then_each_is_delivered_exactly_once(private_redis, workers, settings, client, tmp_path):
    """With the broker down a citizen submits and a reviewer decides: no error, the rows wait;
    after the broker returns, the sweep and a real worker deliver each SMS exactly once."""
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SWEEP_PENDING_GRACE_SECONDS": 0}
    with publishing_to(private_redis.url):
        private_redis.stop()
        users = [UserFactory(phone=f"1360000000{i}") for i in range(3)]
        started = time.monotonic()
        for i, user in enumerate(users):
            with transaction.atomic():  # the caller's event transaction; publishing runs at commit
                notification_create(
                    event_key=f"application:{i}:approved",
                    template_key="application_approved",
                    params={"number": f"430500-20261122-00010{i}"},
                    user=user,
                )
        sms_send_login_code(phone="13600000009", code="482913")
        assert time.monotonic() - started < 5  # no connect-retry storm in the citizen's request
        # A citizen submits over HTTP (the applications area's view): no 5xx, an acceptance number.
        applicant, me = verified_citizen(full_name="王小明")
        application = ApplicationFactory(applicant=applicant, patient=me)
        RequiredMaterialFactory(disease=application.disease, code="diagnosis", name="疾病诊断证明书")
        complete_materials(application)
        client.force_login(applicant)
        response = client.post(
            reverse("applications:submit", args=[application.pk]), {"consent": "on", "consent_version": "2026-11-v1"}
        )
        assert response.status_code == 302, response.content.decode()[:500]
        application.refresh_from_db()
        assert application.acceptance_number
        # A reviewer decides during the outage too (the same service the admin action calls).
        from reviews.services import application_approve

        reviewer = UserFactory(staff=True, is_superuser=True, username="outage-reviewer")
        application_approve(application_id=application.pk, user=reviewer)
        application.refresh_from_db()
        assert application.status == "approved"
        rows = _sms_rows()
        assert len(rows) == 6
        assert {(r.status, r.attempts) for r in rows} == {(NotificationStatus.PENDING, 0)}
        # The citizen's pages keep working; the in-site message is already there.
        client.force_login(users[0])
        response = client.get("/messages/")
        assert response.status_code == 200 and "430500-20261122-000100" in response.content.decode()

        private_redis.start()
        publishing.broker_pause_reset()
        assert outbox_sweep()["queued"] == 6
        workers(broker_url=private_redis.url)
        wait_until(
            lambda: all(r.status == NotificationStatus.SENT for r in _sms_rows()), timeout=60, what="all rows sent"
        )
        # Another sweep with everything sent queues nothing; a late duplicate task would be skipped.
        assert outbox_sweep() == {"stuck": 0, "due": 0, "queued": 0}
        time.sleep(1)
    for row in _sms_rows():
        assert DevSms.objects.filter(reference=str(row.reference)).count() == 1
        assert row.attempts == 1
    assert DevSms.objects.count() == 6
    # Submitted and approved: one SMS each, never two.
    assert DevSms.objects.filter(text__contains=application.acceptance_number).count() == 2


def test_worker_killed_mid_send_the_provider_gets_each_message_once(private_redis, workers, settings, tmp_path):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SWEEP_PENDING_GRACE_SECONDS": 0, "SENDING_STUCK_AFTER_SECONDS": 0}
    provider = RecordingProvider(sleep_first=30)
    with FakeServer(provider) as server, publishing_to(private_redis.url):
        gateway_env = {"SMS_GATEWAY": "tests.notifications.fake_gateway.FakeHttpGateway", "FAKE_SMS_URL": server.url}
        for i in range(3):
            notification_create(
                event_key=f"application:{i}:supplement",
                template_key="supplement_requested",
                params={"number": f"430500-20261122-00020{i}"},
                phone=f"1350000000{i}",
                channels=(Channel.SMS,),
            )
        first_worker = workers(broker_url=private_redis.url, env=gateway_env)
        # The provider has the first message and is holding the worker's request: kill it now.
        wait_until(lambda: len(provider.sends) == 1, timeout=60, what="the first send to reach the provider")
        first_worker.kill()
        in_flight = Notification.objects.get(reference=provider.sends[0]["reference"])
        assert in_flight.status == NotificationStatus.SENDING and in_flight.delivery_uncertain

        result = outbox_sweep()
        assert result["stuck"] == 1
        workers(broker_url=private_redis.url, env=gateway_env)
        wait_until(
            lambda: all(r.status == NotificationStatus.SENT for r in _sms_rows()), timeout=60, what="all rows sent"
        )
        time.sleep(1)
        rows = _sms_rows()
        assert [provider.count(str(r.reference)) for r in rows] == [1, 1, 1]
        assert len(provider.sends) == 3
        in_flight.refresh_from_db()
        # Recovered by asking the provider, not by sending again.
        assert in_flight.provider_message_id == "fake-1" and in_flight.attempts == 2
        lookups = [r for r in server.requests if r["path"] == "/lookup"]
        assert [r["query"]["reference"] for r in lookups] == [str(in_flight.reference)]


def test_bench_smoke(tmp_path):
    """bench/notifications_drain.py still runs end to end (tiny N; the figures come from real runs)."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    database_url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    result = subprocess.run(
        [sys.executable, str(BASE_DIR / "bench" / "notifications_drain.py"), "--n", "5", "--concurrency", "1", "--timeout", "60"],
        cwd=BASE_DIR,
        env={**os.environ, "BENCH_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "ratio" in result.stdout and "each SMS sent once: True" in result.stdout
