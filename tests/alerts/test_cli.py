"""`hpmon alerts list | test | history | deliver` and the crawl's hook, wired from the settings:
addresses, webhooks and the secret come from the settings, never from the repository."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from hpmon.commands.alerts import alerts, process_new_articles
from hpmon.settings import Settings
from index.sqlite import SqliteBackend
from tests.alerts.conftest import SECRET, fixture_batch


@pytest.fixture
def settings(tmp_path, smtp_server, webhook_server) -> Settings:
    return Settings(
        home=tmp_path / "home", smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_security="none",
        smtp_from="Trực ban hpmon <canhbao@hpmon.test>", smtp_timeout=5,
        recipients={"sotttt_oncall": ["a.oncall@stt.test"], "songoaivu_oncall": ["b.oncall@sngv.test"]},
        webhooks={"oncall_webhook": webhook_server.url}, webhook_secret=SECRET, base_url="https://hpmon.test",
        fetch_allow_hosts=["127.0.0.1"],  # the test receiver is on loopback, refused unless allowed
    )


@pytest.fixture
def indexed(settings):
    """The fixture batch indexed in the settings' data directory, dated just now."""
    batch = fixture_batch(datetime.now(UTC))
    backend = SqliteBackend(settings.index_path)
    backend.upsert(batch)
    yield backend, batch
    backend.close()


def run(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(alerts, list(args), obj={"settings": settings}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_crawl_hook_sends_alerts_to_the_addresses_in_the_settings(settings, indexed, smtp_server,
                                                                      webhook_server):
    backend, batch = indexed

    report = process_new_articles(settings, backend, batch)

    assert report is not None and report.failed == 0 and report.retried == 0
    assert {rcpt for rcpt, _ in smtp_server.messages} == {"a.oncall@stt.test", "b.oncall@sngv.test"}
    assert all(m["From"] == "Trực ban hpmon <canhbao@hpmon.test>" for _, m in smtp_server.messages)
    assert all(m["Message-ID"].endswith("@hpmon.test>") for _, m in smtp_server.messages)
    assert len(webhook_server.requests) == 5 and all(r.signature_ok() for r in webhook_server.requests)
    assert settings.app_db_path.is_file()


def test_alerts_list_shows_the_rules_and_names_missing_recipients(settings):
    settings = settings.model_copy(update={"recipients": {"sotttt_oncall": ["a.oncall@stt.test"]}})

    out = json.loads(run(settings, "list", "--json"))

    assert [r["name"] for r in out["rules"]] == ["sovereignty_foreign", "high_risk", "national_watch",
                                                 "rights_religion_ethnicity_foreign", "negative_foreign_spike"]
    assert next(r for r in out["rules"] if r["name"] == "high_risk")["min_risk"] == 0.3
    assert any("songoaivu_oncall" in p for p in out["problems"])
    # a list the office keeps in its records (the web app's Recipients page) counts as set
    from records.recipients import RecipientLists

    store = RecipientLists(settings.app_db_path)
    store.save("songoaivu_oncall", ["b.oncall@sngv.test"], by="admin")
    store.close()
    again = json.loads(run(settings, "list", "--json"))
    assert not any("songoaivu_oncall" in p for p in again["problems"])


def test_alerts_test_shows_which_stored_articles_a_rule_would_have_matched(settings, indexed):
    out = json.loads(run(settings, "test", "sovereignty_foreign", "--json"))
    assert {h["id"] for h in out["hits"]} == {"en-sov", "zh-sansha"}

    text = run(settings, "test", "high_risk", "--limit", "1")
    assert "would have matched 2 stored articles" in text


def test_alerts_test_of_an_unknown_rule_names_the_known_ones(settings):
    result = CliRunner().invoke(alerts, ["test", "nope"], obj={"settings": settings})
    assert result.exit_code != 0 and "sovereignty_foreign" in result.output


def test_alerts_history_and_deliver_show_states_and_attempts(settings, indexed, smtp_server):
    backend, batch = indexed
    smtp_server.stop()
    process_new_articles(settings, backend, batch)

    waiting = json.loads(run(settings, "history", "--state", "pending", "--json"))
    assert len(waiting) == 5
    first = waiting[-1]["deliveries"][0]
    assert (first["state"], first["attempts"]) == ("pending", 1) and "Connection refused" in first["last_error"]

    smtp_server.start()
    delivered = json.loads(run(settings, "deliver", "--now", "--json"))
    history = json.loads(run(settings, "history", "--rule", "high_risk", "--json"))

    assert delivered["sent"] == 8 and delivered["states"]["pending"] == 0
    assert len(history) == 2 and {d["state"] for a in history for d in a["deliveries"]} == {"sent"}
    assert "sent" in run(settings, "history")


def test_a_broken_rules_file_is_reported_with_the_rule_and_field(settings, tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "alerts.yaml").write_text("rules:\n  - name: bad\n    recipients: [x]\n    filters: {scope: abroad}\n",
                                        encoding="utf-8")
    broken = settings.model_copy(update={"config_dir": config})

    result = CliRunner().invoke(alerts, ["list"], obj={"settings": broken})

    assert result.exit_code != 0
    assert "rules[0] ('bad').filters.scope" in result.output
    assert process_new_articles(broken, None, []) is None  # the crawl goes on; the reason is logged


def test_deliver_catches_up_on_articles_a_crashed_crawl_never_evaluated(tmp_path):
    """A crawl indexed an article and died before evaluating the rules: the next `alerts deliver`
    (the service runs it every minute) raises the alert anyway, once."""
    import json as _json
    from datetime import UTC, datetime

    from click.testing import CliRunner

    from hpmon.commands.alerts import alerts
    from hpmon.settings import Settings
    from index.article import Article
    from index.sqlite import SqliteBackend

    settings = Settings(home=tmp_path / "home", recipients={"sotttt_oncall": ["a@example.test"],
                                                             "songoaivu_oncall": ["b@example.test"]})
    backend = SqliteBackend(settings.index_path)
    backend.upsert([Article(
        id="sea1", url="https://news.example/sea1", source_id="s", title="Chinese ships near the Paracel Islands",
        text="Vietnam protested after Chinese coast guard vessels entered waters near the Paracel Islands, "
             "close to shipping lanes used by Hai Phong's port.", language="en", country="GB", scope="foreign",
        published_at=datetime.now(UTC), story_id="sea1", topics=["sovereignty"], sentiment="negative",
        sensitive_themes=["sovereignty"], risk_score=0.6)])
    backend.close()
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(alerts, ["deliver", "--json"], obj={"settings": settings})
        assert result.exit_code == 0, result.output
    history = runner.invoke(alerts, ["history", "--json"], obj={"settings": settings})
    rules = [a["rule"] for a in _json.loads(history.output)]
    assert "sovereignty_foreign" in rules and len(rules) == len(set(rules))  # raised, and only once
