"""Each source's health (last fetch, last new article, error streak, last error) and the last runs."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from crawlers.sources import load_sources
from crawlers.state import CrawlState
from web.guard import page
from web.render import render

router = APIRouter()
log = logging.getLogger(__name__)
RUNS_SHOWN = 20
VIEWS = ("crawled", "problems", "all")  # the first is the default


def _run_totals(run: dict) -> dict:
    """Sums over the sources of one run's summary (fetched, new, relevant, failed)."""
    rows = (run.get("summary") or {}).get("sources") or []
    totals = {key: sum(int(r.get(key) or 0) for r in rows) for key in ("fetched", "new", "relevant", "failed")}
    totals["sources"] = len(rows)
    totals["failed_sources"] = [str(r.get("source")) for r in rows if r.get("failed") and not r.get("fetched")]
    return totals


@page(router, "/sources", role="viewer")
def sources_page(request: Request, show: Annotated[str, Query(max_length=20)] = "crawled") -> Response:
    settings = request.app.state.ctx.settings
    state = CrawlState(settings.state_path)
    try:
        health = state.health()
        runs = state.last_runs(RUNS_SHOWN)
        failures = {sid: state.recent_failures(sid, limit=3) for sid, h in health.items() if h.get("error_streak")}
    finally:
        state.close()
    error_key = None
    try:
        configured = load_sources(settings.sources_path)
    except Exception as exc:  # a broken registry file must not hide the health table
        log.warning("sources registry unreadable: %s", exc)
        configured, error_key = [], "sources.registry_error"
    rows = []
    for source in configured:
        rows.append({"id": source.id, "name": source.name, "kind": source.kind, "enabled": source.enabled,
                     "language": source.language, "country": source.country, "health": health.get(source.id, {}),
                     "failures": failures.get(source.id, []), "registered": True})
    known = {s.id for s in configured}
    for sid, h in sorted(health.items()):
        if sid not in known:
            rows.append({"id": sid, "name": "", "kind": "", "enabled": True, "language": None, "country": None,
                         "health": h, "failures": failures.get(sid, []), "registered": False})
    rows.sort(key=lambda r: (-(r["health"].get("error_streak") or 0), r["id"]))
    # the sources file lists many more sources than an office crawls: by default, only those crawled
    show = show if show in VIEWS else VIEWS[0]
    if not any(r["health"] for r in rows):
        show = "all"
    shown = [r for r in rows if show == "all" or (show == "crawled" and r["health"])
             or (show == "problems" and r["health"].get("error_streak"))]
    return render(request, "sources.html", rows=shown, total=len(rows), show=show, views=VIEWS,
                  runs=[{**r, "totals": _run_totals(r)} for r in runs], error_key=error_key)
