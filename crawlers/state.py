"""The crawler's memory between runs (one SQLite file): which URLs were already handled,
feed validators for conditional GET, each source's health, and the log of runs."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hpbase.clock import iso, utcnow
from hpbase.schema import VERSIONS_TABLE, Schema, migrate, stored_version

logger = logging.getLogger(__name__)

# Step 1 is the schema as the first crawl state wrote it (IF NOT EXISTS: such a file is adopted as
# it is); each later change is a step appended at the end, never an edit of an old one.
_STEP_1 = """
CREATE TABLE IF NOT EXISTS seen (
    url TEXT PRIMARY KEY,
    source_id TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_attempt TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    outcome TEXT NOT NULL,           -- indexed | duplicate | dropped | failed | resolved (reason: the target)
    reason TEXT,
    final INTEGER NOT NULL DEFAULT 1, -- 0: a transient failure, to try again next run
    article_id TEXT
);
CREATE TABLE IF NOT EXISTS validators (
    url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, checked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS source_health (
    source_id TEXT PRIMARY KEY,
    last_fetch TEXT, last_success TEXT, last_new TEXT,
    last_error TEXT, last_error_at TEXT,
    error_streak INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, summary TEXT
);
CREATE TABLE IF NOT EXISTS failures (
    run_id INTEGER, source_id TEXT NOT NULL, url TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_source ON failures(source_id, at);
"""

# step 2: failures of our own (engine, disk, a bug) are told apart: never attempts, and backed off
_STEP_2 = """
-- failures of our own at the URL: never counted as attempts
ALTER TABLE seen ADD COLUMN deferrals INTEGER NOT NULL DEFAULT 0;
-- not fetched again before this time (the backoff of our own failures)
ALTER TABLE seen ADD COLUMN retry_at TEXT;
"""

SCHEMA = Schema("crawl_state", (_STEP_1, _STEP_2))

MAX_ATTEMPTS = 3  # transient failures of an article URL are retried on this many runs
# A page that failed for a reason of our own (the engine down, a full disk, a bug in a stage) is
# not the page's fault: it is retried without limit, after a delay doubling from the first to the cap
OWN_FAILURE_FIRST_DELAY = timedelta(minutes=2)
OWN_FAILURE_MAX_DELAY = timedelta(hours=6)


def _stamp(dt: datetime) -> str:
    """The crawl state's form of a time: UTC seconds with a ``Z`` (``2026-01-02T03:04:05Z``)."""
    return iso(dt, offset="Z")


def _adopt_unversioned(conn: sqlite3.Connection, path: Path) -> None:
    """Record the version of a crawl state written before versions existed, read from its shape.

    Before versions, the columns of step 2 were added by ``ALTER TABLE`` when missing and written
    into the ``CREATE TABLE`` of new files, so such a file is at step 1 or 2 (which ``IF NOT
    EXISTS`` cannot tell, and an ``ALTER`` may not repeat). Once recorded, ``migrate`` runs the
    remaining steps as for any file. A file without a ``seen`` table is left at 0."""
    if stored_version(conn, SCHEMA.store) or not _columns(conn):  # the usual case: only read
        return
    saved, conn.isolation_level = conn.isolation_level, None
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            columns = _columns(conn)  # again, under the write lock: another process may have adopted it
            if columns and not stored_version(conn, SCHEMA.store):
                version = 2 if "deferrals" in columns else 1
                conn.execute(f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} "
                             "(store TEXT PRIMARY KEY, version INTEGER NOT NULL)")
                conn.execute(f"INSERT INTO {VERSIONS_TABLE}(store, version) VALUES (?, ?)", (SCHEMA.store, version))
                logger.info("crawl state in %s (from before schema versions) adopted at version %d of %d",
                            path, version, SCHEMA.version)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.isolation_level = saved


def _columns(conn: sqlite3.Connection) -> set[str]:
    return {r[1] for r in conn.execute("PRAGMA table_info(seen)")}


def own_failure_delay(deferrals: int) -> timedelta:
    """The wait before retrying a page after its ``deferrals``-th failure of our own."""
    return min(OWN_FAILURE_MAX_DELAY, OWN_FAILURE_FIRST_DELAY * (2 ** max(0, deferrals - 1)))


class CrawlState:
    """Seen URLs, feed validators, source health and runs. Thread-safe."""

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        _adopt_unversioned(self._conn, self.path)
        migrate(self._conn, SCHEMA)
        self._lock = threading.RLock()

    # seen URLs ----------------------------------------------------------------------------

    def should_fetch(self, url: str) -> bool:
        """False when the URL was already handled for good (or failed too often), or waits out
        the backoff after a failure of our own (``waiting``)."""
        with self._lock:
            row = self._conn.execute("SELECT final, attempts, retry_at FROM seen WHERE url = ?", (url,)).fetchone()
        return row is None or (not row[0] and row[1] < MAX_ATTEMPTS
                               and (row[2] is None or row[2] <= _stamp(self.clock())))

    def waiting(self, url: str) -> bool:
        """True when the URL failed for a reason of our own and waits for its retry: it is not
        handled yet (a feed listing it must be read again, its validators not kept)."""
        with self._lock:
            row = self._conn.execute("SELECT final, attempts, retry_at FROM seen WHERE url = ?", (url,)).fetchone()
        return row is not None and not row[0] and row[1] < MAX_ATTEMPTS and row[2] is not None \
            and row[2] > _stamp(self.clock())

    def defer(self, url: str, source_id: str, reason: str) -> datetime:
        """Record a failure of our own at a URL (the engine, the disk, a bug: not the page's
        fault). It does not count as an attempt: the URL is fetched again once its backoff has
        passed (doubling per such failure, up to a cap). Returns when it may be retried."""
        now = self.clock()
        with self._lock, self._conn:
            row = self._conn.execute("SELECT deferrals FROM seen WHERE url = ?", (url,)).fetchone()
            deferrals = (row[0] if row else 0) + 1
            retry_at = now + own_failure_delay(deferrals)
            self._conn.execute(
                "INSERT INTO seen(url, source_id, first_seen, last_attempt, attempts, outcome, reason, final, "
                "deferrals, retry_at) VALUES (?, ?, ?, ?, 0, 'failed', ?, 0, ?, ?) ON CONFLICT(url) DO UPDATE SET "
                "last_attempt = excluded.last_attempt, outcome = excluded.outcome, reason = excluded.reason, "
                "final = 0, deferrals = excluded.deferrals, retry_at = excluded.retry_at",
                (url, source_id, _stamp(now), _stamp(now), reason, deferrals, _stamp(retry_at)),
            )
        return retry_at

    def resolved_target(self, url: str) -> str | None:
        """The article URL a news-search link was resolved to on an earlier run, if any."""
        with self._lock:
            row = self._conn.execute("SELECT reason FROM seen WHERE url = ? AND outcome = 'resolved'",
                                     (url,)).fetchone()
        return row[0] if row else None

    def mark(self, url: str, source_id: str, outcome: str, reason: str | None = None, *,
             article_id: str | None = None, final: bool = True) -> None:
        """Record what happened to a URL (``final=False`` for a failure worth retrying)."""
        now = _stamp(self.clock())
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO seen(url, source_id, first_seen, last_attempt, outcome, reason, final, article_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET last_attempt = excluded.last_attempt, "
                "attempts = seen.attempts + 1, outcome = excluded.outcome, reason = excluded.reason, "
                "final = excluded.final, article_id = coalesce(excluded.article_id, seen.article_id), retry_at = NULL",
                (url, source_id, now, now, outcome, reason, int(final), article_id),
            )

    def seen_count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM seen").fetchone()[0]

    # conditional GET ----------------------------------------------------------------------

    def validators(self, url: str) -> tuple[str | None, str | None]:
        with self._lock:
            row = self._conn.execute("SELECT etag, last_modified FROM validators WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def save_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO validators(url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, "
                "checked_at = excluded.checked_at",
                (url, etag, last_modified, _stamp(utcnow())),
            )

    # source health and runs ---------------------------------------------------------------

    def source_succeeded(self, source_id: str, *, new_articles: int = 0) -> None:
        now = _stamp(utcnow())
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO source_health(source_id, last_fetch, last_success, last_new, error_streak) "
                "VALUES (?, ?, ?, ?, 0) ON CONFLICT(source_id) DO UPDATE SET last_fetch = excluded.last_fetch, "
                "last_success = excluded.last_success, error_streak = 0, "
                "last_new = coalesce(excluded.last_new, source_health.last_new)",
                (source_id, now, now, now if new_articles else None),
            )

    def source_failed(self, source_id: str, reason: str, url: str, run_id: int | None) -> None:
        now = _stamp(utcnow())
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO source_health(source_id, last_fetch, last_error, last_error_at, error_streak) "
                "VALUES (?, ?, ?, ?, 1) ON CONFLICT(source_id) DO UPDATE SET last_fetch = excluded.last_fetch, "
                "last_error = excluded.last_error, last_error_at = excluded.last_error_at, "
                "error_streak = source_health.error_streak + 1",
                (source_id, now, reason, now),
            )

    def record_failure(self, run_id: int | None, source_id: str, url: str, reason: str) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO failures(run_id, source_id, url, reason, at) VALUES (?, ?, ?, ?, ?)",
                (run_id, source_id, url, reason, _stamp(utcnow())),
            )

    def health(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT source_id, last_fetch, last_success, last_new, last_error, last_error_at, error_streak "
                "FROM source_health"
            ).fetchall()
        keys = ("last_fetch", "last_success", "last_new", "last_error", "last_error_at", "error_streak")
        return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows}

    def recent_failures(self, source_id: str, limit: int = 10) -> list[tuple[str, str, str]]:
        with self._lock:
            return self._conn.execute(
                "SELECT at, url, reason FROM failures WHERE source_id = ? ORDER BY at DESC, rowid DESC LIMIT ?",
                (source_id, limit),
            ).fetchall()

    def start_run(self) -> int:
        with self._lock, self._conn:
            return self._conn.execute("INSERT INTO runs(started) VALUES (?)", (_stamp(utcnow()),)).lastrowid

    def finish_run(self, run_id: int, summary: dict[str, Any]) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "UPDATE runs SET finished = ?, summary = ? WHERE id = ?",
                (_stamp(utcnow()), json.dumps(summary, ensure_ascii=False), run_id),
            )

    def last_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, started, finished, summary FROM runs ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [{"id": r[0], "started": r[1], "finished": r[2], "summary": json.loads(r[3] or "{}")} for r in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
