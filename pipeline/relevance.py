"""The relevance stage: is this article about the city, how much, and why."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from classifiers.terms import Match, adjacent
from pipeline.city import CityProfile, Entry

# How much a mention counts by where it is; the opening is the first part of the body.
FIELD_FACTORS = {"title": 2.0, "lead": 1.5, "opening": 1.5, "body": 1.0}
OPENING_CHARS = 500
REPEAT_DECAY = 0.5  # each further mention of the same term counts half the previous one


@dataclass
class TermHit:
    term: str
    kind: str
    field: str
    surface: str
    start: int
    end: int


@dataclass
class Rejected:
    term: str
    surface: str
    field: str
    reason: str
    kind: str = "confusion"  # confusion | same_sense | validity | ambiguous


@dataclass
class Relevance:
    """The relevance verdict with its evidence. ``score`` is the hand formula's sum of the
    mentions; ``relevant`` is decided by the learned model (``pipeline/about.py``) when one is
    loaded, with its ``probability``, else by ``score >= profile.threshold``; ``decided_by``
    and ``why`` say which and how."""

    score: float
    relevant: bool
    terms: list[str] = field(default_factory=list)
    hits: list[TermHit] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    probability: float | None = None
    decided_by: str = "formula"  # formula | model
    why: str = ""

    def to_dict(self) -> dict:
        return {
            "score": round(self.score, 4),
            "probability": None if self.probability is None else round(self.probability, 4),
            "decided_by": self.decided_by,
            "why": self.why,
            "terms": self.terms,
            "hits": [h.__dict__ for h in self.hits],
            "rejected": [r.__dict__ for r in self.rejected],
        }


class Decider(Protocol):
    """What decides relevance from the evidence (``pipeline.about.AboutModel``)."""

    def decide(self, relevance: Relevance, *, title: str, text: str, lead: str = "") -> tuple[float, bool, str]:
        """(probability, relevant, why)."""
        ...


def _confusion(profile: CityProfile, text: str, match: Match) -> str | None:
    entry: Entry = match.term.data
    for confusion in profile.confusions:
        if entry.term not in confusion.terms:
            continue
        if confusion.preceded_by and adjacent(text, match, confusion.preceded_by, "before"):
            return confusion.reason
        if confusion.followed_by and adjacent(text, match, confusion.followed_by, "after"):
            return confusion.reason
    return None


def _has_context(text: str, match: Match, entry: Entry) -> bool:
    window = text[max(0, match.start - entry.window) : match.end + entry.window].casefold()
    return any(c.casefold() in window for c in entry.context)


def _one_sense_per_article(accepted: list, rejected: list[Rejected]) -> list:
    """Once a name is shown to mean something else in an article (a person, a ship), its
    other bare mentions there mean the same (one sense per discourse), unless the article
    also names the city in another way."""
    confused = {r.term: r.reason for r in rejected if r.kind == "confusion"}
    if not confused:
        return accepted
    if any(m.term.data.term not in confused for _, m, _ in accepted):
        return accepted
    kept = []
    for where, match, field_text in accepted:
        term = match.term.data.term
        if term in confused:
            rejected.append(Rejected(term, match.surface, where, f"same name as a rejected mention: {confused[term]}",
                                     "same_sense"))
        else:
            kept.append((where, match, field_text))
    return kept


def score_relevance(profile: CityProfile, *, title: str, text: str, lead: str = "", day: date,
                    about: Decider | None = None) -> Relevance:
    """Score how much an article is about the city, judged by the map valid on ``day``
    (its publication date). Mentions in the title and opening count more; repeated
    mentions count less each time; ambiguous names need context; confusions are rejected.

    With ``about`` (the learned model of ``pipeline/about.py``) the model decides from the
    evidence whether the article is about the city; without it the score decides at the
    profile's threshold. A model that fails on an article leaves the decision to the score."""
    fields = [("title", title)]
    if lead and lead.strip() not in text:
        fields.append(("lead", lead))
    fields.append(("body", text))
    accepted: list[tuple[str, Match, str]] = []  # (field, match, field text)
    ambiguous: list[tuple[str, Match, str]] = []
    rejected: list[Rejected] = []
    for field_name, field_text in fields:
        if not field_text:
            continue
        for match in profile.matcher.find(field_text):
            entry: Entry = match.term.data
            where = field_name
            if field_name == "body" and match.start < OPENING_CHARS:
                where = "opening"
            if not entry.valid_on(day):
                span = f"{entry.valid_from or '…'} to {entry.valid_until or '…'}"
                rejected.append(Rejected(entry.term, match.surface, where, f"valid only {span}, article dated {day}",
                                         "validity"))
                continue
            reason = _confusion(profile, field_text, match)
            if reason:
                rejected.append(Rejected(entry.term, match.surface, where, reason))
                continue
            (ambiguous if entry.ambiguous else accepted).append((where, match, field_text))
    accepted = _one_sense_per_article(accepted, rejected)
    have_certain = bool(accepted)
    for where, match, field_text in ambiguous:
        entry = match.term.data
        if have_certain or _has_context(field_text, match, entry):
            accepted.append((where, match, field_text))
        else:
            rejected.append(Rejected(entry.term, match.surface, where, "ambiguous name without context", "ambiguous"))
    by_entry: dict[Entry, list[float]] = {}
    hits: list[TermHit] = []
    for where, match, _ in accepted:
        entry = match.term.data
        by_entry.setdefault(entry, []).append(FIELD_FACTORS[where])
        hits.append(TermHit(entry.term, entry.kind, where, match.surface, match.start, match.end))
    contributions: dict[str, float] = {}
    for entry, factors in by_entry.items():
        factors.sort(reverse=True)
        value = entry.weight * sum(f * REPEAT_DECAY**k for k, f in enumerate(factors))
        contributions[entry.term] = contributions.get(entry.term, 0.0) + value
    total = sum(contributions.values())
    score = 1.0 - math.exp(-total)
    terms = sorted(contributions, key=lambda t: -contributions[t])
    result = Relevance(score=score, relevant=score >= profile.threshold, terms=terms, hits=hits, rejected=rejected,
                       why=f"hand formula: score {score:.2f} (threshold {profile.threshold:.2f})")
    if about is None:
        result.why += "; no learned model loaded"
        return result
    try:
        probability, relevant, why = about.decide(result, title=title, text=text, lead=lead)
    except (ValueError, ArithmeticError, IndexError) as exc:  # a model that does not fit: the formula stays
        result.why += f"; learned model failed ({exc})"
        return result
    result.probability, result.relevant, result.decided_by, result.why = probability, relevant, "model", why
    return result
