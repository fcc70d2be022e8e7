"""Links from news-search feeds that point through the search engine instead of at the article.

Two kinds:

- links that say where they go (Google News ids of the older format, Bing ``apiclick`` and
  generic ``?url=`` redirects): :func:`direct_link` reads the article URL from the link itself;
- Google News ids of the format used since mid-2024 (``/rss/articles/CBMi…`` whose payload is an
  opaque ``AU_yqL…`` token): the link answers with a page that sends the browser on with a
  script, not an HTTP redirect. The page carries the article id, a timestamp and a signature
  (``data-n-a-id``, ``data-n-a-ts``, ``data-n-a-sg``); the browser then asks Google's
  ``batchexecute`` endpoint for the article URL. The crawler does the same in two requests:
  :func:`google_news_params` reads the page, :func:`google_news_request_body` is what to post,
  :func:`google_news_url` reads the answer. Every step may fail (Google changes this protocol
  without notice): each returns None and the crawler records a clear reason.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

_URL_IN_BYTES = re.compile(rb"https?://[\x21-\x7e]+")
GOOGLE_NEWS_BATCH_PATH = "/_/DotsSplashUi/data/batchexecute"
_RPC_ID = "Fbv4je"
_ATTRIBUTE = re.compile(r"""\bdata-n-a-(id|ts|sg)\s*=\s*["']([^"'<>]{1,2000})["']""")


def is_google_news_article(url: str) -> bool:
    """True for a Google News article link (``news.google.com/[rss/]articles/<id>``)."""
    parts = urlsplit(url)
    return (parts.hostname or "").removeprefix("www.") == "news.google.com" and "/articles/" in parts.path


def direct_link(url: str) -> str:
    """The article URL behind a news-search redirect link when it can be read from the link
    itself (Google News ``/rss/articles/<base64>`` ids of the older format, Bing ``apiclick``
    and generic ``?url=`` redirects); otherwise the link unchanged (it is then followed)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    if is_google_news_article(url):
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


def google_news_article_page(url: str) -> str | None:
    """For a feed's ``news.google.com/rss/articles/<id>`` link, the same article's web page
    (``/articles/<id>``), which carries the signature when the feed's page does not; else None."""
    parts = urlsplit(url)
    if not is_google_news_article(url) or "/rss/articles/" not in parts.path:
        return None
    return parts._replace(path=parts.path.replace("/rss/articles/", "/articles/", 1)).geturl()


@dataclass(frozen=True)
class GoogleNewsParams:
    """What a Google News article page gives the browser to ask for the article's URL."""

    article_id: str
    timestamp: int
    signature: str


def google_news_params(html: str) -> GoogleNewsParams | None:
    """The article id, timestamp and signature of a Google News article page, or None when
    the page does not carry all three (another page, or Google changed the protocol)."""
    if "data-n-a-sg" not in html:
        return None
    found: dict[str, str] = {}
    for name, value in _ATTRIBUTE.findall(html[:500_000]):
        found.setdefault(name, value)
    try:
        timestamp = int(found["ts"])
        return GoogleNewsParams(found["id"], timestamp, found["sg"])
    except (KeyError, ValueError):
        return None


def google_news_request_body(params: GoogleNewsParams) -> str:
    """The ``f.req`` form value asking ``batchexecute`` for the article's URL."""
    request = ["garturlreq",
               [["X", "X", ["X", "X"], None, None, 1, 1, "US:en", None, 1, None, None, None, None, None, 0, 1],
                "X", "X", 1, [1, 1, 1], 1, 1, None, 0, 0, None, 0],
               params.article_id, params.timestamp, params.signature]
    return json.dumps([[[_RPC_ID, json.dumps(request, separators=(",", ":")), None, "generic"]]],
                      separators=(",", ":"))


def google_news_url(answer: str) -> str | None:
    """The article URL in a ``batchexecute`` answer (``)]}'`` then JSON envelopes, one of which
    carries ``["garturlres", "<url>", …]``), or None when there is none."""
    for line in answer.splitlines():
        line = line.strip()
        if not line.startswith("[") or _RPC_ID not in line:
            continue
        try:
            envelopes = json.loads(line)
        except ValueError:
            continue
        for envelope in envelopes if isinstance(envelopes, list) else []:
            if not (isinstance(envelope, list) and len(envelope) > 2 and envelope[:2] == ["wrb.fr", _RPC_ID]):
                continue
            try:
                payload = json.loads(envelope[2]) if isinstance(envelope[2], str) else None
            except ValueError:
                continue
            if (isinstance(payload, list) and len(payload) > 1 and payload[0] == "garturlres"
                    and isinstance(payload[1], str) and payload[1].startswith(("http://", "https://"))):
                return payload[1]
    return None
