"""The rebuttal queue: cases, their workflow rules and their audit trail.

A case gathers the articles of one story that the office must answer, the evidence frozen
when they entered the queue, library documents, notes and the rebuttal itself. It moves
through these states (``TRANSITIONS`` is the whole rule book)::

    new ─► triaged ─► drafting ─► awaiting_approval ─► published
     │        │  ▲        │   ▲            │
     │        │  └────────┘   └────────────┘ (returned for changes)
     └────────┴───────────┴────────────────┴─► dismissed ─► triaged (reopened)

* publishing IS the approval: only ``awaiting_approval → published``, only by someone holding
  the ``approver`` role, and only with the URL where the rebuttal was published;
* a case goes to ``awaiting_approval`` only with a rebuttal drafted (claim, verdict, text);
* dismissing, and reopening a dismissed case, need a reason;
* every change writes one audit entry (who, what, when, from which state, to which state);
  the audit and evidence tables refuse updates and deletes (SQLite triggers).

Everything lives in the office's SQLite file (tables ``case_*``). Crawled text stored here is
hostile: whoever displays it escapes it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hpbase.clock import iso, utcnow
from hpbase.schema import Schema, migrate
from index.article import Article
from index.db import connect
from index.text import bigram_chars, search_form
from records.library import distinctive_terms, match_any, weighted_bm25

STATES = ("new", "triaged", "drafting", "awaiting_approval", "published", "dismissed")
OPEN_STATES = ("new", "triaged", "drafting", "awaiting_approval")
STATE_LABELS: dict[str, dict[str, str]] = {
    "new": {"vi": "Mới", "en": "New"},
    "triaged": {"vi": "Đã phân loại", "en": "Triaged"},
    "drafting": {"vi": "Đang soạn phản bác", "en": "Drafting"},
    "awaiting_approval": {"vi": "Chờ phê duyệt", "en": "Awaiting approval"},
    "published": {"vi": "Đã đăng phản bác", "en": "Published"},
    "dismissed": {"vi": "Đã bỏ qua", "en": "Dismissed"},
}
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"triaged", "dismissed"}),
    "triaged": frozenset({"drafting", "dismissed"}),
    "drafting": frozenset({"triaged", "awaiting_approval", "dismissed"}),
    "awaiting_approval": frozenset({"drafting", "published", "dismissed"}),
    "published": frozenset(),
    "dismissed": frozenset({"triaged"}),
}
APPROVER_ROLE = "approver"

PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_LABELS: dict[str, dict[str, str]] = {
    "low": {"vi": "Thấp", "en": "Low"},
    "normal": {"vi": "Bình thường", "en": "Normal"},
    "high": {"vi": "Cao", "en": "High"},
    "urgent": {"vi": "Khẩn", "en": "Urgent"},
}
# Hours from opening to the due time, by priority.
DEFAULT_DUE_HOURS = {"urgent": 4, "high": 24, "normal": 72, "low": 168}

# ClaimReview ratings: (ratingValue on 1..5, Vietnamese name, English name).
VERDICTS: dict[str, tuple[int, str, str]] = {
    "false": (1, "Sai sự thật", "False"),
    "distorted": (2, "Xuyên tạc", "Distorted"),
    "misleading": (3, "Gây hiểu lầm", "Misleading"),
    "missing_context": (4, "Thiếu bối cảnh", "Missing context"),
}

MAX_NOTE_CHARS = 20_000
MAX_REBUTTAL_CHARS = 100_000
MAX_ARTICLE_CHARS = 200_000
MAX_REASON_CHARS = 2_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS case_cases (
    id INTEGER PRIMARY KEY,
    queue_key TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL,
    story_id TEXT,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    language TEXT,
    state TEXT NOT NULL CHECK (state IN ('new', 'triaged', 'drafting', 'awaiting_approval', 'published',
                                         'dismissed')),
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    assignee TEXT,
    due_at TEXT,
    risk_score REAL,
    risk_reasons TEXT NOT NULL DEFAULT '[]',
    dismiss_reason TEXT,
    claim TEXT,
    verdict TEXT,
    rebuttal TEXT,
    rebuttal_language TEXT,
    submitted_by TEXT,
    approved_by TEXT,
    approved_at TEXT,
    published_url TEXT,
    published_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS case_cases_state ON case_cases(state, due_at);
CREATE TABLE IF NOT EXISTS case_articles (
    case_id INTEGER NOT NULL REFERENCES case_cases(id),
    article_id TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    outlet TEXT,
    language TEXT,
    published_at TEXT,
    text TEXT NOT NULL,
    role TEXT NOT NULL,
    risk_score REAL,
    added_at TEXT NOT NULL,
    added_by TEXT NOT NULL,
    PRIMARY KEY (case_id, article_id)
);
CREATE INDEX IF NOT EXISTS case_articles_article ON case_articles(article_id);
CREATE TABLE IF NOT EXISTS case_notes (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES case_cases(id),
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS case_documents (
    case_id INTEGER NOT NULL REFERENCES case_cases(id),
    document_id INTEGER NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (case_id, document_id)
);
CREATE TABLE IF NOT EXISTS case_evidence (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES case_cases(id),
    article_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    url TEXT NOT NULL,
    fetched_at TEXT,
    frozen_at TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS case_evidence_case ON case_evidence(case_id, article_id);
CREATE TABLE IF NOT EXISTS case_rechecks (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES case_cases(id),
    article_id TEXT NOT NULL,
    url TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    http_status INTEGER,
    final_url TEXT,
    text_sha256 TEXT,
    diff TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS case_rechecks_case ON case_rechecks(case_id, article_id, id);
CREATE TABLE IF NOT EXISTS case_audit (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES case_cases(id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS case_audit_case ON case_audit(case_id, id);
CREATE TRIGGER IF NOT EXISTS case_audit_append_only_u BEFORE UPDATE ON case_audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS case_audit_append_only_d BEFORE DELETE ON case_audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS case_evidence_append_only_u BEFORE UPDATE ON case_evidence
BEGIN SELECT RAISE(ABORT, 'frozen evidence cannot change'); END;
CREATE TRIGGER IF NOT EXISTS case_evidence_append_only_d BEFORE DELETE ON case_evidence
BEGIN SELECT RAISE(ABORT, 'frozen evidence cannot change'); END;
CREATE VIRTUAL TABLE IF NOT EXISTS case_fts USING fts5(body, chars, tokenize = 'unicode61 remove_diacritics 0');
CREATE VIRTUAL TABLE IF NOT EXISTS case_fts_vocab USING fts5vocab(case_fts, 'row');
"""

#: The versioned schema (``hpbase.schema``): step 1 is the DDL of before versions.
SCHEMA = Schema("cases", (_SCHEMA,))


class CaseNotFound(LookupError):
    """No case has this id."""


class WorkflowError(ValueError):
    """An action the workflow rules forbid. ``code`` is stable (for programs and tests), the
    message says why in Vietnamese, then English."""

    def __init__(self, code: str, vi: str, en: str) -> None:
        super().__init__(f"{vi} — {en}")
        self.code = code
        self.vi = vi
        self.en = en


@dataclass(frozen=True)
class Case:
    """One case of the rebuttal queue (see the module doc for its life)."""

    id: int
    queue_key: str  # "story:<story id>" or "article:<article id>": one case per story
    article_id: str  # the article that opened it
    story_id: str | None
    title: str
    url: str
    language: str | None
    state: str
    priority: str
    assignee: str | None
    due_at: datetime | None
    risk_score: float | None
    risk_reasons: list[dict[str, Any]]
    dismiss_reason: str | None
    claim: str | None
    verdict: str | None
    rebuttal: str | None
    rebuttal_language: str | None
    submitted_by: str | None
    approved_by: str | None
    approved_at: datetime | None
    published_url: str | None
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def overdue(self, now: datetime) -> bool:
        """True when the case is still open past its due time."""
        return self.is_open and self.due_at is not None and now >= self.due_at

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key, value in d.items():
            if isinstance(value, datetime):
                d[key] = iso(value)
        return d


@dataclass(frozen=True)
class CaseArticle:
    """An article gathered in a case: the one that opened it (``role="primary"``) or another
    article of the same story or linked by hand (``"story"``, ``"linked"``)."""

    case_id: int
    article_id: str
    url: str
    title: str
    outlet: str | None
    language: str | None
    published_at: datetime | None
    text: str
    role: str
    risk_score: float | None
    added_at: datetime
    added_by: str

    def to_dict(self, *, with_text: bool = False) -> dict[str, Any]:
        d = asdict(self)
        d["published_at"] = iso(self.published_at)
        d["added_at"] = iso(self.added_at)
        if not with_text:
            d.pop("text")
        return d


@dataclass(frozen=True)
class AuditEntry:
    """One line of a case's audit trail."""

    id: int
    case_id: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["at"] = iso(self.at)
        return d


@dataclass(frozen=True)
class Note:
    id: int
    case_id: int
    author: str
    text: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"] = iso(self.created_at)
        return d


@dataclass(frozen=True)
class EvidenceRecord:
    """A frozen file of a case: ``path`` is relative to the evidence directory, ``sha256`` the
    hash of its bytes when frozen. Kinds: ``page_record`` (the WARC record of the page as
    fetched), ``page_text`` (its extracted text), and ``recheck_record`` / ``recheck_text`` for
    later versions found by a recheck."""

    id: int | None
    case_id: int
    article_id: str
    kind: str
    path: str
    sha256: str
    size: int
    url: str
    fetched_at: datetime | None
    frozen_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fetched_at"] = iso(self.fetched_at)
        d["frozen_at"] = iso(self.frozen_at)
        return d


@dataclass(frozen=True)
class Recheck:
    """What a re-fetch of a case article found: ``unchanged``, ``edited`` (with a unified diff
    of the text against the last version seen), ``deleted`` (404/410) or ``error`` (why)."""

    id: int | None
    case_id: int
    article_id: str
    url: str
    checked_at: datetime
    outcome: str
    http_status: int | None = None
    final_url: str | None = None
    text_sha256: str | None = None
    diff: str | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["checked_at"] = iso(self.checked_at)
        return d


@dataclass(frozen=True)
class CaseOpening:
    """What ``open_case_for`` did: the case, whether it was created now, and whether the
    article was added to it now (False when it was already there)."""

    case: Case
    created: bool
    article_added: bool


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def priority_for(score: float | None) -> str:
    """The priority of a new case from its risk score (0..1)."""
    if score is None:
        return "normal"
    if score >= 0.75:
        return "urgent"
    if score >= 0.55:
        return "high"
    if score >= 0.30:
        return "normal"
    return "low"


def queue_key(article: Article) -> str:
    """The key that makes queue entry idempotent: one case per story (an article that is a
    copy of another belongs to the original's story), else per article."""
    story = article.story_id or article.duplicate_of
    return f"story:{story}" if story else f"article:{article.id}"


def _clean(text: str | None, cap: int) -> str:
    return (text or "").strip()[:cap]


class CaseStore:
    """The ``case_*`` tables of the office's SQLite file, and the workflow rules. One writer
    at a time (a lock); safe to share between threads."""

    def __init__(self, path: str | Path, *, now: Callable[[], datetime] = utcnow,
                 due_hours: dict[str, float] | None = None) -> None:
        self.path = Path(path)
        self._conn = connect(self.path, foreign_keys=True)
        self._conn.execute("PRAGMA synchronous=NORMAL")
        migrate(self._conn, SCHEMA)
        self._lock = threading.RLock()
        self._now = now
        self.due_hours = {**DEFAULT_DUE_HOURS, **(due_hours or {})}

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- reading ---------------------------------------------------------------------------

    _CASE_COLUMNS = (
        "id, queue_key, article_id, story_id, title, url, language, state, priority, assignee, due_at, "
        "risk_score, risk_reasons, dismiss_reason, claim, verdict, rebuttal, rebuttal_language, submitted_by, "
        "approved_by, approved_at, published_url, published_at, created_at, updated_at"
    )

    @staticmethod
    def _case(row: tuple) -> Case:
        (cid, key, article_id, story_id, title, url, language, state, priority, assignee, due_at, risk_score,
         risk_reasons, dismiss_reason, claim, verdict, rebuttal, rebuttal_language, submitted_by, approved_by,
         approved_at, published_url, published_at, created_at, updated_at) = row
        return Case(
            id=cid, queue_key=key, article_id=article_id, story_id=story_id, title=title, url=url,
            language=language, state=state, priority=priority, assignee=assignee, due_at=_dt(due_at),
            risk_score=risk_score, risk_reasons=json.loads(risk_reasons or "[]"), dismiss_reason=dismiss_reason,
            claim=claim, verdict=verdict, rebuttal=rebuttal, rebuttal_language=rebuttal_language,
            submitted_by=submitted_by, approved_by=approved_by, approved_at=_dt(approved_at),
            published_url=published_url, published_at=_dt(published_at), created_at=_dt(created_at),  # type: ignore[arg-type]
            updated_at=_dt(updated_at),  # type: ignore[arg-type]
        )

    def get(self, case_id: int) -> Case:
        """The case; raises ``CaseNotFound``."""
        with self._lock:
            row = self._conn.execute(f"SELECT {self._CASE_COLUMNS} FROM case_cases WHERE id = ?",
                                     (case_id,)).fetchone()
        if row is None:
            raise CaseNotFound(f"không có hồ sơ #{case_id} — no case #{case_id}")
        return self._case(row)

    def list(self, *, states: Iterable[str] | None = None, assignee: str | None = None,
             overdue: bool = False, limit: int = 200, offset: int = 0) -> list[Case]:
        """Cases most urgent first: priority, then due time, then age."""
        sql = f"SELECT {self._CASE_COLUMNS} FROM case_cases"
        where, args = [], []
        states = list(states or [])
        if states:
            unknown = set(states) - set(STATES)
            if unknown:
                raise ValueError(f"unknown state(s): {', '.join(sorted(unknown))}")
            where.append(f"state IN ({','.join('?' * len(states))})")
            args.extend(states)
        if assignee:
            where.append("assignee = ?")
            args.append(assignee)
        if overdue:
            where.append(f"state IN ({','.join('?' * len(OPEN_STATES))}) AND due_at IS NOT NULL AND due_at <= ?")
            args.extend([*OPEN_STATES, iso(self._now())])
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += (" ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END,"
                " due_at IS NULL, due_at, id LIMIT ? OFFSET ?")
        with self._lock:
            rows = self._conn.execute(sql, (*args, limit, offset)).fetchall()
        return [self._case(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many cases are in each state."""
        with self._lock:
            rows = self._conn.execute("SELECT state, count(*) FROM case_cases GROUP BY state").fetchall()
        return {s: 0 for s in STATES} | dict(rows)

    def case_for_article(self, article_id: str) -> Case | None:
        """The case an article belongs to, if any (the oldest when linked to several)."""
        with self._lock:
            row = self._conn.execute("SELECT case_id FROM case_articles WHERE article_id = ? ORDER BY case_id",
                                     (article_id,)).fetchone()
        return self.get(row[0]) if row else None

    def articles(self, case_id: int) -> list[CaseArticle]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT case_id, article_id, url, title, outlet, language, published_at, text, role, risk_score, "
                "added_at, added_by FROM case_articles WHERE case_id = ? "
                "ORDER BY role != 'primary', added_at, article_id", (case_id,)).fetchall()
        return [CaseArticle(r[0], r[1], r[2], r[3], r[4], r[5], _dt(r[6]), r[7], r[8], r[9], _dt(r[10]), r[11])
                for r in rows]  # type: ignore[arg-type]

    def notes(self, case_id: int) -> list[Note]:
        with self._lock:
            rows = self._conn.execute("SELECT id, case_id, author, text, created_at FROM case_notes "
                                      "WHERE case_id = ? ORDER BY id", (case_id,)).fetchall()
        return [Note(r[0], r[1], r[2], r[3], _dt(r[4])) for r in rows]  # type: ignore[arg-type]

    def documents(self, case_id: int) -> list[int]:
        """Ids of the library documents linked to the case."""
        with self._lock:
            rows = self._conn.execute("SELECT document_id FROM case_documents WHERE case_id = ? ORDER BY added_at",
                                      (case_id,)).fetchall()
        return [r[0] for r in rows]

    def audit(self, case_id: int) -> list[AuditEntry]:
        """The case's audit trail, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, case_id, at, actor, action, from_state, to_state, detail FROM case_audit "
                "WHERE case_id = ? ORDER BY id", (case_id,)).fetchall()
        return [AuditEntry(r[0], r[1], _dt(r[2]), r[3], r[4], r[5], r[6], json.loads(r[7]))  # type: ignore[arg-type]
                for r in rows]

    def _rows_of_case(self, select: str, case_id: int, article_id: str | None) -> list[tuple]:
        """Rows of ``select`` (a SELECT … FROM a table with case_id and article_id columns) for the
        case, and for one of its articles when ``article_id`` is given, in insertion order."""
        sql, args = select + " WHERE case_id = ?", [case_id]
        if article_id is not None:
            sql, args = sql + " AND article_id = ?", [case_id, article_id]
        with self._lock:
            return self._conn.execute(sql + " ORDER BY id", args).fetchall()

    def evidence(self, case_id: int, article_id: str | None = None) -> list[EvidenceRecord]:
        """The case's frozen evidence files (of one article), in the order they were frozen."""
        rows = self._rows_of_case("SELECT id, case_id, article_id, kind, path, sha256, size, url, fetched_at, "
                                  "frozen_at, detail FROM case_evidence", case_id, article_id)
        return [EvidenceRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], _dt(r[8]), _dt(r[9]),  # type: ignore[arg-type]
                               json.loads(r[10])) for r in rows]

    def rechecks(self, case_id: int, article_id: str | None = None) -> list[Recheck]:
        """The re-checks of the case's evidence (of one article), oldest first."""
        rows = self._rows_of_case("SELECT id, case_id, article_id, url, checked_at, outcome, http_status, final_url, "
                                  "text_sha256, diff, detail FROM case_rechecks", case_id, article_id)
        return [Recheck(r[0], r[1], r[2], r[3], _dt(r[4]), *r[5:]) for r in rows]  # type: ignore[arg-type]

    def case_text(self, case_id: int, *, max_chars: int = 200_000) -> str:
        """The case as one text (titles, articles, claim and rebuttal): what similarity uses."""
        case = self.get(case_id)
        parts = [case.title, case.claim or "", case.rebuttal or ""]
        for article in self.articles(case_id):
            parts.extend((article.title, article.text))
        return "\n".join(p for p in parts if p)[:max_chars]

    def similar_cases(self, text: str, limit: int = 5, *, exclude: int | None = None,
                      max_terms: int = 30) -> list[tuple[Case, float, list[str]]]:
        """Other cases whose articles and rebuttals are most like ``text`` (BM25 over its most
        distinctive terms), best first, each with its score and the shared terms. Published
        rebuttals are what the office can reuse, so they are as welcome as open cases."""
        with self._lock:
            terms = distinctive_terms(self._conn, "case_fts", text, limit=max_terms,
                                      self_count=1 if exclude is not None else 0)
            expr = match_any(terms)
            if expr is None:
                return []
            rows = self._conn.execute(
                "SELECT rowid, body FROM case_fts WHERE case_fts MATCH ? AND rowid != ? "
                "ORDER BY bm25(case_fts, 1.0, 0.2), rowid LIMIT 100",
                (expr, -1 if exclude is None else exclude),
            ).fetchall()
        ranked = weighted_bm25(terms, [(r[0], r[1]) for r in rows])
        return [(self.get(cid), score, shared) for cid, score, shared in ranked[:limit] if score > 0]

    # -- writing helpers -------------------------------------------------------------------

    def _audit(self, case_id: int, actor: str, action: str, from_state: str | None, to_state: str | None,
               detail: dict[str, Any] | None = None) -> None:
        self._conn.execute(
            "INSERT INTO case_audit(case_id, at, actor, action, from_state, to_state, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (case_id, iso(self._now()), actor, action, from_state, to_state,
             json.dumps(detail or {}, ensure_ascii=False, default=str)),
        )

    def _touch(self, case_id: int, **columns: Any) -> None:
        columns["updated_at"] = iso(self._now())
        sets = ", ".join(f"{k} = ?" for k in columns)
        self._conn.execute(f"UPDATE case_cases SET {sets} WHERE id = ?", (*columns.values(), case_id))

    def _reindex(self, case_id: int) -> None:
        text = self.case_text(case_id)
        self._conn.execute("DELETE FROM case_fts WHERE rowid = ?", (case_id,))
        self._conn.execute("INSERT INTO case_fts(rowid, body, chars) VALUES (?, ?, ?)",
                           (case_id, search_form(text), bigram_chars(text)))

    @staticmethod
    def _actor(actor: str) -> str:
        actor = (actor or "").strip()
        if not actor:
            raise WorkflowError("no_actor", "Cần ghi rõ ai thực hiện thao tác", "every action needs an actor")
        return actor[:200]

    def _insert_article(self, case_id: int, article: Article, role: str, actor: str) -> bool:
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO case_articles(case_id, article_id, url, title, outlet, language, published_at, "
            "text, role, risk_score, added_at, added_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (case_id, article.id, article.url, article.title or article.url, article.outlet, article.language,
             iso(article.published_at), (article.text or "")[:MAX_ARTICLE_CHARS], role, article.risk_score,
             iso(self._now()), actor),
        )
        return cur.rowcount > 0

    # -- queue entry -----------------------------------------------------------------------

    def open_case_for(self, article: Article, risk: float | None = None, *, actor: str = "hpmon",
                      priority: str | None = None) -> CaseOpening:
        """The case for this article's story, opened if there is none. Idempotent: an article
        already in a case, or a story that already has one, gives that case (the article is
        added to it, its risk raised to the highest seen). A dismissed story stays dismissed:
        the office decided, and a new article is added for whoever reopens it."""
        actor = self._actor(actor)
        score = article.risk_score if risk is None else float(risk)
        reasons = list(((article.reasons or {}).get("risk") or {}).get("reasons") or [])
        key = queue_key(article)
        with self._lock, self._conn:
            row = self._conn.execute("SELECT case_id FROM case_articles WHERE article_id = ? ORDER BY case_id",
                                     (article.id,)).fetchone()
            if row is None:
                row = self._conn.execute("SELECT id FROM case_cases WHERE queue_key = ?", (key,)).fetchone()
            if row is not None:
                case = self.get(row[0])
                added = self._insert_article(case.id, article, "story", actor)
                if added:
                    self._audit(case.id, actor, "article_added", case.state, case.state,
                                {"article_id": article.id, "url": article.url, "risk_score": score})
                if score is not None and (case.risk_score is None or score > case.risk_score):
                    self._touch(case.id, risk_score=score, risk_reasons=json.dumps(reasons, ensure_ascii=False))
                if added:
                    self._reindex(case.id)
                return CaseOpening(self.get(case.id), False, added)
            now = self._now()
            prio = priority or priority_for(score)
            if prio not in PRIORITIES:
                raise ValueError(f"unknown priority {prio!r}")
            due = now + timedelta(hours=self.due_hours[prio])
            case_id = self._conn.execute(
                "INSERT INTO case_cases(queue_key, article_id, story_id, title, url, language, state, priority, "
                "due_at, risk_score, risk_reasons, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, ?, ?)",
                (key, article.id, article.story_id or article.duplicate_of, (article.title or article.url)[:1000],
                 article.url, article.language, prio, iso(due), score, json.dumps(reasons, ensure_ascii=False),
                 iso(now), iso(now)),
            ).lastrowid
            assert case_id is not None
            self._insert_article(case_id, article, "primary", actor)
            self._audit(case_id, actor, "opened", None, "new",
                        {"article_id": article.id, "url": article.url, "risk_score": score, "priority": prio,
                         "due_at": iso(due)})
            self._reindex(case_id)
            return CaseOpening(self.get(case_id), True, True)

    def link_article(self, case_id: int, article: Article, *, actor: str, role: str = "linked") -> bool:
        """Add an article (another write-up of the story) to the case; returns whether it was new."""
        actor = self._actor(actor)
        with self._lock, self._conn:
            case = self.get(case_id)
            added = self._insert_article(case_id, article, role, actor)
            if added:
                self._audit(case_id, actor, "article_linked", case.state, case.state,
                            {"article_id": article.id, "url": article.url, "role": role})
                self._touch(case_id)
                self._reindex(case_id)
            return added

    def link_document(self, case_id: int, document_id: int, *, actor: str) -> bool:
        """Link a library document to the case; returns whether the link is new."""
        actor = self._actor(actor)
        with self._lock, self._conn:
            case = self.get(case_id)
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO case_documents(case_id, document_id, added_by, added_at) VALUES (?, ?, ?, ?)",
                (case_id, int(document_id), actor, iso(self._now())))
            if cur.rowcount:
                self._audit(case_id, actor, "document_linked", case.state, case.state, {"document_id": document_id})
                self._touch(case_id)
            return cur.rowcount > 0

    # -- work on a case --------------------------------------------------------------------

    def assign(self, case_id: int, assignee: str | None, *, actor: str) -> Case:
        """Give the case to someone (None: unassign)."""
        actor = self._actor(actor)
        assignee = (assignee or "").strip()[:200] or None
        with self._lock, self._conn:
            case = self.get(case_id)
            self._touch(case_id, assignee=assignee)
            self._audit(case_id, actor, "assigned", case.state, case.state,
                        {"from": case.assignee, "to": assignee})
        return self.get(case_id)

    def set_priority(self, case_id: int, priority: str, *, actor: str, due_at: datetime | None = None) -> Case:
        """Change the priority (and the due time, when given)."""
        actor = self._actor(actor)
        if priority not in PRIORITIES:
            raise WorkflowError("bad_priority", f"Mức ưu tiên không hợp lệ: {priority}",
                                f"unknown priority {priority!r} (one of {', '.join(PRIORITIES)})")
        with self._lock, self._conn:
            case = self.get(case_id)
            cols: dict[str, Any] = {"priority": priority}
            if due_at is not None:
                cols["due_at"] = iso(due_at)
            self._touch(case_id, **cols)
            self._audit(case_id, actor, "priority_set", case.state, case.state,
                        {"from": case.priority, "to": priority, "due_at": iso(due_at) if due_at else None})
        return self.get(case_id)

    def set_due(self, case_id: int, due_at: datetime, *, actor: str) -> Case:
        actor = self._actor(actor)
        with self._lock, self._conn:
            case = self.get(case_id)
            self._touch(case_id, due_at=iso(due_at))
            self._audit(case_id, actor, "due_set", case.state, case.state,
                        {"from": iso(case.due_at), "to": iso(due_at)})
        return self.get(case_id)

    def add_note(self, case_id: int, text: str, *, actor: str) -> Note:
        """Add a note; returns it. Empty notes are refused."""
        actor = self._actor(actor)
        text = _clean(text, MAX_NOTE_CHARS)
        if not text:
            raise WorkflowError("empty_note", "Ghi chú trống", "the note is empty")
        with self._lock, self._conn:
            case = self.get(case_id)
            now = self._now()
            note_id = self._conn.execute("INSERT INTO case_notes(case_id, author, text, created_at) "
                                         "VALUES (?, ?, ?, ?)", (case_id, actor, text, iso(now))).lastrowid
            self._audit(case_id, actor, "note_added", case.state, case.state, {"note_id": note_id})
            self._touch(case_id)
        return Note(note_id, case_id, actor, text, now)  # type: ignore[arg-type]

    def set_rebuttal(self, case_id: int, *, claim: str, verdict: str, rebuttal: str, actor: str,
                     language: str = "vi") -> Case:
        """Write (or rewrite) the rebuttal: the claim being answered, the verdict (``VERDICTS``)
        and the text. Only while triaged or drafting: a rebuttal under approval is changed by
        returning the case to drafting first, so what is approved is what is published."""
        actor = self._actor(actor)
        claim, rebuttal = _clean(claim, MAX_REBUTTAL_CHARS), _clean(rebuttal, MAX_REBUTTAL_CHARS)
        if verdict not in VERDICTS:
            raise WorkflowError("bad_verdict", f"Kết luận không hợp lệ: {verdict}",
                                f"unknown verdict {verdict!r} (one of {', '.join(VERDICTS)})")
        if not claim or not rebuttal:
            raise WorkflowError("empty_rebuttal", "Cần nêu thông tin sai và nội dung phản bác",
                                "a rebuttal needs the claim and its text")
        with self._lock, self._conn:
            case = self.get(case_id)
            if case.state not in ("triaged", "drafting"):
                raise WorkflowError(
                    "rebuttal_locked",
                    f"Chỉ soạn phản bác khi hồ sơ ở trạng thái đã phân loại hoặc đang soạn (hiện: "
                    f"{STATE_LABELS[case.state]['vi']})",
                    f"the rebuttal can only be written while triaged or drafting (case is {case.state})")
            self._touch(case_id, claim=claim, verdict=verdict, rebuttal=rebuttal, rebuttal_language=language)
            self._audit(case_id, actor, "rebuttal_written", case.state, case.state,
                        {"verdict": verdict, "language": language, "claim_chars": len(claim),
                         "rebuttal_chars": len(rebuttal)})
            self._reindex(case_id)
        return self.get(case_id)

    def move(self, case_id: int, to_state: str, *, actor: str, roles: Iterable[str] = (),
             reason: str | None = None, published_url: str | None = None) -> Case:
        """Move the case to ``to_state`` if the workflow allows it (see the module doc); raises
        ``WorkflowError`` with the reason otherwise. Moving to ``published`` is the approval:
        ``roles`` must hold ``approver`` and ``published_url`` says where the rebuttal is."""
        actor = self._actor(actor)
        roles = frozenset(roles)
        reason = _clean(reason, MAX_REASON_CHARS) or None
        if to_state not in STATES:
            raise WorkflowError("bad_state", f"Trạng thái không hợp lệ: {to_state}",
                                f"unknown state {to_state!r} (one of {', '.join(STATES)})")
        with self._lock, self._conn:
            case = self.get(case_id)
            frm = case.state
            if to_state not in TRANSITIONS[frm]:
                if to_state == "published":
                    raise WorkflowError(
                        "publish_without_approval",
                        f"Chỉ đăng phản bác đã qua bước chờ phê duyệt (hồ sơ đang: {STATE_LABELS[frm]['vi']})",
                        f"only a case awaiting approval can be published (case is {frm})")
                raise WorkflowError(
                    "forbidden_transition",
                    f"Không thể chuyển từ «{STATE_LABELS[frm]['vi']}» sang «{STATE_LABELS[to_state]['vi']}»",
                    f"cannot move a case from {frm} to {to_state}")
            cols: dict[str, Any] = {"state": to_state}
            detail: dict[str, Any] = {}
            if reason:
                detail["reason"] = reason
            if to_state == "dismissed":
                if not reason:
                    raise WorkflowError("reason_required", "Bỏ qua hồ sơ cần nêu lý do",
                                        "dismissing a case needs a reason")
                cols["dismiss_reason"] = reason
            if frm == "dismissed":
                if not reason:
                    raise WorkflowError("reason_required", "Mở lại hồ sơ đã bỏ qua cần nêu lý do",
                                        "reopening a dismissed case needs a reason")
                cols["dismiss_reason"] = None
            if to_state == "awaiting_approval":
                if not (case.claim and case.verdict and case.rebuttal):
                    raise WorkflowError("no_rebuttal", "Chưa có nội dung phản bác để trình duyệt",
                                        "there is no rebuttal to submit for approval (write it first)")
                cols["submitted_by"] = actor
            if to_state == "published":
                if APPROVER_ROLE not in roles:
                    raise WorkflowError("not_approver", f"{actor} không có quyền phê duyệt",
                                        f"{actor} does not hold the approver role")
                url = (published_url or "").strip()
                if not url.startswith(("https://", "http://")):
                    raise WorkflowError("no_published_url", "Cần địa chỉ (URL) nơi đăng bài phản bác",
                                        "publishing needs the http(s) URL where the rebuttal was published")
                now = iso(self._now())
                cols.update(approved_by=actor, approved_at=now, published_url=url[:2000], published_at=now)
                detail["published_url"] = url[:2000]
            self._touch(case_id, **cols)
            self._audit(case_id, actor, "approved_published" if to_state == "published" else "moved",
                        frm, to_state, detail)
        return self.get(case_id)

    # -- records written by the evidence stage ---------------------------------------------

    def add_evidence(self, record: EvidenceRecord, *, actor: str = "hpmon") -> EvidenceRecord:
        """Record a frozen file (append-only); returns it with its id."""
        with self._lock, self._conn:
            case = self.get(record.case_id)
            rid = self._conn.execute(
                "INSERT INTO case_evidence(case_id, article_id, kind, path, sha256, size, url, fetched_at, frozen_at, "
                "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.case_id, record.article_id, record.kind, record.path, record.sha256, record.size, record.url,
                 iso(record.fetched_at), iso(record.frozen_at), json.dumps(record.detail, ensure_ascii=False)),
            ).lastrowid
            self._audit(record.case_id, actor, "evidence_frozen", case.state, case.state,
                        {"evidence_id": rid, "article_id": record.article_id, "kind": record.kind,
                         "sha256": record.sha256, "path": record.path})
        return EvidenceRecord(rid, *list(asdict(record).values())[1:])

    def add_recheck(self, recheck: Recheck, *, actor: str = "hpmon") -> Recheck:
        """Record a recheck; an edit or a deletion also goes into the audit trail."""
        with self._lock, self._conn:
            case = self.get(recheck.case_id)
            rid = self._conn.execute(
                "INSERT INTO case_rechecks(case_id, article_id, url, checked_at, outcome, http_status, final_url, "
                "text_sha256, diff, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (recheck.case_id, recheck.article_id, recheck.url, iso(recheck.checked_at), recheck.outcome,
                 recheck.http_status, recheck.final_url, recheck.text_sha256, recheck.diff, recheck.detail),
            ).lastrowid
            if recheck.outcome in ("edited", "deleted"):
                self._audit(recheck.case_id, actor, f"article_{recheck.outcome}", case.state, case.state,
                            {"recheck_id": rid, "article_id": recheck.article_id, "url": recheck.url,
                             "http_status": recheck.http_status})
                self._touch(recheck.case_id)
        return Recheck(rid, *list(asdict(recheck).values())[1:])

    def record_event(self, case_id: int, action: str, detail: dict[str, Any], *, actor: str = "hpmon") -> None:
        """An audit entry that changes nothing else (e.g. evidence that could not be frozen)."""
        with self._lock, self._conn:
            case = self.get(case_id)
            self._audit(case_id, self._actor(actor), action, case.state, case.state, detail)

    # -- export ----------------------------------------------------------------------------

    def claim_review(self, case_id: int, *, author_name: str, author_url: str | None = None,
                     timezone: str = "UTC") -> dict[str, Any]:
        """The published rebuttal as schema.org ``ClaimReview`` JSON-LD (a dict ready for
        ``json.dumps``): the claim, the rating, the articles that carried it, the office as
        author. Only a published case has one: raises ``WorkflowError`` otherwise."""
        case = self.get(case_id)
        if case.state != "published" or not case.published_at:
            raise WorkflowError("not_published", "Chỉ xuất ClaimReview cho phản bác đã đăng",
                                f"only a published rebuttal has a ClaimReview (case is {case.state})")
        tz = ZoneInfo(timezone)
        value, name_vi, name_en = VERDICTS[case.verdict or "misleading"]
        language = case.rebuttal_language or "vi"

        def appearance(a: CaseArticle) -> dict[str, Any]:
            work: dict[str, Any] = {"@type": "NewsArticle", "url": a.url, "headline": a.title}
            if a.published_at:
                work["datePublished"] = a.published_at.astimezone(tz).isoformat()
            if a.outlet:
                work["publisher"] = {"@type": "Organization", "name": a.outlet}
            if a.language:
                work["inLanguage"] = a.language
            return work

        articles = self.articles(case_id)
        primary = next((a for a in articles if a.role == "primary"), articles[0] if articles else None)
        item: dict[str, Any] = {"@type": "Claim", "appearance": [appearance(a) for a in articles]}
        if primary is not None:
            item["url"] = primary.url
            item["firstAppearance"] = appearance(primary)
            if primary.outlet:
                item["author"] = {"@type": "Organization", "name": primary.outlet}
            if primary.published_at:
                item["datePublished"] = primary.published_at.astimezone(tz).date().isoformat()
        author: dict[str, Any] = {"@type": "Organization", "name": author_name}
        if author_url:
            author["url"] = author_url
        return {
            "@context": "https://schema.org",
            "@type": "ClaimReview",
            "url": case.published_url,
            "datePublished": case.published_at.astimezone(tz).date().isoformat(),
            "inLanguage": language,
            "author": author,
            "claimReviewed": case.claim,
            "reviewBody": case.rebuttal,
            "reviewRating": {
                "@type": "Rating",
                "ratingValue": value,
                "bestRating": 5,
                "worstRating": 1,
                "alternateName": name_vi if language == "vi" else name_en,
            },
            "itemReviewed": item,
        }


# Characters that could end or break a <script type="application/ld+json"> block, escaped as
# JSON escapes: the text parses to the same data and is safe to paste into a page.
_HTML_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_ld(data: Any, *, indent: int | None = 2) -> str:
    """``data`` as JSON that is safe to embed in an HTML ``<script>`` element (ClaimReview):
    ``</script>``, ``<svg onload=…>`` or ``<!--`` from a crawled site name or a claim cannot end
    the element or open markup."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    for ch, escaped in _HTML_UNSAFE.items():
        text = text.replace(ch, escaped)
    return text

