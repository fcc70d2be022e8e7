"""Alert evaluation by a durable mark, not a date window: an article indexed by a crawl that was
killed before its alert step is evaluated by the next delivery round (``hpmon alerts deliver``),
however old its publication date, and exactly the alerts an uninterrupted crawl raises go out,
each once."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from alerts.delivery import AlertLog
from hpmon.app import build_pipeline
from hpmon.commands.alerts import alerts, process_new_articles
from hpmon.settings import DEFAULT_CONFIG_DIR, Settings
from index.sqlite import SqliteBackend
from pipeline.process import Analysis, Indexed
from tests.alerts.conftest import SECRET, fixture_batch

# the rules written next to the fixture batch (tests/alerts/conftest.py)
EXPECTED = {("sovereignty_foreign", "en-sov"), ("high_risk", "en-sov"), ("sovereignty_foreign", "zh-sansha"),
            ("high_risk", "zh-sansha"), ("rights_religion_ethnicity_foreign", "en-rights")}


def _settings(home, config, smtp_server, webhook_server) -> Settings:
    return Settings(
        home=home, config_dir=config, smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_security="none",
        smtp_from="hpmon <canhbao@hpmon.test>", smtp_timeout=5,
        recipients={"sotttt_oncall": ["a.oncall@stt.test"], "songoaivu_oncall": ["b.oncall@sngv.test"]},
        webhooks={"oncall_webhook": webhook_server.url}, webhook_secret=SECRET, base_url="https://hpmon.test")


@pytest.fixture
def config(tmp_path):
    """The shipped configuration, with rules that take articles of any age (max_article_age: null)."""
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    rules = folder / "alerts.yaml"
    text = rules.read_text(encoding="utf-8")
    assert "  max_article_age: 3d\n" in text
    rules.write_text(text.replace("  max_article_age: 3d\n", "  max_article_age: null\n"), encoding="utf-8")
    return folder


def _index_with_the_pipeline(settings: Settings, articles) -> list[Indexed]:
    """Index as a crawl does (the pipeline's index step and its hooks), and stop there, as a kill
    right after indexing leaves it: the crawl's own alert step never runs."""
    backend = SqliteBackend(settings.index_path)
    pipeline = build_pipeline(settings, backend, [])
    outcomes = [pipeline.index(Analysis(article=a)) for a in articles]
    backend.close()
    assert all(isinstance(o, Indexed) for o in outcomes), outcomes
    return outcomes


def _alerts(settings: Settings) -> set[tuple[str, str]]:
    """(rule, first article) of every alert logged."""
    with sqlite3.connect(settings.app_db_path) as conn:
        return set(conn.execute("SELECT l.rule, m.article_id FROM alert_log l JOIN alert_members m "
                                "ON m.alert_id = l.id AND m.position = 0"))


def _deliver(settings: Settings) -> None:
    result = CliRunner().invoke(alerts, ["deliver"], obj={"settings": settings}, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_articles_indexed_before_a_kill_alert_on_the_next_round_whatever_their_date(
        tmp_path, config, smtp_server, webhook_server):
    settings = _settings(tmp_path / "killed", config, smtp_server, webhook_server)
    old = datetime.now(UTC) - timedelta(days=400)  # far beyond any date window
    _index_with_the_pipeline(settings, fixture_batch(old))
    log = AlertLog(settings.app_db_path)
    assert log.evaluation_counts() == {"evaluated": 0, "waiting": 6}
    log.close()

    _deliver(settings)

    assert _alerts(settings) == EXPECTED
    log = AlertLog(settings.app_db_path)
    assert log.evaluation_counts() == {"evaluated": 6, "waiting": 0}
    log.close()
    sent = smtp_server.per_recipient_and_id()
    with sqlite3.connect(settings.app_db_path) as conn:
        mails = conn.execute("SELECT count(*), sum(state = 'sent') FROM alert_deliveries WHERE channel = 'email'"
                             ).fetchone()
    assert mails[0] >= len(EXPECTED) and mails == (len(sent), len(sent))  # every e-mail delivery sent...
    assert max(sent.values()) == 1  # ...once

    # another round, and the articles indexed again (a re-crawl): nothing new fires, nothing is sent twice
    _index_with_the_pipeline(settings, fixture_batch(old))
    _deliver(settings)
    _deliver(settings)
    assert _alerts(settings) == EXPECTED
    assert smtp_server.per_recipient_and_id() == sent


def test_the_killed_run_raises_exactly_the_alerts_of_an_uninterrupted_one(tmp_path, config, smtp_server,
                                                                         webhook_server):
    old = datetime.now(UTC) - timedelta(days=30)
    clean = _settings(tmp_path / "clean", config, smtp_server, webhook_server)
    outcomes = _index_with_the_pipeline(clean, fixture_batch(old))
    backend = SqliteBackend(clean.index_path)
    process_new_articles(clean, backend, [o.article for o in outcomes if o.new])  # the crawl's alert step
    backend.close()

    killed = _settings(tmp_path / "killed", config, smtp_server, webhook_server)
    _index_with_the_pipeline(killed, fixture_batch(old))
    _deliver(killed)

    assert _alerts(killed) == _alerts(clean) == EXPECTED


def test_an_article_indexed_again_while_waiting_is_evaluated_in_its_latest_version(tmp_path):
    log = AlertLog(tmp_path / "app.sqlite")
    log.await_evaluation("a", {"id": "a", "title": "first"})
    (_, indexed_at, _), = log.awaiting_evaluation()
    log.await_evaluation("a", {"id": "a", "title": "second"})
    assert not log.mark_evaluated("a", indexed_at)  # the evaluation of the first version does not mark it
    (_, _, doc), = log.awaiting_evaluation()
    assert doc["title"] == "second"
    log.close()
