"""Text forms used for search: folding and CJK bigrams.

Search is diacritic- and case-insensitive (``hai phong`` finds ``Hải Phòng``) and works for
scripts written without spaces. Both come from pure functions that every backend and
the highlighter share, so that what is indexed, what is queried and what is highlighted
always agree. The folding itself is ``hpbase.text.fold`` (re-exported here for modules that
still import it from ``index.text``); the bigram scripts are ``hpbase.scripts.BIGRAM``.
"""

from __future__ import annotations

import re

from hpbase import scripts
from hpbase.text import fold, fold_char, fold_with_offsets

__all__ = ["WORD", "bigram_chars", "bigrams", "fold", "fold_char", "fold_with_offsets", "is_bigram_char",
           "search_form", "split_bigram_runs"]

# Scripts written without spaces between words; indexed as overlapping character bigrams,
# as Elasticsearch's ``cjk_bigram`` filter does.
_BIGRAM_RANGES = scripts.BIGRAM


def is_bigram_char(ch: str) -> bool:
    """True for a character of a script indexed as bigrams (Chinese, Japanese, Korean, Thai)."""
    return scripts.contains(_BIGRAM_RANGES, ch)


_BIGRAM_RUN = re.compile("[" + scripts.char_class(_BIGRAM_RANGES) + "]+")


def bigrams(run: str) -> list[str]:
    """Overlapping character bigrams of a run of CJK/Thai text (a lone character stays whole)."""
    if len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def search_form(text: str) -> str:
    """The text as the embedded full-text index stores it: folded, with every CJK/Thai
    run replaced by its space-separated bigrams."""
    folded = fold(text)
    return _BIGRAM_RUN.sub(lambda m: " " + " ".join(bigrams(m.group(0))) + " ", folded)


def split_bigram_runs(text: str) -> list[tuple[bool, str]]:
    """Split folded text into (is_bigram_script, piece) parts, in order."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    for m in _BIGRAM_RUN.finditer(text):
        if m.start() > pos:
            parts.append((False, text[pos : m.start()]))
        parts.append((True, m.group(0)))
        pos = m.end()
    if pos < len(text):
        parts.append((False, text[pos:]))
    return parts


WORD = re.compile(r"[^\W_]+", re.UNICODE)


def bigram_chars(text: str) -> str:
    """Every CJK/Thai character of the text, folded and space-separated (so that a
    one-character query can match anywhere, not only where a bigram starts)."""
    return " ".join("".join(_BIGRAM_RUN.findall(fold(text))))
