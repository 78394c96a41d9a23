"""Before and after in the same minutes: two trees of the project, served in turn on one bench database.

    .venv/bin/python -m bench.ab 50ddc8e                      # that commit against the working tree
    .venv/bin/python -m bench.ab 50ddc8e --head 7f3134c --targets signed_in_minimum,detail --rounds 6

A change's effect is a few per cent; on this shared machine one target's share of the bare view
moves by ten points between two runs of the same tree, and the bare view itself by a third
between days. Full runs (``bench.run``) on different days cannot tell such a change from the
weather, so this alternates the trees: each round serves the base tree's gunicorn, then the
head's (the order swapped every other round), each loading the bare view, the targets and the
bare view again. Each target is divided by the mean of its round's two bare runs, and the median
over the rounds is the figure.

Beside throughput it reports the machine's busy CPU per response (``/proc/stat``, every process:
gunicorn, PostgreSQL, the client): when two cores are saturated, a target's throughput is roughly
the inverse of that, and it moves less with the neighbours.

The base tree is checked out with ``git worktree`` under ``var/bench/ab/`` (kept for the next
call) and runs on the project's virtualenv with its own code first on the path. The database is
the one ``bench.run`` generated (``--scale``), migrated by the head tree: the base must run on the
head's schema, which holds for additive migrations. Each tree writes its own sessions with its own
``bench.probe``. Nothing here writes ``RESULTS.md``; the table is printed for its notes.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.generate import BASE_DIR, bench_env
from bench.loadgen import run_load
from bench.probe import jpeg_bytes
from bench.run import SCALES, WORK_DIR, Gunicorn, build_requests, database_has_rows

AB_DIR = WORK_DIR / "ab"
DEFAULT_TARGETS = "signed_in_minimum,signed_in_floor,dashboard_typical,detail"


def busy_seconds() -> float:
    """CPU time the whole machine spent busy so far (all but idle and I/O wait), in seconds."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def tree_for(commit: str | None) -> tuple[Path, str]:
    """The tree to serve for ``commit`` (None: the working tree) and how to name it."""
    if commit is None:
        return BASE_DIR, "working tree"
    sha = subprocess.run(["git", "rev-parse", "--short", f"{commit}^{{commit}}"], cwd=BASE_DIR,
                         capture_output=True, text=True, check=True).stdout.strip()
    tree = AB_DIR / sha
    if not (tree / "manage.py").exists():
        AB_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), sha], cwd=BASE_DIR, check=True)
    venv = tree / ".venv"
    if not venv.exists():
        venv.symlink_to(BASE_DIR / ".venv")
    return tree, sha


@dataclass
class Measure:
    """One tree's runs: per target, each round's share of the bare view and CPU per response."""

    name: str
    shares: dict[str, list[float]] = field(default_factory=dict)
    cpu_us: dict[str, list[float]] = field(default_factory=dict)

    def add_round(self, runs: list[tuple[str, float, float]]) -> None:
        """``runs``: (target, responses per second, busy CPU µs per response) in the order served,
        the bare view first and last."""
        bare = [throughput for name, throughput, _ in runs if name == "bare"]
        baseline = sum(bare) / len(bare)
        for name, throughput, cpu in runs:
            self.shares.setdefault(name, []).append(throughput / baseline)
            self.cpu_us.setdefault(name, []).append(cpu)


def table(base: Measure, head: Measure, targets: list[str]) -> str:
    def cell(values: list[float], scale: float, unit: str) -> str:
        rounds = ", ".join(f"{v * scale:.0f}" for v in values)
        return f"{statistics.median(values) * scale:.0f}{unit} ({rounds})"

    lines = [
        f"| target | {base.name}: share of bare | {head.name}: share of bare | {base.name}: CPU µs / response | {head.name}: CPU µs / response |",
        "|---|---|---|---|---|",
    ]
    for name in ["bare", *targets]:
        share = ("100 %", "100 %") if name == "bare" else (cell(base.shares[name], 100, " %"), cell(head.shares[name], 100, " %"))
        lines.append(f"| {name} | {share[0]} | {share[1]} | {cell(base.cpu_us[name], 1, '')} | {cell(head.cpu_us[name], 1, '')} |")
    return "\n".join(lines)


def _probe(tree: Path, db: str, env: dict[str, str]) -> dict:
    out = AB_DIR / f"probe-{tree.name}-{db}.json"
    AB_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "bench.probe", "--out", str(out)], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"bench.probe failed in {tree}:\n{(done.stderr or done.stdout)[-2000:]}")
    return json.loads(out.read_text())


def _serve(tree: Path, db: str, env: dict[str, str], probe: dict, targets: list[str], args) -> list[tuple[str, float, float]]:
    runs = []
    photo = jpeg_bytes()
    with Gunicorn(db=db, workers=args.workers, env=env, tree=tree) as server:
        for name in ["bare", *targets, "bare"]:
            target = probe["targets"][name]
            if target.get("unavailable"):
                raise SystemExit(f"{name} is not available in {tree}: {target['unavailable']}")
            requests = build_requests(name, target, probe, photo)
            before, began = busy_seconds(), time.monotonic()
            outcome = run_load(host="127.0.0.1", port=server.port, requests=requests, seconds=args.seconds,
                               concurrency=args.concurrency, warmup=args.warmup)
            elapsed, busy = time.monotonic() - began, busy_seconds() - before
            # Responses over the whole load, warm-up included, as the CPU was counted.
            answered = outcome.summary.throughput * elapsed
            runs.append((name, outcome.summary.throughput, busy / max(answered, 1) * 1e6))
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="the commit to compare against")
    parser.add_argument("--head", default=None, help="a commit (default: the working tree)")
    parser.add_argument("--scale", default="10k", choices=sorted(SCALES))
    parser.add_argument("--targets", default=DEFAULT_TARGETS, help="comma-separated bench.probe targets")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    db = SCALES[args.scale][0]
    if not database_has_rows(db):
        raise SystemExit(f"{db} has no rows: run `make bench` (or python -m bench.generate) first")
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    trees = [tree_for(args.base), tree_for(args.head)]
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=trees[1][0],
                   env={**bench_env(db), "PYTHONPATH": str(trees[1][0])}, check=True)
    setups = []
    for tree, name in trees:
        env = {**bench_env(db), "PYTHONPATH": str(tree), "LOG_LEVEL": "WARNING",
               "PRIVATE_MEDIA_ROOT": str(AB_DIR / f"private-{tree.name}-{db}")}
        print(f"probing {name} ({tree})", flush=True)
        setups.append((tree, env, _probe(tree, db, env), Measure(name)))
    for number in range(args.rounds):
        for tree, env, probe, measure in setups if number % 2 == 0 else reversed(setups):
            runs = _serve(tree, db, env, probe, targets, args)
            measure.add_round(runs)
            print(f"round {number + 1} {measure.name}: " + ", ".join(f"{n} {tp:.0f}/s {cpu:.0f} µs" for n, tp, cpu in runs), flush=True)
    print()
    print(f"{args.scale}, {args.rounds} rounds of {args.seconds:g} s a target, gunicorn {args.workers} sync workers, "
          f"{args.concurrency} client threads; median (each round)")
    print(table(setups[0][3], setups[1][3], targets))


if __name__ == "__main__":
    main()
