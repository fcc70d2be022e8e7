"""Every route declares its minimum role, and every role gets exactly what it may: a table of
every route × (anonymous, viewer, analyst, admin), checked through the real app."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from web.auth import ROLE_RANK
from web.guard import route_role

from .conftest import PASSWORD, csrf_of, login

# (method, path) -> minimum role. A route added to the app without a line here fails the test.
EXPECTED: dict[tuple[str, str], str] = {
    ("GET", "/"): "viewer",
    ("GET", "/healthz"): "public",
    ("GET", "/metrics"): "public",
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("POST", "/logout"): "viewer",
    ("POST", "/lang"): "public",
    ("GET", "/account"): "viewer",
    ("POST", "/account/password"): "viewer",
    ("GET", "/search"): "viewer",
    ("GET", "/trends"): "viewer",
    ("GET", "/stories"): "viewer",
    ("GET", "/stories/{story_id}"): "viewer",
    ("GET", "/search/export.csv"): "viewer",
    ("GET", "/search/export.jsonl"): "viewer",
    ("POST", "/saved"): "analyst",
    ("POST", "/saved/{saved_id}/delete"): "analyst",
    ("POST", "/saved/{saved_id}/subscribe"): "analyst",
    ("POST", "/subscriptions/{sub_id}/delete"): "analyst",
    ("GET", "/articles/{article_id}"): "viewer",
    ("GET", "/articles/{article_id}/warc"): "viewer",
    ("POST", "/articles/{article_id}/labels"): "analyst",
    ("GET", "/sources"): "viewer",
    ("GET", "/users"): "admin",
    ("POST", "/users"): "admin",
    ("POST", "/users/{user_id}/role"): "admin",
    ("POST", "/users/{user_id}/password"): "admin",
    ("POST", "/users/{user_id}/disable"): "admin",
    ("POST", "/users/{user_id}/enable"): "admin",
    ("GET", "/cases"): "viewer",
    ("GET", "/cases/{case_id}"): "viewer",
    ("POST", "/cases/{case_id}/move"): "analyst",
    ("POST", "/cases/{case_id}/assign"): "analyst",
    ("POST", "/cases/{case_id}/note"): "analyst",
    ("POST", "/cases/{case_id}/rebuttal"): "analyst",
    ("POST", "/cases/{case_id}/documents"): "analyst",
    ("GET", "/cases/{case_id}/evidence/{evidence_id}"): "viewer",
    ("GET", "/facts"): "analyst",
    ("POST", "/facts"): "admin",
    ("POST", "/facts/{figure_id}/retire"): "admin",
    ("GET", "/alerts"): "viewer",
    ("GET", "/alerts/rules/{name}/test"): "analyst",
    ("GET", "/alerts/new"): "admin",
    ("GET", "/alerts/rules/{name}/edit"): "admin",
    ("POST", "/alerts/rules"): "admin",
    ("GET", "/alerts/recipients"): "admin",
    ("POST", "/alerts/recipients"): "admin",
    ("POST", "/alerts/recipients/{name}/delete"): "admin",
    ("POST", "/alerts/subscriptions/{sub_id}/delete"): "admin",
    ("GET", "/digests"): "viewer",
    ("GET", "/digests/preview/{profile_id}"): "viewer",
}
CLIENT_ROLES = (None, "viewer", "analyst", "admin")


def _routes(app) -> dict[tuple[str, str], str | None]:
    found = {}
    for route in app.routes:
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found[(method, route.path)] = route_role(route)
    return found


def test_every_route_declares_a_role_and_is_in_the_table(app):
    routes = _routes(app)
    undeclared = [key for key, role in routes.items() if role is None and not key[1].startswith("/static")]
    assert not undeclared, f"routes without a declared role: {undeclared}"
    assert set(routes) == set(EXPECTED), (
        f"new routes: {sorted(set(routes) - set(EXPECTED))}; missing: {sorted(set(EXPECTED) - set(routes))}")
    assert {k: routes[k] for k in EXPECTED} == EXPECTED


def test_an_app_with_a_route_lacking_a_role_refuses_to_start(settings, monkeypatch):
    from fastapi import APIRouter

    import web.routes
    from web.app import create_app

    original = web.routes.register_all

    def with_extra(app, features):
        original(app, features)
        extra = APIRouter()
        extra.add_api_route("/leak", lambda: "secret", methods=["GET"])
        app.router.routes.extend(extra.routes)

    monkeypatch.setattr(web.routes, "register_all", with_extra)
    with pytest.raises(RuntimeError, match="/leak"):
        create_app(settings)


@pytest.fixture
def targets(app, settings):
    """Values for the path parameters: a real case, article, user, rule and profile."""
    ctx = app.state.ctx
    article = ctx.backend.get("reasoned")
    case = ctx.services["cases"].open_case_for(article, 0.75).case
    target = ctx.users.add_user("target", PASSWORD, "viewer")
    figure = ctx.services["figures"].add(quantity="population", value=4_700_000, source="Niên giám 2025",
                                         entered_by="admin")
    return {"figure_id": str(figure.id), "article_id": "reasoned", "case_id": str(case.id), "evidence_id": "1",
            "saved_id": "1", "sub_id": "1", "user_id": str(target.id), "story_id": "story-port", "name": "high_risk",
            "profile_id": "sotttt"}


def _url(path: str, targets: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: targets[m.group(1)], path)


@pytest.mark.parametrize("role", CLIENT_ROLES, ids=lambda r: r or "anonymous")
def test_each_role_reaches_exactly_the_routes_of_its_rank(app, targets, role):
    refused, allowed = [], []
    for (method, path), minimum in sorted(EXPECTED.items()):
        if path in ("/logout", "/login"):  # logging in and out are checked in test_auth
            continue
        client = TestClient(app)
        if role:
            assert login(client, role).status_code == 303
        token = csrf_of(client.get("/login" if not role else "/account").text)
        url = _url(path, targets)
        if method == "GET":
            response = client.get(url, follow_redirects=False)
        else:
            response = client.post(url, data={"csrf_token": token}, follow_redirects=False)
        may = ROLE_RANK[role or "public"] >= ROLE_RANK[minimum]
        if may:
            ok = response.status_code not in (401, 403) and "/login" not in response.headers.get("location", "")
            (allowed if ok else refused).append((method, path, response.status_code))
        else:
            expected = (303 if method == "GET" else 401) if role is None else 403
            if response.status_code != expected or (expected == 303 and
                                                      not response.headers["location"].startswith("/login")):
                allowed.append((method, path, response.status_code))
        client.close()
    if may_list := [x for x in refused]:
        pytest.fail(f"{role or 'anonymous'} was refused routes it may use: {may_list}")
    wrong = [x for x in allowed if ROLE_RANK[role or "public"] < ROLE_RANK[EXPECTED[(x[0], x[1])]]]
    assert not wrong, f"{role or 'anonymous'} reached routes above its role: {wrong}"


def test_healthz_and_metrics_come_from_the_injected_health_report(tmp_path):
    from fastapi.testclient import TestClient

    from index.sqlite import SqliteBackend
    from web.app import create_app

    from .conftest import cheap_hasher, make_home

    settings = make_home(tmp_path).model_copy(update={"web_metrics_allow": ["127.0.0.1/32"]})
    backend = SqliteBackend(settings.index_path)
    report = {"status": "degraded", "problems": [{"severity": "warning", "what": "source fx failing"}]}
    app = create_app(settings, backend, password_hasher=cheap_hasher(), health=lambda: report,
                     metrics=lambda r: f"hpmon_problems {len(r['problems'])}\n")
    with TestClient(app, client=("127.0.0.1", 5000)) as client:  # an allowed address
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["problems"][0]["what"] == "source fx failing"
        assert client.get("/metrics").text == "hpmon_problems 1\n"
    report["status"] = "failing"
    with TestClient(app, client=("203.0.113.9", 5000)) as remote:
        answer = remote.get("/healthz")
        assert answer.status_code == 503 and answer.text == "degraded"  # no details to strangers
        assert remote.get("/metrics").status_code == 403
