"""Writes bench/RESULTS.md from one run. Every figure in it comes from that run.

The part below the ``NOTES_MARK`` line is kept across runs: it holds the profiling notes a
person wrote about a run, each naming the run it refers to.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from bench.stats import fmt, fmt_ratio, ratio

NOTES_MARK = "<!-- notes below this line are kept when the report is regenerated -->"
TARGET_SHARE = 0.5  # dashboard and detail: at least half the bare view's throughput
ADMIN_GROWTH = 1.5  # admin queue at 1M rows: at most 1.5 × its time at 10k rows
PAGES_WITH_TARGET = {"dashboard_hot", "dashboard_typical", "detail", "dashboard_typical_fresh", "detail_fresh"}
# The review queue pages, in the order the growth table and the slowest-statement list show them.
ADMIN_PAGES = ("admin_queue", "admin_filtered", "admin_in_review", "admin_region", "admin_decided")


def _paired(runs):
    from bench.run import paired_rows

    return paired_rows(runs)


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def write_report(path: Path, *, results: list[dict], drain: dict, info: dict, args, started: dt.datetime, command: str) -> None:
    notes = ""
    if path.exists():
        text = path.read_text()
        if NOTES_MARK in text:
            notes = text.split(NOTES_MARK, 1)[1]
    lines: list[str] = []
    add = lines.append
    add("# Benchmark results")
    add("")
    add(f"Run started {started:%Y-%m-%d %H:%M} UTC, written by `bench/run.py`; nothing here is typed by hand above the notes line.")
    add("")
    add("Reproduce (PostgreSQL and Redis on loopback, as for the tests):")
    add("")
    add("```")
    add(command)
    add("```")
    add("")
    add("## Machine")
    add("")
    add("| | |")
    add("|---|---|")
    add(f"| cores (nproc) | {info['nproc']} |")
    add(f"| memory | {info['memory_gib']} GiB |")
    add(f"| CPU | {info['cpu']} |")
    add(f"| PostgreSQL | {info['postgres']} |")
    add(f"| Python | {info['python']} |")
    add(f"| git commit | {info['commit']} (+ {info['uncommitted_files']} uncommitted files in the shared tree at the start) |")
    add(f"| load average before / after | {', '.join(f'{x:.1f}' for x in info['load_before'])} / {', '.join(f'{x:.1f}' for x in info.get('load_after', ()))} |")
    add("")
    add(
        f"Server: gunicorn, {args.workers} sync workers, bench settings (DEBUG off, persistent DB connections, "
        f"Redis cache db 9). Client: {args.concurrency} closed-loop threads on loopback, {args.warmup:g} s warm-up "
        f"then {args.seconds:g} s measured per page. The machine is shared (other engineers' test suites may run "
        "during a run), so absolute figures are noise; the **ratio to the bare view measured just before and after "
        "each page** (the mean of the two) is the result."
    )
    add("")
    by_scale = {r["scale"]: r for r in results}
    for result in results:
        _scale_section(add, result)
    _admin_growth_section(add, by_scale)
    _queries_section(add, results)
    _upload_section(add, results)
    _drain_section(add, drain)
    _slowest_section(add, results)
    _generation_section(add, results)
    add("")
    add(NOTES_MARK)
    path.write_text("\n".join(lines) + (notes if notes else "\n"))


def _scale_section(add, result: dict) -> None:
    add(f"## {result['applications']:,} applications (`{result['db']}`)")
    add("")
    add("| page | responses | req/s | p50 ms | p95 ms | p99 ms | errors | bare req/s (paired) | throughput vs bare | target |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    labels = {name: t.get("label", name) for name, t in result["probe"]["targets"].items()}
    bare = [o for n, o, _ in result["runs"] if n == "bare" and o]
    if bare:
        tps = [o.summary.throughput for o in bare]
        add(f"| {labels.get('bare', 'bare')} ×{len(bare)} | {sum(o.summary.requests for o in bare)} | {min(tps):.1f}–{max(tps):.1f} | "
            f"{fmt(sum(o.summary.p50_ms for o in bare) / len(bare))} | {fmt(max(o.summary.p95_ms for o in bare))} | "
            f"{fmt(max(o.summary.p99_ms for o in bare))} | {sum(o.summary.errors for o in bare)} | | 100% | |")
    for row in _paired(result["runs"]):
        name, outcome = row["name"], row["outcome"]
        label = labels.get(name, name)
        if outcome is None:
            add(f"| {label} | not available in this run: {row['reason']} | | | | | | | | |")
            continue
        s = outcome.summary
        if s.requests == 0 and not s.errors:
            add(f"| {label} | 0 | 0 | no response completed within the {s.seconds:.0f} s window | | | | "
                f"{fmt(row['base_tp'])} | 0% | {'**missed**' if name in PAGES_WITH_TARGET else ''} |")
            continue
        share = ratio(s.throughput, row["base_tp"])
        target = ""
        if name in PAGES_WITH_TARGET:
            target = f"≥ 50 %: {_verdict(None if share is None else share >= TARGET_SHARE)}"
        if name == "upload":
            target = "see upload section"
        errors = f"{s.errors}" + (f" ({', '.join(f'{k}: {v}' for k, v in outcome.statuses.items() if k != '200')})" if s.errors else "")
        add(f"| {label} | {s.requests} | {s.throughput:.1f} | {fmt(s.p50_ms)} | {fmt(s.p95_ms)} | {fmt(s.p99_ms)} | {errors} | "
            f"{fmt(row['base_tp'])} | {fmt_ratio(share)} | {target} |")
    add("")
    floor = _find(result, "signed_in_floor")
    if floor and floor["outcome"] and floor["outcome"].summary.throughput:
        shares = []
        for name in sorted(PAGES_WITH_TARGET):
            row = _find(result, name)
            if row and row["outcome"]:
                shares.append(f"{labels.get(name, name)}: {fmt_ratio(ratio(row['outcome'].summary.throughput, floor['outcome'].summary.throughput))}")
        add(f"Against the signed-in floor ({floor['outcome'].summary.throughput:.1f} req/s; session, user and the site shell "
            f"around an empty body), for reading only, the target stays against the bare view: {'; '.join(shares)}.")
        add("")
    minimum = _find(result, "signed_in_minimum")
    if minimum and minimum["outcome"] and minimum["outcome"].summary.throughput:
        share = ratio(minimum["outcome"].summary.throughput, minimum["base_tp"])
        bound = "below" if share is not None and share < TARGET_SHARE else "not below"
        add(f"The signed-in minimum (session and user loaded, \"ok\" returned, no query or template of its own) reaches "
            f"{fmt_ratio(share)} of the bare view: {bound} the {TARGET_SHARE:.0%} the dashboard and detail targets ask of "
            "pages that also read their rows and render them.")
        add("")


def _find(result: dict, name: str):
    for row in _paired(result["runs"]):
        if row["name"] == name:
            return row
    return None


def _admin_growth_section(add, by_scale: dict) -> None:
    add("## Admin review queue: 1,000,000 rows against 10,000 rows")
    add("")
    small, large = by_scale.get("10k"), by_scale.get("1m")
    if not small or not large:
        add("Not available in this run: both scales are needed (run without `--scales`).")
        add("")
        return
    add("Target: time per page at 1M rows ≤ 1.5 × at 10k rows. Shown raw (p50) and normalised by each run's own "
        "paired bare-view p50, which removes the machine's drift between the two runs.")
    add("")
    add("The rows column is what each page lists (10k / 1M): a page listing fewer rows does less work, so a "
        "pair with different row counts compares different pages, and the table says so.")
    add("")
    add("| page | rows listed | p50 10k ms | p50 1M ms | 1M / 10k (raw) | 1M / 10k (normalised) | req/s 10k | req/s 1M | target |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in ADMIN_PAGES:
        a, b = _find(small, name), _find(large, name)
        if not a or not b or not a["outcome"] or not b["outcome"]:
            reason = (a or {}).get("reason") or (b or {}).get("reason") or "not measured"
            add(f"| {name} | not available in this run: {reason} | | | | | | | |")
            continue
        rows = [by["probe"]["targets"].get(name, {}).get("probe", {}).get("rows_listed") for by in (small, large)]
        sa, sb = a["outcome"].summary, b["outcome"].summary
        raw = ratio(sb.p50_ms, sa.p50_ms)
        norm = ratio(ratio(sb.p50_ms, b["base_p50"]), ratio(sa.p50_ms, a["base_p50"]))
        ok = None if norm is None else norm <= ADMIN_GROWTH
        verdict = f"≤ 1.5×: {_verdict(ok)}"
        if None not in rows and rows[0] != rows[1]:
            verdict += f" (lists {rows[0]} rows at 10k, {rows[1]} at 1M: not like for like)"
        add(f"| {name} | {rows[0] if rows[0] is not None else '—'} / {rows[1] if rows[1] is not None else '—'} | "
            f"{fmt(sa.p50_ms)} | {fmt(sb.p50_ms)} | {fmt(raw, 2, '×')} | {fmt(norm, 2, '×')} | "
            f"{sa.throughput:.1f} | {sb.throughput:.1f} | {verdict} |")
    add("")


def _queries_section(add, results: list[dict]) -> None:
    add("## Queries per page (in-process probe, `CaptureQueriesContext`)")
    add("")
    add("Cold: the first request with an empty cache and no copy of the catalog in the process; warm: the same "
        "request right after it, as in a running server (catalog rows no longer read from PostgreSQL, "
        "statements already prepared on the connection; the session is read with its account on every "
        "request). Shown as cold (warm).")
    add("")
    names = []
    for result in results:
        for name in result["probe"]["targets"]:
            if name not in names:
                names.append(name)
    header = " | ".join(f"{r['scale']}" for r in results)
    add(f"| page | {header} | unfiltered COUNT(*) |")
    add("|---|" + "---:|" * len(results) + "---|")
    for name in names:
        cells, unfiltered = [], []
        for result in results:
            target = result["probe"]["targets"].get(name, {})
            probe = target.get("probe", {})
            cell = str(probe.get("queries", "—"))
            if probe.get("queries_warm") is not None:
                cell += f" ({probe['queries_warm']})"
            cells.append(cell if not target.get("unavailable") else "n/a")
            unfiltered += probe.get("unfiltered_counts") or []
        add(f"| {name} | {' | '.join(cells)} | {'**yes**: ' + unfiltered[0][:120] if unfiltered else 'none'} |")
    add("")
    for result in results:
        sizes = result["probe"].get("admin_page_size") or {}
        if sizes:
            counts = {k: v.get("queries") for k, v in sizes.items()}
            same = len(set(counts.values())) == 1
            add(f"- {result['scale']}: admin queue with 20 rows per page: {counts.get('20')} queries; with 100: "
                f"{counts.get('100')} — {'independent of page size' if same else '**grows with page size**'}.")
        dash = result["probe"].get("dashboard_rows") or {}
        if dash:
            # Judged on the warm counts, as a running server serves the page: the cold ones also
            # hold each prepared statement's first PREPARE and the first reads of the session and
            # the catalog copy. (The 200-case page's statement brings its count with its rows.)
            targets = result["probe"]["targets"]
            warm = [targets.get(name, {}).get("probe", {}).get("queries_warm") for name in ("dashboard_hot", "dashboard_typical")]
            hot, typical = warm if None not in warm else (dash.get("hot_queries"), dash.get("typical_queries"))
            if hot == typical:
                verdict = "independent of rows"
            elif None not in (hot, typical) and hot == typical + 1:
                # portal.pagination.page_get: a list that fits on one page needs no COUNT(*); a
                # longer one does, unless its statement read the count (citizen_sql on PostgreSQL).
                verdict = ("one COUNT(*) more, because ten pages need counting and one page does not "
                           "(`page_get`); no more for more rows")
            else:
                verdict = "**grows with rows**"
            add(f"- {result['scale']}: dashboard for a 200-case account: {hot} queries warm ({dash.get('hot_queries')} cold); "
                f"one-case account: {typical} ({dash.get('typical_queries')} cold) — {verdict}.")
    add("")


def _upload_section(add, results: list[dict]) -> None:
    add("## Upload against the bare upload view")
    add("")
    add("Both receive the same multipart body (one JPEG, CSRF on); the bare view only reads it. The real one "
        "checks the bytes, stores the file privately and queues the image processing after commit.")
    add("")
    add("| scale | upload bytes | upload req/s | bare upload req/s | ratio | upload p50 ms | bare upload p50 ms |")
    add("|---|---:|---:|---:|---:|---:|---:|")
    for result in results:
        up, bare = _find(result, "upload"), _find(result, "bare_upload")
        if not up or not bare or not up["outcome"] or not bare["outcome"]:
            reason = (up or {}).get("reason") or (bare or {}).get("reason") or "not measured"
            add(f"| {result['scale']} | not available in this run: {reason} | | | | | |")
            continue
        su, sb = up["outcome"].summary, bare["outcome"].summary
        add(f"| {result['scale']} | {result.get('upload_bytes', '?'):,} | {su.throughput:.1f} | {sb.throughput:.1f} | "
            f"{fmt_ratio(ratio(su.throughput, sb.throughput))} | {fmt(su.p50_ms)} | {fmt(sb.p50_ms)} |")
    add("")


def _drain_section(add, drain: dict) -> None:
    add("## Notification drain against a no-op Celery task")
    add("")
    if drain.get("unavailable"):
        add(f"Not available in this run: {drain['unavailable']}.")
        add("")
        return
    noop = drain.get("noop_per_s")
    add(f"No-op task {fmt(noop)} /s (the median of the no-op runs; one before and one after each of "
        f"{drain.get('rounds') or 1} rounds, on the same worker: {drain.get('worker') or '?'}). The same number of SMS "
        "rows, each claimed and sent on its own; each round is divided by the mean of the no-op runs around it, "
        "and the round with the median ratio is shown:")
    add("")
    add("| rows written | drain /s | vs no-op | every round | target ≥ 60 % |")
    add("|---|---:|---:|---|---|")
    for label, key, ratio_key in (("together, in one transaction (digest, bulk decision)", "drain_per_s", "drain_ratio"),
                                  ("one task per row (one citizen event, one SMS; the sweep)", "single_per_s", "single_ratio")):
        share = drain.get(ratio_key) if drain.get(ratio_key) is not None else ratio(drain.get(key), noop)
        rounds = ", ".join(fmt_ratio(r) for r in drain.get(ratio_key + "s") or [])
        add(f"| {label} | {fmt(drain.get(key))} | {fmt_ratio(share)} | {rounds or '—'} | "
            f"{_verdict(None if share is None else share >= 0.6)} |")
    if drain.get("command"):
        add("")
        add(f"Measured by the notifications engineer's `{drain['command']}` (its own database and private Redis):")
        add("")
        add("```")
        for line in drain.get("output", []):
            add(line)
        add("```")
    add("")


def _slowest_section(add, results: list[dict]) -> None:
    add("## Slowest statements per page (largest scale)")
    add("")
    result = results[-1] if results else None
    if not result:
        return
    for name in (*ADMIN_PAGES, "dashboard_hot", "dashboard_typical", "detail", "track_lookup"):
        probe = result["probe"]["targets"].get(name, {}).get("probe", {})
        for q in [q for q in probe.get("slowest") or [] if "portal_session" not in q["sql"]][:1]:
            add(f"- **{name}** ({result['scale']}): {q['ms']} ms — `{q['sql'][:600]}`")
            if probe.get("plan"):
                # The plan's verdict lines: its top, every sequential scan and filter, spills, total.
                keys = ("Seq Scan", "Rows Removed by Filter", "external merge", "Execution Time", "Index Scan", "Index Only Scan")
                shown = [probe["plan"][0]] + [line for line in probe["plan"][1:] if any(k in line for k in keys)]
                add("")
                add("  ```")
                for line in shown[:16]:
                    add(f"  {line[:220]}")
                add("  ```")
    add("")


def _generation_section(add, results: list[dict]) -> None:
    add("## Data")
    add("")
    for result in results:
        gen = result["generation"]
        made = (
            f"generated in {gen['total_s']:.0f} s (migrate {gen['migrate_s']:.0f} s, catalog + generate + COPY + "
            f"index build {gen['generate_s']:.0f} s, then VACUUM ANALYZE)" if "total_s" in gen else "generation time not recorded"
        )
        if gen.get("reused"):
            made = f"reused (`--reuse`) from the run of {gen.get('generated_at', '?')[:16]} UTC, which {made}"
        seed = f"seed {gen.get('seed', '?')}, as of {gen.get('as_of', '?')[:10]}, catalog: {gen.get('catalog', '?')}"
        counts = ", ".join(f"{k} {v:,}" for k, v in (gen.get("counts") or {}).items())
        add(f"- `{result['db']}`: {made}; {seed}. Rows: {counts or 'not recorded'}.")
    add("")
