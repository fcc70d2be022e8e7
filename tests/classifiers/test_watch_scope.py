"""National watch coverage: kept without the city when a watch theme is flagged in context and
Vietnam is a party; sensitive themes decided in context; CJK terms respect name boundaries."""

from __future__ import annotations

import pytest

from classifiers.models import train
from classifiers.sensitive import SensitiveDetector
from pipeline.city import boundary_names, load_profile
from pipeline.process import Pipeline
from tests.classifiers.conftest import CONFIG

PROFILE = CONFIG / "cities" / "haiphong.yaml"


@pytest.fixture(scope="module")
def city():
    return load_profile(PROFILE)


@pytest.fixture(scope="module")
def detector(city):
    return SensitiveDetector.from_config(CONFIG, boundary_names(city))


@pytest.fixture(scope="module")
def context_models(seed_examples, lexicons, detector):
    return train(seed_examples, lexicons=lexicons, sensitive=detector)


@pytest.fixture(scope="module")
def pipeline(city, detector, context_models):
    from classifiers.risk import RiskScorer

    return Pipeline(city=city, backend=None, models=context_models, sensitive=detector,
                    risk=RiskScorer.from_config(CONFIG))


def analyse(pipeline, text, title="", language=None):
    return pipeline.analyze_input({"id": "t", "text": text, "title": title, "language": language}, "t")


def test_the_context_model_is_trained_with_the_others_and_reports_its_scores(context_models):
    scores = context_models.meta["cv"]["sensitive_context"]
    assert context_models.context is not None
    assert scores["candidates"] > scores["positives"] > 0 and 0.2 <= scores["threshold"] <= 0.8


def test_national_sovereignty_coverage_is_kept_as_watch_without_the_city(pipeline):
    out = analyse(pipeline, (
        "Vietnam's foreign ministry on Monday demanded that Beijing withdraw a survey vessel that has operated "
        "for nine days inside Vietnam's exclusive economic zone near Vanguard Bank, calling the operation a "
        "serious violation of its sovereignty over the Spratly Islands. Coast guard ships shadowed the vessel."),
        title="Hanoi demands Chinese survey ship leave its waters near the Spratlys")
    assert not out["relevant"] and out["kept"] and out["scope"] == "watch"
    assert "sovereignty" in out["sensitive"]["themes"]
    assert out["dropped"] is None and out["topics"] and out["sentiment"]


def test_a_dispute_without_vietnam_as_a_party_is_not_watch_coverage(pipeline):
    out = analyse(pipeline, (
        "Philippine fishermen said Chinese coast guard vessels blocked them from entering the lagoon of "
        "Scarborough Shoal on Saturday, the latest standoff between Manila and Beijing in the South China Sea."),
        title="Manila says Chinese ships blocked fishermen at Scarborough Shoal")
    assert not out["kept"] and out["scope"] is None and out["dropped"]["reason"] == "not_relevant"
    assert "not a party" in out["dropped"]["detail"] or "no watch theme" in out["dropped"]["detail"]


def test_every_field_is_filled_for_ordinary_news_that_is_not_kept(pipeline):
    out = analyse(pipeline, "Đà Nẵng đón hơn một triệu lượt khách du lịch quốc tế trong mười tháng đầu năm, "
                            "tăng mạnh so với cùng kỳ nhờ nhiều đường bay mới từ Hàn Quốc và Ấn Độ.")
    assert not out["kept"] and out["language"] == "vi"
    assert out["topics"] and out["sentiment"]["label"] and out["sensitive"]["themes"] == [] and out["risk"]


def test_a_chinese_term_never_straddles_the_city_s_name(detector):
    # 越南海防 ("Vietnam's Hải Phòng") holds 南海 across the boundary of two names
    result = detector.detect("越南海防吉婆岛旅游升温",
                             "越南海防市的吉婆岛和兰夏湾今年吸引了大量中国游客，当地酒店入住率明显上升。", "zh")
    assert result.findings == []
    # the sea itself is still found where it is written as such
    assert detector.detect("", "中国海警船在南海驱离越南渔船，越方提出交涉。", "zh").findings


def test_a_flag_keeps_its_reasons_and_a_cleared_candidate_says_why(pipeline):
    flagged = analyse(pipeline, (
        "Vietnam's foreign ministry on Monday demanded that Beijing withdraw a survey vessel that has operated "
        "for nine days inside Vietnam's exclusive economic zone near Vanguard Bank, calling the operation a "
        "serious violation of its sovereignty over the Spratly Islands."))
    assert all(f["term"] and f["surface"] for f in flagged["sensitive"]["findings"])
    assert "sovereignty" in flagged["sensitive"]["themes"]
    article = pipeline.analyze(pipeline.draft_from_text("x", (
        "A container ship carrying electronics from Hai Phong port to Singapore was delayed by two days after a "
        "storm in the South China Sea, the shipping line said, adding that cargo was unharmed.")))
    reasons = article.article.reasons["sensitive"]
    # the sea is a candidate; it is either flagged with its evidence or cleared with its reason
    assert {f["theme"] for f in reasons["findings"]} >= {"sovereignty"}
    decided = {**{t: e["rule"] for t, e in reasons["evidence"].items()},
               **{t: c["rule"] for t, c in reasons["cleared"].items()}}
    assert "sovereignty" in decided and "context p=" in decided["sovereignty"]
    for theme, why in reasons["cleared"].items():
        assert why["terms"] and theme not in reasons["evidence"]
