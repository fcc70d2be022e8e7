"""Topic and sentiment models: train on labelled examples, save safely, load once, predict fast.

Features, the same for both tasks:

- character n-grams (``char_wb`` 2–5, sublinear TF-IDF) of the lower-cased text: works for
  every script, Chinese/Japanese/Korean included, with no tokeniser;
- word uni- and bigrams (TF-IDF) of a *folded* form (case, diacritics and tone marks removed,
  so ``cảng biển`` = ``cang bien`` = ``Cang Bien``), for alphabetic scripts;
- the analysts' lexicons: per topic and per tone, log(1 + hits), scaled.

Topics: one logistic regression per label (one-vs-rest, balanced class weights) giving a
probability per label, with a per-label threshold tuned on out-of-fold probabilities; the best
label is always returned unless every probability is under a floor (then ``other``).
Tone (sentiment): one-vs-rest scorers per class whose out-of-fold scores feed a multinomial
calibrator (probabilities of unseen articles), then a three-way decision with neutral handled
explicitly: a polar label (negative, positive) is chosen only when its probability beats
neutral's by that label's margin, the margins chosen on out-of-fold predictions of the written
corpus (macro-F1). Training weighs examples so that within each kind of outlet the tones count
alike: the register of state media or wires is not learnt as tone.

Models are written with skops (no pickle) and read back with an explicit list of trusted
types; ``meta.json`` beside them says which version, when, on what and how well.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from classifiers.context import ContextModel, candidates, train_context
from classifiers.corpus import SENTIMENTS, Example
from classifiers.lexicon import LexiconHits, Lexicons
from hpbase import scripts
from hpbase.text import strip_marks

if TYPE_CHECKING:
    from classifiers.sensitive import SensitiveDetector

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MODEL_FILE = "models.skops"
META_FILE = "meta.json"
MAX_TITLE_CHARS = 500
MAX_TEXT_CHARS = 1500  # the title and lede carry topic and tone; reading more breaks the 5 ms budget
TOP_FEATURES = 5
OTHER = "other"

#: Every type inside models.skops. Loading refuses anything else (skops' safety net).
TRUSTED_TYPES = [
    "builtins.dict", "builtins.list", "builtins.str", "builtins.int", "builtins.float", "builtins.bool",
    "builtins.tuple", "numpy.ndarray", "numpy.dtype", "numpy.float64", "numpy.int64", "numpy.int32", "numpy.str_",
    "sklearn.linear_model._logistic.LogisticRegression",
]


@dataclass(frozen=True)
class ModelConfig:
    """Knobs of training; the defaults are what ``hpmon train`` uses."""

    char_ngrams: tuple[int, int] = (2, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    min_df: int = 2
    max_char_features: int = 300_000
    lexicon_weight: float = 0.5
    topic_c: float = 10.0
    sentiment_c: float = 30.0
    calibration_c: float = 1.0
    tone_outlet_balance: bool = True  # weigh tones alike within each outlet kind (register is not tone)
    tone_balance_cap: float = 3.0  # the most an example's weight is raised or lowered by that balance
    tone_margins: bool = True  # choose the polar labels' margins over neutral on out-of-fold predictions
    tone_margin_grid: tuple[float, float, float] = (-0.30, 0.30, 0.05)  # low, high, step
    tone_margin_metric: str = "accuracy"  # what the margins maximise out-of-fold: accuracy or macro_f1
    threshold_folds: int = 5
    correction_weight: float = 3.0
    min_threshold: float = 0.15
    floor: float = 0.10
    max_topics: int = 3
    seed: int = 13


# ---------------------------------------------------------------------------- text views

_NONSPACED = re.compile("[" + scripts.char_class(scripts.NONSPACED) + "]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def prepare(title: str | None, text: str | None) -> str:
    """The part of an article the models read: the title, then the start of the text, NFC,
    without control characters. Bounded in size whatever comes in."""
    title = (title or "")[:MAX_TITLE_CHARS]
    body = (text or "")[: MAX_TEXT_CHARS + 200]
    doc = unicodedata.normalize("NFC", f"{title}\n{body}" if title else body)
    return _CONTROL.sub(" ", doc)[: MAX_TITLE_CHARS + 1 + MAX_TEXT_CHARS]


def fold(doc: str) -> str:
    """Case, diacritics and tone marks removed (đ → d); non-spaced scripts blanked out (the
    character n-grams cover them)."""
    return _NONSPACED.sub(" ", strip_marks(doc, marks="combining"))


def lexicon_features(lexicons: Lexicons, doc: str, language: str | None = None) -> np.ndarray:
    """log(1 + hits) for every topic, then positive, negative and cancelled tone."""
    return _lexicon_vector(lexicons, lexicons.topic_hits(doc), lexicons.tone_hits(doc, language))


def _lexicon_vector(lexicons: Lexicons, topic: dict[str, LexiconHits], tone: dict[str, LexiconHits]) -> np.ndarray:
    counts = [topic[label].count for label in lexicons.topic_labels]
    counts += [tone["positive"].count, tone["negative"].count, tone["cancelled"].count]
    return np.log1p(np.asarray(counts, dtype=np.float64))


def lexicon_feature_names(lexicons: Lexicons) -> list[str]:
    return [f"lexicon:{label}" for label in lexicons.topic_labels] + [
        "lexicon:tone_positive", "lexicon:tone_negative", "lexicon:tone_cancelled"]


class _FastTfidf:
    """``TfidfVectorizer.transform`` for one document without sklearn's per-call checks (a
    tenth of the time); same numbers, as a test proves."""

    def __init__(self, vec: TfidfVectorizer) -> None:
        self.analyze = vec.build_analyzer()
        self.vocabulary: dict[str, int] = vec.vocabulary_
        self.idf: np.ndarray = vec.idf_
        self.sublinear = bool(vec.sublinear_tf)

    def transform(self, doc: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(self.analyze(doc))
        vocab = self.vocabulary
        pairs = [(vocab[t], n) for t, n in counts.items() if t in vocab]
        if not pairs:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.fromiter((i for i, _ in pairs), dtype=np.int64, count=len(pairs))
        tf = np.fromiter((n for _, n in pairs), dtype=np.float64, count=len(pairs))
        if self.sublinear:
            tf = np.log(tf) + 1.0
        vals = tf * self.idf[idx]
        norm = math.sqrt(float(vals @ vals))
        return idx, (vals / norm if norm else vals)


_VECTORIZER_PARAMS = ("analyzer", "ngram_range", "lowercase", "token_pattern", "sublinear_tf", "norm", "use_idf",
                      "smooth_idf")


def _pack_vectorizer(vec: TfidfVectorizer) -> dict[str, Any]:
    """A fitted vectorizer as plain values and arrays: skops writes a 50,000-entry
    vocabulary dict node by node (minutes); as an array it is one binary block."""
    terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    params = {k: getattr(vec, k) for k in _VECTORIZER_PARAMS}
    params["ngram_range"] = [int(n) for n in params["ngram_range"]]
    return {"params": params, "terms": np.array(terms, dtype=str), "idf": np.asarray(vec.idf_, dtype=np.float64)}


def _unpack_vectorizer(packed: dict[str, Any]) -> TfidfVectorizer:
    params = dict(packed["params"])
    params["ngram_range"] = tuple(params["ngram_range"])
    vec = TfidfVectorizer(**params, dtype=np.float64)
    vec.vocabulary_ = {str(t): i for i, t in enumerate(packed["terms"])}
    vec.idf_ = np.asarray(packed["idf"], dtype=np.float64)
    return vec


# ---------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Reason:
    """Why a label was given: the lexicon terms matched and the features that pushed it most."""

    kind: str  # "topic" or "sentiment"
    label: str
    terms: list[str]
    features: list[tuple[str, float]]
    decision: str = ""  # for tone: the calibrated probabilities and margins that decided the label

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "label": self.label, "terms": self.terms,
               "features": [[name, round(weight, 4)] for name, weight in self.features]}
        if self.decision:
            out["decision"] = self.decision
        return out


@dataclass(frozen=True)
class Prediction:
    """Topics best first (only those above their threshold), sentiment with its probability,
    and the reasons for each. ``note`` says when the input was odd (empty, truncated)."""

    topics: list[tuple[str, float]]
    sentiment: tuple[str, float]
    reasons: list[Reason] = field(default_factory=list)
    model_version: str = ""
    note: str | None = None
    topic_probabilities: dict[str, float] = field(default_factory=dict)  # every label, chosen or not

    @property
    def topic_labels(self) -> list[str]:
        return [label for label, _ in self.topics]

    def to_dict(self) -> dict[str, Any]:
        return {
            "topics": [[label, round(p, 4)] for label, p in self.topics],
            "sentiment": [self.sentiment[0], round(self.sentiment[1], 4)],
            "reasons": [r.to_dict() for r in self.reasons],
            "model_version": self.model_version,
            "note": self.note,
        }


# ---------------------------------------------------------------------------- model


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


NEUTRAL = "neutral"


def decide_tone(p: np.ndarray, margins: np.ndarray) -> np.ndarray:
    """The tone chosen for each row of calibrated probabilities ``p`` (n × classes, or one row):
    the label with the highest ``p - margin``, where neutral's margin is 0 and a polar label's
    margin is how far its probability must be above neutral's (negative: how far below it may
    be). With zero margins this is the plain argmax."""
    adjusted = np.atleast_2d(p) - np.asarray(margins, dtype=np.float64)
    return np.argmax(adjusted, axis=1)


def _macro_f1(y: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    f1s = []
    for c in range(n_classes):
        tp = float(np.sum((pred == c) & (y == c)))
        denom = float(np.sum(pred == c) + np.sum(y == c))
        f1s.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(f1s))


def _tone_metric(y: np.ndarray, pred: np.ndarray, n_classes: int, metric: str) -> float:
    if metric == "accuracy":
        return float(np.mean(pred == y))
    if metric == "macro_f1":
        return _macro_f1(y, pred, n_classes)
    raise ValueError(f"unknown tone metric {metric!r} (accuracy or macro_f1)")


def choose_tone_margins(p: np.ndarray, y: np.ndarray, labels: Sequence[str],
                        grid: tuple[float, float, float] = (-0.30, 0.30, 0.05),
                        metric: str = "accuracy") -> tuple[np.ndarray, float]:
    """Margins for the polar labels (neutral's stays 0) that give the best ``metric``
    (``accuracy`` or ``macro_f1``) of ``decide_tone`` on out-of-fold probabilities ``p``
    against gold label indices ``y``; on a tie the smaller margins win, so without evidence the
    decision stays the argmax. Returns the margins (in ``labels`` order) and that score."""
    low, high, step = grid
    steps = np.round(np.arange(low, high + step / 2, step), 4)
    polar = [i for i, label in enumerate(labels) if label != NEUTRAL]
    if NEUTRAL not in labels or not polar:
        return np.zeros(len(labels)), _tone_metric(y, np.argmax(p, axis=1), len(labels), metric)
    best = (np.zeros(len(labels)), -1.0, 0.0)
    for combo in np.array(np.meshgrid(*[steps] * len(polar))).T.reshape(-1, len(polar)):
        margins = np.zeros(len(labels))
        margins[polar] = combo
        f1 = _tone_metric(y, decide_tone(p, margins), len(labels), metric)
        size = float(np.abs(combo).sum())
        if f1 > best[1] + 1e-9 or (abs(f1 - best[1]) <= 1e-9 and size < best[2]):
            best = (margins, f1, size)
    return best[0], best[1]


class TrainedModels:
    """The fitted vectorizers and models plus what is needed to explain them."""

    def __init__(self, parts: dict[str, Any], lexicons: Lexicons, meta: dict[str, Any]) -> None:
        self.parts = parts
        self.lexicons = lexicons
        self.meta = meta
        self.version: str = meta.get("version", "")
        self.char_vec = _unpack_vectorizer(parts["char"])
        self.word_vec = _unpack_vectorizer(parts["word"])
        self.lexicon_weight = float(parts["lexicon_weight"])
        self.topic_labels: list[str] = list(parts["topic_labels"])
        self.thresholds = np.asarray(parts["thresholds"], dtype=np.float64)
        self.floor = float(parts["floor"])
        self.max_topics = int(parts["max_topics"])
        self.sentiment_labels: list[str] = [str(c) for c in parts["sentiment_labels"]]
        calibrator: LogisticRegression = parts["sentiment_calibrator"]
        # the calibrator's classes are sorted by name; put them in sentiment_labels order
        order = [list(calibrator.classes_).index(c) for c in self.sentiment_labels]
        self._calib_w = calibrator.coef_[order].T
        self._calib_b = calibrator.intercept_[order]
        # models saved before the explicit neutral decision have no margins: plain argmax
        self.tone_margins = np.asarray(parts.get("sentiment_margins", np.zeros(len(self.sentiment_labels))),
                                       dtype=np.float64)
        # One dense weight matrix per task: a document is scored with one sparse product.
        self._topic_w = np.vstack([m.coef_.ravel() if m is not None else np.zeros(self._n_features())
                                   for m in parts["topic_models"]]).T
        self._topic_b = np.array([m.intercept_[0] if m is not None else -50.0 for m in parts["topic_models"]])
        self._sent_w = np.vstack([m.coef_.ravel() for m in parts["sentiment_models"]]).T
        self._sent_b = np.array([m.intercept_[0] for m in parts["sentiment_models"]])
        self._topic_w = np.ascontiguousarray(self._topic_w)
        self._sent_w = np.ascontiguousarray(self._sent_w)
        self._fast_char = _FastTfidf(self.char_vec)
        self._fast_word = _FastTfidf(self.word_vec)
        self._word_offset = len(self.char_vec.vocabulary_)
        self._lex_offset = self._word_offset + len(self.word_vec.vocabulary_)
        self.context = ContextModel.unpack(parts["context"]) if parts.get("context") else None
        self._names: np.ndarray | None = None
        _ = self.feature_names  # built now (tens of ms) rather than inside the first prediction

    def _n_features(self) -> int:
        return len(self.char_vec.vocabulary_) + len(self.word_vec.vocabulary_) + len(self.lexicons.topic_labels) + 3

    @property
    def feature_names(self) -> np.ndarray:
        if self._names is None:
            self._names = np.concatenate([
                np.char.add("char:", self.char_vec.get_feature_names_out().astype(str)),
                np.char.add("word:", self.word_vec.get_feature_names_out().astype(str)),
                np.asarray(lexicon_feature_names(self.lexicons)),
            ])
        return self._names

    def features(self, doc: str, language: str | None = None) -> sp.csr_matrix:
        """The feature row of one prepared document (as used in training)."""
        return _features(self.char_vec, self.word_vec, self.lexicons, self.lexicon_weight, [doc], [language])

    def _sparse_row(self, doc: str, lex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ci, cv = self._fast_char.transform(doc.lower())
        wi, wv = self._fast_word.transform(fold(doc))
        li = np.flatnonzero(lex)
        return (np.concatenate([ci, wi + self._word_offset, li + self._lex_offset]),
                np.concatenate([cv, wv, lex[li] * self.lexicon_weight]))

    def predict(self, title: str | None, text: str | None, language: str | None = None) -> Prediction:
        """Topics, sentiment and reasons for one article. Any input gives an answer: an empty
        or one-word text is classified from what there is and says so in ``note``."""
        doc = prepare(title, text)
        note = None
        if not doc.strip():
            note = "empty text: no evidence, default labels"
        elif len(title or "") + len(text or "") > MAX_TITLE_CHARS + MAX_TEXT_CHARS + 1:
            note = f"long text: read the title and the first {MAX_TEXT_CHARS} characters"
        topic_hits = self.lexicons.topic_hits(doc)
        tone_hits = self.lexicons.tone_hits(doc, language)
        idx, vals = self._sparse_row(doc, _lexicon_vector(self.lexicons, topic_hits, tone_hits))
        topic_p = _sigmoid(vals @ self._topic_w[idx] + self._topic_b)
        sent_scores = vals @ self._sent_w[idx] + self._sent_b
        sent_p = _softmax(sent_scores @ self._calib_w + self._calib_b)
        topics = self._choose_topics(topic_p)
        s = int(decide_tone(sent_p, self.tone_margins)[0])
        sentiment = (self.sentiment_labels[s], float(sent_p[s]))
        reasons = self._reasons(idx, vals, topics, s, topic_hits, tone_hits, sent_p)
        return Prediction(topics, sentiment, reasons, self.version, note,
                          dict(zip(self.topic_labels, (float(v) for v in topic_p), strict=True)))

    def _choose_topics(self, p: np.ndarray) -> list[tuple[str, float]]:
        order = np.argsort(-p)
        best = int(order[0])
        if p[best] < self.floor:
            other = self.topic_labels.index(OTHER) if OTHER in self.topic_labels else None
            return [(OTHER, float(p[other]) if other is not None else float(1 - p[best]))]
        if self.topic_labels[best] == OTHER:
            return [(OTHER, float(p[best]))]
        chosen = [(self.topic_labels[best], float(p[best]))]
        for i in order[1:]:
            label = self.topic_labels[int(i)]
            if len(chosen) >= self.max_topics or p[i] < self.thresholds[i]:
                break
            if label != OTHER:
                chosen.append((label, float(p[i])))
        return chosen

    def _top_features(self, idx: np.ndarray, vals: np.ndarray, weights: np.ndarray) -> list[tuple[str, float]]:
        contrib = vals * weights[idx]
        top = np.argsort(-contrib)[:TOP_FEATURES]
        names = self.feature_names
        return [(str(names[idx[i]]), float(contrib[i])) for i in top if contrib[i] > 0]

    def tone_decision(self, p: np.ndarray, s: int) -> str:
        """The calibrated probabilities and margins behind a tone, in words (shown with the label)."""
        probs = ", ".join(f"{label} {float(v):.2f}" for label, v in zip(self.sentiment_labels, p, strict=True))
        margins = ", ".join(f"{label} {float(m):+.2f}" for label, m in zip(self.sentiment_labels, self.tone_margins,
                                                                            strict=True) if label != NEUTRAL)
        return f"{self.sentiment_labels[s]}: calibrated {probs}; margins over neutral {margins}"

    def _reasons(self, idx: np.ndarray, vals: np.ndarray, topics: list[tuple[str, float]], s: int,
                 topic_hits: dict[str, LexiconHits], tone_hits: dict[str, LexiconHits],
                 sent_p: np.ndarray | None = None) -> list[Reason]:
        reasons = []
        for label, _ in topics:
            if label not in self.topic_labels:
                continue
            i = self.topic_labels.index(label)
            hits = topic_hits.get(label)
            reasons.append(Reason("topic", label, hits.surfaces() if hits else [],
                                  self._top_features(idx, vals, self._topic_w[:, i])))
        label = self.sentiment_labels[s]
        terms: list[str] = []
        if label in ("positive", "negative"):
            terms = [h.surface if not h.negated_by else f"{h.negated_by} … {h.surface}" for h in tone_hits[label].hits]
        reasons.append(Reason("sentiment", label, list(dict.fromkeys(terms)),
                              self._top_features(idx, vals, self._sent_w[:, s]),
                              self.tone_decision(sent_p, s) if sent_p is not None else ""))
        return reasons

    # ------------------------------------------------------------------ persistence

    def save(self, directory: Path) -> None:
        """Write ``models.skops``, ``meta.json`` and the lexicons the models were trained with."""
        import skops.io as sio

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        sio.dump(self.parts, directory / MODEL_FILE)
        self.lexicons.save(directory)
        (directory / META_FILE).write_text(json.dumps(self.meta, ensure_ascii=False, indent=2), encoding="utf-8")


def load(directory: Path) -> TrainedModels:
    """The models saved in ``directory`` by ``TrainedModels.save``. Refuses a file holding any
    type outside ``TRUSTED_TYPES`` (raises ``UntrustedModelError``)."""
    import skops.io as sio

    directory = Path(directory)
    path = directory / MODEL_FILE
    untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
    if untrusted:
        raise UntrustedModelError(f"{path} holds types hpmon does not trust: {', '.join(untrusted)}")
    parts = sio.load(path, trusted=TRUSTED_TYPES)
    meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"{directory}: model format {meta.get('format')!r}, expected {FORMAT_VERSION}")
    return TrainedModels(parts, Lexicons.load(directory), meta)


class UntrustedModelError(ValueError):
    """A model file contains types that could run code when loaded."""


# ---------------------------------------------------------------------------- training


def _features(char_vec: TfidfVectorizer, word_vec: TfidfVectorizer, lexicons: Lexicons, lexicon_weight: float,
              docs: Sequence[str], languages: Sequence[str | None]) -> sp.csr_matrix:
    xc = char_vec.transform([d.lower() for d in docs])
    xw = word_vec.transform([fold(d) for d in docs])
    lex = np.vstack([lexicon_features(lexicons, d, lang) for d, lang in zip(docs, languages, strict=True)])
    return sp.hstack([xc, xw, sp.csr_matrix(lex * lexicon_weight)], format="csr")


def _fit_vectorizers(docs: Sequence[str], config: ModelConfig) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    char_vec = TfidfVectorizer(analyzer="char_wb", ngram_range=config.char_ngrams, sublinear_tf=True,
                               min_df=config.min_df, max_features=config.max_char_features, dtype=np.float64)
    word_vec = TfidfVectorizer(analyzer="word", ngram_range=config.word_ngrams, sublinear_tf=True,
                               min_df=config.min_df, token_pattern=r"(?u)\b\w+\b", lowercase=False,
                               dtype=np.float64)
    char_vec.fit([d.lower() for d in docs])
    word_vec.fit([fold(d) for d in docs])
    return char_vec, word_vec


def _fit_topic_models(x: sp.csr_matrix, y: np.ndarray, w: np.ndarray,
                      config: ModelConfig) -> list[LogisticRegression | None]:
    models: list[LogisticRegression | None] = []
    for j in range(y.shape[1]):
        if y[:, j].min() == y[:, j].max():
            models.append(None)  # a label with no (or only) positives: never predicted
            continue
        m = LogisticRegression(C=config.topic_c, class_weight="balanced", solver="liblinear", dual=True, max_iter=1000)
        m.fit(x, y[:, j], sample_weight=w)
        models.append(m)
    return models


def _fit_sentiment(x: sp.csr_matrix, y: np.ndarray, w: np.ndarray, config: ModelConfig,
                   classes: Sequence[str]) -> list[LogisticRegression]:
    """One-vs-rest scorers, one per sentiment class (fast on wide sparse features)."""
    models = []
    for label in classes:
        m = LogisticRegression(C=config.sentiment_c, class_weight="balanced", solver="liblinear", dual=True,
                               max_iter=1000)
        m.fit(x, (y == label).astype(np.int64), sample_weight=w)
        models.append(m)
    return models


def _decision(models: list[LogisticRegression], x: sp.csr_matrix) -> np.ndarray:
    return np.column_stack([m.decision_function(x) for m in models])


def _proba(models: list[LogisticRegression | None], x: sp.csr_matrix) -> np.ndarray:
    return np.column_stack([m.predict_proba(x)[:, 1] if m is not None else np.zeros(x.shape[0]) for m in models])


def _best_threshold(p: np.ndarray, y: np.ndarray, lowest: float) -> tuple[float, float]:
    best = (0.5, -1.0)
    for t in np.arange(lowest, 0.91, 0.05):
        pred = p >= t
        tp = float(np.sum(pred & (y == 1)))
        f1 = 2 * tp / (pred.sum() + y.sum()) if pred.sum() + y.sum() else 0.0
        if f1 > best[1] + 1e-9:
            best = (round(float(t), 2), f1)
    return best


def _tone_outlet_weights(examples: Sequence[Example], cap: float) -> np.ndarray:
    """A weight per example that makes the tones count alike within each outlet kind: an
    example of a tone its outlet rarely has weighs more (up to ``cap``), of a tone it mostly
    has less, so that the register of an outlet (state media's upbeat vocabulary, a wire's
    flat one) is not learnt as tone. Examples without an outlet kind, or without a tone, keep 1."""
    cells = Counter((ex.outlet_kind, ex.sentiment) for ex in examples if ex.outlet_kind and ex.sentiment)
    if not cells:
        return np.ones(len(examples))
    per_outlet = Counter()
    per_tone = Counter()
    for (outlet, tone), n in cells.items():
        per_outlet[outlet] += n
        per_tone[tone] += n
    total = sum(per_tone.values())
    w = np.ones(len(examples))
    marked = []
    for i, ex in enumerate(examples):
        if ex.outlet_kind and ex.sentiment:
            share_here = cells[(ex.outlet_kind, ex.sentiment)] / per_outlet[ex.outlet_kind]
            w[i] = float(np.clip((per_tone[ex.sentiment] / total) / share_here, 1.0 / cap, cap))
            marked.append(i)
    w[marked] /= w[marked].mean()  # the balance moves weight between examples, it adds none
    return w


def _training_hash(examples: Iterable[Example], config: ModelConfig) -> str:
    h = hashlib.sha256(json.dumps(asdict(config), sort_keys=True).encode())
    for ex in examples:
        h.update(json.dumps([ex.id, ex.title, ex.text, ex.topics, ex.sentiment], ensure_ascii=False).encode())
    return h.hexdigest()[:10]


def _fit_context(examples: Sequence[Example], oof_topics: np.ndarray, topic_labels: list[str],
                 sensitive: SensitiveDetector) -> tuple[dict | None, dict]:
    """The sensitive-context decision fitted on the corpus's ``sensitive`` labels, with the
    topic probabilities each example would get unseen (out-of-fold)."""
    subjects = {t: list(v) for t, v in sensitive.rule.weak_term_with_topic.items()}
    rows = []
    for ex, p in zip(examples, oof_topics, strict=True):
        result = sensitive.detect(ex.title, ex.text, ex.lang)
        topic_p = dict(zip(topic_labels, (float(v) for v in p), strict=True))
        for cand in candidates(result, ex.title, ex.text, topic_p, topic_labels, subjects):
            rows.append((cand, cand.theme in ex.sensitive))
    try:
        model, scores = train_context(rows, topic_labels, subjects)
    except ValueError as exc:
        return None, {"skipped": str(exc)}
    return model.pack(), scores


def _fit_tone_margins(scores: np.ndarray, y: np.ndarray, w: np.ndarray, classes: list[str], config: ModelConfig,
                      folds: StratifiedKFold) -> tuple[np.ndarray, dict]:
    """The polar labels' margins over neutral, chosen on probabilities that are out-of-fold twice
    over: the scorers' out-of-fold scores, calibrated by a calibrator that did not see the row."""
    idx = np.array([classes.index(c) for c in y])
    p = np.zeros((len(y), len(classes)))
    for fit_idx, held_idx in folds.split(np.zeros(len(y)), y):
        cal = LogisticRegression(C=config.calibration_c, max_iter=1000)
        cal.fit(scores[fit_idx], y[fit_idx], sample_weight=w[fit_idx])
        order = [list(cal.classes_).index(c) for c in classes]
        p[held_idx] = cal.predict_proba(scores[held_idx])[:, order]
    plain = decide_tone(p, np.zeros(len(classes)))
    if config.tone_margins:
        margins, _ = choose_tone_margins(p, idx, classes, config.tone_margin_grid, config.tone_margin_metric)
    else:
        margins = np.zeros(len(classes))
    chosen = decide_tone(p, margins)
    confusion = {g: {c: int(np.sum((idx == i) & (chosen == j))) for j, c in enumerate(classes)}
                 for i, g in enumerate(classes)}
    return margins, {
        "margins": {c: round(float(m), 2) for c, m in zip(classes, margins, strict=True) if c != NEUTRAL},
        "oof_macro_f1_argmax": round(_macro_f1(idx, plain, len(classes)), 4),
        "oof_accuracy_argmax": round(float(np.mean(plain == idx)), 4),
        "metric": config.tone_margin_metric if config.tone_margins else None,
        "oof_macro_f1": round(_macro_f1(idx, chosen, len(classes)), 4),
        "oof_accuracy": round(float(np.mean(chosen == idx)), 4),
        "oof_confusion": confusion,
    }


def train(examples: Sequence[Example], corrections: Sequence[Example] = (), *, lexicons: Lexicons,
          config: ModelConfig | None = None, sensitive: SensitiveDetector | None = None) -> TrainedModels:
    """Models fitted on ``examples`` plus analysts' ``corrections`` (weighted higher), with
    per-label thresholds tuned on out-of-fold probabilities; ``meta`` holds the CV scores."""
    config = config or ModelConfig()
    started = time.perf_counter()
    base = [ex for ex in examples if (ex.title + ex.text).strip()]
    fixes = [ex for ex in corrections if (ex.title + ex.text).strip()]
    data = base + fixes
    weights = np.array([1.0] * len(base) + [config.correction_weight] * len(fixes))
    if not data:
        raise ValueError("no training examples")
    docs = [prepare(ex.title, ex.text) for ex in data]
    langs = [ex.lang for ex in data]
    char_vec, word_vec = _fit_vectorizers(docs, config)
    x = _features(char_vec, word_vec, lexicons, config.lexicon_weight, docs, langs)

    seen = {t for ex in data for t in ex.topics}
    topic_labels = [t for t in lexicons.topic_labels if t in seen] + sorted(seen - set(lexicons.topic_labels))
    topic_rows = np.array([bool(ex.topics) for ex in data])
    y_topics = np.array([[int(t in ex.topics) for t in topic_labels] for ex in data], dtype=np.int64)
    sent_rows = np.array([ex.sentiment is not None for ex in data])
    y_sent = np.array([ex.sentiment or "" for ex in data])
    if len(set(y_sent[sent_rows])) < 2:
        raise ValueError("sentiment needs examples of at least two classes")
    sent_weights = weights * (_tone_outlet_weights(data, config.tone_balance_cap) if config.tone_outlet_balance
                              else 1.0)

    # Out-of-fold probabilities: thresholds for topics, honest-ish scores for meta.json.
    strata = np.array([f"{ex.lang}:{ex.sentiment}" for ex in data])
    counts = Counter(strata)
    strata = np.array([s if counts[s] >= config.threshold_folds else "rare" for s in strata])
    folds = StratifiedKFold(n_splits=config.threshold_folds, shuffle=True, random_state=config.seed)
    oof_topics = np.zeros(y_topics.shape)
    classes = sorted({str(c) for c in y_sent[sent_rows]}, key=lambda c: SENTIMENTS.index(c) if c in SENTIMENTS else 99)
    oof_scores = np.zeros((len(data), len(classes)))
    for fit_idx, held_idx in folds.split(np.zeros(len(data)), strata):
        t_idx = fit_idx[topic_rows[fit_idx]]
        oof_topics[held_idx] = _proba(_fit_topic_models(x[t_idx], y_topics[t_idx], weights[t_idx], config), x[held_idx])
        s_idx = fit_idx[sent_rows[fit_idx]]
        oof_scores[held_idx] = _decision(_fit_sentiment(x[s_idx], y_sent[s_idx], sent_weights[s_idx], config,
                                                        classes), x[held_idx])
    thresholds, cv_f1 = [], {}
    for j, label in enumerate(topic_labels):
        t, f1 = _best_threshold(oof_topics[topic_rows, j], y_topics[topic_rows, j], config.min_threshold)
        thresholds.append(t)
        cv_f1[label] = round(f1, 4)
    # The calibrator: a multinomial model over the scorers' out-of-fold scores, so the
    # probabilities are those of unseen articles, not of the training set.
    calibrator = LogisticRegression(C=config.calibration_c, max_iter=1000)
    calibrator.fit(oof_scores[sent_rows], y_sent[sent_rows], sample_weight=weights[sent_rows])
    sent_acc = float(np.mean(np.asarray(classes)[np.argmax(oof_scores[sent_rows], axis=1)] == y_sent[sent_rows]))
    margins, tone_scores = _fit_tone_margins(oof_scores[sent_rows], y_sent[sent_rows], weights[sent_rows], classes,
                                             config, folds)

    topic_models = _fit_topic_models(x[topic_rows], y_topics[topic_rows], weights[topic_rows], config)
    sentiment = _fit_sentiment(x[sent_rows], y_sent[sent_rows], sent_weights[sent_rows], config, classes)
    parts = {
        "char": _pack_vectorizer(char_vec), "word": _pack_vectorizer(word_vec),
        "lexicon_weight": float(config.lexicon_weight),
        "topic_labels": topic_labels, "topic_models": topic_models, "thresholds": np.array(thresholds),
        "floor": float(config.floor), "max_topics": int(config.max_topics), "sentiment_labels": classes,
        "sentiment_models": sentiment, "sentiment_calibrator": calibrator, "sentiment_margins": margins,
    }
    context_scores: dict = {"skipped": "no sensitive detector given"}
    if sensitive is not None:  # the corpus's own examples only: corrections carry no sensitive labels
        parts["context"], context_scores = _fit_context(base, oof_topics[: len(base)], topic_labels, sensitive)
    now = datetime.now(UTC)
    meta = {
        "format": FORMAT_VERSION,
        "version": f"{now:%Y%m%d}-{_training_hash(data, config)}",
        "trained_at": now.isoformat(timespec="seconds"),
        "training_seconds": round(time.perf_counter() - started, 2),
        "n_examples": len(data),
        "n_corrections": len(fixes),
        "n_examples_per_language": dict(sorted(Counter(ex.lang or "?" for ex in data).items())),
        "topic_labels": topic_labels,
        "sentiment_labels": classes,
        "thresholds": dict(zip(topic_labels, thresholds, strict=True)),
        "n_features": int(x.shape[1]),
        "config": asdict(config),
        "cv": {"folds": config.threshold_folds, "note": "out-of-fold, vectorizers fitted on all data",
               "topic_f1": cv_f1, "topic_macro_f1": round(float(np.mean(list(cv_f1.values()))), 4),
               "sentiment_accuracy": round(sent_acc, 4), "tone_decision": tone_scores,
               "sensitive_context": context_scores},
    }
    models = TrainedModels(parts, lexicons, meta)
    log.info("trained %s on %d examples in %.1fs", meta["version"], len(data), meta["training_seconds"])
    return models

