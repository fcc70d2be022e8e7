"""The query model shared by every backend: the search syntax and the request/response types.

Syntax (as in ``hpmon search`` and the web app): words are ANDed; ``"quoted words"`` form a
phrase; ``-word`` or ``-"a phrase"`` excludes; ``a OR b`` matches either (OR binds tighter than
the implicit AND, so ``port "Hai Phong" OR Haiphong`` means port AND ("Hai Phong" OR Haiphong)).
Matching ignores case and diacritics. A query made only of exclusions matches everything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from index.article import FACET_FIELDS, Article


class QuerySyntaxError(ValueError):
    """The query string cannot be understood (e.g. an unclosed quote)."""


@dataclass(frozen=True)
class Clause:
    """Alternatives: matches when any of its phrases matches. A phrase is the user's text
    (one word or several consecutive words)."""

    phrases: tuple[str, ...]


@dataclass(frozen=True)
class ParsedQuery:
    must: tuple[Clause, ...] = ()
    must_not: tuple[Clause, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.must and not self.must_not

    def positive_phrases(self) -> list[str]:
        """Every phrase the hits may contain (for highlighting)."""
        return [p for c in self.must for p in c.phrases]


_TOKEN = re.compile(r'\s*(-?)(?:"([^"]*)"|(\S+))')


def parse_query(text: str) -> ParsedQuery:
    """Parse the search syntax into clauses. Raises QuerySyntaxError on an unclosed quote."""
    if text.count('"') % 2:
        raise QuerySyntaxError("unclosed quote in query")
    items: list[tuple[bool, str] | str] = []  # (negated, phrase) or the OR operator
    for m in _TOKEN.finditer(text):
        negated, quoted, bare = m.group(1) == "-", m.group(2), m.group(3)
        if bare == "OR" and not negated:
            items.append("OR")
            continue
        phrase = (quoted if quoted is not None else bare or "").strip()
        if phrase and any(ch.isalnum() for ch in phrase):
            items.append((negated, phrase))
    must: list[Clause] = []
    must_not: list[Clause] = []
    group: list[str] = []
    group_negated = False
    pending_or = False
    for item in items:
        if item == "OR":
            pending_or = bool(group)
            continue
        negated, phrase = item
        if pending_or and not negated and not group_negated:
            group.append(phrase)
        else:
            if group:
                (must_not if group_negated else must).append(Clause(tuple(group)))
            group, group_negated = [phrase], negated
        pending_or = False
    if group:
        (must_not if group_negated else must).append(Clause(tuple(group)))
    return ParsedQuery(tuple(must), tuple(must_not))


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

    def __post_init__(self) -> None:
        unknown = set(self.filters) - set(FACET_FIELDS)
        if unknown:
            raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        self.filters = {k: [str(v) for v in vals] for k, vals in self.filters.items() if vals}

    @property
    def parsed(self) -> ParsedQuery:
        return parse_query(self.text)


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
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
