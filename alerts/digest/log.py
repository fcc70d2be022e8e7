"""The digest log: which profile's digest of which day went out, when, with which Message-ID.

One table, ``digest_sent``, in the office's database (``settings.app_db_path``). The scheduler
reads it to send each profile once per day and to find the days missed during downtime.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from hpbase.schema import Schema, migrate
from index.db import connect

_SCHEMA = """
CREATE TABLE IF NOT EXISTS digest_sent (
    profile TEXT NOT NULL,
    day TEXT NOT NULL,              -- YYYY-MM-DD, city time: the day the digest is about
    sent_at TEXT NOT NULL,          -- ISO 8601 UTC
    message_id TEXT NOT NULL,
    recipients TEXT NOT NULL,       -- JSON list of addresses
    PRIMARY KEY (profile, day)
);
"""

#: The versioned schema (``hpbase.schema``): step 1 is the DDL of before versions.
SCHEMA = Schema("digest_log", (_SCHEMA,))


@dataclass(frozen=True)
class SentDigest:
    profile: str
    day: date
    sent_at: datetime
    message_id: str
    recipients: list[str]


class DigestLog:
    """The ``digest_sent`` table (created if missing; WAL mode, shared with the other areas)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(path)
        migrate(self._conn, SCHEMA)
        self._lock = threading.Lock()

    def record(self, profile: str, day: date, message_id: str, recipients: list[str],
               sent_at: datetime | None = None) -> None:
        """Note that the digest went out (a resend replaces the earlier entry)."""
        when = (sent_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO digest_sent(profile, day, sent_at, message_id, recipients) "
                "VALUES (?, ?, ?, ?, ?)",
                (profile, day.isoformat(), when, message_id, json.dumps(recipients, ensure_ascii=False)))

    def get(self, profile: str, day: date) -> SentDigest | None:
        """The log entry of that digest, None if it has not been sent."""
        with self._lock:
            row = self._conn.execute(
                "SELECT profile, day, sent_at, message_id, recipients FROM digest_sent WHERE profile = ? AND day = ?",
                (profile, day.isoformat())).fetchone()
        return _entry(row) if row else None

    def sent_days(self, profile: str) -> set[date]:
        """Every day whose digest went out for ``profile``."""
        with self._lock:
            rows = self._conn.execute("SELECT day FROM digest_sent WHERE profile = ?", (profile,)).fetchall()
        return {date.fromisoformat(day) for (day,) in rows}

    def entries(self, profile: str | None = None) -> list[SentDigest]:
        """The log, oldest day first (one profile's, or all)."""
        sql = "SELECT profile, day, sent_at, message_id, recipients FROM digest_sent"
        params: tuple = ()
        if profile:
            sql, params = sql + " WHERE profile = ?", (profile,)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY day, profile", params).fetchall()
        return [_entry(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _entry(row: tuple) -> SentDigest:
    profile, day, sent_at, message_id, recipients = row
    return SentDigest(profile=profile, day=date.fromisoformat(day), sent_at=datetime.fromisoformat(sent_at),
                      message_id=message_id, recipients=list(json.loads(recipients)))
