"""A real worker keeps its database connection between tasks when DB_CONN_MAX_AGE > 0 (as
docker-compose.yml sets it), checks it before reuse, and still closes it after every task with the
default 0 (the PgBouncer setting). Celery's own Django fixup would close it after every task."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from django.db import connection

from notifications.models import Channel, Notification, NotificationStatus
from notifications.services import notification_create
from tests.notifications.processes import BASE_DIR, publishing_to, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _send(i: int) -> None:
    notification_create(
        event_key=f"application:{i}:approved",
        template_key="application_approved",
        params={"number": f"430500-20261122-00030{i}"},
        phone=f"1370000000{i}",
        channels=(Channel.SMS,),
    )


def _all_sent() -> bool:
    rows = Notification.objects.filter(channel=Channel.SMS)
    return rows.exists() and not rows.exclude(status=NotificationStatus.SENT).exists()


def _worker_env(*, name: str, conn_max_age: str) -> dict[str, str]:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    # The name tells the worker's connections apart from this test's own in pg_stat_activity.
    return {"DATABASE_URL": f"{url}?application_name={name}", "DB_CONN_MAX_AGE": conn_max_age}


def _backends(name: str) -> list[tuple[int, object]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE application_name = %s", [name])
        return cursor.fetchall()


def test_a_worker_keeps_one_checked_connection_across_tasks(private_redis, workers):
    name = f"nt-keep-{uuid.uuid4().hex[:8]}"
    with publishing_to(private_redis.url):
        for i in range(3):
            _send(i)
        workers(broker_url=private_redis.url, env=_worker_env(name=name, conn_max_age="60"))
        wait_until(_all_sent, timeout=60, what="three SMS sent")
        (backend,) = _backends(name)  # still open after the last task
        claims = sorted(Notification.objects.values_list("claimed_at", flat=True))
        assert backend[1] < claims[1]  # opened by the first task, used by the others

        # The database drops it (a restart, a failover, an idle timeout): the health check before
        # the next task notices, and the SMS goes out on a new connection at its first attempt.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend[0]])
        wait_until(lambda: not _backends(name), timeout=10, what="the old connection to end")
        _send(3)
        wait_until(_all_sent, timeout=60, what="the fourth SMS sent")
    fourth = Notification.objects.get(recipient="13700000003")
    assert fourth.attempts == 1 and fourth.last_error == ""
    (new_backend,) = _backends(name)
    assert new_backend[0] != backend[0]


def test_with_the_default_conn_max_age_a_worker_closes_its_connection_after_each_task(private_redis, workers):
    name = f"nt-close-{uuid.uuid4().hex[:8]}"
    with publishing_to(private_redis.url):
        for i in range(2):
            _send(i)
        workers(broker_url=private_redis.url, env=_worker_env(name=name, conn_max_age="0"))
        wait_until(_all_sent, timeout=60, what="two SMS sent")
        wait_until(lambda: not _backends(name), timeout=10, what="the worker's connection to close")


@pytest.mark.parametrize(("conn_max_age", "reuse"), [("0", None), ("", None), ("60", 1000)])
def test_settings_let_celery_keep_connections_only_when_django_may(conn_max_age, reuse):
    probe = (
        "import json, django; from django.conf import settings; django.setup();"
        "db = settings.DATABASES['default'];"
        "print(json.dumps([settings.CELERY_DB_REUSE_MAX, db['CONN_MAX_AGE'], db['CONN_HEALTH_CHECKS']]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
        "DB_CONN_MAX_AGE": conn_max_age,
    }
    out = subprocess.run([sys.executable, "-c", probe], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True)
    reuse_max, max_age, health_checks = json.loads(out.stdout.strip().splitlines()[-1])
    assert reuse_max == reuse and max_age == int(conn_max_age or 0) and health_checks is True
