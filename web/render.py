"""Server-side rendering: one Jinja2 environment with autoescape on, and the helpers templates use
to show hostile crawled text safely (highlighted snippets, paragraphs, marked spans)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from alerts.i18n import format_risk, risk_level, risk_points
from index.query import Snippet

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
        if kind.startswith("theme:"):
            return label("themes", kind.split(":", 1)[1])
        key = f"risk.{kind}"
        return t(key) if key in ctx.catalogues.messages.get(lang, {}) else kind

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
            return found or value
        return value

    env: Environment = ctx.env
    html = env.get_template(template).render(
        request=request, t=t, lang=lang, user=request.state.user, csrf_token=request.state.csrf_token,
        fmt_dt=lambda v: dates.datetime(v, lang), fmt_date=lambda v: dates.date(v, lang), label=label,
        value_name=value_name, audit_action=audit_action, risk_kind=risk_kind,
        # one risk presentation with the digest and alert mails (alerts.i18n): "72/100 (cao)", "+35"
        risk_text=lambda score, level=None: format_risk(score, lang, level), risk_level=risk_level,
        risk_weight=lambda weight: f"+{risk_points(weight or 0)}",
        city=ctx.city_name.get(lang) or ctx.city_name.get("vi", ""), features=ctx.features,
        path=request.url.path,
        **values,
    )
    return HTMLResponse(html, status_code=status_code)
