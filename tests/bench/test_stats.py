"""The report's arithmetic: percentiles, ratios, paired baselines, COPY escaping, SQL flags."""

import pytest

from bench.copying import copy_text
from bench.loadgen import Outcome, Request, run_load
from bench.probe import is_unfiltered_count
from bench.run import paired_rows
from bench.stats import percentile, ratio, summarize

def test_percentile_interpolates_like_numpy():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 95) == pytest.approx(9.55)
    assert percentile(values, 99) == pytest.approx(9.91)
    assert percentile(values, 0) == 1 and percentile(values, 100) == 10
    assert percentile([3.0], 99) == 3.0
    assert percentile([10, 1, 5], 50) == 5  # order of input does not matter

def test_percentile_rejects_nonsense():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1], 101)

def test_ratio_and_summary():
    assert ratio(50, 200) == 0.25
    assert ratio(1, 0) is None and ratio(None, 2) is None
    summary = summarize([0.010, 0.020, 0.030, 0.040], errors=1, seconds=2.0)
    assert summary.throughput == 2.0 and summary.requests == 4 and summary.errors == 1
    assert summary.p50_ms == pytest.approx(25.0)
    assert summarize([], errors=3, seconds=1.0).p50_ms is None

def _outcome(throughput, p50=10.0):
    return Outcome(summary=summarize([p50 / 1000] * int(throughput), errors=0, seconds=1.0), statuses={"200": int(throughput)})

def test_each_target_is_paired_with_the_bare_runs_around_it():
    runs = [
        ("bare", _outcome(100), ""),
        ("catalog", _outcome(40), ""),
        ("bare", _outcome(300), ""),
        ("detail", _outcome(90), ""),
        ("missing", None, "route not found"),
    ]
    rows = {row["name"]: row for row in paired_rows(runs)}
    assert rows["catalog"]["base_tp"] == 200  # mean of 100 before and 300 after
    assert rows["detail"]["base_tp"] == 300  # nothing after: the one before
    assert rows["missing"]["outcome"] is None and rows["missing"]["reason"] == "route not found"

def test_copy_text_escapes_what_copy_would_misread():
    assert copy_text(None) == "\\N"
    assert copy_text("a\tb\nc\\d") == "a\\tb\\nc\\\\d"
    assert copy_text({"k": "x\ny"}) == '{"k":"x\\\\ny"}'  # JSON's own escape survives COPY
    assert copy_text(True) == "t" and copy_text(3) == "3"

def test_unfiltered_count_detection():
    assert is_unfiltered_count('SELECT COUNT(*) AS "__count" FROM "applications_application"')
    assert not is_unfiltered_count('SELECT COUNT(*) FROM "applications_application" WHERE "status" = \'x\'')
    assert not is_unfiltered_count('SELECT COUNT(*) FROM (SELECT "id" FROM "applications_application" LIMIT 10001) subquery')

def test_load_goes_to_loopback_only():
    with pytest.raises(ValueError):
        run_load(host="10.0.0.1", port=80, requests=[Request("/")], seconds=0.1, concurrency=1)
