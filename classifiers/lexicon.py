"""The analysts' topic and tone lexicons (``config/lexicons/``), matched in any language.

A lexicon hit is evidence shown next to a label ("port_logistics: Lạch Huyện, container") and
a feature of the trained models. Tone terms are read together with negators: a positive term
under negation ("không thành công", "not successful", "成功しなかった") counts as negative, a
negated negative term ("no corruption") is cancelled rather than turned positive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from classifiers.terms import Match, Term, TermMatcher, make_term, normalize

TONES = ("negative", "positive")
#: Languages whose negation follows the word it negates (成功しなかった, 성공하지 않았다).
NEGATE_AFTER = frozenset({"ja", "ko"})
#: Languages written without spaces: windows are counted in characters, not words.
NONSPACED = frozenset({"zh", "ja", "ko", "th"})
NEGATION_WORDS = 3  # a negator at most this many words before a tone term negates it
NEGATION_WORDS_VI = 4  # Vietnamese words are syllables
NEGATION_CHARS_BEFORE = 4
NEGATION_CHARS_AFTER = 6
_SENTENCE_END = re.compile(r"[.!?。！？\n]")
_WORDS = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Hit:
    """One lexicon term found in a text: the term as listed, the text as written, where."""

    term: str
    surface: str
    start: int
    end: int
    negated_by: str | None = None  # the negator's surface, when negation changed this hit

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"term": self.term, "surface": self.surface, "span": [self.start, self.end]}
        if self.negated_by:
            d["negated_by"] = self.negated_by
        return d


@dataclass
class LexiconHits:
    """The hits of one label (a topic, or a tone) in one text."""

    label: str
    hits: list[Hit] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.hits)

    def surfaces(self) -> list[str]:
        """Distinct matched surfaces, in order of first appearance (what an analyst reads)."""
        return list(dict.fromkeys(h.surface for h in self.hits))


@dataclass(frozen=True)
class _Entry:
    labels: frozenset[str]  # topic labels, or the tone ("positive"/"negative")
    langs: frozenset[str]


def _term_spec(raw: Any) -> tuple[str, str | None]:
    if isinstance(raw, dict):
        return str(raw["term"]), raw.get("match")
    return str(raw), None


class _Matcher:
    """A TermMatcher that skips the substring terms (CJK, Thai) whose first character is not in
    the text: the same matches, several times faster on long texts in alphabetic scripts."""

    def __init__(self, terms: list[Term]) -> None:
        self.terms = terms
        self._words = TermMatcher(t for t in terms if t.mode != "substring")
        self._by_first: dict[str, list[Term]] = {}
        for t in terms:
            if t.mode == "substring":
                self._by_first.setdefault(t.text.casefold()[0], []).append(t)

    def find(self, text: str) -> list[Match]:
        text = normalize(text)
        found = self._words.find(text)
        if not self._by_first:
            return found
        chars = set(text.casefold())
        subs = [t for ch in chars & self._by_first.keys() for t in self._by_first[ch]]
        if not subs:
            return found
        merged = sorted(found + TermMatcher(subs).find(text), key=lambda m: (m.start, -(m.end - m.start)))
        chosen: list[Match] = []
        last_end = -1
        for m in merged:
            if m.start >= last_end:
                chosen.append(m)
                last_end = m.end
        return chosen


def _build_matcher(entries: Iterable[tuple[str, str | None, str, str]]) -> _Matcher:
    """A matcher over (term, mode, label, lang) entries; a term listed under several labels or
    languages becomes one Term whose data carries all of them (else only one would match)."""
    merged: dict[tuple[str, str | None], tuple[set[str], set[str]]] = {}
    for text, mode, label, lang in entries:
        labels, langs = merged.setdefault((normalize(text.strip()), mode), (set(), set()))
        labels.add(label)
        langs.add(lang)
    terms: list[Term] = []
    for (text, mode), (labels, langs) in merged.items():
        try:
            terms.append(make_term(text, mode, _Entry(frozenset(labels), frozenset(langs))))  # type: ignore[arg-type]
        except ValueError:
            continue  # an empty or symbol-only term in an analyst's edit is skipped, not fatal
    return _Matcher(terms)


def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


class Lexicons:
    """Topic and tone lexicons, compiled once; ``topic_hits``/``tone_hits`` per text."""

    def __init__(self, topics: dict[str, dict[str, list[Any]]], tone: dict[str, Any]) -> None:
        self.topic_labels: list[str] = list(topics)
        self._topics = _build_matcher(
            (*_term_spec(raw), label, lang)
            for label, by_lang in topics.items() for lang, terms in (by_lang or {}).items() for raw in terms or ()
        )
        self._tone = _build_matcher(
            (*_term_spec(raw), polarity, lang)
            for polarity in TONES for lang, terms in (tone.get(polarity) or {}).items() for raw in terms or ()
        )
        self._negators = _build_matcher(
            (*_term_spec(raw), "negator", lang)
            for lang, terms in (tone.get("negators") or {}).items() for raw in terms or ()
        )
        exceptions = tone.get("negator_exceptions") or {}
        self._exceptions = _build_matcher(
            (*_term_spec(raw), "exception", lang) for lang, terms in exceptions.items() for raw in terms or ()
        ) if exceptions else None
        self.source = {"topics": topics, "tone": tone}

    @classmethod
    def load(cls, config_dir: Path) -> Lexicons:
        """The lexicons in ``config_dir/lexicons/{topics,tone}.yaml``."""
        topics = _read_yaml(Path(config_dir) / "lexicons" / "topics.yaml").get("topics") or {}
        tone = _read_yaml(Path(config_dir) / "lexicons" / "tone.yaml")
        return cls(topics, tone)

    def save(self, config_dir: Path) -> None:
        """Write the lexicons as ``config_dir/lexicons/*.yaml`` (a model keeps the copy it was trained with)."""
        folder = Path(config_dir) / "lexicons"
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in (("topics", {"version": 1, "topics": self.source["topics"]}), ("tone", self.source["tone"])):
            (folder / f"{name}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                                encoding="utf-8")

    def topic_hits(self, text: str) -> dict[str, LexiconHits]:
        """Hits per topic label (every label present, possibly with no hits)."""
        out = {label: LexiconHits(label) for label in self.topic_labels}
        for m in self._topics.find(text):
            for label in m.term.data.labels:
                out.setdefault(label, LexiconHits(label)).hits.append(Hit(m.term.text, m.surface, m.start, m.end))
        return out

    def tone_hits(self, text: str, language: str | None = None) -> dict[str, LexiconHits]:
        """Hits per tone after negation: keys ``positive``, ``negative`` and ``cancelled``
        (negated negative terms, kept so the reasons can show them)."""
        text = normalize(text)
        out = {k: LexiconHits(k) for k in ("positive", "negative", "cancelled")}
        matches = self._tone.find(text)
        if not matches:
            return out
        negators = self._usable_negators(text)
        for m in matches:
            entry: _Entry = m.term.data
            polarity = "positive" if "positive" in entry.labels else "negative"
            langs = entry.langs | ({language} if language else set())
            neg = self._negator_for(text, m, negators, langs)
            hit = Hit(m.term.text, m.surface, m.start, m.end, neg.surface if neg else None)
            if neg is None:
                out[polarity].hits.append(hit)
            elif polarity == "positive":
                out["negative"].hits.append(hit)
            else:
                out["cancelled"].hits.append(hit)
        return out

    def _usable_negators(self, text: str) -> list[Match]:
        found = self._negators.find(text)
        if not found or self._exceptions is None:
            return [m for m in found if not _is_number_sign(text, m)]
        blocked = [(e.start, e.end) for e in self._exceptions.find(text)]
        return [m for m in found
                if not _is_number_sign(text, m) and not any(s <= m.start and m.end <= e for s, e in blocked)]

    @staticmethod
    def _negator_for(text: str, term: Match, negators: list[Match], langs: set[str]) -> Match | None:
        nonspaced = bool(langs & NONSPACED) and not (langs - NONSPACED)
        after = bool(langs & NEGATE_AFTER)
        best: Match | None = None
        for neg in negators:
            if not (neg.term.data.langs & langs):
                continue
            if neg.end <= term.start:
                gap = text[neg.end : term.start]
                if _SENTENCE_END.search(gap):
                    continue
                if nonspaced:
                    if len(gap.strip()) <= NEGATION_CHARS_BEFORE:
                        best = neg
                else:
                    limit = NEGATION_WORDS_VI if "vi" in langs else NEGATION_WORDS
                    if len(_WORDS.findall(gap)) < limit:
                        best = neg  # negators come in text order: the last one is the nearest
            elif best is None and after and neg.start >= term.end:
                gap = text[term.end : neg.start]
                if not _SENTENCE_END.search(gap) and len(gap) <= NEGATION_CHARS_AFTER:
                    return neg
            elif neg.start >= term.end:
                break
        return best


def _is_number_sign(text: str, m: Match) -> bool:
    """``No. 1`` / ``no 1`` is a rank, not a negation."""
    return m.surface.casefold() == "no" and re.match(r"\.?\s*\d", text[m.end : m.end + 4]) is not None
