"""Text folding: the one place where case and diacritics are taken off text.

Two folds, for two jobs, both here so that neither is copied:

- ``fold`` -- the *search* form: compatibility-normalised (NFKC), case-folded, Latin
  diacritics removed (Vietnamese đ → d) but the marks of other scripts kept (й, が), so that
  ``hai phong`` finds ``Hải Phòng`` and nothing else changes meaning. ``fold_with_offsets``
  maps it back to the original text for highlighting.
- ``strip_marks`` -- the *bare* form: case-folded, đ → d, canonically decomposed (NFD) and
  every combining mark dropped, whatever the script. ``marks="all"`` drops every
  non-spacing mark (category Mn: what the term finder compares unaccented spellings by);
  ``marks="combining"`` drops only the Combining Diacritical Marks block U+0300–U+036F (what
  the topic models' word view was trained on; Thai vowel signs, Hebrew points and the like stay).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal


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
    """The diacritic- and case-insensitive search form of ``text`` (see ``fold_char``)."""
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


_COMBINING_BLOCK = re.compile(r"[\u0300-\u036f]")

Marks = Literal["all", "combining"]


def strip_marks(text: str, *, marks: Marks = "all") -> str:
    """``text`` case-folded, đ → d, decomposed (NFD) and without its marks: every non-spacing
    mark (``marks="all"``) or only those of the block U+0300–U+036F (``marks="combining"``).
    The result stays decomposed (it is a comparison key, not text to show)."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    if marks == "combining":
        return _COMBINING_BLOCK.sub("", decomposed)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
