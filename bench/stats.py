"""The arithmetic of the report: percentiles, throughput, ratios. Kept apart so it is tested."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) with linear interpolation between closest ranks, the
    definition numpy uses by default: rank = q/100 × (n − 1) on the sorted values."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(value: float | None, baseline: float | None) -> float | None:
    """value / baseline, or None when either is missing or the baseline is zero."""
    if value is None or baseline is None or baseline == 0:
        return None
    return value / baseline


@dataclass(frozen=True)
class Summary:
    requests: int  # answered with the expected status within the measured window
    errors: int  # anything else (wrong status, connection error, timeout)
    seconds: float  # the measured window
    throughput: float  # requests per second
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


def summarize(latencies_s: Sequence[float], *, errors: int, seconds: float) -> Summary:
    """Throughput counts only good responses; percentiles are over good responses, in ms."""
    if seconds <= 0:
        raise ValueError("the measured window must be positive")
    if latencies_s:
        p50, p95, p99 = (percentile(latencies_s, q) * 1000 for q in (50, 95, 99))
    else:
        p50 = p95 = p99 = None
    return Summary(
        requests=len(latencies_s), errors=errors, seconds=seconds, throughput=len(latencies_s) / seconds,
        p50_ms=p50, p95_ms=p95, p99_ms=p99,
    )


def fmt(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "—" if value is None else f"{value:.{digits}f}{suffix}"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
