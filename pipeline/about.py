"""Is the article about the city, or does it only name it in passing? The learned decision.

The relevance stage (``pipeline/relevance.py``) finds the evidence: every accepted mention of a
name, district or landmark of the city profile with its field, and every rejected one with its
reason, and sums it into a hand-set score. A score is not a decision: one body mention of the
city in a long article about something else scores like a short brief that names it once, and
an article about a district that never names the city scores low. This module decides from
the *shape* of the evidence (never the article's words), the way ``classifiers/context.py``
decides sensitive themes:

- how much: accepted hits by entry kind (the profile's kinds: name, district, island...) and by
  field (title, lead, text: the relevance stage's opening and body are one field here, since
  its opening is the first 500 characters and the corpus's examples are rarely longer),
  distinct terms, the hand score;
- where: the first mention's position in the text, whether the first sentence (or the lead)
  names the city, mentions per 1,000 text units (``pipeline.extract.text_units``: a CJK
  character counts as two to three Latin ones), the share of sentences that mention it;
- against: rejected mentions by kind (confusion, same sense, validity, ambiguous).

Left out on purpose: the text's length and the share of paragraphs that name the city. The
written corpus's examples are one paragraph of similar length, so it cannot teach them, and a
coefficient fitted on a near-constant column turns into nonsense on real, longer articles. For
the same reason any feature that departs from its usual value in fewer than ``MIN_SUPPORT``
training rows is left out of the fit (``supported``; listed in the scores as ``left_out``).

A logistic regression on these features (standardized; coefficients, scaling and threshold kept
as plain JSON in ``about.json`` next to the trained models) is trained on the written corpus
(``classifiers/data/seed-*.jsonl``, label ``about_city``), each example run through the real
``score_relevance`` with the city profile. Its threshold is chosen on 5-fold out-of-fold
probabilities of that corpus. Without a model (or with a broken one) the hand formula decides.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.corpus import example_from_dict
from pipeline.city import CityProfile
from pipeline.extract import text_units
from pipeline.relevance import Relevance, score_relevance

log = logging.getLogger(__name__)

MODEL_FILE = "about.json"
FORMAT = 1
FEATURES_VERSION = 3  # bump when a feature changes meaning: an older about.json is then refused
FIELDS = ("title", "lead", "text")  # the relevance stage's opening and body are one field here (see below)
MIN_SUPPORT = 20  # a feature that departs from its usual value in fewer training rows is left out
REJECTED_KINDS = ("confusion", "same_sense", "validity", "ambiguous")
DENSITY_CAP = 30.0  # mentions per 1,000 text units beyond which a brief is not "more" about the city

# Sentence ends: Latin/Cyrillic/Arabic stops followed by space, CJK full stops anywhere, and
# line breaks (paragraphs are lines in extracted text).
_SENTENCE_END = re.compile(r"(?<=[.!?;؟…])\s+|(?<=[。！？])|\n+")


def feature_names(kinds: Sequence[str]) -> list[str]:
    """The names of the features, in order, for a profile whose entries have ``kinds``."""
    return (["score", "log_hits", "log_terms", "in_title", "first_position", "first_sentence",
             "density", "sentence_share"]
            + [f"field={f}" for f in FIELDS]
            + [f"kind={k}" for k in kinds]
            + [f"rejected={k}" for k in REJECTED_KINDS])


def profile_kinds(profile: CityProfile) -> list[str]:
    """The entry kinds of a city profile, sorted (the kind features' order)."""
    return sorted({e.kind for e in profile.entries})


def _spans(pattern: re.Pattern, text: str) -> list[tuple[int, int]]:
    """The non-empty pieces of ``text`` between matches of ``pattern``, as (start, end)."""
    spans, start = [], 0
    for m in pattern.finditer(text):
        if text[start:m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def _share(spans: list[tuple[int, int]], starts: list[int]) -> float:
    if not spans:
        return 0.0
    hit = sum(1 for lo, hi in spans if any(lo <= s < hi for s in starts))
    return hit / len(spans)


def mention_features(relevance: Relevance, *, title: str, text: str, lead: str = "",
                     kinds: Sequence[str]) -> np.ndarray:
    """The feature row of one article, from the relevance evidence and the text's layout only
    (lengths and sentence boundaries; no word of the article). Shared by training
    and prediction; the order is ``feature_names(kinds)``."""
    hits = relevance.hits
    body = sorted(h.start for h in hits if h.field in ("opening", "body"))
    units = max(1, text_units(text or ""))
    n_text = max(1, len(text or ""))
    by_field = {f: sum(1 for h in hits if (h.field in ("opening", "body") and f == "text") or h.field == f)
                for f in FIELDS}
    by_kind = {k: sum(1 for h in hits if h.kind == k) for k in kinds}
    rejected = {k: sum(1 for r in relevance.rejected if r.kind == k) for k in REJECTED_KINDS}
    sentences = _spans(_SENTENCE_END, text or "")
    first_end = sentences[0][1] if sentences else 0
    first_sentence = bool(by_field["lead"]) or any(s < first_end for s in body)
    row = [
        float(relevance.score),
        math.log1p(len(hits)),
        math.log1p(len({h.term for h in hits})),
        1.0 if by_field["title"] else 0.0,
        body[0] / n_text if body else 1.0,
        1.0 if first_sentence else 0.0,
        math.log1p(min(DENSITY_CAP, 1000.0 * len(body) / units)),
        _share(sentences, body),
        *(math.log1p(by_field[f]) for f in FIELDS),
        *(math.log1p(by_kind[k]) for k in kinds),
        *(math.log1p(rejected[k]) for k in REJECTED_KINDS),
    ]
    return np.asarray(row, dtype=np.float64)


class AboutModelError(ValueError):
    """An ``about.json`` that cannot be used; the message says why."""


@dataclass
class AboutModel:
    """The fitted decision: a standardized logistic regression over ``mention_features``."""

    city: str
    kinds: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    low: np.ndarray | None = None  # each feature is clipped to its training range (corpus texts are
    high: np.ndarray | None = None  # shorter than real ones: no extrapolation beyond what was seen)
    meta: dict[str, Any] = field(default_factory=dict)

    def _clip(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.low, self.high) if self.low is not None and self.high is not None else x

    @property
    def names(self) -> list[str]:
        return feature_names(self.kinds)

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(about the city) of each row of ``x`` (one row or a matrix)."""
        x = self._clip(np.atleast_2d(x))
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def decide(self, relevance: Relevance, *, title: str, text: str, lead: str = "") -> tuple[float, bool, str]:
        """(probability, about the city, why) for one article's evidence. Without an accepted
        mention the article is not about the city whatever the probability: the model weighs
        evidence, it does not invent it. With an accepted title mention that the hand formula
        also finds enough, it is: the model decides the articles that name the city only in
        their text."""
        x = mention_features(relevance, title=title, text=text, lead=lead, kinds=self.kinds)
        p = float(self.probability(x)[0])
        contrib = (self._clip(x) - self.mean) / self.scale * self.coef
        top = [self.names[i] for i in np.argsort(-np.abs(contrib))[:3]]
        why = f"learned p={p:.2f} (threshold {self.threshold:.2f}; most telling: {', '.join(top)})"
        if not relevance.hits:
            return p, False, why + "; no accepted mention"
        if relevance.relevant and any(h.field == "title" for h in relevance.hits):
            # a title says what an article is about: an accepted title mention the formula also
            # judges enough is not overruled by the body's shape (the corpus is short and undated:
            # a place that became part of the city on a date, Hải Dương, is weighed from too few rows)
            return p, True, why + "; named in the title"
        return p, p >= self.threshold, why

    # -- persistence ----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "features_version": FEATURES_VERSION, "model": "logistic_regression",
                "city": self.city, "kinds": self.kinds, "feature_names": self.names,
                "mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept, "threshold": self.threshold,
                "low": None if self.low is None else self.low.tolist(),
                "high": None if self.high is None else self.high.tolist(), **self.meta}

    @classmethod
    def from_json(cls, raw: Any) -> AboutModel:
        """The model of a parsed ``about.json``; AboutModelError with the reason otherwise."""
        if not isinstance(raw, dict):
            raise AboutModelError("not a JSON object")
        if raw.get("format") != FORMAT or raw.get("features_version") != FEATURES_VERSION:
            raise AboutModelError(f"format {raw.get('format')!r}/features {raw.get('features_version')!r}, "
                                  f"expected {FORMAT}/{FEATURES_VERSION} (run `hpmon train`)")
        try:
            kinds = [str(k) for k in raw["kinds"]]
            names = feature_names(kinds)
            if list(raw["feature_names"]) != names:
                raise AboutModelError("its feature names are not the ones this hpmon computes (run `hpmon train`)")
            arrays = [np.asarray(raw[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
            intercept, threshold = float(raw["intercept"]), float(raw["threshold"])
            bounds = [np.asarray(raw[k], dtype=np.float64) if raw.get(k) is not None else None
                      for k in ("low", "high")]
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, AboutModelError):
                raise
            raise AboutModelError(f"missing or malformed field: {exc}") from exc
        if any(a.shape != (len(names),) for a in arrays + [b for b in bounds if b is not None]):
            raise AboutModelError(f"coefficients do not match the {len(names)} features")
        if not all(np.isfinite(a).all() for a in arrays) or not math.isfinite(intercept):
            raise AboutModelError("non-finite coefficients")
        if (arrays[1] <= 0).any():
            raise AboutModelError("non-positive feature scale")
        if not 0.0 < threshold < 1.0:
            raise AboutModelError(f"threshold {threshold} outside (0, 1)")
        known = {"format", "features_version", "model", "city", "kinds", "feature_names", "mean", "scale", "coef",
                 "intercept", "threshold", "low", "high"}
        meta = {k: v for k, v in raw.items() if k not in known}
        return cls(str(raw.get("city", "")), kinds, *arrays, intercept, threshold, *bounds, meta)

    def save(self, directory: Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / MODEL_FILE
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(path)
        return path


def load_about(directory: Path | None, city: str | None = None) -> AboutModel | None:
    """The model in ``directory/about.json``, or None with a logged reason (no file, a broken
    file, a model of another city): the relevance stage then keeps the hand formula."""
    if directory is None:
        return None
    path = Path(directory) / MODEL_FILE
    if not path.is_file():
        log.warning("no learned relevance model in %s: the hand formula decides relevance (run `hpmon train`)",
                    path)
        return None
    try:
        model = AboutModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        log.warning("unusable learned relevance model %s (%s): the hand formula decides relevance", path, exc)
        return None
    if city is not None and model.city and model.city != city:
        log.warning("learned relevance model %s is for city %r, not %r: the hand formula decides relevance",
                    path, model.city, city)
        return None
    return model


# ---------------------------------------------------------------------------------- training


@dataclass(frozen=True)
class Labelled:
    """One written example with its ``about_city`` label."""

    id: str
    title: str
    text: str
    about_city: bool


def load_labelled(data_dir: Path, pattern: str = "seed-*.jsonl") -> list[Labelled]:
    """The examples of the written corpus that carry an ``about_city`` label. Each line is read
    by the corpus reader's rules (``classifiers.corpus.example_from_dict``); a line it refuses
    or without a boolean ``about_city`` is left out and logged, never a crash."""
    out: list[Labelled] = []
    for path in sorted(Path(data_dir).glob(pattern)):
        with path.open(encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                    ex = example_from_dict(raw, f"{path.stem}:{number}")
                except (ValueError, RecursionError) as exc:
                    log.warning("%s:%d: skipped (%s)", path, number, exc)
                    continue
                label = raw.get("about_city")
                if isinstance(label, bool):
                    out.append(Labelled(ex.id, ex.title, ex.text, label))
    return out


def _training_hash(examples: Iterable[Labelled], profile: CityProfile, day: date, c: float) -> str:
    h = hashlib.sha256(json.dumps({"features": FEATURES_VERSION, "day": day.isoformat(), "c": c,
                                   "city": profile.id, "threshold": profile.threshold}).encode())
    for e in profile.entries:
        h.update(json.dumps([e.term, e.kind, e.weight, e.ambiguous, list(e.context), str(e.valid_from),
                             str(e.valid_until)], ensure_ascii=False).encode())
    for ex in examples:
        h.update(json.dumps([ex.id, ex.title, ex.text, ex.about_city], ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def feature_matrix(examples: Sequence[Labelled], profile: CityProfile, day: date,
                   kinds: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, hand-formula verdicts) of ``examples`` run through ``score_relevance``."""
    rows, hand = [], []
    for ex in examples:
        rel = score_relevance(profile, title=ex.title, text=ex.text, day=day)
        rows.append(mention_features(rel, title=ex.title, text=ex.text, kinds=kinds))
        hand.append(rel.relevant)
    y = np.array([int(ex.about_city) for ex in examples])
    return np.vstack(rows), y, np.array(hand, dtype=bool)


def _prf(pred: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    tp = float(np.sum(pred & gold))
    p = tp / pred.sum() if pred.sum() else 0.0
    r = tp / gold.sum() if gold.sum() else 0.0
    f = 2 * tp / (pred.sum() + gold.sum()) if pred.sum() + gold.sum() else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def supported(x: np.ndarray, minimum: int = MIN_SUPPORT) -> np.ndarray:
    """Which features the training rows can teach: those that depart from their most common
    value in at least ``minimum`` rows. A feature nearly constant in the corpus gets a huge
    standardized coefficient from the few rows where it is not, and that coefficient then
    decides real articles where the feature is common (a mention past the corpus's usual
    length, a district kind no example names)."""
    keep = np.zeros(x.shape[1], dtype=bool)
    for j in range(x.shape[1]):
        _, counts = np.unique(x[:, j], return_counts=True)
        keep[j] = len(x) - counts.max() >= minimum
    return keep


def _fit(x: np.ndarray, y: np.ndarray, c: float,
         keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, coefficients, intercept); a feature outside ``keep`` gets coefficient 0."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    keep = np.ones(x.shape[1], dtype=bool) if keep is None else keep
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=c, max_iter=5000).fit(((x - scaler.mean_) / scale)[:, keep], y)
    coef = np.zeros(x.shape[1])
    coef[keep] = model.coef_[0]
    return scaler.mean_, scale, coef, float(model.intercept_[0])


def _predict(params: tuple[np.ndarray, np.ndarray, np.ndarray, float], x: np.ndarray) -> np.ndarray:
    mean, scale, coef, intercept = params
    return 1.0 / (1.0 + np.exp(-np.clip(((x - mean) / scale) @ coef + intercept, -50, 50)))


def both_shapes(examples: Sequence[Labelled]) -> list[Labelled]:
    """Each example as a crawl sees it (title apart) and, when it has a title, as ``hpmon
    analyze`` sees a bare text (the title as the text's first line, no title field), so the
    decision holds for both; the copy keeps the example's id (one fold holds both)."""
    out = list(examples)
    out += [Labelled(ex.id, "", f"{ex.title}\n\n{ex.text}", ex.about_city) for ex in examples if ex.title.strip()]
    return out


def train_about(examples: Sequence[Labelled], profile: CityProfile, *, day: date | None = None,
                folds: int = 5, seed: int = 13, cs: Sequence[float] = (0.1, 0.3, 1.0, 3.0)) -> tuple[AboutModel, dict]:
    """The model fitted on ``examples`` with the profile's evidence, its regularization and
    threshold chosen on ``folds``-fold out-of-fold probabilities (best F1), and the scores:
    out-of-fold P/R/F1 of the model beside the hand formula's on the same examples.

    ``day`` is the date the examples are judged on (the written corpus has no dates; default
    today, as ``hpmon analyze`` judges an undated text). Every example is used in both shapes
    (``both_shapes``); the folds keep an example's two shapes together."""
    from sklearn.model_selection import StratifiedGroupKFold

    day = day or datetime.now(UTC).date()
    kinds = profile_kinds(profile)
    shaped = both_shapes(examples)
    x, y, hand = feature_matrix(shaped, profile, day, kinds)
    if len(y) < 2 or y.min() == y.max():
        raise ValueError("training the relevance decision needs examples about the city and others")
    groups = np.array([ex.id for ex in shaped])
    n_splits = max(2, min(folds, int(np.bincount(y[np.unique(groups, return_index=True)[1]]).min())))
    has_hit = x[:, feature_names(kinds).index("log_hits")] > 0
    keep = supported(x)
    best: tuple[float, float, float, np.ndarray] | None = None  # (f1, c, threshold, oof)
    splits = list(StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(x, y, groups))
    for c in cs:
        oof = np.zeros(len(y))
        for fit_idx, held_idx in splits:
            oof[held_idx] = _predict(_fit(x[fit_idx], y[fit_idx], c, keep), x[held_idx])
        for t in np.arange(0.05, 0.951, 0.01):
            f1 = _prf((oof >= t) & has_hit, y == 1)["f1"]
            if best is None or f1 > best[0] + 1e-9:
                best = (f1, c, round(float(t), 2), oof)
    assert best is not None
    _, c, threshold, oof = best
    mean, scale, coef, intercept = _fit(x, y, c, keep)
    scores = {"examples": len(examples), "shapes": len(y), "about_city": int(sum(ex.about_city for ex in examples)),
              "left_out": [n for n, k in zip(feature_names(kinds), keep, strict=True) if not k],
              "folds": n_splits, "c": c, "threshold": threshold,
              "oof": _prf((oof >= threshold) & has_hit, y == 1), "hand_formula": _prf(hand, y == 1)}
    meta = {"training_hash": _training_hash(examples, profile, day, c), "trained_at": datetime.now(UTC).isoformat(
        timespec="seconds"), "training_day": day.isoformat(), "scores": scores}
    return (AboutModel(profile.id, kinds, mean, scale, coef, intercept, threshold, x.min(axis=0), x.max(axis=0), meta),
            scores)


def evaluate_about(model: AboutModel | None, examples: Sequence[Labelled], profile: CityProfile, *,
                   day: date | None = None) -> dict:
    """P/R/F1 of the full relevance stage (``score_relevance`` with ``model``, or the hand
    formula when None) on labelled examples, e.g. the corpus's held-out ``test-*.jsonl``."""
    day = day or datetime.now(UTC).date()
    pred = np.array([score_relevance(profile, title=ex.title, text=ex.text, day=day, about=model).relevant
                     for ex in examples], dtype=bool)
    gold = np.array([ex.about_city for ex in examples], dtype=bool)
    return {"examples": len(examples), **_prf(pred, gold)}
