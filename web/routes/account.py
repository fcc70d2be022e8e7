"""Log in and out, the interface language, one's own password, and the health probe."""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import math

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from web.auth import DEVICE_LIFETIME, SESSION_LIFETIME, UserError, device_token, device_valid
from web.cookies import DEVICE_COOKIE, LANG_COOKIE, SESSION_COOKIE, set_cookie
from web.guard import page
from web.i18n import LANGUAGES
from web.render import render

router = APIRouter()
log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str:
    """A local path to go to after login (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/search"
    return target[:2000]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@page(router, "/", role="viewer")
def home() -> Response:
    return RedirectResponse("/search", status_code=303)


@page(router, "/healthz", role="public")
def healthz(request: Request) -> Response:
    """Liveness and health for monitors: 200 "ok" (or 503 with the problems) from the health
    report hpmon passes in; details only to whom :func:`_trusted` says."""
    ctx = request.app.state.ctx
    if ctx.health is None:
        return PlainTextResponse("ok")
    report = ctx.health()
    problems = report.get("problems", [])
    status = 503 if report.get("status") == "failing" else 200
    if _trusted(request):
        return JSONResponse(report, status_code=status)
    return PlainTextResponse("ok" if not problems else "degraded", status_code=status)


@page(router, "/metrics", role="public")
def metrics(request: Request) -> Response:
    """Prometheus metrics, for a scraper allowed by address or token, or an admin."""
    ctx = request.app.state.ctx
    if ctx.health is None or ctx.metrics is None:
        return PlainTextResponse("", status_code=404)
    if not _trusted(request):
        return PlainTextResponse("forbidden", status_code=403)
    return PlainTextResponse(ctx.metrics(ctx.health()), media_type="text/plain; version=0.0.4")


def _trusted(request: Request) -> bool:
    """Who gets /metrics and the details of /healthz, and nothing implicit: an admin's session, the
    ``web_metrics_token`` as a bearer token, or a client address in ``web_metrics_allow`` (the
    address as uvicorn gives it, i.e. the proxy's X-Forwarded-For only with ``--proxy-headers`` and
    a trusted proxy; deploy/README.md)."""
    user = request.state.user
    if user is not None and user.has_role("admin"):
        return True
    settings = request.app.state.ctx.settings
    token = getattr(settings, "web_metrics_token", None)
    auth = request.headers.get("authorization", "")
    if token and auth[:7].lower() == "bearer " and hmac.compare_digest(auth[7:].strip().encode(), token.encode()):
        return True
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(getattr(settings, "web_metrics_allow", ()))))


@functools.lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            log.warning("web_metrics_allow: %r is not a network; ignored", cidr)
    return tuple(networks)


def _too_early(response: Response, retry_after: float) -> Response:
    """A 429 for a login attempt that came before its wait was over (the password was not checked)."""
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


@page(router, "/login", role="public")
def login_form(request: Request, next: str = "/search") -> Response:  # noqa: A002 - the URL's name
    if request.state.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", next=safe_next(next), error_key=None, username="")


@page(router, "/login", role="public", methods=("POST",))
def login(request: Request, username: str = Form("", max_length=200), password: str = Form("", max_length=2000),
          next: str = Form("/search", max_length=2000)) -> Response:  # noqa: A002
    ctx = request.app.state.ctx
    target = safe_next(next)
    device = device_valid(ctx.secret, request.cookies.get(DEVICE_COOKIE), username)
    result = ctx.users.login(username, password, client_ip(request), device=device)
    if result.throttled:
        return _too_early(render(request, "login.html", status_code=429, next=target, error_key=None,
                                 retry_after=math.ceil(result.retry_after), username=username), result.retry_after)
    user = result.user
    if user is None:
        return render(request, "login.html", status_code=401, next=target, error_key="login.failed",
                      username=username)
    old = request.cookies.get(SESSION_COOKIE)
    ctx.users.end_session(old)
    token = ctx.users.start_session(user)
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()))
    # this browser now has a login budget of its own for this user (web.auth.LoginThrottle)
    set_cookie(request, response, DEVICE_COOKIE, device_token(ctx.secret, user.username, device),
               max_age=int(DEVICE_LIFETIME.total_seconds()))
    return response


@page(router, "/logout", role="viewer", methods=("POST",))
def logout(request: Request) -> Response:
    request.app.state.ctx.users.end_session(request.state.session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@page(router, "/lang", role="public", methods=("POST",))
def switch_language(request: Request, lang: str = Form("vi", max_length=5),
                    next: str = Form("/search", max_length=2000)) -> Response:  # noqa: A002
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(request, response, LANG_COOKIE, lang if lang in LANGUAGES else "vi", max_age=365 * 86400)
    return response


@page(router, "/account", role="viewer")
def account(request: Request) -> Response:
    return render(request, "account.html", message_key=None, error_key=None)


@page(router, "/account/password", role="viewer", methods=("POST",))
def change_password(request: Request, current: str = Form("", max_length=2000), new: str = Form("", max_length=2000),
                    confirm: str = Form("", max_length=2000)) -> Response:
    ctx = request.app.state.ctx
    user = request.state.user
    device = device_valid(ctx.secret, request.cookies.get(DEVICE_COOKIE), user.username)
    result = ctx.users.login(user.username, current, client_ip(request), device=device)
    if result.throttled:
        return _too_early(render(request, "account.html", status_code=429, message_key=None, error_key=None,
                                 retry_after=math.ceil(result.retry_after)), result.retry_after)
    if result.user is None:
        return render(request, "account.html", status_code=400, message_key=None, error_key="account.wrong_current")
    if new != confirm:
        return render(request, "account.html", status_code=400, message_key=None, error_key="account.mismatch")
    try:
        ctx.users.set_password(user.username, new)
    except UserError as exc:
        return render(request, "account.html", status_code=400, message_key=None, error_key=str(exc))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
