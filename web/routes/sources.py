"""Each source's health (last fetch, last new article, error streak, last error) and the last runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from pipeline.sources_status import sources_overview
from web.guard import page
from web.render import render

router = APIRouter()
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
    overview = sources_overview(settings.state_path, settings.sources_path, runs=RUNS_SHOWN)
    rows, runs = overview.rows, overview.runs
    error_key = "sources.registry_error" if overview.registry_error else None
    rows.sort(key=lambda r: (-(r["health"].get("error_streak") or 0), r["id"]))
    # the sources file lists many more sources than an office crawls: by default, only those crawled
    show = show if show in VIEWS else VIEWS[0]
    if not any(r["health"] for r in rows):
        show = "all"
    shown = [r for r in rows if show == "all" or (show == "crawled" and r["health"])
             or (show == "problems" and r["health"].get("error_streak"))]
    return render(request, "sources.html", rows=shown, total=len(rows), show=show, views=VIEWS,
                  runs=[{**r, "totals": _run_totals(r)} for r in runs], error_key=error_key)
