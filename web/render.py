"""Server-side rendering: one Jinja2 environment with autoescape on, and the helpers templates use
to show hostile crawled text safely (highlighted snippets, paragraphs, marked spans)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_percent
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from alerts.i18n import MESSAGES as ALERT_MESSAGES
from alerts.i18n import country_name, format_risk, language_name, reason_evidence, risk_level, risk_points
from index.query import Snippet
from pipeline.sources_status import registry_names

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_TEXT_CHARS = 200_000  # longer crawled texts are cut on the article page


def marked(text: str, spans: list[tuple[int, int]] | list[list[int]], css_class: str = "") -> Markup:
    """``text`` escaped, with each (start, end) span wrapped in ``<mark>`` (spans out of range or
    overlapping are skipped)."""
    out: list[str] = []
    pos = 0
    attr = f' class="{escape(css_class)}"' if css_class else ""
    for start, end in sorted((int(s), int(e)) for s, e in spans):
        if start < pos or end <= start or end > len(text):
            continue
        out.append(str(escape(text[pos:start])))
        out.append(f"<mark{attr}>{escape(text[start:end])}</mark>")
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def snippet_html(snippet: Snippet) -> Markup:
    """A search snippet with its matched spans marked, everything else escaped."""
    return marked(snippet.text, snippet.spans)


def paragraphs(text: str, spans: list[tuple[int, int]] | None = None) -> Markup:
    """The article text as ``<p>`` paragraphs (escaped), with optional spans marked."""
    text = text[:MAX_TEXT_CHARS]
    spans = sorted(spans or [])
    out: list[str] = []
    pos = 0
    for block in text.split("\n"):
        start, end = pos, pos + len(block)
        pos = end + 1
        if not block.strip():
            continue
        inside = [(s - start, e - start) for s, e in spans if s >= start and e <= end]
        out.append(f"<p>{marked(block, inside)}</p>")
    return Markup("\n".join(out))


def asset_version(name: str) -> str:
    """A short hash of a static file, appended to its URL so browsers cache it for long."""
    path = STATIC_DIR / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"


def failure_parts(reason: str | None) -> tuple[str, str]:
    """A stored crawl failure (``dns_error: host name not found``, ``http_503: HTTP 503``) as (code,
    technical detail)."""
    code, _, detail = (reason or "").partition(": ")
    return code.strip(), detail.strip()


def failure_message(reason: str | None, messages: dict[str, str], fallback: dict[str, str]) -> str:
    """The reader's sentence for a crawl failure code; HTTP statuses by class (4xx, 5xx)."""
    code, _ = failure_parts(reason)

    def msg(key: str) -> str | None:
        return messages.get(key) or fallback.get(key)

    if code.startswith("http_") and code[5:].isdigit():
        status = int(code[5:])
        key = {4: "failure.http_4xx", 5: "failure.http_5xx"}.get(status // 100, "failure.http_other")
        return (msg(f"failure.{code}") or msg(key) or code).format(status=status)
    return msg(f"failure.{code}") or msg("failure.other") or code


_PROBLEM_NO_RECIPIENT = re.compile(r"no recipient list or webhook named '([^']*)'")
_PROBLEM_EMPTY = re.compile(r"recipient list '([^']*)' is empty")


def _site(url: str | None) -> str:
    from urllib.parse import urlsplit

    host = urlsplit(url or "").hostname or ""
    return host.removeprefix("www.")


def make_environment() -> Environment:
    """The Jinja2 environment of the app: autoescape everywhere, strict about undefined names."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["marked"] = marked
    env.globals["snippet_html"] = snippet_html
    env.globals["paragraphs"] = paragraphs
    env.globals["assets"] = {name: asset_version(name) for name in ("app.css", "app.js")}
    env.filters["urlencode_pairs"] = lambda pairs: urlencode(list(pairs))
    return env


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Render ``template`` with the request's user, language, CSRF token and helpers."""
    ctx = request.app.state.ctx
    lang = request.state.lang
    dates = ctx.dates

    def t(key: str, **kw: Any) -> str:
        return ctx.catalogues.gettext(lang, key, **kw)

    def audit_action(action: str) -> str:
        """An audit-trail action in the reader's language (the stored name when it has no message)."""
        key = f"audit.{action}"
        return t(key) if key in ctx.catalogues.messages.get(lang, {}) else action

    def risk_kind(kind: str) -> str:
        """A risk reason's kind in the reader's language (``theme:sovereignty`` → the theme's name)."""
        # the digest's and alert e-mails' words (alerts.i18n), so the three read the same
        words = ALERT_MESSAGES.get(lang) or ALERT_MESSAGES["vi"]
        if kind.startswith("theme:"):
            return words["reason.theme"].format(theme=label("themes", kind.split(":", 1)[1]))
        return words.get(f"reason.{kind}") or words["reason.other"]

    def evidence_text(kind: str, evidence: str, data: dict | None = None) -> str:
        """A risk reason's evidence in the reader's words (the digest's helper)."""
        return reason_evidence(kind, evidence, lang, data if isinstance(data, dict) else None)

    source_outlets: dict[str, str] = {}

    def label(kind: str, value: str) -> str:
        return ctx.taxonomy.name(kind, value, lang)

    def value_name(param: str, value: str) -> str:
        """How a filter value is shown: label names from the taxonomy, languages and scopes from the
        catalogue, anything else (sources, countries) as stored."""
        kind = {"topic": "topics", "sentiment": "sentiments", "theme": "themes"}.get(param)
        if kind:
            return ctx.taxonomy.name(kind, value, lang)
        if param in ("lang", "scope", "coverage"):
            key = f"{param}.{value}"
            found = ctx.catalogues.messages.get(lang, {}).get(key) or ctx.catalogues.messages["vi"].get(key)
            return found or (language_name(value, lang) if param == "lang" else value)
        if param == "country":
            return country_name(value, lang)
        if param == "source":
            return source_name(value)
        return value

    def source_name(source_id: str | None, outlet: str | None = None, unknown: str | None = None) -> str:
        """The outlet people know, never the crawler's source id: the article's outlet, the registry's
        name, else the outlet of an indexed article of that source."""
        if outlet:
            return outlet
        if not source_id:
            return ""
        names = registry_names(Path(ctx.settings.sources_path))
        if source_id in names:
            return names[source_id]
        found = source_outlets.get(source_id)
        if found is None:
            from index.query import SearchQuery

            try:
                hits = ctx.backend.search(SearchQuery(filters={"source": [source_id]}, limit=1)).hits
                found = next((h.article.outlet or _site(h.article.url) for h in hits), "") or ""
            except Exception:
                found = ""
            source_outlets[source_id] = found
        if unknown is not None:  # the caller shows something else (the id as code) for an unknown source
            return found or unknown
        return found or t("source.unnamed")

    def failure_text(reason: str | None) -> str:
        return failure_message(reason, ctx.catalogues.messages.get(lang, {}), ctx.catalogues.messages["vi"])

    def delivery_problem(text: str | None) -> str:
        """A delivery's stored error in the reader's words (the stored text when it has no known shape)."""
        if not text:
            return ""
        if m := _PROBLEM_NO_RECIPIENT.search(text):
            return t("delivery.problem.no_recipient", name=m[1])
        if m := _PROBLEM_EMPTY.search(text):
            return t("delivery.problem.empty", name=m[1])
        return text

    def rule_value(key: str, value: str) -> str:
        """An alert rule's filter value as people read it (``themes: sovereignty`` → the theme's name)."""
        param = {"language": "lang", "country": "country", "source": "source", "topic": "topic",
                 "theme": "theme", "sentiment": "sentiment", "scope": "scope", "coverage": "coverage"}.get(key)
        return value_name(param, value) if param else value

    def feature_text(feature: str, language: str | None = None) -> Markup:
        """A classifier feature as people read it: ``lexicon:foreign_affairs`` → the lexicon of the topic
        «Đối ngoại…», ``word:sea`` → «sea» (marked with the article's language)."""
        kind, sep, value = str(feature).partition(":")
        if not sep:  # a bare term
            kind, value = "word", kind
        if kind == "lexicon":
            key = f"feature.lexicon.{value}"
            name = t(key) if key in ctx.catalogues.messages.get(lang, {}) else label("topics", value)
            return Markup(escape(t("feature.lexicon", name=name)))
        if kind in ("word", "char", "phrase") and value:
            attr = f' lang="{escape(language)}"' if language else ""
            return Markup(f"«<span{attr}>{escape(value)}</span>»")
        return Markup(escape(t("feature.other")))

    def code_name(prefix: str, code: str | None) -> str:
        """A machine code's name from the catalogue (``kind.news_search``), the code when it has none."""
        key = f"{prefix}.{code}"
        return t(key) if key in ctx.catalogues.messages.get(lang, {}) else (code or "")

    env: Environment = ctx.env
    html = env.get_template(template).render(
        request=request, t=t, lang=lang, user=request.state.user, csrf_token=request.state.csrf_token,
        fmt_dt=lambda v: dates.datetime(v, lang), fmt_date=lambda v: dates.date(v, lang), label=label,
        value_name=value_name, audit_action=audit_action, risk_kind=risk_kind, source_name=source_name,
        evidence_text=evidence_text, pct=lambda value: format_percent(float(value), "#,##0%", locale=lang),
        rule_value=rule_value, feature_text=feature_text, label_keys=lambda kind: sorted(getattr(ctx.taxonomy, kind)),
        country=lambda code: country_name(code, lang), language=lambda code: value_name("lang", code or ""),
        failure_text=failure_text, failure_code=lambda reason: failure_parts(reason)[0],
        delivery_problem=delivery_problem, code_name=code_name,
        # one risk presentation with the digest and alert mails (alerts.i18n): "72/100 (cao)", "+35"
        risk_text=lambda score, level=None: format_risk(score, lang, level), risk_level=risk_level,
        risk_weight=lambda weight: f"+{risk_points(weight or 0)}",
        city=ctx.city_name.get(lang) or ctx.city_name.get("vi", ""), features=ctx.features,
        path=request.url.path,
        **values,
    )
    return HTMLResponse(html, status_code=status_code)
