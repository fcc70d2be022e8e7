"""The evidence library: the office's own documents (official statements, historical maps and
records, prior rebuttals), kept in the office's SQLite file and searchable like articles.

Documents are indexed with ``index.text.search_form`` exactly as the article index does
(diacritics and case folded, CJK/Thai as bigrams), so ``hoang sa`` finds ``Hoàng Sa`` and
``西沙`` finds Chinese text. ``similar`` answers "which documents help with this case": it
takes the most distinctive terms of the case text (tf × idf against the library's own
vocabulary) and ranks documents by BM25 over them. The same helper ranks prior cases
(``records.cases``).
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hpbase.clock import iso, utcnow
from hpbase.schema import Schema, migrate
from index.db import connect
from index.query import QuerySyntaxError, parse_query
from index.sqlite import fts_clause
from index.text import WORD, bigram_chars, search_form, split_bigram_runs

KINDS = ("statement", "map", "record", "rebuttal")
KIND_LABELS: dict[str, dict[str, str]] = {
    "statement": {"vi": "Tuyên bố chính thức", "en": "Official statement"},
    "map": {"vi": "Bản đồ", "en": "Map"},
    "record": {"vi": "Tư liệu, hồ sơ", "en": "Record"},
    "rebuttal": {"vi": "Bài phản bác trước đây", "en": "Prior rebuttal"},
}
MAX_TEXT_CHARS = 2_000_000  # a library document longer than this is truncated (hostile input cap)
MAX_TITLE_CHARS = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS library_documents (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('statement', 'map', 'record', 'rebuttal')),
    language TEXT,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    added_at TEXT NOT NULL,
    added_by TEXT,
    meta TEXT NOT NULL DEFAULT '{}'
);
CREATE VIRTUAL TABLE IF NOT EXISTS library_fts USING fts5(
    title, text, chars, tokenize = 'unicode61 remove_diacritics 0'
);
CREATE VIRTUAL TABLE IF NOT EXISTS library_fts_vocab USING fts5vocab(library_fts, 'row');
"""

#: The versioned schema (``hpbase.schema``): step 1 is the DDL of before versions.
SCHEMA = Schema("library", (_SCHEMA,))

# bm25 column weights: title, text, single CJK characters
_BM25 = "bm25(library_fts, 3.0, 1.0, 0.2)"


def index_tokens(text: str) -> list[str]:
    """The tokens FTS5 stores for ``text``: folded words and CJK/Thai bigrams."""
    tokens: list[str] = []
    for is_bigram, piece in split_bigram_runs(search_form(text)):
        if is_bigram:
            tokens.extend(piece.split())
        else:
            tokens.extend(m.group(0) for m in WORD.finditer(piece))
    return tokens


def _word_pairs(text: str) -> Counter:
    """Adjacent pairs of Latin/Cyrillic words (``hoang sa``, ``nine dash``): in Vietnamese a
    word is often two syllables, and a pair says more than either half."""
    pairs: Counter = Counter()
    for is_bigram, piece in split_bigram_runs(search_form(text)):
        if is_bigram:
            continue
        words = [m.group(0) for m in WORD.finditer(piece)]
        pairs.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False)
                     if len(a) > 1 and len(b) > 1 and not a.isdigit() and not b.isdigit())
    return pairs


def distinctive_terms(conn: sqlite3.Connection, fts_table: str, text: str, *, limit: int = 30,
                      self_count: int = 0, max_pairs: int = 40) -> list[tuple[str, float]]:
    """The ``limit`` terms of ``text`` that best tell it apart, with their tf × idf weight.
    A term is an indexed token or a pair of adjacent words (a phrase).

    The idf comes from the vocabulary of the FTS5 table ``fts_table`` (its ``<fts_table>_vocab``
    fts5vocab table) and, for word pairs, from phrase counts; terms the index does not hold
    cannot match and are left out, and so are one-letter Latin tokens and bare numbers.
    ``self_count`` is the number of indexed documents that are the text itself (a case compared
    with the other cases), so that its own terms do not look common."""
    counts = Counter(t for t in index_tokens(text) if not t.isdigit() and (len(t) > 1 or not t.isascii()))
    if not counts:
        return []
    total = conn.execute(f"SELECT count(*) FROM {fts_table}").fetchone()[0]
    total = max(total - self_count, 0)
    if total == 0:
        return []

    def idf(d: int) -> float:
        return math.log(1 + (total - d + 0.5) / (d + 0.5))

    df: dict[str, int] = {}
    terms = list(counts)
    for i in range(0, len(terms), 500):
        chunk = terms[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for term, doc in conn.execute(f"SELECT term, doc FROM {fts_table}_vocab WHERE term IN ({marks})", chunk):
            df[term] = max(int(doc) - self_count, 0)
    scored = [(t, (1 + math.log(tf)) * idf(df[t])) for t, tf in counts.items() if df.get(t, 0) > 0]
    pairs = [(p, tf) for p, tf in _word_pairs(text).items() if all(df.get(w, 0) > 0 for w in p.split())]
    pairs.sort(key=lambda x: (-x[1] * sum(idf(df[w]) for w in x[0].split()), x[0]))
    for phrase, tf in pairs[:max_pairs]:
        d = conn.execute(f"SELECT count(*) FROM {fts_table} WHERE {fts_table} MATCH ?", (f'"{phrase}"',)).fetchone()[0]
        d = max(d - self_count, 0)
        if d > 0:
            scored.append((phrase, (1 + math.log(tf)) * idf(d) * 1.5))
    scored.sort(key=lambda x: (-x[1], x[0]))
    return scored[:limit]


def _term_counts(indexed_form: str) -> tuple[Counter, int]:
    words = [m.group(0) for m in WORD.finditer(indexed_form)]
    counts = Counter(words)
    counts.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return counts, len(words)


def weighted_bm25(terms: list[tuple[str, float]], documents: list[tuple[int, str]], *, k1: float = 1.2,
                  b: float = 0.75) -> list[tuple[int, float, list[str]]]:
    """Rank candidate documents (id, indexed form) by BM25 in which each query term counts with
    its own weight (its distinctiveness in the query text), best first, with the shared terms.
    Plain FTS5 BM25 counts every OR-ed term alike, so a page sharing many common words (a
    port story mentioning the city) could outrank one sharing the few that matter."""
    stats = [(doc_id, *_term_counts(form)) for doc_id, form in documents]
    if not stats:
        return []
    avgdl = max(sum(n for _, _, n in stats) / len(stats), 1.0)
    ranked = []
    for doc_id, counts, length in stats:
        norm = k1 * (1 - b + b * length / avgdl)
        score, shared = 0.0, []
        for term, weight in terms:
            tf = counts.get(term, 0)
            if tf:
                score += weight * tf * (k1 + 1) / (tf + norm)
                shared.append(term)
        ranked.append((doc_id, round(score, 4), shared[:10]))
    ranked.sort(key=lambda x: (-x[1], x[0]))
    return ranked


def match_any(terms: list[tuple[str, float]]) -> str | None:
    """An FTS5 expression matching a document holding any of ``terms`` (each quoted)."""
    quoted = ['"' + t.replace('"', '""') + '"' for t, _ in terms]
    return " OR ".join(quoted) if quoted else None


@dataclass(frozen=True)
class LibraryDocument:
    """One document of the library. ``sha256`` is the hash of its extracted text (UTF-8): the
    same text added twice is one document."""

    id: int | None
    title: str
    text: str
    kind: str
    language: str | None
    source: str  # file path or URL it was added from
    sha256: str
    added_at: datetime
    added_by: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, *, with_text: bool = True) -> dict[str, Any]:
        d = {
            "id": self.id, "title": self.title, "kind": self.kind, "language": self.language,
            "source": self.source, "sha256": self.sha256, "added_at": iso(self.added_at),
            "added_by": self.added_by, "meta": self.meta, "chars": len(self.text),
        }
        if with_text:
            d["text"] = self.text
        return d


@dataclass(frozen=True)
class Suggestion:
    """A document (or case) suggested for a text: its id, title, BM25-based score (higher is
    better) and the distinctive terms it shares with the text (why it was suggested)."""

    id: int
    title: str
    score: float
    terms: list[str]
    kind: str | None = None


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class LibraryStore:
    """The library tables in the office's SQLite file. Safe to share between threads."""

    def __init__(self, path: str | Path, *, now=utcnow) -> None:
        self.path = Path(path)
        self._conn = connect(self.path, foreign_keys=True)
        migrate(self._conn, SCHEMA)
        self._lock = threading.RLock()
        self._now = now

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- writing ---------------------------------------------------------------------------

    def add(self, *, title: str, text: str, kind: str, source: str, language: str | None = None,
            added_by: str | None = None, meta: dict[str, Any] | None = None) -> tuple[LibraryDocument, bool]:
        """Add a document; returns it and whether it is new. The same text (by SHA-256) added
        again returns the existing document unchanged: a library does not hold copies."""
        if kind not in KINDS:
            raise ValueError(f"unknown document kind {kind!r} (one of {', '.join(KINDS)})")
        text = text[:MAX_TEXT_CHARS]
        title = " ".join(title.split())[:MAX_TITLE_CHARS] or source[:MAX_TITLE_CHARS]
        digest = text_sha256(text)
        with self._lock, self._conn:
            row = self._conn.execute("SELECT id FROM library_documents WHERE sha256 = ?", (digest,)).fetchone()
            if row:
                return self.get(row[0]), False  # type: ignore[return-value]
            added_at = self._now()
            doc_id = self._conn.execute(
                "INSERT INTO library_documents(title, text, kind, language, source, sha256, added_at, added_by, meta) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (title, text, kind, language, source, digest, iso(added_at), added_by,
                 json.dumps(meta or {}, ensure_ascii=False)),
            ).lastrowid
            self._conn.execute(
                "INSERT INTO library_fts(rowid, title, text, chars) VALUES (?, ?, ?, ?)",
                (doc_id, search_form(title), search_form(text), bigram_chars(f"{title} {text}")),
            )
        return self.get(doc_id), True  # type: ignore[arg-type,return-value]

    def remove(self, doc_id: int) -> bool:
        """Delete a document; returns whether it existed."""
        with self._lock, self._conn:
            cur = self._conn.execute("DELETE FROM library_documents WHERE id = ?", (doc_id,))
            self._conn.execute("DELETE FROM library_fts WHERE rowid = ?", (doc_id,))
            return cur.rowcount > 0

    # -- reading ---------------------------------------------------------------------------

    _COLUMNS = "id, title, text, kind, language, source, sha256, added_at, added_by, meta"

    @staticmethod
    def _doc(row: tuple) -> LibraryDocument:
        return LibraryDocument(
            id=row[0], title=row[1], text=row[2], kind=row[3], language=row[4], source=row[5], sha256=row[6],
            added_at=datetime.fromisoformat(row[7]), added_by=row[8], meta=json.loads(row[9] or "{}"),
        )

    def get(self, doc_id: int) -> LibraryDocument | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {self._COLUMNS} FROM library_documents WHERE id = ?", (doc_id,)).fetchone()
        return self._doc(row) if row else None

    def list(self, *, kind: str | None = None, limit: int = 100, offset: int = 0) -> list[LibraryDocument]:
        """Documents, newest first (optionally of one kind)."""
        sql = f"SELECT {self._COLUMNS} FROM library_documents"
        args: list[Any] = []
        if kind:
            sql += " WHERE kind = ?"
            args.append(kind)
        sql += " ORDER BY added_at DESC, id DESC LIMIT ? OFFSET ?"
        with self._lock:
            rows = self._conn.execute(sql, (*args, limit, offset)).fetchall()
        return [self._doc(r) for r in rows]

    def count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM library_documents").fetchone()[0]

    def search(self, query: str, *, limit: int = 20, kind: str | None = None) -> list[Suggestion]:
        """Documents matching ``query`` in the article search syntax (words ANDed, "phrases",
        -exclude, a OR b), best first. Raises ``QuerySyntaxError`` on an unclosed quote."""
        parsed = parse_query(query)
        must = [c for c in (fts_clause(c) for c in parsed.must) if c]
        must_not = [c for c in (fts_clause(c) for c in parsed.must_not) if c]
        if not must:
            raise QuerySyntaxError("the query has no word to search for")
        expr = " AND ".join(must) + "".join(f" NOT {c}" for c in must_not)
        sql = (f"SELECT d.id, d.title, d.kind, {_BM25} AS rank FROM library_fts JOIN library_documents d "
               "ON d.id = library_fts.rowid WHERE library_fts MATCH ?")
        args: list[Any] = [expr]
        if kind:
            sql += " AND d.kind = ?"
            args.append(kind)
        sql += " ORDER BY rank, d.id LIMIT ?"
        with self._lock:
            rows = self._conn.execute(sql, (*args, limit)).fetchall()
        return [Suggestion(r[0], r[1], round(-r[3], 4), [], r[2]) for r in rows]

    def similar(self, text: str, limit: int = 5, *, max_terms: int = 30, candidates: int = 100) -> list[Suggestion]:
        """The documents most relevant to ``text`` (a case's articles), best first: the text's
        most distinctive terms find candidates (FTS5), which are ranked by BM25 weighted by each
        term's distinctiveness (``weighted_bm25``); each suggestion names the terms it shares."""
        with self._lock:
            terms = distinctive_terms(self._conn, "library_fts", text, limit=max_terms)
            expr = match_any(terms)
            if expr is None:
                return []
            rows = self._conn.execute(
                f"SELECT d.id, d.title, d.kind, library_fts.title, library_fts.text FROM library_fts "
                f"JOIN library_documents d ON d.id = library_fts.rowid WHERE library_fts MATCH ? "
                f"ORDER BY {_BM25}, d.id LIMIT ?",
                (expr, candidates),
            ).fetchall()
        info = {r[0]: (r[1], r[2]) for r in rows}
        # the title counts twice, as in the search's BM25 column weights
        ranked = weighted_bm25(terms, [(r[0], f"{r[3]} {r[3]} {r[4]}") for r in rows])
        return [Suggestion(doc_id, info[doc_id][0], score, shared, info[doc_id][1])
                for doc_id, score, shared in ranked[:limit] if score > 0]
