"""Search on the embedded index: indexing speed, query latency and size on disk.

Synthetic multilingual articles (``bench.synthetic``, seeded: Vietnamese with diacritics, English,
Chinese, Japanese, Korean, Russian, French, with the city's names and places) are upserted into
``index.sqlite.SqliteBackend`` in batches of 1000, then 20 representative queries run through
``SqliteBackend.search`` and 2 aggregations (the search page's histogram, the trends page's topics
per week) through ``histogram`` / ``facet_histogram`` (1 warm-up + N timed runs each). Default
100,000 documents; ``--large`` adds 1,000,000 (time-boxed: if indexing would not finish within the
budget it stops, says so, and measures the queries on what it reached).

``--large-db PATH`` keeps the 1,000,000-document index at PATH (outside the repository) and reuses
it on later runs (an index from an older schema is upgraded on open; the time is reported).
``--baseline REV`` also runs every query with ``index/sqlite.py`` as it was at git revision REV, on
the same file, alternating run by run with the current code, and reports the ratios.

    .venv/bin/python -m bench.search_bench [--docs 100000] [--large] [--large-db PATH] [--baseline REV]
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import REPO, base_parser, md_table, percentile, write_report

NAME = "search"
TITLE = "Search on the embedded SQLite index (synthetic multilingual articles)"
BATCH = 1000

# (id, group, text, filters, extra SearchQuery arguments)
QUERIES = [
    ("vi-city", "Vietnamese", "Hải Phòng", {}, {}),
    ("vi-city-nodiacritics", "Vietnamese without diacritics", "hai phong", {}, {}),
    ("vi-words", "Vietnamese", "container cảng biển", {}, {}),
    ("vi-phrase", "phrases", '"khu công nghiệp" "Đình Vũ"', {}, {}),
    ("vi-phrase-nodiacritics", "phrases", '"khu cong nghiep"', {}, {}),
    ("vi-rare-phrase", "phrases", '"Bạch Long Vĩ" bão', {}, {}),
    ("vi-exclusion", "exclusions", 'Cát Bà -"du lịch"', {}, {}),
    ("vi-exclusion-common", "exclusions", 'Hải Phòng -"Hà Nội" -bão', {}, {}),
    ("vi-or", "OR", '"Lạch Huyện" OR "Đình Vũ" OR "Chùa Vẽ"', {}, {}),
    ("en-or", "OR", '"Hai Phong" OR Haiphong investment', {}, {}),
    ("en-words", "other languages", "Haiphong port container", {}, {}),
    ("fr-city", "other languages", "Haïphong coopération", {}, {}),
    ("ru-city", "other languages", "Хайфон порт", {}, {}),
    ("zh-city", "CJK", "海防", {}, {}),
    ("zh-phrase", "CJK", "海防港 集装箱", {}, {}),
    ("ja-city", "CJK", "ハイフォン 工業団地", {}, {}),
    ("ko-city", "CJK", "하이퐁 투자", {}, {}),
    ("filtered-vi-2024", "filters", "Hải Phòng",
     {"language": ["vi"], "scope": ["domestic"]},
     {"since": datetime(2024, 1, 1, tzinfo=UTC), "until": datetime(2024, 12, 31, 23, 59, tzinfo=UTC)}),
    ("filtered-foreign-facets", "filters + facets", "", {"language": ["en", "fr"], "scope": ["foreign"]},
     {"facets": True, "sort": "date"}),
    ("facets-city", "facets", "Hải Phòng", {}, {"facets": True}),
]

# What the web search page asks (index_bench keeps to QUERIES): the installation's thesaurus expands
# names (hai phong -> Haiphong, 海防, ...) and labels (du lịch -> topic tourism_culture, which the
# synthetic articles do not carry: the label set is empty but is read), the page shows 30 values a facet.
WEB_QUERIES = [
    ("web-hai-phong", "web page (thesaurus)", "hai phong", {},
     {"thesaurus": "installation", "facets": True, "facet_size": 30}),
    ("web-du-lich", "web page (thesaurus)", "du lịch", {}, {"thesaurus": "installation", "facets": True,
                                                           "facet_size": 30}),
]

# (id, group, text, filters, call): what the web pages ask besides the search itself
AGGREGATIONS = [
    ("histogram-city", "aggregations", "Hải Phòng", {},
     {"call": "histogram", "interval": "day", "timezone": "Asia/Ho_Chi_Minh"}),
    ("trends-topic-week", "aggregations", "", {"language": ["vi"]},
     {"call": "facet_histogram", "facet": "topic", "interval": "week", "timezone": "Asia/Ho_Chi_Minh"}),
]


def _size(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def build(db: Path, docs: int, budget_s: float, seed: int) -> dict:
    from bench.synthetic import Generator
    from index.sqlite import SqliteBackend

    backend = SqliteBackend(db)
    gen = Generator(seed)
    gen_seconds = upsert_seconds = upsert_cpu = 0.0
    done = 0
    chars = 0
    start = time.perf_counter()
    stopped = None
    while done < docs:
        t = time.perf_counter()
        batch = [gen.article(i) for i in range(done, min(docs, done + BATCH))]
        gen_seconds += time.perf_counter() - t
        chars += sum(len(a.title) + len(a.lead) + len(a.text) for a in batch)
        t, c = time.perf_counter(), time.process_time()
        report = backend.upsert(batch)
        upsert_seconds += time.perf_counter() - t
        upsert_cpu += time.process_time() - c
        if report.errors:
            raise RuntimeError(f"upsert errors: {list(report.errors.items())[:3]}")
        done += len(batch)
        if done % 20000 == 0:
            rate = done / upsert_seconds
            print(f"    {done} docs, {rate:.0f} docs/s upsert, {_size(db) / 1e6:.0f} MB", flush=True)
        if time.perf_counter() - start > budget_s and done < docs:
            stopped = (f"stopped at {done:,} of {docs:,} documents: the {budget_s:.0f} s indexing budget ran out "
                       f"(projected full indexing {docs / (done / (time.perf_counter() - start)) / 60:.0f} min)")
            print(f"    {stopped}", flush=True)
            break
    backend.close()
    return {"docs": done, "target_docs": docs, "stopped": stopped,
            "upsert_seconds": upsert_seconds, "generate_seconds": gen_seconds,
            "upsert_cpu_seconds": upsert_cpu, "docs_per_second": done / upsert_seconds,
            "docs_per_cpu_second": done / upsert_cpu, "avg_chars": chars / max(done, 1),
            "bytes_on_disk": _size(db)}


def baseline_module(rev: str):
    """``index/sqlite.py`` as it was at git revision ``rev``, imported as a module of its own (it
    imports the rest of ``index`` from the working tree)."""
    source = subprocess.run(["git", "show", f"{rev}:index/sqlite.py"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="hpmon-baseline-"))
    path = folder / "baseline_sqlite.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_sqlite", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _one_run(backend, timeout_type, qid: str, text: str, filters: dict, extra: dict, limit_ms: int) -> tuple:
    """(ms, hits, timed out, error, digest of the whole answer) of one run of a query. A run is a
    timeout when the backend raised its QueryTimeout or said its counts were cut short
    (``timed_out``): it took at least the limit."""
    from index.query import SearchQuery

    extra = dict(extra)
    if extra.get("thesaurus") == "installation":
        from index.thesaurus import Thesaurus

        extra["thesaurus"] = Thesaurus.of_installation(REPO / "config", REPO / "config" / "cities" / "haiphong.yaml")
    call = extra.pop("call", "search")
    options = {k: extra.pop(k) for k in ("interval", "timezone", "facet") if k in extra}
    query = SearchQuery(text=text, filters=filters, limit=20, **extra)
    t = time.perf_counter()
    try:
        if call == "search":
            result = backend.search(query)
            hits, cut = result.total, result.timed_out
            answer = [result.total, [h.article.id for h in result.hits], sorted(result.facets.items())]
        else:
            result = getattr(backend, call)(query, **options)
            hits = sum(row[-1] for row in result) if call == "histogram" else len(result)
            cut, answer = result.timed_out, list(result)
    except timeout_type as exc:
        return (time.perf_counter() - t) * 1000, None, True, f"QueryTimeout: {exc}", None
    elapsed = (time.perf_counter() - t) * 1000
    digest = hashlib.sha1(json.dumps(answer, ensure_ascii=False, default=str).encode()).hexdigest()[:12]
    return elapsed, hits, cut, (f"{call} timed out (partial counts)" if cut else None), digest


def run_queries(db: Path, runs: int, time_limit_ms: int, baseline=None) -> dict[str, list[dict]]:
    """Each query once to warm up, then ``runs`` timed runs, per code (``current``, and ``baseline``
    when given: the two alternate run by run on the same file, under the same load). A run that hits
    the backend's time limit is a timeout: it is kept in ``ms`` at the limit (a lower bound of its
    real time; ``wall_ms`` has the measured time), so it counts in every percentile, and counted in
    ``timeouts``; it is never dropped."""
    from index import sqlite as current

    codes = {"current": current} | ({"baseline": baseline} if baseline else {})
    backends = {name: module.SqliteBackend(db, time_limit_ms=time_limit_ms) for name, module in codes.items()}
    out: dict[str, list[dict]] = {name: [] for name in codes}
    for qid, group, text, filters, extra in [*QUERIES, *WEB_QUERIES, *AGGREGATIONS]:
        rec = {name: {"times": [], "wall": [], "total": None, "answer": None, "error": None, "timeouts": 0,
                      "warmup_timeout": False}
               for name in codes}
        for k in range(runs + 1):
            for name, backend in backends.items():
                r = rec[name]
                ms, hits, cut, error, digest = _one_run(backend, codes[name].QueryTimeout, qid, text, filters,
                                                        extra, time_limit_ms)
                if hits is not None and not cut:
                    r["total"], r["answer"] = hits, digest
                r["error"] = error or r["error"]
                if not k:  # the first run warms the page cache
                    r["warmup_timeout"] = cut
                    continue
                r["wall"].append(ms)
                r["times"].append(float(time_limit_ms) if cut else ms)
                r["timeouts"] += cut
        for name, r in rec.items():
            times = r["times"]
            extra_str = {k: str(v) for k, v in extra.items()}
            out[name].append({
                "id": qid, "group": group, "kind": extra.get("call", "search"), "text": text, "filters": filters,
                "options": extra_str, "total_hits": r["total"], "answer": r["answer"], "error": r["error"],
                "runs": runs,
                "timeouts": r["timeouts"], "warmup_timeout": r["warmup_timeout"], "time_limit_ms": time_limit_ms,
                "ms": times, "wall_ms": r["wall"],
                "p50_ms": percentile(times, 50) if times else None, "p95_ms": percentile(times, 95) if times else None,
                "max_ms": max(times) if times else None,
                "p95_over_limit": bool(r["timeouts"]) and percentile(times, 95) >= time_limit_ms})
        line = "  ".join(f"{name} p50 {out[name][-1]['p50_ms']:.0f} ms ({out[name][-1]['timeouts']} timeouts)"
                         for name in codes)
        print(f"    {qid}: {line}", flush=True)
    for backend in backends.values():
        backend.close()
    return out


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(docs: int, budget_s: float, runs: int, seed: int, keep: Path | None, time_limit_ms: int = 5000,
            db: Path | None = None, baseline=None, baseline_rev: str | None = None) -> dict:
    """Index ``docs`` articles (or reuse the index at ``db``) and time the queries on it."""
    tmp = None if db else Path(tempfile.mkdtemp(prefix="hpmon-search-bench-"))
    try:
        path = db or tmp / "index.db"
        stats_file = path.with_name(path.name + ".build.json")
        if db and path.exists() and stats_file.exists():
            built = json.loads(stats_file.read_text())
            built["reused"] = str(path)
            print(f"  reusing {path} ({built['docs']:,} docs, built earlier)", flush=True)
        else:
            print(f"  indexing {docs:,} synthetic articles (budget {budget_s:.0f} s) ...", flush=True)
            built = build(path, docs, budget_s, seed)
            if db:
                stats_file.write_text(json.dumps(built, indent=1))
        from index.sqlite import SqliteBackend

        t = time.perf_counter()
        SqliteBackend(path).close()  # an index from an older schema is upgraded here, once
        built["open_seconds"] = time.perf_counter() - t
        built["bytes_on_disk"] = _size(path)
        print(f"    {built['docs']:,} docs, {built['bytes_on_disk'] / 1e6:.0f} MB; opened in "
              f"{built['open_seconds']:.1f} s", flush=True)
        built["load_before"] = _load()
        t = time.perf_counter()
        results = run_queries(path, runs, time_limit_ms, baseline)
        built["time_limit_ms"] = time_limit_ms
        built["query_seconds"] = time.perf_counter() - t
        built["load_after"] = _load()
        built["queries"] = results["current"]
        if baseline:
            built["baseline"] = {"rev": baseline_rev, "queries": results["baseline"]}
        return built
    finally:
        if tmp:
            if keep:
                shutil.copytree(tmp, keep, dirs_exist_ok=True)
            shutil.rmtree(tmp, ignore_errors=True)


def _pct(values: list[float], q: float, limit_ms: float, timeouts: int) -> str:
    """A percentile with timeouts counted at the limit. When the percentile falls on a timeout
    the real value is unknown, only that it is above the limit ("> limit"); when it is
    interpolated towards one, the number is a lower bound ("≥")."""
    if not values:
        return "–"
    v = percentile(values, q)
    if not timeouts:
        return f"{v:.1f}"
    xs = sorted(values)
    k = (len(xs) - 1) * q / 100
    touched = {xs[math.floor(k)], xs[math.ceil(k)]}
    if float(limit_ms) not in touched:
        return f"{v:.1f}"
    return f"> {limit_ms:.0f} (timeout)" if v >= limit_ms else f"≥ {v:.1f} (timeouts)"


def _max(values: list[float], limit_ms: float, timeouts: int) -> str:
    return _pct(values, 100, limit_ms, timeouts)


def _group_rows(queries: list[dict], limit_ms: float) -> list[tuple]:
    groups: dict[str, list[float]] = {}
    outs: dict[str, int] = {}
    for q in queries:
        groups.setdefault(q["group"], []).extend(q["ms"])
        outs[q["group"]] = outs.get(q["group"], 0) + q.get("timeouts", 0)
    return [(g, len(v), outs[g], _pct(v, 50, limit_ms, outs[g]), _pct(v, 95, limit_ms, outs[g]),
             _max(v, limit_ms, outs[g])) for g, v in groups.items()]


def summary(queries: list[dict], limit: float) -> dict:
    """p50/p95/max over every timed run of every query (timeouts at the limit), and the timeouts."""
    ms = [t for q in queries for t in q["ms"]]
    n_out = sum(q.get("timeouts", 0) for q in queries)
    return {"runs": len(ms), "timeouts": n_out, "p50": _pct(ms, 50, limit, n_out), "p95": _pct(ms, 95, limit, n_out),
            "max": _max(ms, limit, n_out), "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95),
            "max_ms": max(ms) if ms else None,
            "timed_out": [q["id"] for q in queries if q.get("timeouts") or q.get("warmup_timeout")]}


def all_queries_line(r: dict, queries: list[dict] | None = None, label: str = "All queries") -> str:
    """p50/p95/max over every timed run of every query, timeouts counted at the limit, and the
    queries that timed out."""
    limit = r.get("time_limit_ms", 5000)
    queries = r["queries"] if queries is None else queries
    s = summary(queries, limit)
    timed_out = [q for q in queries if q.get("timeouts") or q.get("warmup_timeout")]
    line = (f"{label} ({len(queries)}), {s['runs']} timed runs, timeouts counted at the {limit} ms limit: "
            f"**p50 {s['p50']} ms, p95 {s['p95']} ms, max {s['max']} ms**; {s['timeouts']} timed runs timed out")
    if timed_out:
        line += " — timed out: " + ", ".join(
            f"`{q['id']}` ({q.get('timeouts', 0)} of {q.get('runs', len(q['ms']))} runs"
            + (", and the warm-up" if q.get("warmup_timeout") else "") + ")" for q in timed_out)
    return line + "."


def _query_rows(queries: list[dict], limit: float, baseline: list[dict] | None) -> list[tuple]:
    base = {q["id"]: q for q in baseline or []}
    rows = []
    for q in queries:
        row = [q["id"], (f"`{q['text']}`" if q["text"] else "(none)"),
               ", ".join([f"{k}={'/'.join(v)}" for k, v in q["filters"].items()]
                         + [f"{k}={v[:16]}" for k, v in q["options"].items()]),
               q["total_hits"], f"{q['timeouts']} of {q['runs']}", _pct(q["ms"], 50, limit, q["timeouts"]),
               _pct(q["ms"], 95, limit, q["timeouts"]), _max(q["ms"], limit, q["timeouts"])]
        if baseline is not None:
            b = base.get(q["id"])
            if b:
                ratio = percentile(b["ms"], 50) / percentile(q["ms"], 50) if q["ms"] and b["ms"] else math.nan
                bound = "≥ " if b["timeouts"] else ""
                row += [_pct(b["ms"], 50, limit, b["timeouts"]), f"{b['timeouts']} of {b['runs']}",
                        f"{bound}×{ratio:.1f}",
                        "–" if b.get("answer") is None or q.get("answer") is None else
                        "same" if b["answer"] == q["answer"] else f"differs (hits {b['total_hits']})"]
            else:
                row += ["–", "–", "–", "–"]
        row.append(q["error"] or "–")
        rows.append(tuple(row))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--large", action="store_true", help="also 1,000,000 documents (time-boxed)")
    parser.add_argument("--large-docs", type=int, default=1_000_000)
    parser.add_argument("--large-db", type=Path, help="--large: keep the large index here and reuse it next time")
    parser.add_argument("--skip-small", action="store_true", help="only the --large size")
    parser.add_argument("--budget", type=float, default=270, help="--large: indexing time budget, seconds")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query (after one warm-up)")
    parser.add_argument("--large-runs", type=int, default=3, help="timed runs per query at the large size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="copy the built index here (for inspection)")
    parser.add_argument("--time-limit-ms", type=int, default=5000, help="the backend's per-query time limit")
    parser.add_argument("--baseline", metavar="REV", help="also run index/sqlite.py of this git revision, same file")
    args = parser.parse_args(argv)
    print(f"{NAME}: synthetic articles, seed {args.seed}")
    baseline = baseline_module(args.baseline) if args.baseline else None
    sizes = ([] if args.skip_small and args.large else [args.docs]) + ([args.large_docs] if args.large else [])
    results = {}
    for n in sizes:
        large = args.large and n == args.large_docs
        runs = args.large_runs if large else args.runs
        budget = args.budget if large else float("inf")  # only the large size is time-boxed
        results[str(n)] = measure(n, budget, runs, args.seed, args.keep, args.time_limit_ms,
                                  db=args.large_db if large else None, baseline=baseline, baseline_rev=args.baseline)
    md = [
        f"Synthetic articles from `bench/synthetic.py` (seed {args.seed}; language mix vi 50 %, en 20 %, fr 8 %, "
        "zh 7 %, ja 5 %, ko 5 %, ru 5 %; 65 % name the city, the rest one of its places). Upserted through "
        f"`SqliteBackend.upsert` in batches of {BATCH}; each query runs once to warm up, then is timed. "
        "Latency is the wall time of `SqliteBackend.search` (limit 20, snippets included) or of `histogram` / "
        "`facet_histogram` for the two aggregations. A run that exceeds the backend's time limit "
        f"({args.time_limit_ms} ms), or whose facets or counts the limit cut short (`timed_out`), is a "
        "**timeout**: it is counted at the limit in every percentile (never dropped), and a percentile that "
        "reaches the limit is shown as \"> limit\".",
        "",
    ]
    if baseline:
        md += [f"**Baseline in the same run**: every query also ran with `index/sqlite.py` of `{args.baseline}` on "
               "the same file, alternating run by run with the current code (same load, same page cache). "
               "× = baseline p50 / current p50 (\"≥\" when the baseline timed out: its time is counted at the "
               "limit, so the real ratio is higher). \"answer vs baseline\": the whole answer (total, the page's "
               "ids, every facet count; every histogram bucket) is the same.", ""]
    if not args.large:
        md += ["1,000,000 documents: **skipped** (run with `--large`; time-boxed by `--budget`).", ""]
    for n, r in results.items():
        label = f"{int(n):,} documents" + (f" — **partial**: {r['stopped']}" if r.get("stopped") else "")
        limit = r["time_limit_ms"]
        base_q = r.get("baseline", {}).get("queries")
        md += [
            f"## {label}",
            "",
            f"Indexed {r['docs']:,} documents (avg {r['avg_chars']:.0f} characters of title+lead+text) in "
            f"{r['upsert_seconds']:.1f} s of upsert time: **{r['docs_per_second']:.0f} docs/s** "
            f"({r['docs_per_cpu_second']:.0f} per CPU second) "
            f"(generation {r['generate_seconds']:.1f} s, not counted)"
            + (f"; built by an earlier run and reused ({r['reused']})" if r.get("reused") else "")
            + f". Index on disk: **{r['bytes_on_disk'] / 1e6:.0f} MB** "
            f"({r['bytes_on_disk'] / max(r['docs'], 1) / 1024:.1f} KB per document, database + WAL). "
            f"Opening it took {r['open_seconds']:.1f} s (includes a schema upgrade when the file was older). "
            f"Load average (1/5/15 min) before the queries {r['load_before']}, after {r['load_after']} "
            "(2 cores, shared).",
            "",
            all_queries_line(r) + (" " + all_queries_line(r, base_q, f"Baseline `{args.baseline}`, all queries")
                                   if base_q else ""),
            "",
            md_table(["query set", "timed runs", "timeouts", "p50 ms", "p95 ms", "max ms"],
                     _group_rows(r["queries"], limit)),
            "",
            md_table(["id", "query", "filters / options", "hits", "timeouts", "p50 ms", "p95 ms", "max ms"]
                     + (["baseline p50 ms", "baseline timeouts", "×", "answer vs baseline"]
                        if base_q is not None else [])
                     + ["error"], _query_rows(r["queries"], limit, base_q)),
            "",
        ]
        r["summary"] = summary(r["queries"], limit)
        if base_q:
            r["baseline"]["summary"] = summary(base_q, limit)
    md.append("Elasticsearch: not measured here (this benchmark drives only the embedded SQLite backend).")
    write_report(NAME, {"title": TITLE, "seed": args.seed, "batch": BATCH, "sizes": results}, "\n".join(md),
                 args.results)


if __name__ == "__main__":
    main()
