"""Analysts' corrections of topics and sentiment: stored, applied to the article at once, and
used as extra training examples by the next ``hpmon train``. One store for the CLI
(``hpmon label``) and the web app."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hpbase.schema import Schema, migrate
from index.article import Article
from index.backend import Backend
from index.db import connect

SENTIMENTS = ("negative", "neutral", "positive")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS label_corrections (id INTEGER PRIMARY KEY, article_id TEXT NOT NULL,
    topics TEXT, sentiment TEXT, user TEXT NOT NULL, at TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '', text TEXT NOT NULL DEFAULT '', language TEXT);
CREATE INDEX IF NOT EXISTS label_corrections_article ON label_corrections(article_id);
"""

#: The versioned schema (``hpbase.schema``): step 1 is the DDL of before versions.
SCHEMA = Schema("label_corrections", (_SCHEMA,))


@dataclass
class Correction:
    article_id: str
    topics: list[str] | None
    sentiment: str | None
    user: str
    at: str
    note: str = ""
    title: str = ""
    text: str = ""
    language: str | None = None


class LabelStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(self.path)
        migrate(self._conn, SCHEMA)
        self._lock = threading.RLock()

    def add(self, correction: Correction) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO label_corrections(article_id, topics, sentiment, user, at, note, title, text, language) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (correction.article_id, json.dumps(correction.topics) if correction.topics is not None else None,
                 correction.sentiment, correction.user, correction.at, correction.note, correction.title,
                 correction.text, correction.language),
            )

    def history(self, article_id: str) -> list[Correction]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT article_id, topics, sentiment, user, at, note, title, text, language FROM label_corrections "
                "WHERE article_id = ? ORDER BY id", (article_id,)).fetchall()
        return [self._row(r) for r in rows]

    def latest_per_article(self) -> list[Correction]:
        """The current correction of every corrected article (the last one wins), for training."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT article_id, topics, sentiment, user, at, note, title, text, language FROM label_corrections "
                "WHERE id IN (SELECT max(id) FROM label_corrections GROUP BY article_id) ORDER BY id").fetchall()
        return [self._row(r) for r in rows]

    @staticmethod
    def _row(r) -> Correction:
        return Correction(article_id=r[0], topics=json.loads(r[1]) if r[1] else None, sentiment=r[2], user=r[3],
                          at=r[4], note=r[5], title=r[6], text=r[7], language=r[8])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class CorrectionError(ValueError):
    """The correction cannot be applied (unknown article, unknown label); the message says which."""


def apply_correction(backend: Backend, store: LabelStore, article_id: str, *, topics: list[str] | None = None,
                     sentiment: str | None = None, user: str, note: str = "",
                     known_topics: set[str] | None = None) -> Article:
    """Record an analyst's labels and show them on the article at once; returns the article."""
    article = backend.get(article_id)
    if article is None:
        raise CorrectionError(f"no article with id {article_id}")
    if topics is None and sentiment is None:
        raise CorrectionError("give topics, a sentiment, or both")
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise CorrectionError(f"sentiment must be one of {', '.join(SENTIMENTS)}")
    if topics is not None and known_topics is not None:
        unknown = [t for t in topics if t not in known_topics]
        if unknown:
            raise CorrectionError(f"unknown topic(s): {', '.join(unknown)}")
    at = datetime.now(UTC).isoformat()
    store.add(Correction(article_id=article_id, topics=topics, sentiment=sentiment, user=user, at=at, note=note,
                         title=article.title, text=article.text, language=article.language))
    previous = {"topics": article.topics, "sentiment": article.sentiment}
    if topics is not None:
        article.topics = topics
    if sentiment is not None:
        article.sentiment = sentiment
        article.sentiment_score = 1.0
    article.reasons = {**article.reasons, "correction": {"by": user, "at": at, "note": note, "previous": previous}}
    backend.upsert([article])
    backend.refresh()
    return article
