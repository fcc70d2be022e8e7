"""The GDELT DOC 2.0 API (``mode=artlist``): worldwide news found by the city's names."""

from __future__ import annotations

import html
import json
import re
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
    error: str | None = None  # gdelt_error (a plain-text answer, JSON beyond repair) | gdelt_rate_limited
    detail: str = ""
    notes: list[str] = field(default_factory=list)  # repairs made and articles skipped, with why


_LITERAL_UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})")
_OBJECT_START = re.compile(r'\{\s*"')


def _repair_escapes(text: str) -> tuple[str, int]:
    """``text`` with each backslash escape JSON forbids (``\\'`` as GDELT copies titles, ``\\x``,
    ``\\u`` without four hex digits) reduced to the escaped character, and how many."""
    count = 0

    def fix(match: re.Match) -> str:
        nonlocal count
        run, end = match.group(0), match.end()
        if len(run) % 2 == 0:  # escaped backslashes only
            return run
        following = match.string[end:end + 5]
        if following[:1] and following[0] in '"/bfnrt' or re.match(r"u[0-9a-fA-F]{4}", following):
            return run
        count += 1
        return run[:-1]

    return re.sub(r"\\+", fix, text), count


def clean_title(title: object) -> str | None:
    """A title as a reader sees it: HTML entities (``&#39;``, ``&amp;``) and escapes left as text
    (``\\u00e1``) decoded, whitespace collapsed."""
    if not isinstance(title, str):
        return None
    text = _LITERAL_UNICODE.sub(lambda m: chr(int(m.group(1), 16)), title)
    text = html.unescape(html.unescape(text)) if "&" in text else text
    text = re.sub(r"\s+", " ", text).strip()
    return text or None


def _salvage(text: str) -> tuple[list, int]:
    """The article objects that parse one by one when the whole answer does not."""
    decoder = json.JSONDecoder(strict=False)
    start = text.find("[", text.find('"articles"'))
    items, bad, pos = [], 0, max(start, 0)
    while True:
        match = _OBJECT_START.search(text, pos)
        if not match:
            break
        try:
            item, end = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            bad += 1
            pos = match.end()
            continue
        items.append(item)
        pos = end
    return items, bad


def read_artlist(body: bytes) -> GdeltReading:
    """Links and hints from an artlist JSON answer (``{}`` means no match).

    One bad article never loses the answer: invalid escapes are repaired, control characters
    allowed, and when the document still does not parse its article objects are read one by one;
    every repair and every article skipped is noted. GDELT's plain-text answers (a keyword
    error, the rate-limit notice) are errors with their text as the reason."""
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    if not text:
        return GdeltReading()  # an empty answer: no match
    reading = GdeltReading()
    if text[0] not in "{[":
        key = "gdelt_rate_limited" if re.search(r"limit requests|rate limit|too many requests", text, re.I) \
            else "gdelt_error"
        return GdeltReading(error=key, detail=re.sub(r"\s+", " ", text)[:300])
    items = None
    try:
        data = json.loads(text, strict=False)
    except json.JSONDecodeError as first:
        repaired, count = _repair_escapes(text)
        try:
            data = json.loads(repaired, strict=False)
            reading.notes.append(f"{count} invalid escape(s) repaired ({first.msg} at line {first.lineno} "
                                 f"column {first.colno})")
        except json.JSONDecodeError as exc:
            items, bad = _salvage(repaired)
            if not items:
                return GdeltReading(error="gdelt_error",
                                    detail=f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
            data = None
            reading.notes.append(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}): "
                                 f"{len(items)} article(s) read one by one, {bad} beyond repair skipped")
    if items is None:
        if not isinstance(data, dict):
            return GdeltReading(error="gdelt_error", detail=f"unexpected JSON shape: {type(data).__name__}")
        items = data.get("articles") or []
        if not isinstance(items, list):
            return GdeltReading(error="gdelt_error", detail="'articles' is not a list", notes=reading.notes)
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            reading.notes.append(f"article #{n} skipped: not an object")
            continue
        url = item.get("url")
        if not isinstance(url, str) or not url.strip().startswith(("http://", "https://")):
            reading.notes.append(f"article #{n} skipped: no http(s) url ({str(url)[:80]!r})")
            continue
        seen = None
        raw_seen = item.get("seendate")
        if raw_seen:
            try:
                seen = datetime.strptime(str(raw_seen).strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            except ValueError:
                reading.notes.append(f"article #{n}: unreadable seendate {str(raw_seen)[:40]!r}")
        try:
            reading.articles.append((url.strip(), LinkHints(
                title=clean_title(item.get("title")),
                published=seen,
                outlet=str(item.get("domain") or "").strip() or None,
                country=country_code(item.get("sourcecountry") if isinstance(item.get("sourcecountry"), str) else None),
                language=_LANGUAGE_NAMES.get(str(item.get("language") or "").lower()),
            )))
        except Exception as exc:  # one odd article never loses the others
            reading.notes.append(f"article #{n} skipped: {type(exc).__name__}: {exc}"[:200])
    return reading
