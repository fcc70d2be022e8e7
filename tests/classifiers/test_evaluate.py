import json

from classifiers.baseline import LexiconBaseline
from classifiers.corpus import Example
from classifiers.evaluate import cross_validate, evaluate, render_comparison, render_text, score
from classifiers.models import ModelConfig, Prediction


def ex(i, topics, sentiment, lang="en"):
    return Example(str(i), lang, "", "text", topics, sentiment)


def pred(topics, sentiment):
    return Prediction([(t, 0.9) for t in topics], (sentiment, 0.8))


def test_scores_multi_label_topics_and_sentiment_confusion():
    examples = [ex(1, ["investment", "port_logistics"], "positive"), ex(2, ["governance"], "negative", "vi"),
                ex(3, ["investment"], "neutral", "vi")]
    predictions = [pred(["investment"], "positive"), pred(["governance", "investment"], "neutral"),
                   pred(["investment"], "neutral")]
    report = score(examples, predictions)
    by_label = {s.label: s for s in report.topics}
    assert (by_label["investment"].precision, by_label["investment"].recall) == (0.6667, 1.0)
    assert by_label["port_logistics"].recall == 0.0
    assert report.sentiment_accuracy == round(2 / 3, 4)
    assert report.confusion[report.confusion_labels.index("negative")][report.confusion_labels.index("neutral")] == 1
    assert set(report.per_language) == {"en", "vi"}
    assert json.loads(report.to_json())["per_language"]["vi"]["n_examples"] == 2


def test_unlabelled_parts_are_not_scored():
    report = score([ex(1, [], "positive")], [pred(["other"], "positive")])
    assert report.topic_macro_f1 is None and report.sentiment_accuracy == 1.0


def test_text_reports_show_model_and_rules_side_by_side(models, lexicons, test_examples):
    sample = test_examples[::5]
    model = evaluate(models.predict, sample)
    rules = evaluate(LexiconBaseline(lexicons).predict, sample)
    table = render_comparison({"model": model, "lexicon rules": rules})
    assert "topic macro-F1" in table and "vi: sentiment acc" in table
    text = render_text(model, "held-out")
    assert "confusion" in text and "latency" in text and "sovereignty" in text


def test_cross_validation_predicts_every_example_out_of_fold(seed_examples, lexicons):
    small = seed_examples[::4]
    report = cross_validate(small, folds=2, lexicons=lexicons, config=ModelConfig(threshold_folds=2))
    assert report.n_examples == len(small)
    assert report.topic_macro_f1 > 0.3 and report.sentiment_accuracy > 0.4
