"""Digests: the archive of digests sent (from the digest log), and each profile's digest of a
day (today by default) previewed as it will be mailed."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from alerts.digest.inputs import case_inputs
from alerts.digest.log import DigestLog
from alerts.digest.profiles import ProfileError, load_profiles
from alerts.digest.render import build_digest
from alerts.i18n import load_taxonomy
from web.guard import page
from web.params import parse_day
from web.render import render

router = APIRouter()
# The digest document carries its own inline CSS and data: images; it is shown in a sandboxed frame.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def _profiles(request: Request):
    settings = request.app.state.ctx.settings
    return load_profiles(settings.config_dir / "digests.yaml")


def _day(value: str, timezone: str) -> date:
    from zoneinfo import ZoneInfo

    if value:
        try:
            return parse_day(value)
        except ValueError:
            pass
    return datetime.now(ZoneInfo(timezone)).date()


@page(router, "/digests", role="viewer")
def digests_page(request: Request, profile: str = "", day: str = "") -> Response:
    ctx = request.app.state.ctx
    try:
        profiles = _profiles(request)
        error = None
    except (ProfileError, OSError) as exc:
        profiles, error = {}, str(exc)
    chosen = profile if profile in profiles else next(iter(profiles), "")
    log = DigestLog(ctx.settings.app_db_path)
    try:
        sent = sorted(log.entries(), key=lambda e: (e.day, e.profile), reverse=True)[:60]
    finally:
        log.close()
    archive = [{"profile": e.profile, "name": profiles[e.profile].display_name(request.state.lang)
                if e.profile in profiles else e.profile, "day": e.day.isoformat(),
                "sent_at": ctx.dates.datetime(e.sent_at, request.state.lang), "recipients": len(e.recipients)}
               for e in sent]
    return render(request, "digests.html", profiles=profiles, chosen=chosen, day=_day(day, ctx.timezone).isoformat(),
                  error=error, archive=archive)


@page(router, "/digests/preview/{profile_id}", role="viewer")
def preview(request: Request, profile_id: str, day: str = "") -> Response:
    ctx = request.app.state.ctx
    try:
        profiles = _profiles(request)
    except (ProfileError, OSError) as exc:
        raise HTTPException(404) from exc
    profile = profiles.get(profile_id)
    if profile is None:
        raise HTTPException(404)
    # the same inputs as `hpmon digest` and the scheduled send: case states and queue counts
    inputs = case_inputs(ctx.services.get("cases"), ctx.timezone)
    digest = build_digest(ctx.backend, profile, _day(day, ctx.timezone), timezone=ctx.timezone,
                          city=ctx.city_name, base_url=ctx.settings.base_url,
                          taxonomy=load_taxonomy(ctx.settings.config_dir / "topics.yaml"),
                          case_state=inputs.case_state, queue_counter=inputs.queue_counter,
                          lang=request.state.lang)
    return HTMLResponse(digest.html("file"), headers={"Content-Security-Policy": PREVIEW_CSP,
                                                      "X-Frame-Options": "SAMEORIGIN"})
