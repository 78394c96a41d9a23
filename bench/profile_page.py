"""Profile one bench page in-process with pyinstrument (``pip install pyinstrument``).

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_1m \\
        .venv/bin/python -m bench.profile_page var/bench/probe-portal_bench_1m.json dashboard_hot

Uses the sessions and paths ``bench.probe`` wrote, requests the page once to warm up, then
``--repeat`` times under the profiler, and prints the per-request times, the queries of the last
request with their times, and the profile (slowest frames only). For the ``upload`` target it
POSTs the probe's JPEG to successive drafts, as the load does.
"""
from __future__ import annotations

import argparse
import json
import os
import time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("probe_json")
    parser.add_argument("target")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--show-all", action="store_true", help="keep library frames (admin rendering lives there)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    probe = json.load(open(args.probe_json))
    target = probe["targets"][args.target]
    client = Client()
    if target.get("who"):
        # The session of the account the first path belongs to (the detail pages are several accounts').
        index = target["session_index"][0] if target.get("session_index") else 0
        client.cookies[probe["session_cookie"]] = probe["sessions"][target["who"]][index]
    path = target["paths"][0]
    if target.get("method") == "UPLOAD":
        from django.core.files.uploadedfile import SimpleUploadedFile

        from bench.probe import jpeg_bytes

        photo = jpeg_bytes()

        def fetch(i: int):
            upload = SimpleUploadedFile("IMG_0001.jpg", photo, "image/jpeg")
            return client.post(target["paths"][i % len(target["paths"])], {"slot": target["slots"][0], "files": upload},
                               HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    else:
        def fetch(i: int):
            return client.get(path)
    fetch(0)
    profiler = Profiler(interval=0.001)
    times = []
    profiler.start()
    for i in range(1, args.repeat + 1):
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = fetch(i)
        times.append((time.perf_counter() - began) * 1000)
    profiler.stop()
    print(f"{args.target} {path}: status {response.status_code}, {len(response.content):,} bytes")
    print("ms per request:", ", ".join(f"{t:.0f}" for t in times))
    total_sql = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    print(f"last request: {len(queries.captured_queries)} queries, {total_sql:.0f} ms in SQL")
    for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:5]:
        print(f"  {float(q['time']) * 1000:7.1f} ms  {q['sql'][:300]}")
    print(profiler.output_text(unicode=True, color=False, show_all=args.show_all, short_mode=not args.show_all))


if __name__ == "__main__":
    main()
