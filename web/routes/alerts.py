"""Alerts: the rules (view, test against stored articles, create and edit), and the history of
alerts with the state of each delivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from alerts.delivery import AlertLog
from alerts.rules import SEVERITIES, RuleError
from web.alerts_file import raw_rule, read_rules, save_rule
from web.guard import page
from web.params import MAX_ID
from web.render import render
from web.searchform import SearchForm

router = APIRouter()
HISTORY_LIMIT = 50
# search page parameter -> filter key of the rules file
RULE_FILTERS = {"lang": "languages", "country": "countries", "source": "sources", "topic": "topics",
                "sentiment": "sentiment", "theme": "themes"}


@page(router, "/alerts", role="viewer")
def alerts_page(request: Request) -> Response:
    ctx = request.app.state.ctx
    rules, error = read_rules(ctx.settings)
    log = AlertLog(ctx.settings.app_db_path)
    try:
        history = [(a, log.deliveries(a.id)) for a in log.alerts(limit=HISTORY_LIMIT)]
    finally:
        log.close()
    return render(request, "alerts.html", rules=rules, rules_error=error, history=history)


@page(router, "/alerts/rules/{name}/test", role="analyst")
def test_rule(request: Request, name: str) -> Response:
    ctx = request.app.state.ctx
    rules, error = read_rules(ctx.settings)
    rule = next((r for r in rules if r.name == name), None)
    if rule is None:
        raise HTTPException(404)
    result = ctx.backend.search(rule.search_query(limit=20, sort="date"))
    return render(request, "alert_test.html", rule=rule, result=result)


def _form_values(raw: dict | None) -> dict:
    raw = raw or {}
    f = raw.get("filters") or {}
    label = raw.get("label") if isinstance(raw.get("label"), dict) else {"vi": raw.get("label") or ""}
    return {
        "name": raw.get("name", ""), "label_vi": label.get("vi", ""), "label_en": label.get("en", ""),
        "query": raw.get("query", ""), "severity": raw.get("severity", "medium"),
        "recipients": ", ".join(r if isinstance(r, str) else r.get("name", "") for r in raw.get("recipients") or []),
        "scope": f.get("scope") or "", "coverage": f.get("coverage") or "",
        "min_risk": f.get("min_risk") if f.get("min_risk") is not None else "",
        **{key: ", ".join(f.get(key) or []) for key in RULE_FILTERS.values()},
        "enabled": raw.get("enabled", True), "throttle": raw.get("throttle", ""),
    }


@page(router, "/alerts/new", role="admin")
def new_rule(request: Request, saved: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Response:
    ctx = request.app.state.ctx
    raw: dict = {}
    if saved:
        found = ctx.saved.get(request.state.user.id, saved)
        if found is not None:
            form = SearchForm.from_params(found.params)
            filters: dict = {RULE_FILTERS[k]: v for k, v in form.filters.items() if k in RULE_FILTERS}
            for single in ("scope", "coverage"):
                if form.filters.get(single) and len(form.filters[single]) == 1:
                    filters[single] = form.filters[single][0]
            if form.min_risk is not None:
                filters["min_risk"] = form.min_risk
            raw = {"name": "", "label": {"vi": found.name}, "query": form.q, "filters": filters}
    return render(request, "alert_form.html", values=_form_values(raw), editing=None, error=None,
                  severities=SEVERITIES)


@page(router, "/alerts/rules/{name}/edit", role="admin")
def edit_rule(request: Request, name: str) -> Response:
    raw = raw_rule(request.app.state.ctx.settings, name)
    if raw is None:
        raise HTTPException(404)
    return render(request, "alert_form.html", values=_form_values(raw), editing=name, error=None,
                  severities=SEVERITIES)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()][:50]


@page(router, "/alerts/rules", role="admin", methods=("POST",))
async def save(request: Request) -> Response:
    ctx = request.app.state.ctx
    form = await request.form()

    def get(key: str, cap: int = 500) -> str:
        value = form.get(key)
        return str(value)[:cap].strip() if isinstance(value, str) else ""

    editing = get("editing", 64) or None
    filters: dict = {key: _split(get(key)) for key in RULE_FILTERS.values() if _split(get(key))}
    if get("scope") in ("domestic", "foreign"):
        filters["scope"] = get("scope")
    if get("coverage") in ("city", "watch"):
        filters["coverage"] = get("coverage")
    if get("min_risk"):
        try:
            filters["min_risk"] = float(get("min_risk"))
        except ValueError:
            filters["min_risk"] = get("min_risk")  # a named threshold (queue_threshold, high...)
    rule: dict = {"name": get("name", 64), "label": {k: v for k, v in (("vi", get("label_vi", 200)),
                                                                         ("en", get("label_en", 200))) if v},
                  "query": get("query"), "filters": filters, "recipients": _split(get("recipients")),
                  "severity": get("severity", 20) or "medium", "enabled": form.get("enabled") == "on"}
    if get("throttle", 20):
        rule["throttle"] = get("throttle", 20)
    if editing is None and raw_rule(ctx.settings, rule["name"]) is not None:
        error = f"rule {rule['name']!r} exists"
    else:
        try:
            save_rule(ctx.settings, rule, replace=editing)
            return RedirectResponse("/alerts", status_code=303)
        except RuleError as exc:
            error = str(exc)
    values = _form_values(rule)
    return render(request, "alert_form.html", status_code=400, values=values, editing=editing, error=error,
                  severities=SEVERITIES)


