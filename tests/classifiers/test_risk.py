"""The misleading-risk score: bounded, explainable, low for neutral news, ≥ medium for sovereignty."""

from datetime import date
from pathlib import Path

import pytest

from classifiers.facts import FactChecker
from classifiers.risk import RiskConfig, combine, score_risk
from classifiers.sensitive import SensitiveDetector

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="module")
def detector() -> SensitiveDetector:
    return SensitiveDetector.from_config(CONFIG)


@pytest.fixture(scope="module")
def config() -> RiskConfig:
    return RiskConfig.from_config(CONFIG)


def test_neutral_port_article_has_low_risk(detector, config):
    result = detector.detect("Cảng Hải Phòng tăng sản lượng container",
                             "Sản lượng container qua cảng Lạch Huyện tăng 12%; du khách tới Cát Bà cũng tăng.", "vi")
    risk = score_risk(result, sentiment_label="positive", sentiment_probability=0.9, outlet_profile="state_media",
                      config=config)
    assert risk.score < config.medium
    assert risk.level == "low" and not risk.queued
    assert risk.reasons == []


@pytest.mark.parametrize("title,text,language", [
    ("Việt Nam bác bỏ cái gọi là đường lưỡi bò", "Việt Nam phản đối cái gọi là đường lưỡi bò phi pháp.", "vi"),
    ("Học sinh Hải Phòng tìm hiểu về Hoàng Sa", "Cuộc thi tìm hiểu về biển đảo và chủ quyền.", "vi"),
    ("Vietnam rejects the so-called nine-dash line", "", "en"),
    ("中国海警在西沙驱离越南渔船", "", "zh"),
])
def test_any_sovereignty_article_scores_at_least_medium(detector, config, title, text, language):
    result = detector.detect(title, text, language)
    assert "sovereignty" in result.themes
    risk = score_risk(result, config=config)
    assert risk.score >= config.medium
    assert risk.queued


def test_rebuttal_weighs_less_than_the_claim_itself(detector, config):
    rebuttal = score_risk(detector.detect("Vietnam rejects the so-called nine-dash line", "", "en"), config=config)
    claim = score_risk(detector.detect("China reaffirms the nine-dash line", "", "en"), config=config)
    assert rebuttal.score < claim.score


def test_reasons_carry_evidence_and_combine_into_the_score(detector, config, verified_facts_dir):
    text = "Hai Phong, a city with a population of 10 million, is ruled by the communist regime near the Paracels."
    result = detector.detect("Global Times: Xisha is China's", text, "en")
    conflicts = FactChecker.from_config(verified_facts_dir).check_facts(text, "en", date(2025, 9, 1))
    risk = score_risk(result, sentiment_label="negative", sentiment_probability=0.8,
                      outlet_profile="state_media_claimant", outlet_name="Global Times", divergence=0.7,
                      divergence_evidence="only outlet to claim X", fact_conflicts=conflicts, config=config)
    kinds = {r.kind for r in risk.reasons}
    assert {"theme:sovereignty", "contested_naming", "theme:hostile_framing", "negative_sentiment",
            "outlet_profile", "divergence", "fact_conflict"} <= kinds
    for reason in risk.reasons:
        assert reason.evidence
        assert 0 < reason.weight < 1
    assert risk.score == pytest.approx(combine([r.weight for r in risk.reasons]), abs=1e-3)
    assert max(r.weight for r in risk.reasons) <= risk.score < 1
    assert risk.level == "high"
    assert [r.weight for r in risk.reasons] == sorted((r.weight for r in risk.reasons), reverse=True)


def test_missing_signals_add_no_reason(config):
    risk = score_risk(None, sentiment_label=None, divergence=None, config=config)
    assert risk.score == 0 and risk.reasons == []


def test_odd_signal_values_never_raise(config):
    risk = score_risk(None, sentiment_label="NEGATIVE", sentiment_probability=7.0, outlet_profile="unknown",
                      divergence=float("nan"), config=config)
    assert 0 <= risk.score < 1


def test_combine_is_bounded_and_monotone():
    assert combine([]) == 0
    assert combine([0.5]) == pytest.approx(0.5)
    assert combine([0.5, 0.5]) == pytest.approx(0.75)
    assert combine([0.99] * 50) < 1
