"""The durable job table (``service_*`` tables in ``settings.app_db_path``): each job's last
start, finish, outcome and next due time; runs; health events; the service's state."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hpbase.clock import iso, parse_iso, utcnow
from hpbase.schema import Schema, migrate
from index.db import connect, immediate_transaction

# -- the job table ------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS service_jobs (
    job_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    interval_s REAL,
    unavailable TEXT,                 -- unused (kept so databases of earlier versions still open)
    last_start TEXT, last_finish TEXT,
    last_outcome TEXT,                -- ok | failed | source_failed | interrupted | timeout | skipped
    last_detail TEXT,
    last_ok TEXT,
    next_due TEXT,
    running_pid INTEGER,              -- set while a child runs it; found set at start-up = interrupted
    runs INTEGER NOT NULL DEFAULT 0,
    fail_streak INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS service_runs (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL, pid INTEGER, started TEXT NOT NULL, finished TEXT,
    outcome TEXT, detail TEXT
);
CREATE INDEX IF NOT EXISTS service_runs_job ON service_runs(job_id, started);
CREATE TABLE IF NOT EXISTS service_health_events (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL, day TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
    message TEXT NOT NULL, created_at TEXT NOT NULL,
    notified_at TEXT, notify_error TEXT,
    UNIQUE(key, day)
);
CREATE TABLE IF NOT EXISTS service_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

#: The versioned schema (``hpbase.schema``): step 1 is the DDL of before versions.
SCHEMA = Schema("service_jobs", (_SCHEMA,))
RUNS_KEPT_DAYS = 30


class JobStore:
    """The durable job table. Writes are small transactions; a write that fails (full disk)
    raises sqlite3.Error to the caller, which keeps going and writes again later."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = connect(path, autocommit=True)
        migrate(self._conn, SCHEMA)

    def _tx(self):
        return immediate_transaction(self._conn)

    def register(self, job_id: str, kind: str, interval: float, now: datetime) -> None:
        """Insert the job (due now) or update its kind and interval; a new interval counts from
        the job's last run."""
        with self._tx() as c:
            row = c.execute("SELECT interval_s, last_finish FROM service_jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is not None and row[0] != interval:
                last = parse_iso(row[1])
                c.execute("UPDATE service_jobs SET next_due = ? WHERE job_id = ? AND running_pid IS NULL",
                          (iso(last + timedelta(seconds=interval) if last else now), job_id))
            c.execute(
                "INSERT INTO service_jobs(job_id, kind, created_at, interval_s, next_due) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(job_id) DO UPDATE SET kind = excluded.kind, "
                "interval_s = excluded.interval_s, unavailable = NULL",
                (job_id, kind, iso(now), interval, iso(now)),
            )

    def retire(self, keep: set[str]) -> list[str]:
        """Remove the jobs that are no longer configured (a source deleted or disabled); their
        run history stays. Returns their ids."""
        with self._tx() as c:
            gone = [r[0] for r in c.execute("SELECT job_id FROM service_jobs") if r[0] not in keep]
            c.executemany("DELETE FROM service_jobs WHERE job_id = ?", [(job_id,) for job_id in gone])
        return gone

    def recover_interrupted(self, now: datetime) -> list[str]:
        """Mark jobs left 'running' by a previous process as interrupted and due now; returns their ids."""
        with self._tx() as c:
            ids = [r[0] for r in c.execute("SELECT job_id FROM service_jobs WHERE running_pid IS NOT NULL")]
            c.execute(
                "UPDATE service_jobs SET running_pid = NULL, last_outcome = 'interrupted', last_finish = ?, "
                "last_detail = 'the service stopped while it ran (killed or crashed)', next_due = ?, "
                "fail_streak = fail_streak + 1 WHERE running_pid IS NOT NULL", (iso(now), iso(now)))
            c.execute("UPDATE service_runs SET finished = ?, outcome = 'interrupted' WHERE finished IS NULL",
                      (iso(now),))
        return ids

    def next_due(self) -> dict[str, datetime]:
        rows = self._conn.execute("SELECT job_id, next_due FROM service_jobs").fetchall()
        return {job_id: parse_iso(due) or utcnow() for job_id, due in rows}

    def started(self, job_ids: list[str], pid: int, now: datetime) -> None:
        with self._tx() as c:
            for job_id in job_ids:
                c.execute("UPDATE service_jobs SET running_pid = ?, last_start = ? WHERE job_id = ?",
                          (pid, iso(now), job_id))
                c.execute("INSERT INTO service_runs(job_id, pid, started) VALUES (?, ?, ?)", (job_id, pid, iso(now)))

    def finished(self, job_id: str, outcome: str, detail: str, now: datetime, next_due: datetime) -> None:
        ok = outcome == "ok"
        with self._tx() as c:
            c.execute(
                "UPDATE service_jobs SET running_pid = NULL, last_finish = ?, last_outcome = ?, last_detail = ?, "
                "next_due = ?, runs = runs + 1, last_ok = CASE WHEN ? THEN ? ELSE last_ok END, "
                "fail_streak = CASE WHEN ? THEN 0 ELSE fail_streak + 1 END WHERE job_id = ?",
                (iso(now), outcome, detail[:4000], iso(next_due), ok, iso(now), ok, job_id),
            )
            c.execute("UPDATE service_runs SET finished = ?, outcome = ?, detail = ? "
                      "WHERE id = (SELECT max(id) FROM service_runs WHERE job_id = ? AND finished IS NULL)",
                      (iso(now), outcome, detail[:4000], job_id))

    def skipped(self, job_id: str, reason: str, now: datetime, next_due: datetime) -> None:
        with self._tx() as c:
            c.execute("UPDATE service_jobs SET last_outcome = 'skipped', last_detail = ?, next_due = ? "
                      "WHERE job_id = ?", (reason, iso(next_due), job_id))

    def record_event(self, key: str, kind: str, severity: str, message: str, now: datetime) -> bool:
        """Record a problem once per key and day; returns True when it is new today."""
        with self._tx() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO service_health_events(key, day, kind, severity, message, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (key, now.date().isoformat(), kind, severity, message, iso(now)))
            return cur.rowcount > 0

    def unnotified_events(self, now: datetime) -> list[dict[str, Any]]:
        """Today's problems the admins have not been told about yet (a failed notice is retried)."""
        rows = self._conn.execute(
            "SELECT id, key, kind, severity, message, created_at FROM service_health_events "
            "WHERE notified_at IS NULL AND day = ? ORDER BY id", (now.date().isoformat(),)).fetchall()
        keys = ("id", "key", "kind", "severity", "message", "created_at")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def mark_notified(self, ids: list[int], now: datetime, error: str | None) -> None:
        with self._tx() as c:
            for event_id in ids:
                if error:
                    c.execute("UPDATE service_health_events SET notify_error = ? WHERE id = ?", (error, event_id))
                else:
                    c.execute("UPDATE service_health_events SET notified_at = ?, notify_error = NULL WHERE id = ?",
                              (iso(now), event_id))

    def set_state(self, key: str, value: str) -> None:
        with self._tx() as c:
            c.execute("INSERT INTO service_state(key, value) VALUES (?, ?) "
                      "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def prune(self, now: datetime) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM service_runs WHERE started < ?", (iso(now - timedelta(days=RUNS_KEPT_DAYS)),))

    def close(self) -> None:
        self._conn.close()


def read_jobs(app_db: Path) -> list[dict[str, Any]]:
    """Every row of the job table (for ``hpmon status``); empty when the service never ran."""
    if not app_db.exists():
        return []
    conn = sqlite3.connect(f"file:{app_db}?mode=ro", uri=True, timeout=10)
    try:
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute("SELECT * FROM service_jobs ORDER BY job_id")]
        except sqlite3.OperationalError:
            return []
    finally:
        conn.close()


