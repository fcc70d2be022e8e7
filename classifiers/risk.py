"""The misleading-risk score of an article: a number from 0 to 1 and the reasons that make it up.

Each reason (a sensitive theme, contested naming, negative sentiment, the outlet's profile,
divergence from its story, a figure contradicting the office's reference facts) has a kind,
its evidence and a weight in [0, 1). The score is ``1 − Π(1 − weight)``: one reason alone
scores its weight, more reasons always raise the score, and it never reaches 1. Weights and the
queue threshold live in ``config/risk.yaml`` (section ``risk``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpbase.configfiles import RiskConfig

__all__ = ["Risk", "RiskConfig", "RiskReason", "combine", "score_risk"]

if TYPE_CHECKING:  # only for type hints: risk does not need the detectors to run
    from classifiers.facts import FactConflict
    from classifiers.sensitive import SensitiveResult


@dataclass(frozen=True)
class RiskReason:
    """One part of the score: what kind, the evidence an analyst can check, and its weight."""

    kind: str  # theme:<name> | negative_sentiment | outlet_profile | divergence | fact_conflict
    evidence: str
    weight: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Risk:
    """The score (0..1), its band, whether it enters the rebuttal queue, and its reasons."""

    score: float
    reasons: list[RiskReason]
    level: str  # low | medium | high
    queued: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "level": self.level,
            "queued": self.queued,
            "reasons": [r.to_dict() for r in self.reasons],
        }


_DEFAULT_THEME_WEIGHTS = {1: 0.1, 2: 0.3, 3: 0.4}


def combine(weights: Sequence[float]) -> float:
    """1 − Π(1 − w): bounded in [0, 1), monotone, and equal to w for a single reason."""
    return min(1.0 - math.prod(1.0 - min(max(w, 0.0), 0.999) for w in weights), 0.9999)


def _theme_reasons(result: SensitiveResult, config: RiskConfig) -> list[RiskReason]:
    reasons = []
    for theme in result.themes:
        ev = result.evidence.get(theme)
        findings = result.findings_for(theme)
        if ev is None or not findings:
            continue
        table = config.theme_weights.get(theme, _DEFAULT_THEME_WEIGHTS)
        weight = table.get(ev.max_severity, max(table.values(), default=0.0))
        rebutted = ev.all_rebuttals
        if rebutted:
            weight *= config.rebuttal_factor
        weight = max(weight, config.theme_floors.get(theme, 0.0))
        shown = sorted(findings, key=lambda f: (-f.severity, f.field != "title", f.start))[:5]
        evidence = "; ".join(
            f'"{f.surface}" ({f.field} {f.start}-{f.end}, severity {f.severity}'
            + (f", rebutted: {f.rebuttal}" if f.rebuttal else "")
            + ")"
            for f in shown
        )
        kind = "contested_naming" if theme == "contested_naming" else f"theme:{theme}"
        reasons.append(
            RiskReason(
                kind,
                evidence,
                round(weight, 4),
                {"theme": theme, "max_severity": ev.max_severity, "rule": ev.rule, "rebutted": rebutted,
                 "terms": list(ev.terms)},
            )
        )
    return reasons


def score_risk(
    sensitive: SensitiveResult | None = None,
    *,
    sentiment_label: str | None = None,
    sentiment_probability: float | None = None,
    outlet_profile: str | None = None,
    outlet_name: str | None = None,
    divergence: float | None = None,
    divergence_evidence: str | None = None,
    fact_conflicts: Sequence[FactConflict] = (),
    config: RiskConfig | None = None,
) -> Risk:
    """The article's misleading-risk score and its reasons, strongest first.

    Every input is optional: a missing signal (no sentiment model, divergence not computed yet)
    adds no reason rather than guessing."""
    config = config or RiskConfig()
    reasons: list[RiskReason] = []
    if sensitive is not None:
        reasons.extend(_theme_reasons(sensitive, config))
    if sentiment_label and sentiment_label.lower() == "negative":
        p = 1.0 if sentiment_probability is None else float(sentiment_probability)
        if not math.isnan(p) and p >= config.negative_sentiment_min_probability:
            p = min(p, 1.0)
            reasons.append(
                RiskReason(
                    "negative_sentiment",
                    f"sentiment negative (p={p:.2f})",
                    round(config.negative_sentiment * p, 4),
                    {"label": "negative", "probability": p},
                )
            )
    if outlet_profile:
        w = config.outlet_profiles.get(outlet_profile, 0.0)
        if w > 0:
            who = f"{outlet_name}: " if outlet_name else ""
            reasons.append(RiskReason("outlet_profile", f"{who}{outlet_profile}", w, {"profile": outlet_profile}))
    if divergence is not None and not math.isnan(divergence) and divergence >= config.divergence_min:
        d = min(max(float(divergence), 0.0), 1.0)
        text = divergence_evidence or f"diverges from its story ({d:.2f})"
        reasons.append(RiskReason("divergence", text, round(config.divergence_weight * d, 4), {"divergence": d}))
    for conflict in list(fact_conflicts)[: config.fact_conflicts_max]:
        reasons.append(
            RiskReason("fact_conflict", conflict.explain(), config.fact_conflict, conflict.to_dict())
        )
    reasons.sort(key=lambda r: -r.weight)
    score = round(combine([r.weight for r in reasons]), 4)
    level = "high" if score >= config.high else "medium" if score >= config.medium else "low"
    return Risk(score, reasons, level, score >= config.queue_threshold)


class RiskScorer:
    """``score_risk`` with the configuration loaded once (what the pipeline holds)."""

    def __init__(self, config: RiskConfig) -> None:
        self.config = config

    @classmethod
    def from_config(cls, config_dir: Path) -> RiskScorer:
        return cls(RiskConfig.from_config(config_dir))

    def score(self, sensitive: SensitiveResult | None = None, **signals: Any) -> Risk:
        return score_risk(sensitive, config=self.config, **signals)
