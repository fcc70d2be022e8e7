"""Reading sitemaps (including Google News sitemaps and sitemap indexes)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from crawlers.items import LinkHints


@dataclass
class SitemapReading:
    pages: list[tuple[str, LinkHints]] = field(default_factory=list)
    children: list[str] = field(default_factory=list)  # sitemaps listed by an index
    error: str | None = None
    detail: str = ""


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def read_sitemap(body: bytes) -> SitemapReading:
    """Pages (with news:title / publication date when given) or child sitemaps."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = gzip.decompress(body)
        except OSError as exc:
            return SitemapReading(error="malformed_sitemap", detail=f"bad gzip: {exc}")
    if not body.strip():
        return SitemapReading(error="empty_sitemap", detail="the sitemap is empty")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        return SitemapReading(error="malformed_sitemap", detail=str(exc))
    if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
        return SitemapReading(error="not_a_sitemap", detail="no <urlset> or <sitemapindex> root")
    reading = SitemapReading()
    for node in root:
        fields: dict[str, str] = {}
        for child in node.iter():
            name = _local(child.tag)
            if child.text and child.text.strip() and name not in fields:
                fields[name] = child.text.strip()
        loc = fields.get("loc")
        if not loc:
            continue
        if _local(root.tag) == "sitemapindex":
            reading.children.append(loc)
        else:
            reading.pages.append((loc, LinkHints(
                title=fields.get("title"),
                published=_date(fields.get("publication_date") or fields.get("lastmod")),
                language=fields.get("language"),
            )))
    return reading
