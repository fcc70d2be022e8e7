"""Decoding and extraction: from the bytes of a page to its article text and metadata."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import charset_normalizer
import trafilatura
from htmldate import find_date

from pipeline.legacy_vietnamese import convert_legacy_vietnamese, decode_as_cp1252, detect_legacy_vietnamese
from pipeline.outcome import Dropped

# Declared charsets whose real-world meaning is a superset encoding.
_CHARSET_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "ms_kanji": "cp932",
    "euc-kr": "cp949", "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "windows-949": "cp949",
    "windows-1258": "cp1258", "windows-1251": "cp1251", "windows-1252": "cp1252",
    "utf8": "utf-8",
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)


@dataclass
class Decoded:
    html: str
    encoding: str
    how: str  # bom | header | meta | utf-8 | detected | legacy-font (encoding: tcvn3 | vni | viscii)


def _codec(name: str) -> str | None:
    name = name.strip().lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _try(body: bytes, codec: str | None) -> str | None:
    if not codec:
        return None
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _looks_binary(body: bytes) -> bool:
    head = body[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls > len(head) * 0.02


def decode_html(body: bytes, content_type: str | None = None) -> Decoded | Dropped:
    """The page as text. Order: BOM, HTTP charset, ``<meta charset>``, strict UTF-8, then
    statistical detection. Declared legacy charsets map to their supersets (GBK → GB18030,
    Shift_JIS → CP932...). Windows-1258's combining tone marks are composed (NFC). Vietnamese
    typed in a legacy font encoding (TCVN3, VNI, VISCII: pipeline/legacy_vietnamese.py), served
    as Western text or re-saved as UTF-8, is converted to Unicode."""
    if not body or not body.strip():
        return Dropped("decode", "empty", "empty body")
    if _looks_binary(body):
        return Dropped("decode", "binary", "binary content (control bytes in the first 4 KB)")
    text, how, codec = None, "", None
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            codec, how = name, "bom"
            text = _try(body, codec)
            break
    if text is None and content_type:
        m = _HEADER_CHARSET.search(content_type)
        if m:
            codec, how = _codec(m.group(1)), "header"
            text = _try(body, codec)
    if text is None:
        m = _META_CHARSET.search(body[:8192])
        if m:
            codec, how = _codec(m.group(1).decode("ascii", "replace")), "meta"
            text = _try(body, codec)
    if text is None:
        codec, how = "utf-8", "utf-8"
        text = _try(body, codec)
    if text is None:  # VISCII uses bytes cp1252 leaves undefined: try it before guessing
        legacy_text = decode_as_cp1252(body)
        legacy = detect_legacy_vietnamese(legacy_text)
        if legacy:
            return Decoded(unicodedata.normalize("NFC", convert_legacy_vietnamese(legacy_text, legacy)), legacy,
                           "legacy-font")
    if text is None:
        best = charset_normalizer.from_bytes(body[:200_000]).best()
        if best is None:
            return Dropped("decode", "undecodable", "no character encoding fits the bytes")
        codec, how = _codec(best.encoding) or best.encoding, "detected"
        text = body.decode(codec, errors="replace")
    text = unicodedata.normalize("NFC", text)
    if text.count("\ufffd") > max(10, len(text) // 50):
        return Dropped("decode", "binary", f"undecodable bytes as {codec}")
    if codec in ("cp1252", "utf-8", "utf-8-sig"):  # Western text, or old mojibake re-saved as UTF-8
        legacy = detect_legacy_vietnamese(text)
        if legacy:
            return Decoded(convert_legacy_vietnamese(text, legacy), legacy, "legacy-font")
    return Decoded(text, codec or "utf-8", how)


@dataclass
class Extracted:
    title: str
    text: str
    lead: str = ""
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    html_lang: str | None = None
    published_has_time: bool = False  # the page gave the time of day, not only the date


_HTML_LANG = re.compile(r"<html[^>]*\slang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)


def _parse_date(value: str | None, tz: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:  # a date or a local time without zone: the city's time
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(UTC)


_META_TAG = re.compile(r"<meta\b[^>]{0,2000}>", re.I)
_ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_JSON_LD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{10,40})"')
_HAS_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# Metadata naming the publication time, in the order they are trusted.
_PUBLISHED_KEYS = ("article:published_time", "og:published_time", "datepublished", "parsely-pub-date",
                   "sailthru.date", "pubdate", "publishdate", "publish-date", "dc.date.issued", "dcterms.issued")


def page_published_time(html: str, tz: ZoneInfo) -> datetime | None:
    """The publication time (with the time of day) the page's metadata states — Open Graph /
    article meta tags, then JSON-LD ``datePublished`` — or None when none gives a time of day.
    trafilatura and htmldate keep only the date; the time tells which of two copies came first."""
    head = html[:100_000]
    found: dict[str, str] = {}
    for tag in _META_TAG.findall(head):
        attributes = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
                      for m in _ATTRIBUTE.finditer(tag)}
        key = (attributes.get("property") or attributes.get("name") or attributes.get("itemprop") or "").lower()
        if key in _PUBLISHED_KEYS and attributes.get("content"):
            found.setdefault(key, attributes["content"])
    candidates = [found[k] for k in _PUBLISHED_KEYS if k in found] + _JSON_LD_PUBLISHED.findall(html[:300_000])
    for value in candidates:
        if _HAS_TIME.match(value.strip()):
            parsed = _parse_date(value, tz)
            if parsed is not None:
                return parsed
    return None


def extract_article(html: str, url: str, *, timezone: str = "UTC", min_chars: int = 80) -> Extracted | Dropped:
    """The article in a page: main text without boilerplate (trafilatura), title, authors,
    publication date (htmldate when trafilatura finds none), site name and canonical URL.
    Dates without a zone are read in ``timezone`` (the city's)."""
    tz = ZoneInfo(timezone)
    try:
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_tables=True,
            date_extraction_params={"extensive_search": True, "original_date": True,
                                    "outputformat": "%Y-%m-%dT%H:%M:%S"},
        )
    except Exception as exc:  # trafilatura raises assorted errors on hostile markup
        return Dropped("extract", "extraction_error", f"{type(exc).__name__}: {exc}")
    text = (doc.text or "").strip() if doc else ""
    if len(text) < min_chars:
        return Dropped("extract", "no_text", f"no article text found ({len(text)} characters)")
    published = _parse_date(doc.date, tz)
    if published is None:
        try:
            published = _parse_date(find_date(html, extensive_search=True, original_date=True), tz)
        except Exception:  # htmldate on hostile markup
            published = None
    published_has_time = False
    timed = page_published_time(html, tz)
    if timed is not None and (published is None or timed.astimezone(tz).date() == published.astimezone(tz).date()):
        published, published_has_time = timed, True
    authors = [a.strip() for a in re.split(r";|\s&\s|,\s(?=[A-ZÀ-Ỹ])", doc.author or "") if a.strip()]
    description = (doc.description or "").strip()
    lang_match = _HTML_LANG.search(html[:4096])
    return Extracted(
        title=(doc.title or "").strip(),
        text=unicodedata.normalize("NFC", text),
        lead=unicodedata.normalize("NFC", description),
        authors=authors,
        published_at=published,
        site_name=(doc.sitename or "").strip() or None,
        canonical_url=doc.url or None,
        html_lang=lang_match.group(1).lower() if lang_match else None,
        published_has_time=published_has_time,
    )
