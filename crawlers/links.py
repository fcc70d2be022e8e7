"""Which links of a section page lead to articles."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_NOT_ARTICLE = re.compile(
    r"/(tag|tags|topic|topics|category|categories|chuyen-muc|author|tac-gia|about|gioi-thieu|contact|lien-he|"
    r"login|register|search|tim-kiem|rss|feed|video|videos|photo|gallery|page|privacy|terms|subscribe)(/|$|\.)",
    re.I,
)
_DATE_OR_ID = re.compile(r"(19|20)\d{2}[/-]?\d{2}|\d{5,}")


def looks_like_article(url: str, section_url: str, pattern: str | None = None) -> bool:
    """True for a link that is probably an article of the section's site: an explicit
    pattern when the source gives one; otherwise same host, not a navigation page, and a
    path with a date or an id, or a long slug."""
    if pattern:
        return re.search(pattern, url) is not None
    target, section = urlsplit(url), urlsplit(section_url)
    if target.scheme not in ("http", "https"):
        return False
    if (target.hostname or "").removeprefix("www.") != (section.hostname or "").removeprefix("www."):
        return False
    path = target.path
    if path in ("", "/") or _NOT_ARTICLE.search(path):
        return False
    last = path.rstrip("/").rsplit("/", 1)[-1]
    slug_words = len(re.findall(r"[-_]", last))
    return bool(_DATE_OR_ID.search(path)) or slug_words >= 4
