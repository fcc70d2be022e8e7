"""Links from news-search feeds that point through the search engine instead of at the article."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, unquote, urlsplit

_URL_IN_BYTES = re.compile(rb"https?://[\x21-\x7e]+")


def direct_link(url: str) -> str:
    """The article URL behind a news-search redirect link when it can be read from the link
    itself (Google News ``/rss/articles/<base64>`` ids of the older format, Bing ``apiclick``
    and generic ``?url=`` redirects); otherwise the link unchanged (it is then followed)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    if host == "news.google.com" and "/articles/" in parts.path:
        token = parts.path.rsplit("/", 1)[-1]
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            return url
        match = _URL_IN_BYTES.search(raw)
        if match:
            candidate = match.group(0).split(b"\xd2")[0].decode("ascii", "ignore")
            return candidate.rstrip("\x01\x02\x03")
        return url
    query = parse_qs(parts.query)
    for key in ("url", "u", "q"):
        values = query.get(key)
        if values and values[0].startswith(("http://", "https://")) and host.endswith(("bing.com", "google.com")):
            return unquote(values[0])
    return url
