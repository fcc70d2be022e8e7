"""Reference-fact conflicts: number formats, units, dates, evidence."""

from datetime import date
from pathlib import Path

import pytest

from classifiers.facts import FactChecker, find_figures, parse_number

CONFIG = Path(__file__).resolve().parents[2] / "config"
AFTER_MERGER = date(2025, 9, 1)


@pytest.fixture(scope="module")
def checker(verified_facts_dir) -> FactChecker:
    return FactChecker.from_config(verified_facts_dir)


def test_placeholder_figures_produce_no_conflict():
    shipped = FactChecker.from_config(CONFIG)
    official, total = shipped.reference_counts()
    assert total > 0 and official == 0  # every shipped figure is a placeholder
    text = "Hải Phòng có dân số 10 triệu người, theo số liệu công bố hôm qua."
    assert shipped.check_facts(text, "vi", AFTER_MERGER) == []
    assert shipped.check_facts(text, "vi") == []


@pytest.mark.parametrize("raw,language,expected", [
    ("1,234.5", "en", 1234.5),
    ("1.234,5", "vi", 1234.5),
    ("4,6", "vi", 4.6),
    ("4.6", "en", 4.6),
    ("1.234", "vi", 1234),
    ("1,234", "en", 1234),
    ("1 234", "fr", 1234),
    ("4,6", "ru", 4.6),
])
def test_numbers_are_read_by_the_language_convention(raw, language, expected):
    assert parse_number(raw, language) == pytest.approx(expected)


@pytest.mark.parametrize("text,language,value,unit", [
    ("4,6 triệu người", "vi", 4.6e6, "persons"),
    ("460万人", "zh", 4.6e6, "persons"),
    ("4.6 million", "en", 4.6e6, "none"),
    ("4,6 млн человек", "ru", 4.6e6, "persons"),
    ("46억 달러", "ko", 4.6e9, "usd"),
    ("US$2.5 billion", "en", 2.5e9, "usd"),
    ("185 triệu tấn", "vi", 1.85e8, "tonnes"),
    ("3.194,72 km²", "vi", 3194.72, "km2"),
    ("1 234 567 habitants", "fr", 1234567, "persons"),
])
def test_figures_are_scaled_and_unit_tagged(text, language, value, unit):
    (figure,) = find_figures(text, language)
    assert figure.value == pytest.approx(value)
    assert figure.unit == unit


def test_wrong_population_in_vietnamese_is_a_conflict(checker):
    text = "Sau sáp nhập, Hải Phòng có dân số 10 triệu người, theo bài viết."
    (conflict,) = checker.check_facts(text, "vi", AFTER_MERGER)
    assert conflict.quantity == "population"
    assert conflict.article_value == pytest.approx(10e6)
    assert text[conflict.start:conflict.end] == conflict.surface == "10 triệu người"
    assert conflict.reference_source
    assert "10 triệu người" in conflict.explain()


def test_wrong_population_in_english_is_a_conflict(checker):
    (conflict,) = checker.check_facts("Hai Phong, with a population of 10 million, is Vietnam's third city.", "en",
                                      AFTER_MERGER)
    assert conflict.quantity == "population"
    assert conflict.deviation > 1


@pytest.mark.parametrize("text,language", [
    ("Sau sáp nhập, Hải Phòng có dân số khoảng 4,6 triệu người.", "vi"),
    ("After the merger Hai Phong has a population of about 4.6 million.", "en"),
    ("合并后海防市人口约460万。", "zh"),
    ("После объединения население Хайфона составляет 4,6 млн человек.", "ru"),
])
def test_correct_population_is_not_a_conflict(checker, text, language):
    assert checker.check_facts(text, language, AFTER_MERGER) == []


def test_reference_follows_the_publication_date(checker):
    text = "Hai Phong has a population of 2.1 million."
    assert checker.check_facts(text, "en", date(2024, 5, 1)) == []
    assert checker.check_facts(text, "en", AFTER_MERGER)  # outdated after the merger


def test_national_figures_are_not_the_city_figures(checker):
    assert checker.check_facts("Việt Nam có dân số hơn 100 triệu người.", "vi", AFTER_MERGER) == []


def test_partial_year_figures_are_not_compared_with_annual_ones(checker):
    assert checker.check_facts("9 tháng đầu năm 2024, Hải Phòng thu hút 1 tỷ USD vốn FDI.", "vi", None) == []


@pytest.mark.parametrize("text", ["", "   ", "1,2,3,4,5,6 . . . 9999999999999999999999 triệu", "dân số " * 10000])
def test_odd_text_never_raises(checker, text):
    checker.check_facts(text, "vi", None)
    checker.check_facts(text, None, AFTER_MERGER)
