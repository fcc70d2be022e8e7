"""Language identification on the Lingua test data (18 languages; sentences, word pairs, single words).

Runs hpmon's language stage (``pipeline.language.LanguageDetector().detect(text)``, no declared
language) and, on the same items in the same run, plain langdetect (``langdetect.detect`` with
``DetectorFactory.seed = 0``; zh-cn/zh-tw → zh). Accuracy per language and length class, side by
side, next to the published figures quoted in the data folder's README. Languages langdetect does
not support (ms) count as wrong for both; an exception or "und" counts as wrong.

    .venv/bin/python -m bench.langid_bench
"""

from __future__ import annotations

import os
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.common import base_parser, data_dir, md_table, skip, write_report

NAME = "langid"
TITLE = "Language identification (Lingua test data, 18 languages)"
CLASSES = ("sentences", "word-pairs", "single-words")
LANGDETECT_LANGUAGES = frozenset({
    "af", "ar", "bg", "bn", "ca", "cs", "cy", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "gu", "he", "hi",
    "hr", "hu", "id", "it", "ja", "kn", "ko", "lt", "lv", "mk", "ml", "mr", "ne", "nl", "no", "pa", "pl", "pt", "ro",
    "ru", "sk", "sl", "so", "sq", "sv", "sw", "ta", "te", "th", "tl", "tr", "uk", "ur", "vi", "zh",
})

# From the data README (accuracy %, Vietnamese; average, single words, word pairs, sentences).
PUBLISHED_VI = [
    ("Lingua high-accuracy mode", 90.73, 78.84, 94.04, 99.30),
    ("Lingua low-accuracy mode", 91.84, 78.84, 97.28, 99.40),
    ("langdetect (published)", 92.79, 80.66, 97.81, 99.90),
    ("langid", 86.11, 65.42, 93.10, 99.80),
    ("fastText (historical)", 89.20, 71.33, 96.66, 99.60),
    ("CLD2 (pycld2)", 63.26, 0.00, 89.97, 99.80),
    ("CLD3 (gcld3)", 66.09, 25.60, 73.56, 99.10),
]
# Mean over the 75 Lingua languages (each detector over the languages it supports).
PUBLISHED_MEAN = [
    ("Lingua high-accuracy", 86, 74, 89, 96),
    ("Lingua low-accuracy", 80, 64, 82, 94),
    ("langdetect", 82, 65, 82, 98),
    ("fastText (historical)", 75, 58, 74, 92),
    ("langid", 68, 48, 65, 90),
    ("CLD3", 69, 48, 67, 93),
    ("CLD2", 64, 34, 68, 94),
]

_worker_state: dict = {}


def _init_worker() -> None:
    from langdetect import DetectorFactory
    from langdetect import detect as ld_detect

    from pipeline.language import LanguageDetector

    DetectorFactory.seed = 0
    _worker_state["hpmon"] = LanguageDetector()
    _worker_state["langdetect"] = ld_detect


def _plain_langdetect(text: str) -> str:
    from langdetect.lang_detect_exception import LangDetectException

    try:
        code = _worker_state["langdetect"](text)
    except LangDetectException:
        return "und"
    return code.split("-")[0].lower()


def _run_file(task: tuple[str, str, str]) -> dict:
    lang, cls, path = task
    if not _worker_state:
        _init_worker()
    lines = [x.strip() for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]
    hp = _worker_state["hpmon"]
    out: dict = {"lang": lang, "cls": cls, "n": len(lines)}
    t = time.process_time()
    guesses = [hp.detect(x) for x in lines]
    out["hpmon_seconds"] = time.process_time() - t
    hp_pred = [g.language for g in guesses]
    out["hpmon_methods"] = dict(Counter(g.method for g in guesses))
    t = time.process_time()
    ld_pred = [_plain_langdetect(x) for x in lines]
    out["langdetect_seconds"] = time.process_time() - t
    for name, preds in (("hpmon", hp_pred), ("langdetect", ld_pred)):
        out[f"{name}_correct"] = sum(p == lang for p in preds)
        out[f"{name}_confusions"] = dict(Counter(p for p in preds if p != lang).most_common(3))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    folder = args.data or data_dir("langid")
    if not all((folder / c).is_dir() for c in CLASSES):
        skip(NAME, TITLE, f"data folder {folder} absent (needs {', '.join(CLASSES)})", args.results)
    tasks = []
    for cls in CLASSES:
        for path in sorted((folder / cls).glob("*.txt")):
            tasks.append((path.stem, cls, str(path)))
    tasks.sort(key=lambda t: -Path(t[2]).stat().st_size)
    langs = sorted({t[0] for t in tasks})
    print(f"{NAME}: {len(tasks)} files, {len(langs)} languages, {args.workers} worker processes")
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers, initializer=_init_worker) as pool:
        results = list(pool.map(_run_file, tasks))
    wall = time.perf_counter() - start
    by = {(r["lang"], r["cls"]): r for r in results}

    def acc(name: str, lang: str, cls: str) -> float | None:
        r = by.get((lang, cls))
        return 100.0 * r[f"{name}_correct"] / r["n"] if r and r["n"] else None

    def mean(xs):
        xs = [x for x in xs if x is not None]
        return sum(xs) / len(xs) if xs else None

    table = {}
    rows = []
    for lang in langs:
        entry = {}
        row = [lang + ("" if lang in LANGDETECT_LANGUAGES else " (not in langdetect)")]
        for name in ("hpmon", "langdetect"):
            per = {cls: acc(name, lang, cls) for cls in CLASSES}
            per["average"] = mean(per.values())
            entry[name] = per
        for cls in ("average", *CLASSES):
            row += [entry["hpmon"][cls], entry["langdetect"][cls]]
        table[lang] = entry
        rows.append(row)
    overall = {name: {cls: mean(table[lg][name][cls] for lg in langs) for cls in ("average", *CLASSES)}
               for name in ("hpmon", "langdetect")}
    supported = [lg for lg in langs if lg in LANGDETECT_LANGUAGES]
    overall_supported = {name: {cls: mean(table[lg][name][cls] for lg in supported)
                                for cls in ("average", *CLASSES)} for name in ("hpmon", "langdetect")}
    for label, o in (("**mean, all 18**", overall), (f"**mean, {len(supported)} langdetect supports**",
                                                      overall_supported)):
        rows.append([label] + [o[n][c] for c in ("average", *CLASSES) for n in ("hpmon", "langdetect")])

    def pct(x):
        return None if x is None else f"{x:.2f}"

    rows = [[r[0], *(pct(x) for x in r[1:])] for r in rows]
    headers = ["language"] + [f"{c} {n}" for c in ("avg", "sent.", "pairs", "words") for n in ("hpmon", "ld")]

    vi_rows = [("**hpmon stage (measured)**", *(pct(table["vi"]["hpmon"][c]) for c in ("average", "single-words",
                                                                                     "word-pairs", "sentences"))),
               ("**plain langdetect (measured)**", *(pct(table["vi"]["langdetect"][c])
                                                    for c in ("average", "single-words", "word-pairs", "sentences")))]
    vi_rows += [(n, *(f"{x:.2f}" for x in v)) for n, *v in PUBLISHED_VI]
    mean_rows = [("**hpmon stage (measured, these 18)**", *(pct(overall["hpmon"][c]) for c in
                                                             ("average", "single-words", "word-pairs", "sentences"))),
                 ("**plain langdetect (measured, these 18)**", *(pct(overall["langdetect"][c]) for c in
                                                                  ("average", "single-words", "word-pairs",
                                                                   "sentences")))]
    mean_rows += [(n, *v) for n, *v in PUBLISHED_MEAN]

    totals = {name: sum(r[f"{name}_seconds"] for r in results) for name in ("hpmon", "langdetect")}
    items = sum(r["n"] for r in results)
    methods: Counter = Counter()
    for r in results:
        methods.update(r["hpmon_methods"])
    conf_rows = []
    for lang in langs:
        for cls in CLASSES:
            r = by.get((lang, cls))
            if not r:
                continue
            conf_rows.append((lang, cls, ", ".join(f"{k} {v}" for k, v in r["hpmon_confusions"].items()),
                              ", ".join(f"{k} {v}" for k, v in r["langdetect_confusions"].items())))
    md = [
        f"{items} items; accuracy in %. `hpmon` = `LanguageDetector().detect(text)` (script rules, then seeded "
        "langdetect), `ld` = plain `langdetect.detect` (seed 0). Unsupported languages and errors count as wrong.",
        "",
        md_table(headers, rows),
        "",
        "## Vietnamese beside the published figures (%)",
        "",
        md_table(["detector", "average", "single words", "word pairs", "sentences"], vi_rows),
        "",
        "## Mean over languages beside the published means (%)",
        "",
        "Published means are over Lingua's 75 languages (each detector over the ones it supports); "
        "ours are over the 18 here, so compare the two measured rows with each other and the published ones "
        "only roughly.",
        "",
        md_table(["detector", "average", "single words", "word pairs", "sentences"], mean_rows),
        "",
        f"Speed (CPU time per item, summed over {args.workers} workers; wall {wall:.0f} s): hpmon "
        f"{1000 * totals['hpmon'] / items:.2f} ms, plain langdetect {1000 * totals['langdetect'] / items:.2f} ms. "
        f"hpmon decision methods: {dict(methods)}.",
        "",
        "## Most frequent wrong answers (top 3 per file)",
        "",
        md_table(["language", "class", "hpmon", "plain langdetect"], conf_rows),
    ]
    data = {"title": TITLE, "data": str(folder), "items": items, "accuracy_percent": table,
            "mean_all": overall, "mean_langdetect_supported": overall_supported,
            "published_vietnamese": PUBLISHED_VI, "published_mean": PUBLISHED_MEAN,
            "cpu_ms_per_item": {k: 1000 * v / items for k, v in totals.items()}, "wall_seconds": wall,
            "hpmon_methods": dict(methods), "files": results}
    write_report(NAME, data, "\n".join(md), args.results)
    print(f"  mean accuracy hpmon {overall['hpmon']['average']:.2f}% vs langdetect "
          f"{overall['langdetect']['average']:.2f}%; vi hpmon {table['vi']['hpmon']['average']:.2f}% "
          f"vs {table['vi']['langdetect']['average']:.2f}%; wall {wall:.0f}s")


if __name__ == "__main__":
    main()
