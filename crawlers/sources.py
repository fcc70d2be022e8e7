"""The source registry (``config/sources.yaml``): what to crawl, typed and validated.

Each source declares its kind, URLs, country, declared language and scope. Sources are
grouped (national press, the city's own press, foreign press per language, searches) like
Fundus' publisher registry. OPML import and export let people move feed lists in and out.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
import zoneinfo
from functools import lru_cache
from pathlib import Path
from typing import Literal

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


def save_sources(sources: list[Source], path: str | Path) -> None:
    """Write sources as a registry file (the format ``load_sources`` reads)."""
    data = {"sources": [s.model_dump(exclude_defaults=True, mode="json") | {"id": s.id} for s in sources]}
    Path(path).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "feed"


def import_opml(path: str | Path, existing: list[Source], *, language: str | None = None,
                country: str | None = None, scope: Scope = "mixed") -> tuple[list[Source], list[str]]:
    """RSS sources for each feed outline of an OPML file that is not already registered
    (by URL). Returns the new sources and a note per outline skipped and why."""
    try:
        tree = ET.parse(path)
    except (ET.ParseError, OSError) as exc:
        raise SourceError(f"{path}: not a readable OPML file: {exc}") from exc
    known_urls = {u for s in existing for u in s.urls}
    known_ids = {s.id for s in existing}
    new: list[Source] = []
    notes: list[str] = []
    for outline in tree.iter("outline"):
        url = outline.get("xmlUrl")
        if not url:
            continue
        title = outline.get("title") or outline.get("text") or url
        if url in known_urls:
            notes.append(f"skipped {url}: already registered")
            continue
        base = _slug(title)[:40]
        ident, n = base, 2
        while ident in known_ids:
            ident, n = f"{base}-{n}", n + 1
        try:
            source = Source(id=ident, name=title, kind="rss", urls=(url,), language=language or None,
                            country=country, scope=scope, group="imported")
        except ValidationError as exc:
            notes.append(f"skipped {url}: {exc.errors()[0]['msg']}")
            continue
        new.append(source)
        known_ids.add(ident)
        known_urls.add(url)
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
