"""The article a client-rendered page carries only in its script data.

Pages built by JavaScript frameworks (Next.js, Nuxt, React Query's dehydrated state...) may print
the head's metadata but leave the body empty until scripts run: the article's text is a string in
a JSON object inside a ``<script>``. ``pipeline.extract`` asks here only when trafilatura found too
little text in the markup. The object taken is the one that names the page's own headline (so a
list of related stories is not read as the article); its longest prose string is the body.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata

import lxml.html
import trafilatura

from hpbase import scripts

log = logging.getLogger(__name__)

# Where a JSON value may start inside a script: at its start, or after an assignment, a call's
# opening parenthesis or a comma between arguments (``window.x = {...}``, ``push({...})``), or the
# string given to ``JSON.parse("...")``.
_JSON_START = re.compile(r"\bJSON\.parse\(\s*(\")|(?:^|[=(,])\s*([\[{])")
_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_MARKUP = re.compile(r"<(?:p|br|div|h[1-6]|figure|span|strong|em|ul|li)\b", re.I)
_TAG = re.compile(r"<[^>]+>")
# Scripts written without spaces (Thai, Lao, Khmer, Hangul, kana, Han): prose without spaces
_UNSPACED = re.compile(f"[{scripts.char_class(scripts.NONSPACED)}]")
MAX_SCRIPT_CHARS = 3_000_000  # script text read per page
MAX_DECODES = 200  # JSON values decoded per page
MAX_NODES = 100_000  # JSON nodes visited per page
MIN_BODY_CHARS = 200  # a shorter string is a teaser, not the article


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return _NON_ALNUM.sub("", text.casefold())


def _prose_length(value: str) -> int:
    """Characters of text in the value once tags are removed; 0 for what is not prose (a URL, a
    code or base64 blob without spaces, CSS)."""
    text = _TAG.sub(" ", value)
    if text.count(" ") < len(text) / 40 and len(_UNSPACED.findall(text[:2000])) < min(len(text), 2000) / 4:
        return 0  # hardly a space and not an unspaced script: a URL, an id, a blob, not prose
    if "{" in text and ";" in text and ":" in text and text.count("{") > 5:
        return 0  # style sheet or code
    return len(text.strip())


def _script_values(tree) -> list[object]:
    """The JSON values the page's inline scripts hold (JSON-LD excluded: the caller reads it)."""
    values: list[object] = []
    decoder = json.JSONDecoder(strict=False)
    budget, decodes = MAX_SCRIPT_CHARS, 0
    for script in tree.iter("script"):
        kind = (script.get("type") or "").strip().lower()
        if script.get("src") or kind == "application/ld+json" or not script.text:
            continue
        if kind and "json" not in kind and "javascript" not in kind:
            continue
        text = script.text[:budget]
        budget -= len(text)
        for m in _JSON_START.finditer(text):
            if decodes >= MAX_DECODES:
                return values
            decodes += 1
            try:
                value, _ = decoder.raw_decode(text, m.start(m.lastindex or 1))
            except (ValueError, RecursionError):
                continue
            if isinstance(value, str):  # JSON.parse("...") of an escaped document
                try:
                    value = json.loads(value, strict=False)
                except (ValueError, RecursionError):
                    continue
            if isinstance(value, (dict, list)):
                values.append(value)
        if budget <= 0:
            break
    return values


def _article_objects(values: list[object], title_keys: set[str]) -> list[dict]:
    """Objects that hold one of the page's headlines as a value of their own."""
    found: list[dict] = []
    stack = list(values)
    nodes = 0
    while stack and nodes < MAX_NODES:
        node = stack.pop()
        nodes += 1
        if isinstance(node, dict):
            if any(isinstance(v, str) and len(v) < 400 and _key(v) in title_keys for v in node.values()):
                found.append(node)
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return found


def _as_text(value: str) -> str:
    """The text of an HTML fragment (paragraphs on their own lines), or the value itself."""
    if not _MARKUP.search(value):
        return value.strip()
    doc = trafilatura.bare_extraction(f"<html><body><article>{value}</article></body></html>",
                                      with_metadata=False, include_tables=True)
    text = (doc.text or "").strip() if doc else ""
    if text:
        return text
    try:
        fragment = lxml.html.fragment_fromstring(value, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return _TAG.sub(" ", value).strip()
    return "\n".join(t.strip() for t in fragment.itertext() if t.strip())


def embedded_article_text(html: str, titles: list[str], ld_body: object = None) -> tuple[str, str] | None:
    """(text, where it came from) of the article a page carries in its data rather than its
    markup: the JSON-LD ``articleBody``, else the longest prose string of a script's JSON object
    that names one of ``titles`` (the page's headlines). None when there is none."""
    if isinstance(ld_body, str) and _prose_length(ld_body) >= MIN_BODY_CHARS:
        return _as_text(ld_body), "json-ld articleBody"
    title_keys = {k for k in map(_key, titles) if len(k) >= 8}
    if not title_keys:
        return None
    try:
        tree = trafilatura.load_html(html)  # a fresh tree: trafilatura pruned the first one
    except Exception as exc:  # lxml on hostile markup
        log.debug("extract: script data not read (%s)", exc)
        return None
    if tree is None:
        return None
    best, best_len = "", 0
    for obj in _article_objects(_script_values(tree), title_keys):
        for value in obj.values():
            if isinstance(value, str) and (n := _prose_length(value)) > best_len:
                best, best_len = value, n
    if best_len < MIN_BODY_CHARS:
        return None
    return _as_text(best), "script data"
