"""``hpmon alerts``: list the rules, test one against the index, show the alert history, deliver
what waits. Also the wiring the crawl uses after each run (``process_new_articles``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
from rich.table import Table
from rich.text import Text

from alerts.delivery import STATES, DeliveryReport
from alerts.engine import AlertEngine
from alerts.rules import Rule, RuleError, format_duration, recipient_problems
from hpmon.app import smtp_config
from hpmon.settings import Settings
from hpmon.term import console, err
from index.article import Article
from index.backend import Backend

logger = logging.getLogger(__name__)


# -- wiring -----------------------------------------------------------------------------------


def _timezone(settings: Settings) -> str:
    from hpmon.app import load_city

    try:
        return load_city(settings).timezone
    except Exception:  # a broken city profile must not stop alerts going out
        logger.warning("city profile unreadable; alerts use Asia/Ho_Chi_Minh time", exc_info=True)
        return "Asia/Ho_Chi_Minh"


def open_alert_engine(settings: Settings, backend: Backend | None) -> AlertEngine:
    """The alert engine for these settings (rules in config_dir/alerts.yaml, log in app_db_path).
    Raises RuleError when the rules file is wrong."""
    return AlertEngine.from_values(
        rules_path=settings.config_dir / "alerts.yaml", backend=backend, db_path=settings.app_db_path,
        smtp=smtp_config(settings), recipients=settings.recipients, webhooks=settings.webhooks,
        webhook_secret=settings.webhook_secret, base_url=settings.base_url, timezone=_timezone(settings),
        taxonomy_path=settings.config_dir / "topics.yaml", risk_path=settings.config_dir / "risk.yaml",
        allow_hosts=settings.fetch_allow_hosts,
    )


def process_new_articles(settings: Settings, backend: Backend, articles: Iterable[Article]) -> DeliveryReport | None:
    """What the crawl calls after each run with the articles it newly indexed: evaluate the
    rules, log the alerts, then send what waits. Never raises (a crawl must not fail because of
    alerts): a problem is logged and the alerts wait in the log. Returns the delivery report."""
    try:
        engine = open_alert_engine(settings, backend)
    except RuleError as exc:
        logger.error("alerts not evaluated: %s", exc)
        return None
    try:
        engine.evaluate_waiting(articles)  # these, and any indexed earlier and not evaluated yet
        return engine.deliver_pending()
    except Exception:
        logger.exception("alert processing failed; logged alerts will be delivered by the next run")
        return None
    finally:
        engine.close()


def evaluate_recent(engine: AlertEngine, backend: Backend | None = None, *, now: datetime | None = None,
                    page: int = 1000) -> int:
    """Evaluate the rules on every article indexed and not evaluated yet, by the durable mark in
    the alert log (in the order they were indexed, whatever their date): articles indexed by a
    crawl that died before its alert step still raise their alerts. Articles that reached the
    index without the pipeline (written by an earlier version, or directly) have no mark: those
    a rule could still fire on (within the longest ``max_article_age`` of the match rules, 14 days
    for a rule without one) are evaluated once and marked. Safe to repeat: nothing fires twice.
    Returns how many articles were evaluated."""
    from index.query import SearchQuery

    evaluated = engine.evaluate_waiting()
    if backend is None:
        return evaluated
    now = now or datetime.now(UTC)
    ages = [r.max_article_age or UNMARKED_WINDOW for r in engine.rules if r.enabled and r.kind == "match"]
    if not ages:
        return evaluated
    offset = 0
    while True:
        result = backend.search(SearchQuery(since=now - max(ages), sort="date", limit=page, offset=offset))
        if not result.hits:
            return evaluated
        known = engine.log.evaluation_known([h.article.id for h in result.hits])
        unmarked = [h.article for h in result.hits if h.article.id not in known]
        if unmarked:
            evaluated += engine.evaluate_waiting(unmarked)
        offset += page
        if offset >= result.total:
            return evaluated


UNMARKED_WINDOW = timedelta(days=14)


def _engine(ctx: click.Context, *, with_index: bool = True) -> AlertEngine:
    from hpmon.app import open_backend

    settings: Settings = ctx.obj["settings"]
    backend = open_backend(settings) if with_index else None
    try:
        return open_alert_engine(settings, backend)
    except RuleError as exc:
        raise click.ClickException(str(exc)) from exc


def _filters_text(rule: Rule) -> str:
    f = rule.filters
    parts = [f"{name}={','.join(values)}" for name, values in f.facets().items()]
    if f.min_risk is not None:
        parts.append(f"risk>={f.min_risk:g}")
    if rule.spike:
        s = rule.spike
        parts.append(f"spike: {format_duration(s.window)} vs {format_duration(s.baseline)}, ×{s.factor:g}, "
                     f"≥{s.min_count}")
    return " ".join(parts) or "—"


# -- commands ---------------------------------------------------------------------------------


@click.group("alerts")
def alerts() -> None:
    """Alert rules (config/alerts.yaml) and the alert log: list, test, history, deliver."""


@alerts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def alerts_list(ctx: click.Context, as_json: bool) -> None:
    """The alert rules, and what is wrong between them and the settings."""
    settings: Settings = ctx.obj["settings"]
    engine = _engine(ctx, with_index=False)
    problems = recipient_problems(engine.rules, engine.recipients, settings.webhooks)  # office lists included
    counts = engine.log.counts()
    engine.close()
    if as_json:
        click.echo(json.dumps({
            "rules": [{"name": r.name, "label": r.label, "kind": r.kind, "query": r.query,
                       "filters": r.filters.facets(), "min_risk": r.filters.min_risk, "severity": r.severity,
                       "recipients": [ref.name for ref in r.recipients], "channels": list(r.channels),
                       "throttle_minutes": r.throttle.total_seconds() / 60, "enabled": r.enabled}
                      for r in engine.rules],
            "problems": problems, "deliveries": counts}, ensure_ascii=False, indent=2))
        return
    table = Table(title=str(settings.config_dir / "alerts.yaml"))
    for col in ("rule", "kind", "severity", "query", "filters", "recipients", "channels", "throttle"):
        table.add_column(col)
    for r in engine.rules:
        table.add_row(Text(r.name, style="" if r.enabled else "dim strike"), r.kind, r.severity, Text(r.query or "—"),
                      Text(_filters_text(r)), ", ".join(ref.name for ref in r.recipients), ", ".join(r.channels),
                      format_duration(r.throttle))
    console.print(table)
    for problem in problems:
        console.print(f"[yellow]warning[/] {problem}")
    console.print("deliveries: " + ", ".join(f"{state} {n}" for state, n in counts.items()))


def _day(value: str | None, tz: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not a date: {value} (use YYYY-MM-DD)") from exc
    if len(value) <= 10:
        day = datetime.combine(day.date(), time.min)
    return (day if day.tzinfo else day.replace(tzinfo=tz)).astimezone(UTC)


@alerts.command("test")
@click.argument("rule_name")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--since", help="Only articles from this date (YYYY-MM-DD, city time).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def alerts_test(ctx: click.Context, rule_name: str, limit: int, since: str | None, as_json: bool) -> None:
    """Which stored articles RULE would have matched (newest first); for a spike rule, the
    current count against its baseline."""
    from index.query import QuerySyntaxError

    settings: Settings = ctx.obj["settings"]
    engine = _engine(ctx)
    rule = engine.rule(rule_name)
    if rule is None:
        names = ", ".join(r.name for r in engine.rules)
        raise click.ClickException(f"no rule named {rule_name!r} (rules: {names})")
    tz = ZoneInfo(_timezone(settings))
    try:
        result = engine.test_rule(rule, limit=limit, since=_day(since, tz))
    except QuerySyntaxError as exc:
        raise click.ClickException(f"query: {exc}") from exc
    spike = engine.check_spike(rule) if rule.kind == "spike" else None
    if as_json:
        click.echo(json.dumps({
            "rule": rule.name, "total": result.total,
            "spike": spike.__dict__ if spike else None,
            "hits": [{"id": h.article.id, "title": h.article.title, "outlet": h.article.outlet,
                      "country": h.article.country, "language": h.article.language,
                      "date": h.article.date.isoformat() if h.article.date else None,
                      "risk_score": h.article.risk_score, "themes": h.article.sensitive_themes,
                      "snippet": h.snippet.text, "highlights": h.snippet.spans} for h in result.hits],
        }, ensure_ascii=False, indent=2))
        return
    console.print(f"rule [bold]{rule.name}[/] would have matched [bold]{result.total}[/] stored articles")
    if spike and rule.spike:
        verdict = "[red]would fire[/]" if spike.fired else "would not fire"
        window, baseline = format_duration(rule.spike.window), format_duration(rule.spike.baseline)
        console.print(f"spike: {spike.current} in the last {window} vs baseline {spike.baseline:g} per window "
                      f"({spike.baseline_total} in {baseline}), threshold {spike.threshold:g}: {verdict}")
    for n, hit in enumerate(result.hits, start=1):
        a = hit.article
        when = a.date.astimezone(tz).strftime("%Y-%m-%d %H:%M") if a.date else "?"
        console.print(Text(f"{n}. ", style="bold") + Text(a.title or "(no title)", style="bold"))
        risk = f" · risk {a.risk_score:.2f}" if a.risk_score is not None else ""
        themes = f" · {', '.join(a.sensitive_themes)}" if a.sensitive_themes else ""
        console.print(Text(f"   {a.outlet or a.source_id} · {a.country or '?'} · {a.language} · {when}{risk}{themes}"
                           f" · {a.id}", style="dim"))
        snippet = Text("   " + hit.snippet.text)
        for s, e in hit.snippet.spans:
            snippet.stylize("bold yellow", s + 3, e + 3)
        console.print(snippet)
    engine.close()


@alerts.command("history")
@click.option("--rule", "rule_name", help="Only this rule's alerts.")
@click.option("--state", type=click.Choice(STATES), help="Only alerts with a delivery in this state.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def alerts_history(ctx: click.Context, rule_name: str | None, state: str | None, limit: int, as_json: bool) -> None:
    """Every alert with its deliveries: state, attempts, last error."""
    settings: Settings = ctx.obj["settings"]
    engine = _engine(ctx, with_index=False)
    tz = ZoneInfo(_timezone(settings))
    rows = []
    for alert in engine.log.alerts(rule=rule_name, state=state, limit=limit):
        deliveries = engine.log.deliveries(alert.id)
        title = (alert.payload.get("article") or {}).get("title") or ""
        if alert.kind == "spike":
            s = alert.payload.get("spike", {})
            title = f"{s.get('current')} articles vs baseline {s.get('baseline')}"
        rows.append((alert, title, deliveries))
    if as_json:
        click.echo(json.dumps([{
            "id": a.id, "uid": a.uid, "rule": a.rule, "kind": a.kind, "severity": a.severity, "story": a.story_key,
            "created_at": a.created_at.isoformat(), "updated_at": a.updated_at.isoformat(), "title": title,
            "articles": [m["id"] for m in a.members],
            "deliveries": [{"channel": d.channel, "recipient": d.recipient, "target": d.target, "state": d.state,
                            "attempts": d.attempts, "last_error": d.last_error, "key": d.idempotency_key,
                            "sent_at": d.sent_at.isoformat() if d.sent_at else None} for d in ds],
        } for a, title, ds in rows], ensure_ascii=False, indent=2))
        engine.close()
        return
    table = Table(title="Alerts")
    for col in ("id", "created", "rule", "sev", "alert", "copies", "deliveries"):
        table.add_column(col)
    style = {"sent": "green", "pending": "yellow", "sending": "yellow", "failed": "red", "expired": "red"}
    for alert, title, deliveries in rows:
        lines = Text()
        for d in deliveries:
            if lines:
                lines.append("\n")
            lines.append(f"{d.state}", style=style.get(d.state, ""))
            lines.append(f" {d.channel} {d.target} ×{d.attempts}")
            if d.state != "sent" and d.last_error:
                lines.append(f" — {d.last_error[:80]}", style="dim")
        table.add_row(str(alert.id), alert.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), alert.rule,
                      alert.severity, Text(title[:90]), str(max(0, len(alert.members) - 1)), lines)
    console.print(table)
    engine.close()


@alerts.command("deliver")
@click.option("--now", "ignore_backoff", is_flag=True, help="Retry waiting deliveries now, ignoring their backoff.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def alerts_deliver(ctx: click.Context, ignore_backoff: bool, as_json: bool) -> None:
    """Evaluate the rules on recent articles not evaluated yet (after a crash), then send the
    alerts waiting in the log (new ones and due retries). The service runs this every minute;
    it is safe to run at any time and in parallel."""
    engine = _engine(ctx, with_index=True)
    try:
        evaluate_recent(engine, engine.backend)
    except Exception:  # the index may be busy or down: deliver what waits anyway
        logger.exception("alert catch-up evaluation failed; delivering what waits")
    report = engine.deliver_pending(ignore_backoff=ignore_backoff)
    counts = engine.log.counts()
    engine.close()
    if as_json:
        click.echo(json.dumps({**report.to_dict(), "states": counts}, ensure_ascii=False, indent=2))
        return
    console.print(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}, expired "
                  f"{report.expired}, deferred {report.deferred}; waiting: {counts['pending'] + counts['sending']}")
    for line in report.errors[:20]:
        err.print(f"[yellow]{line}[/]")
