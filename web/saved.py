"""Saved searches, per user, in the office's SQLite file (table ``web_saved_searches``)."""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hpbase.schema import Schema, migrate
from index.db import connect
from web.params import LEGACY_RISK_PARAM, RISK_PARAM, risk_from_legacy, risk_to_points
from web.searchform import SearchForm

MAX_SAVED_PER_USER = 100
# search page parameter -> filter key of an alert rule (alerts.yaml)
RULE_FILTERS = {"lang": "languages", "country": "countries", "source": "sources", "topic": "topics",
                "sentiment": "sentiment", "theme": "themes"}


def rule_of_search(params: list[tuple[str, str]]) -> dict:
    """The query and filters of an alert rule matching what the search of ``params`` finds (its
    dates left out: a rule watches new articles). Used by a new rule made from a saved search and
    by a subscription to one."""
    form = SearchForm.from_params(params)
    filters: dict = {RULE_FILTERS[k]: v for k, v in form.filters.items() if k in RULE_FILTERS}
    for single in ("scope", "coverage"):
        if form.filters.get(single) and len(form.filters[single]) == 1:
            filters[single] = form.filters[single][0]
    if form.min_risk is not None:
        filters["min_risk"] = form.min_risk
    return {"query": form.q, "filters": filters}


_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_saved_searches (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,
    name TEXT NOT NULL, params TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS web_saved_searches_user ON web_saved_searches(user_id);
"""

#: The versioned schema (``hpbase.schema``): step 1 is the DDL of before versions.
SCHEMA = Schema("saved_searches", (_SCHEMA,))


@dataclass(frozen=True)
class SavedSearch:
    id: int
    user_id: int
    name: str
    params: list[tuple[str, str]]  # the search page's URL parameters
    created_at: str


def _current_params(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The stored parameters as the search page writes them today: a search saved before risk was
    given in points keeps ``min_risk=0.6``, read here as ``risk=60`` (web.params). A value that
    cannot be read is kept as stored; the search page then says it was ignored."""
    out: list[tuple[str, str]] = []
    for key, value in params:
        if key == LEGACY_RISK_PARAM:
            with contextlib.suppress(ValueError):
                key, value = RISK_PARAM, str(risk_to_points(risk_from_legacy(value)))
        out.append((key, value))
    return out


class SavedSearches:
    """Each user's named searches (the URL parameters of the search page)."""

    def __init__(self, path: str | Path) -> None:
        self._conn = connect(path)
        migrate(self._conn, SCHEMA)
        self._lock = threading.RLock()

    def add(self, user_id: int, name: str, params: list[tuple[str, str]]) -> SavedSearch | None:
        """Save a search; returns it, or None when the user already has the maximum."""
        with self._lock, self._conn:
            count = self._conn.execute("SELECT count(*) FROM web_saved_searches WHERE user_id = ?",
                                       (user_id,)).fetchone()[0]
            if count >= MAX_SAVED_PER_USER:
                return None
            at = datetime.now(UTC).isoformat()
            cur = self._conn.execute(
                "INSERT INTO web_saved_searches(user_id, name, params, created_at) VALUES (?, ?, ?, ?)",
                (user_id, name.strip()[:120], json.dumps(params, ensure_ascii=False), at))
        return self.get(user_id, int(cur.lastrowid))

    def get(self, user_id: int, saved_id: int) -> SavedSearch | None:
        """The user's saved search with that id (another user's is None)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT id, user_id, name, params, created_at FROM web_saved_searches WHERE id = ? AND user_id = ?",
                (saved_id, user_id)).fetchone()
        return self._row(row) if row else None

    def for_user(self, user_id: int) -> list[SavedSearch]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, user_id, name, params, created_at FROM web_saved_searches WHERE user_id = ? "
                "ORDER BY name COLLATE NOCASE", (user_id,)).fetchall()
        return [self._row(r) for r in rows]

    def delete(self, user_id: int, saved_id: int) -> bool:
        with self._lock, self._conn:
            cur = self._conn.execute("DELETE FROM web_saved_searches WHERE id = ? AND user_id = ?",
                                     (saved_id, user_id))
        return cur.rowcount > 0

    @staticmethod
    def _row(row) -> SavedSearch:
        return SavedSearch(id=row[0], user_id=row[1], name=row[2],
                           params=_current_params([(str(k), str(v)) for k, v in json.loads(row[3])]),
                           created_at=row[4])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
