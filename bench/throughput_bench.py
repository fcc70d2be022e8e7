"""End-to-end throughput: raw HTML pages through the full pipeline into the embedded index.

The 181 pages of the extraction benchmark are repeated (10 copies = 1,810 pages by default; each
copy gets its own URL and has its canonical link, ``<base>``, og:url and twitter:url neutralised,
so every copy is a distinct article; the copies' text is identical, so the duplicate detector links
them, as with syndicated news). Each
configuration runs in its own subprocess (peak RSS = that process's ``ru_maxrss``):

- ``pipeline``: ``Pipeline.process_page`` with the Hải Phòng profile as configured (most pages are
  about other places and are dropped as not relevant after extraction, language and relevance);
- ``pipeline-all``: the same with ``profile.threshold = 0.0``, so every page goes into the index;
- ``trafilatura``: ``trafilatura.extract(html)`` alone on the same pages (the floor);
- ``profile``: ``pipeline-all`` on a few repetitions under cProfile (top functions by cumulative time).

    .venv/bin/python -m bench.throughput_bench [--repeats 10]
"""

from __future__ import annotations

import cProfile
import gzip
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.common import REPO, base_parser, data_dir, md_table, rss_peak_mb, skip, write_report

NAME = "throughput"
TITLE = "End-to-end throughput (extraction-benchmark pages through the full pipeline into SQLite)"
MODELS_ENV = "HPMON_BENCH_MODELS"  # where the parent trained the models the workers load
WORKER_TIMEOUT = 360
_NEUTRALISE = [
    (re.compile(rb"""rel\s*=\s*(["']?)canonical""", re.I), rb"rel=\1x-canonical"),
    (re.compile(rb"<base\b", re.I), b"<x-base"),
    (re.compile(rb"""hreflang\s*=\s*(["']?)x-default""", re.I), rb"hreflang=\1x-none"),
    (re.compile(rb"(og|twitter):url", re.I), rb"\1:x-url"),
]


def load_pages(folder: Path) -> list[tuple[str, bytes]]:
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    return [(truth[k]["url"], gzip.decompress((folder / "html" / f"{k}.html.gz").read_bytes())) for k in sorted(truth)]


def copies(pages: list[tuple[str, bytes]], repeats: int):
    """(url, body) for every copy; copy 0 is the page as saved."""
    for k in range(repeats):
        for url, body in pages:
            if k == 0:
                yield url, body
                continue
            for pattern, repl in _NEUTRALISE:
                body = pattern.sub(repl, body)
            parts = urlsplit(url)  # in the path: trafilatura drops unknown query parameters
            yield urlunsplit(parts._replace(path=parts.path.rstrip("/") + f"/hpmon-copy-{k}")), body


def _pipeline(db: Path, threshold: float | None):
    """The full pipeline as ``hpmon crawl`` builds it (models trained into a fresh data
    directory first, outside the timing): extraction, language, relevance, stories, topics
    and sentiment, sensitive themes, facts, risk, the rebuttal-queue hook, the index."""
    from hpmon.app import build_pipeline, load_city, open_backend
    from hpmon.commands.understand import train_models
    from hpmon.settings import Settings

    settings = Settings(home=db.parent)
    trained = os.environ.get(MODELS_ENV)
    if trained:  # trained once by the parent: training is not what this process measures
        shutil.copytree(trained, settings.models_dir)
    else:
        train_models(settings)
    profile = load_city(settings)
    if threshold is not None:  # the profile's threshold decides, not the learned relevance decision
        from pipeline.about import MODEL_FILE

        profile.threshold = threshold
        (settings.models_dir / MODEL_FILE).unlink(missing_ok=True)
    backend = open_backend(settings)
    return build_pipeline(settings, backend, [], profile), backend


def _run_pipeline(pages, repeats: int, db: Path, threshold: float | None) -> dict:
    from crawlers.items import FetchedPage
    from pipeline.outcome import Dropped

    pipe, backend = _pipeline(db, threshold)
    fetched_at = datetime(2025, 8, 1, 3, 0, tzinfo=UTC)
    outcomes: Counter = Counter()
    languages: Counter = Counter()
    n = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for url, body in copies(pages, repeats):
        page = FetchedPage(source_id="bench", url=url, link_url=url, status=200,
                           headers={"content-type": "text/html"}, body=body, fetched_at=fetched_at)
        result = pipe.process_page(page)
        n += 1
        if isinstance(result, Dropped):
            outcomes[f"dropped/{result.stage}/{result.reason}"] += 1
        else:
            kind = "new" if result.new else "updated"
            outcomes[f"indexed/{kind}" + ("/same-text-as-earlier" if result.duplicate else "")] += 1
            languages[result.article.language] += 1
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    indexed = backend.count()
    backend.close()
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return {"pages": n, "seconds": elapsed, "cpu_seconds": cpu, "pages_per_second": n / cpu,
            "pages_per_wall_second": n / elapsed, "outcomes": dict(outcomes), "indexed_articles": indexed,
            "indexed_per_second": sum(v for k, v in outcomes.items() if k.startswith("indexed/")) / cpu,
            "languages": dict(languages), "index_bytes": size}


def _run_trafilatura(pages, repeats: int) -> dict:
    import trafilatura

    n = chars = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for _url, body in copies(pages, repeats):
        text = trafilatura.extract(body.decode("utf-8", errors="replace"))
        chars += len(text or "")
        n += 1
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {"pages": n, "seconds": elapsed, "cpu_seconds": cpu, "pages_per_second": n / cpu,
            "pages_per_wall_second": n / elapsed, "extracted_chars": chars}


def worker(mode: str, folder: Path, repeats: int) -> dict:
    pages = load_pages(folder)
    # import everything before the baseline, so the peak shows the work, not the imports
    import trafilatura  # noqa: F401

    import pipeline.process  # noqa: F401

    baseline = rss_peak_mb()
    with tempfile.TemporaryDirectory(prefix="hpmon-bench-") as tmp:
        db = Path(tmp) / "index.sqlite"
        if mode == "trafilatura":
            out = _run_trafilatura(pages, repeats)
        elif mode == "pipeline":
            out = _run_pipeline(pages, repeats, db, None)
        elif mode == "pipeline-all":
            out = _run_pipeline(pages, repeats, db, 0.0)
        elif mode == "profile":
            prof = cProfile.Profile()
            prof.enable()
            out = _run_pipeline(pages, repeats, db, 0.0)
            prof.disable()
            buf = io.StringIO()
            stats = pstats.Stats(prof, stream=buf)
            stats.sort_stats("cumulative").print_stats(15)
            out["cumulative_top15"] = _strip_paths(buf.getvalue())
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
            out["tottime_top15"] = _strip_paths(buf.getvalue())
        else:
            raise SystemExit(f"unknown mode {mode}")
    out.update(mode=mode, repeats=repeats, rss_baseline_mb=baseline, rss_peak_mb=rss_peak_mb())
    return out


def _strip_paths(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    site = str(Path(sys.prefix)) + "/lib/python3.11/site-packages/"
    stdlib = sys.base_prefix + "/lib/python3.11/"
    return "\n".join(line.replace(site, "").replace(str(REPO) + "/", "").replace(stdlib, "")
                     for line in lines[start:] if line.strip())


def _spawn(mode: str, folder: Path, repeats: int, models: Path) -> dict:
    cmd = [sys.executable, "-m", "bench.throughput_bench", "--worker", mode, "--repeats", str(repeats),
           "--data", str(folder)]
    print(f"  {mode}: {repeats} repetitions ...", flush=True)
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=WORKER_TIMEOUT,
                              env={**os.environ, MODELS_ENV: str(models)})
    except subprocess.TimeoutExpired:
        return {"mode": mode, "error": f"timed out after {WORKER_TIMEOUT} s"}
    if proc.returncode != 0:
        return {"mode": mode, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if "pages_per_second" in result:
        print(f"    {result['pages']} pages, {result['pages_per_second']:.1f} pages/s, "
              f"peak RSS {result['rss_peak_mb']:.0f} MB", flush=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="copies of the 181 pages (default 10 = 1810 pages)")
    parser.add_argument("--profile-repeats", type=int, default=1)
    parser.add_argument("--worker", help=argparse_hidden())
    args = parser.parse_args(argv)
    folder = args.data or data_dir("extraction")
    if not (folder / "ground-truth.json").exists() or not (folder / "html").is_dir():
        skip(NAME, TITLE, f"data folder {folder} absent (the extraction benchmark's pages are the input)",
             args.results)
    if args.worker:
        print(json.dumps(worker(args.worker, folder, args.repeats), default=str))
        return
    print(f"{NAME}: pages from {folder}")
    from hpmon.commands.understand import train_models
    from hpmon.settings import Settings

    with tempfile.TemporaryDirectory(prefix="hpmon-bench-models-") as models_home:
        train_models(Settings(home=Path(models_home)))
        models = Path(models_home) / "models"
        runs = {mode: _spawn(mode, folder, args.repeats, models)
                for mode in ("trafilatura", "pipeline", "pipeline-all")}
        runs["profile"] = _spawn("profile", folder, args.profile_repeats, models)
    floor = runs["trafilatura"].get("pages_per_second")

    def ratio(mode: str) -> float | None:
        pps = runs[mode].get("pages_per_second")
        return pps / floor if pps and floor else None

    rows = []
    labels = {"trafilatura": "trafilatura.extract() alone (floor)",
              "pipeline": "hpmon pipeline, profile as configured (threshold 0.5)",
              "pipeline-all": "hpmon pipeline, threshold 0 (every page indexed)"}
    for mode, label in labels.items():
        r = runs[mode]
        if "error" in r:
            rows.append((label, None, None, None, None, None, None, r["error"]))
            continue
        rows.append((label, r["pages"], f"{r['cpu_seconds']:.1f} ({r['seconds']:.1f})", f"{r['pages_per_second']:.1f}",
                     f"{r['indexed_per_second']:.1f}" if "indexed_per_second" in r else "–",
                     f"{ratio(mode):.2f}" if ratio(mode) else None,
                     f"{r['rss_peak_mb']:.0f} (+{r['rss_peak_mb'] - r['rss_baseline_mb']:.0f})",
                     ", ".join(f"{k} {v}" for k, v in sorted(r.get("outcomes", {}).items())) or "–"))
    prof = runs["profile"]
    md = [
        "The pipeline is the one `hpmon crawl` builds (`hpmon.app.build_pipeline`): decoding, extraction, language, "
        "relevance, duplicates and stories, topics and sentiment (models trained beforehand, not timed), sensitive "
        "themes, fact checks, risk and the rebuttal-queue hook, then the SQLite index. "
        f"Input: the 181 extraction-benchmark pages × {args.repeats} copies; each configuration in its own "
        "process, one after the other, one core each. `pages/s` counts every page processed (indexed or dropped); "
        "`articles/s` counts pages that reached the index; both per second of the process's CPU time, so that other "
        "work on a shared machine does not skew them (wall time in brackets). Ratio = pages/s ÷ trafilatura-alone "
        "pages/s. Peak RSS "
        "is the process's maximum resident memory (in brackets: above the baseline after loading the pages and "
        "importing the libraries).",
        "",
        md_table(["configuration", "pages", "CPU s (wall s)", "pages/s", "articles/s", "ratio to floor", "peak RSS MB",
                  "outcomes"], rows),
        "",
    ]
    for mode in ("pipeline", "pipeline-all"):
        r = runs[mode]
        if "index_bytes" in r:
            md.append(f"- `{mode}`: index file {r['index_bytes'] / 1e6:.1f} MB for {r['indexed_articles']} articles; "
                      f"languages {r.get('languages')}.")
    md += [
        "",
        f"## Where the time goes (cProfile, threshold 0, {prof.get('pages', '?')} pages, top 15 by cumulative time)",
        "",
        "```",
        prof.get("cumulative_top15", prof.get("error", "profile missing")),
        "```",
        "",
        "Top 15 by own time:",
        "",
        "```",
        prof.get("tottime_top15", ""),
        "```",
    ]
    data = {"title": TITLE, "data": str(folder), "repeats": args.repeats, "runs": runs,
            "ratio_to_trafilatura": {m: ratio(m) for m in ("pipeline", "pipeline-all")}}
    write_report(NAME, data, "\n".join(md), args.results)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
