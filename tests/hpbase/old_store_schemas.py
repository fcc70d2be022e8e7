# ruff: noqa: E501 -- the statements exactly as the old code ran them
"""The DDL each store ran before schema versions (frozen copies, as of issue #13), to build a
file "made by the old code" in tests/hpbase/test_store_migrations.py."""

CASES = """
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

LIBRARY = """
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

DIGEST_LOG = """
CREATE TABLE IF NOT EXISTS digest_sent (
    profile TEXT NOT NULL,
    day TEXT NOT NULL,              -- YYYY-MM-DD, city time: the day the digest is about
    sent_at TEXT NOT NULL,          -- ISO 8601 UTC
    message_id TEXT NOT NULL,
    recipients TEXT NOT NULL,       -- JSON list of addresses
    PRIMARY KEY (profile, day)
);
"""

JOBS = """
CREATE TABLE IF NOT EXISTS service_jobs (
    job_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    interval_s REAL,
    unavailable TEXT,                 -- unused (kept so databases of earlier versions still open)
    last_start TEXT, last_finish TEXT,
    last_outcome TEXT,                -- ok | failed | source_failed | interrupted | timeout | skipped
    last_detail TEXT,
    last_ok TEXT,
    next_due TEXT,
    running_pid INTEGER,              -- set while a child runs it; found set at start-up = interrupted
    runs INTEGER NOT NULL DEFAULT 0,
    fail_streak INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS service_runs (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL, pid INTEGER, started TEXT NOT NULL, finished TEXT,
    outcome TEXT, detail TEXT
);
CREATE INDEX IF NOT EXISTS service_runs_job ON service_runs(job_id, started);
CREATE TABLE IF NOT EXISTS service_health_events (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL, day TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
    message TEXT NOT NULL, created_at TEXT NOT NULL,
    notified_at TEXT, notify_error TEXT,
    UNIQUE(key, day)
);
CREATE TABLE IF NOT EXISTS service_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

STORIES = """
CREATE TABLE IF NOT EXISTS docs (
    article_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, date TEXT NOT NULL, language TEXT,
    outlet TEXT, country TEXT, title TEXT, opening TEXT, anchors TEXT, minhash BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_story ON docs(story_id);
CREATE INDEX IF NOT EXISTS docs_date ON docs(date);
CREATE TABLE IF NOT EXISTS bands (band INTEGER NOT NULL, value INTEGER NOT NULL, article_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS bands_value ON bands(band, value);
CREATE TABLE IF NOT EXISTS anchors (anchor TEXT NOT NULL, date TEXT NOT NULL, article_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS anchors_key ON anchors(anchor, date);
"""

OUTBOX = """
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, article_id TEXT NOT NULL, content_hash TEXT, doc TEXT NOT NULL, enqueued_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_article ON outbox(article_id);
CREATE INDEX IF NOT EXISTS outbox_hash ON outbox(content_hash);
"""

LABELS = """
CREATE TABLE IF NOT EXISTS label_corrections (id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, topics TEXT, sentiment TEXT, user TEXT NOT NULL, at TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', title TEXT NOT NULL DEFAULT '', text TEXT NOT NULL DEFAULT '', language TEXT);
CREATE INDEX IF NOT EXISTS label_corrections_article ON label_corrections(article_id);
"""

SAVED_SEARCHES = """
CREATE TABLE IF NOT EXISTS web_saved_searches (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, name TEXT NOT NULL, params TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS web_saved_searches_user ON web_saved_searches(user_id);
"""
