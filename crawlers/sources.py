"""The source registry (``config/sources.yaml``): what to crawl, typed and validated.

Each source declares its kind, URLs, country, declared language and scope. Sources are
grouped (national press, the city's own press, foreign press per language, searches) like
Fundus' publisher registry. OPML import and export let people move feed lists in and out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
import xml.etree.ElementTree as ET
import zoneinfo
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SourceKind = Literal["rss", "sitemap", "listing", "news_search", "gdelt", "pages"]
Scope = Literal["domestic", "foreign", "mixed"]


class SourceError(ValueError):
    """The source list is invalid; the message says which source and why."""


# Countries with several zones in CLDR's territory table: the zone of the capital (the one a
# national outlet's newsroom keeps). CLDR lists these zones alphabetically, so its first one
# would be an arbitrary pick (Adak for the US, Adelaide for Australia).
_CAPITAL_ZONES = {
    "AR": "America/Argentina/Buenos_Aires", "AU": "Australia/Sydney", "BR": "America/Sao_Paulo",
    "CA": "America/Toronto", "CD": "Africa/Kinshasa", "CL": "America/Santiago", "CN": "Asia/Shanghai",
    "CY": "Asia/Nicosia", "DE": "Europe/Berlin", "EC": "America/Guayaquil", "ES": "Europe/Madrid",
    "FM": "Pacific/Pohnpei", "GL": "America/Nuuk", "ID": "Asia/Jakarta", "KI": "Pacific/Tarawa",
    "KZ": "Asia/Almaty", "MH": "Pacific/Majuro", "MN": "Asia/Ulaanbaatar", "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur", "NZ": "Pacific/Auckland", "PF": "Pacific/Tahiti", "PG": "Pacific/Port_Moresby",
    "PS": "Asia/Hebron", "PT": "Europe/Lisbon", "RU": "Europe/Moscow", "UA": "Europe/Kyiv",
    "US": "America/New_York", "UZ": "Asia/Tashkent",
}


@lru_cache(maxsize=512)
def country_timezone(country: str | None) -> str | None:
    """The main IANA zone of a country (ISO alpha-2), or None when unknown.

    From CLDR's territory → zones table (babel): a country with one zone gets it; one with several
    gets its capital's zone (``_CAPITAL_ZONES``), else the first CLDR lists."""
    if not country:
        return None
    code = country.upper()
    if code in _CAPITAL_ZONES:
        return _CAPITAL_ZONES[code]
    from babel.core import get_global

    zones = get_global("territory_zones").get(code) or []
    return zones[0] if zones else None


def _valid_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA timezone {name!r}") from exc
    return name


class Source(BaseModel):
    """One place hpmon crawls."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    kind: SourceKind
    urls: tuple[str, ...] = ()
    url_template: str | None = None  # news_search: "{query}" is replaced by the city's names
    country: str | None = None
    language: str | None = None
    scope: Scope = "mixed"
    group: str | None = None
    enabled: bool = True
    profile: str | None = None  # outlet profile for risk scoring (state_media_claimant, ...)
    article_pattern: str | None = None  # listing: regex an article URL must match
    max_articles: int = 200  # per run
    # news_search / gdelt: what to ask for: the city's names, or the watch themes' search terms
    # (config/cities/<city>.yaml → watch.search_terms) for national coverage without the city
    search: Literal["city", "watch"] = "city"
    # IANA zone of the outlet's newsroom: a zone-less date it publishes is in this zone. Unset:
    # the country's main zone (``effective_timezone``).
    timezone: str | None = None
    # Someone checked the URL against what the outlet itself publishes (its RSS index page,
    # sitemap or section pages, or a live fetch): when (verified_at) and from where (verified_from).
    verified: bool = False
    verified_at: dt.date | None = None
    verified_from: str | None = None
    note: str | None = None  # free text: why unverified or disabled, what to check

    @property
    def effective_timezone(self) -> str | None:
        """The zone a zone-less date of this source is in: the declared ``timezone``, else the
        country's main zone (``country_timezone``), else None (aggregators: unknown)."""
        return self.timezone or country_timezone(self.country)

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo | None:
        """``effective_timezone`` as a tzinfo (None when unknown)."""
        name = self.effective_timezone
        return zoneinfo.ZoneInfo(name) if name else None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return _valid_zone(v) if v else None

    @field_validator("country")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return v.upper() if v else None

    @field_validator("article_pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v:
            re.compile(v)
        return v

    @model_validator(mode="after")
    def _kind_needs(self) -> Source:
        if self.kind == "news_search":
            if not self.url_template or "{query}" not in self.url_template:
                raise ValueError("news_search needs a url_template containing {query}")
        elif not self.urls:
            raise ValueError(f"{self.kind} needs at least one URL in 'urls'")
        for url in self.urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"not an http(s) URL: {url}")
        return self


def load_sources(path: str | Path, *, substitutions: dict[str, str] | None = None) -> list[Source]:
    """All sources of a registry file, validated; ids must be unique. ``substitutions``
    replaces placeholders such as ``{{BASE}}`` (used by the local test site)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"{path}: {exc}") from exc
    for key, value in (substitutions or {}).items():
        text = text.replace(key, value)
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise SourceError(f"{path}: {exc}") from exc
    items = raw.get("sources") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise SourceError(f"{path}: expected a top-level 'sources:' list")
    sources: list[Source] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        try:
            source = Source.model_validate(item)
        except ValidationError as exc:
            ident = item.get("id", f"#{i}") if isinstance(item, dict) else f"#{i}"
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'source'}: {e['msg']}" for e in exc.errors())
            raise SourceError(f"{path}: source {ident}: {problems}") from exc
        if source.id in seen:
            raise SourceError(f"{path}: duplicate source id {source.id}")
        seen.add(source.id)
        sources.append(source)
    return sources


def _plain(source: Source) -> dict:
    data = source.model_dump(exclude_defaults=True, mode="json")
    data.pop("id", None)
    return {"id": source.id} | data


def save_sources(sources: list[Source], path: str | Path) -> None:
    """Write sources as a registry file (the format ``load_sources`` reads).

    An existing file is edited in place with ruamel.yaml's round trip: its comments, order,
    quoting and layout survive; a source that did not change keeps its lines as they were, a
    changed one gets only its changed keys rewritten, a new one is appended, a removed one dropped."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError as RuamelError

    path = Path(path)
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.representer.add_representer(  # keep `country: null` as written, not `country:`
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null"))
    doc = None
    if path.exists():
        try:
            doc = rt.load(path.read_text(encoding="utf-8"))
        except (OSError, RuamelError) as exc:
            raise SourceError(f"{path}: cannot be edited in place: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("sources"), list):
        doc = CommentedMap()
        doc["sources"] = CommentedSeq()
    items = doc["sources"]
    wanted = {s.id for s in sources}
    for index in reversed(range(len(items))):
        item = items[index]
        if not isinstance(item, dict) or item.get("id") not in wanted:
            del items[index]
    by_id = {item["id"]: item for item in items}
    for source in sources:
        data = _plain(source)
        node = by_id.get(source.id)
        if node is None:
            node = CommentedMap()
            for key, value in data.items():
                if isinstance(value, list):
                    value = CommentedSeq(value)
                    value.fa.set_flow_style()
                node[key] = value
            items.append(node)
            continue
        try:
            same = Source.model_validate(dict(node)) == source
        except ValidationError:
            same = False
        if same:
            continue
        full = source.model_dump(mode="json")
        for key, value in full.items():
            if key not in node and key not in data:
                continue  # a default the file never spelled out
            old = node.get(key)
            if (list(old) if isinstance(old, list) else old) != value:
                if isinstance(value, list):
                    value = CommentedSeq(value)
                    value.fa.set_flow_style()
                node[key] = value
    with path.open("w", encoding="utf-8") as fh:
        rt.dump(doc, fh)


# Letters NFKD does not decompose into a base letter and marks.
_FOLD = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae",
                       "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D", "ı": "i"})


def _fold(text: str) -> str:
    """Latin letters without their accents (Vietnamese "Báo Hải Phòng" → "Bao Hai Phong");
    letters of other scripts are left as they are."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", _fold(text).lower()).strip("-")
    return slug or "feed"


def _cut(slug: str, limit: int = 40) -> str:
    if len(slug) <= limit:
        return slug
    cut = slug[:limit]
    return (cut.rsplit("-", 1)[0] if "-" in cut[limit // 2:] else cut).strip("-")


_GENERIC_SEGMENTS = {"feed", "feeds", "rss", "rss2", "atom", "blog", "index", "posts", "default", "news", "xml"}


def _host_slug(url: str) -> str:
    """``blog.example.com`` → ``blog-example-com``; the first path segment is added when it
    names the feed (``feeds.feedburner.com/felixcat`` → ``feedburner-com-felixcat``)."""
    parts = urlsplit(url)
    host = re.sub(r"^(www\d*|feeds?|rss|m)\.", "", (parts.hostname or "").lower())
    if not host:
        return "feed"
    segment = next((p for p in parts.path.split("/") if p), "")
    if re.fullmatch(r"[A-Za-z0-9_-]{2,24}", segment) and segment.lower() not in _GENERIC_SEGMENTS:
        return _slug(f"{host}-{segment}")
    return _slug(host)


def _title_slug(title: str, url: str) -> str:
    """An id from a title; from the feed's host when the title is mostly in a script that does
    not fold to ASCII (Chinese, Japanese, Cyrillic...), so ids never become feed, feed-2..."""
    letters = [ch for ch in title if ch.isalnum()]
    ascii_letters = [ch for ch in _fold("".join(letters)) if ch.isascii()]
    if letters and len(ascii_letters) * 3 >= len(letters) * 2:
        slug = _cut(_slug(title))
        if slug not in _GENERIC_SEGMENTS:
            return slug
    return _cut(_host_slug(url))


def _short_hash(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:6]


def _attr(outline: ET.Element, *names: str) -> str | None:
    """An attribute by any case of its name (readers write htmlURL, Title, xmlurl)."""
    lowered = {k.lower(): v for k, v in outline.attrib.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value and value.strip():
            return value.strip()
    return None


def _feed_url(outline: ET.Element) -> tuple[str | None, str | None]:
    """The feed URL of an outline and a note when it had to be repaired."""
    url = _attr(outline, "xmlUrl", "feedUrl")
    if not url:
        kind = (_attr(outline, "type") or "").lower()
        if kind in ("rss", "atom", "feed", ""):
            url = _attr(outline, "url")
    if not url:
        return None, None
    url = re.sub(r"\s+", "", url)
    if re.match(r"^feed:(//)?", url, re.I):
        rest = re.sub(r"^feed:(//)?", "", url, flags=re.I)
        return (rest if re.match(r"^https?://", rest, re.I) else "https://" + rest), "feed: scheme replaced"
    if url.startswith("//"):
        return "https:" + url, "scheme-relative URL read as https"
    if not re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) and re.match(r"^[\w-]+(\.[\w-]+)+(:\d+)?(/|$)", url):
        return "https://" + url, "URL without a scheme read as https"
    return url, None


def import_opml(path: str | Path, existing: list[Source], *, language: str | None = None,
                country: str | None = None, scope: Scope = "mixed") -> tuple[list[Source], list[str]]:
    """RSS sources for each feed outline of an OPML file that is not already registered
    (by URL). Returns the new sources and a note per outline skipped (and why) or repaired.

    A feed URL is read from ``xmlUrl``, ``feedUrl`` or, on a feed-typed outline, ``url``, in
    any letter case. Ids come from the title, folded to ASCII (Vietnamese keeps its letters
    without their marks), or from the feed's host when the title is in another script; an id
    already taken gets a short hash of the feed URL, so ids are unique and stable."""
    try:
        tree = ET.parse(path)
    except (ET.ParseError, OSError, LookupError, UnicodeError, ValueError) as exc:  # LookupError: unknown encoding
        raise SourceError(f"{path}: not a readable OPML file: {exc}") from exc
    known_urls = {u: s.id for s in existing for u in s.urls}
    known_ids = {s.id for s in existing}
    new: list[Source] = []
    notes: list[str] = []
    for outline in tree.iter("outline"):
        title = _attr(outline, "title", "text")
        url, repaired = _feed_url(outline)
        if not url:
            if len(outline):
                continue  # a folder
            html = _attr(outline, "htmlUrl")
            kind = _attr(outline, "type")
            if html or _attr(outline, "url"):
                notes.append(f"skipped {title or html or _attr(outline, 'url')!r}: no feed URL "
                             f"(only {'htmlUrl' if html else 'url'}{f' on a {kind} outline' if kind else ''})")
            else:
                notes.append(f"skipped {title or 'an untitled outline'!r}: no feed URL (no xmlUrl, feedUrl or url)")
            continue
        title = title or url
        if url in known_urls:
            notes.append(f"skipped {url}: already registered as {known_urls[url]}")
            continue
        base = _title_slug(title, url)
        ident = base
        if ident in known_ids:
            ident = f"{_cut(base, 33)}-{_short_hash(url)}"
        n = 2
        while ident in known_ids:  # two URLs with the same short hash: practically never
            ident, n = f"{_cut(base, 30)}-{_short_hash(url)}-{n}", n + 1
        try:
            source = Source(id=ident, name=title, kind="rss", urls=(url,),
                            language=language or _attr(outline, "language") or None,
                            country=country, scope=scope, group="imported",
                            note=f"imported from {Path(path).name} on {dt.date.today().isoformat()}")
        except ValidationError as exc:
            notes.append(f"skipped {url}: {exc.errors()[0]['msg']}")
            continue
        if repaired:
            notes.append(f"imported {url} as {ident}: {repaired}")
        new.append(source)
        known_ids.add(ident)
        known_urls[url] = ident
    return new, notes


def export_opml(sources: list[Source], title: str = "hpmon sources") -> str:
    """An OPML 2.0 document listing the feed sources (rss kind), grouped by ``group``."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    groups: dict[str, ET.Element] = {}
    for source in sources:
        if source.kind != "rss":
            continue
        group = source.group or "other"
        if group not in groups:
            groups[group] = ET.SubElement(body, "outline", text=group, title=group)
        for url in source.urls:
            attrs = {"type": "rss", "text": source.name, "title": source.name, "xmlUrl": url}
            if source.language:
                attrs["language"] = source.language
            ET.SubElement(groups[group], "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- checking the sources -----------------------------------------------------------------------


def verification_summary(sources: list[Source]) -> dict:
    """Verified and unverified counts (of all and of the enabled sources) and the unverified
    enabled sources with their notes: what ``hpmon sources check`` and ``make run`` report."""
    enabled = [s for s in sources if s.enabled]
    unverified = [s for s in enabled if not s.verified]
    return {
        "sources": len(sources), "enabled": len(enabled),
        "verified": sum(s.verified for s in sources), "verified_enabled": len(enabled) - len(unverified),
        "unverified_enabled": [{"id": s.id, "kind": s.kind, "url": s.urls[0] if s.urls else s.url_template,
                                "note": s.note} for s in unverified],
    }


@dataclass
class LiveCheck:
    """What one URL of a source answered: HTTP status, items read (feed entries, sitemap
    pages and child sitemaps, a listing's article links), the newest item's date, or why not."""

    source_id: str
    kind: str
    url: str
    status: int | None = None
    items: int | None = None
    newest: dt.datetime | None = None
    error: str | None = None  # reason key: timeout | fetch_failed | http_<status> | too_large | robots_disallowed
    # | not_checked | parser_failed | the parser's key (empty_feed, not_a_feed, malformed_feed...)
    detail: str = ""
    content_type: str = ""
    final_url: str | None = None
    seconds: float = 0.0
    notes: list[str] = dataclass_field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        return now - self.newest if self.newest else None


def _read_capped(response, limit: int) -> bytes | None:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def check_live(sources: list[Source], *, user_agent: str, timeout: float = 30.0, max_bytes: int = 5_000_000,
               obey_robots: bool = True, transport=None) -> list[LiveCheck]:
    """Fetch each URL of each given source once, with the crawl's User-Agent, timeout, size cap
    and robots.txt rule, and read it with the parser of its kind. News-search and GDELT sources
    are query templates and are not fetched (``not_checked``). Never raises for a source."""
    import time

    import httpx
    from protego import Protego

    from crawlers.feeds import read_feed
    from crawlers.links import looks_like_article
    from crawlers.sitemaps import read_sitemap

    headers = {"User-Agent": user_agent,
               "Accept": "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/html;q=0.8,*/*;q=0.5",
               "Accept-Language": "vi,en;q=0.8,*;q=0.5"}
    robots: dict[str, Protego | None] = {}
    checks: list[LiveCheck] = []
    with httpx.Client(headers=headers, timeout=timeout, follow_redirects=True, max_redirects=10,
                      transport=transport) as client:

        def allowed(url: str) -> bool:
            parts = urlsplit(url)
            root = f"{parts.scheme}://{parts.netloc}"
            if root not in robots:
                try:
                    answer = client.get(root + "/robots.txt")
                    robots[root] = Protego.parse(answer.text) if answer.status_code == 200 else None
                except httpx.HTTPError:
                    robots[root] = None
            rules = robots[root]
            return rules is None or rules.can_fetch(url, user_agent.split("/", 1)[0])

        for source in sources:
            if source.kind in ("news_search", "gdelt"):
                checks.append(LiveCheck(source.id, source.kind, source.url_template or (source.urls or ("",))[0],
                                        error="not_checked", detail="a search query template, not a fixed URL"))
                continue
            for url in source.urls:
                check = LiveCheck(source.id, source.kind, url)
                checks.append(check)
                start = time.perf_counter()
                try:
                    if obey_robots and not allowed(url):
                        check.error, check.detail = "robots_disallowed", "robots.txt disallows this URL for hpmon"
                        continue
                    with client.stream("GET", url) as response:
                        check.status = response.status_code
                        check.final_url = str(response.url)
                        check.content_type = response.headers.get("content-type", "")
                        if response.status_code >= 400:
                            check.error, check.detail = f"http_{response.status_code}", response.reason_phrase
                            continue
                        body = _read_capped(response, max_bytes)
                    if body is None:
                        check.error, check.detail = "too_large", f"more than {max_bytes} bytes"
                        continue
                    try:
                        _read_body(check, source, body, read_feed, read_sitemap, looks_like_article)
                    except Exception as exc:  # a parser bug: this URL's reason, the check goes on
                        check.error, check.detail = "parser_failed", f"{type(exc).__name__}: {exc}"[:300]
                except httpx.TimeoutException as exc:
                    check.error, check.detail = "timeout", f"no answer within {timeout:.0f} s ({type(exc).__name__})"
                except (httpx.HTTPError, OSError, ValueError) as exc:
                    check.error, check.detail = "fetch_failed", f"{type(exc).__name__}: {exc}"[:300]
                finally:
                    check.seconds = time.perf_counter() - start
    return checks


def _read_body(check: LiveCheck, source: Source, body: bytes, read_feed, read_sitemap, looks_like_article) -> None:
    url = check.final_url or check.url
    if source.kind == "rss":
        reading = read_feed(body, url=url, content_type=check.content_type or None, timezone=source.tzinfo)
        check.notes.extend(reading.notes)
        if reading.warning:
            check.notes.append(reading.warning)
        if reading.error:
            check.error, check.detail = reading.error, reading.detail
            return
        check.items = len(reading.entries)
        check.newest = max((e.hints.published for e in reading.entries if e.hints.published), default=None)
    elif source.kind == "sitemap":
        reading = read_sitemap(body)
        if reading.error:
            check.error, check.detail = reading.error, reading.detail
            return
        check.items = len(reading.pages) + len(reading.children)
        check.newest = max((h.published for _, h in reading.pages if h.published), default=None)
    else:  # listing, pages: the article links the page offers
        from urllib.parse import urljoin

        text = body.decode("utf-8", errors="replace")
        links = {urljoin(url, href) for href in re.findall(r"""href\s*=\s*["']([^"'#]+)""", text)}
        check.items = sum(looks_like_article(link, url, source.article_pattern) for link in links)
        if not check.items:
            check.error, check.detail = "no_articles", "no link on the page looks like an article"
