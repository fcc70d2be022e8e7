"""Turning the office's own documents into library text: PDF, HTML or plain text, from a file
or a URL (``hpmon library add``).

PDF text comes from ``pdftotext`` (poppler-utils) when it is installed — it keeps reading
order best — else from ``pypdf``; HTML from trafilatura (the pipeline's decoding first);
plain text is decoded like a page. The language is detected unless given.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import trafilatura

from pipeline.evidence import PoliteFetcher
from pipeline.extract import decode_html
from pipeline.language import LanguageDetector
from pipeline.outcome import Dropped

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 50_000_000
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


@dataclass(frozen=True)
class DocumentText:
    """What a library document says: its title, text, format, language and where it came from."""

    title: str
    text: str
    format: str  # pdf | html | text
    language: str | None
    source: str
    extractor: str  # pdftotext | pypdf | trafilatura | text


def sniff_format(data: bytes, name: str = "", content_type: str | None = None) -> str:
    """``pdf``, ``html`` or ``text``: from the bytes first (a PDF starts with %PDF), then the
    declared type, then the file name."""
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF"):
        return "pdf"
    ctype = (content_type or "").lower()
    if "html" in ctype or name.lower().endswith((".html", ".htm", ".xhtml")):
        return "html"
    if re.match(rb"(?i)(<!doctype html|<html|<head|<body|<\?xml[^>]*>\s*<html)", head):
        return "html"
    return "text"


def pdf_text(data: bytes) -> tuple[str, str, str] | Dropped:
    """(text, title from the PDF's metadata or "", extractor) of a PDF, or why not."""
    title = ""
    try:
        from pypdf import PdfReader

        reader = PdfReader(BytesIO(data))
        meta = reader.metadata
        title = str(meta.title).strip() if meta and meta.title else ""
    except Exception as exc:  # a malformed PDF
        return Dropped("library", "bad_pdf", f"{type(exc).__name__}: {exc}")
    tool = shutil.which("pdftotext")
    if tool:
        with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
            tmp.write(data)
            tmp.flush()
            try:
                out = subprocess.run([tool, "-enc", "UTF-8", "-layout", tmp.name, "-"], capture_output=True,
                                     timeout=120, check=True)
                text = out.stdout.decode("utf-8", "replace")
                if text.strip():
                    return text, title, "pdftotext"
            except (subprocess.SubprocessError, OSError) as exc:
                log.warning("pdftotext failed (%s); falling back to pypdf", exc)
    try:
        text = "\n\n".join((page.extract_text() or "") for page in reader.pages)
    except Exception as exc:
        return Dropped("library", "bad_pdf", f"{type(exc).__name__}: {exc}")
    return text, title, "pypdf"


def _tidy(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\x00", "")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out, blank = [], False
    for line in lines:
        if not line:
            if not blank and out:
                out.append("")
            blank = True
            continue
        out.append(line)
        blank = False
    return "\n".join(out).strip()


def document_text(data: bytes, source: str, *, name: str = "", content_type: str | None = None,
                  title: str | None = None, language: str | None = None,
                  detector: LanguageDetector | None = None) -> DocumentText | Dropped:
    """The document's text and title from its bytes, or why it has none."""
    if len(data) > MAX_DOCUMENT_BYTES:
        return Dropped("library", "too_large", f"{len(data)} bytes > {MAX_DOCUMENT_BYTES}")
    kind = sniff_format(data, name, content_type)
    found_title = ""
    if kind == "pdf":
        got = pdf_text(data)
        if isinstance(got, Dropped):
            return got
        text, found_title, extractor = got
    else:
        decoded = decode_html(data, content_type)
        if isinstance(decoded, Dropped):
            return Dropped("library", decoded.reason, decoded.detail)
        if kind == "html":
            extractor = "trafilatura"
            doc = trafilatura.bare_extraction(decoded.html, url=source if "://" in source else None,
                                              with_metadata=True, include_tables=True, favor_recall=True)
            text = (doc.text or "") if doc else ""
            found_title = (doc.title or "") if doc else ""
            if not found_title:
                m = _TITLE.search(decoded.html[:20_000])
                found_title = m.group(1) if m else ""
        else:
            extractor = "text"
            text = decoded.html
    text = _tidy(text)
    if not text:
        return Dropped("library", "no_text", f"no text found in the {kind} document (a scanned PDF needs OCR)")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    final_title = (title or _tidy(found_title) or first_line[:200] or Path(name).stem or source).strip()
    lang = language or (detector or LanguageDetector()).detect(f"{final_title}\n{text}").language
    return DocumentText(final_title, text, kind, lang if lang and lang != "und" else None, source, extractor)


def load_document(source: str, *, title: str | None = None, language: str | None = None, user_agent: str = "hpmon",
                  timeout: float = 30.0, max_bytes: int = MAX_DOCUMENT_BYTES,
                  detector: LanguageDetector | None = None, allow_hosts: Iterable[str] = ()) -> DocumentText | Dropped:
    """A library document from a file path or an http(s) URL (fetched politely, from a public
    address or a host in ``allow_hosts`` only, every redirect hop checked), or why not."""
    if source.startswith(("http://", "https://")):
        with PoliteFetcher(user_agent=user_agent, timeout=timeout, max_bytes=max_bytes, delay=0,
                           allow_hosts=allow_hosts) as fetcher:
            got = fetcher.get(source)
        if isinstance(got, Dropped):
            return got
        if got.status >= 400:
            return Dropped("library", "http_error", f"HTTP {got.status} for {source}")
        return document_text(got.body, got.url, name=got.url.rsplit("/", 1)[-1], content_type=got.content_type,
                             title=title, language=language, detector=detector)
    path = Path(source)
    if not path.is_file():
        return Dropped("library", "not_found", f"not a file: {source}")
    if path.stat().st_size > max_bytes:
        return Dropped("library", "too_large", f"{path.stat().st_size} bytes > {max_bytes}")
    return document_text(path.read_bytes(), str(path.resolve()), name=path.name, title=title, language=language,
                         detector=detector)
