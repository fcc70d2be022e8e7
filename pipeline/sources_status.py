"""What the office sees of its sources: each registered (or once crawled) source with its crawl
health, recent failures and the last runs, read from the sources registry and the crawl state.

The web app's Sources page and its outlet names read them here: the web layer reaches the
crawlers' stores only through this read model (docs/design.md, layer table)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawlers.sources import load_sources
from crawlers.state import CrawlState

log = logging.getLogger(__name__)


@dataclass
class SourcesOverview:
    """Every source as a row (registered ones first in file order, then sources the crawl state
    knows that the registry no longer lists), the last runs, and whether the registry could be
    read."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    registry_error: str | None = None


def sources_overview(state_path: Path, sources_path: Path, *, runs: int = 20,
                     failures_per_source: int = 3) -> SourcesOverview:
    """The rows of the Sources page: id, name, kind, enabled, language, country, ``health`` (the
    crawl state's), ``failures`` (the latest, for a source in an error streak) and
    ``registered``. A broken registry leaves the health rows and says why."""
    state = CrawlState(state_path)
    try:
        health = state.health()
        last_runs = state.last_runs(runs)
        failures = {sid: state.recent_failures(sid, limit=failures_per_source)
                    for sid, h in health.items() if h.get("error_streak")}
    finally:
        state.close()
    overview = SourcesOverview(runs=last_runs)
    try:
        configured = load_sources(sources_path)
    except Exception as exc:  # a broken registry file must not hide the health table
        log.warning("sources registry unreadable: %s", exc)
        configured, overview.registry_error = [], str(exc)
    for source in configured:
        overview.rows.append({"id": source.id, "name": source.name, "kind": source.kind, "enabled": source.enabled,
                              "language": source.language, "country": source.country,
                              "health": health.get(source.id, {}), "failures": failures.get(source.id, []),
                              "registered": True})
    known = {s.id for s in configured}
    for sid, h in sorted(health.items()):
        if sid not in known:
            overview.rows.append({"id": sid, "name": "", "kind": "", "enabled": True, "language": None,
                                  "country": None, "health": h, "failures": failures.get(sid, []),
                                  "registered": False})
    return overview


_REGISTRY: dict[str, tuple[float, dict[str, str]]] = {}


def registry_names(path: Path) -> dict[str, str]:
    """Source id → the outlet's name from the sources registry (read again when the file
    changes; empty when it cannot be read, so callers fall back to what the index says)."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    cached = _REGISTRY.get(str(path))
    if cached and cached[0] == mtime:
        return cached[1]
    try:
        names = {s.id: s.name for s in load_sources(path) if s.name}
    except Exception:  # a broken registry shows ids' outlets from the index instead
        names = {}
    _REGISTRY[str(path)] = (mtime, names)
    return names
