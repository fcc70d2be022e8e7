"""The crawl state's versioned schema (hpbase.schema): a state file written by an earlier crawler —
the first one, or the one that told failures of our own apart (before versions) — is adopted,
upgraded with its rows kept, and then has exactly the tables of a new file; a file from a newer
hpmon is refused."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from crawlers.state import SCHEMA, CrawlState
from hpbase.schema import SchemaTooNew
from tests.schema_shapes import schema_version, table_shapes

# the crawl state's tables as earlier crawlers wrote them (only `seen` changed)
OTHER_TABLES = """
CREATE TABLE IF NOT EXISTS validators (
    url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, checked_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source_health (
    source_id TEXT PRIMARY KEY, last_fetch TEXT, last_success TEXT, last_new TEXT,
    last_error TEXT, last_error_at TEXT, error_streak INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, summary TEXT);
CREATE TABLE IF NOT EXISTS failures (
    run_id INTEGER, source_id TEXT NOT NULL, url TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS failures_source ON failures(source_id, at);
"""
SEEN_HEAD = """
CREATE TABLE IF NOT EXISTS seen (
    url TEXT PRIMARY KEY, source_id TEXT NOT NULL, first_seen TEXT NOT NULL, last_attempt TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1, outcome TEXT NOT NULL, reason TEXT, final INTEGER NOT NULL DEFAULT 1,
    article_id TEXT"""
LEGACY = {
    "first": SEEN_HEAD + ");" + OTHER_TABLES,
    "own failures": SEEN_HEAD + ", deferrals INTEGER NOT NULL DEFAULT 0, retry_at TEXT);" + OTHER_TABLES,
}
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
STAMP = "2026-11-20T03:00:00Z"  # the crawl state's form of NOW, as every earlier crawler wrote it


@pytest.mark.parametrize("legacy", sorted(LEGACY))
def test_a_crawl_state_from_before_versions_is_upgraded_with_its_rows_kept(tmp_path, legacy):
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(LEGACY[legacy])
        conn.execute("INSERT INTO seen(url, source_id, first_seen, last_attempt, outcome, final) "
                     "VALUES ('https://a.test/1', 'src', ?, ?, 'indexed', 1)", (STAMP, STAMP))
        conn.execute("INSERT INTO seen(url, source_id, first_seen, last_attempt, attempts, outcome, reason, final) "
                     "VALUES ('https://a.test/2', 'src', ?, ?, 1, 'failed', 'timeout', 0)", (STAMP, STAMP))
        conn.execute("INSERT INTO source_health(source_id, last_fetch, last_error, error_streak) "
                     "VALUES ('src', ?, 'dns_error: x', 2)", (STAMP,))
        conn.execute("INSERT INTO runs(id, started, finished, summary) VALUES (7, ?, ?, '{\"sources\": []}')",
                     (STAMP, STAMP))
    conn.close()
    assert schema_version(path, SCHEMA.store) == 0

    state = CrawlState(path, clock=lambda: NOW)
    assert schema_version(path, SCHEMA.store) == SCHEMA.version == 2
    assert not state.should_fetch("https://a.test/1")  # the old rows, read as before
    assert state.should_fetch("https://a.test/2")
    assert state.health()["src"]["error_streak"] == 2
    assert [r["id"] for r in state.last_runs()] == [7]
    state.defer("https://a.test/2", "src", "engine_down")  # the columns of step 2 are there
    assert state.waiting("https://a.test/2")
    state.close()

    fresh = tmp_path / "fresh.sqlite"
    CrawlState(fresh).close()
    assert table_shapes(path) == table_shapes(fresh), "an upgraded file has exactly the tables of a new one"
    CrawlState(path).close()  # opening again changes nothing
    assert schema_version(path, SCHEMA.store) == 2
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM seen").fetchone()[0] == 2
    conn.close()


def test_a_crawl_state_from_a_newer_hpmon_is_refused(tmp_path):
    path = tmp_path / "state.sqlite"
    CrawlState(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE hpmon_schema SET version = 99 WHERE store = ?", (SCHEMA.store,))
    conn.close()
    with pytest.raises(SchemaTooNew):
        CrawlState(path)


def test_the_crawl_state_keeps_writing_its_stamps_in_the_same_form(tmp_path):
    """Backoffs compare stored stamps as text: the form may not change under an old file."""
    path = tmp_path / "state.sqlite"
    state = CrawlState(path, clock=lambda: NOW)
    state.mark("https://a.test/1", "src", "indexed")
    retry_at = state.defer("https://a.test/2", "src", "engine_down")
    state.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT last_attempt FROM seen WHERE url = 'https://a.test/1'").fetchone()[0] == STAMP
        stored = conn.execute("SELECT retry_at FROM seen WHERE url = 'https://a.test/2'").fetchone()[0]
    conn.close()
    assert stored == retry_at.strftime("%Y-%m-%dT%H:%M:%SZ") == "2026-11-20T03:02:00Z"
