"""Turning a digest's data into HTML (e-mail or standalone file), Markdown and PDF.

HTML comes from one Jinja2 template with autoescaping on: everything crawled is escaped, every
string people read comes from the message catalogue. It is e-mail-safe (nested tables, inline
styles, no script or external resource). Charts are ``cid:`` references in mail and ``data:``
URIs in the standalone file and the PDF. The PDF is that HTML laid out on A4 by WeasyPrint with
DejaVu Sans (every Vietnamese diacritic) and Noto CJK for Chinese, Japanese and Korean titles.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from alerts.digest.charts import DISPLAY_WIDTH, Chart, render_charts
from alerts.digest.collect import MAX_LINKS, CaseState, QueueCounter, collect_digest
from alerts.digest.i18n import Taxonomy, Translator
from alerts.digest.model import DigestData
from alerts.digest.profiles import DigestProfile
from index.backend import Backend

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
HtmlMode = Literal["email", "file", "pdf"]
WIDTH = 680

FONT_STACK = "DejaVu Sans, Noto Sans CJK SC, Noto Sans CJK JP, Noto Sans CJK KR, Arial, Helvetica, sans-serif"
CSS = {
    "font": f"font-family:{FONT_STACK};color:#1f2937;text-align:left;",
    "section": "padding:14px 20px 4px 20px;",
    "h2": "margin:0 0 8px 0;padding-bottom:4px;border-bottom:2px solid #0b3d66;font-size:17px;color:#0b3d66;",
    "h3": "margin:10px 0 4px 0;font-size:14px;color:#111827;",
    "th": "padding:5px 6px;border-bottom:2px solid #d1d5db;font-size:12px;color:#4b5563;font-weight:bold;",
    "td": "padding:5px 6px;border-bottom:1px solid #e5e7eb;font-size:13px;vertical-align:top;",
    "td_small": "padding:3px 6px 3px 0;border-bottom:1px solid #f0f0f0;font-size:12px;vertical-align:top;",
    "small": "font-size:12px;color:#6b7280;",
    "label": "color:#4b5563;",
    "link": "color:#1f5f99;text-decoration:underline;",
    "title": "color:#0b3d66;text-decoration:none;font-weight:bold;",
    "title_small": "color:#0b3d66;text-decoration:none;",
    "purpose_promote": "background:#e7f5ec;color:#1f7a3a;",
    "purpose_respond": "background:#fdecea;color:#b42318;",
}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")


def md_escape(value: object) -> str:
    """Crawled text made inert in Markdown: one line, Markdown and HTML syntax escaped."""
    text = " ".join(str(value or "").split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def css_string(value: str) -> Markup:
    """Text safe inside a CSS string in a <style> element (where HTML escapes do not apply)."""
    return Markup("".join(c for c in value if c not in "\\\"'<>&{};\n\r"))


def _environment(kind: Literal["html", "md"]) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=kind == "html",
                      undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False,
                      keep_trailing_newline=True)
    env.filters["md"] = md_escape
    return env


def data_uri(chart: Chart) -> str:
    return "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")


@dataclass
class Digest:
    """One profile's digest of one day: its data, its charts, and its renderings."""

    data: DigestData
    charts: list[Chart]
    tr: Translator
    _envs: dict[str, Environment] = field(default_factory=dict, repr=False)
    _cache: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def profile(self) -> DigestProfile:
        return self.data.profile

    @property
    def stem(self) -> str:
        """The base of its file names: ``digest-<profile>-<YYYY-MM-DD>``."""
        return f"digest-{self.profile.id}-{self.data.day.isoformat()}"

    @property
    def subject(self) -> str:
        return self.tr("subject", city=self.data.city_name(), date=self.tr.short_date(self.data.day),
                       department=self.profile.display_name(self.data.lang))

    def _env(self, kind: Literal["html", "md"]) -> Environment:
        if kind not in self._envs:
            self._envs[kind] = _environment(kind)
        return self._envs[kind]

    def _context(self) -> dict:
        return {"data": self.data, "tr": self.tr, "t": self.tr, "charts": self.charts,
                "sections": self.profile.sections, "subject": self.subject, "max_links": MAX_LINKS}

    def html(self, mode: HtmlMode = "file") -> str:
        """The digest as one HTML document: ``email`` references charts by Content-ID (the
        message carries them), ``file`` and ``pdf`` embed them as data URIs."""
        template = self._env("html").get_template("digest.html.j2")
        return template.render(
            **self._context(), mode=mode, css=CSS, width=WIDTH, chart_width=DISPLAY_WIDTH,
            chart_src=(lambda c: f"cid:{c.cid}") if mode == "email" else data_uri,
            internal_label=css_string(self.tr("internal")),
            footer_label=css_string(f"{self.tr('pdf.footer')} · {self.profile.display_name(self.data.lang)} · "
                                    f"{self.tr.short_date(self.data.day)}"),
        )

    def markdown(self, chart_files: dict[str, str] | None = None) -> str:
        """The digest as Markdown (also the e-mail's plain-text part); charts are linked when
        ``chart_files`` maps their ids to file names written next to it."""
        template = self._env("md").get_template("digest.md.j2")
        text = template.render(**self._context(), chart_files=chart_files or {})
        return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

    def pdf(self) -> bytes:
        """The digest on A4 pages (WeasyPrint); rendered once, then kept (it takes seconds)."""
        if "pdf" not in self._cache:
            self._cache["pdf"] = render_pdf(self.html("pdf"))
        return self._cache["pdf"]


def render_pdf(html: str) -> bytes:
    """PDF bytes of an HTML document whose only resources are data: URIs; WeasyPrint may fetch
    nothing else (a link in crawled text must never make the server open a URL or a file)."""
    from weasyprint import HTML  # heavy import (pango): only when a PDF is asked for
    from weasyprint.urls import URLFetcher

    return HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf(
        presentational_hints=True)


def build_digest(
    backend: Backend,
    profile: DigestProfile,
    day: date,
    *,
    timezone: str,
    city: dict[str, str],
    base_url: str,
    taxonomy: Taxonomy | None = None,
    queue_counter: QueueCounter | None = None,
    case_state: CaseState | None = None,
    lang: str | None = None,
    now: datetime | None = None,
) -> Digest:
    """Collect the day's data for the profile and draw its charts; render with the returned
    object's ``html``/``markdown``/``pdf``."""
    taxonomy = taxonomy or Taxonomy()
    data = collect_digest(backend, profile, day, timezone=timezone, city=city, base_url=base_url,
                          topic_order=taxonomy.topic_order, queue_counter=queue_counter, case_state=case_state,
                          lang=lang, now=now or datetime.now(UTC))
    tr = Translator(data.lang, taxonomy)
    return Digest(data=data, charts=render_charts(data, tr), tr=tr)
