import pytest

from index.query import Clause, QuerySyntaxError, SearchQuery, parse_query


def test_words_are_anded_and_or_binds_tighter():
    q = parse_query('port "Hai Phong" OR Haiphong')
    assert q.must == (Clause(("port",)), Clause(("Hai Phong", "Haiphong")))
    assert q.must_not == ()


def test_minus_excludes_words_and_phrases():
    q = parse_query('cảng -bão -"tai nạn"')
    assert q.must == (Clause(("cảng",)),)
    assert q.must_not == (Clause(("bão",)), Clause(("tai nạn",)))


def test_query_of_only_exclusions_has_no_positive_part():
    q = parse_query("-storm")
    assert q.must == () and q.must_not == (Clause(("storm",)),)


def test_dangling_or_and_punctuation_are_ignored():
    assert parse_query("OR a OR").must == (Clause(("a",)),)
    assert parse_query("- , ;").is_empty


def test_unclosed_quote_is_a_syntax_error():
    with pytest.raises(QuerySyntaxError):
        parse_query('"hai phong')


def test_unknown_filter_is_rejected():
    with pytest.raises(ValueError, match="unknown filter"):
        SearchQuery(filters={"colour": ["red"]})


def test_vietnamese_syllables_in_a_row_are_one_phrase():
    assert parse_query("da nang").must == (Clause(("da nang",)),)
    assert parse_query("Đà Nẵng cảng").must == (Clause(("Đà Nẵng cảng",)),)
    assert parse_query("Danish investor Dinh Vu").must == (
        Clause(("Danish",)), Clause(("investor",)), Clause(("Dinh Vu",)))  # only the syllables join


def test_quotes_or_and_minus_end_a_run_of_syllables():
    assert parse_query('"hải phòng" "đồ sơn"').must == (Clause(("hải phòng",)), Clause(("đồ sơn",)))
    assert parse_query("da nang OR hoi an").must == (Clause(("da nang", "hoi an")),)
    assert parse_query("cảng -bão lũ").must == (Clause(("cảng",)), Clause(("lũ",)))
    assert parse_query("cảng -bão lũ").must_not == (Clause(("bão",)),)
    assert parse_query("hai phong 海防 cang").must == (Clause(("hai phong",)), Clause(("海防",)), Clause(("cang",)))


@pytest.mark.parametrize("word,is_syllable", [
    ("nẵng", True), ("nang", True), ("quyền", True), ("nghiêng", True), ("khuỷu", True), ("người", True),
    ("Đ", False), ("port", False), ("storm", False), ("container", False), ("海防", False), ("Хайфон", False),
    ("2026", False),
])
def test_what_counts_as_a_vietnamese_syllable(word, is_syllable):
    from index.query import is_vietnamese_syllable

    assert is_vietnamese_syllable(word) is is_syllable
