"""Alerts: the rules (view, test against stored articles, create and edit), and the history of
alerts with the state of each delivery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from alerts.delivery import AlertLog
from alerts.rules import SEVERITIES, Rule, RuleError
from index.query import SearchQuery
from records.recipients import NAME, RecipientError, RecipientLists, office_recipients, parse_addresses
from records.subscriptions import Subscriptions
from web.alerts_file import raw_rule, read_rules, save_rule, thresholds
from web.guard import page
from web.params import (
    LEGACY_RISK_PARAM,
    MAX_ID,
    RISK_PARAM,
    RecordId,
    risk_from_legacy,
    risk_from_points,
    risk_to_points,
)
from web.render import render
from web.saved import rule_of_search

router = APIRouter()
HISTORY_LIMIT = 50
# the filters chosen from a list (rules-file key -> search parameter naming its values); sources stay text
PICKED = {"topics": "topic", "themes": "theme", "sentiment": "sentiment", "languages": "lang",
          "countries": "country"}
# the catalogue name of each picked field (alerts.filter.<name>)
PICKED_LABELS = {"topics": "topic", "themes": "theme", "sentiment": "sentiment", "languages": "language",
                 "countries": "country"}
# offered even before the index holds an article of them: the office's usual languages and countries
COMMON_LANGUAGES = ("vi", "en", "zh", "ja", "ko", "ru", "fr", "de", "es", "th")
# the settings that give alerts a way out (docs/settings.md), named when a rule reaches no one
DELIVERY_SETTINGS = (("recipients", "HPMON_RECIPIENTS"), ("webhooks", "HPMON_WEBHOOKS"),
                     ("smtp_host", "HPMON_SMTP_HOST"))
COMMON_COUNTRIES = ("VN", "CN", "US", "JP", "KR", "RU", "FR", "GB", "DE", "TH", "SG", "AU", "TW")


@dataclass(frozen=True)
class DeliveryCheck:
    """Whether a rule's alerts can reach anyone, and what stands in the way, per recipient name
    (catalogue keys ``alerts.warn.*``)."""

    reachable: bool
    problems: tuple[tuple[str, str], ...]  # (recipient name, catalogue key)


def check_delivery(rule: Rule, recipients: dict[str, list[str]], webhooks: dict[str, str],
                   smtp_ready: bool) -> DeliveryCheck:
    """The way each recipient name of ``rule`` goes out, as ``AlertEngine.deliveries_for`` sends it:
    a mail list needs an address, the rule's e-mail channel and an SMTP server; a webhook needs the
    rule's webhook channel. A name neither a list nor a webhook reaches no one."""
    problems: list[tuple[str, str]] = []
    reachable = False
    for ref in rule.recipients:
        is_list, is_hook = ref.name in recipients, ref.name in webhooks
        if not is_list and not is_hook:
            problems.append((ref.name, "alerts.warn.unknown"))
        if is_list:
            if "email" not in rule.channels:
                problems.append((ref.name, "alerts.warn.no_email_channel"))
            elif not any(a.strip() for a in recipients[ref.name]):
                problems.append((ref.name, "alerts.warn.empty_list"))
            elif not smtp_ready:
                problems.append((ref.name, "alerts.warn.no_smtp"))
            else:
                reachable = True
        if is_hook:
            if "webhook" not in rule.channels:
                problems.append((ref.name, "alerts.warn.no_webhook_channel"))
            else:
                reachable = True
    return DeliveryCheck(reachable, tuple(problems))


@page(router, "/alerts", role="viewer")
def alerts_page(request: Request) -> Response:
    ctx = request.app.state.ctx
    rules, error = read_rules(ctx.settings)
    log = AlertLog(ctx.settings.app_db_path)
    try:
        history = [(a, log.deliveries(a.id)) for a in log.alerts(limit=HISTORY_LIMIT)]
    finally:
        log.close()
    settings = ctx.settings
    lists = office_recipients(settings.app_db_path, settings.recipients)
    checks = {r.name: check_delivery(r, lists, settings.webhooks, bool(settings.smtp_host)) for r in rules}
    unreachable = [r for r in rules if r.enabled and not checks[r.name].reachable]
    subs = Subscriptions(settings.app_db_path)
    try:
        subscription_names = {s.rule_name: s.name for s in subs.all()}
    finally:
        subs.close()
    return render(request, "alerts.html", rules=rules, rules_error=error, history=history, checks=checks,
                  unreachable=unreachable, delivery_settings=DELIVERY_SETTINGS,
                  subscription_names=subscription_names)


@page(router, "/alerts/rules/{name}/test", role="analyst")
def test_rule(request: Request, name: str) -> Response:
    ctx = request.app.state.ctx
    rules, error = read_rules(ctx.settings)
    rule = next((r for r in rules if r.name == name), None)
    if rule is None:
        raise HTTPException(404)
    result = ctx.backend.search(rule.search_query(limit=20, sort="date"))
    return render(request, "alert_test.html", rule=rule, result=result)


class FormError(ValueError):
    """A value of the rule form that cannot be saved: a catalogue key and its arguments."""

    def __init__(self, key: str, **args: str) -> None:
        super().__init__(key)
        self.key, self.values = key, args


def _indexed_values(request: Request) -> dict[str, list[str]]:
    """The languages and countries of the indexed articles (the search page's filter values)."""
    try:
        facets = request.app.state.ctx.backend.search(SearchQuery(limit=0, facets=True, facet_size=100)).facets
    except Exception as exc:  # the engine is down: the usual values are offered
        if type(exc).__name__ not in ("QueryTimeout", "ConnectionError", "ConnectionTimeout", "TransportError"):
            raise
        return {}
    return {"languages": [v for v, _ in facets.get("language", [])],
            "countries": [v for v, _ in facets.get("country", [])]}


def _choices(request: Request, current: dict | None = None) -> dict[str, list[str]]:
    """The codes each picked filter may take: the taxonomy's topics, themes and tones, and the
    usual and indexed languages and countries; the codes of the rule being edited stay offered."""
    taxonomy = request.app.state.ctx.taxonomy
    indexed = _indexed_values(request)
    languages = [*COMMON_LANGUAGES, *(v.lower() for v in indexed.get("languages", []))]
    countries = [*COMMON_COUNTRIES, *(v.upper() for v in indexed.get("countries", []))]
    choices = {"topics": sorted(taxonomy.topics), "themes": sorted(taxonomy.themes),
               "sentiment": list(taxonomy.sentiments) or ["negative", "neutral", "positive"],
               "languages": list(dict.fromkeys(languages)), "countries": list(dict.fromkeys(countries))}
    filters = (current or {}).get("filters") or {}
    for key in PICKED:
        for value in _listed(filters.get(key)):
            if value not in choices[key]:
                choices[key].append(value)
    return choices


def _listed(value) -> list[str]:
    if value is None:
        return []
    return [str(value)] if isinstance(value, str | int | float) else [str(v) for v in value]


def _form_values(raw: dict | None, threshold_names: dict[str, float]) -> dict:
    raw = raw or {}
    f = raw.get("filters") or {}
    label = raw.get("label") if isinstance(raw.get("label"), dict) else {"vi": raw.get("label") or ""}
    min_risk = f.get("min_risk")
    risk, threshold = "", ""
    if isinstance(min_risk, str) and min_risk in threshold_names:
        threshold = min_risk
    elif isinstance(min_risk, int | float) and not isinstance(min_risk, bool) and 0 <= min_risk <= 1:
        risk = str(risk_to_points(min_risk))
    return {
        "name": raw.get("name", ""), "label_vi": label.get("vi", ""), "label_en": label.get("en", ""),
        "query": raw.get("query", ""), "severity": raw.get("severity", "medium"),
        "recipients": ", ".join(r if isinstance(r, str) else r.get("name", "") for r in raw.get("recipients") or []),
        "scope": f.get("scope") or "", "coverage": f.get("coverage") or "",
        "risk": risk, "risk_threshold": threshold,
        "sources": ", ".join(_listed(f.get("sources"))),
        **{key: _listed(f.get(key)) for key in PICKED},
        "enabled": raw.get("enabled", True), "throttle": raw.get("throttle", ""),
    }


def _render_form(request: Request, raw: dict | None, *, editing: str | None, error: str | None = None,
                 status_code: int = 200) -> Response:
    ctx = request.app.state.ctx
    names = thresholds(ctx.settings)
    messages = ctx.catalogues.messages.get(request.state.lang, {})
    options = [(name, messages.get(f"alerts.threshold.{name}") or name, score) for name, score in names.items()]
    return render(request, "alert_form.html", status_code=status_code, values=_form_values(raw, names),
                  editing=editing, error=error, severities=SEVERITIES, choices=_choices(request, raw),
                  picked=PICKED, field_names=PICKED_LABELS, threshold_options=options)


@page(router, "/alerts/new", role="admin")
def new_rule(request: Request, saved: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Response:
    ctx = request.app.state.ctx
    raw: dict = {}
    if saved:
        found = ctx.saved.get(request.state.user.id, saved)
        if found is not None:
            raw = {"name": "", "label": {"vi": found.name}, **rule_of_search(found.params)}
    return _render_form(request, raw, editing=None)


@page(router, "/alerts/rules/{name}/edit", role="admin")
def edit_rule(request: Request, name: str) -> Response:
    raw = raw_rule(request.app.state.ctx.settings, name)
    if raw is None:
        raise HTTPException(404)
    return _render_form(request, raw, editing=name)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()][:50]


def _min_risk(get, names: dict[str, float]) -> float | str | None:
    """The rule's minimum risk from the form: a named threshold, else points 0..100 (``risk``), else
    the old field ``min_risk`` (0..1 or a threshold name) of forms posted before. FormError if bad."""
    threshold = get("risk_threshold", 40)
    if threshold:
        if threshold not in names:
            raise FormError("alerts.error.bad_choice", field="alerts.min_risk", value=threshold)
        return threshold
    if get(RISK_PARAM, 20):
        try:
            return risk_from_points(get(RISK_PARAM, 20))
        except ValueError:
            raise FormError("alerts.error.bad_risk") from None
    legacy = get(LEGACY_RISK_PARAM, 40)
    if legacy:
        if legacy in names:
            return legacy
        try:
            return risk_from_legacy(legacy)
        except ValueError:
            raise FormError("alerts.error.bad_risk") from None
    return None


@page(router, "/alerts/rules", role="admin", methods=("POST",))
async def save(request: Request) -> Response:
    ctx = request.app.state.ctx
    form = await request.form()
    t = ctx.catalogues.gettext
    lang = request.state.lang

    def get(key: str, cap: int = 500) -> str:
        value = form.get(key)
        return str(value)[:cap].strip() if isinstance(value, str) else ""

    def picked(key: str) -> list[str]:
        """The codes ticked for ``key`` (a comma-separated list, as forms of before posted, is read too)."""
        values = [v for item in form.getlist(key) if isinstance(item, str) for v in _split(item[:2000])]
        return list(dict.fromkeys(values))[:50]

    editing = get("editing", 64) or None
    previous = raw_rule(ctx.settings, editing) if editing else None
    filters: dict = {}
    if _split(get("sources")):
        filters["sources"] = _split(get("sources"))
    error = None
    try:
        choices = _choices(request, previous)
        for key in PICKED:
            values = picked(key)
            unknown = [v for v in values if v not in choices[key]]
            if unknown:
                raise FormError("alerts.error.bad_choice", field=f"alerts.filter.{PICKED_LABELS[key]}",
                                value=unknown[0])
            if values:
                filters[key] = values
        min_risk = _min_risk(get, thresholds(ctx.settings))
        if min_risk is not None:
            filters["min_risk"] = min_risk
    except FormError as exc:
        args = {k: (t(lang, v) if k == "field" else v) for k, v in exc.values.items()}
        error = t(lang, exc.key, **args)
    if get("scope") in ("domestic", "foreign"):
        filters["scope"] = get("scope")
    if get("coverage") in ("city", "watch"):
        filters["coverage"] = get("coverage")
    rule: dict = {"name": get("name", 64), "label": {k: v for k, v in (("vi", get("label_vi", 200)),
                                                                         ("en", get("label_en", 200))) if v},
                  "query": get("query"), "filters": filters, "recipients": _split(get("recipients")),
                  "severity": get("severity", 20) or "medium", "enabled": form.get("enabled") == "on"}
    if get("throttle", 20):
        rule["throttle"] = get("throttle", 20)
    if error is None:
        if editing is None and raw_rule(ctx.settings, rule["name"]) is not None:
            error = f"rule {rule['name']!r} exists"
        else:
            try:
                save_rule(ctx.settings, rule, replace=editing)
                return RedirectResponse("/alerts", status_code=303)
            except RuleError as exc:
                error = str(exc)
    return _render_form(request, rule, editing=editing, error=error, status_code=400)


# -- recipient lists (records.recipients): admins keep them here, the settings keep the secrets ----


def _recipients_page(request: Request, *, error: str | None = None, values: dict | None = None,
                     status_code: int = 200) -> Response:
    ctx = request.app.state.ctx
    store = RecipientLists(ctx.settings.app_db_path)
    try:
        office = store.lists()
    finally:
        store.close()
    rules, _ = read_rules(ctx.settings)
    used: dict[str, list[str]] = {}
    for rule in rules:
        for ref in rule.recipients:
            used.setdefault(ref.name, []).append(rule.display_name(request.state.lang))
    names = {x.name for x in office}
    from_settings = sorted((name, addresses) for name, addresses in ctx.settings.recipients.items()
                           if name not in names)
    known = names | set(ctx.settings.recipients) | set(ctx.settings.webhooks)
    missing = sorted(n for n in used if n not in known)
    subs = Subscriptions(ctx.settings.app_db_path)
    try:
        subscriptions = subs.all()
    finally:
        subs.close()
    return render(request, "recipients.html", status_code=status_code, office=office, from_settings=from_settings,
                  subscriptions=subscriptions,
                  webhooks=sorted(ctx.settings.webhooks), used=used, missing=missing, error=error,
                  values=values or {}, smtp_ready=bool(ctx.settings.smtp_host),
                  overridden=sorted(names & set(ctx.settings.recipients)))


@page(router, "/alerts/recipients", role="admin")
def recipients_page(request: Request, edit: Annotated[str, Query(max_length=64)] = "",
                    new: Annotated[str, Query(max_length=64)] = "") -> Response:
    values: dict = {}
    if edit:
        store = RecipientLists(request.app.state.ctx.settings.app_db_path)
        try:
            found = store.get(edit)
        finally:
            store.close()
        if found is None:
            raise HTTPException(404)
        values = {"name": found.name, "addresses": "\n".join(found.addresses), "editing": True}
    elif new and NAME.match(new):  # "set up this list" from a name a rule uses
        values = {"name": new}
    return _recipients_page(request, values=values)


@page(router, "/alerts/recipients", role="admin", methods=("POST",))
def save_recipients(request: Request, name: str = Form("", max_length=64),
                    addresses: str = Form("", max_length=20000)) -> Response:
    ctx = request.app.state.ctx
    t = ctx.catalogues.gettext
    store = RecipientLists(ctx.settings.app_db_path)
    try:
        store.save(name, parse_addresses(addresses), by=request.state.user.username)
    except RecipientError as exc:
        error = t(request.state.lang, exc.key, value=exc.value)
        return _recipients_page(request, error=error, values={"name": name, "addresses": addresses},
                                status_code=400)
    finally:
        store.close()
    return RedirectResponse("/alerts/recipients", status_code=303)


@page(router, "/alerts/recipients/{name}/delete", role="admin", methods=("POST",))
def delete_recipients(request: Request, name: Annotated[str, Path(max_length=64)]) -> Response:
    store = RecipientLists(request.app.state.ctx.settings.app_db_path)
    try:
        store.delete(name)
    finally:
        store.close()
    return RedirectResponse("/alerts/recipients", status_code=303)


@page(router, "/alerts/subscriptions/{sub_id}/delete", role="admin", methods=("POST",))
def delete_subscription(request: Request, sub_id: RecordId) -> Response:
    """An admin ends anyone's subscription (its rule stops with the next alert round)."""
    store = Subscriptions(request.app.state.ctx.settings.app_db_path)
    try:
        found = store.get(sub_id)
        if found is not None:
            store.delete(found.user_id, sub_id)
    finally:
        store.close()
    return RedirectResponse("/alerts/recipients#subscriptions", status_code=303)
