"""Snippets with the matched words marked, computed the same way for every backend."""

from __future__ import annotations

import unicodedata

from hpbase.text import fold_with_offsets
from index.query import Snippet
from index.text import WORD, is_bigram_char


def _phrase_pattern(phrase: str) -> list[str]:
    """The folded words of a phrase (a CJK run stays one piece, matched as a substring)."""
    folded, _ = fold_with_offsets(unicodedata.normalize("NFC", phrase))
    return [m.group(0) for m in WORD.finditer(folded)]


def find_spans(text: str, phrases: list[str]) -> list[tuple[int, int]]:
    """Spans of ``text`` (NFC) where any phrase occurs, ignoring case and diacritics;
    words of Latin/Cyrillic scripts must match whole, CJK/Thai anywhere."""
    folded, offsets = fold_with_offsets(text)
    words = [(m.start(), m.end(), m.group(0)) for m in WORD.finditer(folded)]
    spans: list[tuple[int, int]] = []
    for phrase in phrases:
        pattern = _phrase_pattern(phrase)
        if not pattern:
            continue
        if len(pattern) == 1 and any(is_bigram_char(c) for c in pattern[0]):
            needle = pattern[0]
            start = folded.find(needle)
            while start != -1:
                spans.append((start, start + len(needle)))
                start = folded.find(needle, start + len(needle))
            continue
        n = len(pattern)
        for i in range(len(words) - n + 1):
            if all(words[i + k][2] == pattern[k] for k in range(n)):
                spans.append((words[i][0], words[i + n - 1][1]))
    if not spans:
        return []
    # folded positions -> original positions
    mapped = sorted((offsets[s], offsets[e - 1] + 1) for s, e in spans)
    merged: list[tuple[int, int]] = [mapped[0]]
    for s, e in mapped[1:]:
        if s <= merged[-1][1] or not text[merged[-1][1] : s].strip():  # overlapping or only spaces between
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def make_snippet(texts: list[str], phrases: list[str], width: int = 240) -> Snippet:
    """A passage of about ``width`` characters from the first of ``texts`` that contains a
    match (else the start of the first non-empty text), with the matched spans."""
    candidates = [t for t in texts if t]
    if not candidates:
        return Snippet("")
    for text in candidates:
        spans = find_spans(text, phrases) if phrases else []
        if spans:
            break
    else:
        text, spans = candidates[0], []
    if len(text) <= width:
        return Snippet(text, spans)
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3)
    if start:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space > start - 30 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > end - 30 else end
    body = text[start:end]
    prefix = "…" if start else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    inside = [(s + shift, e + shift) for s, e in spans if s >= start and e <= end]
    return Snippet(prefix + body + suffix, inside)
