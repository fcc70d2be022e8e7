"""A durable, ordered queue of articles waiting for a search engine that is down.

Written before anything is sent, removed only once the engine confirmed the write, so a
crash or an outage never loses a processed article; flushed in order when the engine is back.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from hpbase.schema import Schema, migrate
from index.article import Article
from index.db import connect

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, article_id TEXT NOT NULL,
    content_hash TEXT, doc TEXT NOT NULL, enqueued_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_article ON outbox(article_id);
CREATE INDEX IF NOT EXISTS outbox_hash ON outbox(content_hash);
"""

#: The versioned schema (``hpbase.schema``): step 1 is the DDL of before versions.
SCHEMA = Schema("outbox", (_SCHEMA,))


class Outbox:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(self.path)
        migrate(self._conn, SCHEMA)
        self._lock = threading.RLock()

    def put(self, articles: list[Article]) -> list[int]:
        """Append articles (durably, in one transaction); returns their sequence numbers."""
        now = datetime.now(UTC).isoformat()
        with self._lock, self._conn:
            return [
                self._conn.execute(
                    "INSERT INTO outbox(article_id, content_hash, doc, enqueued_at) VALUES (?, ?, ?, ?)",
                    (a.id, a.content_hash, json.dumps(a.to_dict(), ensure_ascii=False), now),
                ).lastrowid
                for a in articles
            ]

    def peek(self, limit: int = 500) -> list[tuple[int, Article]]:
        """The oldest waiting articles, in order."""
        with self._lock:
            rows = self._conn.execute("SELECT seq, doc FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(seq, Article.from_dict(json.loads(doc))) for seq, doc in rows]

    def done(self, seqs: list[int]) -> None:
        with self._lock, self._conn:
            self._conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])

    def failed(self, seqs: list[int], error: str) -> None:
        with self._lock, self._conn:
            self._conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?", [(error, s) for s in seqs]
            )

    def get(self, article_id: str) -> Article | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT doc FROM outbox WHERE article_id = ? ORDER BY seq DESC LIMIT 1", (article_id,)
            ).fetchone()
        return Article.from_dict(json.loads(row[0])) if row else None

    def find_by_content_hash(self, content_hash: str) -> Article | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT doc FROM outbox WHERE content_hash = ? ORDER BY seq LIMIT 1", (content_hash,)
            ).fetchone()
        return Article.from_dict(json.loads(row[0])) if row else None

    def depth(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM outbox").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
