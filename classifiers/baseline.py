"""Keyword rules alone: the yardstick the trained models must beat (``hpmon eval`` shows both).

Topics are the labels with enough lexicon hits (``other`` when none has), best first;
sentiment is the sign of positive minus negative tone hits after negation.
"""

from __future__ import annotations

from classifiers.lexicon import Lexicons
from classifiers.models import OTHER, Prediction, Reason, prepare


class LexiconBaseline:
    """Predicts from the lexicons only; same ``predict`` signature and output as the models."""

    version = "lexicon-baseline"

    def __init__(self, lexicons: Lexicons, min_hits: int = 1, max_topics: int = 3) -> None:
        self.lexicons = lexicons
        self.min_hits = min_hits
        self.max_topics = max_topics

    def predict(self, title: str | None, text: str | None, language: str | None = None) -> Prediction:
        """Topics with at least ``min_hits`` hits (probability = share of all topic hits) and
        the tone sign, with the matched terms as reasons."""
        doc = prepare(title, text)
        hits = self.lexicons.topic_hits(doc)
        counted = sorted(((h.count, label) for label, h in hits.items() if h.count >= self.min_hits and label != OTHER),
                         key=lambda c: -c[0])
        reasons: list[Reason] = []
        if counted:
            total = sum(c for c, _ in counted)
            topics = [(label, c / total) for c, label in counted[: self.max_topics]]
        else:
            other = hits.get(OTHER)
            topics = [(OTHER, 1.0)]
            counted = [(other.count if other else 0, OTHER)]
        for _, label in topics:
            h = hits.get(label)
            reasons.append(Reason("topic", label, h.surfaces() if h else [], []))
        tone = self.lexicons.tone_hits(doc, language)
        pos, neg = tone["positive"].count, tone["negative"].count
        if pos == neg:
            sentiment = ("neutral", 1.0 if pos == 0 else 0.5)
        else:
            label = "positive" if pos > neg else "negative"
            sentiment = (label, max(pos, neg) / (pos + neg))
        if sentiment[0] != "neutral":
            reasons.append(Reason("sentiment", sentiment[0], tone[sentiment[0]].surfaces(), []))
        else:
            reasons.append(Reason("sentiment", "neutral", [], []))
        return Prediction(topics, sentiment, reasons, self.version,
                          "empty text: no evidence, default labels" if not doc.strip() else None)
