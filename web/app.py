"""The analysts' web app: ``create_app(settings, backend)`` builds a FastAPI application with
server-rendered pages. Nothing is created at import time; every part comes from the settings."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from index.backend import Backend
from records.labels import LabelStore
from web.auth import UserStore, csrf_token, load_secret_key
from web.cookies import LANG_COOKIE, PRE_COOKIE, SESSION_COOKIE, is_https, set_cookie
from web.guard import Forbidden, LoginRequired, route_role
from web.i18n import Catalogues, DateFormatter, Taxonomy, load_taxonomy, pick_language
from web.render import STATIC_DIR, make_environment, render
from web.saved import SavedSearches

log = logging.getLogger(__name__)

PUBLIC_MOUNTS = ("/static",)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class WebSettings(Protocol):
    """The settings the web app reads (``hpmon.settings.Settings`` has them all)."""

    home: Path
    config_dir: Path
    index: str
    secret_key: str | None
    base_url: str

    @property
    def app_db_path(self) -> Path: ...
    @property
    def index_path(self) -> Path: ...
    @property
    def state_path(self) -> Path: ...
    @property
    def warc_dir(self) -> Path: ...
    @property
    def sources_path(self) -> Path: ...
    @property
    def city_path(self) -> Path: ...


@dataclass
class AppContext:
    """Everything the routes share, built once by ``create_app`` and kept on ``app.state.ctx``."""

    settings: Any
    backend: Backend
    users: UserStore
    labels: LabelStore
    saved: SavedSearches
    catalogues: Catalogues
    taxonomy: Taxonomy
    dates: DateFormatter
    timezone: str
    city_name: dict[str, str]
    secret: bytes
    env: Environment
    features: dict[str, bool] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)
    health: Callable[[], dict] | None = None  # the installation's health report (hpmon passes it in)
    metrics: Callable[[dict], str] | None = None  # the report as Prometheus text

    def close(self) -> None:
        for store in (self.users, self.labels, self.saved, *self.services.values()):
            close = getattr(store, "close", None)
            if callable(close):
                close()


def _open_backend(settings: Any) -> Backend:
    if settings.index != "sqlite":
        raise ValueError("create_app needs the Elasticsearch backend passed in (hpmon serve does it)")
    from index.sqlite import SqliteBackend

    return SqliteBackend(settings.index_path, time_limit_ms=getattr(settings, "search_time_limit_ms", 5000))


def _city(settings: Any) -> tuple[str, dict[str, str]]:
    """The city's time zone and display names (Asia/Ho_Chi_Minh when no profile is found)."""
    try:
        from pipeline.city import load_profile

        profile = load_profile(settings.city_path)
        return profile.timezone, dict(profile.display_name)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("city profile unreadable (%s); using Asia/Ho_Chi_Minh", exc)
        return "Asia/Ho_Chi_Minh", {}


def create_app(settings: Any, backend: Backend | None = None, *, password_hasher: PasswordHasher | None = None,
               health: Callable[[], dict] | None = None, metrics: Callable[[dict], str] | None = None) -> FastAPI:
    """The web application for ``settings`` (an ``hpmon.settings.Settings``) over ``backend``
    (opened from the settings when None; Elasticsearch must be passed in). ``password_hasher``
    replaces argon2's default parameters (tests use cheap ones)."""
    from web.routes import register_all
    from web.services import load_services

    backend = backend if backend is not None else _open_backend(settings)
    timezone, city_name = _city(settings)
    settings.home.mkdir(parents=True, exist_ok=True)
    services, features = load_services(settings, backend)
    ctx = AppContext(
        settings=settings, backend=backend, users=UserStore(settings.app_db_path, hasher=password_hasher),
        labels=LabelStore(settings.app_db_path), saved=SavedSearches(settings.app_db_path),
        catalogues=Catalogues(), taxonomy=load_taxonomy(settings.config_dir / "topics.yaml"),
        dates=DateFormatter(timezone), timezone=timezone, city_name=city_name,
        secret=load_secret_key(settings.secret_key, settings.home), env=make_environment(),
        features=features, services=services, health=health, metrics=metrics,
    )
    app = FastAPI(title="hpmon", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    register_all(app, features)
    undeclared = [getattr(r, "path", "?") for r in app.routes
                  if not getattr(r, "path", "").startswith(PUBLIC_MOUNTS) and route_role(r) is None]
    if undeclared:
        raise RuntimeError(f"routes without a declared role: {', '.join(undeclared)}")
    _install_middleware(app)
    _install_error_pages(app)
    app.router.add_event_handler("shutdown", ctx.close)
    return app


def _install_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def session_and_headers(request: Request, call_next):
        ctx: AppContext = request.app.state.ctx
        session = request.cookies.get(SESSION_COOKIE)
        user = ctx.users.session_user(session)
        pre = request.cookies.get(PRE_COOKIE)
        new_pre = None
        if not pre or len(pre) > 100:
            pre = new_pre = secrets.token_urlsafe(24)
        request.state.user = user
        request.state.session = session if user else None
        request.state.lang = pick_language(request.cookies.get(LANG_COOKIE))
        request.state.csrf_binding = f"s:{session}" if user else f"p:{pre}"
        request.state.csrf_token = csrf_token(ctx.secret, request.state.csrf_binding)
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if is_https(request):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers.setdefault("Cache-Control", "no-store")
        if new_pre and not request.url.path.startswith("/static/"):
            set_cookie(request, response, PRE_COOKIE, new_pre)
        return response

    app.add_middleware(GZipMiddleware, minimum_size=1000)


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return render(request, "error.html", status_code=401, message_key="error.login_required")

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        return render(request, "error.html", status_code=403, message_key=exc.reason)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if not hasattr(request.state, "lang"):  # raised before the middleware ran (static files)
            return Response(status_code=exc.status_code)
        key = {404: "error.not_found", 405: "error.method", 413: "error.too_large"}.get(exc.status_code,
                                                                                       "error.generic")
        return render(request, "error.html", status_code=exc.status_code, message_key=key)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        return render(request, "error.html", status_code=400, message_key="error.bad_request")
