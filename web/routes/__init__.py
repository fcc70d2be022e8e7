"""The app's routes, one module per page."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI


def _add(app: FastAPI, router: APIRouter) -> None:
    # The routes are added as they are (no prefix), so the app's route list is flat and every
    # route's declared role can be read back (FastAPI's include_router now nests them).
    app.router.routes.extend(router.routes)


def register_all(app: FastAPI, features: dict[str, bool]) -> None:
    """Add every page's routes (the optional pages only when their service exists)."""
    from web.routes import account, articles, search, sources, stories, trends, users

    for module in (account, search, trends, stories, articles, sources, users):
        _add(app, module.router)
    if features.get("cases"):
        from web.routes import cases

        _add(app, cases.router)
    if features.get("figures"):
        from web.routes import facts

        _add(app, facts.router)
    if features.get("alerts"):
        from web.routes import alerts

        _add(app, alerts.router)
    if features.get("digests"):
        from web.routes import digests

        _add(app, digests.router)
