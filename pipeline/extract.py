"""Decoding and extraction: from the bytes of a page to its article text and metadata."""

from __future__ import annotations

import codecs
import html as html_lib
import json
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import charset_normalizer
import lxml.html
import trafilatura
from htmldate import find_date
from trafilatura.metadata import extract_author
from w3lib.encoding import resolve_encoding

from hpbase import scripts
from pipeline.legacy_vietnamese import convert_legacy_vietnamese, decode_as_cp1252, detect_legacy_vietnamese
from pipeline.metadata_scripts import embedded_article_text
from pipeline.outcome import Dropped

log = logging.getLogger(__name__)

# A declared charset means its WHATWG superset (GBK and GB2312 → GB18030, Shift_JIS → CP932,
# ISO-8859-1 and ASCII → windows-1252, EUC-KR → CP949, TIS-620 → CP874, Big5 → Big5-HKSCS) and
# UTF-7 is refused: w3lib's table (``w3lib.encoding.resolve_encoding``, Scrapy's own). Two labels
# of the WHATWG Encoding Standard that its table does not know:
_MORE_CHARSET_ALIASES = {"x-gbk": "gb18030", "windows-949": "cp949"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)


@dataclass
class Decoded:
    html: str
    encoding: str
    how: str  # bom | header | meta | utf-8 | detected | legacy-font (encoding: tcvn3 | vni | viscii)
    replaced: int = 0  # invalid byte sequences decoded as U+FFFD (a stray byte, a download cut in a character)


def _codec(name: str) -> str | None:
    """The Python codec a declared charset label means (its superset), or None (unknown, UTF-7)."""
    name = name.strip().lower()
    return resolve_encoding(_MORE_CHARSET_ALIASES.get(name, name))


def _try(body: bytes, codec: str | None) -> str | None:
    if not codec:
        return None
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _few_bad(body: bytes, codec: str | None) -> tuple[str, int] | None:
    """``body`` decoded with replacement when only a few of its bytes are invalid in ``codec``
    (one stray byte, a download cut inside a multi-byte character: a browser shows the page with
    a replacement mark), with how many sequences were replaced; None when many are (the codec is
    wrong) or the codec is unknown."""
    if not codec:
        return None
    try:
        text = body.decode(codec, errors="replace")
    except LookupError:
        return None
    replaced = text.count("\ufffd") - (body.count(b"\xef\xbf\xbd") if codec.startswith("utf") else 0)
    return (text, replaced) if 0 < replaced <= max(_FEW_BAD_MIN, len(body) // _FEW_BAD_PER) else None


_FEW_BAD_MIN, _FEW_BAD_PER = 8, 2000  # at most 8 bad sequences, or one in 2,000 bytes


def _meta_codec(label: str) -> str | None:
    """The codec a ``<meta>`` charset declaration means. As the HTML standard's prescan says, a
    page that names UTF-16 in a meta tag is not UTF-16 (those bytes could not have spelled the
    tag in ASCII): it is read as UTF-8."""
    codec = _codec(label)
    return "utf-8" if codec and codec.replace("_", "-").startswith("utf-16") else codec


# The WHATWG MIME Sniffing Standard (https://mimesniff.spec.whatwg.org/), "rules for identifying
# an unknown MIME type": the byte patterns of the formats a server may send in place of a page
# (image, audio/video, font, archive and PDF signatures, sections 7.1-7.2, 6.1-6.3), checked at the
# start of the body before anything else, and the HTML patterns (section 7.1) after leading
# whitespace. Written out here: no sniffer is installed (filetype, puremagic and python-magic
# know binary signatures but none implements the spec's HTML patterns, and python-magic needs
# libmagic); the spec's table is short and stable.
_BINARY_SIGNATURES: tuple[tuple[bytes, bytes, str], ...] = (  # (pattern, mask, what)
    (b"%PDF-", b"", "PDF document"),
    (b"%!PS-Adobe-", b"", "PostScript document"),
    (b"GIF87a", b"", "GIF image"), (b"GIF89a", b"", "GIF image"),
    (b"RIFF\0\0\0\0WEBPVP", b"\xff\xff\xff\xff\0\0\0\0\xff\xff\xff\xff\xff\xff", "WebP image"),
    (b"\x89PNG\r\n\x1a\n", b"", "PNG image"),
    (b"\xff\xd8\xff", b"", "JPEG image"),
    (b"BM", b"", "BMP image"),
    (b"\0\0\x01\0", b"", "icon"), (b"\0\0\x02\0", b"", "cursor"),
    (b"\0\0\0\0ftyp", b"\0\0\0\0\xff\xff\xff\xff", "MP4 video"),
    (b"\x1aE\xdf\xa3", b"", "WebM/Matroska video"),
    (b"OggS\0", b"", "Ogg media"),
    (b"MThd\0\0\0\x06", b"", "MIDI audio"),
    (b"RIFF\0\0\0\0AVI ", b"\xff\xff\xff\xff\0\0\0\0\xff\xff\xff\xff", "AVI video"),
    (b"RIFF\0\0\0\0WAVE", b"\xff\xff\xff\xff\0\0\0\0\xff\xff\xff\xff", "WAVE audio"),
    (b"ID3", b"", "MP3 audio"),
    (b"FORM\0\0\0\0AIFF", b"\xff\xff\xff\xff\0\0\0\0\xff\xff\xff\xff", "AIFF audio"),
    (b"wOFF", b"", "WOFF font"), (b"wOF2", b"", "WOFF2 font"),
    (b"\0\x01\0\0", b"", "TrueType font"), (b"OTTO", b"", "OpenType font"), (b"ttcf", b"", "font collection"),
    (b"\x1f\x8b\x08", b"", "gzip archive"),
    (b"PK\x03\x04", b"", "zip archive (or an Office document)"),
    (b"Rar \x1a\x07\0", b"", "RAR archive"), (b"Rar!\x1a\x07\x01\0", b"", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", b"", "7-Zip archive"),
    (b"(\xb5/\xfd", b"", "zstd archive"),
    (b"\xfd7zXZ\0", b"", "xz archive"),
    (b"BZh", b"", "bzip2 archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"", "OLE document (old Office format)"),
)
# The spec's HTML patterns (each followed by a tag-terminating byte, space or ">"), after leading
# whitespace; "<!--" needs none.
_HTML_START = re.compile(
    rb"[\t\n\x0c\r ]*(?:<!--|<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p)"
    rb"[ >])", re.I)
# Clear HTML markup anywhere in the first KB (after a stray byte, a comment, a byte-order mark or
# junk the CMS printed before the document).
_HTML_MARKUP = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<meta[^>]{0,200}charset\s*=|<body[\s>]", re.I)
# Bytes the spec calls binary data (section 7.1: "binary data byte"), NUL included.
_BINARY_BYTES = frozenset(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_STRAY_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def _binary_signature(body: bytes) -> str | None:
    """What the body starts as when it starts as a known binary format (the spec's signatures).
    A short all-letters signature (``BM``, ``ID3``, ``OTTO``...) counts only with binary bytes
    after it: a text page may start "BMW"."""
    has_binary = any(b in _BINARY_BYTES for b in body[:512])
    for pattern, mask, what in _BINARY_SIGNATURES:
        head = body[:len(pattern)]
        if len(head) < len(pattern) or (len(pattern) <= 4 and pattern.isalnum() and not has_binary):
            continue
        if mask:
            if all((b & m) == (p & m) for b, p, m in zip(head, pattern, mask, strict=False)):
                return what
        elif head == pattern:
            return what
    return None


def sniff_html(body: bytes) -> bool:
    """True when the body is clearly HTML: the WHATWG HTML patterns at its start (after
    whitespace and a UTF-8 BOM), or ``<!doctype html``, ``<html``, ``<head``, ``<meta charset``,
    ``<body`` within its first KB."""
    head = body[:1024]
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    return bool(_HTML_START.match(head) or _HTML_MARKUP.search(head))


def _looks_binary(body: bytes) -> str | None:
    """Why the body is not a page (a person's reason), or None when it may be one. Order: a
    binary format's signature at the start (a PDF with HTML inside it is still a PDF); HTML
    markup (a page with a stray NUL or control byte is a page, as a browser shows it); then the
    share of binary bytes in the first 4 KB."""
    head = body[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    what = _binary_signature(head)
    if what:
        return f"binary content: {what} (its signature at the start), not HTML"
    if sniff_html(head):
        return None
    controls = sum(1 for b in head if b in _BINARY_BYTES)
    if b"\x00" in head or controls > len(head) * 0.02:
        return f"binary content ({controls} control bytes in the first 4 KB, no HTML markup)"
    return None


def _without_controls(text: str) -> str:
    """The text without stray C0 control characters (after any legacy-font conversion: VISCII
    puts Vietnamese letters at six C0 positions)."""
    return _STRAY_CONTROLS.sub("", text) if _STRAY_CONTROLS.search(text) else text


def decode_html(body: bytes, content_type: str | None = None) -> Decoded | Dropped:
    """The page as text. Order: BOM, HTTP charset, ``<meta charset>``, strict UTF-8, then
    statistical detection. Declared legacy charsets map to their supersets (GBK → GB18030,
    Shift_JIS → CP932...). Windows-1258's combining tone marks are composed (NFC). Vietnamese
    typed in a legacy font encoding (TCVN3, VNI, VISCII: pipeline/legacy_vietnamese.py), served
    as Western text or re-saved as UTF-8, is converted to Unicode."""
    if not body or not body.strip():
        return Dropped("decode", "empty", "empty body")
    why = _looks_binary(body)
    if why:
        return Dropped("decode", "binary", why)
    if b"\x00" in body and not body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        body = body.replace(b"\x00", b"")  # HTML with stray NULs: a browser ignores them too
    text, how, codec, replaced = None, "", None, 0
    declared: tuple[str, int, str | None, str] | None = None  # (text, replaced, codec, how) decoded leniently
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
            if text is None and (lenient := _few_bad(body, codec)):
                declared = (*lenient, codec, how)  # used only if the bytes are not strict UTF-8 either
    if text is None:
        m = _META_CHARSET.search(body[:8192])
        if m:
            codec, how = _meta_codec(m.group(1).decode("ascii", "replace")), "meta"
            if (codec or "").startswith(("cp125", "iso8859", "latin", "mac-")) and max(body, default=0) >= 0x80 \
                    and _try(body, "utf-8") is not None:
                codec = "utf-8"  # valid UTF-8 under a single-byte declaration: the declaration is stale
            text = _try(body, codec)
            if text is None and declared is None and (lenient := _few_bad(body, codec)):
                declared = (*lenient, codec, how)
    if text is None:
        codec, how = "utf-8", "utf-8"
        text = _try(body, codec)
    if text is None:  # VISCII uses bytes cp1252 leaves undefined: try it before guessing
        legacy_text = decode_as_cp1252(body)
        legacy = detect_legacy_vietnamese(legacy_text)
        if legacy:
            return Decoded(_without_controls(unicodedata.normalize("NFC", convert_legacy_vietnamese(
                legacy_text, legacy))), legacy, "legacy-font")
    if text is None and declared is not None:  # a few bad bytes under the declared charset
        text, replaced, codec, how = declared
    if text is None and (lenient := _few_bad(body, "utf-8")):
        (text, replaced), codec, how = lenient, "utf-8", "utf-8"
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
            return Decoded(_without_controls(convert_legacy_vietnamese(text, legacy)), legacy, "legacy-font")
    if replaced:
        log.info("decode: %d invalid byte sequence(s) in %s replaced", replaced, codec)
    return Decoded(_without_controls(text), codec or "utf-8", how, replaced)


@dataclass
class Extracted:
    title: str
    text: str
    lead: str = ""
    authors: list[str] = field(default_factory=list)
    # editors the page credits ("责任编辑：X", "Biên tập: X"): never authors, kept for the reasons
    editors: list[str] = field(default_factory=list)
    published_at: datetime | None = None  # UTC
    site_name: str | None = None
    canonical_url: str | None = None
    html_lang: str | None = None
    published_has_time: bool = False  # the page gave the time of day, not only the date
    # where the publication time came from: "json-ld", "meta:<name>", "itemprop", "time-element",
    # "htmldate" (process.py adds "feed" / "sitemap" when a listing's time wins); None: no date
    date_source: str | None = None
    published_local: datetime | None = None  # the same instant in the offset the page stated (or the source's zone)


_HTML_LANG = re.compile(r"<html[^>]*\slang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)

# --- publication time -------------------------------------------------------------------------
#
# Order of trust (docs/extraction.md): a value that states its zone beats one that does not,
# structured data beats htmldate's guess, and the page beats the listing that linked to it.
#   1. zoned time from JSON-LD ``datePublished`` of the page's article, or from the Open Graph
#      ``article:published_time`` family
#   2. zoned time from other metadata (``pubdate``, Dublin Core, ``itemprop=datePublished``, <time>)
#   3. a zone-less time of day from any of those, read in the SOURCE's zone
#   4. a date without time of day from any of those (midnight in the source's zone)
#   5. htmldate (fast search during extraction; its extensive search only when 1-4 found nothing)
#   6. the feed's or sitemap's time for the link (process.py; it refines a bare date of the same day)
# Within a rank, JSON-LD comes before meta tags, and meta tags in the order of _PUBLISHED_KEYS.

# Metadata naming the publication time, in the order they are trusted; the first four are rank 1.
_PUBLISHED_KEYS = ("article:published_time", "og:published_time", "og:article:published_time",
                   "article.published", "datepublished", "parsely-pub-date", "sailthru.date", "pubdate",
                   "publishdate", "publish-date", "publish_date", "publication_date", "article:published",
                   "dc.date.issued", "dcterms.issued", "dcterms.created", "dc.date", "cxenseparse:recs:publishtime",
                   "date", "citation_publication_date")
_RANK1_META = frozenset(_PUBLISHED_KEYS[:4])
_ARTICLE_TYPES = frozenset({
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "askpublicnewsarticle", "satiricalarticle", "blogposting",
    "liveblogposting", "socialmediaposting", "report", "scholarlyarticle", "techarticle", "videoobject",
})
_EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
_ISO_SHAPE = re.compile(r"^\s*(\d{4})-?(\d{2})-?(\d{2})(?:[T ]\s*(\d{1,2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?"
                        r"\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2}|UTC|GMT)?\s*$", re.I)


@dataclass
class _When:
    value: datetime  # aware: stated zone, or the source's zone attached
    zoned: bool
    has_time: bool
    origin: str

    @property
    def rank(self) -> int:
        if self.zoned and self.has_time:
            return 1 if self.origin == "json-ld" or self.origin.removeprefix("meta:") in _RANK1_META else 2
        return 3 if self.has_time else 4


def _parse_when(value: object, tz: ZoneInfo, origin: str) -> _When | None:
    """A date-time string as the page wrote it: ISO 8601 (basic or extended, ``Z``, ``+0700``,
    ``+07``, ``UTC``), RFC 822, or seconds/milliseconds since the epoch. A value without zone is
    put in ``tz``; a date alone is midnight there."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()
                                             and len(value.strip()) in (10, 13)):
        number = float(value)
        try:
            dt = datetime.fromtimestamp(number / 1000 if number > 1e11 else number, UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return _valid(_When(dt, True, True, origin))
    if not isinstance(value, str) or not value.strip():
        return None
    slashed = _YEAR_FIRST.match(value)
    if slashed:  # "2024/04/24 08:15", "2024.4.24": year first, so never ambiguous
        y, mo, d = slashed.groups()
        value = f"{y}-{int(mo):02d}-{int(d):02d}{value[slashed.end():]}"
    m = _ISO_SHAPE.match(value)
    if m:
        year, month, day, hour, minute, second, fraction, zone = m.groups()
        try:
            dt = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                          int((fraction or "0")[:6].ljust(6, "0")))
        except ValueError:
            return None
        has_time = hour is not None
        if zone:
            zone = zone.upper()
            if zone in ("Z", "UTC", "GMT"):
                offset = timedelta(0)
            else:
                digits = zone[1:].replace(":", "")
                offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
                offset = -offset if zone[0] == "-" else offset
            if offset >= timedelta(hours=24):
                return None
            return _valid(_When(dt.replace(tzinfo=dt_timezone(offset)), True, has_time, origin))
        return _valid(_When(dt.replace(tzinfo=tz), False, has_time, origin))
    if not _RFC822.match(value):  # email.utils reads other shapes loosely ("2:36 PM" as 02:36)
        return _parse_month_name(value, tz, origin)
    try:
        dt = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return _parse_month_name(value, tz, origin)
    if dt is None:
        return _parse_month_name(value, tz, origin)
    zoned = dt.tzinfo is not None and not re.search(r"-0000\s*$", value)
    return _valid(_When(dt if dt.tzinfo else dt.replace(tzinfo=tz), zoned, True, origin))


_RFC822 = re.compile(r"^\s*(?:[A-Za-z]{3},?\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?"
                     r"(?:\s*(?:[+-]\d{4}|[A-Za-z]{1,5}))?\s*$")
_YEAR_FIRST = re.compile(r"^\s*(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?!\d)")
_MONTH_NAME = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?![a-z])", re.I)
_STATED_OFFSET = re.compile(r"(?:\d|\s)(?:Z|UTC|GMT)?\s*[+-]\d{1,2}(?::?\d{2})?\s*$"
                            r"|\b(?:UTC|GMT|Z|[ECMP][SD]T)\s*$", re.I)  # RFC 822's US zones are unambiguous
_TIME_OF_DAY = re.compile(r"\b\d{1,2}:\d{2}\b")


def _parse_month_name(value: str, tz: ZoneInfo, origin: str) -> _When | None:
    """A date written with an English month name ("November 19, 2019", "01:38 PM IST Nov 20,
    2019"), by dateparser. A zone is taken only as an offset or UTC/GMT; a zone abbreviation is
    ambiguous (IST is India's, Ireland's and Israel's) and the value is read in ``tz``."""
    if not _MONTH_NAME.search(value) or len(value) > 80:
        return None
    import dateparser  # a rare path: loaded only for these values

    try:
        dt = dateparser.parse(value, languages=["en"], settings={"REQUIRE_PARTS": ["day", "month", "year"]})
    except Exception:  # dateparser on odd input
        return None
    if dt is None:
        return None
    zoned = dt.tzinfo is not None and bool(_STATED_OFFSET.search(value))
    if not zoned:
        dt = dt.replace(tzinfo=tz)
    return _valid(_When(dt, zoned, bool(_TIME_OF_DAY.search(value)), origin))


def _valid(when: _When) -> _When | None:
    if when.value < _EARLIEST or when.value > datetime.now(UTC) + timedelta(days=2):
        return None
    return when


def _parse_date(value: str | None, tz: ZoneInfo) -> datetime | None:
    when = _parse_when(value, tz, "")
    return when.value.astimezone(UTC) if when else None


# --- reading the page's structured data -------------------------------------------------------


@dataclass
class _PageMeta:
    meta: dict[str, list[str]] = field(default_factory=dict)  # lower-cased name/property/itemprop -> contents
    ld_article: dict | None = None  # the JSON-LD object of the page's article
    ld_objects: list[dict] = field(default_factory=list)  # every JSON-LD object (for @id references)
    itemprop_published: list[str] = field(default_factory=list)
    time_elements: list[str] = field(default_factory=list)  # <time pubdate> / <time itemprop> datetimes
    title: str = ""
    h1s: list[str] = field(default_factory=list)
    rel_authors: list[str] = field(default_factory=list)
    signoff: str | None = None  # the article's closing by-line (a right-aligned bold paragraph)
    # keys (_key) of the page's section and category names: article:section, JSON-LD articleSection,
    # breadcrumb items, rel="category"/"tag" links — a CMS that fills the author field with one is
    # not naming a writer
    sections: set[str] = field(default_factory=set)


def _ld_types(obj: dict) -> set[str]:
    t = obj.get("@type")
    types = t if isinstance(t, list) else [t]
    return {str(x).lower().rsplit("/", 1)[-1] for x in types if x}


def _ld_walk(data: object, out: list[dict], depth: int = 0) -> None:
    """Top-level objects, ``@graph`` members and list items (not nested properties)."""
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data:
            _ld_walk(item, out, depth + 1)
    elif isinstance(data, dict):
        out.append(data)
        if "@graph" in data:
            _ld_walk(data["@graph"], out, depth + 1)
        main = data.get("mainEntity")
        if isinstance(main, dict):
            _ld_walk(main, out, depth + 1)


def _load_json(text: str) -> object:
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip().rstrip(";")
    try:
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        pass
    try:  # several objects one after another, or trailing junk
        decoder = json.JSONDecoder(strict=False)
        obj, _ = decoder.raw_decode(text)
        return obj
    except (ValueError, RecursionError) as exc:
        log.debug("extract: a JSON-LD block is not JSON, skipped (%s)", exc)
        return None


def _text_of(element) -> str:
    try:
        return _SPACE.sub(" ", element.text_content()).strip()
    except ValueError:
        return ""


def _read_page(tree, url: str | None) -> _PageMeta:
    pm = _PageMeta()
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = el.get("content")
        if key and content and content.strip():
            pm.meta.setdefault(key, []).append(content.strip())
    objects: list[dict] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() == "application/ld+json" and script.text:
            _ld_walk(_load_json(script.text), objects)
    pm.ld_objects = objects
    articles = [o for o in objects if _ld_types(o) & _ARTICLE_TYPES]
    if url and len(articles) > 1:  # several articles (related stories): the one of this page
        bare = url.split("?")[0].split("#")[0].rstrip("/")

        def own(o: dict) -> bool:
            links = [o.get("url"), o.get("@id"), o.get("mainEntityOfPage")]
            links = [x.get("@id") if isinstance(x, dict) else x for x in links]
            return any(isinstance(x, str) and x.split("?")[0].split("#")[0].rstrip("/") == bare for x in links)

        articles = [o for o in articles if own(o)] or articles
    pm.ld_article = articles[0] if articles else None
    if pm.ld_article is None:  # a WebPage carrying the article's fields
        pages = [o for o in objects if _ld_types(o) & {"webpage", "itempage"} and o.get("headline")]
        pm.ld_article = pages[0] if pages else None
    for el in tree.xpath('//*[@itemprop="datePublished"][not(self::meta)]'):
        value = el.get("datetime") or el.get("content")
        if value:
            pm.itemprop_published.append(value)
    for el in tree.xpath("//time[@pubdate][@datetime]"):
        pm.time_elements.append(el.get("datetime"))
    title = tree.find(".//title")
    pm.title = _text_of(title) if title is not None else ""
    pm.h1s = [t for t in (_text_of(h) for h in tree.iter("h1")) if t][:5]
    # a closing paragraph, right-aligned, all bold: the by-line of Vietnamese (and other) papers
    for el in tree.xpath("//p[contains(translate(@style, ' ', ''), 'text-align:right') or @align='right']"
                         "[strong or b]"):
        bold = " ".join(_text_of(b) for b in el if b.tag in ("strong", "b"))
        text = _text_of(el)
        if text and text == bold and len(text.split()) <= 6 and not _SOURCE_CREDIT.match(text):
            pm.signoff = text
    for el in tree.xpath('//a[@rel="author"] | //link[@rel="author"][@title]'):
        name = el.get("title") if el.tag == "link" else _text_of(el)
        if name:
            pm.rel_authors.append(name)
    sections = [*pm.meta.get("article:section", []), *_ld_values(pm.ld_article, "articleSection")]
    for obj in pm.ld_objects:
        if "breadcrumblist" in _ld_types(obj):
            items = [i for i in _ld_values(obj, "itemListElement") if isinstance(i, dict)]
            for item in items[:-1]:  # the last crumb is the article itself
                named = item.get("item") if isinstance(item.get("item"), dict) else item
                sections.append(named.get("name"))
    for el in tree.xpath("//a[@rel]"):
        if len(sections) < 60 and {"category", "tag"} & set(el.get("rel").lower().split()):
            sections.append(_text_of(el))
    pm.sections = {k for k in (_key(_clean_text(n)) for n in sections if isinstance(n, str)) if len(k) >= 3}
    return pm


def _ld_values(obj: dict | None, key: str) -> list:
    if not obj:
        return []
    value = obj.get(key)
    return value if isinstance(value, list) else [value] if value is not None else []


def _published_candidates(pm: _PageMeta, tz: ZoneInfo) -> list[_When]:
    found: list[_When] = []
    for value in _ld_values(pm.ld_article, "datePublished")[:1]:
        when = _parse_when(value, tz, "json-ld")
        if when:
            found.append(when)
    for key in _PUBLISHED_KEYS:
        for value in pm.meta.get(key, [])[:1]:
            when = _parse_when(value, tz, f"meta:{key}")
            if when:
                found.append(when)
    for value in pm.itemprop_published[:1]:
        when = _parse_when(value, tz, "itemprop")
        if when:
            found.append(when)
    for value in pm.time_elements[:1]:
        when = _parse_when(value, tz, "time-element")
        if when:
            found.append(when)
    return found


def _best_published(candidates: list[_When]) -> _When | None:
    # sorted() is stable: within a rank the order of _published_candidates (the order of trust)
    return min(candidates, key=lambda w: w.rank) if candidates else None


def page_published_time(html: str, tz: ZoneInfo) -> datetime | None:
    """The publication time (with the time of day, UTC) that the page's structured data states,
    by the order of trust above, or None when none gives a time of day."""
    tree = trafilatura.load_html(html)
    if tree is None:
        return None
    timed = [w for w in _published_candidates(_read_page(tree, None), tz) if w.has_time]
    best = _best_published(timed)
    return best.value.astimezone(UTC) if best else None


def _htmldate(html_or_tree, url: str | None, tz: ZoneInfo, extensive: bool) -> _When | None:
    try:
        value = find_date(html_or_tree, url=url, extensive_search=extensive, original_date=True,
                          outputformat=_HTMLDATE_FORMAT)
    except Exception:  # htmldate on hostile markup
        return None
    return _from_htmldate(value, tz)


_HTMLDATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def _from_htmldate(value: str | None, tz: ZoneInfo) -> _When | None:
    when = _parse_when(value, tz, "htmldate")
    if when is None:
        return None
    if when.value.timetz().replace(tzinfo=None) == datetime.min.time() and not when.zoned:
        when.has_time = False  # htmldate prints midnight for a date without time of day
    return when


# --- titles -----------------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")
# "Theo Reuters", "Nguồn: TTXVN", "(Ảnh: ...)": a credit to a source or photographer, not a by-line
_SOURCE_CREDIT = re.compile(r"^\(?\s*(?:theo|nguồn|ảnh|photo|foto|source|quelle|fuente)\b", re.I)
_INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
# Separators between a headline and a site or section name.
# CJK punctuation (U+3000-303F) and the full-width forms (U+FF00-FFEF) are separators' neighbours
# too ("见出し：新聞社"); the letters' blocks come from hpbase.scripts.
_CJK_PUNCT: scripts.Range = (0x3000, 0x303F)
_FULLWIDTH_FORMS: scripts.Range = (0xFF00, 0xFFEF)
_CJK_CHAR = scripts.char_class((_CJK_PUNCT, scripts.KANA_BLOCKS, scripts.CJK_EXT_A_AND_UNIFIED,
                                scripts.HANGUL_SYLLABLES, _FULLWIDTH_FORMS))
_TITLE_SEPARATOR = re.compile(rf"\s+[|\-–—·•»~]\s+|\s*[|｜ㅣ│]\s*|\s*：\s*|\s+-(?=\S)|(?<=\S)-\s+"
                              rf"|(?<=[{_CJK_CHAR}])-{{1,2}}(?=[{_CJK_CHAR}])|(?<=[{_CJK_CHAR}])_(?=\S)")
_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


_ENTITY = re.compile(r"&(?:#\d{2,7}|#x[0-9a-f]{2,6}|[a-z]{2,8});", re.I)


def _clean_text(value: object) -> str:
    """The value with its HTML entities decoded — twice when the CMS escaped them twice
    (``&amp;#8216;`` in a JSON-LD headline) — invisible characters dropped and white space collapsed."""
    if not isinstance(value, str):
        return ""
    text = html_lib.unescape(value)
    if "&" in text and _ENTITY.search(text):
        text = html_lib.unescape(text)
    return _SPACE.sub(" ", _INVISIBLE.sub("", text)).strip()


def _key(text: str) -> str:
    return _NON_ALNUM.sub("", text.casefold())


def _site_keys(pm: _PageMeta, url: str | None, sitename: str | None) -> set[str]:
    names = [*pm.meta.get("og:site_name", []), *pm.meta.get("application-name", []),
             *pm.meta.get("apple-mobile-web-app-title", []), *pm.meta.get("twitter:site", []), sitename or ""]
    for obj in pm.ld_objects:
        if _ld_types(obj) & {"organization", "newsmediaorganization", "website"} and isinstance(obj.get("name"), str):
            names.append(obj["name"])
    for publisher in _ld_values(pm.ld_article, "publisher"):
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            names.append(publisher["name"])
    keys = {_key(_clean_text(n).lstrip("@")) for n in names}
    if url:
        host = re.sub(r"^https?://", "", url).split("/")[0].split(":")[0].lower().removeprefix("www.")
        if host:
            keys.add(_key(host))
            labels = host.split(".")
            main = labels[-3] if len(labels) >= 3 and len(labels[-2]) <= 3 else labels[-2] if len(labels) >= 2 else ""
            if len(main) >= 3:
                keys.add(_key(main))
    return {k for k in keys if len(k) >= 2}


def _is_site(segment: str, site_keys: set[str]) -> bool:
    key = _key(segment)
    if not key:
        return False
    for site in site_keys:
        if key == site or (len(site) >= 4 and len(key) >= 4 and (key.startswith(site) or site.startswith(key)
                                                                  or key.endswith(site))):
            return True
    return False


def clean_title(title: str, site_keys: set[str], headings: list[str] = ()) -> str:
    """A headline without the site's name (and, when the page's own heading says so, without the
    section name) before or after a separator: "Headline - Site", "Site | Section | Headline",
    "見出し：新聞社"."""
    title = _clean_text(title)
    if not title:
        return ""
    parts = _TITLE_SEPARATOR.split(title)
    seps = _TITLE_SEPARATOR.findall(title)
    if len(parts) == 1:
        return title
    heading_keys = {_key(h) for h in headings if len(_key(h)) >= 4}
    # the page's own heading equal to most of the title: that run of segments is the headline
    for i in range(len(parts)):
        for j in range(len(parts), i, -1):
            if (i, j) == (0, len(parts)):
                continue
            run = parts[i] + "".join(seps[k] + parts[k + 1] for k in range(i, j - 1))
            if _key(run) in heading_keys and len(_key(run)) >= 0.35 * len(_key(title)):
                return run.strip()
    start, end = 0, len(parts)
    while end - start > 1 and _is_site(parts[end - 1], site_keys):
        end -= 1
    while end - start > 1 and _is_site(parts[start], site_keys):
        start += 1
    if (start, end) == (0, len(parts)):
        return title
    return (parts[start] + "".join(seps[k] + parts[k + 1] for k in range(start, end - 1))).strip()


def _title(pm: _PageMeta, site_keys: set[str], fallback: str | None) -> str:
    """The headline, by the order in docs/extraction.md (Title): the headline the publisher
    declares (JSON-LD ``headline``, else ``og:title``) when its declarations agree; where the two
    differ, the one the visible heading confirms."""
    headings = [*pm.h1s, *pm.meta.get("headline", [])[:1]]  # <meta itemprop/name="headline">: a heading's words
    headline = next((t for t in map(_clean_text, _ld_values(pm.ld_article, "headline")) if t), "")
    og = next((t for t in map(_clean_text, pm.meta.get("og:title", [])[:1]) if t), "")
    candidates = [headline, og, (pm.meta.get("twitter:title") or [""])[0], pm.title, fallback or "",
                  (pm.meta.get("headline") or [""])[0]]  # fixed places: the last two are headings
    cleaned_all = [clean_title(c, site_keys, headings) for c in candidates]
    # a declared "headline" that is only the site's name (a CMS that prints it on every page) is none
    declared = [c for c in cleaned_all[:2] if c and not _is_site(c, site_keys)]
    if len(declared) == 2 and _key(declared[0]) != _key(declared[1]):
        declared = []  # the page declares two headlines: the visible heading decides between them
    heading_keys = {_key(h) for h in headings}
    if not declared:
        for cleaned in cleaned_all[:-2]:  # the metadata candidate the page's visible heading confirms
            if cleaned and _key(cleaned) in heading_keys:
                return cleaned
    first = declared[0] if declared else next((c for c in cleaned_all if c), "")
    for heading in map(_clean_text, headings):  # "Recipe <heading>", "<heading> przepis": the visible heading
        at = first.lower().find(heading.lower()) if len(heading) >= 8 else -1
        rest = (first[:at] + first[at + len(heading):]).strip() if at >= 0 else ""
        # the rest only plain words (a "Kicker: headline" keeps its kicker)
        if at >= 0 and rest and len(heading) >= 0.6 * len(first) and not re.search(r"[:|\-–—»«/]", rest):
            return heading
    for cleaned in [first] if declared else cleaned_all:
        if cleaned:
            if cleaned.endswith(("…", "...")):  # a shortened headline: a longer candidate that starts like it
                stem = _key(cleaned.rstrip(".… "))
                longer = [c for c in cleaned_all if len(c) > len(cleaned) and _key(c).startswith(stem)]
                if longer:
                    return longer[0]
            return cleaned
    return ""


# --- authors ----------------------------------------------------------------------------------

_BYLINE_PREFIX = re.compile(
    r"^(?:(?:written|writing|words|story|text|(?:additional\s+)?reporting|reported)\s+by|by|von|par|por|di|da|door|av|af|przez|от|від|bởi|tác\s+giả|autor(?:in)?|auteur|author|"
    r"text|texto|testo|reporter|reportage|redaktion|redacción:|作者|記者|记者|文|撰文|기자|"
    r"view\s+all\s+posts\s+by|posts\s+by|more\s+by|articles\s+by)\s*[:：/／|]?\s+|^(?:作者|文|撰文|記者|记者)\s*[:：/／]\s*",
    re.I)
# An editor's credit, not a by-line: "责任编辑：X", "（责编：X）", "编辑：X", "審核：X", "Biên tập: X",
# "BTV: X", "Edited by X", "Editor: X". What follows it names editors; what precedes it may be the
# by-line ("作者：王五 责任编辑：赵六"). A role after a name ("Jane Doe, Politics Editor") is not a credit.
_EDITOR_CREDIT = re.compile(
    r"[（(\[【]?\s*(?:(?:值班|责任|責任|执行|執行|网络|網絡|美术|美術)?(?:编辑|編輯)|责编|責編|主编|主編|审核|審核|校对|校對|"
    r"编审|編審|監修)\s*[:：/／]?\s*"
    r"|[（(\[]?\s*(?<![\w])(?:biên\s+tập(?:\s+viên)?(?=\s*[:：]|\s+[A-ZÀ-ỸĐ])|btv(?=\s*[:：])|hiệu\s+đính(?=\s*[:：])|"
    r"(?:edited|editing)\s+by(?=\s)|editors?(?=\s*[:：])|redigiert\s+von(?=\s))\s*[:：]?\s*",
    re.I)
_ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|선임기자|논설위원|記者|记者|特派員|特派员|編集委員|通讯员|報導|报道)$")
# "Capital Von Jemima Kelly", "Opinion By Jane Doe": a capitalised by-line word after a kicker
_INNER_BYLINE = re.compile(r"^\S+(?:\s\S+)?\s(?:By|Von|Par|Por|Door|Av|Af)\s+(?=[A-ZÀ-ÝĀ-Ž])")
_LEGAL_FORM = re.compile(r"\b(?:GmbH|AG|Ltd|Inc|LLC|S\.A|SA|S\.L|SpA|e\.V|Verlag|Corp)\b\.?")
# A part of a by-line that is only the writer's role ("Jane Doe, Senior Correspondent", "Jane Doe,
# Politics Editor"): a description of the name before it, not a second name.
_ROLE_PART = re.compile(
    r"^(?:[\w.-]+\s+){0,3}(?:editor|correspondent|reporter|writer|columnist|contributor|photographer|journalist|"
    r"producer|analyst|redakteur(?:in)?|korrespondent(?:in)?|journaliste|rédact(?:eur|rice)|correspondant(?:e)?|"
    r"periodista|corresponsal|giornalista|corrispondente|repórter|jornalista|phóng\s+viên|cộng\s+tác\s+viên)s?$",
    re.I)
# "Jane Doe in Hanoi", "John Roe for Harbour Times", "Anna Weber aus Berlin", "Claire Dubois à Paris":
# where the writer filed from, or for whom; not part of the name.
_DATELINE_SUFFIX = re.compile(r"\s+(?:in|for|aus|à|tại|từ)\s+(?:the\s+)?"
                              r"[A-ZÀ-ÝĐ][\w'’.-]*(?:\s+[A-ZÀ-ÝĐ][\w'’.-]*){0,2}$")
# "Hồng Phúc (theo Reuters)", "Jane Doe (with AFP)": the source the writer used, not a name
_SOURCE_SUFFIX = re.compile(r"\s*[(（]\s*(?:theo|nguồn|via|with|mit|avec|con|from|source)\b[^)）]*[)）]$", re.I)
_STAFF_SUFFIX = re.compile(r"\s+(?:\S+\s+)?(?:staff(?:\s+(?:writer|reporter))?|correspondent|contributor|reporter)$",
                           re.I)
_SOCIAL = re.compile(r"^(?:facebook|twitter|instagram|youtube|tiktok|linkedin|telegram)(?:\s*\.?\s*com)?$", re.I)
_INITIALS = re.compile(r"\s*\([\w.]{1,5}\)$")  # "Jane Doe (jd)": the by-line's initials
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\||/|,|，|、|\s(?:and|und|og|och|et|y|e|i|en|und|và|ve|и|та|ja|és|a)\s|&)\s*",
                           re.I)
_PHOTO_CREDIT = re.compile(r"^(?:photo|photos|foto|fotos|фото|ảnh|写真|图片|圖片|图|圖|사진|bild|picture|image|video)"
                           r"(?:\b|\s|:|/)", re.I)
_NOT_A_NAME = re.compile(r"^(?:null|none|undefined|admin|administrator|unknown|anonymous|staff|name|author|autor|"
                         r"redazione|user|guest|editor|webmaster)$", re.I)
_CJK = re.compile(
    f"[{scripts.char_class((scripts.KANA_BLOCKS, scripts.CJK_EXT_A_AND_UNIFIED, scripts.HANGUL_SYLLABLES))}]")
_DATE_LIKE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}:\d{2}")


def _person_names(value: object, by_id: dict[str, dict]) -> list[tuple[str, bool]]:
    """(name, is_organization) pairs from a JSON-LD ``author`` value."""
    out: list[tuple[str, bool]] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            out.append((item, False))
        elif isinstance(item, dict):
            if "name" not in item and isinstance(item.get("@id"), str):
                item = by_id.get(item["@id"], item)
            name = item.get("name")
            if isinstance(name, list):
                name = " ".join(str(n) for n in name)
            if not isinstance(name, str) and (item.get("givenName") or item.get("familyName")):
                name = f"{item.get('givenName') or ''} {item.get('familyName') or ''}"
            if isinstance(name, str):
                out.append((name, bool(_ld_types(item) & {"organization", "newsmediaorganization"})))
    return out


_NAME_PARTICLES = frozenset({"de", "da", "di", "du", "del", "della", "der", "den", "van", "von", "zu", "le", "la",
                             "les", "bin", "binti", "al", "el", "y", "e", "dos", "das", "do"})


def _lower_words(name: str) -> list[str]:
    """Lower-case words that are not name particles ("von", "de", "van"...): a by-line found in
    the body with such words is a phrase ("Un documentaire de X"), not a name."""
    return [w for w in name.split() if w[:1].islower() and w.casefold() not in _NAME_PARTICLES]


def _looks_like_name(name: str) -> bool:
    if not name or len(name) > 60 or _NOT_A_NAME.match(name) or _PHOTO_CREDIT.match(name) or _SOCIAL.match(name):
        return False
    if re.search(r"https?://|www\.|@|facebook\.com|twitter\.com|/", name) or _DATE_LIKE.search(name):
        return False
    if name.isdigit() or re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)+", name):  # ids and URL slugs
        return False
    words = name.split()
    if len(words) > 5:
        return False
    # four or more words, mostly lower-case: a phrase, not a name ("Guardian staff reporter" is a by-line)
    return bool(_CJK.search(name)) or len(words) <= 3 or sum(w[:1].islower() for w in words) <= len(words) // 2


def _unbracket(part: str) -> str:
    """Without a bracket it does not close or open ("（记者 张三" of "（记者 张三）（责编：李四）")."""
    for opening, closing in (("(", ")"), ("（", "）"), ("[", "]"), ("【", "】")):
        if part.startswith(opening) and closing not in part:
            part = part[1:].strip()
        if part.endswith(closing) and opening not in part:
            part = part[:-1].strip()
        if part.startswith(opening) and part.endswith(closing) and part.count(opening) == 1:
            part = part[1:-1].strip()
    return part


def split_credits(value: str) -> tuple[list[str], list[str]]:
    """(authors, editors) of one credit line: the by-line before an editor's credit, the editors
    after it ("作者：王五 责任编辑：赵六" → ["王五"], ["赵六"]; "（责编：张三、李四）" → [], ["张三", "李四"];
    "Biên tập: Trần Bình" → [], ["Trần Bình"])."""
    value = _clean_text(value)
    m = _EDITOR_CREDIT.search(value)
    if not m:
        return split_authors(value), []
    editors: list[str] = []
    for chunk in _EDITOR_CREDIT.split(value[m.end():]):
        editors += split_authors(chunk.strip(" ()（）[]【】"))
    return (split_authors(value[:m.start()]) if value[:m.start()].strip() else []), editors


def split_authors(value: str) -> list[str]:
    """One by-line to names: "By X and Y", "X, Y & Z", "Von X und Y", "Bởi X", "文／X", "X 기자".
    An editor's credit and what follows it are not the by-line (``split_credits``)."""
    value = _clean_text(value)
    m = _EDITOR_CREDIT.search(value)
    if m:
        value = value[:m.start()]
    value = _BYLINE_PREFIX.sub("", _INNER_BYLINE.sub("", value)).strip()
    if re.search(r"^(?:https?:|www\.)|://|\w\.[a-z]{2,}/", value):
        return []  # a profile URL (facebook.com/site), not a name
    if _LEGAL_FORM.search(value):
        value = value.split(",")[0]  # "Verlag GmbH, Nürnberg, Germany": an organisation and its address
    parts = _AUTHOR_SPLIT.split(value)
    if len(parts) > 1 and "," not in value and any(len(p.split()) == 1 and not _CJK.search(p) for p in parts):
        parts = [value]  # "Jobs & Hire", "Simon & Schuster": one name with a conjunction in it
    names = []
    for i, part in enumerate(parts):
        part = _SOURCE_SUFFIX.sub("", part.strip(" ,:;-–—"))
        if i > 0 and _ROLE_PART.match(part):
            continue  # "Jane Doe, Senior Correspondent": the role of the name before it
        part = _unbracket(part)
        if part.endswith(".") and not re.search(r"(?:^|[\s.])\w\.$", part):
            part = part[:-1]  # a full stop, not the dot of an initial ("Nicolas Gutierrez C.", "e.V.")
        part = _BYLINE_PREFIX.sub("", part).strip()
        part = _ROLE_SUFFIX.sub("", _INITIALS.sub("", part)).strip()
        staff = _STAFF_SUFFIX.sub("", part)
        if len(staff.split()) >= 2:
            part = staff  # "Adam Aaronson PhillyVoice Staff"; "Guardian staff reporter" stays whole
        filed = _DATELINE_SUFFIX.sub("", part)
        if len(filed.split()) >= 2 or (filed != part and _CJK.search(filed)):
            part = filed
        if part:
            names.append(part)
    return names


def _authors(pm: _PageMeta, site_keys: set[str], fallback: Callable[[], str | None],
             editors: list[str] | None = None) -> list[str]:
    """Authors from structured data first (JSON-LD ``author`` of the article, then author meta
    tags, then ``rel=author``), trafilatura's by-line last and only for names of two or more
    words (or CJK names). A publisher named as author beside a person is dropped; an empty list
    when the page names none. Editors credited in the fields read ("责任编辑：X", "Biên tập: X")
    are never authors; they are appended to ``editors``."""
    editors = [] if editors is None else editors
    sections = {k for k in pm.sections if not _is_site(k, site_keys)}  # a home crumb names the publisher
    by_id = {o["@id"]: o for o in pm.ld_objects if isinstance(o.get("@id"), str) and "name" in o}
    sources: list[list[str]] = []
    ld = _person_names(pm.ld_article.get("author") if pm.ld_article else None, by_id)
    sources.append([n for n, _ in ld])
    for key in ("parsely-author", "sailthru.author", "byl", "article:author", "og:article:author", "author",
                "dc.creator", "dcterms.creator", "cxenseparse:author", "citation_author"):
        if pm.meta.get(key):
            sources.append(pm.meta[key])
    sources.append(pm.rel_authors)
    sources.append([pm.signoff] if pm.signoff else [])
    publisher_only: list[str] = []
    for raw in sources:
        names = _usable(raw, site_keys, editors, sections)
        if names and not all(_is_publisher(n, site_keys) for n in names):
            return names
        publisher_only = publisher_only or names
    if not publisher_only and any(sources):
        return []  # the page's author fields hold no name: trafilatura's reading of the same fields is no better
    names = [n for n in _usable(re.split(r";", fallback() or ""), site_keys, editors, sections)
             if (_CJK.search(n) or (len(n.split()) >= 2 and not _lower_words(n))) and not _is_publisher(n, site_keys)]
    return names or publisher_only  # the publisher, when the page names it as the author and no one else


def _is_publisher(name: str, site_keys: set[str]) -> bool:
    """The site itself named as author; not its newsroom's by-line ("Guardian staff reporter",
    "Harbour Times correspondent"): that names the article's writer as the page says it."""
    return _is_site(name, site_keys) and not _STAFF_SUFFIX.search(name)


def _usable(raw: list[str], site_keys: set[str], editors: list[str] | None = None,
            sections: set[str] = frozenset()) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for value in raw:
        if not isinstance(value, str):
            continue
        authors, credited = split_credits(value)
        if editors is not None:
            editors += [e for e in credited if _looks_like_name(e) and e not in editors]
        # a by-line with "name, description, outlet": keep what reads as names
        for name in authors:
            if _looks_like_name(name) and name.casefold() not in seen and _key(name) not in sections:
                seen.add(name.casefold())
                names.append(name)
    persons = [n for n in names if not _is_publisher(n, site_keys)]
    return persons or names


# --- the article ------------------------------------------------------------------------------


def _canonical(pm: _PageMeta, tree, url: str | None) -> str | None:
    for element in tree.iter("link"):
        if (element.get("rel") or "").strip().lower() == "canonical" and element.get("href"):
            href = element.get("href").strip()
            return urljoin(url, href) if url else href if href.startswith(("http://", "https://")) else None
    og = pm.meta.get("og:url", [None])[0]
    return og if og and og.startswith(("http://", "https://")) else None


def _site_name(pm: _PageMeta) -> str | None:
    names = [*pm.meta.get("og:site_name", [])[:1]]
    names += [p["name"] for p in _ld_values(pm.ld_article, "publisher") if isinstance(p, dict)
              and isinstance(p.get("name"), str)]
    names += pm.meta.get("application-name", [])[:1]
    return next((n for n in map(_clean_text, names) if n), None)


def _description(pm: _PageMeta) -> str:
    for key in ("description", "og:description", "twitter:description"):
        for value in pm.meta.get(key, [])[:1]:
            if _clean_text(value):
                return _clean_text(value)
    return next((t for t in map(_clean_text, _ld_values(pm.ld_article, "description")) if t), "")


# Script-aware length: how many Latin-script characters a text is worth. A character of a
# logographic or syllabic script carries more than a Latin letter (the same news brief is about a
# third as many characters in Chinese, 40-50 % in Japanese and Korean), and Thai, Lao, Khmer and
# Burmese put no spaces between words (about one Latin character in six is a space). Weights:
# Han ideographs 3, Hangul syllables 2.5, kana 2, Thai/Lao/Khmer/Myanmar 1.2, anything else 1
# (so Latin, Cyrillic, Vietnamese... count as before: one per character).
# The code points are hpbase.scripts' (one copy); Myanmar (U+1000-109F) is not in that table yet.
_MYANMAR: scripts.Range = (0x1000, 0x109F)
_HAN_UNITS = (scripts.CJK_EXT_A, scripts.CJK_UNIFIED, scripts.CJK_COMPAT, scripts.SIP_TIP)  # planes 2-3 whole
_UNSPACED_UNITS = (*scripts.THAI, *scripts.LAO, *scripts.KHMER, _MYANMAR)
_TEXT_UNIT_WEIGHTS = tuple((re.compile(f"[{scripts.char_class(ranges)}]"), weight) for ranges, weight in (
    (_HAN_UNITS, 3.0), ((scripts.HANGUL_SYLLABLES,), 2.5), (scripts.KANA, 2.0), (_UNSPACED_UNITS, 1.2)))


def text_units(text: str) -> int:
    """The length of ``text`` in Latin-character equivalents (the weights above): what the
    length floors (``min_chars``) compare. ``len(text)`` for text in alphabetic scripts with
    spaces."""
    units = float(len(text))
    if not text.isascii():
        for pattern, weight in _TEXT_UNIT_WEIGHTS:
            units += (weight - 1.0) * len(pattern.findall(text))
    return int(units)


_OPEN_TAG = re.compile(r"<[a-zA-Z]")


def _nested_past_limit(html: str, limit: int = 255) -> bool:
    """Whether the page may nest elements deeper than libxml2's default limit: a cheap bound
    (it has more opening tags than the limit, and parsing it without the limit gives more text)."""
    if len(_OPEN_TAG.findall(html[:2_000_000])) <= limit:
        return False
    try:
        return len(_deep_tree(html).text_content()) > len(trafilatura.load_html(html).text_content())
    except Exception:  # a page neither parser reads: nothing deeper to find
        return False


def _deep_tree(html: str):
    """The page parsed without libxml2's depth limit (256 levels; past it the default parser drops
    the rest of the page), as trafilatura's loader parses it otherwise."""
    parser = lxml.html.HTMLParser(collect_ids=False, remove_comments=True, remove_pis=True, huge_tree=True)
    return lxml.html.document_fromstring(html, parser=parser)


def extract_article(html: str, url: str, *, timezone: str = "UTC", min_chars: int = 80,
                    _deep: bool = False) -> Extracted | Dropped:
    """The article in a page: main text without boilerplate (trafilatura) of at least
    ``min_chars`` text units (``text_units``: a CJK character counts two to three), title, authors,
    publication time (by the order of trust above) and where it came from, site name and
    canonical URL. Times without a zone are read in ``timezone`` — the source's zone (process.py
    passes the source's, else the city's). The page is parsed once: metadata is read from the
    tree first (trafilatura prunes the tree it is given), trafilatura's own metadata step is not
    run, and htmldate only when the structured data gave no time of day."""
    try:
        tz = ZoneInfo(timezone)
    except (ValueError, KeyError):
        tz = ZoneInfo("UTC")
    try:
        tree = _deep_tree(html) if _deep else trafilatura.load_html(html)
        if tree is None:
            return Dropped("extract", "no_text", "no HTML document in the page")
        pm = _read_page(tree, url)
        best = _best_published(_published_candidates(pm, tz))
        if best is None or not best.has_time:
            found = _htmldate(tree, url, tz, extensive=False)
            if found is None and best is None:  # nothing else: htmldate's extensive search
                found = _htmldate(tree, url, tz, extensive=True)
            # the same day as the page's date, that day read in the source's zone (a zoned UTC time of
            # 20:00 is the next day in Asia, where the page's bare date is midnight)
            if found is not None and (best is None or (
                    found.has_time and found.value.astimezone(tz).date() == best.value.astimezone(tz).date())):
                best = found  # htmldate gives a time of day to a structured date of the same day
        site_name = _site_name(pm)
        site_keys = _site_keys(pm, url, site_name)
        title = _title(pm, site_keys, pm.h1s[0] if pm.h1s else None)
        editors: list[str] = []
        authors = _authors(pm, site_keys, lambda: extract_author(tree), editors)
        canonical = _canonical(pm, tree, url)
        doc = trafilatura.bare_extraction(tree, url=url, with_metadata=False, include_comments=True,
                                          include_tables=True)
    except Exception as exc:  # trafilatura raises assorted errors on hostile markup
        return Dropped("extract", "extraction_error", f"{type(exc).__name__}: {exc}")
    text = (doc.text or "").strip() if doc else ""
    units = text_units(text)
    if units < min_chars:  # a client-rendered page: the article may be in its script data
        try:
            embedded = embedded_article_text(html, [title, pm.title, *pm.h1s, *pm.meta.get("og:title", [])[:1],
                                                    *pm.meta.get("headline", [])[:1],
                                                    *map(str, _ld_values(pm.ld_article, "headline")[:1])],
                                             (pm.ld_article or {}).get("articleBody"))
        except Exception as exc:  # hostile script data: the page is judged on its markup alone
            log.info("extract: %s: script data not read (%s: %s)", url, type(exc).__name__, exc)
            embedded = None
        if embedded and text_units(embedded[0]) > units:
            log.debug("extract: %s: the text from the page's %s", url, embedded[1])
            text = embedded[0]
            units = text_units(text)
    if units < min_chars:
        if not _deep and _nested_past_limit(html):  # the default parser dropped what lies deeper
            return extract_article(html, url, timezone=timezone, min_chars=min_chars, _deep=True)
        return Dropped("extract", "no_text", f"no article text found ({len(text)} characters, "
                                             f"{units} of the {min_chars} text units needed)")
    lang_match = _HTML_LANG.search(html[:4096])
    return Extracted(
        title=title,
        text=unicodedata.normalize("NFC", text),
        lead=unicodedata.normalize("NFC", _description(pm)),
        authors=[unicodedata.normalize("NFC", a) for a in authors],
        editors=[unicodedata.normalize("NFC", e) for e in editors],
        published_at=best.value.astimezone(UTC) if best else None,
        site_name=site_name,
        canonical_url=canonical,
        html_lang=lang_match.group(1).lower() if lang_match else None,
        published_has_time=bool(best and best.has_time),
        date_source=best.origin if best else None,
        published_local=best.value if best else None,
    )
