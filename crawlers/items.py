"""What the crawlers hand to the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class LinkHints:
    """What the listing (feed entry, sitemap entry, search result) said about a link."""

    title: str | None = None
    published: datetime | None = None
    summary: str | None = None
    outlet: str | None = None
    country: str | None = None
    language: str | None = None


@dataclass
class FetchedPage:
    """One fetched article page, as received (body bytes undecoded), with where it came from."""

    source_id: str
    url: str  # the URL that answered (after redirects)
    link_url: str  # the canonical link that was followed: the key of the seen-URL store
    status: int
    headers: dict[str, str]  # lower-case names, first value
    body: bytes
    fetched_at: datetime
    warc_file: str | None = None
    warc_offset: int | None = None
    hints: LinkHints = field(default_factory=LinkHints)
