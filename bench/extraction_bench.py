"""Article extraction on the Zyte/Scrapinghub article-extraction-benchmark (181 pages).

Measures, in one run on the same pages: hpmon's extraction stage as the pipeline configures it
(``decode_html`` on the raw bytes, then ``extract_article`` with the city's timezone and the
default ``min_text_chars``), trafilatura with its defaults (``trafilatura.extract(html)``), and
trafilatura exactly as the upstream runner calls it (``include_comments=False``). Scoring
reproduces the upstream ``evaluate.py``: ``\\w+`` tokens, 4-gram shingle multisets, TP/FP/FN
normalised per document, mean precision and recall over documents, F1 of the means,
accuracy = share of exact token-sequence matches, bootstrap std over 1000 resamples (seeded).

    .venv/bin/python -m bench.extraction_bench
"""

from __future__ import annotations

import gzip
import json
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.common import base_parser, data_dir, md_table, skip, write_report

NAME = "extraction"
TITLE = "Article extraction (Zyte article-extraction-benchmark, 181 pages)"
BOOTSTRAP = 1000
SEED = 20240501
CITY_PROFILE = "config/cities/haiphong.yaml"

# Rows copied from the data folder's README (upstream README.rst, "Results"): F1, P, R, accuracy.
PUBLISHED = [
    ("rs_trafilatura", "9261e08", 0.970, 0.951, 0.990, 0.287),
    ("AutoExtract (2019)", "Nov 2019", 0.970, 0.984, 0.956, 0.470),
    ("go_trafilatura", "ae7ea06", 0.960, 0.940, 0.980, 0.287),
    ("trafilatura", "2.0.0", 0.958, 0.938, 0.978, 0.293),
    ("Diffbot (2019)", "Nov 2019", 0.951, 0.958, 0.944, 0.348),
    ("newspaper4k", "0.9.3.1", 0.949, 0.964, 0.934, 0.326),
    ("news_please", "1.6.16", 0.948, 0.964, 0.933, 0.326),
    ("readability_js", "0.6.0", 0.947, 0.914, 0.982, 0.166),
    ("go_readability_fork", "fb0fbc5", 0.947, 0.914, 0.982, 0.166),
    ("go_readability", "9f5bf5c", 0.934, 0.900, 0.971, 0.188),
    ("go_domdistiller", "25b8d04", 0.927, 0.901, 0.956, 0.061),
    ("readability (readability-lxml)", "0.8.4.1", 0.922, 0.913, 0.931, 0.315),
    ("goose3", "3.1.20", 0.896, 0.940, 0.856, 0.232),
    ("dom_smoothie", "0.14.0", 0.865, 0.785, 0.963, 0.055),
    ("justext", "3.0.2", 0.804, 0.858, 0.756, 0.088),
    ("html-text", "0.7.0", 0.665, 0.500, 0.994, 0.000),
]

# --- the upstream metric ----------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)


def tokenize(text: str | None) -> list[str]:
    return _TOKEN_RE.findall(text or "")


def _shingles(text: str | None, n: int = 4) -> Counter:
    tokens = tokenize(text)
    out: Counter = Counter()
    for i in range(0, max(1, len(tokens) - n + 1)):
        shingle = tuple(tokens[i : i + n])
        if shingle:
            out[shingle] += 1
    return out


def shingle_tp_fp_fn(true: str | None, pred: str | None) -> tuple[float, float, float]:
    """TP/FP/FN over 4-gram shingle multisets, normalised to sum 1 (when not all zero)."""
    t, p = _shingles(true), _shingles(pred)
    tp = fp = fn = 0.0
    for key in set(t) | set(p):
        tc, pc = t.get(key, 0), p.get(key, 0)
        tp += min(tc, pc)
        fp += max(0, pc - tc)
        fn += max(0, tc - pc)
    s = tp + fp + fn
    if s > 0:
        tp, fp, fn = tp / s, fp / s, fn / s
    return tp, fp, fn


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def metrics_from(tp_fp_fns: list[tuple[float, float, float]]) -> dict[str, float]:
    # As upstream: documents with nothing predicted are left out of the precision mean.
    precision = statistics.mean([_precision(*x) for x in tp_fp_fns if x[0] + x[1] > 0])
    recall = statistics.mean([_recall(*x) for x in tp_fp_fns if x[0] + x[2] > 0])
    f1 = 2 * precision * recall / (precision + recall)
    return {"f1": f1, "precision": precision, "recall": recall}


def page_f1(x: tuple[float, float, float]) -> float:
    p, r = _precision(*x), _recall(*x)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def evaluate(truth: dict[str, str], pred: dict[str, str | None], n_bootstrap: int = BOOTSTRAP,
             seed: int = SEED) -> dict:
    keys = sorted(truth)
    tp_fp_fns = [shingle_tp_fp_fn(truth[k], pred.get(k)) for k in keys]
    accuracies = [float(tokenize(truth[k]) == tokenize(pred.get(k))) for k in keys]
    metrics = metrics_from(tp_fp_fns)
    metrics["accuracy"] = statistics.mean(accuracies)
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {}
    n = len(keys)
    for _ in range(n_bootstrap):
        idx = [rng.randint(0, n - 1) for _ in range(n)]
        for key, value in metrics_from([tp_fp_fns[i] for i in idx]).items():
            samples.setdefault(key, []).append(value)
        samples.setdefault("accuracy", []).append(statistics.mean([accuracies[i] for i in idx]))
    for key, values in samples.items():
        metrics[f"{key}_std"] = statistics.stdev(values)
    metrics["per_page_f1"] = {k: page_f1(x) for k, x in zip(keys, tp_fp_fns, strict=True)}
    return metrics


# --- the extractors ---------------------------------------------------------------------------


def _hpmon_extractor() -> Callable[[bytes, str], tuple[str | None, str | None]]:
    from pipeline.city import load_profile
    from pipeline.extract import decode_html, extract_article
    from pipeline.outcome import Dropped

    timezone = load_profile(Path(__file__).resolve().parent.parent / CITY_PROFILE).timezone
    min_chars = 80  # Pipeline(min_text_chars=80), hpmon.settings default

    def run(body: bytes, url: str) -> tuple[str | None, str | None]:
        decoded = decode_html(body, None)
        if isinstance(decoded, Dropped):
            return None, str(decoded)
        extracted = extract_article(decoded.html, url, timezone=timezone, min_chars=min_chars)
        if isinstance(extracted, Dropped):
            return None, str(extracted)
        return extracted.text, None

    return run


def run_extractor(name: str, fn, pages: dict[str, bytes], urls: dict[str, str]) -> tuple[dict, dict, float]:
    preds: dict[str, str | None] = {}
    dropped: dict[str, str] = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    for key, body in pages.items():
        text, why = fn(body, urls[key])
        preds[key] = text
        if why:
            dropped[key] = why
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"  {name}: {len(pages)} pages in {cpu:.1f} s CPU ({elapsed:.1f} s wall)")
    return preds, dropped, cpu, elapsed


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=BOOTSTRAP)
    args = parser.parse_args(argv)
    folder = args.data or data_dir("extraction")
    truth_file = folder / "ground-truth.json"
    if not truth_file.exists() or not (folder / "html").is_dir():
        skip(NAME, TITLE, f"data folder {folder} absent (needs ground-truth.json and html/)", args.results)
    import trafilatura

    truth_raw = json.loads(truth_file.read_text(encoding="utf-8"))
    keys = sorted(truth_raw)
    truth = {k: truth_raw[k].get("articleBody", "") for k in keys}
    urls = {k: truth_raw[k].get("url", "") for k in keys}
    pages = {k: gzip.decompress((folder / "html" / f"{k}.html.gz").read_bytes()) for k in keys}
    print(f"{NAME}: {len(pages)} pages from {folder}")

    def traf_defaults(body: bytes, url: str):
        # the upstream runner reads the gzip as UTF-8 text
        return trafilatura.extract(body.decode("utf-8")), None

    def traf_upstream(body: bytes, url: str):
        return trafilatura.extract(body.decode("utf-8"), include_comments=False), None

    hpmon = _hpmon_extractor()
    hpmon(pages[keys[0]], urls[keys[0]])  # warm-up: imports, lazy tables
    systems = [
        ("hpmon extraction stage", hpmon),
        ("trafilatura.extract() defaults", traf_defaults),
        ("trafilatura.extract(include_comments=False) (upstream runner)", traf_upstream),
    ]
    measured = []
    for label, fn in systems:
        preds, dropped, cpu, elapsed = run_extractor(label, fn, pages, urls)
        m = evaluate(truth, preds, args.bootstrap)
        m.update(cpu_seconds=cpu, wall_seconds=elapsed, pages_per_second=len(pages) / cpu, dropped=dropped,
                 empty_predictions=sum(1 for v in preds.values() if not v))
        measured.append((label, m))

    hp = measured[0][1]
    traf = measured[1][1]
    worst = sorted(hp["per_page_f1"].items(), key=lambda kv: kv[1])[:10]
    worst_rows = [(k[:16], urls[k], round(f, 3), round(traf["per_page_f1"][k], 3),
                   len(tokenize(truth[k]))) for k, f in worst]
    diffs = [(k, hp["per_page_f1"][k] - traf["per_page_f1"][k]) for k in keys]
    worse = sorted((kv for kv in diffs if kv[1] < 0), key=lambda kv: kv[1])[:10]
    better = sorted((kv for kv in diffs if kv[1] > 0), key=lambda kv: -kv[1])

    version = __import__("importlib.metadata").metadata.version("trafilatura")
    rows = []
    for label, m in measured:
        rows.append((f"**{label}** (measured here)", f"trafilatura {version}",
                     f"{m['f1']:.3f} ± {m['f1_std']:.3f}", f"{m['precision']:.3f} ± {m['precision_std']:.3f}",
                     f"{m['recall']:.3f} ± {m['recall_std']:.3f}", f"{m['accuracy']:.3f} ± {m['accuracy_std']:.3f}",
                     f"{m['pages_per_second']:.1f}"))
    for name, ver, f1, p, r, acc in PUBLISHED:
        rows.append((f"{name} (published)", ver, f"{f1:.3f}", f"{p:.3f}", f"{r:.3f}", f"{acc:.3f}", None))

    md = [
        "Scoring: upstream `evaluate.py` reproduced (4-gram shingles of `\\w+` tokens, per-document normalised "
        "TP/FP/FN, mean P and R over documents, F1 of the means; ± = bootstrap std, "
        f"{args.bootstrap} resamples, seed {SEED}). Published rows are copied from the data README; "
        "they were measured upstream on other machines, so only their quality columns compare. "
        "pages/s is per second of CPU time (steady on a shared machine).",
        "",
        md_table(["system", "version", "F1", "precision", "recall", "accuracy", "pages/s"], rows),
        "",
        f"hpmon / trafilatura-defaults speed ratio: {hp['pages_per_second'] / traf['pages_per_second']:.2f} "
        f"(hpmon also extracts metadata and runs htmldate's extensive date search); "
        f"F1 difference hpmon − trafilatura defaults: {hp['f1'] - traf['f1']:+.3f}.",
        f"Pages hpmon dropped: {len(hp['dropped'])}"
        + ("".join(f"\n- `{k[:16]}`: {why}" for k, why in hp["dropped"].items())),
        "",
        "## 10 worst pages for hpmon (per-page shingle F1)",
        "",
        md_table(["id (prefix)", "url", "hpmon F1", "trafilatura F1", "truth tokens"], worst_rows),
        "",
        "## hpmon against trafilatura defaults, page by page",
        "",
        f"hpmon is better on {len(better)} pages, worse on {len(worse)}, equal on "
        f"{len(keys) - len(better) - len(worse)}.",
        "",
        md_table(["id (prefix)", "url", "hpmon F1", "trafilatura F1", "difference"],
                 [(k[:16], urls[k], round(hp["per_page_f1"][k], 3), round(traf["per_page_f1"][k], 3),
                   f"{d:+.3f}") for k, d in (worse or better[:10])]),
    ]
    data = {
        "title": TITLE,
        "data": str(folder),
        "pages": len(pages),
        "bootstrap": {"resamples": args.bootstrap, "seed": SEED},
        "measured": {label: {k: v for k, v in m.items()} for label, m in measured},
        "published": [dict(zip(["name", "version", "f1", "precision", "recall", "accuracy"], row, strict=True))
                      for row in PUBLISHED],
        "worst_hpmon": [{"id": k, "url": urls[k], "f1": f} for k, f in worst],
    }
    write_report(NAME, data, "\n".join(md), args.results)
    for label, m in measured:
        print(f"  {label}: F1 {m['f1']:.3f} P {m['precision']:.3f} R {m['recall']:.3f} "
              f"acc {m['accuracy']:.3f} {m['pages_per_second']:.1f} pages/s")


if __name__ == "__main__":
    main()
