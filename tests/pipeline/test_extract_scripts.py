"""pipeline/extract.py takes its code points from hpbase/scripts.py (issue 19): the ranges it used
to write out itself are the same, and the two it adds (CJK punctuation and full-width forms beside
title separators, Myanmar in the text units) are pinned here."""

from __future__ import annotations

import re

from hpbase import scripts
from pipeline import extract


def _points(pattern: re.Pattern) -> set[int]:
    return {cp for cp in range(0x40000) if pattern.fullmatch(chr(cp))}


def _ranges(*ranges: tuple[int, int]) -> set[int]:
    return {cp for lo, hi in ranges for cp in range(lo, hi + 1)}


def test_text_unit_tables_are_the_former_ranges():
    han, hangul, kana, unspaced = (_points(p) for p, _ in extract._TEXT_UNIT_WEIGHTS)
    assert han == _ranges((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))
    assert hangul == _ranges((0xAC00, 0xD7AF))
    assert kana == _ranges((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
    assert unspaced == _ranges((0x0E00, 0x0EFF), (0x1780, 0x17FF), (0x1000, 0x109F))
    assert [w for _, w in extract._TEXT_UNIT_WEIGHTS] == [3.0, 2.5, 2.0, 1.2]


def test_cjk_name_class_is_the_former_range():
    assert _points(extract._CJK) == _ranges((0x3040, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF))


def test_title_separator_neighbours_are_the_former_range():
    neighbours = _points(re.compile(f"[{extract._CJK_CHAR}]"))
    assert neighbours == _ranges((0x3000, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF), (0xFF00, 0xFFEF))


def test_only_the_pinned_differences_are_outside_hpbase():
    assert extract._MYANMAR not in (*scripts.THAI, *scripts.LAO, *scripts.KHMER)
    assert (extract._CJK_PUNCT, extract._FULLWIDTH_FORMS) == ((0x3000, 0x303F), (0xFF00, 0xFFEF))
