"""Reading feeds (RSS, Atom, news-search results) into links to follow."""

from __future__ import annotations

import calendar
import codecs
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

import feedparser

from crawlers.items import LinkHints

_TAGS = re.compile(r"<[^>]+>")


@dataclass
class FeedEntry:
    link: str
    hints: LinkHints


@dataclass
class FeedReading:
    """The entries of a feed, or why there are none; ``warning`` notes a feed that was
    malformed but still yielded entries (feedparser's bozo)."""

    entries: list[FeedEntry] = field(default_factory=list)
    error: str | None = None  # reason key: empty_feed | not_a_feed | malformed_feed
    detail: str = ""
    warning: str | None = None
    title: str | None = None
    # how the bytes were read when that is worth knowing (a charset guessed, a label overridden,
    # control characters removed): information, never a failure of the source
    notes: list[str] = field(default_factory=list)
    encoding: str | None = None


# Labels as browsers read them (WHATWG): GB2312 pages are GBK/GB18030 in practice, Latin-1 is
# windows-1252, Big5 carries the HKSCS extensions.
_ENCODING_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
                     "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
                     "ascii": "cp1252", "big5": "big5hkscs", "x-sjis": "shift_jis", "tis-620": "cp874",
                     "iso-8859-11": "cp874", "ks_c_5601-1987": "cp949", "euc-kr": "cp949"}
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.I)
_XML_DECL_TEXT = re.compile(r"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])[A-Za-z0-9._:-]+\2", re.I)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _codec(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    label = label.strip().lower()
    label = _ENCODING_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_feed(body: bytes, content_type: str | None = None) -> tuple[str, str, list[str]]:
    """The feed's text, the codec used and notes: a byte-order mark; else UTF-8 when the bytes are
    valid UTF-8 (a text/xml answer without charset is not US-ASCII in practice, and a mislabelled
    Latin-1 text is almost never valid UTF-8); else the charset of the Content-Type, then of the
    XML declaration, when the bytes decode in it; else charset detection (charset-normalizer)."""
    notes: list[str] = []
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name, notes
    # UTF-16 without a byte-order mark, told by how "<?" is written (XML 1.0, appendix F)
    for start, name in ((b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00?", "utf-16-be")):
        if body.startswith(start):
            return body.decode(name, errors="replace"), name, notes
    match = _CHARSET.search(content_type or "")
    http_label = match.group(1) if match else None
    match = _XML_DECL.search(body[:500])
    xml_label = match.group(1).decode("ascii") if match else None
    declared = [(label, _codec(label)) for label in (http_label, xml_label) if label]
    for label, codec in declared:
        if label and codec is None:
            notes.append(f"unknown charset label {label!r}")
        if codec and codec.startswith(("utf-16", "utf-32")) and b"\x00" in body[:8]:  # else a false label
            try:
                return body.decode(codec), codec, notes
            except UnicodeDecodeError:
                continue
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        if any(codec not in (None, "utf-8", "ascii", "cp1252") for _, codec in declared) and not text.isascii():
            labels = ", ".join(label for label, _ in declared)
            notes.append(f"declared {labels} but the bytes are UTF-8: read as UTF-8")
        return text, "utf-8", notes
    for label, codec in declared:
        if codec and codec != "utf-8":
            try:
                return body.decode(codec), codec, notes
            except UnicodeDecodeError:
                notes.append(f"declared {label} but the bytes are not {label}")
        elif codec == "utf-8":
            notes.append(f"declared {label} but the bytes are not valid UTF-8")
    from charset_normalizer import from_bytes

    results = list(from_bytes(body[:200_000]))
    if results:
        # among the guesses that read equally cleanly, windows-1252 (the web's legacy default,
        # WHATWG) beats a close cousin chosen on a few letters (cp1257 for Portuguese)
        clean = [r for r in results if r.chaos <= results[0].chaos + 0.01]
        best = next((r for r in clean if _codec(r.encoding) == "cp1252"), results[0])
        codec = _codec(best.encoding) or "utf-8"
        notes.append(f"charset detected as {codec}")
        return body.decode(codec, errors="replace"), codec, notes
    notes.append("charset unknown: read as windows-1252")
    return body.decode("cp1252", errors="replace"), "cp1252", notes


def _as_utf8(text: str) -> bytes:
    """The document as UTF-8 bytes whose XML declaration (if any) says so."""
    if _XML_DECL_TEXT.search(text[:500]):
        text = _XML_DECL_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}utf-8{m.group(2)}", text, count=1)
    return text.encode("utf-8")


# A date string that states its zone: an offset, Z, or a zone name (GMT, EST, CEST...).
_ZONED = re.compile(r"(?:\d:\d{2}(?::\d{2})?(?:[.,]\d+)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)"
                    r"|\b(?:UT|UTC|GMT|[A-Z]{2,5}T|[A-IK-Z])(?:\s*[+-]\d{1,2}(?::?\d{2})?)?)\s*\)?\s*$")
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")


def has_zone(raw: str) -> bool:
    """True when a date string states its zone (``+0700``, ``Z``, ``GMT``, ``EST``)."""
    return bool(_ZONED.search(raw.strip()))


def _zone(tz: tzinfo | str | None) -> tzinfo | None:
    if isinstance(tz, str):
        try:
            return zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None
    return tz


def _when(entry, language: str | None = None, tz: tzinfo | None = None,
          foreign: _ForeignDates | None = None) -> datetime | None:
    """The entry's date: feedparser's parse, else (dates in another language, "Seg, 24 Set 2018")
    dateparser on the raw text; aware UTC; None when there is none. A date without a zone is
    wall time in ``tz`` (the source's zone; UTC when unknown), not UTC."""
    for key in ("published", "updated", "created"):
        value = entry.get(f"{key}_parsed")
        if not value:
            continue
        raw = entry.get(key) or ""
        try:
            if tz is not None and raw and not has_zone(raw):
                # feedparser read the wall time as UTC; it is the source's wall time
                return datetime(*value[:6], tzinfo=tz).astimezone(UTC)
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
        except (OverflowError, ValueError):
            continue
    foreign = foreign or _ForeignDates(language, tz)
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if raw:
            parsed = foreign.parse(raw)
            if parsed is not None:
                return parsed
    return None


class _ForeignDates:
    """dateparser for the dates feedparser cannot read, one per feed: the locale found for the
    first date is tried first for the next ones (a feed writes all its dates alike), which turns
    ~100 ms of language detection per date into a few ms. After ``GIVE_UP`` dates in a row that
    no locale reads, before any was read, the feed's dates are taken as unreadable: detection over
    every locale costs ~0.4 s a date, and a feed of junk dates would cost that for every entry."""

    GIVE_UP = 3

    def __init__(self, language: str | None, tz: tzinfo | None) -> None:
        self.settings = {"RETURN_AS_TIMEZONE_AWARE": True, "TO_TIMEZONE": "UTC"}
        zone_name = getattr(tz, "key", None)
        if zone_name:
            self.settings["TIMEZONE"] = zone_name
        self.languages = [language] if language else None
        self._known = None  # a DateDataParser for the locale that worked
        self._misses = 0  # dates in a row no locale read, while none has been read

    def parse(self, raw: str) -> datetime | None:
        from dateparser.date import DateDataParser

        if self._known is None and self._misses >= self.GIVE_UP:
            return None
        text = raw[:100]
        try:
            if self._known is not None:
                data = self._known.get_date_data(text)
                if data and data.date_obj:
                    return data.date_obj.astimezone(UTC)
            data = DateDataParser(languages=self.languages, settings=self.settings).get_date_data(text)
        except (ValueError, OverflowError, LookupError, TypeError):
            self._misses += 1
            return None
        if not data or not data.date_obj:
            self._misses += 1
            return None
        self._misses = 0
        if data.locale and self._known is None:
            try:
                self._known = DateDataParser(locales=[data.locale], settings=self.settings)
            except (ValueError, LookupError):
                self._known = None
        return data.date_obj.astimezone(UTC)


def _parse_foreign_date(raw: str, language: str | None, tz: tzinfo | None = None) -> datetime | None:
    return _ForeignDates(language, tz).parse(raw)


def read_feed(body: bytes, *, url: str, content_type: str | None = None,
              timezone: tzinfo | str | None = None) -> FeedReading:
    """Parse a feed's bytes (any encoding, RSS 0.9x-2.0, Atom, RDF) into entries with links.

    The bytes are decoded here (``decode_feed``), not by feedparser, whose RFC 3023 reading of a
    ``text/xml`` answer without charset as US-ASCII garbles every non-ASCII feed and flags it as
    malformed. ``timezone`` (the source's, ``Source.tzinfo``) is the zone of dates given without one."""
    if not body.strip():
        return FeedReading(error="empty_feed", detail="the feed body is empty")
    tz = _zone(timezone)
    try:
        text, encoding, notes = decode_feed(body, content_type)
    except (LookupError, ValueError) as exc:  # a codec that fails on its own input
        text, encoding, notes = body.decode("utf-8", errors="replace"), "utf-8", [f"decoding failed: {exc}"]
    if _CONTROL.search(text):
        count = len(_CONTROL.findall(text))
        text = _CONTROL.sub("", text)
        notes.append(f"{count} control character(s) XML forbids removed")
    data = _as_utf8(text)
    # the document is UTF-8 now and says so; the content type given to feedparser only says XML
    # (passing the server's own would bring back its charset, or a text/html label's complaints)
    headers = {"content-location": url, "content-type": "application/xml; charset=utf-8"}
    try:
        parsed = feedparser.parse(data, response_headers=headers, sanitize_html=False, resolve_relative_uris=True)
    except Exception as exc:  # feedparser itself raises on some input (a stray </height>, a bad byte
        # in the XML declaration): the feed is malformed, the source goes on with its other URLs
        return FeedReading(error="malformed_feed", detail=f"the feed parser failed: {type(exc).__name__}: {exc}"[:300],
                           notes=notes, encoding=encoding)
    entries = []
    language = (parsed.feed.get("language") or "").split("-")[0].lower() or None
    foreign = _ForeignDates(language, tz)
    for entry in parsed.entries:
        link = entry.get("link") or next(
            (lk.get("href") for lk in entry.get("links", []) if lk.get("href")), None
        )
        if not link:
            continue
        source = entry.get("source") or {}
        summary = _TAGS.sub(" ", entry.get("summary", "") or "").strip() or None
        entries.append(FeedEntry(link=link, hints=LinkHints(
            title=(entry.get("title") or "").strip() or None,
            published=_when(entry, language, tz, foreign),
            summary=summary,
            outlet=(source.get("title") or None) if isinstance(source, dict) else None,
        )))
    reading = FeedReading(entries=entries, title=parsed.feed.get("title"), notes=notes, encoding=encoding)
    exc = parsed.get("bozo_exception")
    labels_only = parsed.bozo and isinstance(exc, feedparser.CharacterEncodingOverride | feedparser.NonXMLContentType)
    if labels_only:  # about labels, not structure: the text was decoded above
        reading.notes.append(f"{type(exc).__name__}: {exc}")
    if parsed.bozo and not labels_only:
        detail = f"{type(exc).__name__}: {exc}" if exc else "malformed"
        if entries:
            reading.warning = f"malformed feed, {len(entries)} entries recovered ({detail})"
        elif not parsed.version and re.search(rb"<(!doctype\s+html|html)[\s>]", data[:2048], re.I):
            reading.error, reading.detail = "not_a_feed", "an HTML page, not a feed"
        else:
            reading.error, reading.detail = "malformed_feed", detail
    elif not parsed.version and not entries:
        reading.error, reading.detail = "not_a_feed", "no RSS or Atom structure found"
    return reading
