"""Drain N outbox notifications through a real Celery worker and the dev gateway, and compare
with N no-op tasks measured in the same run, on the same private Redis and worker.

    .venv/bin/python bench/notifications_drain.py --n 500 --concurrency 2

Needs PostgreSQL on 127.0.0.1:5432 (own database, created and migrated here: BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/portal_notifications_bench) and `redis-server` on PATH
(a private one is started on a free port and killed at the end; the shared 6379 is never used).
Prints the figures and writes bench/out/notifications_drain-<time>.json (gitignored).

The worker runs with the settings docker-compose.yml gives production workers (settings module,
DB_CONN_MAX_AGE), throwaway secrets and the dev gateway (ALLOW_DEV_SMS_GATEWAY, as `make stack`).

The ratio notification rate / no-op rate is the result: how much the outbox (writing the rows,
claim transaction, per-number limit check, gateway write, status update) costs over Celery's own
floor. The notification time runs from the first row written to the last row sent; the line
"after commit" also gives the rate from the rows' commit on, without the writing of the rows.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "bench" / "out"


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} did not happen within {timeout}s")


def ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2.extensions import ISOLATION_LEVEL_AUTOCOMMIT

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.set_isolation_level(ISOLATION_LEVEL_AUTOCOMMIT)
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def production_worker_env() -> dict[str, str]:
    """What docker-compose.yml sets for its app services that tunes a worker (the settings module
    and DB_CONN_MAX_AGE), plus the secrets production settings insist on, thrown away after the run."""
    import yaml

    compose_env = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["x-app"]["environment"]
    return {
        **{key: str(compose_env[key]) for key in ("DJANGO_SETTINGS_MODULE", "DB_CONN_MAX_AGE")},
        "SECRET_KEY": secrets.token_urlsafe(64),
        "FIELD_ENCRYPTION_KEYS": secrets.token_urlsafe(32),
        "FIELD_HASH_KEY": secrets.token_urlsafe(32),
        "CSRF_TRUSTED_ORIGINS": "https://bench.invalid",
        "ALLOW_DEV_SMS_GATEWAY": "1",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="messages per phase")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (prefork)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per phase at most")
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_notifications_bench")
    ensure_database(database_url)
    port = free_port(6393)
    broker_url = f"redis://127.0.0.1:{port}/0"
    production = production_worker_env()
    env = {
        **os.environ,
        **production,
        "DATABASE_URL": database_url,
        "REDIS_URL": broker_url,
        "CELERY_BROKER_URL": broker_url,
        "SMS_GATEWAY": "dev",
        "SMS_FAILOVER_GATEWAY": "",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "plain",
    }
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SMS_GATEWAY",
                                           "SMS_FAILOVER_GATEWAY", "LOG_LEVEL", "LOG_FORMAT", *production)})
    sys.path.insert(0, str(BASE_DIR))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from django.db import connection

    with connection.cursor() as cursor:
        # Every run deletes its rows; where autovacuum is off (the shared bench server) the dead
        # ones would slow each later run down. Each run starts from the same clean tables.
        cursor.execute("VACUUM ANALYZE notifications_notification, notifications_devsms")

    import redis as redis_lib
    from django.db import transaction
    from django.db.models import Count

    from notifications.models import Channel, DevSms, Notification, NotificationStatus
    from notifications.services import notification_create
    from notifications.tasks import bench_noop

    load_before = round(os.getloadavg()[0], 2)
    processes: list[subprocess.Popen] = []
    run_id = uuid.uuid4().hex[:8]
    try:
        redis_proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(redis_proc)
        client = redis_lib.Redis.from_url(broker_url)
        wait_until(lambda: _ping(client), timeout=10, what="redis-server start")
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", "prefork", "-c", str(args.concurrency),
             "-l", "WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"bench-{run_id}@%h"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        processes.append(worker)

        def queue_drained() -> bool:
            return client.llen("celery") == 0 and client.hlen("unacked") == 0

        # Warm up: the worker is ready when it has consumed a few no-ops.
        for _ in range(args.concurrency * 2):
            bench_noop.delay()
        wait_until(queue_drained, timeout=60, what="worker warm-up")

        # Phase 1: the floor, N no-op tasks.
        started = time.perf_counter()
        for _ in range(args.n):
            bench_noop.delay()
        published = time.perf_counter()
        wait_until(queue_drained, timeout=args.timeout, what="no-op drain")
        noop_seconds = time.perf_counter() - started
        noop_publish = published - started

        # Phase 2: N notifications, each an outbox row sent through the dev gateway.
        started = time.perf_counter()
        committed: list[float] = []
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(time.perf_counter()))  # before any publish
            for i in range(args.n):
                notification_create(
                    event_key=f"bench:{run_id}:{i}",
                    template_key="application_submitted",
                    params={"number": f"430500-20261122-{i:06d}"},
                    phone=f"13{i:09d}",  # one number each: the per-number limit is checked, never hit
                    channels=(Channel.SMS,),
                )
        created = time.perf_counter()  # rows written, committed, tasks published
        rows = Notification.objects.filter(event_key__startswith=f"bench:{run_id}:")
        wait_until(
            lambda: rows.filter(status=NotificationStatus.SENT).count() == args.n,
            timeout=args.timeout,
            what="notification drain",
            interval=0.05,
        )
        finished = time.perf_counter()
        notify_seconds = finished - started
        after_commit = finished - committed[0]
        statuses = dict(rows.values_list("status").annotate(n=Count("pk")))
        sent_once = DevSms.objects.filter(reference__in=[str(r) for r in rows.values_list("reference", flat=True)]).count()

        result = {
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "n": args.n,
            "worker": f"prefork x{args.concurrency}, acks_late, prefetch 1",
            "machine": f"{os.cpu_count()} cores",
            # Other work on the machine skews both rates; the ratio is the robust figure.
            "load_average_1m_before": load_before,
            "noop": {"seconds": round(noop_seconds, 3), "publish_seconds": round(noop_publish, 3),
                     "per_second": round(args.n / noop_seconds, 1)},
            "notifications": {"seconds": round(notify_seconds, 3), "create_and_publish_seconds": round(created - started, 3),
                              "per_second": round(args.n / notify_seconds, 1), "statuses": statuses,
                              "dev_sms_rows": sent_once,
                              "after_commit_seconds": round(after_commit, 3),
                              "after_commit_per_second": round(args.n / after_commit, 1)},
            "worker_settings": {key: production[key] for key in ("DJANGO_SETTINGS_MODULE", "DB_CONN_MAX_AGE")},
        }
        result["ratio_notifications_to_noop"] = round(result["notifications"]["per_second"] / result["noop"]["per_second"], 3)
        result["ratio_after_commit_to_noop"] = round(
            result["notifications"]["after_commit_per_second"] / result["noop"]["per_second"], 3
        )
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        out = OUT_DIR / f"notifications_drain-{datetime.now():%Y%m%d-%H%M%S}.json"
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
        print(f"N = {args.n}, worker prefork x{args.concurrency}, dev gateway, private Redis, PostgreSQL"
              f" (load average before: {load_before})")
        print(f"no-op tasks     {result['noop']['per_second']:>8.1f} /s  ({noop_seconds:.2f} s)")
        print(f"notifications   {result['notifications']['per_second']:>8.1f} /s  ({notify_seconds:.2f} s,"
              f" of which create+publish {created - started:.2f} s)")
        print(f"ratio           {result['ratio_notifications_to_noop']:.3f}   each SMS sent once: {sent_once == args.n}")
        print(f"after commit    {result['notifications']['after_commit_per_second']:>8.1f} /s  ({after_commit:.2f} s from the"
              f" rows' commit to the last sent; ratio {result['ratio_after_commit_to_noop']:.3f})")
        print(f"worker settings {production['DJANGO_SETTINGS_MODULE']}, DB_CONN_MAX_AGE={production['DB_CONN_MAX_AGE']}"
              " (as docker-compose.yml)")
        print(f"written {out.relative_to(BASE_DIR)}")
        rows.delete()
        DevSms.objects.filter(params__number__startswith="430500-20261122-").delete()
        return 0 if sent_once == args.n else 1
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM) if process is not processes[0] else process.kill()
                    process.wait(timeout=15)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    process.kill()


def _ping(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001 - not up yet
        return False


if __name__ == "__main__":
    sys.exit(main())
