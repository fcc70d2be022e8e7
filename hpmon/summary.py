"""The per-source run summary: built from the crawl's hierarchical counters.

Every link a source listed is accounted for: fetched, or skipped with the reason counted
(already seen, waiting out the backoff after a failure of our own, over the source's cap,
older than ``max_age_days``), so a summary never reads as if links went missing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields

from rich.table import Table

from crawlers.sources import Source


@dataclass
class SourceSummary:
    source_id: str
    name: str
    kind: str
    fetched: int = 0
    new: int = 0
    relevant: int = 0
    duplicates: int = 0
    not_relevant: int = 0
    links: int = 0  # article links the source listed (each is fetched or skipped for one reason below)
    skipped_seen: int = 0
    skipped_backoff: int = 0  # waiting out the backoff after a failure of our own (retried on a later run)
    skipped_cap: int = 0  # over the source's max_articles for one run
    skipped_old: int = 0  # listed with a date older than max_age_days
    not_modified: int = 0
    resolved_links: int = 0  # news-search ids resolved to the article's URL (crawlers/newslinks.py)
    failures: Counter = field(default_factory=Counter)
    warnings: Counter = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def to_dict(self) -> dict:
        return {
            "source": self.source_id, "name": self.name, "kind": self.kind, "fetched": self.fetched, "new": self.new,
            "relevant": self.relevant, "duplicates": self.duplicates, "not_relevant": self.not_relevant,
            "links": self.links, "skipped_seen": self.skipped_seen, "skipped_backoff": self.skipped_backoff,
            "skipped_cap": self.skipped_cap, "skipped_old": self.skipped_old, "not_modified": self.not_modified,
            "resolved_links": self.resolved_links, "failed": self.failed,
            "failures": dict(self.failures), "warnings": dict(self.warnings),
        }


_COUNTERS = frozenset(f.name for f in fields(SourceSummary) if f.type == "int")


def summarize(stats: dict, sources: list[Source]) -> list[SourceSummary]:
    """One summary per source from stats keys ``source/<id>/<counter>[/<reason>]``."""
    rows = {s.id: SourceSummary(s.id, s.name, s.kind) for s in sources if s.enabled}
    for key, value in stats.items():
        parts = key.split("/")
        if len(parts) < 3 or parts[0] != "source" or parts[1] not in rows:
            continue
        row, counter = rows[parts[1]], parts[2]
        if counter == "failed" and len(parts) > 3:
            row.failures[parts[3]] += value
        elif counter == "warnings" and len(parts) > 3:
            row.warnings[parts[3]] += value
        elif counter == "dropped" and len(parts) > 3 and parts[3] == "not_relevant":
            row.not_relevant += value
        elif counter in _COUNTERS:
            setattr(row, counter, getattr(row, counter) + value)
    return list(rows.values())


def summary_table(rows: list[SourceSummary], title: str = "Crawl summary") -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("source", no_wrap=True, min_width=10)
    table.add_column("kind", no_wrap=True)
    for column in ("fetched", "new", "relevant", "dup.", "failed"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("reasons", overflow="fold", min_width=12)
    totals = Counter()
    for row in rows:
        reasons = ", ".join(f"{k}×{v}" for k, v in row.failures.most_common())
        notes = [f"{k}×{v}" for k, v in row.warnings.items()]
        if row.not_modified:
            notes.append("not modified")
        if row.resolved_links:
            notes.append(f"{row.resolved_links} search links resolved")
        if row.skipped_seen:
            notes.append(f"{row.skipped_seen} already seen")
        if row.skipped_backoff:
            notes.append(f"{row.skipped_backoff} waiting to be retried")
        if row.skipped_cap:
            notes.append(f"{row.skipped_cap} over the source's cap")
        if row.skipped_old:
            notes.append(f"{row.skipped_old} too old")
        if notes:
            reasons = "; ".join(filter(None, [reasons, ", ".join(notes)]))
        table.add_row(row.source_id, row.kind, str(row.fetched), str(row.new), str(row.relevant),
                      str(row.duplicates), str(row.failed), reasons)
        totals.update({"fetched": row.fetched, "new": row.new, "relevant": row.relevant,
                       "duplicates": row.duplicates, "failed": row.failed})
    table.add_section()
    table.add_row("total", "", str(totals["fetched"]), str(totals["new"]), str(totals["relevant"]),
                  str(totals["duplicates"]), str(totals["failed"]), "")
    return table
