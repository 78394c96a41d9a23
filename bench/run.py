"""One command for the whole benchmark: ``make bench`` (or ``python -m bench.run``).

For each scale (10,000 and 1,000,000 applications) it (re)generates the database, prepares
sessions and probes SQL in-process (``bench.probe``), starts gunicorn on 127.0.0.1 with the bench
settings, and loads each page for a fixed time. The bare view is measured between every few
targets, and each target is reported against the mean of the bare runs just before and after it:
on a shared 2-core machine the floor moves, and a ratio to a floor measured minutes away would
measure the neighbours. Writes ``bench/RESULTS.md``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from bench.generate import BASE_DIR, UTC, bench_env, generation_record, rebuild
from bench.loadgen import Outcome, Request, run_load, send
from bench.probe import jpeg_bytes
from bench.stats import fmt

SCALES = {"10k": ("portal_bench_10k", 10_000), "1m": ("portal_bench_1m", 1_000_000)}
WORK_DIR = BASE_DIR / "var" / "bench"
# Measured in this order; "bare" entries are the floor, re-measured between groups.
SEQUENCE = [
    "bare", "catalog", "catalog_region", "track", "track_lookup",
    "bare", "signed_in_minimum", "signed_in_floor", "dashboard_hot", "dashboard_typical", "detail",
    "bare", "dashboard_typical_fresh", "detail_fresh",
    "bare", "inbox", "certifications",
    "bare", "admin_queue", "admin_filtered", "admin_in_review", "admin_region", "admin_decided",
    "bare", "bare_upload", "upload", "bare",
]
TARGETS_PCT = {"dashboard_hot": 0.5, "dashboard_typical": 0.5, "detail": 0.5}
# A "fresh" target's paths get this many query strings of their own in all, more than a 15 s
# window sends, so no request repeats one (and none is served from the memo of rendered pages).
FRESH_VARIANTS = 30_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_has_rows(db: str) -> bool:
    result = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-Atc", "SELECT count(*) FROM applications_application"],
        capture_output=True, text=True,
    )
    return result.returncode == 0 and result.stdout.strip().isdigit() and int(result.stdout.strip()) > 0


class Gunicorn:
    """gunicorn on loopback with a fixed number of sync workers; stopped by its own pid."""

    def __init__(self, *, db: str, workers: int, env: dict[str, str], tree: Path = BASE_DIR) -> None:
        self.port = free_port()
        self.tree = tree  # another checkout of the project (bench.ab), on this one's virtualenv
        self.log = WORK_DIR / (f"gunicorn-{db}.log" if tree == BASE_DIR else f"gunicorn-{tree.name}-{db}.log")
        self.command = [
            str(BASE_DIR / ".venv" / "bin" / "gunicorn"), "portal.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--worker-class", "sync",
            "--timeout", "60", "--graceful-timeout", "5", "--log-level", "warning",
        ]
        self.env = env
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        self.process = subprocess.Popen(
            self.command, cwd=self.tree, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}")
            try:
                if send("127.0.0.1", self.port, Request("/bench/bare/"), timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def multipart(fields: dict[str, str], file_field: str, filename: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = "----benchboundary7MA4YWxkTrZu0gW"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode() + content + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def build_requests(name: str, target: dict, probe: dict, photo: bytes) -> list[Request]:
    """The requests a target rotates through: each path with the right session cookie."""
    sessions = probe["sessions"].get(target.get("who") or "", [])
    csrf = f'{probe["csrf_cookie"]}={probe["csrf_secret"]}'
    requests = []
    paths = target["paths"]
    if target.get("fresh"):
        copies = -(-FRESH_VARIANTS // len(paths))
        paths = [f"{path}?fresh={n}" for n in range(copies) for path in paths]
    for i, path in enumerate(paths):
        cookies = [csrf]
        if sessions:
            index = target["session_index"][i % len(target["paths"])] if target.get("session_index") else i
            cookies.append(f'{probe["session_cookie"]}={sessions[index % len(sessions)]}')
        headers = {"Cookie": "; ".join(cookies)}
        method = target.get("method", "GET")
        if method == "GET":
            requests.append(Request(path, headers=headers))
        elif method == "POST":
            for form in target["form"]:
                body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": probe["csrf_secret"]}).encode()
                requests.append(
                    Request(path, "POST", {**headers, "Content-Type": "application/x-www-form-urlencoded"}, body)
                )
        elif method == "UPLOAD":
            body, content_type = multipart({"slot": target["slots"][0]}, "files", "IMG_0001.jpg", photo, "image/jpeg")
            requests.append(
                Request(
                    path, "POST",
                    {**headers, "Content-Type": content_type, "X-CSRFToken": probe["csrf_secret"],
                     "X-Requested-With": "XMLHttpRequest"},
                    body,
                )
            )
    return requests


def measure_scale(scale: str, args) -> dict:
    db, applications = SCALES[scale]
    result: dict = {"scale": scale, "db": db, "applications": applications}
    as_of = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if args.reuse and database_has_rows(db):
        record = generation_record(db)
        result["generation"] = {"reused": True, **(json.loads(record.read_text()) if record.exists() else {})}
        # The tree moves while the database waits: bring its schema up to date (new columns get
        # their defaults), as a deployment would.
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=BASE_DIR, env=bench_env(db), check=True)
    else:
        print(f"[{scale}] generating {applications:,} applications into {db}", flush=True)
        result["generation"] = rebuild(db=db, applications=applications, seed=args.seed, as_of=as_of)
    env = bench_env(db)
    env["PRIVATE_MEDIA_ROOT"] = str(WORK_DIR / f"private-{db}")
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-n", "9", "FLUSHDB"], check=False, capture_output=True)
    probe_path = WORK_DIR / f"probe-{db}.json"
    print(f"[{scale}] preparing sessions and probing SQL", flush=True)
    subprocess.run(
        [sys.executable, "-m", "bench.probe", "--out", str(probe_path)], cwd=BASE_DIR,
        env={**env, "LOG_LEVEL": "WARNING"}, check=True, timeout=900,
    )
    probe = json.loads(probe_path.read_text())
    result["probe"] = probe
    photo = jpeg_bytes()
    result["upload_bytes"] = len(photo)
    runs: list[tuple[str, Outcome | None, str]] = []
    with Gunicorn(db=db, workers=args.workers, env=env) as server:
        for name in SEQUENCE:
            target = probe["targets"].get(name)
            if target is None or target.get("unavailable"):
                if not any(r[0] == name for r in runs):
                    runs.append((name, None, (target or {}).get("unavailable", "not prepared")))
                continue
            requests = build_requests(name, target, probe, photo)
            outcome = run_load(
                host="127.0.0.1", port=server.port, requests=requests, seconds=args.seconds,
                concurrency=args.concurrency, warmup=args.warmup,
            )
            s = outcome.summary
            print(f"[{scale}] {name:18} {s.throughput:7.1f} req/s  p50 {fmt(s.p50_ms)} ms  p95 {fmt(s.p95_ms)} ms  "
                  f"p99 {fmt(s.p99_ms)} ms  errors {s.errors} {outcome.statuses}", flush=True)
            runs.append((name, outcome, ""))
    # The uploaded files are bench litter (their rows are cleared by the next probe).
    shutil.rmtree(env["PRIVATE_MEDIA_ROOT"], ignore_errors=True)
    result["runs"] = runs
    return result


def paired_rows(runs: list[tuple[str, Outcome | None, str]]) -> list[dict]:
    """Each target next to the mean of the bare runs just before and just after it."""
    rows = []
    bare_positions = [i for i, (name, outcome, _) in enumerate(runs) if name == "bare" and outcome]
    for i, (name, outcome, reason) in enumerate(runs):
        if name == "bare":
            continue
        before = [p for p in bare_positions if p < i]
        after = [p for p in bare_positions if p > i]
        around = ([before[-1]] if before else []) + ([after[0]] if after else [])
        base = [runs[p][1].summary for p in around]
        base_tp = sum(b.throughput for b in base) / len(base) if base else None
        base_p50 = sum(b.p50_ms for b in base if b.p50_ms) / len(base) if base else None
        rows.append({"name": name, "outcome": outcome, "reason": reason, "base_tp": base_tp, "base_p50": base_p50})
    return rows


def machine() -> dict:
    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=20, cwd=BASE_DIR).stdout.strip()
        except Exception as exc:  # noqa: BLE001 - a missing tool is reported, not fatal
            return f"unknown ({type(exc).__name__})"

    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), 0)
    dirty = out(["git", "status", "--porcelain"])
    return {
        "nproc": out(["nproc"]),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?"),
        "postgres": out(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"]),
        "python": sys.version.split()[0],
        "commit": out(["git", "rev-parse", "--short", "HEAD"]),
        "uncommitted_files": len([line for line in dirty.splitlines() if line.strip()]),
        "load_before": os.getloadavg(),
    }


def run_drain(args) -> dict:
    """The notifications engineer's drain benchmark, when it exists (bench/notifications_drain.py).

    It runs bounded on its own database and a private Redis, measures N outbox notifications and
    N no-op Celery tasks on the same worker, and writes a JSON file whose path it prints last
    ("written bench/out/....json"). Both rates are taken from that file.
    """
    script = BASE_DIR / "bench" / "notifications_drain.py"
    if not script.exists():
        return {"unavailable": "bench/notifications_drain.py does not exist in this run"}
    command = [sys.executable, str(script), "--n", str(args.drain_n)]
    try:
        done = subprocess.run(
            command, cwd=BASE_DIR, env={**os.environ, "LOG_LEVEL": "WARNING"},
            capture_output=True, text=True, timeout=args.drain_timeout,
        )
    except subprocess.TimeoutExpired:
        return {"unavailable": f"bench/notifications_drain.py did not finish within {args.drain_timeout} s"}
    written = [line.split(" ", 1)[1].strip() for line in done.stdout.splitlines() if line.startswith("written ")]
    if done.returncode != 0 or not written:
        return {"unavailable": f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}"}
    data = json.loads((BASE_DIR / written[-1]).read_text())
    return {
        "drain_per_s": data.get("notifications", {}).get("per_second"),
        "single_per_s": data.get("single", {}).get("per_second"),
        "noop_per_s": data.get("noop", {}).get("per_second"),
        # Each round's rate against the no-op runs around it; the median round (notifications_drain.py).
        "drain_ratio": data.get("notifications", {}).get("ratio"),
        "single_ratio": data.get("single", {}).get("ratio"),
        "drain_ratios": data.get("notifications", {}).get("ratios"),
        "single_ratios": data.get("single", {}).get("ratios"),
        "rounds": data.get("rounds"),
        "worker": data.get("worker"),
        "command": " ".join(shlex.quote(str(c)) for c in ["python", "bench/notifications_drain.py", *command[2:]]),
        "output": [line for line in done.stdout.splitlines() if line.strip()],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the province-scale benchmark and write bench/RESULTS.md.")
    parser.add_argument("--scales", default="10k,1m", help="comma-separated: 10k,1m")
    parser.add_argument("--reuse", action="store_true", help="reuse a bench database that already has rows")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per target")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (closed loop)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--drain-n", type=int, default=500, help="messages per phase of the drain benchmark")
    parser.add_argument("--drain-timeout", type=int, default=900)
    parser.add_argument("--out", default=str(BASE_DIR / "bench" / "RESULTS.md"))
    args = parser.parse_args(argv)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(UTC)
    info = machine()
    results = [measure_scale(scale.strip(), args) for scale in args.scales.split(",") if scale.strip()]
    drain = run_drain(args)
    info["load_after"] = os.getloadavg()
    given = " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    if os.environ.get("MAKELEVEL"):
        command = "make bench" + (f" BENCH_ARGS='{given}'" if given else "")
    else:
        command = ".venv/bin/python -m bench.run " + given
    from bench.report import write_report

    write_report(Path(args.out), results=results, drain=drain, info=info, args=args, started=started, command=command)
    raw = WORK_DIR / "results.json"
    raw.write_text(json.dumps(
        {"info": info, "drain": drain, "results": [
            {**r, "runs": [(n, o.summary.__dict__ if o else None, o.statuses if o else None, why) for n, o, why in r["runs"]]}
            for r in results
        ]}, ensure_ascii=False, indent=1, default=str,
    ))
    print(f"wrote {args.out} and {raw}")


if __name__ == "__main__":
    main()
