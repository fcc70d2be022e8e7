"""Versioned schemas for hpmon's SQLite stores: ordered migration steps, run in one transaction.

Several stores share one file (the office's ``app.sqlite`` holds cases, the library, label
corrections, the service's jobs, users...), so one ``PRAGMA user_version`` per file cannot say
which store is at which version. Each store's version is a row of ``hpmon_schema`` instead
(``store``, ``version``), changed in the same transaction as the steps it records.

A store declares ``Schema("cases", steps)``: step *n* (1-based) upgrades version *n − 1* to *n*.
Step 1 is the schema as it was before versions existed, written with ``IF NOT EXISTS``, so a
file made by that code (version 0, tables present) is adopted without change. A later change
is a new step appended at the end (``ALTER TABLE ...``), never an edit of an old one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

VERSIONS_TABLE = "hpmon_schema"


class SchemaTooNew(RuntimeError):
    """The file was written by a newer hpmon (its store version is above what this code knows)."""


@dataclass(frozen=True)
class Schema:
    """A store's name (its row in ``hpmon_schema``) and its migration steps, oldest first."""

    store: str
    steps: tuple[str, ...]

    @property
    def version(self) -> int:
        return len(self.steps)


def statements(script: str) -> Iterator[str]:
    """The SQL statements of ``script``, one by one (triggers with their inner ``;`` whole)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                yield buffer.strip()
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        raise ValueError(f"incomplete SQL statement: {buffer.strip()[:80]!r}")


def _current(conn: sqlite3.Connection, store: str) -> int | None:
    """The store's recorded version; None when the versions table does not exist yet."""
    try:
        row = conn.execute(f"SELECT version FROM {VERSIONS_TABLE} WHERE store = ?", (store,)).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    return int(row[0]) if row else 0


def stored_version(conn: sqlite3.Connection, store: str) -> int:
    """The version of ``store`` recorded in the file (0: never migrated)."""
    return _current(conn, store) or 0


def migrate(conn: sqlite3.Connection, schema: Schema) -> int:
    """Bring ``schema.store``'s tables in ``conn``'s file to ``schema.version`` and return it.

    Every missing step runs, with the new version recorded, in one ``BEGIN IMMEDIATE``
    transaction: a failing step leaves the file as it was, and two processes opening the same
    file at once migrate it once. An up-to-date file is only read. Raises SchemaTooNew for a
    file from a newer hpmon, and RuntimeError when ``conn`` is inside a transaction."""
    current = _current(conn, schema.store)
    if current is not None and current == schema.version:
        return current
    if conn.in_transaction:
        raise RuntimeError("migrate() needs a connection outside any transaction")
    saved = conn.isolation_level
    conn.isolation_level = None  # explicit BEGIN/COMMIT below
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} "
                         "(store TEXT PRIMARY KEY, version INTEGER NOT NULL)")
            current = _current(conn, schema.store) or 0  # again, under the write lock
            if current > schema.version:
                raise SchemaTooNew(f"the {schema.store} tables are at version {current}; this hpmon knows "
                                   f"{schema.version} (a newer hpmon wrote the file)")
            for step in schema.steps[current:]:
                for statement in statements(step):
                    conn.execute(statement)
            if current != schema.version:
                conn.execute(f"INSERT INTO {VERSIONS_TABLE}(store, version) VALUES (?, ?) "
                             "ON CONFLICT(store) DO UPDATE SET version = excluded.version",
                             (schema.store, schema.version))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.isolation_level = saved
    return schema.version
