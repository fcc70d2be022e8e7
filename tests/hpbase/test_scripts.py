"""The shared script tables give every site exactly the code points its own table had."""

from __future__ import annotations

import re

import pytest

# The tables as each site wrote them before they were shared (frozen copies, to compare with).
OLD = {
    "index/text.py bigrams": [(0x0E00, 0x0E7F), (0x1100, 0x11FF), (0x3040, 0x30FF), (0x3130, 0x318F),
                              (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF),
                              (0xF900, 0xFAFF), (0xFF66, 0xFF9F), (0x20000, 0x2FA1F)],
    "classifiers/models.py nonspaced": [(0x0E00, 0x0EFF), (0x1780, 0x17FF), (0x1100, 0x11FF), (0x3040, 0x30FF),
                                        (0x3130, 0x318F), (0x3400, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF),
                                        (0xFF66, 0xFF9F), (0x20000, 0x3FFFF)],
    "classifiers/terms.py nonspaced": [(0x0E00, 0x0EFF), (0x1780, 0x17FF), (0x1100, 0x11FF), (0x3040, 0x30FF),
                                       (0x3130, 0x318F), (0x3400, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF),
                                       (0xFF66, 0xFF9F), (0x20000, 0x10FFFF)],
    "classifiers/sensitive.py unspaced": [(0x3040, 0x30FF), (0x3400, 0x9FFF), (0xF900, 0xFAFF), (0xAC00, 0xD7AF),
                                          (0x0E00, 0x0E7F)],
    "classifiers/sensitive.py han": [(0x3400, 0x9FFF), (0xF900, 0xFAFF)],
    "classifiers/sensitive.py kana": [(0x3040, 0x30FF), (0xFF66, 0xFF9F)],
    "classifiers/sensitive.py hangul": [(0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F)],
    "classifiers/sensitive.py cyrillic": [(0x0400, 0x04FF)],
    "classifiers/sensitive.py thai": [(0x0E00, 0x0E7F)],
    "classifiers/facts.py cjk": [(0x3040, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF)],
    "pipeline/language.py hangul": [(0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF)],
    "pipeline/language.py kana": [(0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)],
    "pipeline/language.py han": [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F)],
    "pipeline/language.py thai": [(0x0E00, 0x0E7F)],
    "pipeline/language.py lao": [(0x0E80, 0x0EFF)],
    "pipeline/language.py khmer": [(0x1780, 0x17FF)],
    "pipeline/language.py cyrillic": [(0x0400, 0x052F)],
    "pipeline/language.py arabic": [(0x0600, 0x06FF), (0x0750, 0x077F)],
}


def _code_points(ranges) -> set[int]:
    return {cp for lo, hi in ranges for cp in range(lo, hi + 1)}


def _site_tables() -> dict[str, object]:
    from classifiers import facts, models, sensitive, terms
    from index import text
    from pipeline import language

    ranges = dict(language._SCRIPT_RANGES)
    return {
        "index/text.py bigrams": text._BIGRAM_RANGES,
        "classifiers/models.py nonspaced": models._NONSPACED,
        "classifiers/terms.py nonspaced": terms._is_nonspaced,
        "classifiers/sensitive.py unspaced": sensitive._UNSPACED,
        "classifiers/sensitive.py han": sensitive._HAN,
        "classifiers/sensitive.py kana": sensitive._KANA,
        "classifiers/sensitive.py hangul": sensitive._HANGUL,
        "classifiers/sensitive.py cyrillic": sensitive._CYRILLIC,
        "classifiers/sensitive.py thai": sensitive._THAI,
        "classifiers/facts.py cjk": facts._cjk,
        **{f"pipeline/language.py {name}": language._SCRIPT_PATTERNS[name] for name in ranges},
    }


# Every code point at a block edge of any table, one each side, plus a spread over all of Unicode.
_PROBES = sorted(
    {cp for ranges in OLD.values() for lo, hi in ranges for cp in (lo - 1, lo, hi, hi + 1) if 0 <= cp <= 0x10FFFF}
    | set(range(0, 0x110000, 97))
)


@pytest.mark.parametrize("site", sorted(OLD))
def test_each_site_matches_the_code_points_of_its_old_table(site: str) -> None:
    table = _site_tables()[site]
    old = _code_points(OLD[site])
    if isinstance(table, tuple):
        assert _code_points(table) == old
        return
    for cp in _PROBES:
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        found = bool(table.match(ch)) if isinstance(table, re.Pattern) else table(ch)
        assert found == (cp in old), (site, hex(cp))


def test_the_term_finder_is_open_ended_above_plane_one_and_the_topic_models_are_not() -> None:
    from classifiers import models, terms

    variation_selector = chr(0xE0100)  # plane 14
    assert terms._is_nonspaced(variation_selector)
    assert not models._NONSPACED.match(variation_selector)
    assert terms._is_nonspaced("\U00020001") and models._NONSPACED.match("\U00020001")
