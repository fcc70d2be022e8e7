"""Reading sitemaps (including Google News sitemaps and sitemap indexes)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime

from lxml import etree

from crawlers.items import LinkHints
from guard.limits import inflate as bounded_inflate


@dataclass
class SitemapReading:
    pages: list[tuple[str, LinkHints]] = field(default_factory=list)
    children: list[str] = field(default_factory=list)  # sitemaps listed by an index
    error: str | None = None
    detail: str = ""
    notes: list[str] = field(default_factory=list)  # what was skipped, for the log (no failure)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


# The sitemap protocol's limit on an uncompressed sitemap; a gzip body is never inflated past it
# (611 KB of .xml.gz can hold 600 MiB).
MAX_SITEMAP_BYTES = 50 * 1024 * 1024


def _zone(tz: tzinfo | str | None) -> tzinfo:
    if isinstance(tz, str):
        try:
            return zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return UTC
    return tz or UTC


def _date(text: str | None, tz: tzinfo = UTC) -> datetime | None:
    """A W3C date-time (the protocol's format) or an RFC 822 date (some CMSs write one), aware
    UTC; a value without a zone (``2026-11-20T08:15:00``, ``2026-11-20``) is wall time in ``tz``
    (the source's zone). None when it is neither or outside what a datetime holds
    (0001-01-01T00:00:00+05:00)."""
    if not text:
        return None
    text = text.strip()
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    try:
        return (dt if dt.tzinfo else dt.replace(tzinfo=tz)).astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def inflate(body: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """A gzip body inflated, at most ``limit`` bytes of it; ValueError when it is corrupt,
    truncated or larger than the limit (``guard.limits.inflate``, in chunks)."""
    return bounded_inflate(body, limit, what="the sitemap protocol's limit")


def read_sitemap(body: bytes, *, timezone: tzinfo | str | None = None) -> SitemapReading:
    """Pages (with news:title / publication date when given) or child sitemaps. ``timezone``
    (the source's, ``Source.tzinfo``, as ``crawlers.feeds.read_feed`` takes it) is the zone of a
    ``lastmod`` / ``news:publication_date`` given without one; UTC when unknown."""
    tz = _zone(timezone)
    if body[:2] == b"\x1f\x8b":
        try:
            body = inflate(body)
        except ValueError as exc:
            return SitemapReading(error="malformed_sitemap", detail=str(exc))
    if not body.strip():
        return SitemapReading(error="empty_sitemap", detail="the sitemap is empty")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        return SitemapReading(error="malformed_sitemap", detail=str(exc))
    try:
        kind = _local(root.tag) if root is not None else None
    except UnicodeDecodeError:  # a root name or namespace lxml kept but cannot give as text (a surrogate)
        return SitemapReading(error="malformed_sitemap", detail="the root element's name is not valid Unicode")
    if kind not in ("urlset", "sitemapindex"):
        return SitemapReading(error="not_a_sitemap", detail="no <urlset> or <sitemapindex> root")
    reading = SitemapReading()
    undecodable = 0
    for node in root:
        fields: dict[str, str] = {}
        try:
            for child in node.iter():
                name = _local(child.tag)
                if child.text and child.text.strip() and name not in fields:
                    fields[name] = child.text.strip()
        except UnicodeDecodeError:  # bytes lxml kept but cannot give as text (a UTF-8-encoded surrogate)
            undecodable += 1
            continue
        loc = "".join((fields.get("loc") or "").split())  # a URL broken over lines is one URL
        if not loc:
            continue
        if kind == "sitemapindex":
            reading.children.append(loc)
        else:
            reading.pages.append((loc, LinkHints(
                title=fields.get("title"),
                published=_date(fields.get("publication_date") or fields.get("lastmod"), tz),
                language=fields.get("language"),
            )))
    if undecodable:
        reading.notes.append(f"{undecodable} entr{'y' if undecodable == 1 else 'ies'} skipped: text that is not "
                             "valid Unicode")
    return reading
