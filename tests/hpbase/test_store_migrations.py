"""Versioned store schemas: the migration helper, and every store upgrading a file its old
(unversioned) code made."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hpbase.schema import Schema, SchemaTooNew, migrate, statements, stored_version
from tests.hpbase import old_store_schemas as old


def _stores():
    from alerts.digest.log import DigestLog
    from hpmon.service.jobstore import JobStore
    from index.outbox import Outbox
    from pipeline.stories import StoryStore
    from records.cases import CaseStore
    from records.labels import LabelStore
    from records.library import LibraryStore
    from web.saved import SavedSearches

    return {
        "cases": (CaseStore, old.CASES, "case_notes"),
        "library": (LibraryStore, old.LIBRARY, None),
        "digest_log": (DigestLog, old.DIGEST_LOG, None),
        "service_jobs": (JobStore, old.JOBS, None),
        "stories": (StoryStore, old.STORIES, None),
        "outbox": (Outbox, old.OUTBOX, "outbox"),
        "label_corrections": (LabelStore, old.LABELS, "label_corrections"),
        "saved_searches": (SavedSearches, old.SAVED_SEARCHES, "web_saved_searches"),
    }


STORES = ["cases", "library", "digest_log", "service_jobs", "stories", "outbox", "label_corrections",
          "saved_searches"]


def _objects(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return {(t, n) for t, n in conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}


def _version(path: Path, store: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return stored_version(conn, store)
    finally:
        conn.close()


@pytest.mark.parametrize("store", STORES)
def test_a_store_adopts_a_file_made_by_its_old_code_and_keeps_its_rows(tmp_path, store) -> None:
    cls, old_ddl, table = _stores()[store]
    legacy = tmp_path / "legacy.sqlite"
    with sqlite3.connect(legacy) as conn:
        conn.executescript(old_ddl)
        if store == "cases":
            conn.execute("INSERT INTO case_cases(id, queue_key, article_id, title, url, state, priority, created_at, "
                         "updated_at) VALUES (1, 'k', 'a1', 't', 'https://x.vn/1', 'new', 'normal', 'now', 'now')")
            conn.execute("INSERT INTO case_notes(case_id, author, text, created_at) VALUES (1, 'lan', 'kept', 'now')")
        elif table == "outbox":
            conn.execute("INSERT INTO outbox(article_id, doc, enqueued_at) VALUES ('a1', '{}', 'now')")
        elif table == "label_corrections":
            conn.execute("INSERT INTO label_corrections(article_id, user, at) VALUES ('a1', 'lan', 'now')")
        elif table == "web_saved_searches":
            conn.execute("INSERT INTO web_saved_searches(user_id, name, params, created_at) "
                         "VALUES (1, 'n', 'q=x', 'now')")
    conn.close()
    before = _objects(legacy)
    assert _version(legacy, store) == 0

    cls(legacy)
    assert _version(legacy, store) == 1
    assert _objects(legacy) == before | {("table", "hpmon_schema")}, "the old tables untouched, the versions added"
    fresh = tmp_path / "fresh.sqlite"
    cls(fresh)
    assert _objects(fresh) == _objects(legacy), "an adopted file has exactly the tables of a new one"
    if table:
        with sqlite3.connect(legacy) as conn:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 1
        conn.close()
    cls(legacy)  # opening again changes nothing
    assert _version(legacy, store) == 1


def test_stores_sharing_a_file_are_versioned_each_on_its_own(tmp_path) -> None:
    from records.cases import CaseStore
    from records.labels import LabelStore

    path = tmp_path / "app.sqlite"
    CaseStore(path)
    assert (_version(path, "cases"), _version(path, "label_corrections")) == (1, 0)
    LabelStore(path)
    assert (_version(path, "cases"), _version(path, "label_corrections")) == (1, 1)


STEPS = (
    "CREATE TABLE IF NOT EXISTS t (a TEXT);",
    "ALTER TABLE t ADD COLUMN b TEXT NOT NULL DEFAULT 'x';\nCREATE INDEX t_b ON t(b);",
)


def test_missing_steps_run_in_order_from_the_recorded_version(tmp_path) -> None:
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    assert migrate(conn, Schema("demo", STEPS[:1])) == 1
    conn.execute("INSERT INTO t(a) VALUES ('kept')")
    conn.commit()
    assert migrate(conn, Schema("demo", STEPS)) == 2
    assert conn.execute("SELECT a, b FROM t").fetchall() == [("kept", "x")]
    assert stored_version(conn, "demo") == 2
    assert migrate(conn, Schema("demo", STEPS)) == 2  # nothing left to do


def test_a_failing_step_leaves_the_file_as_it_was(tmp_path) -> None:
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    broken = Schema("demo", (*STEPS, "CREATE TABLE u (x);\nINSERT INTO nowhere VALUES (1);"))
    with pytest.raises(sqlite3.OperationalError, match="nowhere"):
        migrate(conn, broken)
    assert stored_version(conn, "demo") == 0
    names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
    assert names.isdisjoint({"t", "u", "hpmon_schema"}), "steps 1-3 all rolled back with the failing one"
    assert not conn.in_transaction


def test_a_file_from_a_newer_hpmon_is_refused(tmp_path) -> None:
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    migrate(conn, Schema("demo", STEPS))
    with pytest.raises(SchemaTooNew, match="version 2"):
        migrate(conn, Schema("demo", STEPS[:1]))


def test_statements_keep_a_trigger_whole() -> None:
    script = """CREATE TABLE a (x);
    CREATE TRIGGER a_ro BEFORE DELETE ON a BEGIN SELECT RAISE(ABORT, 'no; never'); END;
    CREATE INDEX a_x ON a(x);"""
    parts = list(statements(script))
    assert len(parts) == 3 and parts[1].startswith("CREATE TRIGGER") and parts[1].endswith("END;")
