"""Run every benchmark, each in its own subprocess with a time limit, then combine the reports.

A benchmark that fails or times out is recorded as such and the others still run. Writes
``bench/results/REPORT.md`` (headline numbers, then each benchmark's report) and ``REPORT.json``.

    .venv/bin/python -m bench.run_all [--only extraction,langid] [--large] [--timeout 600] [--report-only]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench.common import REPO, RESULTS, machine_info, machine_markdown, md_table

BENCHMARKS = ["coverage", "feeds", "formats", "extraction", "metadata", "langid", "throughput", "crawl", "search",
              "index"]
MODULES = {"formats": "bench.formats_report"}  # default: bench.<name>_bench


def _run(name: str, timeout: float, extra: list[str]) -> dict:
    cmd = [sys.executable, "-m", MODULES.get(name, f"bench.{name}_bench"), *extra]
    print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=REPO, timeout=timeout, capture_output=True, text=True)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        print(out, flush=True)
        return {"name": name, "status": f"timed out after {timeout:.0f} s", "seconds": time.perf_counter() - start}
    print(proc.stdout, end="", flush=True)
    status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr, flush=True)
    return {"name": name, "status": status, "seconds": time.perf_counter() - start,
            "stderr_tail": proc.stderr.strip().splitlines()[-5:] if proc.returncode else []}


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def headlines(fresh: set[str]) -> list[tuple[str, str]]:
    """One line of the most telling numbers per benchmark, from its JSON."""
    out: list[tuple[str, str]] = []
    d = _load("extraction")
    if d and "measured" in d and "extraction" in fresh:
        m = d["measured"]
        hp, tr = m["hpmon extraction stage"], m["trafilatura.extract() defaults"]
        out.append(("extraction", f"F1 hpmon {hp['f1']:.3f} ± {hp['f1_std']:.3f} vs trafilatura defaults "
                                  f"{tr['f1']:.3f} (published: trafilatura 2.0.0 0.958, best 0.970); "
                                  f"{hp['pages_per_second']:.0f} vs {tr['pages_per_second']:.0f} pages/s"))
    d = _load("coverage")
    if d and "hpmon" in d and "coverage" in fresh:
        h = d["hpmon"]
        out.append(("coverage", "real excerpts: relevance F1 {:.3f}, kept {:.3f}, sensitive kept {:.3f}, sensitive "
                                "R {:.3f} P {:.3f}, watch R {:.3f} P {:.3f}, topic macro-F1 {:.3f}, tone {:.3f}".format(
                                    h["relevance"]["f1"], h["kept"]["recall"], h["sensitive_kept_share"],
                                    h["sensitive"]["recall"], h["sensitive"]["precision"], h["watch"]["recall"],
                                    h["watch"]["precision"], h["topic_macro_f1"], h["tone_accuracy"])))
    d = _load("langid")
    if d and "mean_all" in d and "langid" in fresh:
        a, vi = d["mean_all"], d["accuracy_percent"]["vi"]
        out.append(("langid", "mean accuracy over 18 languages hpmon {:.1f} % vs plain langdetect {:.1f} % "
                              "(single words {:.1f} vs {:.1f}); Vietnamese {:.1f} vs {:.1f} % (published langdetect "
                              "92.79, Lingua high 90.73)".format(a["hpmon"]["average"], a["langdetect"]["average"],
                                                                 a["hpmon"]["single-words"],
                                                                 a["langdetect"]["single-words"],
                                                                 vi["hpmon"]["average"], vi["langdetect"]["average"])))
    d = _load("throughput")
    if d and "runs" in d and "throughput" in fresh:
        r = d["runs"]
        parts = []
        for mode, label in (("trafilatura", "trafilatura alone"), ("pipeline", "pipeline"),
                            ("pipeline-all", "pipeline, threshold 0")):
            x = r.get(mode, {})
            if "pages_per_second" in x:
                parts.append(f"{label} {x['pages_per_second']:.1f} pages/s, peak {x['rss_peak_mb']:.0f} MB")
        ratios = d.get("ratio_to_trafilatura", {})
        if ratios.get("pipeline-all"):
            parts.append(f"ratio to floor {ratios.get('pipeline') or 0:.2f} / {ratios['pipeline-all']:.2f}")
        out.append(("throughput", "; ".join(parts)))
    d = _load("crawl")
    if d and "runs" in d and "crawl" in fresh:
        r, ratio = d["runs"].get("crawl-all", {}), d.get("ratio_to_trafilatura", {}).get("crawl-all", {})
        if "articles_per_second" in r:
            out.append(("crawl", f"real crawl on 127.0.0.1, 1 worker: {r['articles_per_second']:.1f} articles/s "
                                 f"({r['articles_per_cpu_second']:.1f} per CPU s), "
                                 f"{ratio.get('articles_per_wall_second_to_trafilatura', 0):.2f}× trafilatura alone "
                                 f"({ratio.get('articles_per_cpu_second_to_trafilatura', 0):.2f}× per CPU s); "
                                 f"{r['summary'].get('fetched')} pages, {r['summary'].get('failed')} errors"
                                 + "".join(f"; {k.split('@')[1]} workers: {d['runs'][k]['articles_per_second']:.1f} "
                                           f"articles/s (×{x['articles_per_second']:.2f})"
                                           for k, x in d.get("pool_speedup", {}).items()
                                           if k.startswith("crawl-all@") and x.get("articles_per_second"))))
    d = _load("search")
    if d and "sizes" in d and "search" in fresh:
        parts = []
        for s in d["sizes"].values():
            ms = [t for q in s["queries"] for t in q["ms"]]
            ms.sort()
            p50 = ms[len(ms) // 2] if ms else float("nan")
            p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))] if ms else float("nan")
            parts.append(f"{s['docs']:,} docs{' (partial)' if s.get('stopped') else ''}: "
                         f"{s['docs_per_second']:.0f} docs/s indexing, {s['bytes_on_disk'] / 1e6:.0f} MB, "
                         f"all queries p50 {p50:.0f} ms / p95 {p95:.0f} ms (timeouts counted at the limit)"
                         + "".join(f" ({n} of {len(s['queries'])} over the time limit)"
                                   for n in [sum(1 for q in s["queries"] if q.get("error"))] if n))
        out.append(("search", "; ".join(parts)))
    d = _load("feeds")
    if d and "files" in d and "feeds" in fresh:
        warn = sum(1 for f in d["files"] if f["status"] != "ok")
        out.append(("feeds", f"{d['found']} of {d['expected']} entries, {d['complete_files']} of {len(d['files'])} "
                             f"files complete; {warn} files flagged malformed without a content type"))
    d = _load("formats")
    if d and "files" in d and "formats" in fresh:
        out.append(("formats", f"{len(d['files'])} files: {d['lost']} lost, {d['misread']} misread, "
                               f"{d.get('warned', 0)} read with a warning"))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated subset of " + ",".join(BENCHMARKS))
    parser.add_argument("--timeout", type=float, default=600, help="seconds per benchmark")
    parser.add_argument("--large", action="store_true", help="search: also 1,000,000 documents")
    parser.add_argument("--report-only", action="store_true", help="only rebuild REPORT.md from the results")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else BENCHMARKS
    previous = {}
    if (RESULTS / "REPORT.json").exists():
        previous = {r["name"]: r for r in json.loads((RESULTS / "REPORT.json").read_text(encoding="utf-8"))["runs"]}
    runs = []
    for name in BENCHMARKS:
        if name not in names or args.report_only:
            if name in previous:  # keep the last run's results in the combined report
                runs.append(previous[name])
            continue
        extra = ["--large"] if (name == "search" and args.large) else []
        timeout = args.timeout * (2 if extra else 3 if name == "crawl" else 1)  # crawl: four crawling processes
        runs.append(_run(name, timeout, extra))
    total = sum(r["seconds"] for r in runs)
    fresh = {r["name"] for r in runs if r["status"] == "ok"}
    info = machine_info()
    md = [
        "# hpmon benchmark report",
        "",
        machine_markdown(info),
        "",
        f"{len(runs)} benchmarks, {total / 60:.1f} min of running in all. Numbers and ratios only; nothing "
        "here passes or fails.",
        "",
        md_table(["benchmark", "status", "seconds"], [(r["name"], r["status"], f"{r['seconds']:.0f}") for r in runs]),
        "",
        "## Headlines",
        "",
        *(f"- **{name}**: {text}" for name, text in headlines(fresh)),
        "",
    ]
    for r in runs:
        path = RESULTS / f"{r['name']}.md"
        if r["status"] != "ok" or not path.exists():
            md += [f"## {r['name']}", "", f"Not available: {r['status']}.", ""]
            continue
        body = path.read_text(encoding="utf-8").splitlines()
        # demote headings one level, drop the per-benchmark machine line (same machine as above)
        lines = ["#" + line if line.startswith("#") else line for line in body]
        if len(lines) > 2 and lines[2].startswith("Measured "):
            del lines[2:4]
        md += [*lines, ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "REPORT.md").write_text("\n".join(md).rstrip() + "\n", encoding="utf-8")
    (RESULTS / "REPORT.json").write_text(json.dumps({"machine": info, "runs": runs, "total_seconds": total,
                                                     "headlines": dict(headlines(fresh))},
                                                    ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS / 'REPORT.md'} ({total / 60:.1f} min)")


if __name__ == "__main__":
    main()
