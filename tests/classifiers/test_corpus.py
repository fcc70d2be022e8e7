import json

from classifiers.corpus import load_jsonl


def write(tmp_path, lines):
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_eval_format_accepts_topic_string_and_numeric_sentiment(tmp_path):
    path = write(tmp_path, [
        json.dumps({"text": "Cảng Lạch Huyện", "topic": "port_logistics", "sentiment": 1}),
        json.dumps({"title": "T", "text": "x", "topics": ["investment", "governance"], "sentiment": "-1"}),
        json.dumps({"text": "y", "sentiment": "Neutral"}),
    ])
    result = load_jsonl(path)
    assert result.bad_lines == []
    assert [(e.topics, e.sentiment) for e in result.examples] == [
        (["port_logistics"], "positive"), (["investment", "governance"], "negative"), ([], "neutral")]


def test_bad_lines_are_reported_with_their_number_and_skipped(tmp_path):
    path = write(tmp_path, [
        json.dumps({"text": "ok", "sentiment": 0}),
        "{not json",
        json.dumps({"text": "bad", "sentiment": 5}),
        json.dumps(["a list"]),
        json.dumps({"title": "no text"}),
        json.dumps({"text": ""}),
    ])
    result = load_jsonl(path)
    assert len(result.examples) == 2  # the first line, and the one with a title only
    assert [b.line for b in result.bad_lines] == [2, 3, 4, 6]
    assert all(b.reason for b in result.bad_lines)


def test_seed_corpus_loads_every_language(seed_examples):
    assert {e.lang for e in seed_examples} >= {"vi", "en", "zh", "ja", "ko", "ru", "fr"}
    assert all(e.topics and e.sentiment for e in seed_examples)
