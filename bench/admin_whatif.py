"""What the admin review queue costs with and without ``date_hierarchy``, in-process.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_1m \\
        .venv/bin/python -m bench.admin_whatif var/bench/probe-portal_bench_1m.json

Requests the queue (page 1 and the filtered page from the probe) ``--repeat`` times each way and
prints the median time, the time spent in SQL and the query count. The admin class is changed
only inside this process (``date_hierarchy = None``), to show what the proposed change buys.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("probe_json")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib import admin
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from applications.models import Application

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    probe = json.load(open(args.probe_json))
    model_admin = admin.site._registry[Application]
    original = model_admin.date_hierarchy
    for name in ("admin_queue", "admin_filtered", "admin_region"):
        target = probe["targets"].get(name, {})
        if "paths" not in target:
            print(f"{name}: not available ({target.get('unavailable')})")
            continue
        for label, hierarchy in (("with date_hierarchy", original), ("without date_hierarchy", None)):
            model_admin.date_hierarchy = hierarchy
            client = Client()
            client.cookies[probe["session_cookie"]] = probe["sessions"]["admin"][0]
            client.get(target["paths"][0])
            times, sql_ms, count = [], [], 0
            for _ in range(args.repeat):
                began = time.perf_counter()
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(target["paths"][0])
                times.append((time.perf_counter() - began) * 1000)
                sql_ms.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
                count = len(queries.captured_queries)
            print(f"{name} {label}: status {response.status_code}, median {statistics.median(times):.0f} ms, "
                  f"SQL {statistics.median(sql_ms):.0f} ms, {count} queries")
    model_admin.date_hierarchy = original


if __name__ == "__main__":
    main()
