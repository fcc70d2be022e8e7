"""The learned relevance decision (pipeline/about.py): trained on a small built corpus, saved and
loaded, wired into the pipeline, and falling back to the hand formula with a reason."""

import json
import logging
from datetime import date
from pathlib import Path

import pytest

from pipeline.about import MODEL_FILE, AboutModel, Labelled, load_about, load_labelled, train_about
from pipeline.city import load_profile
from pipeline.process import Pipeline
from pipeline.relevance import score_relevance

PROFILE = load_profile(Path(__file__).resolve().parents[2] / "config" / "cities" / "haiphong.yaml")
DAY = date(2026, 11, 20)

_TOPICS = ["port", "budget", "school", "hospital", "festival", "bridge", "factory", "market", "airport", "flood",
           "road", "park", "museum", "train", "harbour", "clinic", "stadium", "library", "tower", "ferry"]
_OTHER = ["Busan", "Rotterdam", "Santos", "Durban", "Valencia", "Antwerp", "Hamburg", "Genoa", "Mombasa", "Manila"]


def _about(i: int) -> Labelled:
    topic = _TOPICS[i % len(_TOPICS)]
    return Labelled(f"a{i}", f"Hai Phong opens a new {topic}",
                    f"Hai Phong opened its new {topic} on Monday. Officials in Hai Phong said the {topic} cost "
                    f"{10 + i} million dollars. Residents of the city welcomed it. More work in Hai Phong "
                    "is planned for next year.", True)


def _passing(i: int) -> Labelled:
    place, topic = _OTHER[i % len(_OTHER)], _TOPICS[(i * 3) % len(_TOPICS)]
    return Labelled(f"p{i}", f"{place} opens a new {topic}",
                    f"{place} opened its new {topic} on Monday. Officials in {place} said the {topic} cost "
                    f"{10 + i} million dollars. Residents of {place} welcomed it and the mayor spoke for an hour "
                    f"about the {topic}, the budget and the next steps. Work is planned for next year, with "
                    "partners from several ports in Asia, among them Hai Phong.", False)


def _elsewhere(i: int) -> Labelled:
    place = _OTHER[i % len(_OTHER)]
    return Labelled(f"e{i}", f"{place} weather", f"Rain fell on {place} for the {i + 2}nd day.", False)


CORPUS = [_about(i) for i in range(24)] + [_passing(i) for i in range(24)] + [_elsewhere(i) for i in range(12)]


@pytest.fixture(scope="module")
def trained() -> tuple[AboutModel, dict]:
    return train_about(CORPUS, PROFILE, day=DAY)


def judge(title, text, about=None):
    return score_relevance(PROFILE, title=title, text=text, day=DAY, about=about)


def test_the_learned_decision_tells_a_passing_mention_from_an_article_about_the_city(trained):
    model, scores = trained
    passing = _passing(99)
    formula = judge(passing.title, passing.text)
    assert formula.relevant and formula.decided_by == "formula"  # one mention of the city: the formula keeps it
    learned = judge(passing.title, passing.text, model)
    assert not learned.relevant and learned.decided_by == "model"
    assert learned.probability is not None and learned.probability < model.threshold
    assert "learned p=" in learned.why
    about = _about(99)
    kept = judge(about.title, about.text, model)
    assert kept.relevant and kept.decided_by == "model" and kept.probability >= model.threshold
    assert scores["oof"]["f1"] > scores["hand_formula"]["f1"]
    assert scores["examples"] == len(CORPUS) and 0 < scores["threshold"] < 1


def test_a_long_article_naming_the_city_once_near_its_end_stays_a_passing_mention(trained):
    model, _ = trained
    passing = _passing(97)
    middle = " ".join([passing.text.split(". ")[2] + "."] * 8)
    longer = passing.text.replace("Work is planned", f"{middle} Work is planned")
    assert len(longer) > 2 * max(len(ex.text) for ex in CORPUS)  # longer than anything it was trained on
    result = judge(passing.title, longer, model)
    assert result.decided_by == "model" and not result.relevant


def test_features_the_corpus_cannot_teach_are_left_out_of_the_fit(trained):
    model, scores = trained
    # the built corpus never names an island or a port, and never has a rejected mention
    for name in ("kind=island", "kind=port", "rejected=confusion"):
        assert name in scores["left_out"]
        assert model.coef[model.names.index(name)] == 0.0
    assert "first_position" not in scores["left_out"]


def test_the_decision_holds_when_the_title_is_the_first_line_of_a_bare_text(trained):
    model, _ = trained
    passing, about = _passing(98), _about(98)
    assert not judge("", f"{passing.title}\n\n{passing.text}", model).relevant
    assert judge("", f"{about.title}\n\n{about.text}", model).relevant


def test_without_an_accepted_mention_the_article_is_never_about_the_city(trained):
    model, _ = trained
    result = judge("Busan weather", "Rain fell on Busan again.", model)
    assert not result.relevant and result.decided_by == "model" and "no accepted mention" in result.why


def test_a_saved_model_loads_back_with_the_same_decisions(trained, tmp_path):
    model, _ = trained
    path = model.save(tmp_path)
    assert path == tmp_path / MODEL_FILE
    loaded = load_about(tmp_path, PROFILE.id)
    assert loaded is not None and loaded.to_json() == model.to_json()
    for ex in (_about(50), _passing(50)):
        a, b = judge(ex.title, ex.text, model), judge(ex.title, ex.text, loaded)
        assert (a.relevant, a.probability, a.why) == (b.relevant, b.probability, b.why)


@pytest.mark.parametrize("content,reason", [
    ("{not json", "unusable"),
    ('["a list"]', "not a JSON object"),
    ('{"format": 99, "features_version": 1}', "run `hpmon train`"),
    ("OTHER_CITY", "is for city"),
    ("SHORT_COEF", "do not match"),
    ("BAD_THRESHOLD", "threshold"),
])
def test_a_broken_or_foreign_model_file_falls_back_to_the_formula_with_a_logged_reason(
        trained, tmp_path, caplog, content, reason):
    model, _ = trained
    raw = model.to_json()
    if content == "OTHER_CITY":
        raw["city"] = "danang"
    elif content == "SHORT_COEF":
        raw["coef"] = raw["coef"][:-1]
    elif content == "BAD_THRESHOLD":
        raw["threshold"] = 1.5
    text = json.dumps(raw) if content.isupper() else content
    (tmp_path / MODEL_FILE).write_text(text, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="pipeline.about"):
        assert load_about(tmp_path, PROFILE.id) is None
    assert reason in caplog.text and "hand formula" in caplog.text
    result = judge("Hai Phong", "Hai Phong port.", None)
    assert result.decided_by == "formula" and "no learned model loaded" in result.why


def test_no_model_file_is_logged_and_the_formula_decides(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="pipeline.about"):
        assert load_about(tmp_path, PROFILE.id) is None
    assert "no learned relevance model" in caplog.text


def test_a_model_that_fails_on_an_article_leaves_the_decision_to_the_formula():
    class Broken:
        def decide(self, relevance, *, title, text, lead=""):
            raise ValueError("shapes (3,) and (5,) not aligned")

    result = judge("Hai Phong port grows", "Hai Phong handled more containers.", Broken())
    assert result.relevant and result.decided_by == "formula" and result.probability is None
    assert "learned model failed (shapes (3,) and (5,) not aligned)" in result.why


def test_hpmon_analyze_output_says_who_decided_and_why(trained):
    model, _ = trained
    passing = _passing(77)
    with_model = Pipeline(city=PROFILE, backend=None, about=model).analyze_input(
        {"title": passing.title, "text": passing.text, "published_at": DAY.isoformat()}, "x1")
    assert with_model["relevant"] is False
    assert with_model["relevance"]["decided_by"] == "model"
    assert with_model["relevance"]["probability"] < model.threshold and with_model["relevance"]["why"]
    without = Pipeline(city=PROFILE, backend=None).analyze_input(
        {"title": passing.title, "text": passing.text, "published_at": DAY.isoformat()}, "x1")
    assert without["relevant"] is True and without["relevance"]["decided_by"] == "formula"
    assert without["relevance"]["probability"] is None


def test_the_installation_loads_its_trained_model_for_analysis(trained, tmp_path, caplog):
    from hpmon.app import load_about_model
    from hpmon.settings import Settings

    settings = Settings(home=tmp_path / "home")
    with caplog.at_level(logging.WARNING, logger="pipeline.about"):
        assert load_about_model(settings, PROFILE) is None
    trained[0].save(settings.models_dir)
    loaded = load_about_model(settings, PROFILE)
    assert loaded is not None and loaded.threshold == trained[0].threshold


def test_the_pipeline_hpmon_builds_decides_with_the_saved_model(trained, tmp_path):
    from hpmon.app import build_pipeline
    from hpmon.settings import Settings

    settings = Settings(home=tmp_path / "home")
    trained[0].save(settings.models_dir)
    pipeline = build_pipeline(settings, None, [], PROFILE, record_stories=False)
    passing = _passing(76)
    out = pipeline.analyze_input({"title": passing.title, "text": passing.text}, "x2")
    assert out["relevance"]["decided_by"] == "model" and out["relevant"] is False
    assert build_pipeline(settings, None, [], PROFILE, record_stories=False, content_stages=False).about is None


def test_corpus_lines_without_a_label_or_broken_are_left_out_with_a_reason(tmp_path, caplog):
    lines = [json.dumps({"id": "a", "lang": "en", "title": "Hai Phong", "text": "Hai Phong port.",
                         "topics": ["economy"], "sentiment": "neutral", "about_city": True}),
             json.dumps({"id": "b", "lang": "en", "title": "Busan", "text": "Busan port.", "topics": ["economy"],
                         "sentiment": "neutral"}),
             "{broken"]
    (tmp_path / "seed-x.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="pipeline.about"):
        examples = load_labelled(tmp_path)
    assert [e.id for e in examples] == ["a"] and examples[0].about_city is True
    assert "skipped" in caplog.text


def test_training_needs_both_labels():
    with pytest.raises(ValueError, match="about the city and others"):
        train_about([_about(i) for i in range(6)], PROFILE, day=DAY)
