"""The alert log's versioned schema (hpbase.schema): a file written by any earlier alert log —
the first one, the one whose claims named their process, the one that probed unreachable
servers, with or without the evaluation marks — is adopted, upgraded to the current version with
its rows kept, and then has exactly the tables of a new file; a file from a newer hpmon is refused."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from alerts.delivery import SCHEMA, AlertLog, DeliverySpec
from hpbase.schema import SchemaTooNew
from tests.schema_shapes import schema_version, table_shapes

# the DDL of alert_deliveries as earlier alert logs wrote it (the other tables never changed)
OTHER_TABLES = """
CREATE TABLE IF NOT EXISTS alert_log (
    id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, rule TEXT NOT NULL, kind TEXT NOT NULL,
    story_key TEXT NOT NULL, severity TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alert_log_rule_story ON alert_log(rule, story_key, created_at);
CREATE INDEX IF NOT EXISTS alert_log_created ON alert_log(created_at);
CREATE TABLE IF NOT EXISTS alert_members (
    alert_id INTEGER NOT NULL REFERENCES alert_log(id) ON DELETE CASCADE, rule TEXT NOT NULL,
    article_id TEXT NOT NULL, position INTEGER NOT NULL, added_at TEXT NOT NULL, summary TEXT NOT NULL,
    PRIMARY KEY (alert_id, article_id));
CREATE INDEX IF NOT EXISTS alert_members_rule_article ON alert_members(rule, article_id);
CREATE INDEX IF NOT EXISTS alert_deliveries_due ON alert_deliveries(state, next_attempt_at);
CREATE TABLE IF NOT EXISTS alert_attempts (
    id INTEGER PRIMARY KEY, delivery_id INTEGER NOT NULL REFERENCES alert_deliveries(id) ON DELETE CASCADE,
    at TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT);
CREATE INDEX IF NOT EXISTS alert_attempts_delivery ON alert_attempts(delivery_id);
"""
DELIVERIES_HEAD = """
CREATE TABLE IF NOT EXISTS alert_deliveries (
    id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL REFERENCES alert_log(id) ON DELETE CASCADE,
    channel TEXT NOT NULL, target TEXT NOT NULL, recipient TEXT NOT NULL, language TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL, claimed_at TEXT,"""
EVALUATIONS = """
CREATE TABLE IF NOT EXISTS alert_evaluations (
    article_id TEXT PRIMARY KEY, indexed_at TEXT NOT NULL, article TEXT, evaluated_at TEXT);
CREATE INDEX IF NOT EXISTS alert_evaluations_waiting ON alert_evaluations(evaluated_at, indexed_at);
"""
LEGACY = {
    "first": DELIVERIES_HEAD + " sent_at TEXT, last_error TEXT, created_at TEXT NOT NULL);" + OTHER_TABLES,
    "claims named": DELIVERIES_HEAD + " claimed_by TEXT, sent_at TEXT, last_error TEXT, created_at TEXT NOT NULL);"
    + OTHER_TABLES,
    "claims named, marks": DELIVERIES_HEAD + " claimed_by TEXT, sent_at TEXT, last_error TEXT, "
    "created_at TEXT NOT NULL);" + OTHER_TABLES + EVALUATIONS,
    "probed": DELIVERIES_HEAD + " claimed_by TEXT, sent_at TEXT, last_error TEXT, created_at TEXT NOT NULL, "
    "unreachable INTEGER NOT NULL DEFAULT 0);" + OTHER_TABLES + EVALUATIONS,
}
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("legacy", sorted(LEGACY))
def test_an_alert_log_from_before_versions_is_upgraded_with_its_rows_kept(tmp_path, legacy):
    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(LEGACY[legacy])
        conn.execute("INSERT INTO alert_log VALUES (1, 'u1', 'r', 'match', 's', 'high', ?, ?, '{}')",
                     (NOW.isoformat(), NOW.isoformat()))
        conn.execute("INSERT INTO alert_deliveries(id, alert_id, channel, target, recipient, language, "
                     "idempotency_key, state, next_attempt_at, created_at) "
                     "VALUES (1, 1, 'email', 'a@b.test', 'l', 'vi', 'k1', 'pending', ?, ?)",
                     (NOW.isoformat(), NOW.isoformat()))
    conn.close()
    assert schema_version(path, SCHEMA.store) == 0

    log = AlertLog(path, clock=lambda: NOW)
    assert schema_version(path, SCHEMA.store) == SCHEMA.version == 4
    [delivery] = log.due(NOW + timedelta(seconds=1), timedelta(minutes=10))  # the old row, read whole
    assert (delivery.id, delivery.target, delivery.claimed_by) == (1, "a@b.test", None)
    assert log.claim(delivery, NOW, timedelta(minutes=10))  # the columns of later steps are there
    assert log.waiting_on_unreachable(NOW) == []
    log.create_alert(rule="r2", kind="match", story_key="s2", severity="low", payload={}, members=[],
                     deliveries=[DeliverySpec("email", "c@d.test", "l", "vi")])
    log.await_evaluation("a1", {"id": "a1"})
    log.close()

    fresh = tmp_path / "fresh.sqlite"
    AlertLog(fresh).close()
    assert table_shapes(path) == table_shapes(fresh), "an upgraded file has exactly the tables of a new one"
    AlertLog(path).close()  # opening again changes nothing
    assert schema_version(path, SCHEMA.store) == 4
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM alert_deliveries").fetchone()[0] == 2
    conn.close()


def test_an_alert_log_from_a_newer_hpmon_is_refused(tmp_path):
    path = tmp_path / "app.sqlite"
    AlertLog(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE hpmon_schema SET version = 99 WHERE store = ?", (SCHEMA.store,))
    conn.close()
    with pytest.raises(SchemaTooNew):
        AlertLog(path)


def test_a_shared_file_without_alert_tables_gets_every_step(tmp_path):
    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE other_store (x)")
    conn.close()
    AlertLog(path).close()
    assert schema_version(path, SCHEMA.store) == 4
    assert "claimed_by" in {c[0] for c in table_shapes(path)["alert_deliveries"]}
