from pathlib import Path

import pytest

from classifiers.lexicon import Lexicons


def tone(lexicons, text, lang=None):
    hits = lexicons.tone_hits(text, lang)
    return {k: [h.surface for h in v.hits] for k, v in hits.items() if v.hits}


def test_topic_hits_carry_surface_and_span(lexicons):
    text = "Cang Lach Huyen đón tàu container lớn nhất"
    hits = lexicons.topic_hits(text)["port_logistics"].hits
    assert hits and all(text[h.start:h.end] == h.surface for h in hits)
    assert "container" in [h.surface for h in hits]


def test_every_topic_label_is_reported_even_without_hits(lexicons):
    assert set(lexicons.topic_hits("")) == set(lexicons.topic_labels)


@pytest.mark.parametrize("text,lang,expected", [
    ("Dự án không thành công", "vi", {"negative": ["thành công"]}),
    ("The plan was not successful", "en", {"negative": ["successful"]}),
    ("该项目并不成功", "zh", {"negative": ["成功"]}),
    ("計画は成功しなかった", "ja", {"negative": ["成功"]}),
    ("사업은 성공하지 않았다", "ko", {"negative": ["성공"]}),
    ("Le projet n'est pas un succès", "fr", {"negative": ["succès"]}),
    ("проект не успешный", "ru", {"negative": ["успешный"]}),
])
def test_a_negated_positive_term_counts_as_negative(lexicons, text, lang, expected):
    assert tone(lexicons, text, lang) == expected


def test_a_negated_negative_term_is_cancelled_not_positive(lexicons):
    assert tone(lexicons, "Auditors found no corruption at the port", "en") == {"cancelled": ["corruption"]}


@pytest.mark.parametrize("text,lang", [
    ("Ngành hàng không thành công rực rỡ", "vi"),  # "hàng không" is aviation, not a negation
    ("经济不断成功转型", "zh"),  # 不断 = continuously
    ("Ranked No. 1, a success story", "en"),
])
def test_negator_exceptions_do_not_negate(lexicons, text, lang):
    assert "positive" in tone(lexicons, text, lang)
    assert "negative" not in tone(lexicons, text, lang)


def test_negation_does_not_cross_a_sentence(lexicons):
    assert tone(lexicons, "Không ai ngờ. Dự án thành công", "vi") == {"positive": ["thành công"]}


def test_lexicons_round_trip_through_a_model_directory(lexicons, tmp_path: Path):
    lexicons.save(tmp_path)
    again = Lexicons.load(tmp_path)
    text = "Haiphong port container throughput hit a record; Paracel Islands"
    assert {k: v.surfaces() for k, v in again.topic_hits(text).items()} == \
        {k: v.surfaces() for k, v in lexicons.topic_hits(text).items()}
