"""The web user store's versioned schema (hpbase.schema): an ``app.sqlite`` written by an earlier
web app — the first one, or the one with the login throttle (before versions) — is adopted,
upgraded with its users and sessions kept, and then has exactly the tables of a new file; a file
from a newer hpmon is refused."""

from __future__ import annotations

import re
import sqlite3

import pytest

from hpbase.schema import SchemaTooNew
from tests.schema_shapes import schema_version, table_shapes
from web.auth import SCHEMA, UserStore, hash_token

from .conftest import cheap_hasher

FIRST = """
CREATE TABLE IF NOT EXISTS web_users (
    id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE, password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')), disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS web_sessions (
    token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES web_users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS web_sessions_user ON web_sessions(user_id);
CREATE TABLE IF NOT EXISTS web_login_attempts (
    id INTEGER PRIMARY KEY, username TEXT NOT NULL, ip TEXT NOT NULL, at TEXT NOT NULL, ok INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS web_login_attempts_user ON web_login_attempts(username, at);
CREATE INDEX IF NOT EXISTS web_login_attempts_ip ON web_login_attempts(ip, at);
"""
THROTTLE = """
CREATE TABLE IF NOT EXISTS web_login_throttle (
    key TEXT PRIMARY KEY, failures INTEGER NOT NULL DEFAULT 0, last_failure REAL NOT NULL DEFAULT 0,
    next_allowed REAL NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0, last_success REAL NOT NULL DEFAULT 0);
"""
LEGACY = {"first": FIRST, "throttled": FIRST + THROTTLE}
PASSWORD = "correct horse battery"
TOKEN = "an-old-session-token"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")  # the form every user store wrote


@pytest.mark.parametrize("legacy", sorted(LEGACY))
def test_a_user_store_from_before_versions_is_upgraded_with_its_users_and_sessions_kept(tmp_path, legacy):
    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(LEGACY[legacy])
        conn.execute("INSERT INTO web_users VALUES (1, 'lan', ?, 'analyst', 0, '2026-01-02T03:04:05.000000Z', "
                     "'2026-01-02T03:04:05.000000Z')", (cheap_hasher().hash(PASSWORD),))
        conn.execute("INSERT INTO web_sessions VALUES (?, 1, '2026-01-02T03:04:05.000000Z', "
                     "'9999-01-01T00:00:00.000000Z')", (hash_token(TOKEN),))
        conn.execute("CREATE TABLE other_store (x)")  # app.sqlite is shared with other stores
    conn.close()
    assert schema_version(path, SCHEMA.store) == 0

    store = UserStore(path, hasher=cheap_hasher())
    assert schema_version(path, SCHEMA.store) == SCHEMA.version == 2
    assert store.session_user(TOKEN).username == "lan"  # the old session still logs in
    assert store.authenticate("lan", PASSWORD, "10.0.0.1").role == "analyst"
    assert store.login("lan", "wrong password!", "10.0.0.1").user is None  # step 2's counters are there
    store.close()

    fresh = tmp_path / "fresh.sqlite"
    UserStore(fresh, hasher=cheap_hasher()).close()
    with sqlite3.connect(fresh) as conn:
        conn.execute("CREATE TABLE other_store (x)")
    conn.close()
    assert table_shapes(path) == table_shapes(fresh), "an upgraded file has exactly the tables of a new one"
    UserStore(path, hasher=cheap_hasher()).close()  # opening again changes nothing
    assert schema_version(path, SCHEMA.store) == 2
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM web_users").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM web_login_throttle").fetchone()[0] > 0
    conn.close()


def test_a_user_store_from_a_newer_hpmon_is_refused(tmp_path):
    path = tmp_path / "app.sqlite"
    UserStore(path, hasher=cheap_hasher()).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE hpmon_schema SET version = 99 WHERE store = ?", (SCHEMA.store,))
    conn.close()
    with pytest.raises(SchemaTooNew):
        UserStore(path, hasher=cheap_hasher())


def test_the_user_store_keeps_writing_its_stamps_in_the_same_form(tmp_path):
    """Sessions expire and attempts are pruned by comparing stored stamps as text."""
    path = tmp_path / "app.sqlite"
    store = UserStore(path, hasher=cheap_hasher())
    user = store.add_user("lan", PASSWORD, "viewer")
    store.start_session(user)
    store.close()
    with sqlite3.connect(path) as conn:
        stamps = [*conn.execute("SELECT created_at, updated_at FROM web_users").fetchone(),
                  *conn.execute("SELECT created_at, expires_at FROM web_sessions").fetchone()]
    conn.close()
    assert all(STAMP.match(s) for s in stamps), stamps
