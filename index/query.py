"""The query model shared by every backend: the search syntax and the request/response types.

Syntax (as in ``hpmon search`` and the web app): words are ANDed; ``"quoted words"`` form a
phrase; ``-word`` or ``-"a phrase"`` excludes; ``a OR b`` matches either (OR binds tighter than
the implicit AND, so ``port "Hai Phong" OR Haiphong`` means port AND ("Hai Phong" OR Haiphong)).
Matching ignores case and diacritics. A query made only of exclusions matches everything else.

Vietnamese is written in syllables, not words: consecutive bare words that are each a Vietnamese
syllable (with or without diacritics) form one phrase, so ``da nang`` finds "Đà Nẵng" and not
"đã ... nâng". With a thesaurus the run is split at the words it knows (``hải phòng đồ sơn`` is
"hải phòng" AND "đồ sơn"); quotes always delimit words (``"hải phòng" "đồ sơn"``). See
docs/search.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from hpbase.text import fold
from index.article import FACET_FIELDS, Article
from index.text import WORD


class QuerySyntaxError(ValueError):
    """The query string cannot be understood (e.g. an unclosed quote)."""


Label = tuple[str, str]  # (facet of FACET_FIELDS, value), e.g. ("topic", "sovereignty")


@dataclass(frozen=True)
class Clause:
    """Alternatives: matches when any of its phrases matches. A phrase is the user's text (one word
    or several consecutive words).

    What a thesaurus adds (``index.thesaurus``): ``names``, other spellings of what a phrase names,
    matched as phrases; ``prefixes``, spellings whose last word may continue (Хайфон finds
    Хайфоне); ``labels``, (facet, value) pairs whose articles match too. Articles matching the
    user's own words rank first, then those matching another spelling, then those matching a label."""

    phrases: tuple[str, ...]
    prefixes: tuple[str, ...] = ()
    labels: tuple[Label, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def expanded(self) -> bool:
        return bool(self.names or self.prefixes or self.labels)


@dataclass(frozen=True)
class Expansion:
    """What the thesaurus added for one phrase of the user's query (shown under the search box)."""

    phrase: str
    names: tuple[str, ...] = ()  # other spellings searched as well
    labels: tuple[Label, ...] = ()  # labels whose articles match too


@dataclass(frozen=True)
class ParsedQuery:
    must: tuple[Clause, ...] = ()
    must_not: tuple[Clause, ...] = ()
    expansions: tuple[Expansion, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.must and not self.must_not

    def positive_phrases(self) -> list[str]:
        """Every phrase the hits may contain (for highlighting)."""
        return [p for c in self.must for p in (*c.phrases, *c.names, *c.prefixes)]

    @property
    def has_labels(self) -> bool:
        return any(c.labels for c in self.must)

    @property
    def is_expanded(self) -> bool:
        """True when a thesaurus added names or labels (the hits are then ranked in tiers)."""
        return any(c.expanded for c in self.must)


_TOKEN = re.compile(r'\s*(-?)(?:"([^"]*)"|(\S+))')

# A Vietnamese syllable, folded (no diacritics, đ -> d): onset, one to three vowels, final consonant.
_SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|[bcdghklmnpqrstvx])?[aeiouy]{1,3}"
                       r"(?:ch|ng|nh|[cmnpt])?")


def is_vietnamese_syllable(word: str) -> bool:
    """True when ``word`` can be one Vietnamese syllable, written with or without diacritics
    (``nẵng``, ``nang``, ``quyen``; not ``port``, ``storm``)."""
    folded = fold(word)
    return folded.isascii() and _SYLLABLE.fullmatch(folded) is not None


class Thesaurus(Protocol):
    """What the query parser asks of a thesaurus (``index.thesaurus.Thesaurus``)."""

    def segment(self, words: list[str]) -> list[str]:
        """The words of one run of Vietnamese syllables grouped into the phrases to search."""

    def lookup(self, phrase: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Label, ...]]:
        """(other spellings, other spellings matched as a prefix, labels) for a phrase."""


def _items(text: str, thesaurus: Thesaurus | None) -> list[tuple[bool, str, bool] | str]:
    """The query's tokens: (negated, phrase, quoted) or "OR". Consecutive bare words that are
    Vietnamese syllables are one word written in syllables: they become one phrase (adjacent, in
    order), split at the words the thesaurus knows (``hải phòng đồ sơn`` -> two phrases)."""
    items: list[tuple[bool, str, bool] | str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            groups = thesaurus.segment(run) if thesaurus is not None else [" ".join(run)]
            items.extend((False, g, False) for g in groups)
            run.clear()

    for m in _TOKEN.finditer(text):
        negated, quoted, bare = m.group(1) == "-", m.group(2), m.group(3)
        if bare == "OR" and not negated:
            flush()
            items.append("OR")
            continue
        phrase = (quoted if quoted is not None else bare or "").strip()
        if not phrase or not any(ch.isalnum() for ch in phrase):
            continue
        words = WORD.findall(phrase)
        if quoted is None and not negated and len(words) == 1 and is_vietnamese_syllable(words[0]):
            run.append(phrase)
            continue
        flush()
        items.append((negated, phrase, quoted is not None))
    flush()
    return items


def parse_query(text: str, thesaurus: Thesaurus | None = None) -> ParsedQuery:
    """Parse the search syntax into clauses. Raises QuerySyntaxError on an unclosed quote.

    With a ``thesaurus``, each unquoted phrase of the positive part also matches the other names of
    the entity it names (``hai phong`` -> Haiphong, 海防, ...) and the labels it names
    (``chủ quyền`` -> topic and theme sovereignty); quotes switch that off."""
    if text.count('"') % 2:
        raise QuerySyntaxError("unclosed quote in query")
    must: list[Clause] = []
    must_not: list[Clause] = []
    expansions: list[Expansion] = []
    group: list[tuple[str, bool]] = []
    group_negated = False
    pending_or = False

    def close() -> None:
        if not group:
            return
        if group_negated:
            must_not.append(Clause(tuple(p for p, _ in group)))
            return
        must.append(_expand(group, thesaurus, expansions))

    for item in _items(text, thesaurus):
        if item == "OR":
            pending_or = bool(group)
            continue
        negated, phrase, quoted = item
        if pending_or and not negated and not group_negated:
            group.append((phrase, quoted))
        else:
            close()
            group, group_negated = [(phrase, quoted)], negated
        pending_or = False
    close()
    return ParsedQuery(tuple(must), tuple(must_not), tuple(expansions))


def _expand(group: list[tuple[str, bool]], thesaurus: Thesaurus | None, expansions: list[Expansion]) -> Clause:
    """The clause of a positive group of alternatives, with what the thesaurus adds to each
    unquoted phrase (recorded in ``expansions``)."""
    phrases = tuple(p for p, _ in group)
    if thesaurus is None:
        return Clause(phrases)
    seen = {fold(p) for p in phrases}
    seen_prefixes: set[str] = set()
    names: list[str] = []
    prefixes: list[str] = []
    labels: list[Label] = []
    for phrase, quoted in group:
        if quoted:
            continue
        found_names, prefix_names, found_labels = thesaurus.lookup(phrase)
        added = []
        for name in found_names:
            if fold(name) not in seen:
                seen.add(fold(name))
                names.append(name)
                added.append(name)
        for name in prefix_names:
            if fold(name) not in seen_prefixes:
                seen_prefixes.add(fold(name))
                prefixes.append(name)
                added.append(name)
        new_labels = [lb for lb in found_labels if lb not in labels]
        labels.extend(new_labels)
        if added or new_labels:
            expansions.append(Expansion(phrase, tuple(added), tuple(new_labels)))
    return Clause(phrases, tuple(prefixes), tuple(labels), tuple(names))


SortOrder = Literal["relevance", "date"]


@dataclass
class SearchQuery:
    """A search request: the query text plus filters, paging and what to compute.

    ``filters`` maps a facet name (``FACET_FIELDS``: language, source, country, scope, topic,
    sentiment, theme, ...) to the accepted values (any of them). ``since``/``until`` bound the
    article's date (publication, else fetch), inclusive.
    """

    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    since: datetime | None = None
    until: datetime | None = None
    min_risk: float | None = None
    sort: SortOrder = "relevance"
    limit: int = 20
    offset: int = 0
    facets: bool = False
    facet_size: int = 20
    # other names and labels of what the query names (index.thesaurus); None searches the text only
    thesaurus: Thesaurus | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.filters) - set(FACET_FIELDS)
        if unknown:
            raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        self.filters = {k: [str(v) for v in vals] for k, vals in self.filters.items() if vals}

    @property
    def parsed(self) -> ParsedQuery:
        return parse_query(self.text, self.thesaurus)


@dataclass
class Snippet:
    """A short passage of the article with the spans (start, end) that matched the query."""

    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Hit:
    article: Article
    score: float
    snippet: Snippet


@dataclass
class SearchResult:
    """``timed_out``: the engine's time limit was reached, so the counts (facets, or the total and
    hits on Elasticsearch) may be partial; the page says so."""

    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    timed_out: bool = False


class Histogram(list):
    """Counts per bucket (a list of (key, count), oldest first) that knows whether the engine's time
    limit cut it short (``timed_out``: the counts are partial or missing)."""

    def __init__(self, buckets=(), *, timed_out: bool = False) -> None:
        super().__init__(buckets)
        self.timed_out = timed_out
