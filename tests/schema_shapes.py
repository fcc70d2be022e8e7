"""What the store-schema tests compare: a SQLite file's tables with their columns, and the
version a store recorded in it (hpbase.schema)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hpbase.schema import stored_version


def table_shapes(path: Path) -> dict[str, object]:
    """Every table's and index's columns (name, type, not null, default, key), order aside; the
    versions table left out."""
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                                            "AND name != 'hpmon_schema'")]
        return {n: sorted(tuple(r[1:]) for r in conn.execute(f"PRAGMA table_info({n})")) or "index" for n in names}
    finally:
        conn.close()


def schema_version(path: Path, store: str) -> int:
    """The version ``store`` recorded in the file (0: none)."""
    conn = sqlite3.connect(path)
    try:
        return stored_version(conn, store)
    finally:
        conn.close()
