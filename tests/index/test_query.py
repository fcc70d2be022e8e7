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
