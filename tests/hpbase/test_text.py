"""One home for folding: each old fold, frozen here, equals its replacement over a broad sample,
and the two folds' differences are pinned."""

from __future__ import annotations

import re
import unicodedata

import pytest

from hpbase.text import fold, strip_marks


def _old_models_fold_marks(doc: str) -> str:  # classifiers/models.py before, without the script blanking
    nfd = unicodedata.normalize("NFD", doc.casefold().replace("đ", "d"))
    return re.sub(r"[\u0300-\u036f]", "", nfd)


def _old_bare_key(word: str) -> str:  # classifiers/terms.py before
    decomposed = unicodedata.normalize("NFD", word.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def _letters(*ranges: tuple[int, int]) -> list[str]:
    return [chr(cp) for lo, hi in ranges for cp in range(lo, hi + 1) if unicodedata.category(chr(cp))[0] in "LM"]


# Every letter of the Vietnamese alphabet, both cases, with each of the five tone marks.
_VOWELS = "aăâeêioôơuưy"
VIETNAMESE = sorted({
    unicodedata.normalize("NFC", case(v) + tone)
    for v in _VOWELS
    for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
    for case in (str.lower, str.upper)
} | set("bcdđghklmnpqrstvxBCDĐGHKLMNPQRSTVX"))
LATIN = _letters((0x0041, 0x024F), (0x1E00, 0x1EFF))
CJK = _letters((0x3040, 0x30FF), (0x4E00, 0x4FFF), (0xF900, 0xFAFF), (0xFF66, 0xFF9F))
HANGUL = _letters((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xAFFF))
THAI = _letters((0x0E00, 0x0E7F))
OTHER = _letters((0x0370, 0x052F), (0x0590, 0x06FF), (0x0900, 0x097F))  # Greek, Cyrillic, Hebrew, Arabic, Devanagari
SAMPLE = VIETNAMESE + LATIN + CJK + HANGUL + THAI + OTHER
WORDS = ["Hải Phòng", "HẢI PHÒNG", "Đồ Sơn", "thuỷ", "thủy", "Hà Nội", "Ngô Quyền", "Ελλάδα", "Хайфон", "海防",
         "하이퐁", "ไฮฟอง", "Çağlayan", "naïve", "ﬁnance", "①", "Ｈａｉ"]


@pytest.mark.parametrize("sample", [SAMPLE, WORDS], ids=["characters", "words"])
def test_strip_marks_equals_both_old_folds(sample: list[str]) -> None:
    assert len(sample) > 10
    for text in sample:
        assert strip_marks(text, marks="all") == _old_bare_key(text), text
        assert strip_marks(text, marks="combining") == _old_models_fold_marks(text), text


def test_the_topic_models_fold_still_blanks_unspaced_scripts() -> None:
    from classifiers.models import fold as models_fold

    assert models_fold("Cảng Hải Phòng 海防港 하이퐁") == "cang hai phong    "  # each unspaced run one space
    assert models_fold("Đồ Sơn") == "do son"


def test_the_bare_fold_drops_every_mark_and_the_models_fold_only_the_combining_block() -> None:
    thai = "ไฮ้"  # U+0E49, a Thai tone mark (category Mn, outside U+0300-U+036F)
    assert strip_marks(thai, marks="all") == "ไฮ"
    assert strip_marks(thai, marks="combining") == thai


def test_the_search_fold_keeps_non_latin_marks_and_normalises_compatibility_forms() -> None:
    assert fold("Hải Phòng") == "hai phong" == strip_marks("Hải Phòng")
    assert fold("й") == "й" and strip_marks("й") == "и"  # Cyrillic short i keeps its breve in search
    assert fold("が") == "が" and strip_marks("が") == "か"
    assert fold("ﬁ①Ｈ") == "fi1h" and strip_marks("①Ｈ") == "①ｈ"  # NFKC in search only


def test_search_and_bare_folds_agree_on_every_vietnamese_letter() -> None:
    for ch in VIETNAMESE:
        assert fold(ch) == unicodedata.normalize("NFC", strip_marks(ch)), ch
