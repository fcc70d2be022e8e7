"""Text forms used for search: folding and CJK bigrams.

Search is diacritic- and case-insensitive (``hai phong`` finds ``Hải Phòng``) and works for
scripts written without spaces. Both come from two pure functions that every backend and
the highlighter share, so that what is indexed, what is queried and what is highlighted
always agree.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Scripts written without spaces between words; indexed as overlapping character bigrams,
# as Elasticsearch's ``cjk_bigram`` filter does.
_BIGRAM_RANGES = (
    (0x0E00, 0x0E7F),  # Thai
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x2FA1F),  # CJK extensions B-F and supplement
)


def is_bigram_char(ch: str) -> bool:
    """True for a character of a script indexed as bigrams (Chinese, Japanese, Korean, Thai)."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _BIGRAM_RANGES)


def _is_latin(cp: int) -> bool:
    return cp < 0x0250 or 0x1E00 <= cp <= 0x1EFF


@lru_cache(maxsize=8192)
def fold_char(ch: str) -> str:
    """The search form of one character: compatibility-normalised, Latin diacritics
    removed (including Vietnamese đ), case-folded. Non-Latin marks are kept (й, が)."""
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        if c in "đĐ":
            out.append("d")
            continue
        decomposed = unicodedata.normalize("NFD", c)
        if _is_latin(ord(decomposed[0])):
            out.append(decomposed[0])
        else:
            out.append(c)
    return "".join(out).casefold()


def fold(text: str) -> str:
    """The diacritic- and case-insensitive form of ``text`` (see ``fold_char``)."""
    return "".join(fold_char(c) for c in unicodedata.normalize("NFC", text))


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` and, for each folded character, the index of the character of
    ``text`` it came from (``text`` must already be NFC). Used to map hits back."""
    folded: list[str] = []
    offsets: list[int] = []
    for i, c in enumerate(text):
        f = fold_char(c)
        folded.append(f)
        offsets.extend([i] * len(f))
    return "".join(folded), offsets


_BIGRAM_RUN = re.compile(
    "[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _BIGRAM_RANGES) + "]+"
)


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
