"""Shared helpers for the benchmarks: where the data is, machine info, report writing.

Every benchmark writes ``bench/results/<name>.json`` (numbers, machine, versions) and
``bench/results/<name>.md`` (the same as tables). Reports hold numbers and ratios only;
nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
# The shared benchmark data lives next to the repository (../shared/benchmarks) and is read
# from there, never copied in. HPMON_BENCH_DATA points elsewhere for other checkouts.
DATA_ROOT = Path(os.environ.get("HPMON_BENCH_DATA", REPO.parent / "shared" / "benchmarks")).resolve()

LIBRARIES = ("trafilatura", "htmldate", "langdetect", "feedparser", "lxml", "charset-normalizer", "justext")


def data_dir(name: str) -> Path:
    return DATA_ROOT / name


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: ../shared/benchmarks/<name>)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write <name>.json and <name>.md")
    return parser


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def machine_info() -> dict[str, Any]:
    """The machine, interpreter, library versions, date and git commit a result was measured on."""
    versions = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = None
    versions["sqlite"] = _sqlite_version()
    status = _git("status", "--porcelain", "--untracked-files=no")
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": _ram_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        # other work on the machine slows the timings: the load when the report was written
        "load_average_1_5_15m": load,
    }


def machine_markdown(info: dict[str, Any]) -> str:
    libs = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    commit = (info.get("git_commit") or "unknown")[:12] + (" (+ uncommitted changes)" if info.get("git_dirty") else "")
    return (
        f"Measured {info['date']} on {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, "
        f"{info['os']}; Python {info['python']}; {libs}; hpmon commit {commit}; "
        f"load average (1/5/15 min) at the end: {info.get('load_average_1_5_15m')}."
    )


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        if v is None:
            return "–"
        if isinstance(v, float):
            return f"{v:.3f}"
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation, as numpy's default."""
    if not values:
        return math.nan
    xs = sorted(values)
    k = (len(xs) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def write_report(name: str, data: dict[str, Any], markdown: str, results: Path = RESULTS) -> None:
    """Write ``<name>.json`` (data + machine) and ``<name>.md`` (title, machine line, body)."""
    results.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    payload = {"benchmark": name, "machine": info, **data}
    (results / f"{name}.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n",
                                          encoding="utf-8")
    title = data.get("title", name)
    md = f"# {title}\n\n{machine_markdown(info)}\n\n{markdown.strip()}\n"
    (results / f"{name}.md").write_text(md, encoding="utf-8")
    print(f"wrote {results / (name + '.json')} and {results / (name + '.md')}")


def skip(name: str, title: str, reason: str, results: Path = RESULTS) -> None:
    """Record and print that a benchmark did not run (its data is absent); exit status 0."""
    print(f"{name}: skipped: {reason}")
    write_report(name, {"title": title, "skipped": reason}, f"**Skipped**: {reason}", results)
    sys.exit(0)


def rss_peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
