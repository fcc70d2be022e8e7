"""The ``Backend`` protocol: what every index engine (embedded SQLite, Elasticsearch) offers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from index.article import Article
from index.query import Histogram, SearchQuery, SearchResult


@dataclass
class UpsertReport:
    """What an upsert did: ids written, and per-article errors (id -> reason) never dropped silently."""

    written: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


class FacetHistogram(list):
    """Counts of a facet's values per calendar bucket: a list of (first day ISO, value, count), by
    bucket (oldest first), then count (highest first), then value; at most ``size`` values per
    bucket. ``timed_out``: the engine's time limit cut the counts short (partial or missing)."""

    def __init__(self, rows=(), *, timed_out: bool = False) -> None:
        super().__init__(rows)
        self.timed_out = timed_out


@runtime_checkable
class Backend(Protocol):
    name: str

    def upsert(self, articles: Iterable[Article]) -> UpsertReport:
        """Insert or replace articles by id (idempotent)."""

    def get(self, article_id: str) -> Article | None:
        """The stored article with that id, or None."""

    def find_by_content_hash(self, content_hash: str) -> Article | None:
        """The earliest stored article with that exact text, or None (exact-duplicate detection)."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Hits for the query with filters, paging, snippets and (on request) facet counts, under the
        backend's time limit (``SearchResult.timed_out`` when the counts are partial)."""

    def count(self) -> int:
        """How many articles are stored."""

    def histogram(self, query: SearchQuery, interval: str = "day", timezone: str = "UTC") -> Histogram:
        """Hit counts per calendar day, month or year (``interval``) in ``timezone``, oldest first: a
        list of (first day, count) whose ``timed_out`` says the time limit cut the counts short."""

    def facet_histogram(self, query: SearchQuery, facet: str, interval: str = "day", timezone: str = "UTC",
                        size: int = 50) -> FacetHistogram:
        """For the query's hits, how many carry each value of ``facet`` (``FACET_FIELDS``: topic,
        sentiment, ...) per calendar day, ISO week (Monday), month or year (``interval``) in
        ``timezone``; the trends page's topic and tone over time. Under the backend's time limit."""

    def refresh(self) -> None:
        """Make every write visible to search."""

    def iter_articles(self) -> Iterator[Article]:
        """Every stored article (for sync, export and re-processing)."""

    def close(self) -> None: ...
