"""The embedded default backend: one SQLite file, WAL mode, FTS5 with folded text.

The full-text table holds ``index.text.search_form`` of each field (diacritics and case
folded, CJK/Thai as bigrams); queries are translated with the same function, so that
``hai phong`` finds ``Hải Phòng`` and ``海防`` finds Chinese text. Facets and filters use one
``facets`` table (article, field, value) so list-valued labels count like the others.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from hpbase.schema import Schema, migrate, stored_version
from index.article import FACET_FIELDS, Article, translated_text
from index.backend import FacetHistogram, UpsertReport
from index.db import connect
from index.highlight import make_snippet
from index.query import Clause, Histogram, Hit, SearchQuery, SearchResult
from index.text import WORD, bigram_chars, bigrams, fold, is_bigram_char, search_form, split_bigram_runs

logger = logging.getLogger(__name__)

# Step 1 is the schema as it was before versions (IF NOT EXISTS: such a file is adopted as it is);
# each later change is a step appended at the end, never an edit of an old one (hpbase.schema).
_STEP_1 = """
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
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1');
"""

# Step 2: what counting needs of each article in one narrow row (the facets and the histograms read
# it, never the wide articles rows): each (facet, value) numbered once in facet_codes, and per article
# its date in seconds and its values' codes packed (see pack_codes). Filled from the facets table of
# an existing file, in the step's transaction (hpmon_pack_codes is SqliteBackend's SQL function).
_STEP_2 = """
CREATE TABLE facet_codes (
    code INTEGER PRIMARY KEY,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (field, value)
);
CREATE TABLE article_facets (
    article INTEGER PRIMARY KEY REFERENCES articles(rowid) ON DELETE CASCADE,
    at INTEGER,          -- sort_date as seconds since 1970-01-01 UTC
    codes BLOB NOT NULL  -- the codes of its facet values, 4 bytes each (pack_codes)
);
INSERT INTO facet_codes(field, value) SELECT DISTINCT field, value FROM facets ORDER BY field, value;
INSERT INTO article_facets(article, at, codes)
SELECT a.rowid, CAST(strftime('%s', a.sort_date) AS INTEGER),
       hpmon_pack_codes((SELECT group_concat(c.code) FROM facets f
                         JOIN facet_codes c ON c.field = f.field AND c.value = f.value WHERE f.article = a.rowid))
FROM articles a;
"""

SCHEMA = Schema("index", (_STEP_1, _STEP_2))

_FIELDS = tuple(FACET_FIELDS)  # a facet's position: the field of a code in SqliteBackend._field_of
_FIELD_INDEX = {name: i for i, name in enumerate(_FIELDS)}
_MAX_CODE = (1 << 28) - 1
_EPOCH = datetime(1970, 1, 1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# A filter matching at least this many articles is tested on each candidate's narrow row rather than
# collected as a set of rowids (SqliteBackend._where).
_FEW = 5000
# the candidate's narrow row, joined after the full-text match (CROSS: the match drives)
_NARROW_JOIN = " CROSS JOIN article_facets c ON c.article = articles_fts.rowid"
_CHUNK = 20_000  # rows read at a time when counting a hit set (memory stays bounded)
_VALUE_FETCH_MAX = 2000  # tied values read one by one up to this many; beyond, walk the values in order


def pack_codes(codes: Iterable[int]) -> bytes:
    """Facet codes as bytes: 4 per code, 7 bits in each, only the first with its high bit set, so that
    a code's bytes can only be found (``instr``) where a code starts."""
    out = bytearray()
    for code in codes:
        if not 0 <= code <= _MAX_CODE:
            raise ValueError(f"facet code {code} out of range")
        out += bytes((0x80 | code >> 21, code >> 14 & 0x7F, code >> 7 & 0x7F, code & 0x7F))
    return bytes(out)


def unpack_codes(blob: bytes) -> np.ndarray:
    """The codes ``pack_codes`` packed (of one article or of several joined), as an array."""
    b = np.frombuffer(blob, dtype=np.uint8).reshape(-1, 4).astype(np.int64)
    return (b[:, 0] & 0x7F) << 21 | b[:, 1] << 14 | b[:, 2] << 7 | b[:, 3]


def _pack_codes_text(joined: str | None) -> bytes:
    """SQL ``hpmon_pack_codes(group_concat(code))``: the packed codes of a comma-separated list."""
    return pack_codes(int(c) for c in joined.split(",")) if joined else b""


def _epoch_seconds(dt: datetime | None) -> int | None:
    """Whole seconds since 1970 UTC of a date, as ``_iso`` stores it (and SQLite's strftime('%s') reads it)."""
    if dt is None:
        return None
    return (dt.astimezone(UTC).replace(tzinfo=None, microsecond=0) - _EPOCH) // timedelta(seconds=1)


_UNKNOWN = object()  # the page's last rank is not known yet (SqliteBackend._page_by_rank)


class _PastDeadline(Exception):
    """Counting in Python ran past the time limit (SQLite's own statements are interrupted instead)."""


# bm25 column weights: title, lead, text, single CJK characters
_BM25 = "bm25(articles_fts, 4.0, 2.0, 1.0, 0.2)"
# A query matching at least this many articles lists them newest first by walking the date index
# (it stops after one page); fewer are sorted directly.
_DATE_WALK_MIN_HITS = 500


def _bucket(local: date, interval: str) -> str:
    """The histogram bucket of a local day (as Elasticsearch's calendar intervals): its first day, ISO."""
    if interval == "year":
        return date(local.year, 1, 1).isoformat()
    if interval == "month":
        return date(local.year, local.month, 1).isoformat()
    return local.isoformat()


def _day_date(day: int) -> date:
    """The date of a day number (days since 1970-01-01)."""
    return date.fromordinal(day + _EPOCH_ORDINAL)


def _local_day_of(at: int, tz) -> int:
    """The local day number of one moment in ``tz`` (UTC when the local time is past the calendar)."""
    moment = (_EPOCH + timedelta(seconds=at)).replace(tzinfo=UTC)
    try:
        local = moment.astimezone(tz)
    except OverflowError:  # the last hours of year 9999 east of UTC, the first of year 1 west of it
        local = moment
    return local.date().toordinal() - _EPOCH_ORDINAL


def _day_offset(day: int, tz) -> int | None:
    """The UTC offset in seconds of ``tz`` during the whole UTC day ``day``, or None when it changes
    that day (or the day is at an end of the calendar)."""
    start = day * 86400
    offsets = set()
    try:
        for t in (*range(start, start + 86400, 3600), start + 86399):
            offsets.add((_EPOCH + timedelta(seconds=t)).replace(tzinfo=UTC).astimezone(tz).utcoffset())
            if len(offsets) > 1:
                return None
    except OverflowError:
        return None
    return int(offsets.pop().total_seconds())  # every local time of the day is in the calendar


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
        self._conn.create_function("hpmon_pack_codes", 1, _pack_codes_text, deterministic=True)
        before = stored_version(self._conn, SCHEMA.store)
        if before < SCHEMA.version and self._conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles'"
                                                          ).fetchone():
            logger.info("index %s: upgrading its schema from version %d to %d (once; may take a minute on "
                        "a large index)", self.path, before, SCHEMA.version)
        migrate(self._conn, SCHEMA)
        self._lock = threading.RLock()
        self.time_limit_ms = time_limit_ms
        self._deadline = float("inf")
        self._codes: dict[tuple[str, str], int] = {}  # (facet, value) -> code, a bounded cache
        self._new_codes: dict[tuple[str, str], int] = {}  # numbered in the write not yet committed
        self._field_of = np.full(0, -1, dtype=np.int8)  # code -> position of its facet in _FIELDS
        self._day_offsets: dict[tuple[str, int], int | None] = {}  # (zone, UTC day) -> its one UTC offset, s

    # -- writing -------------------------------------------------------------------------

    def upsert(self, articles: Iterable[Article]) -> UpsertReport:
        report = UpsertReport()
        with self._lock:
            try:
                with self._conn:
                    for article in articles:
                        self._upsert_one(article, report)
            except BaseException:
                self._new_codes.clear()  # rolled back: those codes were never stored
                raise
            if len(self._codes) + len(self._new_codes) > 100_000:
                self._codes.clear()
            self._codes.update(self._new_codes)
            self._new_codes.clear()
        return report

    def _upsert_one(self, article: Article, report: UpsertReport) -> None:
        doc = json.dumps(article.to_dict(), ensure_ascii=False, sort_keys=True)
        row = self._conn.execute("SELECT rowid, doc FROM articles WHERE id = ?", (article.id,)).fetchone()
        if row and row[1] == doc:
            report.written.append(article.id)
            return
        if row:
            rowid = row[0]
            self._conn.execute(
                "UPDATE articles SET sort_date=?, risk_score=?, content_hash=?, story_id=?, doc=? WHERE rowid=?",
                (_iso(article.date), article.risk_score, article.content_hash, article.story_id, doc, rowid),
            )
            self._conn.execute("DELETE FROM facets WHERE article = ?", (rowid,))
            self._conn.execute("DELETE FROM articles_fts WHERE rowid = ?", (rowid,))
        else:
            rowid = self._conn.execute(
                "INSERT INTO articles(id, sort_date, risk_score, content_hash, story_id, doc) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (article.id, _iso(article.date), article.risk_score, article.content_hash, article.story_id, doc),
            ).lastrowid
        values = [(f, v) for f in FACET_FIELDS for v in sorted(set(article.facet_values(f)))]
        self._conn.executemany("INSERT INTO facets(article, field, value) VALUES (?, ?, ?)",
                               [(rowid, f, v) for f, v in values])
        self._conn.execute(
            "INSERT INTO article_facets(article, at, codes) VALUES (?, ?, ?) "
            "ON CONFLICT(article) DO UPDATE SET at = excluded.at, codes = excluded.codes",
            (rowid, _epoch_seconds(article.date), pack_codes(self._code(f, v) for f, v in values)),
        )
        # machine translations of title and lead are searched with the lead: a Vietnamese query finds a
        # translated Chinese article, ranked below one whose own title says it
        translated = translated_text(article)
        lead = " ".join(filter(None, (article.lead, translated)))
        self._conn.execute(
            "INSERT INTO articles_fts(rowid, title, lead, text, chars) VALUES (?, ?, ?, ?, ?)",
            (rowid, search_form(article.title), search_form(lead), search_form(article.text),
             bigram_chars(" ".join((article.title, lead, article.text)))),
        )
        report.written.append(article.id)

    def _code(self, field: str, value: str) -> int:
        """The code of a facet value, numbered on first use (codes are never renumbered or reused,
        so a code read by another process stays valid)."""
        key = (field, value)
        code = self._codes.get(key)
        if code is None:
            code = self._new_codes.get(key)
        if code is None:
            self._conn.execute("INSERT OR IGNORE INTO facet_codes(field, value) VALUES (?, ?)", key)
            code = self._conn.execute("SELECT code FROM facet_codes WHERE field = ? AND value = ?", key).fetchone()[0]
            self._new_codes[key] = code
        return code

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

    def _where(self, query: SearchQuery, rowid: str = "a.rowid", narrow: str | None = None
               ) -> tuple[str, list, bool]:
        """SQL conditions for everything but the positive text match, and whether they read the
        article's narrow row (``article_facets`` under the alias ``narrow``; the caller joins it).

        A filter that few articles match (a story, a source, a day) is a set of rowids read from an
        index (facets, dates), tested on each candidate; one that many match (a language, a year)
        would cost more to collect than to test, so with ``narrow`` it is tested on the candidate's
        own row instead (its packed codes, ``instr``; its date in seconds). Risk and excluded words
        are sets read from their indexes. The wide articles rows are never read."""
        conds: list[str] = []
        params: list = []
        joined = False
        for facet, values in query.filters.items():
            marks = ",".join("?" * len(values))
            if narrow and self._many(f"SELECT 1 FROM facets WHERE field = ? AND value IN ({marks})", [facet, *values]):
                codes = [c for c in (self._stored_code(facet, v) for v in values) if c is not None]
                conds.append("(" + " OR ".join(f"instr({narrow}.codes, ?) > 0" for _ in codes) + ")" if codes else "0")
                params.extend(pack_codes([c]) for c in codes)
                joined = True
                continue
            conds.append(f"{rowid} IN (SELECT article FROM facets WHERE field = ? AND value IN ({marks}))")
            params.extend([facet, *values])
        dates = [(op, when) for op, when in ((">=", query.since), ("<=", query.until)) if when]
        if dates:
            between = " AND ".join(f"sort_date {op} ?" for op, _ in dates)
            in_range = [_iso(when) for _, when in dates]
            if narrow and self._many(f"SELECT 1 FROM articles INDEXED BY articles_sort_date WHERE {between}",
                                     in_range):
                conds.append(" AND ".join(f"{narrow}.at {op} ?" for op, _ in dates))
                params.extend(_epoch_seconds(when) for _, when in dates)
                joined = True
            else:
                conds.append(f"{rowid} IN (SELECT rowid FROM articles INDEXED BY articles_sort_date WHERE {between})")
                params.extend(in_range)
        if query.min_risk is not None:
            conds.append(f"{rowid} IN (SELECT rowid FROM articles INDEXED BY articles_risk WHERE risk_score >= ?)")
            params.append(query.min_risk)
        for clause in query.parsed.must_not:
            expr = fts_clause(clause)
            if expr:
                conds.append(f"{rowid} NOT IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
                params.append(expr)
        return (" AND ".join(conds) or "1"), params, joined

    def _many(self, sql: str, params: list) -> bool:
        """True when ``sql`` has at least ``_FEW`` rows (reads at most that many)."""
        return self._conn.execute(f"SELECT count(*) FROM ({sql} LIMIT {_FEW})", params).fetchone()[0] >= _FEW

    def _stored_code(self, field: str, value: str) -> int | None:
        """The code of a facet value, None when no article ever had it."""
        code = self._codes.get((field, value))
        if code is None:
            row = self._conn.execute("SELECT code FROM facet_codes WHERE field = ? AND value = ?",
                                     (field, value)).fetchone()
            code = row[0] if row else None
        return code

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
            where, params, joined = self._where(query, rowid="+articles_fts.rowid", narrow="c")
            return _HitSet(f"SELECT articles_fts.rowid AS rowid, {_BM25} AS rank FROM articles_fts"
                           f"{_NARROW_JOIN if joined else ''} WHERE articles_fts MATCH ? AND {where}",
                           [text, *params], text, own=own)
        if not parsed.must:
            where, params, _ = self._where(query, narrow="a")
            # every article has its narrow article_facets row: the wide articles rows are never read
            return _HitSet(f"SELECT a.rowid AS rowid, 0.0 AS rank FROM article_facets a WHERE {where}", params,
                           None)
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
        where, params, joined = self._where(query, rowid="h.id", narrow="c")
        join = " CROSS JOIN article_facets c ON c.article = h.id" if joined else ""
        return _HitSet(f"SELECT h.id AS rowid, 0.0 AS rank FROM ({' INTERSECT '.join(sets)}) h{join} WHERE {where}",
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
        tiers = query.sort == "relevance" and (hit_set.labelled or hit_set.own)
        by_rank = query.sort == "relevance" and bool(match) and not tiers
        with self._lock:
            self._start_clock()
            try:
                try:
                    counted = None
                    if query.facets:  # one pass gives the count, the facets and the best hits for the page
                        try:
                            counted = self._count_pass(base, base_params, codes=query.facets,
                                                       best=query.offset + query.limit if by_rank else 0)
                        except _PastDeadline:  # the hits and the page alone, if SQLite can still give them
                            timed_out = query.facets
                    total = counted[0] if counted else self._conn.execute(f"SELECT count(*) FROM ({base})",
                                                                          base_params).fetchone()[0]
                    if tiers:
                        rows = self._page_in_tiers(hit_set, query, query.limit, query.offset)
                    elif by_rank and not query.limit:
                        rows = []
                    elif by_rank and counted:  # the pass kept the best hits: no second pass
                        rows = self._page_of_best(counted[3], query.limit, query.offset)
                    elif by_rank:
                        rows = self._page_by_rank(base, base_params, query.limit, query.offset)
                    else:
                        rows = self._page_by_date(base, base_params, match, query.limit, query.offset,
                                                  walk=total >= _DATE_WALK_MIN_HITS)
                except sqlite3.OperationalError as exc:
                    if "interrupted" in str(exc):
                        raise QueryTimeout(f"search took longer than {self.time_limit_ms} ms") from exc
                    raise
                except _PastDeadline as exc:
                    raise QueryTimeout(f"search took longer than {self.time_limit_ms} ms") from exc
                if query.facets and counted:
                    try:
                        self._check_deadline()
                        facets = self._facet_lists(counted[2], query.facet_size)
                    except sqlite3.OperationalError as exc:
                        if "interrupted" not in str(exc):
                            raise
                        timed_out = True
                    except _PastDeadline:
                        timed_out = True
                if timed_out:
                    facets = {name: [] for name in FACET_FIELDS}
            finally:
                self._stop_clock()
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
        sql = (f"SELECT c.at FROM ({hit_set.sql}) h CROSS JOIN article_facets c ON c.article = h.rowid "
               "WHERE c.at IS NOT NULL")
        tz = ZoneInfo(timezone)
        per_day: dict[int, int] = {}
        timed_out = False
        with self._lock:
            self._start_clock()
            try:
                for rows in self._chunks(sql, hit_set.params):
                    days = self._local_days(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), tz)
                    for day, n in zip(*np.unique(days, return_counts=True), strict=True):
                        per_day[int(day)] = per_day.get(int(day), 0) + int(n)
            except _PastDeadline:
                timed_out = True
            finally:
                self._stop_clock()
        counts: dict[str, int] = {}
        for day, n in per_day.items():
            key = _bucket(_day_date(day), interval)
            counts[key] = counts.get(key, 0) + n
        return Histogram(sorted(counts.items()), timed_out=timed_out)

    def facet_histogram(self, query: SearchQuery, facet: str, interval: str = "day", timezone: str = "UTC",
                        size: int = 50) -> FacetHistogram:
        """Per bucket of the hits' dates (day, ISO week from Monday, month, year in ``timezone``), the
        count of each value of ``facet``; the ``size`` most frequent values of each bucket (ties by
        value), as Elasticsearch's terms under a date histogram. Under the time limit: past it the
        counts so far come back with ``timed_out`` set."""
        from zoneinfo import ZoneInfo

        if facet not in FACET_FIELDS:
            raise ValueError(f"unknown facet {facet!r}")
        if interval not in ("day", "week", "month", "year"):
            raise ValueError(f"unknown interval {interval!r}")
        hit_set = self._hit_set(query)
        if hit_set is None:
            return FacetHistogram()
        sql = (f"SELECT c.at, c.codes FROM ({hit_set.sql}) h CROSS JOIN article_facets c ON c.article = h.rowid "
               "WHERE c.at IS NOT NULL")
        tz = ZoneInfo(timezone)
        wanted = _FIELD_INDEX[facet]
        per_day: dict[tuple[int, int], int] = {}  # (local day, code) -> articles
        timed_out = False
        with self._lock:
            self._start_clock()
            try:
                for rows in self._chunks(sql, hit_set.params):
                    days = self._local_days(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), tz)
                    codes = unpack_codes(b"".join(r[1] for r in rows))
                    if not len(codes):
                        continue
                    days = np.repeat(days, [len(r[1]) // 4 for r in rows])
                    keep = self._fields_of(codes) == wanted
                    keys = days[keep] * (_MAX_CODE + 1) + codes[keep]
                    for key, n in zip(*np.unique(keys, return_counts=True), strict=True):
                        k = (int(key) // (_MAX_CODE + 1), int(key) % (_MAX_CODE + 1))
                        per_day[k] = per_day.get(k, 0) + int(n)
            except _PastDeadline:
                timed_out = True
            finally:
                self._stop_clock()
            names = self._values({code for _, code in per_day})
        counts: dict[tuple[str, str], int] = {}
        for (day, code), n in per_day.items():
            local = _day_date(day)
            key = (local - timedelta(days=local.weekday())).isoformat() if interval == "week" else _bucket(local,
                                                                                                           interval)
            counts[(key, names[code])] = counts.get((key, names[code]), 0) + n
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
        where, params, joined = self._where(query, rowid="+articles_fts.rowid", narrow="c")
        join = _NARROW_JOIN if joined else ""
        not_in = " AND {col} NOT IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"
        tiers: list[tuple[str, list, bool]] = []  # (sql, params, ranked by text)
        earlier: str | None = None  # the tiers are nested: excluding the one before excludes them all
        for expr in (hit_set.own, hit_set.match):
            if not expr:
                continue
            sql = (f"SELECT articles_fts.rowid AS rowid, {_BM25} AS rank FROM articles_fts{join} "
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

    def _page_by_rank(self, base: str, params: list, limit: int, offset: int,
                      cut: float | None | object = _UNKNOWN) -> list[tuple[str, float]]:
        """(doc, rank) of the page, best first, ties by id: the rank of the last row of the page
        (``cut``, when the caller found it already; None: fewer hits than that) is found first, so
        only the rows up to it are joined with the articles and sorted."""
        if cut is _UNKNOWN:
            last = self._conn.execute(f"SELECT rank FROM ({base}) ORDER BY rank LIMIT 1 OFFSET ?",
                                      [*params, max(0, offset + limit - 1)]).fetchone()
            cut = last[0] if last is not None else None
        cut, cut_params = ("WHERE h.rank <= ?", [cut]) if cut is not None else ("", [])
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

    def _count_pass(self, base: str, params: list, *, codes: bool, best: int
                    ) -> tuple[int, float | None, np.ndarray, list[tuple[float, int]]]:
        """One pass over the hits, a chunk at a time: (how many; the ``best``-th best rank, None when
        ``best`` is 0 or there are fewer hits; how many hits carry each facet code when ``codes``;
        (rank, rowid) of every hit ranked at or above that rank, ties included). Only those best
        hits are kept between chunks, so memory does not grow with the hits."""
        columns = ", ".join([*(["h.rank", "h.rowid"] if best else []), *(["c.codes"] if codes else [])]) or "1"
        join = " CROSS JOIN article_facets c ON c.article = h.rowid" if codes else ""
        total = 0
        ranks = np.zeros(0, dtype=np.float64)
        rowids = np.zeros(0, dtype=np.int64)
        counts = np.zeros(0, dtype=np.int64)
        for rows in self._chunks(f"SELECT {columns} FROM ({base}) h{join}", params):
            total += len(rows)
            if best:
                ranks = np.concatenate([ranks, np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows))])
                rowids = np.concatenate([rowids, np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))])
                if len(ranks) > best:
                    keep = ranks <= np.partition(ranks, best - 1)[best - 1]
                    ranks, rowids = ranks[keep], rowids[keep]
            if codes:
                found = unpack_codes(b"".join(r[-1] for r in rows))
                if len(found):
                    part = np.bincount(found)
                    if len(part) > len(counts):
                        part[:len(counts)] += counts
                        counts = part
                    else:
                        counts[:len(part)] += part
        cut = float(np.partition(ranks, best - 1)[best - 1]) if best and len(ranks) >= best else None
        return total, cut, counts, list(zip(ranks.tolist(), rowids.tolist(), strict=True))

    def _page_of_best(self, best: list[tuple[float, int]], limit: int, offset: int) -> list[tuple[str, float]]:
        """(doc, rank) of the page among the best hits ``_count_pass`` kept: by rank, ties by id."""
        ids: dict[int, str] = {}
        rowids = [r for _, r in best]
        for i in range(0, len(rowids), 500):
            part = rowids[i:i + 500]
            marks = ",".join("?" * len(part))
            ids.update(self._conn.execute(f"SELECT rowid, id FROM articles WHERE rowid IN ({marks})", part))
        page = sorted(best, key=lambda rr: (rr[0], ids[rr[1]]))[offset:offset + limit]
        if not page:
            return []
        marks = ",".join("?" * len(page))
        docs = dict(self._conn.execute(f"SELECT rowid, doc FROM articles WHERE rowid IN ({marks})",
                                       [r for _, r in page]))
        return [(docs[r], rank) for rank, r in page]

    def _facet_lists(self, counts: np.ndarray, size: int) -> dict[str, list[tuple[str, int]]]:
        """The ``size`` most frequent values of each facet (ties by value) from per-code counts."""
        present = np.flatnonzero(counts)
        fields = self._fields_of(present)
        out: dict[str, list[tuple[str, int]]] = {name: [] for name in FACET_FIELDS}
        for i, name in enumerate(_FIELDS):
            codes = present[fields == i]
            if len(codes):
                out[name] = self._top(i, codes, counts[codes], size)
        return out

    def _top(self, field: int, codes: np.ndarray, counts: np.ndarray, size: int) -> list[tuple[str, int]]:
        """(value, count) of the ``size`` codes with the highest counts, ties by value (as SQL's
        ``ORDER BY n DESC, value``). Values are read only for those codes; when many codes tie for the
        last places (a facet with a value per article, as ``story``), the facet's values are walked in
        order (its unique index) until enough of the tied codes are found."""
        chosen = codes
        if len(codes) > size:
            last = np.sort(counts)[::-1][size - 1]
            above, tied = codes[counts > last], codes[counts == last]
            need = size - len(above)
            if len(tied) > need:
                tied = self._smallest_values(field, tied, need)
            chosen = np.concatenate([above, tied])
        by_code = dict(zip(codes.tolist(), counts.tolist(), strict=True))
        names = self._values(set(chosen.tolist()))
        return sorted(((names[c], by_code[c]) for c in chosen.tolist()), key=lambda vn: (-vn[1], vn[0]))[:size]

    def _smallest_values(self, field: int, codes: np.ndarray, need: int) -> np.ndarray:
        """The ``need`` codes of ``codes`` (all of facet ``field``) whose values sort first."""
        if len(codes) <= _VALUE_FETCH_MAX:
            names = self._values(set(codes.tolist()))
            return np.array(sorted(codes.tolist(), key=lambda c: names[c])[:need], dtype=np.int64)
        wanted = np.zeros(int(codes.max()) + 1, dtype=bool)
        wanted[codes] = True
        found: list[int] = []
        cursor = self._conn.execute("SELECT code FROM facet_codes WHERE field = ? ORDER BY value", (_FIELDS[field],))
        while len(found) < need and (rows := cursor.fetchmany(1000)):
            self._check_deadline()
            found.extend(c for (c,) in rows if c < len(wanted) and wanted[c])
        cursor.close()
        return np.array(found[:need], dtype=np.int64)

    def _values(self, codes: set[int]) -> dict[int, str]:
        """code -> value, read for these codes only."""
        out: dict[int, str] = {}
        ordered = sorted(codes)
        for i in range(0, len(ordered), 500):
            part = ordered[i:i + 500]
            out.update(self._conn.execute(
                f"SELECT code, value FROM facet_codes WHERE code IN ({','.join('?' * len(part))})", part))
        return out

    def _fields_of(self, codes: np.ndarray) -> np.ndarray:
        """The position in ``_FIELDS`` of each code's facet (-1 for a facet this hpmon does not know).
        Codes only grow, so the table is read once and then only for the codes numbered since."""
        top = int(codes.max()) if len(codes) else -1
        if top >= len(self._field_of):
            known = len(self._field_of)
            rows = self._conn.execute("SELECT code, field FROM facet_codes WHERE code >= ? ORDER BY code",
                                      (known,)).fetchall()
            grown = np.full(max(top + 1, rows[-1][0] + 1 if rows else 0), -1, dtype=np.int8)
            grown[:known] = self._field_of
            for code, name in rows:
                grown[code] = _FIELD_INDEX.get(name, -1)
            self._field_of = grown
        return self._field_of[codes] if len(codes) else np.zeros(0, dtype=np.int8)

    def _local_days(self, at: np.ndarray, tz) -> np.ndarray:
        """The local calendar day in ``tz`` (days since 1970-01-01) of each moment (seconds since 1970 UTC).

        Vectorised per UTC day: a day whose UTC offset is the same at each hour and at its last second
        shifts all its moments by that offset (no zone changes its offset twice within an hour); the
        moments of a day with a change, or at the ends of the calendar, are converted one by one,
        exactly as ``datetime.astimezone`` does (past year 9999 or before year 1 they keep UTC)."""
        utc_days = at // 86400
        days, inverse = np.unique(utc_days, return_inverse=True)
        offsets = np.zeros(len(days), dtype=np.int64)
        exact = np.ones(len(days), dtype=bool)
        zone = str(tz)
        for i, day in enumerate(days.tolist()):
            key = (zone, day)
            if key not in self._day_offsets:
                if len(self._day_offsets) > 200_000:
                    self._day_offsets.clear()
                self._day_offsets[key] = _day_offset(day, tz)
            offset = self._day_offsets[key]
            if offset is None:
                exact[i] = False
            else:
                offsets[i] = offset
        local = (at + offsets[inverse]) // 86400
        slow = ~exact[inverse]
        if slow.any():
            local[slow] = [_local_day_of(int(t), tz) for t in at[slow].tolist()]
        return local

    def _chunks(self, sql: str, params: list) -> Iterator[list[tuple]]:
        """The rows of ``sql``, ``_CHUNK`` at a time, each chunk under the time limit."""
        cursor = self._conn.execute(sql, params)
        try:
            while True:
                self._check_deadline()
                try:
                    rows = cursor.fetchmany(_CHUNK)
                except sqlite3.OperationalError as exc:
                    if "interrupted" in str(exc):
                        raise _PastDeadline from exc
                    raise
                if not rows:
                    return
                yield rows
        finally:
            cursor.close()

    def _check_deadline(self) -> None:
        if time.monotonic() > self._deadline:
            raise _PastDeadline

    def _start_clock(self) -> None:
        deadline = self._deadline = time.monotonic() + self.time_limit_ms / 1000
        self._conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)

    def _stop_clock(self) -> None:
        self._deadline = float("inf")
        self._conn.set_progress_handler(None, 0)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
