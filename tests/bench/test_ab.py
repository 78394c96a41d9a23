"""bench.ab: each round's targets against that round's bare runs, medians over the rounds."""
import pytest

from bench.ab import Measure, busy_seconds, table


def test_each_round_is_divided_by_its_own_bare_runs():
    measure = Measure("head")
    measure.add_round([("bare", 2000.0, 800.0), ("detail", 600.0, 2400.0), ("bare", 1000.0, 900.0)])
    measure.add_round([("bare", 1000.0, 800.0), ("detail", 500.0, 2000.0), ("bare", 1000.0, 800.0)])
    assert measure.shares["detail"] == pytest.approx([0.4, 0.5])
    assert measure.cpu_us["detail"] == [2400.0, 2000.0]


def test_the_table_shows_medians_and_every_round():
    base, head = Measure("abc1234"), Measure("working tree")
    for share in (0.3, 0.5, 0.4):
        base.add_round([("bare", 1000.0, 700.0), ("detail", 1000.0 * share, 2000.0), ("bare", 1000.0, 700.0)])
        head.add_round([("bare", 1000.0, 700.0), ("detail", 1000.0 * (share + 0.1), 1800.0), ("bare", 1000.0, 700.0)])
    text = table(base, head, ["detail"])
    assert "| detail | 40 % (30, 50, 40) | 50 % (40, 60, 50) | 2000 (2000, 2000, 2000) | 1800 (1800, 1800, 1800) |" in text
    assert text.splitlines()[2].startswith("| bare | 100 % | 100 % | 700 ")


def test_the_machine_busy_time_only_grows():
    first = busy_seconds()
    sum(i * i for i in range(200_000))
    assert busy_seconds() >= first > 0
