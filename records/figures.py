"""The office's official reference figures: population, area, FDI, port throughput... entered by
an administrator with the document they come from, kept in the office's SQLite file.

``config/facts.yaml`` defines the quantities (label, unit, tolerance, the words that introduce
them) and ships only placeholders (``official: false``), which are never compared with articles.
A figure entered here is official by construction: it cannot be saved without its source
citation, and it names who entered it and when. ``classifiers.facts.FactChecker.with_references``
puts these figures in front of the file's own, so a ``fact_conflict`` reason cites the office's
figure. A figure is never edited: a wrong one is retired (kept, with who retired it) and a new
one entered, so a reason given yesterday can still be traced to the figure it cited.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hpbase.clock import iso, utcnow
from hpbase.schema import Schema, migrate
from index.db import connect

MAX_SOURCE_CHARS = 500
MIN_YEAR, MAX_YEAR = 1900, 2100

_STEP_1 = """
CREATE TABLE IF NOT EXISTS official_figures (
    id INTEGER PRIMARY KEY,
    quantity TEXT NOT NULL,            -- a quantity of config/facts.yaml
    value REAL NOT NULL,
    period INTEGER,                    -- the year of an annual flow (FDI, throughput, growth)
    valid_from TEXT,                   -- ISO dates of a point-in-time quantity (population, area)
    valid_until TEXT,
    source TEXT NOT NULL,              -- the citation: document, issuer, number
    source_date TEXT,                  -- the document's date (ISO)
    document_id INTEGER,               -- the document in the evidence library, when it is there
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    retired_at TEXT,
    retired_by TEXT
);
CREATE INDEX IF NOT EXISTS official_figures_quantity ON official_figures(quantity, retired_at);
"""

#: The versioned schema (``hpbase.schema``).
SCHEMA = Schema("official_figures", (_STEP_1,))


class FigureError(ValueError):
    """A figure that cannot be saved; the message is a catalogue key (``facts.error.*``)."""


@dataclass(frozen=True)
class OfficialFigure:
    """One figure as entered. ``retired_at`` is set once it no longer applies."""

    id: int
    quantity: str
    value: float
    period: int | None
    valid_from: date | None
    valid_until: date | None
    source: str
    source_date: date | None
    document_id: int | None
    entered_by: str
    entered_at: datetime
    retired_at: datetime | None = None
    retired_by: str | None = None

    @property
    def active(self) -> bool:
        return self.retired_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "quantity": self.quantity, "value": self.value, "period": self.period,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "source": self.source, "source_date": self.source_date.isoformat() if self.source_date else None,
            "document_id": self.document_id, "entered_by": self.entered_by, "entered_at": iso(self.entered_at),
            "retired_at": iso(self.retired_at), "retired_by": self.retired_by, "official": True,
        }


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def check_figure(*, quantity: str, value: float, source: str, known: set[str] | None = None,
                 period: int | None = None, valid_from: date | None = None,
                 valid_until: date | None = None) -> str:
    """The figure's source, cleaned, or FigureError naming what is wrong: an unknown quantity, a
    value that is not a positive finite number, no source, a year out of range, a validity that
    ends before it starts, or both a year and a validity."""
    if known is not None and quantity not in known:
        raise FigureError("facts.error.quantity")
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise FigureError("facts.error.value")
    source = " ".join((source or "").split())
    if not source:
        raise FigureError("facts.error.source")
    if len(source) > MAX_SOURCE_CHARS:
        raise FigureError("facts.error.source_long")
    if period is not None and not MIN_YEAR <= period <= MAX_YEAR:
        raise FigureError("facts.error.period")
    if period is not None and (valid_from or valid_until):
        raise FigureError("facts.error.period_and_validity")
    if valid_from and valid_until and valid_until < valid_from:
        raise FigureError("facts.error.validity")
    return source


class OfficialFigures:
    """The official figures in the office's SQLite file. Safe to share between threads."""

    _COLUMNS = ("id, quantity, value, period, valid_from, valid_until, source, source_date, document_id, "
                "entered_by, entered_at, retired_at, retired_by")

    def __init__(self, path: str | Path, *, now=utcnow) -> None:
        self.path = Path(path)
        self._conn = connect(self.path)
        migrate(self._conn, SCHEMA)
        self._lock = threading.RLock()
        self._now = now

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def add(self, *, quantity: str, value: float, source: str, entered_by: str, known: set[str] | None = None,
            period: int | None = None, valid_from: date | None = None, valid_until: date | None = None,
            source_date: date | None = None, document_id: int | None = None) -> OfficialFigure:
        """Save a figure (checked by ``check_figure``; ``known``: the quantities of facts.yaml)."""
        source = check_figure(quantity=quantity, value=value, source=source, known=known, period=period,
                              valid_from=valid_from, valid_until=valid_until)
        with self._lock, self._conn:
            figure_id = self._conn.execute(
                "INSERT INTO official_figures(quantity, value, period, valid_from, valid_until, source, source_date, "
                "document_id, entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (quantity, float(value), period, valid_from.isoformat() if valid_from else None,
                 valid_until.isoformat() if valid_until else None, source,
                 source_date.isoformat() if source_date else None, document_id, entered_by, iso(self._now())),
            ).lastrowid
        return self.get(figure_id)  # type: ignore[arg-type,return-value]

    def retire(self, figure_id: int, *, by: str) -> bool:
        """Mark a figure as no longer applying; False when there is no such active figure."""
        with self._lock, self._conn:
            cur = self._conn.execute(
                "UPDATE official_figures SET retired_at = ?, retired_by = ? WHERE id = ? AND retired_at IS NULL",
                (iso(self._now()), by, figure_id))
            return cur.rowcount > 0

    @staticmethod
    def _figure(row: tuple) -> OfficialFigure:
        return OfficialFigure(
            id=row[0], quantity=row[1], value=row[2], period=row[3], valid_from=_day(row[4]),
            valid_until=_day(row[5]), source=row[6], source_date=_day(row[7]), document_id=row[8],
            entered_by=row[9], entered_at=datetime.fromisoformat(row[10]),
            retired_at=datetime.fromisoformat(row[11]) if row[11] else None, retired_by=row[12])

    def get(self, figure_id: int) -> OfficialFigure | None:
        with self._lock:
            row = self._conn.execute(f"SELECT {self._COLUMNS} FROM official_figures WHERE id = ?",
                                     (figure_id,)).fetchone()
        return self._figure(row) if row else None

    def list(self, *, include_retired: bool = False) -> list[OfficialFigure]:
        """The figures, newest first (the active ones only unless ``include_retired``)."""
        sql = f"SELECT {self._COLUMNS} FROM official_figures"
        if not include_retired:
            sql += " WHERE retired_at IS NULL"
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY entered_at DESC, id DESC").fetchall()
        return [self._figure(r) for r in rows]
