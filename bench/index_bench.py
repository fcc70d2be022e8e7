"""Index engines side by side: the same synthetic multilingual articles into SQLite and Elasticsearch.

Indexes N articles (default 100,000) into each backend through ``Backend.upsert`` in batches,
then runs the 20 representative queries of ``bench.search_bench`` on both; reports documents
per second and search latency p50/p95 per backend and the ratios between them. Elasticsearch is
the one at ``HPMON_ES_URL``, or a single node started for the run with scripts/elasticsearch.sh.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import REPO, base_parser, md_table, percentile, write_report
from bench.search_bench import QUERIES

NAME = "index"
TITLE = "Index engines side by side: SQLite and Elasticsearch on the same articles"
BATCH = 1000
ES_PORT = "9450"


def _index(backend, docs: int, seed: int) -> dict:
    from bench.synthetic import Generator

    gen = Generator(seed)
    seconds = 0.0
    done = 0
    while done < docs:
        batch = [gen.article(i) for i in range(done, min(docs, done + BATCH))]
        started = time.perf_counter()
        report = backend.upsert(batch)
        seconds += time.perf_counter() - started
        if report.errors:
            raise RuntimeError(f"upsert errors: {list(report.errors.items())[:3]}")
        done += len(batch)
    started = time.perf_counter()
    backend.refresh()
    seconds += time.perf_counter() - started
    return {"docs": done, "seconds": seconds, "docs_per_second": done / seconds}


def _queries(backend, runs: int) -> list[dict]:
    from index.query import SearchQuery

    out = []
    for qid, group, text, filters, extra in QUERIES:
        times, total = [], None
        for k in range(runs + 1):
            started = time.perf_counter()
            result = backend.search(SearchQuery(text=text, filters=filters, limit=20, **extra))
            if k:
                times.append((time.perf_counter() - started) * 1000)
            total = result.total
        out.append({"id": qid, "group": group, "hits": total, "p50_ms": percentile(times, 50),
                    "p95_ms": percentile(times, 95), "ms": times})
    return out


def _es_url(started: list[str]) -> str | None:
    url = os.environ.get("HPMON_ES_URL")
    if url:
        return url.split(",")[0]
    script = REPO / "scripts" / "elasticsearch.sh"
    try:
        subprocess.run([str(script), "fetch"], cwd=REPO, check=True, capture_output=True, timeout=600)
        out = subprocess.run([str(script), "start", "--cluster", "bench", "--port", ES_PORT], cwd=REPO, check=True,
                             capture_output=True, text=True, timeout=300).stdout
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"  Elasticsearch could not be started: {exc}")
        return None
    started.append("bench")
    return out.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    from index.sqlite import SqliteBackend

    results: dict[str, dict] = {}
    tmp = Path(tempfile.mkdtemp(prefix="hpmon-index-bench-"))
    started: list[str] = []
    try:
        print(f"{NAME}: {args.docs:,} synthetic articles into SQLite …", flush=True)
        sqlite = SqliteBackend(tmp / "index.sqlite")
        results["sqlite"] = {**_index(sqlite, args.docs, args.seed), "queries": _queries(sqlite, args.runs)}
        sqlite.close()
        results["sqlite"]["bytes_on_disk"] = sum(p.stat().st_size for p in tmp.glob("index.sqlite*"))
        url = _es_url(started)
        if url:
            from index.elasticsearch import ElasticsearchBackend

            prefix = f"hpmon-bench-{uuid.uuid4().hex[:8]}"
            es = ElasticsearchBackend(url, prefix=prefix, replicas=0)
            try:
                print(f"{NAME}: {args.docs:,} synthetic articles into Elasticsearch at {url} …", flush=True)
                results["elasticsearch"] = {**_index(es, args.docs, args.seed), "queries": _queries(es, args.runs)}
                stats = es.client.indices.stats(index=f"{prefix}-v*", metric="store")
                results["elasticsearch"]["bytes_on_disk"] = stats["_all"]["primaries"]["store"]["size_in_bytes"]
            finally:
                es.client.options(ignore_status=404).indices.delete(index=f"{prefix}-*")
                es.client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-v*")
                es.close()
    finally:
        for cluster in started:
            subprocess.run([str(REPO / "scripts" / "elasticsearch.sh"), "stop", "--cluster", cluster], cwd=REPO,
                           capture_output=True, timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)

    rows = []
    for engine, r in results.items():
        all_ms = [m for q in r["queries"] for m in q["ms"]]
        r["p50_ms"], r["p95_ms"] = percentile(all_ms, 50), percentile(all_ms, 95)
        rows.append((engine, f"{r['docs']:,}", f"{r['docs_per_second']:.0f}", f"{r['p50_ms']:.1f}",
                     f"{r['p95_ms']:.1f}", f"{r['bytes_on_disk'] / 1e6:.0f} MB"))
    md = [f"{args.docs:,} synthetic multilingual articles (`bench/synthetic.py`, seed {args.seed}) upserted in "
          f"batches of {BATCH} into each engine, then the 20 queries of `bench/search_bench.py`, each run once to "
          f"warm up and {args.runs} times timed (limit 20, snippets/highlights included). Wall time.", "",
          md_table(["engine", "documents", "docs/s", "search p50 ms", "search p95 ms", "size"], rows), ""]
    if "elasticsearch" in results:
        s, e = results["sqlite"], results["elasticsearch"]
        speed = e["docs_per_second"] / s["docs_per_second"]
        md += [f"Ratios (Elasticsearch / SQLite): indexing speed **{speed:.2f}×**, "
               f"search p50 **{e['p50_ms'] / s['p50_ms']:.2f}×**, p95 **{e['p95_ms'] / s['p95_ms']:.2f}×**.", ""]
        md += [md_table(["query", "SQLite hits", "ES hits", "SQLite p50", "ES p50", "SQLite p95", "ES p95"],
                        [(a["id"], a["hits"], b["hits"], f"{a['p50_ms']:.1f}", f"{b['p50_ms']:.1f}",
                          f"{a['p95_ms']:.1f}", f"{b['p95_ms']:.1f}")
                         for a, b in zip(s["queries"], e["queries"], strict=True)]), ""]
    else:
        md.append("Elasticsearch: not measured (no engine at HPMON_ES_URL and none could be started).")
    write_report(NAME, {"title": TITLE, "docs": args.docs, "seed": args.seed, "engines": results}, "\n".join(md),
                 args.results)


if __name__ == "__main__":
    main()
