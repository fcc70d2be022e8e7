"""The ``Article`` record: what hpmon knows about one page, as every backend stores it."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

# Fields a search can filter and facet on, with the Article attribute that holds them.
# List-valued attributes count once per value.
FACET_FIELDS: dict[str, str] = {
    "language": "language",
    "source": "source_id",
    "outlet": "outlet",
    "country": "country",
    "scope": "scope",
    "coverage": "coverage",
    "topic": "topics",
    "sentiment": "sentiment",
    "theme": "sensitive_themes",
    "flag": "flags",
    "story": "story_id",
}


def article_id(canonical_url: str) -> str:
    """The stable id of an article: derived from its canonical URL, so a page fetched again
    (or through another feed) updates the same record instead of adding a copy."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:20]


@dataclass
class Article:
    """One indexed article. Fields not computed yet by the pipeline stay ``None``."""

    id: str
    url: str
    source_id: str
    title: str
    text: str
    lead: str = ""
    language: str | None = None
    language_probability: float | None = None
    outlet: str | None = None
    country: str | None = None
    scope: str | None = None  # "domestic" | "foreign" (relative to the city's country)
    coverage: str | None = None  # why it is kept: "city" (about the city) | "watch" (a national watch theme)
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    fetched_at: datetime | None = None
    relevance_score: float = 0.0
    relevance_terms: list[str] = field(default_factory=list)
    content_hash: str = ""
    story_id: str | None = None
    duplicate_of: str | None = None
    topics: list[str] | None = None
    sentiment: str | None = None
    sentiment_score: float | None = None
    sensitive_themes: list[str] | None = None
    risk_score: float | None = None
    flags: list[str] = field(default_factory=list)
    warc_file: str | None = None
    warc_offset: int | None = None
    reasons: dict[str, Any] = field(default_factory=dict)
    # machine translations of title and lead by language: {"vi": {"title", "lead", "engine", "model"}}
    # (pipeline/translate.py); always shown as machine translation
    translations: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def date(self) -> datetime | None:
        """The date the article is filed under: publication, else fetch time."""
        return self.published_at or self.fetched_at

    def facet_values(self, facet: str) -> list[str]:
        """The values this article has for a facet (``FACET_FIELDS``), as strings."""
        value = getattr(self, FACET_FIELDS[facet])
        if value is None:
            return []
        if isinstance(value, list):
            return [str(v) for v in value]
        return [str(value)]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO 8601 UTC)."""
        d = asdict(self)
        for key in ("published_at", "fetched_at"):
            if d[key] is not None:
                d[key] = d[key].astimezone(UTC).isoformat()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Article:
        """Rebuild an Article from ``to_dict`` output (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in d.items() if k in known}
        for key in ("published_at", "fetched_at"):
            if data.get(key):
                data[key] = parse_datetime(data[key])
        return cls(**data)


def parse_datetime(value: str | datetime) -> datetime:
    """An aware UTC datetime from an ISO string or a datetime (naive means UTC)."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def translated_text(article: Article) -> str:
    """The machine translations of an article's title and lead (``Article.translations``), as one
    text for the full-text index; empty when it has none."""
    parts: list[str] = []
    for entry in (article.translations or {}).values():
        if isinstance(entry, dict):
            parts += [v for k in ("title", "lead") if isinstance(v := entry.get(k), str) and v.strip()]
    return " ".join(parts)
