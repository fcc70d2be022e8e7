"""Every route declares the minimum role it needs; one dependency enforces it and checks the CSRF
token of every state-changing request.

Routes are added with :func:`page`, which records the role on the route (``openapi_extra``) so a
test can list every route with its role and fail when one lacks it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request

from web.auth import ROLE_RANK, csrf_valid

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
ROLE_KEY = "x-min-role"


class LoginRequired(Exception):  # noqa: N818 - a control-flow signal, handled by the app
    """The route needs a logged-in user and there is none."""


class Forbidden(Exception):  # noqa: N818
    """The user's role is below the route's, or the CSRF token is missing or wrong; ``reason`` is a
    catalogue key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def check_csrf(request: Request) -> None:
    """Raise Forbidden unless the request carries the CSRF token of its session (form field or header)."""
    token = request.headers.get(CSRF_HEADER)
    if not token:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    ctx = request.app.state.ctx
    if not csrf_valid(ctx.secret, request.state.csrf_binding, token):
        raise Forbidden("error.csrf")


def require(role: str) -> Callable[[Request], Any]:
    """The dependency of a route needing ``role`` ("public", "viewer", "analyst", "admin")."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    async def guard(request: Request) -> None:
        user = request.state.user
        if role != "public":
            if user is None:
                raise LoginRequired()
            if not user.has_role(role):
                raise Forbidden("error.forbidden")
        if request.method not in SAFE_METHODS:
            await check_csrf(request)

    return guard


def page(router: APIRouter, path: str, *, role: str, methods: tuple[str, ...] = ("GET",),
         **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``path`` on ``router`` behind the role guard; the role is recorded on the route."""

    def decorate(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(path, endpoint, methods=list(methods), dependencies=[Depends(require(role))],
                             openapi_extra={ROLE_KEY: role}, include_in_schema=True, **kwargs)
        return endpoint

    return decorate


def route_role(route: Any) -> str | None:
    """The role a route declared through :func:`page`, or None."""
    extra = getattr(route, "openapi_extra", None) or {}
    return extra.get(ROLE_KEY)
