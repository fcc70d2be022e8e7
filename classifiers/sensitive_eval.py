"""How well the sensitive-theme detector and the risk threshold agree with the labelled corpus.

The corpus (``classifiers/data/{seed,test}-<lang>.jsonl``) labels each example with the
sensitive themes it carries; this module measures per-theme precision/recall/F1 (overall and
per language) and the precision/recall of "risk ≥ queue threshold" against "has any sensitive
label". It exists so the office can re-measure after editing a lexicon or a weight
(``hpmon eval`` calls ``score_sensitive`` on a labelled file; ``format_report`` prints it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.risk import RiskConfig, score_risk
from classifiers.sensitive import THEMES, SensitiveDetector


@dataclass
class PRF:
    """Counts and the precision/recall/F1 they give (1.0 when there is nothing to get wrong)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1

    def to_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 3),
                "recall": round(self.recall, 3), "f1": round(self.f1, 3)}


@dataclass
class Error:
    id: str
    language: str
    theme: str
    kind: str  # "fp" or "fn"
    terms: list[str]


TopicPredictor = Callable[[str, str, str], list[str]]


@dataclass
class SensitiveEvaluation:
    """Per-theme and per-language scores, the risk-threshold scores, and every error."""

    n: int
    per_theme: dict[str, PRF]
    per_language: dict[str, dict[str, PRF]]
    any_theme: PRF  # "some theme detected" vs "some sensitive label"
    risk_threshold: float
    risk: PRF
    risk_per_language: dict[str, PRF]
    errors: list[Error] = field(default_factory=list)
    risk_errors: list[tuple[str, str, float]] = field(default_factory=list)  # (id, fp|fn, score)

    def micro(self, language: str | None = None) -> PRF:
        total = PRF()
        for prf in (self.per_language[language] if language else self.per_theme).values():
            total.tp += prf.tp
            total.fp += prf.fp
            total.fn += prf.fn
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "per_theme": {t: p.to_dict() for t, p in self.per_theme.items()},
            "micro": self.micro().to_dict(),
            "per_language": {
                lang: {"micro": self.micro(lang).to_dict(), **{t: p.to_dict() for t, p in themes.items()}}
                for lang, themes in self.per_language.items()
            },
            "any_theme": self.any_theme.to_dict(),
            "risk_threshold": self.risk_threshold,
            "risk": self.risk.to_dict(),
            "risk_per_language": {lang: p.to_dict() for lang, p in self.risk_per_language.items()},
        }


def load_examples(data_dir: Path, splits: Sequence[str] = ("seed", "test"),
                  languages: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The labelled examples of the given splits (files ``<split>-<lang>.jsonl``)."""
    wanted = set(languages) if languages else None
    examples = []
    for split in splits:
        for path in sorted(Path(data_dir).glob(f"{split}-*.jsonl")):
            lang = path.stem.split("-", 1)[1]
            if wanted and lang not in wanted:
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    ex = json.loads(line)
                    ex.setdefault("lang", lang)
                    ex["_split"] = split
                    examples.append(ex)
    return examples


def evaluate_sensitive(
    config_dir: Path,
    data_dir: Path,
    splits: Sequence[str] = ("seed", "test"),
    *,
    use_gold_sentiment: bool = False,
    detector: SensitiveDetector | None = None,
    risk_config: RiskConfig | None = None,
    predict_topics: TopicPredictor | None = None,
) -> SensitiveEvaluation:
    """Scores of the detector and of the risk threshold on the labelled corpus (files
    ``<split>-<lang>.jsonl`` of ``data_dir``); see :func:`score_sensitive`."""
    return score_sensitive(config_dir, load_examples(data_dir, splits), use_gold_sentiment=use_gold_sentiment,
                           detector=detector, risk_config=risk_config, predict_topics=predict_topics)


def score_sensitive(
    config_dir: Path,
    examples: Sequence[dict[str, Any]],
    *,
    use_gold_sentiment: bool = False,
    detector: SensitiveDetector | None = None,
    risk_config: RiskConfig | None = None,
    predict_topics: TopicPredictor | None = None,
) -> SensitiveEvaluation:
    """Scores of the detector and of the risk threshold on labelled examples (``title``,
    ``text``, ``lang``, ``sensitive``: the themes, optional ``sentiment``).

    ``predict_topics(title, text, lang)`` gives each article its topics as the pipeline would
    (the trained topic model); without it the detector sees no topics. With
    ``use_gold_sentiment`` the corpus's sentiment label is fed to the risk score (as a
    sentiment model that is always right and sure would), otherwise the risk score sees only
    the sensitive findings — no outlet, divergence or facts, which the corpus does not have."""
    detector = detector or SensitiveDetector.from_config(config_dir)
    risk_config = risk_config or RiskConfig.from_config(config_dir)
    per_theme = {t: PRF() for t in THEMES}
    per_language: dict[str, dict[str, PRF]] = {}
    any_theme = PRF()
    risk = PRF()
    risk_per_language: dict[str, PRF] = {}
    errors: list[Error] = []
    risk_errors: list[tuple[str, str, float]] = []
    for ex in examples:
        lang = ex.get("lang") or ""
        title, text = ex.get("title") or "", ex.get("text") or ""
        topics = predict_topics(title, text, lang) if predict_topics else None
        result = detector.detect(title, text, lang, topics)
        gold = set(ex.get("sensitive") or ())
        predicted = set(result.themes)
        lang_scores = per_language.setdefault(lang, {t: PRF() for t in THEMES})
        for theme in THEMES:
            p, a = theme in predicted, theme in gold
            per_theme[theme].add(p, a)
            lang_scores[theme].add(p, a)
            if p != a:
                terms = [f"{f.surface}({f.severity})" for f in result.findings_for(theme)]
                errors.append(Error(str(ex.get("id")), lang, theme, "fp" if p else "fn", terms))
        any_theme.add(bool(predicted), bool(gold))
        sentiment = ex.get("sentiment") if use_gold_sentiment else None
        r = score_risk(result, sentiment_label=sentiment, sentiment_probability=1.0 if sentiment else None,
                       config=risk_config)
        risk.add(r.queued, bool(gold))
        risk_per_language.setdefault(lang, PRF()).add(r.queued, bool(gold))
        if r.queued != bool(gold):
            risk_errors.append((str(ex.get("id")), "fp" if r.queued else "fn", r.score))
    return SensitiveEvaluation(len(examples), per_theme, per_language, any_theme, risk_config.queue_threshold,
                               risk, risk_per_language, errors, risk_errors)


def format_report(ev: SensitiveEvaluation) -> str:
    """A plain-text table of an evaluation, for the CLI and for review notes."""
    lines = [f"examples: {ev.n}", "", f"{'theme':<18}{'P':>7}{'R':>7}{'F1':>7}{'tp':>5}{'fp':>5}{'fn':>5}"]
    for theme, p in [*ev.per_theme.items(), ("micro", ev.micro()), ("any theme", ev.any_theme)]:
        lines.append(f"{theme:<18}{p.precision:>7.3f}{p.recall:>7.3f}{p.f1:>7.3f}{p.tp:>5}{p.fp:>5}{p.fn:>5}")
    lines += ["", "per language (micro over themes)   |   risk ≥ threshold vs any sensitive label"]
    for lang in sorted(ev.per_language):
        p, r = ev.micro(lang), ev.risk_per_language[lang]
        lines.append(f"{lang:<6} P {p.precision:.3f} R {p.recall:.3f} F1 {p.f1:.3f}   |   "
                     f"P {r.precision:.3f} R {r.recall:.3f} F1 {r.f1:.3f}")
    r = ev.risk
    lines += ["", f"risk ≥ {ev.risk_threshold}: P {r.precision:.3f} R {r.recall:.3f} F1 {r.f1:.3f} "
                  f"(tp {r.tp} fp {r.fp} fn {r.fn})"]
    return "\n".join(lines)
