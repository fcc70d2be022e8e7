"""How good a classifier is on labelled examples: per-class precision/recall/F1, macro-F1,
sentiment accuracy and confusion matrix, overall and per language (``hpmon eval``, ``hpmon train``).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from classifiers.corpus import SENTIMENTS, Example
from classifiers.lexicon import Lexicons
from classifiers.models import ModelConfig, Prediction, train

PredictFn = Callable[[str, str, str | None], Prediction]


@dataclass(frozen=True)
class ClassScores:
    label: str
    precision: float
    recall: float
    f1: float
    support: int  # gold examples with the label
    predicted: int  # examples predicted with the label


@dataclass
class EvalReport:
    """Scores of one classifier on one set of examples (and each language of it)."""

    n_examples: int
    n_topic_examples: int
    n_sentiment_examples: int
    topics: list[ClassScores]
    topic_macro_f1: float | None  # over the labels present in the gold data
    topic_micro_f1: float | None
    topic_top1_accuracy: float | None  # the predicted best topic is one of the gold topics
    sentiment: list[ClassScores]
    sentiment_macro_f1: float | None
    sentiment_accuracy: float | None
    confusion_labels: list[str]
    confusion: list[list[int]]  # rows: gold, columns: predicted
    per_language: dict[str, EvalReport] = field(default_factory=dict)
    model_version: str = ""
    latency_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["per_language"] = {lang: r.to_dict() for lang, r in self.per_language.items()}
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def _scores(label: str, tp: int, fp: int, fn: int) -> ClassScores:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return ClassScores(label, round(p, 4), round(r, 4), round(f1, 4), tp + fn, tp + fp)


def score(examples: Sequence[Example], predictions: Sequence[Prediction], model_version: str = "",
          by_language: bool = True) -> EvalReport:
    """The report for predictions already made (one per example, same order)."""
    topic_pairs = [(set(ex.topics), p.topic_labels) for ex, p in zip(examples, predictions, strict=True) if ex.topics]
    labels = sorted({t for gold, _ in topic_pairs for t in gold} | {t for _, pred in topic_pairs for t in pred})
    topic_scores = []
    totals = Counter()
    for label in labels:
        tp = sum(1 for g, p in topic_pairs if label in g and label in p)
        fp = sum(1 for g, p in topic_pairs if label not in g and label in p)
        fn = sum(1 for g, p in topic_pairs if label in g and label not in p)
        totals.update(tp=tp, fp=fp, fn=fn)
        topic_scores.append(_scores(label, tp, fp, fn))
    present = [s.f1 for s in topic_scores if s.support]
    micro = _scores("micro", totals["tp"], totals["fp"], totals["fn"]).f1 if topic_pairs else None
    top1 = float(np.mean([bool(p) and p[0] in g for g, p in topic_pairs])) if topic_pairs else None

    sent_pairs = [(ex.sentiment, p.sentiment[0]) for ex, p in zip(examples, predictions, strict=True) if ex.sentiment]
    sent_labels = [s for s in SENTIMENTS] + sorted({p for _, p in sent_pairs} - set(SENTIMENTS))
    confusion = [[sum(1 for g, p in sent_pairs if g == gl and p == pl) for pl in sent_labels] for gl in sent_labels]
    sent_scores = []
    for i, label in enumerate(sent_labels):
        tp = confusion[i][i]
        fp = sum(confusion[r][i] for r in range(len(sent_labels))) - tp
        fn = sum(confusion[i]) - tp
        sent_scores.append(_scores(label, tp, fp, fn))
    sent_present = [s.f1 for s in sent_scores if s.support]
    report = EvalReport(
        n_examples=len(examples),
        n_topic_examples=len(topic_pairs),
        n_sentiment_examples=len(sent_pairs),
        topics=topic_scores,
        topic_macro_f1=round(float(np.mean(present)), 4) if present else None,
        topic_micro_f1=micro,
        topic_top1_accuracy=round(top1, 4) if top1 is not None else None,
        sentiment=sent_scores,
        sentiment_macro_f1=round(float(np.mean(sent_present)), 4) if sent_present else None,
        sentiment_accuracy=round(float(np.mean([g == p for g, p in sent_pairs])), 4) if sent_pairs else None,
        confusion_labels=sent_labels,
        confusion=confusion,
        model_version=model_version,
    )
    if by_language:
        langs = sorted({ex.lang or "?" for ex in examples})
        if len(langs) > 1:
            for lang in langs:
                idx = [i for i, ex in enumerate(examples) if (ex.lang or "?") == lang]
                report.per_language[lang] = score([examples[i] for i in idx], [predictions[i] for i in idx],
                                                  model_version, by_language=False)
    return report


def evaluate(predict_fn: PredictFn, examples: Sequence[Example], model_version: str = "") -> EvalReport:
    """Runs ``predict_fn(title, text, language)`` on every example and scores the answers;
    the report also carries the per-article latency (p50/p95/max, milliseconds)."""
    predictions, times = [], []
    for ex in examples:
        t = time.perf_counter()
        predictions.append(predict_fn(ex.title, ex.text, ex.lang))
        times.append((time.perf_counter() - t) * 1000)
    report = score(examples, predictions, model_version or (predictions[0].model_version if predictions else ""))
    if times:
        report.latency_ms = {"p50": round(float(np.percentile(times, 50)), 3),
                             "p95": round(float(np.percentile(times, 95)), 3), "max": round(max(times), 3)}
    return report


def cross_validate(examples: Sequence[Example], folds: int = 5, *, lexicons: Lexicons,
                   config: ModelConfig | None = None, seed: int = 13) -> EvalReport:
    """Out-of-fold scores: each example is predicted by models trained without it (stratified
    by language and sentiment). What ``hpmon train`` prints."""
    examples = list(examples)
    strata = [f"{ex.lang}:{ex.sentiment}" for ex in examples]
    counts = Counter(strata)
    strata = [s if counts[s] >= folds else "rare" for s in strata]
    predictions: list[Prediction | None] = [None] * len(examples)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, held_idx in splitter.split(np.zeros(len(examples)), strata):
        models = train([examples[i] for i in fit_idx], lexicons=lexicons, config=config)
        for i in held_idx:
            ex = examples[i]
            predictions[i] = models.predict(ex.title, ex.text, ex.lang)
    return score(examples, [p for p in predictions if p is not None], f"cv{folds}")


# ---------------------------------------------------------------------------- text output


def _fmt(v: float | None) -> str:
    return "  –  " if v is None else f"{v:.3f}"


def render_text(report: EvalReport, title: str = "") -> str:
    """A plain-text report: per-class tables, headline scores, confusion matrix, languages."""
    lines = [title] if title else []
    lines.append(f"examples: {report.n_examples} (topics {report.n_topic_examples}, "
                 f"sentiment {report.n_sentiment_examples})" + (f"  model {report.model_version}"
                                                                 if report.model_version else ""))
    for name, rows in (("topic", report.topics), ("sentiment", report.sentiment)):
        lines.append("")
        lines.append(f"{name:<28} {'prec':>6} {'recall':>6} {'F1':>6} {'gold':>5} {'pred':>5}")
        for s in rows:
            lines.append(f"{s.label:<28} {s.precision:>6.3f} {s.recall:>6.3f} {s.f1:>6.3f} {s.support:>5} "
                         f"{s.predicted:>5}")
    lines.append("")
    lines.append(f"topic macro-F1 {_fmt(report.topic_macro_f1)}  micro-F1 {_fmt(report.topic_micro_f1)}  "
                 f"top-1 accuracy {_fmt(report.topic_top1_accuracy)}")
    lines.append(f"sentiment accuracy {_fmt(report.sentiment_accuracy)}  macro-F1 {_fmt(report.sentiment_macro_f1)}")
    lines.append("")
    lines.append("confusion (rows gold, columns predicted)")
    width = max(len(label) for label in report.confusion_labels) + 1
    lines.append(" " * width + "".join(f"{label[:8]:>9}" for label in report.confusion_labels))
    for label, row in zip(report.confusion_labels, report.confusion, strict=True):
        lines.append(f"{label:<{width}}" + "".join(f"{n:>9}" for n in row))
    if report.per_language:
        lines.append("")
        lines.append(f"{'language':<9} {'n':>4} {'topic macro-F1':>15} {'sentiment acc':>14}")
        for lang, r in report.per_language.items():
            lines.append(f"{lang:<9} {r.n_examples:>4} {_fmt(r.topic_macro_f1):>15} {_fmt(r.sentiment_accuracy):>14}")
    if report.latency_ms:
        lines.append("")
        lines.append("latency per article (ms): " + ", ".join(f"{k} {v:.2f}" for k, v in report.latency_ms.items()))
    return "\n".join(lines)


def render_comparison(reports: dict[str, EvalReport]) -> str:
    """Headline scores of several classifiers side by side (e.g. model vs lexicon rules),
    overall and per language."""
    names = list(reports)
    head = f"{'':<24}" + "".join(f"{n[:16]:>17}" for n in names)
    lines = [head]

    def row(label: str, get: Callable[[EvalReport], float | None]) -> None:
        lines.append(f"{label:<24}" + "".join(f"{_fmt(get(reports[n])):>17}" for n in names))

    row("topic macro-F1", lambda r: r.topic_macro_f1)
    row("topic micro-F1", lambda r: r.topic_micro_f1)
    row("sentiment accuracy", lambda r: r.sentiment_accuracy)
    row("sentiment macro-F1", lambda r: r.sentiment_macro_f1)
    langs = sorted({lang for r in reports.values() for lang in r.per_language})
    for lang in langs:
        row(f"{lang}: topic macro-F1", lambda r, lang=lang: r.per_language[lang].topic_macro_f1
            if lang in r.per_language else None)
        row(f"{lang}: sentiment acc", lambda r, lang=lang: r.per_language[lang].sentiment_accuracy
            if lang in r.per_language else None)
    return "\n".join(lines)
