"""The web app's cookies: their names, and the one way each is set (HttpOnly, SameSite=Lax, Secure
over HTTPS). The app's middleware reads them and the account routes set them, so they live here,
below both, rather than in the app that registers the routes."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

SESSION_COOKIE = "hpmon_session"
PRE_COOKIE = "hpmon_pre"  # binds the CSRF token of a browser not logged in
LANG_COOKIE = "hpmon_lang"
DEVICE_COOKIE = "hpmon_device"  # a browser that logged in as a user before (web.auth.device_token)


def is_https(request: Request) -> bool:
    """True when the browser reached us over HTTPS (directly or through a proxy that says so)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    """Set a cookie the way every hpmon cookie is set: HttpOnly, SameSite=Lax, Secure over HTTPS."""
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=is_https(request),
                        path="/")
