"""User management (admins only): add, change role, disable or enable, reset password."""

from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from web.auth import ROLES, User, UserError
from web.guard import page
from web.params import RecordId
from web.render import render

router = APIRouter()


def _page(request: Request, *, status_code: int = 200, error_key: str | None = None,
          message_key: str | None = None) -> Response:
    store = request.app.state.ctx.users
    return render(request, "users.html", status_code=status_code, users=store.list_users(), roles=ROLES,
                  error_key=error_key, message_key=message_key, failures=store.recent_failures())


def _target(request: Request, user_id: RecordId) -> User:
    user = request.app.state.ctx.users.get(user_id)
    if user is None:
        raise HTTPException(404)
    return user


def _would_remove_last_admin(request: Request, target: User, *, new_role: str | None = None,
                             disabling: bool = False) -> bool:
    if target.role != "admin" or target.disabled:
        return False
    losing = disabling or (new_role is not None and new_role != "admin")
    return losing and request.app.state.ctx.users.count_admins() <= 1


@page(router, "/users", role="admin")
def users_page(request: Request) -> Response:
    return _page(request)


@page(router, "/users", role="admin", methods=("POST",))
def add_user(request: Request, username: str = Form("", max_length=64), password: str = Form("", max_length=1024),
             role: str = Form("viewer", max_length=10)) -> Response:
    try:
        request.app.state.ctx.users.add_user(username, password, role)
    except UserError as exc:
        return _page(request, status_code=400, error_key=str(exc))
    return RedirectResponse("/users", status_code=303)


@page(router, "/users/{user_id}/role", role="admin", methods=("POST",))
def change_role(request: Request, user_id: RecordId, role: str = Form(..., max_length=10)) -> Response:
    target = _target(request, user_id)
    if _would_remove_last_admin(request, target, new_role=role):
        return _page(request, status_code=400, error_key="users.error.last_admin")
    try:
        request.app.state.ctx.users.set_role(target.username, role)
    except UserError as exc:
        return _page(request, status_code=400, error_key=str(exc))
    return RedirectResponse("/users", status_code=303)


@page(router, "/users/{user_id}/password", role="admin", methods=("POST",))
def reset_password(request: Request, user_id: RecordId, password: str = Form("", max_length=1024)) -> Response:
    target = _target(request, user_id)
    try:
        request.app.state.ctx.users.set_password(target.username, password)
    except UserError as exc:
        return _page(request, status_code=400, error_key=str(exc))
    return _page(request, message_key="users.password_reset")


@page(router, "/users/{user_id}/disable", role="admin", methods=("POST",))
def disable_user(request: Request, user_id: RecordId) -> Response:
    target = _target(request, user_id)
    if target.id == request.state.user.id:
        return _page(request, status_code=400, error_key="users.error.self")
    if _would_remove_last_admin(request, target, disabling=True):
        return _page(request, status_code=400, error_key="users.error.last_admin")
    request.app.state.ctx.users.set_disabled(target.username, True)
    return RedirectResponse("/users", status_code=303)


@page(router, "/users/{user_id}/enable", role="admin", methods=("POST",))
def enable_user(request: Request, user_id: RecordId) -> Response:
    target = _target(request, user_id)
    request.app.state.ctx.users.set_disabled(target.username, False)
    return RedirectResponse("/users", status_code=303)
