"""The GDELT DOC 2.0 API (``mode=artlist``): worldwide news found by the city's names."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

import pycountry

from crawlers.items import LinkHints

# GDELT's sourcelang: names for the ISO 639-1 codes hpmon uses.
GDELT_LANGUAGES = {
    "en": "english", "vi": "vietnamese", "zh": "chinese", "ja": "japanese", "ko": "korean",
    "ru": "russian", "fr": "french", "de": "german", "es": "spanish", "th": "thai",
}
_COUNTRY_FIXES = {"vietnam": "VN", "russia": "RU", "south korea": "KR", "north korea": "KP", "taiwan": "TW",
                  "laos": "LA", "iran": "IR", "syria": "SY", "czech republic": "CZ", "macau": "MO",
                  "hong kong": "HK", "united states": "US", "united kingdom": "GB", "bolivia": "BO",
                  "venezuela": "VE", "tanzania": "TZ", "moldova": "MD", "brunei": "BN"}
_LANGUAGE_NAMES = {v: k for k, v in GDELT_LANGUAGES.items()}


def country_code(name: str | None) -> str | None:
    """ISO alpha-2 for a GDELT country name ("Vietnam" -> "VN"), or None."""
    if not name:
        return None
    key = name.strip().lower()
    if key in _COUNTRY_FIXES:
        return _COUNTRY_FIXES[key]
    try:
        return pycountry.countries.lookup(name.strip()).alpha_2
    except LookupError:
        return None


def build_query_url(endpoint: str, names: list[str], language: str | None, *, timespan: str = "3d",
                    max_records: int = 250) -> str:
    """The artlist request for articles naming the city (any of ``names``) in ``language``."""
    terms = [f'"{n}"' if " " in n else n for n in names if len(n) >= 2]
    query = "(" + " OR ".join(terms) + ")" if len(terms) > 1 else (terms[0] if terms else "")
    if language in GDELT_LANGUAGES:
        query += f" sourcelang:{GDELT_LANGUAGES[language]}"
    params = {"query": query, "mode": "artlist", "format": "json", "maxrecords": str(max_records),
              "timespan": timespan, "sort": "datedesc"}
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


@dataclass
class GdeltReading:
    articles: list[tuple[str, LinkHints]] = field(default_factory=list)
    error: str | None = None
    detail: str = ""


def read_artlist(body: bytes) -> GdeltReading:
    """Links and hints from an artlist JSON answer (``{}`` means no match)."""
    try:
        data = json.loads(body.decode("utf-8", errors="replace") or "{}")
    except json.JSONDecodeError as exc:
        # GDELT answers plain-text errors ("Your search contained...") with status 200
        return GdeltReading(error="gdelt_error", detail=body[:200].decode("utf-8", "replace").strip() or str(exc))
    if not isinstance(data, dict):
        return GdeltReading(error="gdelt_error", detail="unexpected JSON shape")
    reading = GdeltReading()
    for item in data.get("articles") or []:
        url = item.get("url")
        if not url:
            continue
        seen = None
        if item.get("seendate"):
            try:
                seen = datetime.strptime(item["seendate"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            except ValueError:
                seen = None
        reading.articles.append((url, LinkHints(
            title=item.get("title") or None,
            published=seen,
            outlet=item.get("domain") or None,
            country=country_code(item.get("sourcecountry")),
            language=_LANGUAGE_NAMES.get((item.get("language") or "").lower()),
        )))
    return reading
