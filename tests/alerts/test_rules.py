"""Loading alert rules: the shipped defaults, and errors that name the file, rule and field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.rules import RuleError, load_rules, parse_duration, parse_rules, recipient_problems
from tests.alerts.conftest import CONFIG


def test_the_shipped_rules_cover_what_the_office_asked_for():
    rules = {r.name: r for r in load_rules(CONFIG / "alerts.yaml")}

    assert set(rules["sovereignty_foreign"].filters.themes) >= {"sovereignty"}
    assert rules["sovereignty_foreign"].filters.scope == "foreign"
    assert rules["high_risk"].filters.min_risk == 0.30  # the queue threshold of config/risk.yaml
    assert set(rules["rights_religion_ethnicity_foreign"].filters.themes) == {"human_rights", "religion", "ethnicity"}
    spike = rules["negative_foreign_spike"]
    assert spike.kind == "spike" and spike.filters.sentiment == ("negative",) and spike.filters.scope == "foreign"
    assert spike.spike is not None and spike.spike.window == timedelta(hours=6)


@pytest.mark.parametrize(("rule", "message"), [
    ({"name": "a", "recipients": ["x"], "filters": {"scope": "abroad"}}, "rules[0] ('a').filters.scope"),
    ({"name": "a", "recipients": ["x"], "query": '"unclosed'}, "rules[0] ('a').query: unclosed quote"),
    ({"name": "a", "recipients": []}, "rules[0] ('a').recipients"),
    ({"name": "a", "recipients": ["x"], "filtres": {}}, "rules[0] ('a').filtres: Extra inputs"),
    ({"name": "a", "recipients": ["x"], "throttle": "soon"}, "rules[0] ('a').throttle: not a duration"),
    ({"name": "a", "recipients": ["x"], "filters": {"min_risk": "queue_treshold"}}, "unknown threshold"),
    ({"name": "a", "recipients": ["x"], "filters": {"min_risk": 3}}, "not between 0 and 1"),
    ({"name": "a", "recipients": ["x"], "spike": {"window": "6h"}}, "only a rule of kind 'spike'"),
    ({"name": "Bad Name", "recipients": ["x"]}, "rules[0] ('Bad Name').name"),
])
def test_a_mistake_in_a_rule_is_reported_with_the_rule_and_field(rule, message):
    with pytest.raises(RuleError) as caught:
        parse_rules({"rules": [rule]}, source="alerts.yaml", thresholds={"queue_threshold": 0.3})
    assert message in str(caught.value)


def test_two_rules_with_the_same_name_are_refused():
    rule = {"name": "a", "recipients": ["x"]}
    with pytest.raises(RuleError, match="duplicate rule name 'a'"):
        parse_rules({"rules": [rule, rule]})


def test_a_file_that_is_not_yaml_says_so(tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(RuleError, match="not valid YAML"):
        load_rules(path)


def test_defaults_apply_to_rules_that_do_not_say_otherwise():
    [rule] = parse_rules({"defaults": {"channels": ["email"], "throttle": "90m", "severity": "low"},
                          "rules": [{"name": "a", "recipients": ["x"], "filters": {"countries": ["cn"]}}]})
    assert (rule.channels, rule.throttle, rule.severity) == (("email",), timedelta(minutes=90), "low")
    assert rule.filters.countries == ("CN",)


@pytest.mark.parametrize(("text", "delta"), [("90m", timedelta(minutes=90)), ("6h", timedelta(hours=6)),
                                             ("2d", timedelta(days=2)), (45, timedelta(minutes=45))])
def test_durations(text, delta):
    assert parse_duration(text) == delta


def test_recipient_problems_name_what_the_settings_lack():
    rules = parse_rules({"rules": [{"name": "a", "recipients": ["team", "chat", "ghost"], "channels": ["email"]}]})

    problems = recipient_problems(rules, {"team": ["a@b.test"]}, {"chat": "https://chat.test/hook"})

    assert problems == ["rule a: 'chat' is a webhook but the rule has no webhook channel",
                        "rule a: no recipient list or webhook named 'ghost' in the settings"]
