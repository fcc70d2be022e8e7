"""The embedded default backend: one SQLite file, WAL mode, FTS5 with folded text.

The full-text table holds ``index.text.search_form`` of each field (diacritics and case
folded, CJK/Thai as bigrams); queries are translated with the same function, so that
``hai phong`` finds ``Hải Phòng`` and ``海防`` finds Chinese text. Facets and filters use one
``facets`` table (article, field, value) so list-valued labels count like the others.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from index.article import FACET_FIELDS, Article
from index.backend import FacetHistogram, UpsertReport
from index.db import connect
from index.highlight import make_snippet
from index.query import Clause, Histogram, Hit, SearchQuery, SearchResult
from index.text import WORD, bigram_chars, bigrams, fold, is_bigram_char, search_form, split_bigram_runs

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    sort_date TEXT,
    risk_score REAL,
    content_hash TEXT,
    story_id TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_sort_date ON articles(sort_date);
CREATE INDEX IF NOT EXISTS articles_risk ON articles(risk_score);
CREATE INDEX IF NOT EXISTS articles_content_hash ON articles(content_hash);
CREATE INDEX IF NOT EXISTS articles_story ON articles(story_id);
CREATE TABLE IF NOT EXISTS facets (
    article INTEGER NOT NULL REFERENCES articles(rowid) ON DELETE CASCADE,
    field TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS facets_field_value ON facets(field, value, article);
-- covering: counting the facets of a set of hits reads the index only
CREATE INDEX IF NOT EXISTS facets_article_field_value ON facets(article, field, value);
DROP INDEX IF EXISTS facets_article;
-- newest first with the id tie-break, walked in order when a query matches many articles
CREATE INDEX IF NOT EXISTS articles_date_id ON articles(sort_date DESC, id);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    title, lead, text, chars, tokenize = 'unicode61 remove_diacritics 0'
);
"""

# bm25 column weights: title, lead, text, single CJK characters
_BM25 = "bm25(articles_fts, 4.0, 2.0, 1.0, 0.2)"
# A query matching at least this many articles lists them newest first by walking the date index
# (it stops after one page); fewer are sorted directly.
_DATE_WALK_MIN_HITS = 500


def _bucket(local: datetime, interval: str) -> str:
    """The histogram bucket of a moment (as Elasticsearch's calendar intervals): its first day, ISO."""
    if interval == "year":
        return date(local.year, 1, 1).isoformat()
    if interval == "month":
        return date(local.year, local.month, 1).isoformat()
    return local.date().isoformat()


def _iso(dt) -> str | None:
    """UTC ``YYYY-MM-DDTHH:MM:SS`` (four-digit year even before 1000, so the text sorts as dates)."""
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") if dt else None


def fts_phrase(phrase: str, *, prefix: bool = False) -> str | None:
    """The FTS5 expression for one phrase of the search syntax, or None when it has no
    searchable characters. With ``prefix`` the last word may continue (Хайфон finds Хайфоне)."""
    tokens: list[str] = []
    for is_bigram, piece in split_bigram_runs(fold(phrase)):
        if is_bigram:
            tokens.extend(bigrams(piece))
        else:
            tokens.extend(m.group(0) for m in WORD.finditer(piece))
    if not tokens:
        return None
    if len(tokens) == 1 and len(tokens[0]) == 1 and is_bigram_char(tokens[0]):
        return f'chars : "{tokens[0]}"'  # one CJK character: the column of single characters
    expr = '"' + " ".join(tokens) + '"'
    return expr + " *" if prefix and not is_bigram_char(tokens[-1][-1]) else expr


def fts_clause(clause: Clause, *, own: bool = False) -> str | None:
    """The FTS5 expression matching any of the clause's phrases and other names (only the user's
    own phrases with ``own``; labels are not text: see ``SqliteBackend._hit_set``), or None when
    none has searchable characters."""
    names = () if own else clause.names
    prefixes = () if own else clause.prefixes
    parts = [p for p in (*(fts_phrase(x) for x in (*clause.phrases, *names)),
                         *(fts_phrase(x, prefix=True) for x in prefixes)) if p]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


@dataclass(frozen=True)
class _HitSet:
    """The SQL of a query's hit set (``rowid``, ``rank``: bm25, lower is better; 0.0 when not ranked)
    and its parameters; ``match``: the full-text expression every clause's words make (ranks come
    from it); ``labelled``: some clause also matches by label (those hits are not ranked by text)."""

    sql: str
    params: list
    match: str | None
    labelled: bool = False
    own: str | None = None  # the expression of the user's own words, when a thesaurus added names


class QueryTimeout(RuntimeError):
    """A search ran past the backend's time limit."""


class SqliteBackend:
    """``index.Backend`` on one SQLite file. Safe to share between threads (one lock)."""

    name = "sqlite"

    def __init__(self, path: str | Path, *, time_limit_ms: int = 5000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(self.path, foreign_keys=True)
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        self._conn.commit()
        self._lock = threading.RLock()
        self.time_limit_ms = time_limit_ms

    # -- writing -------------------------------------------------------------------------

    def upsert(self, articles: Iterable[Article]) -> UpsertReport:
        report = UpsertReport()
        with self._lock, self._conn:
            for article in articles:
                doc = json.dumps(article.to_dict(), ensure_ascii=False, sort_keys=True)
                row = self._conn.execute("SELECT rowid, doc FROM articles WHERE id = ?", (article.id,)).fetchone()
                if row and row[1] == doc:
                    report.written.append(article.id)
                    continue
                if row:
                    rowid = row[0]
                    self._conn.execute(
                        "UPDATE articles SET sort_date=?, risk_score=?, content_hash=?, story_id=?, doc=? "
                        "WHERE rowid=?",
                        (_iso(article.date), article.risk_score, article.content_hash, article.story_id, doc, rowid),
                    )
                    self._conn.execute("DELETE FROM facets WHERE article = ?", (rowid,))
                    self._conn.execute("DELETE FROM articles_fts WHERE rowid = ?", (rowid,))
                else:
                    rowid = self._conn.execute(
                        "INSERT INTO articles(id, sort_date, risk_score, content_hash, story_id, doc) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (article.id, _iso(article.date), article.risk_score, article.content_hash,
                         article.story_id, doc),
                    ).lastrowid
                self._conn.executemany(
                    "INSERT INTO facets(article, field, value) VALUES (?, ?, ?)",
                    [(rowid, f, v) for f in FACET_FIELDS for v in set(article.facet_values(f))],
                )
                self._conn.execute(
                    "INSERT INTO articles_fts(rowid, title, lead, text, chars) VALUES (?, ?, ?, ?, ?)",
                    (rowid, search_form(article.title), search_form(article.lead), search_form(article.text),
                     bigram_chars(" ".join((article.title, article.lead, article.text)))),
                )
                report.written.append(article.id)
        return report

    # -- reading -------------------------------------------------------------------------

    def get(self, article_id: str) -> Article | None:
        with self._lock:
            row = self._conn.execute("SELECT doc FROM articles WHERE id = ?", (article_id,)).fetchone()
        return Article.from_dict(json.loads(row[0])) if row else None

    def find_by_content_hash(self, content_hash: str) -> Article | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT doc FROM articles WHERE content_hash = ? ORDER BY sort_date, rowid LIMIT 1", (content_hash,)
            ).fetchone()
        return Article.from_dict(json.loads(row[0])) if row else None

    def count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM articles").fetchone()[0]

    def iter_articles(self) -> Iterator[Article]:
        last = 0
        while True:
            with self._lock:
                rows = self._conn.execute(
                    "SELECT rowid, doc FROM articles WHERE rowid > ? ORDER BY rowid LIMIT 500", (last,)
                ).fetchall()
            if not rows:
                return
            for rowid, doc in rows:
                last = rowid
                yield Article.from_dict(json.loads(doc))

    def _where(self, query: SearchQuery, rowid: str = "a.rowid") -> tuple[str, list]:
        """SQL conditions for everything but the positive text match, on ``rowid`` only: each is
        a set of rowids read from an index (facets, dates, risk, excluded words), never a lookup
        of the wide articles rows, so the hit set comes from the indexes alone."""
        conds: list[str] = []
        params: list = []
        for facet, values in query.filters.items():
            marks = ",".join("?" * len(values))
            conds.append(f"{rowid} IN (SELECT article FROM facets WHERE field = ? AND value IN ({marks}))")
            params.extend([facet, *values])
        dates = [(op, _iso(when)) for op, when in ((">=", query.since), ("<=", query.until)) if when]
        if dates:
            conds.append(f"{rowid} IN (SELECT rowid FROM articles INDEXED BY articles_sort_date WHERE "
                         + " AND ".join(f"sort_date {op} ?" for op, _ in dates) + ")")
            params.extend(value for _, value in dates)
        if query.min_risk is not None:
            conds.append(f"{rowid} IN (SELECT rowid FROM articles INDEXED BY articles_risk WHERE risk_score >= ?)")
            params.append(query.min_risk)
        for clause in query.parsed.must_not:
            expr = fts_clause(clause)
            if expr:
                conds.append(f"{rowid} NOT IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
                params.append(expr)
        return (" AND ".join(conds) or "1"), params

    def _hit_set(self, query: SearchQuery) -> _HitSet | None:
        """The hit set of the query (see ``_HitSet``); None when the query can match nothing.

        Read from the indexes alone (full-text, facets, dates, risk). A clause that names labels
        (``chủ quyền`` -> topic sovereignty) also matches the articles carrying one: the clause is the
        union of its full-text matches and those articles, the clauses are intersected."""
        parsed = query.parsed
        must = [fts_clause(c) for c in parsed.must]
        if any(e is None and not c.labels for e, c in zip(must, parsed.must, strict=True)):
            return None  # a clause of words none of which is searchable
        text = " AND ".join(e for e in must if e) or None
        own = None  # the user's own words, ranked before the other spellings the thesaurus added
        own_parts = [fts_clause(c, own=True) for c in parsed.must]
        if parsed.is_expanded and all(own_parts):
            own = " AND ".join(e for e in own_parts if e)
            own = None if own == text else own
        if text and not parsed.has_labels:
            # "+": the sets are tested on each match; they never drive the full-text scan
            where, params = self._where(query, rowid="+articles_fts.rowid")
            return _HitSet(f"SELECT articles_fts.rowid AS rowid, {_BM25} AS rank FROM articles_fts "
                           f"WHERE articles_fts MATCH ? AND {where}", [text, *params], text, own=own)
        if not parsed.must:
            where, params = self._where(query)
            return _HitSet(f"SELECT a.rowid AS rowid, 0.0 AS rank FROM articles a WHERE {where}", params, None)
        sets: list[str] = []
        set_params: list = []
        for expr, clause in zip(must, parsed.must, strict=True):
            parts = []
            if expr:
                parts.append("SELECT rowid AS id FROM articles_fts WHERE articles_fts MATCH ?")
                set_params.append(expr)
            by_facet: dict[str, list[str]] = {}
            for facet, value in clause.labels:
                by_facet.setdefault(facet, []).append(value)
            for facet, values in by_facet.items():
                parts.append(f"SELECT article AS id FROM facets WHERE field = ? AND value IN "
                             f"({','.join('?' * len(values))})")
                set_params.extend([facet, *values])
            sets.append(f"SELECT id FROM ({' UNION '.join(parts)})")
        where, params = self._where(query, rowid="h.id")
        return _HitSet(f"SELECT h.id AS rowid, 0.0 AS rank FROM ({' INTERSECT '.join(sets)}) h WHERE {where}",
                       [*set_params, *params], text, labelled=True, own=own)

    def search(self, query: SearchQuery) -> SearchResult:
        """Hits of the query. The hit set (``rowid``, ``rank``) is read from the indexes alone
        (``_hit_set``); the page is then taken by rank (the k-th best rank first, so only the page's
        rows are joined and ordered with the id tie-break) or newest first (walking the date index
        when the query matches many). One time limit covers the count, the page and the facets:
        past it the count or page raises ``QueryTimeout``, the facets come back empty with
        ``timed_out`` set."""
        hit_set = self._hit_set(query)
        if hit_set is None:
            return SearchResult(total=0, hits=[], facets={})
        base, base_params, match = hit_set.sql, hit_set.params, hit_set.match
        timed_out = False
        facets: dict[str, list[tuple[str, int]]] = {}
        with self._lock:
            self._start_clock()
            try:
                try:
                    total = self._conn.execute(f"SELECT count(*) FROM ({base})", base_params).fetchone()[0]
                    if query.sort == "relevance" and (hit_set.labelled or hit_set.own):
                        rows = self._page_in_tiers(hit_set, query, query.limit, query.offset)
                    elif query.sort == "relevance" and match:
                        rows = self._page_by_rank(base, base_params, query.limit, query.offset)
                    else:
                        rows = self._page_by_date(base, base_params, match, query.limit, query.offset,
                                                  walk=total >= _DATE_WALK_MIN_HITS)
                except sqlite3.OperationalError as exc:
                    if "interrupted" in str(exc):
                        raise QueryTimeout(f"search took longer than {self.time_limit_ms} ms") from exc
                    raise
                if query.facets:
                    try:
                        facets = self._facets(base, base_params, query.facet_size)
                    except sqlite3.OperationalError as exc:
                        if "interrupted" not in str(exc):
                            raise
                        facets, timed_out = {name: [] for name in FACET_FIELDS}, True
            finally:
                self._conn.set_progress_handler(None, 0)
        phrases = query.parsed.positive_phrases()
        hits = []
        for doc, rank in rows:
            article = Article.from_dict(json.loads(doc))
            snippet = make_snippet([article.text, article.lead, article.title], phrases)
            hits.append(Hit(article=article, score=-float(rank), snippet=snippet))
        return SearchResult(total=total, hits=hits, facets=facets, timed_out=timed_out)

    def histogram(self, query: SearchQuery, interval: str = "day", timezone: str = "UTC") -> Histogram:
        """Article counts per calendar day (``day``), month (``month``) or year (``year``) of their date, in
        ``timezone``, for the query's hits. Under the backend's time limit: past it the counts so
        far come back with ``timed_out`` set."""
        from zoneinfo import ZoneInfo

        hit_set = self._hit_set(query)
        if hit_set is None:
            return Histogram()
        sql = f"SELECT a.sort_date FROM ({hit_set.sql}) h JOIN articles a ON a.rowid = h.rowid"
        params = hit_set.params
        tz = ZoneInfo(timezone)
        counts: dict[str, int] = {}
        timed_out = False
        with self._lock:
            self._start_clock()
            try:
                cursor = self._conn.execute(sql, params)
                while rows := cursor.fetchmany(1000):
                    for (value,) in rows:
                        if not value:
                            continue
                        moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
                        try:
                            local = moment.astimezone(tz)
                        except OverflowError:  # the last hours of year 9999, east of UTC
                            local = moment
                        key = _bucket(local, interval)
                        counts[key] = counts.get(key, 0) + 1
            except sqlite3.OperationalError as exc:
                if "interrupted" not in str(exc):
                    raise
                timed_out = True
            finally:
                self._conn.set_progress_handler(None, 0)
        return Histogram(sorted(counts.items()), timed_out=timed_out)

    def facet_histogram(self, query: SearchQuery, facet: str, interval: str = "day", timezone: str = "UTC",
                        size: int = 50) -> FacetHistogram:
        """Per bucket of the hits' dates (day, ISO week from Monday, month, year in ``timezone``), the
        count of each value of ``facet``; the ``size`` most frequent values of each bucket (ties by
        value), as Elasticsearch's terms under a date histogram. Under the time limit: past it the
        counts so far come back with ``timed_out`` set."""
        from datetime import timedelta
        from zoneinfo import ZoneInfo

        if facet not in FACET_FIELDS:
            raise ValueError(f"unknown facet {facet!r}")
        if interval not in ("day", "week", "month", "year"):
            raise ValueError(f"unknown interval {interval!r}")
        hit_set = self._hit_set(query)
        if hit_set is None:
            return FacetHistogram()
        sql = (f"SELECT a.sort_date, f.value FROM ({hit_set.sql}) h JOIN articles a ON a.rowid = h.rowid "
               f"JOIN facets f ON f.article = h.rowid AND f.field = ?")
        params = [*hit_set.params, facet]
        tz = ZoneInfo(timezone)
        counts: dict[tuple[str, str], int] = {}
        timed_out = False
        with self._lock:
            self._start_clock()
            try:
                cursor = self._conn.execute(sql, params)
                while rows := cursor.fetchmany(1000):
                    for when, value in rows:
                        if not when:
                            continue
                        moment = datetime.fromisoformat(when).replace(tzinfo=UTC)
                        try:
                            local = moment.astimezone(tz)
                        except OverflowError:
                            local = moment
                        if interval == "week":
                            day = local.date()
                            try:
                                key = (day - timedelta(days=day.weekday())).isoformat()
                            except OverflowError:  # the first days of year 1
                                key = date.min.isoformat()
                        else:
                            key = _bucket(local, interval)
                        counts[(key, value)] = counts.get((key, value), 0) + 1
            except sqlite3.OperationalError as exc:
                if "interrupted" not in str(exc):
                    raise
                timed_out = True
            finally:
                self._conn.set_progress_handler(None, 0)
        per_bucket: dict[str, list[tuple[str, int]]] = {}
        for (key, value), n in counts.items():
            per_bucket.setdefault(key, []).append((value, n))
        rows_out = [(key, value, n) for key in sorted(per_bucket)
                    for value, n in sorted(per_bucket[key], key=lambda vn: (-vn[1], vn[0]))[:size]]
        return FacetHistogram(rows_out, timed_out=timed_out)

    def refresh(self) -> None:
        """Writes are visible at once in SQLite; here for the Backend protocol."""

    def _page_in_tiers(self, hit_set: _HitSet, query: SearchQuery, limit: int, offset: int
                       ) -> list[tuple[str, float]]:
        """(doc, rank) of a page of a query a thesaurus expanded, in tiers: the articles with the
        user's own words in every clause, best first; then those matched through another spelling,
        best first; then those matched through a label, by id. Each tier is read like a text query."""
        where, params = self._where(query, rowid="+articles_fts.rowid")
        not_in = " AND {col} NOT IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"
        tiers: list[tuple[str, list, bool]] = []  # (sql, params, ranked by text)
        earlier: str | None = None  # the tiers are nested: excluding the one before excludes them all
        for expr in (hit_set.own, hit_set.match):
            if not expr:
                continue
            sql = (f"SELECT articles_fts.rowid AS rowid, {_BM25} AS rank FROM articles_fts "
                   f"WHERE articles_fts MATCH ? AND {where}")
            tier_params = [expr, *params]
            if earlier:
                sql += not_in.format(col="articles_fts.rowid")
                tier_params.append(earlier)
            tiers.append((sql, tier_params, True))
            earlier = expr
        if hit_set.labelled:
            sql, tier_params = hit_set.sql, list(hit_set.params)
            if earlier:
                sql += not_in.format(col="h.id")
                tier_params.append(earlier)
            tiers.append((sql, tier_params, False))
        rows: list[tuple[str, float]] = []
        skip, want = offset, limit
        for sql, tier_params, ranked in tiers:
            if want <= 0:
                break
            size = self._conn.execute(f"SELECT count(*) FROM ({sql})", tier_params).fetchone()[0]
            if skip >= size:
                skip -= size
                continue
            take = min(want, size - skip)
            if ranked:
                part = self._page_by_rank(sql, tier_params, take, skip)
            else:
                part = self._conn.execute(
                    f"SELECT a.doc, 0.0 FROM ({sql}) h JOIN articles a ON a.rowid = h.rowid ORDER BY a.id "
                    f"LIMIT ? OFFSET ?", [*tier_params, take, skip]).fetchall()
            rows += part
            want -= len(part)
            skip = 0
        return rows

    def _page_by_rank(self, base: str, params: list, limit: int, offset: int) -> list[tuple[str, float]]:
        """(doc, rank) of the page, best first, ties by id: the rank of the last row of the page
        is found first, so only the rows up to it are joined with the articles and sorted."""
        last = self._conn.execute(f"SELECT rank FROM ({base}) ORDER BY rank LIMIT 1 OFFSET ?",
                                  [*params, max(0, offset + limit - 1)]).fetchone()
        cut, cut_params = ("WHERE h.rank <= ?", [last[0]]) if last is not None else ("", [])
        return self._conn.execute(
            f"SELECT a.doc, h.rank FROM ({base}) h JOIN articles a ON a.rowid = h.rowid {cut} "
            f"ORDER BY h.rank, a.id LIMIT ? OFFSET ?", [*params, *cut_params, limit, offset]).fetchall()

    def _page_by_date(self, base: str, params: list, match: str | None, limit: int, offset: int, *,
                      walk: bool) -> list[tuple[str, float]]:
        """(doc, rank) of the page, newest first, ties by id. With ``walk`` the date index is read
        in order, keeping the hits, until the page is full (fast when the query matches many);
        the ranks of the page's rows are then read from the full-text index (``match``)."""
        if not walk:
            return self._conn.execute(
                f"SELECT a.doc, h.rank FROM ({base}) h JOIN articles a ON a.rowid = h.rowid "
                f"ORDER BY a.sort_date DESC, a.id LIMIT ? OFFSET ?", [*params, limit, offset]).fetchall()
        ids = [r[0] for r in self._conn.execute(
            f"SELECT a.rowid FROM articles a INDEXED BY articles_date_id WHERE a.rowid IN (SELECT rowid FROM ({base})) "
            f"ORDER BY a.sort_date DESC, a.id LIMIT ? OFFSET ?", [*params, limit, offset])]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        docs = dict(self._conn.execute(f"SELECT rowid, doc FROM articles WHERE rowid IN ({marks})", ids))
        ranks = dict(self._conn.execute(
            f"SELECT rowid, {_BM25} FROM articles_fts WHERE articles_fts MATCH ? AND rowid IN ({marks})",
            [match, *ids])) if match else {}
        return [(docs[i], ranks.get(i, 0.0)) for i in ids]

    def _facets(self, base: str, params: list, size: int) -> dict[str, list[tuple[str, int]]]:
        rows = self._conn.execute(
            f"SELECT f.field, f.value, count(*) AS n FROM ({base}) h JOIN facets f ON f.article = h.rowid "
            f"GROUP BY f.field, f.value ORDER BY f.field, n DESC, f.value",
            params,
        ).fetchall()
        out: dict[str, list[tuple[str, int]]] = {name: [] for name in FACET_FIELDS}
        for field_name, value, n in rows:
            if len(out[field_name]) < size:
                out[field_name].append((value, n))
        return out

    def _start_clock(self) -> None:
        deadline = time.monotonic() + self.time_limit_ms / 1000
        self._conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
