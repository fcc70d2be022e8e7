"""Analysts' subscriptions to their saved searches, kept in the office's SQLite file: each one is
an alert rule owned by its user (the saved search's query and filters, written when subscribing)
and the address its e-mails go to. The alert engine adds them to the rules of ``alerts.yaml``
(``subscription_rules``), so they are matched, folded per story, logged and delivered by the same
machinery as every alert: one e-mail as soon as a new article matches."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpbase.clock import iso, utcnow
from hpbase.schema import Schema, migrate
from index.db import connect
from records.recipients import ADDRESS

MODES = ("instant",)
MAX_PER_USER = 50
PREFIX = "sub-"  # a subscription's rule and recipient name: sub-<id>

_SCHEMA = """
CREATE TABLE office_subscriptions (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, username TEXT NOT NULL,
    saved_id INTEGER NOT NULL, name TEXT NOT NULL, rule TEXT NOT NULL, email TEXT NOT NULL,
    mode TEXT NOT NULL, language TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX office_subscriptions_user ON office_subscriptions(user_id);
"""

#: The versioned schema (``hpbase.schema``).
SCHEMA = Schema("subscriptions", (_SCHEMA,))


class SubscriptionError(ValueError):
    """A subscription that cannot be made; ``key`` is the reason's catalogue key."""

    def __init__(self, key: str, value: str = "") -> None:
        super().__init__(f"{key}: {value}" if value else key)
        self.key, self.value = key, value


@dataclass(frozen=True)
class Subscription:
    id: int
    user_id: int
    username: str
    saved_id: int
    name: str
    rule: dict[str, Any]  # the rule's query and filters, as alerts.yaml writes them
    email: str
    mode: str
    language: str
    created_at: str

    @property
    def rule_name(self) -> str:
        return f"{PREFIX}{self.id}"

    def as_rule(self) -> dict[str, Any]:
        """The alert rule this subscription stands for (the shape ``alerts.rules.parse_rules`` reads)."""
        return {"name": self.rule_name, "label": {"vi": self.name, "en": self.name},
                "query": self.rule.get("query", ""), "filters": self.rule.get("filters") or {},
                "recipients": [self.rule_name], "channels": ["email"], "severity": "low",
                "language": self.language}


class Subscriptions:
    """The subscriptions (table ``office_subscriptions`` of ``app.sqlite``)."""

    def __init__(self, path: str | Path) -> None:
        self._conn = connect(path)
        migrate(self._conn, SCHEMA)
        self._lock = threading.RLock()

    def add(self, *, user_id: int, username: str, saved_id: int, name: str, rule: dict[str, Any], email: str,
            mode: str = "instant", language: str = "vi") -> Subscription:
        """Subscribe; raises SubscriptionError for a bad address or mode, or too many subscriptions."""
        email = (email or "").strip()
        if not ADDRESS.match(email):
            raise SubscriptionError("subscriptions.error.address", email[:120])
        if mode not in MODES:
            raise SubscriptionError("subscriptions.error.mode", mode[:20])
        with self._lock, self._conn:
            count = self._conn.execute("SELECT count(*) FROM office_subscriptions WHERE user_id = ?",
                                       (user_id,)).fetchone()[0]
            if count >= MAX_PER_USER:
                raise SubscriptionError("subscriptions.error.too_many", str(MAX_PER_USER))
            cur = self._conn.execute(
                "INSERT INTO office_subscriptions(user_id, username, saved_id, name, rule, email, mode, language, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, username, saved_id, name[:120], json.dumps(rule, ensure_ascii=False), email, mode,
                 language if language in ("vi", "en") else "vi", iso(utcnow())))
        found = self.get(int(cur.lastrowid))
        assert found is not None
        return found

    def get(self, sub_id: int) -> Subscription | None:
        return next(iter(self._select("WHERE id = ?", (sub_id,))), None)

    def for_user(self, user_id: int) -> list[Subscription]:
        return self._select("WHERE user_id = ? ORDER BY name COLLATE NOCASE, id", (user_id,))

    def all(self) -> list[Subscription]:
        return self._select("ORDER BY id", ())

    def delete(self, user_id: int, sub_id: int) -> bool:
        with self._lock, self._conn:
            cur = self._conn.execute("DELETE FROM office_subscriptions WHERE id = ? AND user_id = ?",
                                     (sub_id, user_id))
        return cur.rowcount > 0

    def _select(self, where: str, args: tuple) -> list[Subscription]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, user_id, username, saved_id, name, rule, email, mode, language, created_at "
                f"FROM office_subscriptions {where}", args).fetchall()
        return [Subscription(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8], r[9]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def subscription_rules(path: str | Path) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The subscriptions as alert rules (``alerts.yaml``'s shape) and the recipient list of each
    (its rule's name -> the subscriber's address). A missing file has none."""
    path = Path(path)
    if not path.is_file():
        return [], {}
    store = Subscriptions(path)
    try:
        subs = store.all()
    finally:
        store.close()
    return [s.as_rule() for s in subs], {s.rule_name: [s.email] for s in subs}
