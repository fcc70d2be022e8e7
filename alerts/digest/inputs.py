"""What the digest needs from the rebuttal case store: each article's case state and the size of
the queue on a given day. ONE function (``case_inputs``) builds both, and every path that builds a
digest — ``hpmon digest``, the scheduled send (``send_due_digests``) and the web preview — calls it,
so the PDF, the e-mail and the preview cannot disagree about a case.

The queue of day D is the number of cases open (``records.cases.OPEN_STATES``) at the end of D, city
time, read from the cases' audit trail: the digest of a past day shows that day's queue, not
today's. Without a case store (None) both are None and the digest says "—" / "no case".
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from alerts.digest.collect import CaseState, QueueCounter, day_bounds

if TYPE_CHECKING:
    from records.cases import CaseStore

log = logging.getLogger(__name__)

MAX_CASES = 100_000


@dataclass(frozen=True)
class DigestInputs:
    """The two callables ``collect_digest`` takes from the case store (None: no store)."""

    case_state: CaseState | None = None
    queue_counter: QueueCounter | None = None


class _Timelines:
    """Every case's states over time (from its audit trail), read once on first use."""

    def __init__(self, store: CaseStore) -> None:
        self.store = store
        self._changes: list[tuple[list[datetime], list[str]]] | None = None

    def load(self) -> list[tuple[list[datetime], list[str]]]:
        if self._changes is None:
            changes = []
            for case in self.store.list(limit=MAX_CASES):
                moments, states = [], []
                for entry in self.store.audit(case.id):
                    if entry.to_state and (not states or entry.to_state != states[-1]):
                        moments.append(_utc(entry.at))
                        states.append(entry.to_state)
                if not states:  # a case without an opening entry: its creation and current state
                    moments, states = [_utc(case.created_at)], [case.state]
                changes.append((moments, states))
            self._changes = changes
        return self._changes

    def open_at(self, moment: datetime) -> int:
        """How many cases were in an open state at ``moment``."""
        from records.cases import OPEN_STATES

        count = 0
        for moments, states in self.load():
            n = bisect_right(moments, moment)
            if n and states[n - 1] in OPEN_STATES:
                count += 1
        return count


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def case_inputs(store: CaseStore | None, timezone: str) -> DigestInputs:
    """The case state of an article and the queue count of a day, both from ``store`` (the
    office's ``CaseStore``); empty inputs when there is no store."""
    if store is None:
        return DigestInputs()
    timelines = _Timelines(store)

    def case_state(article_id: str) -> str | None:
        case = store.case_for_article(article_id)
        return case.state if case is not None else None

    def queue_counter(day: date) -> int:
        _, end = day_bounds(day, timezone)
        return timelines.open_at(end)

    return DigestInputs(case_state=case_state, queue_counter=queue_counter)


def open_case_store(path) -> CaseStore | None:
    """The office's case store in the SQLite file at ``path``; None (logged) when it cannot be
    opened — the digest then goes out with "—" rather than not at all."""
    try:
        from records.cases import CaseStore

        return CaseStore(path)
    except Exception:  # the case store is another component: its failure must not stop the digest
        log.exception("rebuttal case store at %s could not be opened", path)
        return None
