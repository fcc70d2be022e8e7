"""Reading feeds (RSS, Atom, news-search results) into links to follow."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import feedparser

from crawlers.items import LinkHints

_TAGS = re.compile(r"<[^>]+>")


@dataclass
class FeedEntry:
    link: str
    hints: LinkHints


@dataclass
class FeedReading:
    """The entries of a feed, or why there are none; ``warning`` notes a feed that was
    malformed but still yielded entries (feedparser's bozo)."""

    entries: list[FeedEntry] = field(default_factory=list)
    error: str | None = None  # reason key: empty_feed | not_a_feed | malformed_feed
    detail: str = ""
    warning: str | None = None
    title: str | None = None


def _when(entry, language: str | None = None) -> datetime | None:
    """The entry's date: feedparser's parse, else (dates in another language, "Seg, 24 Set 2018")
    dateparser on the raw text; aware UTC; None when there is none."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError):
                continue
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if raw:
            parsed = _parse_foreign_date(raw, language)
            if parsed is not None:
                return parsed
    return None


def _parse_foreign_date(raw: str, language: str | None) -> datetime | None:
    import dateparser

    try:
        value = dateparser.parse(raw[:100], languages=[language] if language else None,
                                 settings={"RETURN_AS_TIMEZONE_AWARE": True, "TO_TIMEZONE": "UTC"})
    except (ValueError, OverflowError):
        value = None
    return value.astimezone(UTC) if value else None


def read_feed(body: bytes, *, url: str, content_type: str | None = None) -> FeedReading:
    """Parse a feed's bytes (any encoding, RSS 0.9x-2.0, Atom, RDF) into entries with links."""
    if not body.strip():
        return FeedReading(error="empty_feed", detail="the feed body is empty")
    # without a Content-Type, feedparser must sniff the document itself (passing other headers
    # alone makes it call every feed malformed)
    headers = {"content-location": url, "content-type": content_type} if content_type else None
    try:
        parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=True)
    except Exception as exc:  # feedparser itself raises on some input (a stray </height>, a bad byte
        # in the XML declaration): the feed is malformed, the source goes on with its other URLs
        return FeedReading(error="malformed_feed", detail=f"the feed parser failed: {type(exc).__name__}: {exc}"[:300])
    entries = []
    for entry in parsed.entries:
        link = entry.get("link") or next(
            (lk.get("href") for lk in entry.get("links", []) if lk.get("href")), None
        )
        if not link:
            continue
        source = entry.get("source") or {}
        summary = _TAGS.sub(" ", entry.get("summary", "") or "").strip() or None
        entries.append(FeedEntry(link=link, hints=LinkHints(
            title=(entry.get("title") or "").strip() or None,
            published=_when(entry, parsed.feed.get("language", "").split("-")[0].lower() or None),
            summary=summary,
            outlet=(source.get("title") or None) if isinstance(source, dict) else None,
        )))
    reading = FeedReading(entries=entries, title=parsed.feed.get("title"))
    if parsed.bozo:
        exc = parsed.get("bozo_exception")
        detail = f"{type(exc).__name__}: {exc}" if exc else "malformed"
        if entries:
            reading.warning = f"malformed feed, {len(entries)} entries recovered ({detail})"
        elif not parsed.version and re.search(rb"<(!doctype\s+html|html)[\s>]", body[:2048], re.I):
            reading.error, reading.detail = "not_a_feed", "an HTML page, not a feed"
        else:
            reading.error, reading.detail = "malformed_feed", detail
    elif not parsed.version and not entries:
        reading.error, reading.detail = "not_a_feed", "no RSS or Atom structure found"
    return reading
