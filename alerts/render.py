"""What an alert says: the e-mail (subject, plain text, HTML) and the webhook's JSON, in the
recipient's language, from the alert log's record alone (no index needed to send).

Crawled text is hostile: the HTML is rendered by Jinja2 with autoescaping, highlights are
passed as (text, matched) segments (never as markup), links to the original article are
shown as links only for http(s), and the subject is stripped of line breaks and capped.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerts.delivery import AlertRecord
from alerts.i18n import Translator, format_risk, reason_evidence, risk_points

TEMPLATES = Path(__file__).resolve().parent / "templates"
SUBJECT_MAX = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def make_environment() -> Environment:
    """The templates' Jinja2 environment: autoescaping on for HTML (and anything not .txt)."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html", "htm"), disabled_extensions=("txt",),
                                     default_for_string=True, default=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def one_line(text: str, limit: int) -> str:
    """Text fit for a header: no control characters or line breaks, at most ``limit`` characters."""
    flat = " ".join(_CONTROL.sub(" ", text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def article_link(base_url: str, article_id: str) -> str:
    """The article's page in the web app."""
    return f"{base_url.rstrip('/')}/articles/{quote(article_id, safe='')}"


def safe_href(url: str | None) -> str | None:
    """``url`` if it is an http(s) link (a crawled ``javascript:`` URL is never a link), else None."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def _host(url: str | None) -> str | None:
    """The site of a link (``www.`` dropped), or None."""
    href = safe_href(url)
    host = urlsplit(href).hostname if href else None
    return host.removeprefix("www.") if host else None


def segments(text: str, spans: list[list[int]] | list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """The snippet cut into (text, matched) pieces, so templates can mark matches without markup."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for start, end in sorted((int(s), int(e)) for s, e in spans):
        start, end = max(start, pos), min(end, len(text))
        if start >= end:
            continue
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < len(text):
        out.append((text[pos:], False))
    return out


class Renderer:
    """Turns an alert record into messages for one language."""

    def __init__(self, *, base_url: str, timezone: str = "Asia/Ho_Chi_Minh",
                 labels: dict[str, dict[str, str]] | None = None, rule_labels: dict[str, dict[str, str]] | None = None,
                 environment: Environment | None = None) -> None:
        self.base_url = base_url
        self.tz = ZoneInfo(timezone)
        self.labels = labels or {}
        self.rule_labels = rule_labels or {}
        self.env = environment or make_environment()

    # -- shared view model -----------------------------------------------------------------

    def _when(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return datetime.fromisoformat(value).astimezone(self.tz).strftime("%d/%m/%Y %H:%M")
        except ValueError:
            return None

    def _article_view(self, a: dict[str, Any], tr: Translator) -> dict[str, Any]:
        snippet = a.get("snippet") or {}
        risk = a.get("risk_score")
        translations = a.get("translations") if isinstance(a.get("translations"), dict) else {}
        own = str(a.get("language") or "").split("-")[0]
        translated = translations.get(tr.language) if own != tr.language else None
        return {
            "id": a.get("id", ""),
            "title": a.get("title") or "",
            "translated_title": translated if isinstance(translated, str) else "",
            "language": tr.language_name(a.get("language")),
            "language_code": a.get("language") or "",
            "outlet": a.get("outlet") or _host(a.get("url")) or tr("unknown"),  # a site, never a source id
            "country": tr.country_name(a.get("country")),
            "scope": tr(f"scope.{a['scope']}") if a.get("scope") in ("foreign", "domestic") else tr("unknown"),
            "published": self._when(a.get("date")) or tr("unknown"),
            "themes": [tr.label_name(t, "theme") for t in a.get("themes") or []],
            "topics": [tr.label_name(t, "topic") for t in a.get("topics") or []],
            "sentiment": tr(f"sentiment.{a['sentiment']}") if a.get("sentiment") in
            ("negative", "neutral", "positive") else None,
            "risk": format_risk(float(risk), tr.language, a.get("risk_level")) if isinstance(risk, int | float)
            else None,
            "reasons": [{"kind": tr.reason_kind(str(r.get("kind", ""))),
                         "evidence": reason_evidence(str(r.get("kind", "")), str(r.get("evidence", "")), tr.language,
                                                     r.get("data") if isinstance(r.get("data"), dict) else None),
                         "weight": f"+{risk_points(float(r.get('weight') or 0))}"}
                        for r in a.get("reasons") or []],
            "segments": segments(snippet.get("text", ""), snippet.get("spans", [])),
            "link": article_link(self.base_url, a.get("id", "")),
            "url": a.get("url") or "",
            "href": safe_href(a.get("url")),
        }

    def context(self, alert: AlertRecord, language: str, key: str) -> dict[str, Any]:
        """Everything the templates show, already translated, for one delivery."""
        tr = Translator(language, self.labels)
        payload = alert.payload
        rule_label = payload.get("rule_label") or self.rule_labels.get(alert.rule) or {}
        rule_name = rule_label.get(tr.language) or rule_label.get("vi") or alert.rule
        first = alert.members[0] if alert.members else {}
        first_outlet = first.get("outlet")
        more = [m for m in alert.more if m.get("outlet") != first_outlet] if alert.kind == "match" else []
        more_outlets = len({m.get("outlet") or m.get("id") for m in more})
        ctx: dict[str, Any] = {
            "tr": tr, "lang": tr.language, "kind": alert.kind, "rule": rule_name, "rule_key": alert.rule,
            "severity": tr.severity(alert.severity), "severity_key": alert.severity, "key": key,
            "article": self._article_view(payload["article"], tr) if payload.get("article") else None,
            "more_count": more_outlets,
            "more": [{"outlet": m.get("outlet") or tr("unknown"), "country": tr.country_name(m.get("country")),
                      "language": tr.language_name(m.get("language")), "title": m.get("title") or "",
                      "link": article_link(self.base_url, m.get("id", ""))} for m in alert.more][:20],
            "spike": None,
        }
        spike = payload.get("spike")
        if spike:
            ctx["spike"] = {
                "current": spike["current"], "baseline": _number(spike["baseline"], tr.language),
                "baseline_total": spike["baseline_total"], "days": _number(spike["baseline_days"], tr.language),
                "hours": _number(spike["window_hours"], tr.language), "factor": _number(spike["factor"], tr.language),
                "min_count": spike["min_count"],
                "samples": [self._article_view(s, tr) for s in spike.get("samples", [])],
            }
        return ctx

    # -- e-mail ----------------------------------------------------------------------------

    def subject(self, ctx: dict[str, Any]) -> str:
        tr: Translator = ctx["tr"]
        if ctx["kind"] == "spike" and ctx["spike"]:
            s = ctx["spike"]
            text = tr("subject.spike", severity=ctx["severity"], rule=ctx["rule"], current=s["current"],
                      hours=s["hours"], baseline=s["baseline"])
        else:
            title = one_line(ctx["article"]["title"] if ctx["article"] else "", 120)
            text = tr("subject.match", severity=ctx["severity"], rule=ctx["rule"], title=title)
            if ctx["more_count"]:
                text += tr("subject.more", count=ctx["more_count"])
        return one_line(text, SUBJECT_MAX)

    def email(self, alert: AlertRecord, language: str, key: str) -> tuple[str, str, str]:
        """(subject, plain text, HTML) of the alert for one recipient."""
        ctx = self.context(alert, language, key)
        text = self.env.get_template("alert.txt").render(**ctx)
        html = self.env.get_template("alert.html").render(**ctx)
        return self.subject(ctx), text, html

    # -- webhook ---------------------------------------------------------------------------

    def webhook(self, alert: AlertRecord, language: str, key: str) -> dict[str, Any]:
        """The JSON document posted to a webhook: machine fields plus a ready-made ``text``
        summary (in the recipient's language) for chat bots."""
        ctx = self.context(alert, language, key)
        payload = alert.payload
        doc: dict[str, Any] = {
            "event": "alert", "version": 1, "id": alert.uid, "idempotency_key": key, "rule": alert.rule,
            "rule_name": ctx["rule"], "kind": alert.kind, "severity": alert.severity,
            "created_at": alert.created_at.isoformat(), "updated_at": alert.updated_at.isoformat(),
            "language": ctx["lang"], "text": self.subject(ctx),
            "more_outlets": ctx["more_count"],
            "articles": [{**{k: m.get(k) for k in ("id", "title", "outlet", "country", "language", "url")},
                          "link": article_link(self.base_url, m.get("id", ""))} for m in alert.members][:50],
        }
        if payload.get("article"):
            a = dict(payload["article"])
            a["link"] = article_link(self.base_url, a.get("id", ""))
            doc["article"] = a
        if payload.get("spike"):
            spike = dict(payload["spike"])
            spike["samples"] = [{k: s.get(k) for k in ("id", "title", "outlet", "country", "language", "url")}
                                for s in spike.get("samples", [])]
            doc["spike"] = spike
        return doc


def _number(value: float | int, language: str) -> str:
    """A number as people of ``language`` write it (Vietnamese: comma decimals), at most two decimals."""
    text = f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return text.replace(".", ",") if language == "vi" else text
