import unicodedata

import pytest

from classifiers.terms import TermMatcher, make_term


def find(terms, text):
    matcher = TermMatcher(make_term(t, m) for t, m in terms)
    return [(m.term.text, m.surface) for m in matcher.find(text)]


CITY = [("Hải Phòng", None), ("TP. Hải Phòng", None), ("Haiphong", None), ("Haïphong", None),
        ("Хайфон", "prefix"), ("海防", None), ("하이퐁", None), ("Thủy Nguyên", None)]


@pytest.mark.parametrize("text,expected", [
    ("Thành phố HẢI PHÒNG", [("Hải Phòng", "HẢI PHÒNG")]),
    ("du lich hai phong gia re", [("Hải Phòng", "hai phong")]),
    ("anh Hải Phong là giáo viên", []),  # other diacritics: a person's name, not the city
    ("Hai Phòng", []),  # mixed forms are neither the city nor a bare spelling
    ("TP.Hải Phòng và TP Hải Phòng", [("TP. Hải Phòng", "TP.Hải Phòng"), ("TP. Hải Phòng", "TP Hải Phòng")]),
    ("Nam Hải. Phòng khám mở cửa", []),  # words of a name never span a sentence break
    ("Hải-Phòng", [("Hải Phòng", "Hải-Phòng")]),
    ("Haiphongese", []),
    ("Le port de Haïphong", [("Haïphong", "Haïphong")]),
    ("в Хайфоне и из Хайфона", [("Хайфон", "Хайфоне"), ("Хайфон", "Хайфона")]),
    ("越南海防市", [("海防", "海防")]),
    ("하이퐁에서 열린", [("하이퐁", "하이퐁")]),
    ("huyện Thuỷ Nguyên và thuy nguyen", [("Thủy Nguyên", "Thuỷ Nguyên"), ("Thủy Nguyên", "thuy nguyen")]),
])
def test_city_names_match_unicode_correctly(text, expected):
    assert find(CITY, text) == expected


def test_nfd_text_matches_like_nfc():
    assert find(CITY, unicodedata.normalize("NFD", "Cảng Hải Phòng")) == [("Hải Phòng", "Hải Phòng")]


def test_longest_match_wins_at_a_position():
    assert find([("Hải Phòng", None), ("TP. Hải Phòng", None)], "TP. Hải Phòng") == [("TP. Hải Phòng", "TP. Hải Phòng")]


def test_empty_or_symbol_only_terms_are_rejected():
    with pytest.raises(ValueError):
        make_term("  ")
    with pytest.raises(ValueError):
        make_term("--", "word")
