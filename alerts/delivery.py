"""The alert log and delivery: every alert is written before anything is sent, each delivery
(alert × address or webhook) carries an idempotency key, and sending retries with backoff.

Tables (in the office's database, ``settings.app_db_path``):

- ``alert_log``: one row per alert (rule, story, severity, what the message shows as JSON).
- ``alert_members``: the articles folded into an alert (the first one and later copies).
- ``alert_deliveries``: one row per alert × recipient address or webhook, with its state
  ``pending`` → ``sending`` → ``sent`` (or ``failed`` for good, or ``expired``).
- ``alert_attempts``: every attempt with its outcome, for ``hpmon alerts history``.

Exactly once, as far as SMTP allows: a delivery is *claimed* (``sending``, committed) before
the message goes out and marked ``sent`` right after the server accepts it, so a delivery
marked sent is never sent again, and two deliverers never send the same one. The one window
left is a crash (or a lost reply) after the server accepted the message and before ``sent``
is committed: the message is then sent again — at once when the claiming process is known to be
dead (it ran on this machine and its pid is gone: a killed ``hpmon alerts deliver``), otherwise
when the claim's ``lease`` expires — with the same Message-ID / idempotency key, so mail clients
and receivers that de-duplicate on them show it once. SMTP offers no way to ask a server whether
it already has a message, so that window cannot be closed from this side; it is a few
milliseconds per message. What the server answers after accepting a message (QUIT answered
with 421, a dropped connection) does not reopen it: the message counts as sent.

One message failing never holds the others: only a server that cannot be reached defers the
round's other deliveries on it, and deliveries waiting out a backoff on an unreachable server
are released as soon as a probe finds it answering again (``Deliverer._probe_waiting``).

``alert_evaluations`` holds the durable "rules evaluated" mark of each indexed article: written
(waiting, with the article) right after the index write, set once every rule was evaluated; the
delivery round evaluates whatever waits, so a kill between indexing and alerting loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

from hpbase.clock import iso, utcnow
from hpbase.schema import VERSIONS_TABLE, Schema, migrate, stored_version
from index.db import connect, immediate_transaction

logger = logging.getLogger(__name__)

# Step 1 is the schema as the first alert log wrote it (IF NOT EXISTS: such a file is adopted as
# it is); each later change is a step appended at the end, never an edit of an old one.
_STEP_1 = """
CREATE TABLE IF NOT EXISTS alert_log (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    rule TEXT NOT NULL,
    kind TEXT NOT NULL,
    story_key TEXT NOT NULL,
    severity TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_log_rule_story ON alert_log(rule, story_key, created_at);
CREATE INDEX IF NOT EXISTS alert_log_created ON alert_log(created_at);
CREATE TABLE IF NOT EXISTS alert_members (
    alert_id INTEGER NOT NULL REFERENCES alert_log(id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    article_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    summary TEXT NOT NULL,
    PRIMARY KEY (alert_id, article_id)
);
CREATE INDEX IF NOT EXISTS alert_members_rule_article ON alert_members(rule, article_id);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alert_log(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    recipient TEXT NOT NULL,
    language TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_at TEXT,
    sent_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_deliveries_due ON alert_deliveries(state, next_attempt_at);
CREATE TABLE IF NOT EXISTS alert_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES alert_deliveries(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS alert_attempts_delivery ON alert_attempts(delivery_id);
"""

# step 2: a claim names its process (host:pid:start, see claimer_gone)
_STEP_2 = "ALTER TABLE alert_deliveries ADD COLUMN claimed_by TEXT;"

# step 3: a delivery whose last attempt found its server unreachable (probed each round)
_STEP_3 = "ALTER TABLE alert_deliveries ADD COLUMN unreachable INTEGER NOT NULL DEFAULT 0;"

# step 4: the durable "rules evaluated" mark of each indexed article (IF NOT EXISTS: files written
# before versions may have it already)
_STEP_4 = """
CREATE TABLE IF NOT EXISTS alert_evaluations (
    article_id TEXT PRIMARY KEY,
    indexed_at TEXT NOT NULL,          -- when it was (last) indexed: the order of the catch-up
    article TEXT,                      -- the article as indexed (JSON) until the rules were evaluated
    evaluated_at TEXT                  -- the mark: NULL until every rule was evaluated on this version
);
CREATE INDEX IF NOT EXISTS alert_evaluations_waiting ON alert_evaluations(evaluated_at, indexed_at);
"""

SCHEMA = Schema("alert_log", (_STEP_1, _STEP_2, _STEP_3, _STEP_4))


def _adopt_unversioned(conn: sqlite3.Connection, path: Path) -> None:
    """Record the version of an alert log written before versions existed, read from its shape.

    Before versions, the columns of steps 2 and 3 were added by ``ALTER TABLE`` when missing and
    written into the ``CREATE TABLE`` of new files, so such a file may be at step 1, 2 or 3 (which
    ``IF NOT EXISTS`` cannot tell, and an ``ALTER`` may not repeat). Once recorded, ``migrate``
    runs the remaining steps as for any file. A file without the alert tables is left at 0."""

    def legacy() -> bool:
        return not stored_version(conn, SCHEMA.store) and conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alert_deliveries'").fetchone() is not None

    if not legacy():  # the usual case, read without taking the write lock
        return
    with immediate_transaction(conn):
        if not legacy():  # another process adopted it meanwhile
            return
        columns = {r[1] for r in conn.execute("PRAGMA table_info(alert_deliveries)")}
        version = 1 if "claimed_by" not in columns else 2 if "unreachable" not in columns else 3
        conn.execute(f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} (store TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        conn.execute(f"INSERT INTO {VERSIONS_TABLE}(store, version) VALUES (?, ?) ON CONFLICT(store) DO UPDATE "
                     "SET version = excluded.version", (SCHEMA.store, version))
    logger.info("alert log in %s (from before schema versions) adopted at version %d of %d", path, version,
                SCHEMA.version)


DeliveryState = Literal["pending", "sending", "sent", "failed", "expired"]
STATES: tuple[str, ...] = ("pending", "sending", "sent", "failed", "expired")


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of a process from /proc (Linux), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0], fields[19]
    except (OSError, IndexError):
        return None


def process_identity(pid: int | None = None) -> str:
    """``host:pid:start`` of a process (this one by default): what a claim records, so that a
    later deliverer can tell that the claimer died (a pid alone may have been reused)."""
    pid = pid or os.getpid()
    stat = _proc_stat(pid)
    return f"{socket.gethostname()}:{pid}:{stat[1] if stat else ''}"


def claimer_gone(identity: str | None) -> bool:
    """True when the process named by ``identity`` is known to be dead: it ran on this machine
    and no process with its pid and start time runs (a zombie counts as dead). A claim by a
    process on another machine, or of unknown form, is never judged: its lease decides."""
    if not identity or identity.count(":") < 2:
        return False
    host, pid_text, start = identity.rsplit(":", 2)
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        pass
    stat = _proc_stat(pid)
    if stat is None:
        return False
    return stat[0] in ("Z", "X") or (bool(start) and stat[1] != start)


def _iso(dt: datetime) -> str:
    """The alert log's stamps: UTC to the microsecond (they order rows written in one second)."""
    return iso(dt, timespec="microseconds")  # type: ignore[return-value]


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def idempotency_key(alert_uid: str, channel: str, target: str) -> str:
    """The key of one delivery: the same alert to the same address or webhook always has the
    same key (it becomes the e-mail's Message-ID and the webhook's Idempotency-Key)."""
    digest = hashlib.sha256(f"{channel}\x00{target.strip().lower()}".encode()).hexdigest()[:16]
    return f"{alert_uid}.{channel[0]}{digest}"


# -- records -------------------------------------------------------------------------------


@dataclass
class AlertRecord:
    """One alert as logged: what the message shows (``payload``) and the folded articles."""

    id: int
    uid: str
    rule: str
    kind: str
    story_key: str
    severity: str
    created_at: datetime
    updated_at: datetime
    payload: dict[str, Any]
    members: list[dict[str, Any]] = field(default_factory=list)

    @property
    def more(self) -> list[dict[str, Any]]:
        """The copies folded in after the first article."""
        return self.members[1:]


@dataclass
class DeliveryRow:
    id: int
    alert_id: int
    channel: str
    target: str
    recipient: str
    language: str
    idempotency_key: str
    state: str
    attempts: int
    next_attempt_at: datetime
    claimed_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    created_at: datetime
    claimed_by: str | None = None


@dataclass(frozen=True)
class DeliverySpec:
    """A delivery to create with a new alert. ``problem`` set: recorded failed at once (e.g.
    a recipient name that the settings do not know), so that it shows in the history."""

    channel: str
    target: str
    recipient: str
    language: str
    problem: str | None = None


@dataclass(frozen=True)
class SendResult:
    """The outcome of one attempt: ``sent``, ``retry`` (transient) or ``failed`` (permanent)."""

    outcome: Literal["sent", "retry", "failed"]
    detail: str = ""
    retry_after: float | None = None  # seconds, when the other side said so
    unreachable: bool = False  # the server/endpoint could not be reached: skip its other deliveries this round

    @classmethod
    def ok(cls, detail: str = "") -> SendResult:
        return cls("sent", detail)

    @classmethod
    def retry(cls, detail: str, *, retry_after: float | None = None, unreachable: bool = False) -> SendResult:
        return cls("retry", detail, retry_after, unreachable)

    @classmethod
    def failed(cls, detail: str) -> SendResult:
        return cls("failed", detail)


class Channel(Protocol):
    """A way out (e-mail, webhook): sends one delivery of one alert and says what happened.
    Must not raise for problems of the other side; those are ``SendResult`` values."""

    name: str

    def send(self, alert: AlertRecord, delivery: DeliveryRow) -> SendResult: ...

    def route(self, delivery: DeliveryRow) -> str:
        """Deliveries with the same route share a server: when one finds it unreachable, the
        others wait for the next round instead of each timing out."""

    # optional: ``probe(route) -> str | None``: None when the route's server answers again, else
    # why not; deliveries waiting out a backoff on an unreachable server are then released at once


@dataclass
class DeliveryReport:
    """What a delivery round did: counts, and the reason of each failure or retry."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0
    deferred: int = 0  # not attempted: their server was found unreachable this round
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.failed

    def to_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed, "expired": self.expired,
                "deferred": self.deferred, "errors": list(self.errors)}


# -- the log --------------------------------------------------------------------------------


class AlertLog:
    """The alert tables in one SQLite file (WAL). Safe to share between threads."""

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self._conn = connect(self.path, autocommit=True, foreign_keys=True)
        self._conn.row_factory = sqlite3.Row
        _adopt_unversioned(self._conn, self.path)
        migrate(self._conn, SCHEMA)
        self._lock = threading.RLock()
        self._depth = 0  # nesting of transaction() in the thread holding the lock

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so concurrent deliverers and
        evaluators serialise; the log's writes made inside it (alerts, members, deliveries,
        evaluation marks) commit together or not at all, and its reads see them. Nested use joins
        the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            with immediate_transaction(self._conn) as conn:
                self._depth = 1
                try:
                    yield conn
                finally:
                    self._depth = 0

    _tx = transaction

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- evaluation marks ----------------------------------------------------------------------

    def await_evaluation(self, article_id: str, article: dict[str, Any]) -> None:
        """Record that an article was (re)indexed and the rules are not evaluated on it yet: written
        by the pipeline right after each index write, so an article indexed just before a kill is
        still evaluated by the next delivery round, whatever its date."""
        now = _iso(utcnow())
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO alert_evaluations(article_id, indexed_at, article, evaluated_at) VALUES (?, ?, ?, NULL) "
                "ON CONFLICT(article_id) DO UPDATE SET indexed_at = excluded.indexed_at, article = excluded.article, "
                "evaluated_at = NULL", (article_id, now, json.dumps(article, ensure_ascii=False)))

    def awaiting_evaluation(self, limit: int = 500) -> list[tuple[str, str, dict[str, Any]]]:
        """(article id, indexed at, article as indexed) of articles not evaluated yet, in the
        order they were indexed."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT article_id, indexed_at, article FROM alert_evaluations WHERE evaluated_at IS NULL "
                "ORDER BY indexed_at, article_id LIMIT ?", (limit,)).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    def mark_evaluated(self, article_id: str, indexed_at: str | None = None) -> bool:
        """Set the mark once every rule was evaluated on the article (the version indexed at
        ``indexed_at``: one indexed again meanwhile stays waiting). The engine writes it in the
        same ``transaction()`` as the alert rows the evaluation logged, so a kill leaves both or
        neither. Returns whether a waiting article was marked."""
        now = _iso(self.clock())
        with self._tx() as conn:
            if indexed_at is None:  # an article handed over directly: marked whether it waited or not
                return conn.execute(
                    "INSERT INTO alert_evaluations(article_id, indexed_at, article, evaluated_at) "
                    "VALUES (?, ?, NULL, ?) ON CONFLICT(article_id) DO UPDATE SET "
                    "evaluated_at = excluded.evaluated_at, article = NULL WHERE alert_evaluations.evaluated_at IS NULL",
                    (article_id, now, now)).rowcount == 1
            changed = conn.execute(
                "UPDATE alert_evaluations SET evaluated_at = ?, article = NULL WHERE article_id = ? "
                "AND evaluated_at IS NULL AND indexed_at = ?", (now, article_id, indexed_at)).rowcount
        return changed == 1

    def is_waiting(self, article_id: str, indexed_at: str) -> bool:
        """Whether the article's version indexed at ``indexed_at`` still waits for evaluation (another
        evaluator may have marked it meanwhile: read it inside the transaction that marks it)."""
        with self._lock:
            return self._conn.execute("SELECT 1 FROM alert_evaluations WHERE article_id = ? AND indexed_at = ? "
                                      "AND evaluated_at IS NULL", (article_id, indexed_at)).fetchone() is not None

    def evaluation_known(self, article_ids: list[str]) -> set[str]:
        """Those of the articles that have an evaluation record (evaluated, or waiting for it)."""
        known: set[str] = set()
        with self._lock:
            for start in range(0, len(article_ids), 500):
                chunk = article_ids[start:start + 500]
                known.update(r[0] for r in self._conn.execute(
                    f"SELECT article_id FROM alert_evaluations WHERE article_id IN ({','.join('?' * len(chunk))})",
                    chunk))
        return known

    def evaluation_counts(self) -> dict[str, int]:
        """Articles whose rules were evaluated, and those waiting."""
        with self._lock:
            done, waiting = self._conn.execute(
                "SELECT count(evaluated_at), count(*) - count(evaluated_at) FROM alert_evaluations").fetchone()
        return {"evaluated": done, "waiting": waiting}

    # -- alerts ------------------------------------------------------------------------------

    def rule_has_article(self, rule: str, article_id: str) -> bool:
        """Whether this article is already part of an alert of this rule (then it never fires again)."""
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM alert_members WHERE rule = ? AND article_id = ? LIMIT 1",
                                     (rule, article_id)).fetchone()
        return row is not None

    def open_alert(self, rule: str, story_key: str, since: datetime) -> int | None:
        """The id of this rule's alert for this story created at or after ``since`` (the
        throttle window), which new copies fold into; None when there is none."""
        with self._lock:
            row = self._conn.execute(
                "SELECT id FROM alert_log WHERE rule = ? AND story_key = ? AND created_at >= ? "
                "ORDER BY created_at LIMIT 1", (rule, story_key, _iso(since))).fetchone()
        return row["id"] if row else None

    def create_alert(self, *, rule: str, kind: str, story_key: str, severity: str, payload: dict[str, Any],
                     members: list[tuple[str, dict[str, Any]]], deliveries: list[DeliverySpec]) -> int:
        """Write a new alert, its first article(s) and one delivery per recipient in one
        transaction (before anything is sent). Returns the alert id."""
        now = self.clock()
        uid = uuid.uuid4().hex
        with self._tx() as conn:
            alert_id = conn.execute(
                "INSERT INTO alert_log(uid, rule, kind, story_key, severity, created_at, updated_at, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (uid, rule, kind, story_key, severity, _iso(now), _iso(now), json.dumps(payload, ensure_ascii=False)),
            ).lastrowid
            assert alert_id is not None
            for position, (article_id, summary) in enumerate(members):
                conn.execute(
                    "INSERT OR IGNORE INTO alert_members(alert_id, rule, article_id, position, added_at, summary) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (alert_id, rule, article_id, position, _iso(now), json.dumps(summary, ensure_ascii=False)))
            for spec in deliveries:
                key = idempotency_key(uid, spec.channel, spec.target)
                state = "failed" if spec.problem else "pending"
                delivery_id = conn.execute(
                    "INSERT OR IGNORE INTO alert_deliveries(alert_id, channel, target, recipient, language, "
                    "idempotency_key, state, next_attempt_at, last_error, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (alert_id, spec.channel, spec.target, spec.recipient, spec.language, key, state, _iso(now),
                     spec.problem, _iso(now))).lastrowid
                if spec.problem and delivery_id:
                    conn.execute("INSERT INTO alert_attempts(delivery_id, at, outcome, detail) VALUES (?, ?, ?, ?)",
                                 (delivery_id, _iso(now), "failed", spec.problem))
        return int(alert_id)

    def add_member(self, alert_id: int, rule: str, article_id: str, summary: dict[str, Any]) -> bool:
        """Fold a copy of the story into an existing alert (the alert is updated, no new
        message is created). Returns False when the article was already there."""
        now = self.clock()
        with self._tx() as conn:
            position = conn.execute("SELECT coalesce(max(position), -1) + 1 FROM alert_members WHERE alert_id = ?",
                                    (alert_id,)).fetchone()[0]
            added = conn.execute(
                "INSERT OR IGNORE INTO alert_members(alert_id, rule, article_id, position, added_at, summary) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (alert_id, rule, article_id, position, _iso(now), json.dumps(summary, ensure_ascii=False))).rowcount
            if added:
                conn.execute("UPDATE alert_log SET updated_at = ? WHERE id = ?", (_iso(now), alert_id))
        return bool(added)

    def get_alert(self, alert_id: int) -> AlertRecord | None:
        """The alert with its members in the order they arrived, or None."""
        with self._lock:
            row = self._conn.execute("SELECT * FROM alert_log WHERE id = ?", (alert_id,)).fetchone()
            if row is None:
                return None
            members = self._conn.execute(
                "SELECT article_id, summary FROM alert_members WHERE alert_id = ? ORDER BY position",
                (alert_id,)).fetchall()
        return AlertRecord(
            id=row["id"], uid=row["uid"], rule=row["rule"], kind=row["kind"], story_key=row["story_key"],
            severity=row["severity"], created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]), payload=json.loads(row["payload"]),
            members=[{"id": m["article_id"], **json.loads(m["summary"])} for m in members],
        )

    def alerts(self, *, rule: str | None = None, state: str | None = None, limit: int = 50) -> list[AlertRecord]:
        """The latest alerts, newest first, optionally of one rule or with a delivery in ``state``."""
        conds, params = [], []
        if rule:
            conds.append("rule = ?")
            params.append(rule)
        if state:
            conds.append("id IN (SELECT alert_id FROM alert_deliveries WHERE state = ?)")
            params.append(state)
        where = " AND ".join(conds) or "1"
        with self._lock:
            ids = [r[0] for r in self._conn.execute(
                f"SELECT id FROM alert_log WHERE {where} ORDER BY created_at DESC, id DESC LIMIT ?",
                [*params, limit]).fetchall()]
        return [a for a in (self.get_alert(i) for i in ids) if a is not None]

    # -- deliveries --------------------------------------------------------------------------

    @staticmethod
    def _delivery(row: sqlite3.Row) -> DeliveryRow:
        return DeliveryRow(
            id=row["id"], alert_id=row["alert_id"], channel=row["channel"], target=row["target"],
            recipient=row["recipient"], language=row["language"], idempotency_key=row["idempotency_key"],
            state=row["state"], attempts=row["attempts"],
            next_attempt_at=datetime.fromisoformat(row["next_attempt_at"]), claimed_at=_dt(row["claimed_at"]),
            sent_at=_dt(row["sent_at"]), last_error=row["last_error"],
            created_at=datetime.fromisoformat(row["created_at"]), claimed_by=row["claimed_by"],
        )

    def deliveries(self, alert_id: int) -> list[DeliveryRow]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM alert_deliveries WHERE alert_id = ? ORDER BY id",
                                      (alert_id,)).fetchall()
        return [self._delivery(r) for r in rows]

    def attempts(self, delivery_id: int) -> list[tuple[datetime, str, str | None]]:
        """Every attempt of a delivery: (when, outcome, detail), oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT at, outcome, detail FROM alert_attempts WHERE delivery_id = ? "
                                      "ORDER BY id", (delivery_id,)).fetchall()
        return [(datetime.fromisoformat(r["at"]), r["outcome"], r["detail"]) for r in rows]

    def due(self, now: datetime, lease: timedelta, *, ignore_backoff: bool = False) -> list[DeliveryRow]:
        """Deliveries to attempt now, oldest first: pending ones whose backoff has passed, and
        claims whose deliverer crashed mid-send (known dead, or silent for longer than ``lease``)."""
        due_at = "9999" if ignore_backoff else _iso(now)
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM alert_deliveries WHERE (state = 'pending' AND next_attempt_at <= ?) "
                "OR state = 'sending' ORDER BY created_at, id", (due_at,)).fetchall()
        stale = _iso(now - lease)
        return [self._delivery(r) for r in rows
                if r["state"] == "pending" or (r["claimed_at"] or "") <= stale or claimer_gone(r["claimed_by"])]

    def waiting_on_unreachable(self, now: datetime) -> list[DeliveryRow]:
        """Pending deliveries waiting out a backoff because their server could not be reached."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM alert_deliveries WHERE state = 'pending' AND unreachable = 1 AND next_attempt_at > ? "
                "ORDER BY created_at, id", (_iso(now),)).fetchall()
        return [self._delivery(r) for r in rows]

    def release_backoff(self, delivery_ids: list[int], now: datetime) -> int:
        """Make waiting deliveries due now (their server answered a probe). Returns how many."""
        with self._tx() as conn:
            return sum(conn.execute("UPDATE alert_deliveries SET next_attempt_at = ? WHERE id = ? AND "
                                    "state = 'pending' AND next_attempt_at > ?",
                                    (_iso(now), i, _iso(now))).rowcount for i in delivery_ids)

    def claim(self, delivery: DeliveryRow, now: datetime, lease: timedelta, *, claimer: str | None = None) -> bool:
        """Take a delivery for sending (committed before sending), in the name of ``claimer``
        (this process by default). False when another deliverer took it or it was sent meanwhile."""
        dead = delivery.claimed_by if delivery.state == "sending" and claimer_gone(delivery.claimed_by) else None
        with self._tx() as conn:
            changed = conn.execute(
                "UPDATE alert_deliveries SET state = 'sending', claimed_at = ?, claimed_by = ? WHERE id = ? AND "
                "(state = 'pending' OR (state = 'sending' AND (claimed_at <= ? OR claimed_by = ?)))",
                (_iso(now), claimer or process_identity(), delivery.id, _iso(now - lease), dead)).rowcount
        return changed == 1

    def release(self, delivery_id: int) -> None:
        """Give a claimed delivery back untouched (not attempted this round)."""
        with self._tx() as conn:
            conn.execute("UPDATE alert_deliveries SET state = 'pending', claimed_at = NULL, claimed_by = NULL "
                         "WHERE id = ? AND state = 'sending'", (delivery_id,))

    def record(self, delivery_id: int, now: datetime, result: SendResult, *,
               next_attempt_at: datetime | None = None, expire: bool = False) -> str:
        """Record an attempt's outcome and move the delivery to its next state; returns that state."""
        if result.outcome == "sent":
            state = "sent"
        elif result.outcome == "failed":
            state = "failed"
        else:
            state = "expired" if expire else "pending"
        with self._tx() as conn:
            conn.execute(
                "UPDATE alert_deliveries SET state = ?, attempts = attempts + 1, claimed_at = NULL, claimed_by = NULL, "
                "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, "
                "last_error = CASE WHEN ? = 'sent' THEN last_error ELSE ? END, "
                "next_attempt_at = coalesce(?, next_attempt_at), unreachable = ? WHERE id = ?",
                (state, state, _iso(now), state, result.detail, _iso(next_attempt_at) if next_attempt_at else None,
                 int(state == "pending" and result.unreachable), delivery_id))
            conn.execute("INSERT INTO alert_attempts(delivery_id, at, outcome, detail) VALUES (?, ?, ?, ?)",
                         (delivery_id, _iso(now), result.outcome if state != "expired" else "expired",
                          result.detail[:1000]))
        return state

    def counts(self) -> dict[str, int]:
        """Deliveries per state (every state present, zero included)."""
        with self._lock:
            rows = self._conn.execute("SELECT state, count(*) FROM alert_deliveries GROUP BY state").fetchall()
        out = dict.fromkeys(STATES, 0)
        out.update({r[0]: r[1] for r in rows})
        return out


# -- the delivery round ---------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``first`` after the first failure, doubling up to ``cap``; a
    delivery still failing ``give_up_after`` its creation is marked expired (with its reasons)."""

    first: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(minutes=30)
    give_up_after: timedelta = timedelta(days=7)
    lease: timedelta = timedelta(minutes=10)

    def delay(self, attempts: int, retry_after: float | None = None) -> timedelta:
        """The wait after the ``attempts``-th failed attempt (at least what the server asked)."""
        wait = min(self.cap, self.first * (2 ** max(0, attempts - 1)))
        if retry_after is not None:
            wait = max(wait, min(timedelta(seconds=retry_after), self.cap))
        return wait


class Deliverer:
    """Sends what is due in the alert log through the channels, one attempt per delivery per round."""

    def __init__(self, log: AlertLog, channels: dict[str, Channel], *, policy: RetryPolicy | None = None) -> None:
        self.log = log
        self.channels = channels
        self.policy = policy or RetryPolicy()

    def deliver_pending(self, *, ignore_backoff: bool = False) -> DeliveryReport:
        """Attempt every due delivery once; returns what happened. A server found unreachable
        defers its other deliveries to the next round instead of timing out on each."""
        report = DeliveryReport()
        now = self.log.clock()
        unreachable: set[str] = set()
        if not ignore_backoff:
            self._probe_waiting(now)
        alerts: dict[int, AlertRecord | None] = {}
        for delivery in self.log.due(now, self.policy.lease, ignore_backoff=ignore_backoff):
            channel = self.channels.get(delivery.channel)
            route = f"{delivery.channel}:{channel.route(delivery)}" if channel else delivery.channel
            if route in unreachable:
                report.deferred += 1
                continue
            if not self.log.claim(delivery, self.log.clock(), self.policy.lease):
                continue
            if delivery.alert_id not in alerts:
                alerts[delivery.alert_id] = self.log.get_alert(delivery.alert_id)
            alert = alerts[delivery.alert_id]
            if channel is None or alert is None:
                result = SendResult.failed(f"no channel {delivery.channel!r}" if channel is None else "alert missing")
            else:
                try:
                    result = channel.send(alert, delivery)
                except Exception as exc:  # a bug in a channel must not lose the delivery: retry later
                    logger.exception("channel %s raised on delivery %s", delivery.channel, delivery.id)
                    result = SendResult.retry(f"{type(exc).__name__}: {exc}")
            self._record(delivery, result, report)
            if result.outcome == "retry" and result.unreachable:
                unreachable.add(route)
        return report

    def _probe_waiting(self, now: datetime) -> set[str]:
        """Probe each server that deliveries wait on after finding it unreachable (once a round):
        one that answers again releases them now instead of after their backoff, which may be
        the cap. Returns the routes still unreachable."""
        by_route: dict[str, list[int]] = {}
        for delivery in self.log.waiting_on_unreachable(now):
            channel = self.channels.get(delivery.channel)
            if channel is not None and hasattr(channel, "probe"):
                by_route.setdefault(f"{delivery.channel}:{channel.route(delivery)}", []).append(delivery.id)
        down: set[str] = set()
        for route, ids in by_route.items():
            channel = self.channels[route.split(":", 1)[0]]
            try:
                problem = channel.probe(route.split(":", 1)[1])  # type: ignore[attr-defined]
            except Exception as exc:  # a bug in a probe must not stop delivery: the backoff decides
                logger.exception("probe of %s raised", route)
                problem = f"{type(exc).__name__}: {exc}"
            if problem is None:
                released = self.log.release_backoff(ids, now)
                logger.info("%s answers again: %d waiting deliveries released", route, released)
            else:
                down.add(route)
                logger.info("%s still unreachable: %s", route, problem)
        return down

    def _record(self, delivery: DeliveryRow, result: SendResult, report: DeliveryReport) -> None:
        now = self.log.clock()
        attempts = delivery.attempts + 1
        expire = result.outcome == "retry" and now - delivery.created_at >= self.policy.give_up_after
        next_at = now + self.policy.delay(attempts, result.retry_after) if result.outcome == "retry" else None
        state = self.log.record(delivery.id, now, result, next_attempt_at=next_at, expire=expire)
        what = f"{delivery.channel} {delivery.recipient}/{delivery.target} (alert {delivery.alert_id})"
        if state == "sent":
            report.sent += 1
            logger.info("sent %s", what)
        elif state == "failed":
            report.failed += 1
            report.errors.append(f"{what}: {result.detail}")
            logger.warning("delivery failed for good: %s: %s", what, result.detail)
        elif state == "expired":
            report.expired += 1
            report.errors.append(f"{what}: gave up: {result.detail}")
            logger.warning("delivery expired: %s: %s", what, result.detail)
        else:
            report.retried += 1
            report.errors.append(f"{what}: will retry: {result.detail}")
            logger.info("delivery will be retried: %s: %s", what, result.detail)
