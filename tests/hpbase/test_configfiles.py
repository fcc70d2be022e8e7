"""One reader per shared configuration file: risk.yaml and topics.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alerts.rules import load_rules, parse_rules, read_risk_thresholds
from classifiers.risk import RiskConfig
from hpbase.configfiles import ConfigFileError, RiskFile, TopicsFile

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
RULE = {"name": "queued", "recipients": ["office"], "filters": {"min_risk": "queue_threshold"}}


def _config_dir(tmp_path: Path, risk: str | None) -> Path:
    (tmp_path / "alerts.yaml").write_text(yaml.safe_dump({"rules": [RULE]}), encoding="utf-8")
    if risk is not None:
        (tmp_path / "risk.yaml").write_text(risk, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("risk", [
    "risk:\n  queue_threshold: 0.42\n  levels: {medium: 0.35, high: 0.7}\n",
    "risk:\n  queue_threshold: 0.25\n",  # no levels: the bands' defaults
    "sensitive: {max_chars: 10}\n",  # no risk section
    None,  # no risk.yaml at all: the alert rule used to fail while the queue used 0.30
], ids=["custom", "no-levels", "no-risk-section", "no-file"])
def test_the_alert_threshold_and_the_queue_threshold_come_from_the_same_object(tmp_path, risk, monkeypatch):
    from pipeline.evidence import queue_threshold

    config_dir = _config_dir(tmp_path, risk)
    config = RiskConfig.from_config(config_dir)
    [rule] = load_rules(config_dir / "alerts.yaml")
    assert rule.filters.min_risk == config.queue_threshold == queue_threshold(config_dir)
    assert read_risk_thresholds(config_dir / "risk.yaml") == config.thresholds()

    # and it is that object: change what RiskConfig says and the rule follows
    monkeypatch.setattr(RiskConfig, "thresholds", lambda self: {"queue_threshold": 0.99})
    [rule] = load_rules(config_dir / "alerts.yaml")
    assert rule.filters.min_risk == 0.99


def test_the_installed_thresholds_are_the_files_numbers() -> None:
    thresholds = read_risk_thresholds(CONFIG / "risk.yaml")
    raw = yaml.safe_load((CONFIG / "risk.yaml").read_text(encoding="utf-8"))["risk"]
    assert thresholds == {"queue_threshold": raw["queue_threshold"], **raw["levels"]}


def test_a_broken_risk_file_gives_no_thresholds_and_the_rule_says_so(tmp_path) -> None:
    config_dir = _config_dir(tmp_path, "risk: [\n")
    assert read_risk_thresholds(config_dir / "risk.yaml") == {}
    with pytest.raises(ConfigFileError):
        RiskFile.read(config_dir / "risk.yaml")
    with pytest.raises(Exception, match="queue_threshold"):
        parse_rules({"rules": [RULE]}, thresholds={})


def test_the_risk_bands_of_the_e_mails_are_the_configs_defaults() -> None:
    from alerts.i18n import RISK_BANDS

    assert dict(RISK_BANDS) == {"high": RiskConfig().high, "medium": RiskConfig().medium}


# ---------------------------------------------------------------------------- topics.yaml

TRICKY = """
topics:
  - label: port
    name: {vi: Cảng, en: Port}
  - label: bare
  - label: ""
    name: {en: nameless}
  - just a string
  - label: listy
    name: [not, a, mapping]
sentiments:
  - label: negative
    name: {en: Negative}
sensitive_themes:
  - label: sovereignty
    name: {vi: Chủ quyền}
"""


def _old_label_names(raw):  # alerts/i18n.py before
    names = {}
    for section, kind in (("topics", "topic"), ("sensitive_themes", "theme")):
        for entry in raw.get(section) or []:
            if isinstance(entry, dict) and isinstance(entry.get("name"), dict) and entry.get("label"):
                names[f"{kind}:{entry['label']}"] = {str(k): str(v) for k, v in entry["name"].items()}
    return names


def _old_digest_names(raw, section):  # alerts/digest/i18n.py before (for names that are mappings)
    return {str(item["label"]): {str(k): str(v) for k, v in (item.get("name") or {}).items()}
            for item in raw.get(section) or [] if isinstance(item, dict) and item.get("label")
            and not isinstance(item.get("name"), list)}


@pytest.mark.parametrize("text", [(CONFIG / "topics.yaml").read_text(encoding="utf-8"), TRICKY],
                         ids=["installed", "tricky"])
def test_every_reader_of_the_taxonomy_reads_what_it_read_before(tmp_path, text) -> None:
    from alerts.i18n import load_label_names, load_taxonomy

    path = tmp_path / "topics.yaml"
    path.write_text(text, encoding="utf-8")
    raw = yaml.safe_load(text)
    assert load_label_names(path) == _old_label_names(raw)
    digest = load_taxonomy(path)
    assert digest.topics == _old_digest_names(raw, "topics") | ({"listy": {}} if "listy" in text else {})
    assert digest.sentiments == _old_digest_names(raw, "sentiments")
    assert digest.themes == _old_digest_names(raw, "sensitive_themes")


def test_the_cli_label_check_also_knows_the_short_forms(tmp_path) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text(TRICKY, encoding="utf-8")
    assert TopicsFile.read(path).topic_keys == {"port", "bare", "just a string", "listy"}
    path.write_text("topics: {port: {}, tourism: {}}\n", encoding="utf-8")
    assert TopicsFile.read(path).topic_keys == {"port", "tourism"} and TopicsFile.read(path).topics == ()
    installed = TopicsFile.read(CONFIG / "topics.yaml")
    assert installed.topic_keys == {t.label for t in installed.topics}


def test_the_taxonomy_reader_keeps_file_order_and_says_when_the_file_is_missing(tmp_path) -> None:
    taxonomy = TopicsFile.read(CONFIG / "topics.yaml")
    assert taxonomy.exists and taxonomy.topics[0].label == "sovereignty" and taxonomy.topics[-1].label == "other"
    assert not TopicsFile.read(tmp_path / "nope.yaml").exists
    (tmp_path / "bad.yaml").write_text("topics: [\n", encoding="utf-8")
    with pytest.raises(ConfigFileError):
        TopicsFile.read(tmp_path / "bad.yaml")
