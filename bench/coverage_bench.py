"""Understanding of real coverage: ``hpmon analyze`` on the labelled real excerpts in
``../shared/benchmarks/coverage`` (17 languages), scored the way its README says.

Every item goes through the same code as ``hpmon analyze`` (``Pipeline.analyze_input``) with
the models trained from the repository's corpus in a fresh data directory; the coverage set
is only read, never trained on. Scored:

- relevance (``relevant``) against ``about_haiphong``, ambiguous items left out;
- ``kept`` against ``about_haiphong or watch``, and the share of sensitive items kept;
- ``scope == "watch"`` against ``watch``;
- sensitive themes: item-level P/R (any theme) and P/R per theme;
- topic (first predicted) macro-F1 and top-1, tone accuracy and confusion, on items about the
  city or sensitive;
- language against ``lang``;

overall and per language, beside a naive baseline (the lexicon-only classifier for topic and
tone, every lexicon candidate for sensitive themes) and the previous run's numbers.

    .venv/bin/python -m bench.coverage_bench
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench.common import REPO, RESULTS, base_parser, data_dir, md_table, skip, write_report

NAME = "coverage"
TITLE = "Understanding real coverage (real article excerpts, 17 languages)"
TONES = ("negative", "neutral", "positive")
_TONE_OF = {-1: "negative", 0: "neutral", 1: "positive"}
THEMES = ("sovereignty", "religion", "ethnicity", "democracy", "human_rights", "hostile_framing", "contested_naming")


def load_items(folder: Path) -> list[dict]:
    items = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                items.append(json.loads(line))
    return items


_SENTIMENT_VALUE = {"negative": -1, "neutral": 0, "positive": 1}


def held_out_items(data: Path) -> list[dict]:
    """The corpus's held-out examples (``test-*.jsonl``) that carry the round-2 labels, in the
    coverage set's shape, so the same figures are reported on text the models never saw."""
    items = []
    for path in sorted(data.glob("test-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            ex = json.loads(line) if line.strip() else None
            if not ex or "about_city" not in ex or "watch" not in ex:
                continue
            text = f"{ex['title']}\n\n{ex['text']}" if ex.get("title") else ex["text"]
            items.append({"id": ex["id"], "lang": ex["lang"], "text": text, "date": None,
                          "about_haiphong": bool(ex["about_city"]), "watch": bool(ex["watch"]),
                          "topic": (ex.get("topics") or ["other"])[0],
                          "sentiment": _SENTIMENT_VALUE[ex["sentiment"]], "sensitive": bool(ex.get("sensitive")),
                          "themes": list(ex.get("sensitive") or [])})
    return items


def _prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn}


def _binary(pairs: Iterable[tuple[bool, bool]]) -> dict[str, Any]:
    tp = fp = fn = 0
    for gold, pred in pairs:
        tp += gold and pred
        fp += pred and not gold
        fn += gold and not pred
    return _prf(tp, fp, fn)


def _first_topic(out: dict) -> str | None:
    topics = out.get("topics") or []
    return topics[0][0] if topics else None


def _themes(out: dict) -> set[str]:
    return set((out.get("sensitive") or {}).get("themes") or [])


def _kept(out: dict) -> bool:
    return bool(out.get("kept", out.get("relevant")))


def _share(gold: list, predicted: list) -> float | None:
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold) if gold else None


def score(items: list[dict], outputs: list[dict]) -> dict[str, Any]:
    """Every figure for one set of items and the analyser's outputs (same order)."""
    n = len(items)
    pairs = list(zip(items, outputs, strict=True))
    unambiguous = [(i, o) for i, o in pairs if not i.get("relevance_ambiguous")]
    rel = _binary((bool(i["about_haiphong"]), bool(o.get("relevant"))) for i, o in unambiguous)
    kept = _binary((bool(i["about_haiphong"] or i["watch"]), _kept(o)) for i, o in unambiguous)
    watch = _binary((bool(i["watch"]), o.get("scope") == "watch") for i, o in pairs)
    sensitive_items = [(i, o) for i, o in pairs if i["sensitive"]]
    kept_sensitive = sum(_kept(o) for _, o in sensitive_items)
    sens = _binary((bool(i["sensitive"]), bool(_themes(o))) for i, o in pairs)
    per_theme = {t: _binary((t in (i.get("themes") or []), t in _themes(o)) for i, o in pairs) for t in THEMES}
    scored = [(i, o) for i, o in pairs if i["about_haiphong"] or i["sensitive"]]
    topic_gold = [i["topic"] for i, _ in scored]
    topic_pred = [_first_topic(o) for _, o in scored]
    labels = sorted(set(topic_gold))
    topic_f1 = {}
    for label in labels:
        topic_f1[label] = _binary((g == label, p == label) for g, p in zip(topic_gold, topic_pred, strict=True))
    f1s = [v["f1"] or 0.0 for v in topic_f1.values()]
    tone_gold = [_TONE_OF[i["sentiment"]] for i, _ in scored]
    tone_pred = [((o.get("sentiment") or {}).get("label")) for _, o in scored]
    confusion = {g: {p: 0 for p in (*TONES, None)} for g in TONES}
    for g, p in zip(tone_gold, tone_pred, strict=True):
        confusion[g][p if p in TONES else None] += 1
    lang_ok = sum(o.get("language") == i["lang"] for i, o in pairs)
    return {
        "items": n,
        "relevance": rel,
        "kept": kept,
        "watch": watch,
        "sensitive_items": len(sensitive_items),
        "sensitive_kept_share": kept_sensitive / len(sensitive_items) if sensitive_items else None,
        "sensitive": sens,
        "sensitive_per_theme": per_theme,
        "topic_items": len(scored),
        "topic_top1": _share(topic_gold, topic_pred),
        "topic_macro_f1": sum(f1s) / len(f1s) if f1s else None,
        "topic_per_label": topic_f1,
        "tone_accuracy": _share(tone_gold, tone_pred),
        "tone_confusion": confusion,
        "language_accuracy": lang_ok / n if n else None,
    }


def analyse(items: list[dict], home: Path) -> tuple[list[dict], list[dict], float]:
    """hpmon's outputs and the naive baseline's, for every item, and the seconds it took."""
    from classifiers.baseline import LexiconBaseline
    from classifiers.lexicon import Lexicons
    from hpmon.app import build_pipeline
    from hpmon.commands.understand import train_models
    from hpmon.settings import load_settings

    settings = load_settings(home=home)
    settings.home.mkdir(parents=True, exist_ok=True)
    train_models(settings)
    pipeline = build_pipeline(settings, None, [], record_stories=False)
    baseline = LexiconBaseline(Lexicons.load(settings.config_dir))
    outputs, naive = [], []
    start = time.perf_counter()
    for item in items:
        inp = {"id": item["id"], "text": item["text"], "published_at": item.get("date")}
        try:
            out = pipeline.analyze_input(inp, item["id"])
        except (ValueError, TypeError) as exc:
            out = {"id": item["id"], "error": str(exc)}
        outputs.append(out)
        guess = baseline.predict("", item["text"], out.get("language"))
        candidates = pipeline.sensitive.detect("", item["text"], out.get("language"), []).findings \
            if pipeline.sensitive else []
        naive.append({"relevant": out.get("relevant"), "kept": out.get("relevant"), "scope": None,
                      "language": out.get("language"),
                      "topics": [[t, p] for t, p in guess.topics], "sentiment": {"label": guess.sentiment[0]},
                      "sensitive": {"themes": sorted({f.theme for f in candidates})}})
    return outputs, naive, time.perf_counter() - start


def _f(v: Any) -> Any:
    return None if v is None else round(v, 3) if isinstance(v, float) else v


def headline_rows(label: str, s: dict) -> list:
    return [label, _f(s["relevance"]["f1"]), _f(s["kept"]["recall"]), _f(s["sensitive_kept_share"]),
            _f(s["watch"]["recall"]), _f(s["watch"]["precision"]),
            _f(s["sensitive"]["recall"]), _f(s["sensitive"]["precision"]),
            _f(s["topic_macro_f1"]), _f(s["topic_top1"]), _f(s["tone_accuracy"])]


HEADERS = ["", "relevance F1", "kept R", "sensitive kept", "watch R", "watch P", "sensitive R", "sensitive P",
           "topic macro-F1", "topic top-1", "tone acc"]


def render(result: dict) -> str:
    s, b = result["hpmon"], result["baseline"]
    rows = [headline_rows("hpmon", s), headline_rows("naive baseline", b)]
    prev = result.get("previous")
    if prev:
        rows.append(headline_rows(f"previous run ({prev.get('commit') or '?'})", prev["hpmon"]))
    parts = [f"{s['items']} items, {result['seconds']:.1f} s ({result['items_per_second']:.1f} items/s); "
             f"{result['errors']} analyse errors. Targets: relevance F1 ≥ 0.98, sensitive R ≥ 0.90 and P ≥ 0.85, "
             "sensitive kept ≥ 0.90, topic macro-F1 ≥ 0.70, tone ≥ 0.75.", md_table(HEADERS, rows)]
    parts.append("## Sensitive themes\n\n" + md_table(
        ["theme", "P", "R", "tp", "fp", "fn"],
        [[t, _f(v["precision"]), _f(v["recall"]), v["tp"], v["fp"], v["fn"]]
         for t, v in s["sensitive_per_theme"].items()]))
    parts.append("## Topics (first topic, items about the city or sensitive)\n\n" + md_table(
        ["topic", "P", "R", "F1", "gold"],
        [[t, _f(v["precision"]), _f(v["recall"]), _f(v["f1"]), v["tp"] + v["fn"]]
         for t, v in s["topic_per_label"].items()]))
    parts.append("## Tone confusion (rows gold, columns predicted)\n\n" + md_table(
        ["gold \\ predicted", *TONES, "none"],
        [[g, *(s["tone_confusion"][g][p] for p in TONES), s["tone_confusion"][g][None]] for g in TONES]))
    per = result["per_language"]
    parts.append("## Per language\n\n" + md_table(
        ["lang", "items", *HEADERS[1:], "language acc"],
        [[lang, v["items"], *headline_rows("", v)[1:], _f(v["language_accuracy"])]
         for lang, v in sorted(per.items(), key=lambda kv: -kv[1]["items"])]))
    return "\n\n".join(parts)


def run(folder: Path, analyse_fn: Callable[[list[dict], Path], tuple[list[dict], list[dict], float]] = analyse,
        items: list[dict] | None = None) -> dict[str, Any]:
    items = load_items(folder) if items is None else items
    with tempfile.TemporaryDirectory(prefix="hpmon-coverage-") as tmp:
        outputs, naive, seconds = analyse_fn(items, Path(tmp))
    by_lang: dict[str, list[int]] = defaultdict(list)
    for k, item in enumerate(items):
        by_lang[item["lang"]].append(k)
    return {
        "title": TITLE,
        "seconds": seconds,
        "items_per_second": len(items) / seconds if seconds else None,
        "errors": sum("error" in o for o in outputs),
        "hpmon": score(items, outputs),
        "baseline": score(items, naive),
        "per_language": {lang: score([items[k] for k in ks], [outputs[k] for k in ks]) for lang, ks in by_lang.items()},
        "languages": dict(Counter(i["lang"] for i in items)),
    }


def main() -> None:
    args = base_parser(__doc__.splitlines()[0]).parse_args()
    folder = args.data or data_dir("coverage")
    if not folder.is_dir():
        skip(NAME, TITLE, f"no coverage data at {folder}", args.results)
    previous = None
    try:
        old = json.loads((args.results / f"{NAME}.json").read_text(encoding="utf-8"))
        if "hpmon" in old:
            previous = {"commit": (old.get("machine") or {}).get("git_commit"), "hpmon": old["hpmon"]}
    except (OSError, ValueError):
        pass
    result = run(folder)
    if previous:
        result["previous"] = previous
    markdown = render(result)
    corpus = REPO / "classifiers" / "data"
    held = held_out_items(corpus)
    if held:
        result["held_out"] = run(corpus, items=held)
        markdown += ("\n\n# The written corpus's held-out split (test-*.jsonl with round-2 labels)\n\n"
                     + render(result["held_out"]))
    write_report(NAME, result, markdown, args.results)


if __name__ == "__main__":
    main()


__all__ = ["RESULTS", "load_items", "run", "score"]
