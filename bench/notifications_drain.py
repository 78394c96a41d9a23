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
floor. The no-op floor is measured before and after the notifications; their mean is the baseline.
Notifications are measured twice, N rows each time:
* written together, in one transaction (a digest, a bulk decision): they are published in tasks of
  up to ten rows (``notification_send_batch``), each row still claimed on its own;
* one task per row, as when each citizen event wrote one SMS (or the sweep re-queues rows): the
  rows are written first, then N tasks published, as the no-op phase publishes N no-ops.
The first runs from the first row written to the last sent ("from the commit": from its commit);
the second from the first publish.

The phases alternate for ``--rounds`` rounds (no-op, together, one by one, no-op, together, ...):
each round's notification rates are divided by the mean of the no-op runs just before and after
them, and the median of those ratios over the rounds is the result. A single pass of a second or
two moved by half between runs on a shared machine.
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


def production_worker_concurrency() -> int:
    """The worker's --concurrency in docker-compose.yml (its ``${WORKER_CONCURRENCY:-N}`` default)."""
    import re

    import yaml

    command = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]["worker"]["command"]
    value = str(command[command.index("--concurrency") + 1])
    match = re.fullmatch(r"\$\{\w+:-(\d+)\}", value)
    return int(match.group(1) if match else value)


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
    parser.add_argument("--concurrency", type=int, default=None,
                        help="worker processes (prefork); default: the worker's in docker-compose.yml")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the no-op and notification phases")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per phase at most")
    args = parser.parse_args()
    if args.concurrency is None:
        args.concurrency = production_worker_concurrency()

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
    from notifications.publishing import notification_publish
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

        def noop_phase() -> dict:
            started = time.perf_counter()
            for _ in range(args.n):
                bench_noop.delay()
            published = time.perf_counter()
            wait_until(queue_drained, timeout=args.timeout, what="no-op drain")
            seconds = time.perf_counter() - started
            return {"seconds": round(seconds, 3), "publish_seconds": round(published - started, 3),
                    "per_second": round(args.n / seconds, 1)}

        def write(tag: str, i: int) -> None:
            notification_create(
                event_key=f"bench:{run_id}:{tag}:{i}",
                template_key="application_submitted",
                params={"number": f"430500-20261122-{i:06d}"},
                phone=f"13{i:09d}",  # one number each: the per-number limit is checked, never hit
                channels=(Channel.SMS,),
            )

        def notification_phase(tag: str, *, together: bool) -> dict:
            """N SMS rows, then sent.

            together: written in one transaction (a digest, a bulk decision), published at its
            commit in tasks of up to ten rows; timed from the first row written.
            one by one: N rows that each have their own task, as when N citizen events each wrote
            one SMS, or the sweep re-queues N rows. The rows are written first with publishing held
            back (bench only), then N tasks are published as the no-op phase publishes its N, so
            the two compare like for like; timed from the first publish (the writing is excluded:
            one writer process here would measure itself, not the drain).
            """
            committed: list[float] = []
            rows = Notification.objects.filter(event_key__startswith=f"bench:{run_id}:{tag}:")
            if together:
                started = time.perf_counter()
                with transaction.atomic():
                    transaction.on_commit(lambda: committed.append(time.perf_counter()))  # before any publish
                    for i in range(args.n):
                        write(tag, i)
            else:
                import notifications.services as services_module

                held = services_module.notification_publish_on_commit
                services_module.notification_publish_on_commit = lambda **kwargs: None
                try:
                    for i in range(args.n):
                        with transaction.atomic():
                            write(tag, i)
                finally:
                    services_module.notification_publish_on_commit = held
                ids = list(rows.values_list("pk", flat=True))
                started = time.perf_counter()
                committed.append(started)
                for pk in ids:
                    notification_publish(notification_id=pk)
            created = time.perf_counter()  # rows committed, tasks published
            # Done when the queue is, as for the no-ops (a task is acknowledged after it ran): a
            # query every few milliseconds over the rows would compete with the drain it times.
            wait_until(queue_drained, timeout=args.timeout, what=f"notification queue ({tag})")
            finished = time.perf_counter()
            if rows.exclude(status=NotificationStatus.SENT).exists():  # a row still due: wait for it
                wait_until(
                    lambda: rows.filter(status=NotificationStatus.SENT).count() == args.n,
                    timeout=args.timeout,
                    what=f"notification drain ({tag})",
                    interval=0.05,
                )
                finished = time.perf_counter()
            seconds = finished - started
            # From the (first) commit: without the writing of the rows that comes before it.
            after_commit = finished - committed[0]
            sent_once = DevSms.objects.filter(reference__in=[str(r) for r in rows.values_list("reference", flat=True)]).count()
            return {"seconds": round(seconds, 3), "create_and_publish_seconds": round(created - started, 3),
                    "per_second": round(args.n / seconds, 1),
                    "statuses": dict(rows.values_list("status").annotate(n=Count("pk"))),
                    "dev_sms_rows": sent_once, "sent_once": sent_once == args.n,
                    "after_commit_seconds": round(after_commit, 3),
                    "after_commit_per_second": round(args.n / after_commit, 1)}

        # The floor is measured before and after each round of notifications, and their mean is
        # that round's baseline: a phase of a second or two swings with whatever else the machine
        # is doing. The median over the rounds is reported.
        noop_phase()  # warm-up of every worker process, not counted: the first run was the slowest
        noops = [noop_phase()]
        rounds = []
        for number in range(args.rounds):
            together_round = notification_phase(f"together{number}", together=True)
            single_round = notification_phase(f"single{number}", together=False)
            noops.append(noop_phase())
            baseline = (noops[-2]["per_second"] + noops[-1]["per_second"]) / 2
            for phase in (together_round, single_round):
                phase["noop_per_second"] = round(baseline, 1)
                phase["ratio"] = round(phase["per_second"] / baseline, 3)
                phase["ratio_after_commit"] = round(phase["after_commit_per_second"] / baseline, 3)
            rounds.append({"together": together_round, "single": single_round})

        def median_phase(key: str) -> dict:
            phases = sorted((r[key] for r in rounds), key=lambda phase: phase["ratio"])
            middle = dict(phases[len(phases) // 2])
            middle["ratios"] = [r[key]["ratio"] for r in rounds]
            return middle

        together, single = median_phase("together"), median_phase("single")
        noop_rate = round(sorted(n["per_second"] for n in noops)[len(noops) // 2], 1)
        noop_before, noop_after = noops[0], noops[-1]

        result = {
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "n": args.n,
            "worker": f"prefork x{args.concurrency}, acks_late, prefetch 1",
            "machine": f"{os.cpu_count()} cores",
            # Other work on the machine skews both rates; the ratio is the robust figure.
            "load_average_1m_before": load_before,
            "rounds": args.rounds,
            "noop": {"per_second": noop_rate, "runs": [n["per_second"] for n in noops]},
            # "notifications" is the headline (rows written together, as before); "single" is the
            # same number of rows written one per transaction.
            "notifications": together,
            "single": single,
            "worker_settings": {key: production[key] for key in ("DJANGO_SETTINGS_MODULE", "DB_CONN_MAX_AGE")},
        }
        result["ratio_notifications_to_noop"] = together["ratio"]
        result["ratio_after_commit_to_noop"] = together["ratio_after_commit"]
        result["ratio_single_to_noop"] = single["ratio"]
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        out = OUT_DIR / f"notifications_drain-{datetime.now():%Y%m%d-%H%M%S}.json"
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
        print(f"N = {args.n}, {args.rounds} rounds, worker prefork x{args.concurrency} (as docker-compose.yml),"
              f" dev gateway, private Redis, PostgreSQL (load average before: {load_before})")
        print(f"no-op tasks        {noop_rate:>8.1f} /s  (median of {', '.join(str(n['per_second']) for n in noops)},"
              " one before and one after each round)")
        print("each figure below is the round with the median ratio to the mean of the no-op runs around it;"
              " the ratios of every round are in brackets")
        print(f"written together   {together['per_second']:>8.1f} /s  ({together['seconds']:.2f} s, of which writing and"
              f" publishing {together['create_and_publish_seconds']:.2f} s)  ratio {together['ratio']:.3f} {together['ratios']}"
              f"  each SMS sent once: {all(r['together']['sent_once'] for r in rounds)}")
        print(f"  from the commit  {together['after_commit_per_second']:>8.1f} /s  ({together['after_commit_seconds']:.2f} s"
              f" from the commit to the last sent; ratio {together['ratio_after_commit']:.3f})")
        print(f"one task per row   {single['per_second']:>8.1f} /s  ({single['seconds']:.2f} s from the first publish,"
              f" of which publishing {single['create_and_publish_seconds']:.2f} s)  ratio {single['ratio']:.3f} {single['ratios']}"
              f"  each SMS sent once: {all(r['single']['sent_once'] for r in rounds)}")
        print(f"worker settings {production['DJANGO_SETTINGS_MODULE']}, DB_CONN_MAX_AGE={production['DB_CONN_MAX_AGE']}"
              " (as docker-compose.yml)")
        print(f"written {out.relative_to(BASE_DIR)}")
        Notification.objects.filter(event_key__startswith=f"bench:{run_id}:").delete()
        DevSms.objects.filter(params__number__startswith="430500-20261122-").delete()
        return 0 if all(r[key]["sent_once"] for r in rounds for key in ("together", "single")) else 1
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
