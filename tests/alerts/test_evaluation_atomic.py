"""An article's alert rows and its "rules evaluated" mark are written in one transaction: a
process killed between logging an alert and setting the mark leaves neither, the next round
raises the alert once, and every message goes out exactly once; two evaluators running at once
(a crawl's alert step and ``hpmon alerts deliver``) raise each alert once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from datetime import UTC, datetime

from alerts.delivery import AlertLog
from tests.alerts.conftest import REPO, build_engine, fixture_batch


def _alert_rows(db) -> list[tuple[str, str]]:
    """(rule, story) of every alert logged, duplicates kept."""
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("SELECT rule, story_key FROM alert_log"))


def _wait_for_rules(db, articles) -> None:
    log = AlertLog(db)
    for article in articles:
        log.await_evaluation(article.id, article.to_dict())
    log.close()


def _clean_run(tmp_path, webhook_server, articles) -> list[tuple[str, str]]:
    """The alerts an uninterrupted evaluation of the same articles raises."""
    folder = tmp_path / "clean"
    folder.mkdir()
    _wait_for_rules(folder / "hpmon.sqlite", articles)
    engine = build_engine(folder, None, None, webhook_server, lambda: datetime.now(UTC))
    engine.evaluate_waiting()
    engine.close()
    return _alert_rows(folder / "hpmon.sqlite")


KILLED_EVALUATOR = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from alerts.delivery import AlertLog
    from alerts.engine import AlertEngine

    mark = AlertLog.mark_evaluated

    def killed(self, *args, **kwargs):  # the kill lands once an article's alerts were logged, before its mark
        if self._conn.execute("SELECT count(*) FROM alert_log").fetchone()[0]:
            os._exit(9)  # SIGKILL-like: no cleanup, no rollback, no commit
        return mark(self, *args, **kwargs)

    AlertLog.mark_evaluated = killed
    config = Path(sys.argv[1]) / "config"
    engine = AlertEngine.from_values(
        rules_path=config / "alerts.yaml", backend=None, db_path=Path(sys.argv[2]), smtp=None,
        recipients={"sotttt_oncall": ["trucban@sotttt.test"], "songoaivu_oncall": ["ngoaivu@songoaivu.test"]},
        webhooks={}, webhook_secret=None, base_url="https://hpmon.example.vn",
        taxonomy_path=config / "topics.yaml", risk_path=config / "risk.yaml")
    engine.evaluate_waiting()
    sys.exit(0)  # not reached
""")


def test_a_kill_between_the_alert_rows_and_the_mark_loses_and_duplicates_nothing(
        tmp_path, smtp_server, webhook_server):
    articles = fixture_batch(datetime.now(UTC))
    expected = _clean_run(tmp_path, webhook_server, articles)
    assert expected, "the fixture batch raises alerts"
    db = tmp_path / "hpmon.sqlite"
    _wait_for_rules(db, articles)
    # the evaluator logs the alerts of the first matching article, then dies before its mark
    killed = subprocess.run([sys.executable, "-c", KILLED_EVALUATOR, str(REPO), str(db)], capture_output=True,
                            text=True, timeout=60)
    assert killed.returncode == 9, killed.stderr
    assert _alert_rows(db) == []  # the alert rows went with the mark: nothing half written
    log = AlertLog(db)
    counts = log.evaluation_counts()  # the articles before it (no alerts) were marked; it still waits
    assert counts["waiting"] >= 1 and counts["evaluated"] + counts["waiting"] == len(articles)
    log.close()

    engine = build_engine(tmp_path, None, smtp_server, webhook_server, lambda: datetime.now(UTC))
    engine.evaluate_waiting()
    report = engine.deliver_pending()
    engine.evaluate_waiting()
    again = engine.deliver_pending()
    engine.close()

    assert _alert_rows(db) == expected  # every alert, once
    sent = smtp_server.per_recipient_and_id()
    assert sent and max(sent.values()) == 1  # every message once
    hooks = Counter(r.headers.get("idempotency-key") for r in webhook_server.requests)
    assert hooks and max(hooks.values()) == 1  # every webhook once
    assert report.sent == len(sent) + len(hooks) and report.retried == report.failed == 0
    assert again.sent == 0


def test_two_evaluators_at_once_raise_each_alert_once(tmp_path, webhook_server, monkeypatch):
    articles = fixture_batch(datetime.now(UTC))
    expected = _clean_run(tmp_path, webhook_server, articles)
    db = tmp_path / "hpmon.sqlite"
    _wait_for_rules(db, articles)
    engines = [build_engine(tmp_path, None, None, webhook_server, lambda: datetime.now(UTC)) for _ in range(2)]
    # the worst interleaving: the first evaluator has found no alert for the story yet and waits
    # until the second has looked too (or, when the second cannot look, gives up after a while)
    second_looked = threading.Event()
    first_waited = threading.Event()
    original = AlertLog.open_alert

    def open_alert(self, rule, story_key, since):
        found = original(self, rule, story_key, since)
        if threading.current_thread().name == "second":
            second_looked.set()
        elif not first_waited.is_set():
            first_waited.set()
            second_looked.wait(timeout=2)
        return found

    monkeypatch.setattr(AlertLog, "open_alert", open_alert)
    errors: list[BaseException] = []

    def run(engine) -> None:
        try:
            engine.evaluate_waiting()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    first = threading.Thread(target=run, args=(engines[0],), name="first")
    second = threading.Thread(target=run, args=(engines[1],), name="second")
    first.start()
    assert first_waited.wait(timeout=10)
    second.start()
    first.join(timeout=60)
    second.join(timeout=60)
    for engine in engines:
        engine.close()
    assert not errors
    assert _alert_rows(db) == expected

