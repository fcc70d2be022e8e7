"""A real crawl, end to end: Scrapy fetching benchmark pages from a local HTTP server, through the
full pipeline into SQLite, against trafilatura alone on the same pages.

The pages are the real news pages of two benchmark sets (``fundus``: 119 publishers' article pages,
``trafilatura-eval``: 102 pages in 20 languages; ``--sets`` may add ``extraction``), each served
``--repeats`` times (default 10) under distinct URLs by a threaded HTTP server on 127.0.0.1 in
this process (robots.txt allows everything; copies after the first have their canonical link,
``<base>``, og:url and twitter:url neutralised so that each copy is its own article). They are
listed by a sitemap index with one child sitemap per set and copy, the way a news site lists
them. The crawl is ``hpmon.crawl.run_crawl``, the function ``hpmon crawl`` runs: the project's
spider, Scrapy settings, WARC archive, seen-URL store, pipeline (models trained beforehand, not
timed) and alerting of new articles, with logging set up as the CLI sets it. Only politeness is
relaxed for a local server (no download delay or AutoThrottle, 8 requests in flight); the
address guard is told that 127.0.0.1 is allowed (``fetch_allow_hosts``). Each run is its own
process (peak RSS = that process's ``ru_maxrss``):

- ``crawl``: the Hải Phòng profile as configured (nearly every page is about somewhere else, so it
  is fetched, archived, extracted, understood and dropped as not relevant: correct work);
- ``crawl-all``: the same with the profile's relevance ``threshold`` at 0, so every page that has
  an article is indexed (articles/s);
- ``trafilatura``: ``trafilatura.extract(body)`` on the same page bytes in one process (the floor);
- ``profile``: ``crawl-all`` on ``--profile-repeats`` copies under cProfile: where the time goes,
  by pipeline stage.

    .venv/bin/python -m bench.crawl_bench [--repeats 10] [--sets fundus,trafilatura-eval]
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
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

from bench.common import DATA_ROOT, REPO, base_parser, md_table, rss_peak_mb, skip, write_report

NAME = "crawl"
TITLE = "A real crawl end to end (local HTTP server → Scrapy → full pipeline → SQLite) vs trafilatura alone"
MODELS_ENV = "HPMON_BENCH_MODELS"
WORKER_TIMEOUT = 1200
SETS = ("fundus", "trafilatura-eval", "extraction")
_NEUTRALISE = [
    (re.compile(rb"""rel\s*=\s*(["']?)canonical""", re.I), rb"rel=\1x-canonical"),
    (re.compile(rb"<base\b", re.I), b"<x-base"),
    (re.compile(rb"""hreflang\s*=\s*(["']?)x-default""", re.I), rb"hreflang=\1x-none"),
    (re.compile(rb"(og|twitter):url", re.I), rb"\1:x-url"),
]

# pipeline stages as cProfile sees them: (label, module path suffix, function name); cumulative time
STAGES = [
    ("item pipeline, all of it (reactor thread)", "pipeline/scrapy_bridge.py", "process_item"),
    ("  decode (bytes → text)", "pipeline/extract.py", "decode_html"),
    ("  extract (trafilatura, metadata, date)", "pipeline/extract.py", "extract_article"),
    ("  language", "pipeline/language.py", "detect"),
    ("  relevance", "pipeline/relevance.py", "score_relevance"),
    ("  classify (topics, tone)", "pipeline/process.py", "_stage_classify"),
    ("  sensitive themes", "pipeline/process.py", "_stage_sensitive"),
    ("  risk", "pipeline/process.py", "_stage_risk"),
    ("  duplicates and stories", "pipeline/process.py", "_stage_duplicates"),
    ("  WARC sync before indexing", "crawlers/warc.py", "sync"),
    ("  index (Pipeline.index: duplicates, upsert, hooks)", "pipeline/process.py", "index"),
    ("    of which SQLite upsert", "index/sqlite.py", "upsert"),
    ("  seen-URL store (mark)", "crawlers/state.py", "mark"),
    ("spider: parse_article (Scrapy callback)", "crawlers/spider.py", "parse_article"),
    ("  WARC write (request + response records)", "crawlers/warc.py", "write_response"),
    ("spider: parse_sitemap", "crawlers/spider.py", "parse_sitemap"),
    ("alerts on the new articles (after the crawl)", "hpmon/commands/alerts.py", "process_new_articles"),
    ("waiting on the network (epoll)", "~", "<method 'poll' of 'select.epoll' objects>"),
    ("every fsync (WARC groups and syncs, wherever called)", "~", "<built-in method posix.fsync>"),
]


# -- the pages and the site --------------------------------------------------------------------

def load_pages(sets: list[str]) -> list[tuple[str, str, bytes, str]]:
    """(set, page id, raw bytes, content type) for every page of the chosen sets."""
    out = []
    for name in sets:
        folder = DATA_ROOT / name
        if name == "fundus":
            truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
            for key in sorted(truth):
                body = gzip.decompress((folder / truth[key]["file"]).read_bytes())
                out.append((name, key.replace("/", "-"), body, "text/html; charset=utf-8"))  # UTF-8 (README)
        elif name == "trafilatura-eval":
            truth = json.loads((folder / "evaldata-subset.json").read_text(encoding="utf-8"))
            for url in sorted(truth):
                rel = truth[url]["html"]
                body = gzip.decompress((folder / rel).read_bytes())
                out.append((name, Path(rel).name.removesuffix(".html.gz"), body, "text/html"))  # bytes as upstream
        elif name == "extraction":
            truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
            for key in sorted(truth):
                body = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
                out.append((name, key[:16], body, "text/html; charset=utf-8"))
        else:
            raise SystemExit(f"unknown page set {name!r} (one of {', '.join(SETS)})")
    return out


def iter_copies(pages, repeats: int):
    """(path, body, content type) for every copy; copy 0 is the page as saved, the others share
    one neutralised body per page (made once, before anything is timed)."""
    neutralised = []
    for _set, _id, body, _ctype in pages:
        for pattern, repl in _NEUTRALISE:
            body = pattern.sub(repl, body)
        neutralised.append(body)
    for k in range(repeats):
        for (set_name, page_id, body, ctype), copy in zip(pages, neutralised, strict=True):
            yield f"/{set_name}/copy-{k}/{page_id}-{k}.html", copy if k else body, ctype


def site_pages(pages, repeats: int) -> dict[str, tuple[bytes, str]]:
    """path → (body, content type) for every copy (what the server holds)."""
    return {path: (body, ctype) for path, body, ctype in iter_copies(pages, repeats)}


def sitemaps(base: str, paths: list[str]) -> dict[str, bytes]:
    """The sitemap index (/sitemap.xml) and one child per set and copy, every page modified today."""
    today = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    groups: dict[str, list[str]] = {}
    for path in paths:
        groups.setdefault("-".join(path.strip("/").split("/")[:2]), []).append(path)
    out = {}
    for name, members in groups.items():
        urls = "".join(f"<url><loc>{escape(base + p)}</loc><lastmod>{today}</lastmod></url>" for p in members)
        out[f"/sitemap-{name}.xml"] = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.'
                                       f'sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>').encode()
    children = "".join(f"<sitemap><loc>{escape(base + p)}</loc><lastmod>{today}</lastmod></sitemap>" for p in out)
    out["/sitemap.xml"] = ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/'
                           f'schemas/sitemap/0.9">{children}</sitemapindex>').encode()
    return out


class Site:
    """The benchmark pages over HTTP on 127.0.0.1 (a thread of this process); counts what it served."""

    def __init__(self, pages: dict[str, tuple[bytes, str]]) -> None:
        self.pages = pages
        self.served: Counter = Counter()
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # noqa: A002 - quiet
                pass

            def do_GET(self):  # noqa: N802 - the http.server API
                path = self.path.split("?", 1)[0]
                if path == "/robots.txt":
                    body, ctype, status = b"User-agent: *\nAllow: /\n", "text/plain", 200
                elif path in site.pages:
                    (body, ctype), status = site.pages[path], 200
                else:
                    body, ctype, status = b"not found", "text/plain", 404
                with site._lock:
                    site.served[status] += 1
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.pages.update({p: (b, "application/xml") for p, b in sitemaps(self.base, list(pages)).items()})
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Site:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- one run, in its own process ---------------------------------------------------------------

def _settings(home: Path, base: str, threshold: float | None, workers: int = 1):
    from hpmon.settings import Settings

    config = REPO / "config"
    if threshold is not None:  # the same configuration with the city profile's threshold changed
        config = home / "config"
        shutil.copytree(REPO / "config", config)
        city = config / "cities" / "haiphong.yaml"
        text = city.read_text(encoding="utf-8")
        city.write_text(re.sub(r"(?m)^threshold: .*$", f"threshold: {threshold}", text), encoding="utf-8")
    sources = home / "sources.yaml"
    sources.write_text(json.dumps({"sources": [{
        "id": "bench-sitemap", "name": "Benchmark pages (local)", "kind": "sitemap", "urls": [base + "/sitemap.xml"],
        "scope": "mixed", "max_articles": 1_000_000}]}), encoding="utf-8")
    extra = {}
    if "fetch_allow_hosts" in Settings.model_fields:
        extra["fetch_allow_hosts"] = ["127.0.0.1"]
    return Settings(home=home / "data", config_dir=config, sources_file=sources, download_delay=0.0,
                    autothrottle=False, concurrent_requests=8, concurrent_per_domain=8, max_age_days=36500,
                    download_timeout=60, workers=workers, **extra)


def _run_crawl(home: Path, base: str, threshold: float | None, profile: bool, workers: int = 1) -> dict:
    import resource

    from hpmon.app import init_home, load_source_list, setup_logging
    from hpmon.crawl import run_crawl
    from index.sqlite import SqliteBackend
    from pipeline import scrapy_bridge
    from pipeline.pool import worker_count
    from pipeline.process import Indexed

    settings = _settings(home, base, threshold, workers)
    init_home(settings)
    shutil.copytree(os.environ[MODELS_ENV], settings.models_dir)  # trained once by the parent, not timed
    if threshold is not None:  # the profile's threshold decides, not the learned relevance decision
        from pipeline.about import MODEL_FILE

        (settings.models_dir / MODEL_FILE).unlink(missing_ok=True)
    setup_logging(settings)
    sources = load_source_list(settings)
    # measuring only: note when the writer records each page's outcome and what it was (both modes)
    marks: list[tuple[float, bool]] = []
    original = scrapy_bridge.ProcessPages._record

    def timed(self, item, outcome):
        original(self, item, outcome)
        marks.append((time.perf_counter(), isinstance(outcome, Indexed)))

    scrapy_bridge.ProcessPages._record = timed
    prof = cProfile.Profile() if profile else None
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start, cpu_start = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    rows = run_crawl(settings, sources)
    if prof:
        prof.disable()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the pool's workers, joined by run_crawl
    workers_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    crawl_cpu, cpu = cpu, cpu + workers_cpu
    scrapy_bridge.ProcessPages._record = original
    backend = SqliteBackend(settings.home / "index.sqlite")
    indexed = backend.count()
    backend.close()
    warcs = sorted(settings.warc_dir.glob("*.warc.gz"))
    row = rows[0].to_dict() if rows else {}
    pages = len(marks)
    articles = sum(1 for _, ok in marks if ok)
    first = next((t for t, ok in marks if ok), None)
    out = {"pages_processed": pages, "indexed_outcomes": articles, "indexed_articles": indexed,
           "summary": row, "seconds": elapsed, "cpu_seconds": cpu,
           "pages_per_second": pages / elapsed, "articles_per_second": articles / elapsed,
           "pages_per_cpu_second": pages / cpu, "articles_per_cpu_second": articles / cpu,
           "first_indexed_seconds": (first - start) if first else None,
           "first_page_seconds": (marks[0][0] - start) if marks else None,
           "last_page_seconds": (marks[-1][0] - start) if marks else None,
           "warc_bytes": sum(p.stat().st_size for p in warcs), "warc_files": len(warcs),
           "crawl_process_cpu_seconds": crawl_cpu, "workers_cpu_seconds": workers_cpu,
           "workers": worker_count(workers),
           "worker_peak_rss_mb": after.ru_maxrss / 1024 if worker_count(workers) > 1 else None,
           "workers_note": "processing runs on the reactor thread (pipeline/scrapy_bridge.py)"
           if worker_count(workers) == 1 else
           f"{worker_count(workers)} worker processes run the content stages; the crawling process writes"}
    if prof:
        out["stages"] = _stages(prof, elapsed)
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(20)
        out["tottime_top20"] = _strip_paths(buf.getvalue())
    return out


def _stages(prof: cProfile.Profile, elapsed: float) -> list[dict]:
    stats = pstats.Stats(prof).stats  # (file, line, function) → (cc, nc, tt, ct, callers)
    out = []
    for label, where, func in STAGES:
        calls = ct = 0.0
        for (file, _line, name), (_cc, nc, _tt, cum, _callers) in stats.items():
            if name == func and file.endswith(where):
                calls, ct = calls + nc, ct + cum
        out.append({"stage": label, "calls": int(calls), "seconds": ct, "share": ct / elapsed})
    top = {"item pipeline, all of it (reactor thread)", "spider: parse_article (Scrapy callback)",
           "spider: parse_sitemap",
           "alerts on the new articles (after the crawl)", "waiting on the network (epoll)"}
    rest = elapsed - sum(s["seconds"] for s in out if s["stage"] in top)
    out.append({"stage": "the rest: Scrapy and Twisted (scheduling, HTTP, middlewares), start-up (settings, "
                         "models, lexicons), run summary", "calls": 1, "seconds": rest, "share": rest / elapsed})
    return out


def _strip_paths(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    site = str(Path(sys.prefix)) + "/lib/python3.11/site-packages/"
    stdlib = sys.base_prefix + "/lib/python3.11/"
    return "\n".join(line.replace(site, "").replace(str(REPO) + "/", "").replace(stdlib, "")
                     for line in lines[start:] if line.strip())


def _run_trafilatura(pages, repeats: int) -> dict:
    """trafilatura on every copy, in one process (the floor)."""
    import trafilatura

    copies = list(iter_copies(pages, repeats))  # shared bodies: two per page, not one per copy
    n = chars = empty = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for _path, body, _ctype in copies:
        text = trafilatura.extract(body)
        chars += len(text or "")
        empty += not text
        n += 1
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {"pages": n, "seconds": elapsed, "cpu_seconds": cpu, "pages_per_second": n / elapsed,
            "pages_per_cpu_second": n / cpu, "extracted_chars": chars, "no_text": empty}


def worker(mode: str, sets: list[str], repeats: int, base: str | None, workers: int = 1) -> dict:
    pages = load_pages(sets)
    import trafilatura  # noqa: F401 - imports before the baseline, so the peak shows the work

    import pipeline.process  # noqa: F401

    baseline = rss_peak_mb()
    with tempfile.TemporaryDirectory(prefix="hpmon-crawl-bench-") as tmp:
        if mode == "trafilatura":
            out = _run_trafilatura(pages, repeats)
        elif mode in ("crawl", "crawl-all", "profile"):
            out = _run_crawl(Path(tmp), base, None if mode == "crawl" else 0.0, profile=mode == "profile",
                             workers=workers)
        else:
            raise SystemExit(f"unknown mode {mode}")
    out.update(mode=mode, repeats=repeats, rss_baseline_mb=baseline, rss_peak_mb=rss_peak_mb())
    return out


def _spawn(mode: str, sets: list[str], repeats: int, base: str, models: Path, workers: int = 1) -> dict:
    cmd = [sys.executable, "-m", "bench.crawl_bench", "--worker", mode, "--sets", ",".join(sets),
           "--repeats", str(repeats), "--base", base, "--worker-count", str(workers)]
    print(f"  {mode}: {repeats} copies, workers {workers or 'all cores'} ...", flush=True)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=WORKER_TIMEOUT,
                              env={**os.environ, MODELS_ENV: str(models)})
    except subprocess.TimeoutExpired as exc:
        return {"mode": mode, "error": f"timed out after {WORKER_TIMEOUT} s", "seconds": time.perf_counter() - start,
                "stderr_tail": str(exc.stderr or "")[-2000:]}
    if proc.returncode != 0:
        return {"mode": mode, "error": f"exit {proc.returncode}", "stderr_tail": proc.stderr[-3000:]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["stderr_warnings"] = [line for line in proc.stderr.splitlines() if line.strip()][-10:]
    return result


def _fmt(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="copies of every page (distinct URLs)")
    parser.add_argument("--profile-repeats", type=int, default=2, help="copies in the cProfile run (0: no profile)")
    parser.add_argument("--sets", default="fundus,trafilatura-eval", help="page sets: " + ",".join(SETS))
    parser.add_argument("--modes", default="trafilatura,crawl,crawl-all,profile")
    parser.add_argument("--workers", default="1,0",
                        help="worker counts of the crawl runs (the `workers` setting; 0 = one per CPU)")
    parser.add_argument("--worker", help=argparse_hidden())
    parser.add_argument("--worker-count", type=int, default=1, help=argparse_hidden())
    parser.add_argument("--base", help=argparse_hidden())
    args = parser.parse_args(argv)
    sets = [s for s in args.sets.split(",") if s]
    if args.worker:
        print(json.dumps(worker(args.worker, sets, args.repeats, args.base, args.worker_count)))
        return
    missing = [s for s in sets if not (DATA_ROOT / s).is_dir()]
    if missing:
        skip(NAME, TITLE, f"benchmark data not found: {', '.join(str(DATA_ROOT / s) for s in missing)}",
             args.results)
    pages = load_pages(sets)
    print(f"{NAME}: {len(pages)} pages ({', '.join(sets)}) × {args.repeats} copies, served on 127.0.0.1", flush=True)
    runs: dict[str, dict] = {}
    served: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="hpmon-crawl-bench-models-") as models_home:
        from hpmon.commands.understand import train_models
        from hpmon.settings import Settings

        print("  training the models once (not timed) ...", flush=True)
        train_models(Settings(home=Path(models_home)))
        models = Settings(home=Path(models_home)).models_dir
        for mode, workers in _runs(args.modes, args.workers):
            repeats = args.profile_repeats if mode == "profile" else args.repeats
            if repeats <= 0:
                continue
            key = run_key(mode, workers)
            with Site(site_pages(pages, repeats)) as site:
                runs[key] = _spawn(mode, sets, repeats, site.base, models, workers)
                served[key] = dict(site.served)
            r = runs[key]
            print(f"    {key}: " + (r.get("error") or (
                f"{r['pages']} pages, {r['pages_per_second']:.1f} pages/s" if mode == "trafilatura" else
                f"{r['pages_processed']} pages, {r['indexed_outcomes']} indexed, {r['seconds']:.0f} s, "
                f"{r['articles_per_second']:.1f} articles/s")), flush=True)
    write_report(NAME, _report_data(args, sets, pages, runs, served), _markdown(args, sets, pages, runs, served),
                 args.results)


def _worker_counts(spec: str) -> list[int]:
    from pipeline.pool import worker_count

    return list(dict.fromkeys(worker_count(int(n)) for n in spec.split(",") if n.strip()))


def _runs(modes: str, workers: str) -> list[tuple[str, int]]:
    """(mode, worker count) of every run: each crawl mode once per worker count; trafilatura and
    the profile (of the crawling process, so in process) once."""
    out = []
    for mode in modes.split(","):
        counts = _worker_counts(workers) if mode in ("crawl", "crawl-all") else [1]
        out += [(mode, n) for n in counts]
    return out


def run_key(mode: str, workers: int) -> str:
    """A run's name in the report: the mode, with ``@<workers>`` unless it ran in process."""
    return mode if workers == 1 else f"{mode}@{workers}"


def _crawl_keys(runs: dict) -> list[str]:
    return [k for k in runs if k.split("@")[0] in ("crawl", "crawl-all")]


def _report_data(args, sets, pages, runs, served) -> dict:
    floor = runs.get("trafilatura", {})
    ratios = {}
    for mode in _crawl_keys(runs):
        r = runs.get(mode, {})
        if "articles_per_second" in r and "pages_per_second" in floor:
            ratios[mode] = {
                "articles_per_wall_second_to_trafilatura": r["articles_per_second"] / floor["pages_per_second"],
                "pages_per_wall_second_to_trafilatura": r["pages_per_second"] / floor["pages_per_second"],
                "articles_per_cpu_second_to_trafilatura": r["articles_per_cpu_second"] / floor["pages_per_cpu_second"],
                "pages_per_cpu_second_to_trafilatura": r["pages_per_cpu_second"] / floor["pages_per_cpu_second"],
            }
    return {"title": TITLE, "sets": sets, "pages": len(pages), "repeats": args.repeats,
            "profile_repeats": args.profile_repeats, "cpus": os.cpu_count(), "runs": runs, "served": served,
            "ratio_to_trafilatura": ratios, "pool_speedup": _speedups(runs)}


def _speedups(runs: dict) -> dict:
    """articles/s (and pages/s) of each pool run ÷ the same mode in process."""
    out = {}
    for key in _crawl_keys(runs):
        mode, _, workers = key.partition("@")
        one, pool = runs.get(mode, {}), runs[key]
        if workers and "articles_per_second" in one and "articles_per_second" in pool:
            out[key] = {"workers": int(workers),
                        "articles_per_second": pool["articles_per_second"] / one["articles_per_second"]
                        if one["articles_per_second"] else None,
                        "pages_per_second": pool["pages_per_second"] / one["pages_per_second"]}
    return out


def _markdown(args, sets, pages, runs, served) -> str:
    data = _report_data(args, sets, pages, runs, served)
    floor = runs.get("trafilatura", {})
    md = [
        f"{len(pages)} real pages ({', '.join(sets)}) × {args.repeats} copies = {len(pages) * args.repeats} "
        "distinct URLs, served by a threaded HTTP server on 127.0.0.1 and listed by a sitemap index (one child "
        "per set and copy). The crawl is `hpmon.crawl.run_crawl` — what `hpmon crawl` runs: the project's spider "
        "and Scrapy settings, WARC archive, seen-URL store, full pipeline into a fresh SQLite index, alerts on "
        "the new articles — with politeness relaxed for a local server (no delay, 8 requests in flight) and "
        "127.0.0.1 allowed by `fetch_allow_hosts`. Models are trained once before, not timed. Each run is its own "
        "process. Rates are per second of the whole `run_crawl` call (wall time, start-up and alerting "
        "included) and, in brackets, per CPU second of the crawling process (the shared machine's other load "
        "does not skew those). trafilatura alone = `trafilatura.extract(body)` on the same bytes, one process.",
        "",
        "**Workers.** A run without `@N` processes every page in the crawling process, on the Scrapy reactor "
        "thread (`workers = 1`). `@N` runs the content stages in N worker processes (`workers`, 0 = one per "
        "CPU) while one writer in the crawling process indexes in arrival order (`pipeline/scrapy_bridge.py`). "
        "CPU seconds include the workers'. Peak RSS is the crawling process's; a worker's peak is listed below.",
        "",
    ]
    rows = []
    labels = {"crawl": "crawl, profile as configured", "crawl-all": "crawl, threshold 0 (all kept)"}
    for mode in _crawl_keys(runs):
        base, _, workers = mode.partition("@")
        label = f"{labels[base]}, {workers or 1} worker{'s' if workers else ''}"
        r = runs.get(mode)
        if not r:
            continue
        if "error" in r:
            rows.append((label, r["error"], *["–"] * 9))
            continue
        s = r["summary"]
        ratio = data["ratio_to_trafilatura"].get(mode, {})
        rows.append((label, f"{s.get('fetched', 0)} ({served[mode].get(200, 0)} HTTP 200 answers)",
                     f"{r['indexed_outcomes']} ({r['indexed_articles']} in the index)",
                     f"{s.get('failed', 0)} {s.get('failures') or ''}".strip(),
                     f"{r['seconds']:.1f}",
                     f"{r['pages_per_second']:.1f} ({r['pages_per_cpu_second']:.1f})",
                     f"{r['articles_per_second']:.1f} ({r['articles_per_cpu_second']:.1f})",
                     f"{_fmt(ratio.get('articles_per_wall_second_to_trafilatura'), 2)} "
                     f"({_fmt(ratio.get('articles_per_cpu_second_to_trafilatura'), 2)})",
                     f"{_fmt(r['first_indexed_seconds'])} s (first page {_fmt(r['first_page_seconds'])} s)",
                     f"{r['rss_peak_mb']:.0f}"))
    if floor:
        rows.append(("trafilatura alone (floor)", floor.get("error") or f"{floor['pages']} (from memory)",
                     f"{floor['pages'] - floor['no_text']} with text", "–", f"{floor['seconds']:.1f}",
                     f"{floor['pages_per_second']:.1f} ({floor['pages_per_cpu_second']:.1f})", "–", "1.00", "–",
                     f"{floor['rss_peak_mb']:.0f}") if "error" not in floor else ("trafilatura alone",
                                                                                 floor["error"], *["–"] * 8))
    md += [md_table(["run", "pages fetched", "articles indexed", "errors", "seconds", "pages/s (CPU)",
                     "articles/s (CPU)", "articles/s ÷ trafilatura pages/s (CPU)", "first indexed article",
                     "peak RSS MB"], rows), ""]
    for key, x in data["pool_speedup"].items():
        md.append(f"- `{key}` ÷ `{key.split('@')[0]}`: articles/s ×{_fmt(x['articles_per_second'], 2)}, pages/s "
                  f"×{_fmt(x['pages_per_second'], 2)}; worker peak RSS {_fmt(runs[key].get('worker_peak_rss_mb'), 0)} "
                  f"MB each, workers' CPU {_fmt(runs[key].get('workers_cpu_seconds'))} s of "
                  f"{_fmt(runs[key].get('cpu_seconds'))} s.")
    for mode in _crawl_keys(runs):
        r = runs.get(mode)
        if r and "summary" in r:
            s = r["summary"]
            md.append(f"- `{mode}` run summary: fetched {s.get('fetched')}, new {s.get('new')}, relevant "
                      f"{s.get('relevant')}, duplicates {s.get('duplicates')}, not relevant {s.get('not_relevant')}, "
                      f"failed {s.get('failed')} {s.get('failures') or ''}, warnings {s.get('warnings') or '{}'}; "
                      f"HTTP answers served {served.get(mode)}; WARC {r['warc_bytes'] / 1e6:.1f} MB in "
                      f"{r['warc_files']} file(s).")
    prof = runs.get("profile")
    if prof and "stages" in prof:
        md += ["", f"## Where the time goes (cProfile of a `crawl-all` run, {prof['pages_processed']} pages, "
                   f"{prof['seconds']:.1f} s under the profiler)", "",
               f"Start-up (settings, models, lexicons, until the first page left the pipeline): "
               f"{_fmt(prof.get('first_page_seconds'))} s under the profiler. "
               "Cumulative time of each stage's function over the whole `run_crawl` call (indented rows are "
               "part of the row above them; the profiler slows Python code, so shares matter more than seconds). "
               "The last row is what none of the top-level rows covers.", "",
               md_table(["stage", "calls", "seconds", "share of the run"],
                        [(s["stage"], s["calls"], f"{s['seconds']:.2f}", f"{100 * s['share']:.1f} %")
                         for s in prof["stages"]]),
               "", "Top functions by own time:", "", "```", prof.get("tottime_top20", ""), "```"]
    elif prof:
        md += ["", f"Profile: {prof.get('error')}"]
    return "\n".join(md)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
