"""Unicode blocks of the scripts hpmon treats specially, one table for every package.

Each package composes the blocks it needs (the search index, the topic models, the term
finder, the language guesser do not need exactly the same set), but the code points are
written down here only.
"""

from __future__ import annotations

from collections.abc import Iterable

Range = tuple[int, int]

THAI: tuple[Range, ...] = ((0x0E00, 0x0E7F),)
LAO: tuple[Range, ...] = ((0x0E80, 0x0EFF),)
KHMER: tuple[Range, ...] = ((0x1780, 0x17FF),)
CYRILLIC: tuple[Range, ...] = ((0x0400, 0x052F),)  # with the Cyrillic supplement
CYRILLIC_BASIC: tuple[Range, ...] = ((0x0400, 0x04FF),)
ARABIC: tuple[Range, ...] = ((0x0600, 0x06FF), (0x0750, 0x077F))

HANGUL_JAMO: Range = (0x1100, 0x11FF)
HANGUL_COMPAT_JAMO: Range = (0x3130, 0x318F)
HANGUL_SYLLABLES: Range = (0xAC00, 0xD7AF)
HANGUL: tuple[Range, ...] = (HANGUL_JAMO, HANGUL_COMPAT_JAMO, HANGUL_SYLLABLES)

KANA_BLOCKS: Range = (0x3040, 0x30FF)  # Hiragana, Katakana
KATAKANA_EXT: Range = (0x31F0, 0x31FF)  # Katakana phonetic extensions
HALFWIDTH_KANA: Range = (0xFF66, 0xFF9F)
KANA: tuple[Range, ...] = (KANA_BLOCKS, KATAKANA_EXT, HALFWIDTH_KANA)

CJK_EXT_A: Range = (0x3400, 0x4DBF)
CJK_UNIFIED: Range = (0x4E00, 0x9FFF)
CJK_EXT_A_AND_UNIFIED: Range = (0x3400, 0x9FFF)  # extension A, Yijing, unified ideographs
CJK_COMPAT: Range = (0xF900, 0xFAFF)
CJK_SUPPLEMENTARY: Range = (0x20000, 0x2FA1F)  # extensions B-F and compatibility supplement
SIP_TIP: Range = (0x20000, 0x3FFFF)  # planes 2 and 3 whole
HAN: tuple[Range, ...] = (CJK_EXT_A, CJK_UNIFIED, CJK_COMPAT, CJK_SUPPLEMENTARY)

#: Scripts the search index cuts into bigrams (as Elasticsearch's ``cjk_bigram`` does).
BIGRAM = tuple(sorted((
    *THAI, HANGUL_JAMO, KANA_BLOCKS, HANGUL_COMPAT_JAMO, KATAKANA_EXT, CJK_EXT_A, CJK_UNIFIED,
    HANGUL_SYLLABLES, CJK_COMPAT, HALFWIDTH_KANA, CJK_SUPPLEMENTARY,
)))

#: Scripts written without spaces between words, for the topic models' word view (Thai, Lao,
#: Khmer, Hangul, kana, Han) -- they are read by the character n-grams instead.
NONSPACED = tuple(sorted((
    (0x0E00, 0x0EFF), *KHMER, HANGUL_JAMO, KANA_BLOCKS, HANGUL_COMPAT_JAMO, CJK_EXT_A_AND_UNIFIED,
    HANGUL_SYLLABLES, CJK_COMPAT, HALFWIDTH_KANA, SIP_TIP,
)))

#: ``NONSPACED`` open-ended above plane 1 (every code point from U+20000 on): the term finder's
#: substring-mode test.
NONSPACED_OPEN = (*NONSPACED[:-1], (0x20000, 0x10FFFF))

#: Unspaced scripts where a sensitive term may not straddle a name (kana, Han, Hangul, Thai).
UNSPACED_NAMES = tuple(sorted((KANA_BLOCKS, CJK_EXT_A_AND_UNIFIED, CJK_COMPAT, HANGUL_SYLLABLES, *THAI)))

#: Characters around which figures need no word boundary (kana through Han, Hangul, compatibility).
CJK_FIGURES = ((0x3040, 0x9FFF), HANGUL_SYLLABLES, CJK_COMPAT)


def char_class(ranges: Iterable[Range]) -> str:
    """The body of a regular-expression character class (``a-z...``, no brackets) for ``ranges``."""
    return "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in ranges)


def contains(ranges: Iterable[Range], ch: str) -> bool:
    """True when the character ``ch`` is in one of ``ranges``."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in ranges)
