"""A small closed-loop HTTP load generator for loopback only.

N threads each send one request, wait for the whole response, and send the next, for a fixed
time: the measured throughput is what the server sustains at that concurrency. Bounded twice,
by time and by a request cap, and it refuses any host but loopback. Chosen over locust to keep
the load generator's own CPU small and identical for every target on a 2-core machine (locust's
gevent workers and web UI are more than this needs).
"""
from __future__ import annotations

import http.client
import itertools
import threading
import time
from dataclasses import dataclass, field

from bench.stats import Summary, summarize

LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_REQUESTS = 200_000


@dataclass(frozen=True)
class Request:
    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    expect: tuple[int, ...] = (200,)


@dataclass
class Outcome:
    summary: Summary
    statuses: dict[str, int]


def send(host: str, port: int, request: Request, timeout: float = 30.0) -> tuple[int, bytes, dict[str, str]]:
    if host not in LOOPBACK:
        raise ValueError("load is sent to loopback only")
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        headers = {"Host": "127.0.0.1", **request.headers}
        connection.request(request.method, request.path, body=request.body, headers=headers)
        response = connection.getresponse()
        body = response.read()
        return response.status, body, dict(response.getheaders())
    finally:
        connection.close()


def run_load(
    *,
    host: str,
    port: int,
    requests: list[Request],
    seconds: float,
    concurrency: int,
    warmup: float = 2.0,
    max_requests: int = MAX_REQUESTS,
) -> Outcome:
    """Send ``requests`` round-robin from ``concurrency`` threads; count the responses that
    complete inside the measured window (after ``warmup``), as load tools conventionally do, so a
    page slower than the window is still measured rather than reported as zero."""
    if host not in LOOPBACK:
        raise ValueError("load is sent to loopback only")
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    counter = itertools.count()
    start = time.monotonic()
    measure_from = start + warmup
    stop_at = measure_from + seconds

    def worker(offset: int) -> None:
        nonlocal errors
        local_lat: list[float] = []
        local_err = 0
        local_status: dict[str, int] = {}
        i = offset
        while True:
            now = time.monotonic()
            if now >= stop_at or next(counter) >= max_requests:
                break
            request = requests[i % len(requests)]
            i += 1
            began = time.monotonic()
            try:
                status, _, _ = send(host, port, request)
                key = str(status)
            except Exception as exc:  # a timeout or reset is a result, not a crash
                status, key = 0, type(exc).__name__
            ended = time.monotonic()
            if ended < measure_from or ended > stop_at:
                continue  # a request counts in the window in which it completes
            local_status[key] = local_status.get(key, 0) + 1
            if status in request.expect:
                local_lat.append(ended - began)
            else:
                local_err += 1
        with lock:
            latencies.extend(local_lat)
            errors += local_err
            for key, n in local_status.items():
                statuses[key] = statuses.get(key, 0) + n

    threads = [threading.Thread(target=worker, args=(n * 7,), daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + warmup + 60)
    window = min(time.monotonic(), stop_at) - measure_from
    return Outcome(summary=summarize(latencies, errors=errors, seconds=max(window, 1e-9)), statuses=statuses)
