"""Opening hpmon's SQLite files the one way they are all opened."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def connect(path: str | Path, *, autocommit: bool = False, foreign_keys: bool = False) -> sqlite3.Connection:
    """A connection to one of hpmon's SQLite files (created with its folder when missing):
    usable from several threads (the owner serialises with a lock), in WAL mode so readers
    never block the writer, waiting up to 30 s for another process's lock. ``autocommit``
    leaves transactions to explicit BEGIN/COMMIT."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None if autocommit else "")
    conn.execute("PRAGMA journal_mode=WAL")
    if foreign_keys:
        conn.execute("PRAGMA foreign_keys=ON")
    return conn


@contextmanager
def immediate_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction on an autocommit connection, taken at once (BEGIN IMMEDIATE) so
    concurrent writers serialise instead of failing halfway; rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
