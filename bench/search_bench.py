"""Search on the embedded index: indexing speed, query latency and size on disk.

Synthetic multilingual articles (``bench.synthetic``, seeded: Vietnamese with diacritics, English,
Chinese, Japanese, Korean, Russian, French, with the city's names and places) are upserted into
``index.sqlite.SqliteBackend`` in batches of 1000, then 20 representative queries run through
``SqliteBackend.search`` (1 warm-up + N timed runs each). Default 100,000 documents; ``--large``
adds 1,000,000 (time-boxed: if indexing would not finish within the budget it stops, says so, and
measures the queries on what it reached).

    .venv/bin/python -m bench.search_bench [--docs 100000] [--large]
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import base_parser, md_table, percentile, write_report

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


def run_queries(db: Path, runs: int, time_limit_ms: int) -> list[dict]:
    """Each query once to warm up, then ``runs`` timed runs. A run that hits the backend's time
    limit is a timeout: it is kept in ``ms`` at the limit (a lower bound of its real time), so it
    counts in every percentile, and counted in ``timeouts``; it is never dropped."""
    from index.query import SearchQuery
    from index.sqlite import QueryTimeout, SqliteBackend

    backend = SqliteBackend(db, time_limit_ms=time_limit_ms)
    out = []
    for qid, group, text, filters, extra in QUERIES:
        times, total, error, timeouts, warmup_timeout = [], None, None, 0, False
        for k in range(runs + 1):
            query = SearchQuery(text=text, filters=filters, limit=20, **extra)
            t = time.perf_counter()
            try:
                result = backend.search(query)
            except QueryTimeout as exc:
                error = f"QueryTimeout: {exc}"
                if k:
                    timeouts += 1
                    times.append(float(time_limit_ms))
                else:
                    warmup_timeout = True
                continue
            elapsed = (time.perf_counter() - t) * 1000
            total = result.total
            if k:  # the first run warms the page cache
                times.append(elapsed)
        p95 = percentile(times, 95) if times else None
        out.append({"id": qid, "group": group, "text": text, "filters": filters,
                    "options": {k: str(v) for k, v in extra.items()}, "total_hits": total, "error": error,
                    "runs": runs, "timeouts": timeouts, "warmup_timeout": warmup_timeout,
                    "time_limit_ms": time_limit_ms, "ms": times,
                    "p50_ms": percentile(times, 50) if times else None, "p95_ms": p95,
                    "p95_over_limit": bool(timeouts) and p95 is not None and p95 >= time_limit_ms})
    backend.close()
    return out


def measure(docs: int, budget_s: float, runs: int, seed: int, keep: Path | None,
            time_limit_ms: int = 5000) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="hpmon-search-bench-"))
    try:
        db = tmp / "index.db"
        print(f"  indexing {docs:,} synthetic articles (budget {budget_s:.0f} s) ...", flush=True)
        built = build(db, docs, budget_s, seed)
        print(f"    {built['docs']:,} docs at {built['docs_per_second']:.0f} docs/s, "
              f"{built['bytes_on_disk'] / 1e6:.0f} MB", flush=True)
        t = time.perf_counter()
        queries = run_queries(db, runs, time_limit_ms)
        built["time_limit_ms"] = time_limit_ms
        built["query_seconds"] = time.perf_counter() - t
        built["queries"] = queries
        return built
    finally:
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


def _group_rows(queries: list[dict], limit_ms: float) -> list[tuple]:
    groups: dict[str, list[float]] = {}
    outs: dict[str, int] = {}
    for q in queries:
        groups.setdefault(q["group"], []).extend(q["ms"])
        outs[q["group"]] = outs.get(q["group"], 0) + q.get("timeouts", 0)
    return [(g, len(v), outs[g], _pct(v, 50, limit_ms, outs[g]), _pct(v, 95, limit_ms, outs[g]))
            for g, v in groups.items()]


def all_queries_line(r: dict) -> str:
    """p50/p95 over every timed run of every query, timeouts counted at the limit, and the
    queries that timed out."""
    limit = r.get("time_limit_ms", 5000)
    ms = [t for q in r["queries"] for t in q["ms"]]
    timed_out = [q for q in r["queries"] if q.get("timeouts") or q.get("warmup_timeout")]
    n_out = sum(q.get("timeouts", 0) for q in r["queries"])
    line = (f"All queries, {len(ms)} timed runs, timeouts counted at the {limit} ms limit: "
            f"**p50 {_pct(ms, 50, limit, n_out)} ms, p95 {_pct(ms, 95, limit, n_out)} ms**; "
            f"{n_out} timed runs timed out")
    if timed_out:
        line += " — timed out: " + ", ".join(
            f"`{q['id']}` ({q.get('timeouts', 0)} of {q.get('runs', len(q['ms']))} runs"
            + (", and the warm-up" if q.get("warmup_timeout") else "") + ")" for q in timed_out)
    return line + "."


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--large", action="store_true", help="also 1,000,000 documents (time-boxed)")
    parser.add_argument("--large-docs", type=int, default=1_000_000)
    parser.add_argument("--budget", type=float, default=270, help="--large: indexing time budget, seconds")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query (after one warm-up)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="copy the built index here (for inspection)")
    parser.add_argument("--time-limit-ms", type=int, default=5000, help="the backend's per-query time limit")
    args = parser.parse_args(argv)
    print(f"{NAME}: synthetic articles, seed {args.seed}")
    sizes = [args.docs] + ([args.large_docs] if args.large else [])
    results = {}
    for n in sizes:
        runs = args.runs if n <= 200_000 else 3
        budget = args.budget if n > args.docs else float("inf")  # only the large size is time-boxed
        results[str(n)] = measure(n, budget, runs, args.seed, args.keep, args.time_limit_ms)
    md = [
        f"Synthetic articles from `bench/synthetic.py` (seed {args.seed}; language mix vi 50 %, en 20 %, fr 8 %, "
        "zh 7 %, ja 5 %, ko 5 %, ru 5 %; 65 % name the city, the rest one of its places). Upserted through "
        f"`SqliteBackend.upsert` in batches of {BATCH}; each query runs once to warm up, then is timed. "
        "Latency is `SqliteBackend.search` wall time (limit 20, snippets included). A run that exceeds the "
        f"backend's time limit ({args.time_limit_ms} ms) is a **timeout**: it is counted at the limit in every "
        "percentile (never dropped), and a percentile that reaches the limit is shown as \"> limit\".",
        "",
    ]
    if not args.large:
        md += ["1,000,000 documents: **skipped** (run with `--large`; time-boxed by `--budget`).", ""]
    for n, r in results.items():
        label = f"{int(n):,} documents" + (f" — **partial**: {r['stopped']}" if r["stopped"] else "")
        md += [
            f"## {label}",
            "",
            f"Indexed {r['docs']:,} documents (avg {r['avg_chars']:.0f} characters of title+lead+text) in "
            f"{r['upsert_seconds']:.1f} s of upsert time: **{r['docs_per_second']:.0f} docs/s** "
            f"({r['docs_per_cpu_second']:.0f} per CPU second) "
            f"(generation {r['generate_seconds']:.1f} s, not counted). Index on disk: "
            f"**{r['bytes_on_disk'] / 1e6:.0f} MB** ({r['bytes_on_disk'] / max(r['docs'], 1) / 1024:.1f} KB per "
            "document, database + WAL).",
            "",
            all_queries_line(r),
            "",
            md_table(["query set", "timed runs", "timeouts", "p50 ms", "p95 ms"],
                     _group_rows(r["queries"], r["time_limit_ms"])),
            "",
            md_table(["id", "query", "filters / options", "hits", "timeouts", "p50 ms", "p95 ms", "error"],
                     [(q["id"], f"`{q['text']}`" if q["text"] else "(none)",
                       ", ".join([f"{k}={'/'.join(v)}" for k, v in q["filters"].items()]
                                 + [f"{k}={v[:10]}" for k, v in q["options"].items()]),
                       q["total_hits"], f"{q['timeouts']} of {q['runs']}",
                       _pct(q["ms"], 50, r["time_limit_ms"], q["timeouts"]),
                       _pct(q["ms"], 95, r["time_limit_ms"], q["timeouts"]),
                       q["error"]) for q in r["queries"]]),
            "",
        ]
    md.append("Elasticsearch: not measured here (this benchmark drives only the embedded SQLite backend).")
    write_report(NAME, {"title": TITLE, "seed": args.seed, "batch": BATCH, "sizes": results}, "\n".join(md),
                 args.results)


if __name__ == "__main__":
    main()
