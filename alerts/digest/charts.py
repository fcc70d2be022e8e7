"""The digest's charts, drawn with matplotlib (Agg, no pyplot state) into PNG bytes.

Text is set in DejaVu Sans, which matplotlib ships and which has every Vietnamese diacritic,
so a chart renders the same on any server. Labels come from the Translator (localized names
of topics, countries, languages), never from crawled text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from alerts.digest.i18n import Translator
from alerts.digest.model import DigestData

FONT = ["DejaVu Sans"]
WIDTH_IN, HEIGHT_IN, DPI = 6.4, 2.7, 150
DISPLAY_WIDTH = 640  # pixels in the HTML (the PNG has DPI/100 times more, for sharp print)
TOP_VALUES = 10
COLORS = {
    "domestic": "#1f5f99", "foreign": "#e08a1e", "all": "#1f5f99",
    "negative": "#c0392b", "neutral": "#95a5a6", "positive": "#27ae60",
    "unknown": "#d5d8dc",
}
BAR = "#1f5f99"


@dataclass(frozen=True)
class Chart:
    """One rendered chart: its id (also its Content-ID in e-mail), title, alt text and PNG."""

    id: str
    title: str
    alt: str
    png: bytes

    @property
    def cid(self) -> str:
        return f"chart-{self.id}@hpmon"

    @property
    def filename(self) -> str:
        return f"{self.id}.png"


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer, metadata={"Software": None})
    return buffer.getvalue()


def _style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8, colors="#333333")
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)


def volume_chart(days: list[date], series: dict[str, list[int]], names: dict[str, str], title: str) -> bytes:
    """Stacked bars of articles per day (oldest left), one colour per series."""
    with matplotlib.rc_context({"font.family": FONT}):
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
        ax = fig.add_subplot()
        positions = list(range(len(days)))
        bottom = [0] * len(days)
        for key, values in series.items():
            ax.bar(positions, values, bottom=bottom, color=COLORS.get(key, BAR), label=names.get(key, key),
                   width=0.8)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        step = max(len(days) // 6, 1)
        ticks = list(range(len(days) - 1, -1, -step))[::-1]
        ax.set_xticks(ticks, [days[i].strftime("%d/%m") for i in ticks])
        ax.set_xlim(-0.6, len(days) - 0.4)
        top = max(bottom, default=0)
        ax.set_ylim(0, max(top * 1.15, 1))
        ax.yaxis.get_major_locator().set_params(integer=True)
        if bottom:
            ax.annotate(str(bottom[-1]), (positions[-1], bottom[-1]), ha="center", va="bottom", fontsize=8,
                        xytext=(0, 2), textcoords="offset points", weight="bold")
        ax.set_title(title, fontsize=10, loc="left", weight="bold")
        _style(ax)
        if len(series) > 1:
            ax.legend(fontsize=8, frameon=False, ncol=len(series), loc="upper left", bbox_to_anchor=(0, 1.02))
        fig.tight_layout()
        return _png(fig)


def bar_chart(items: list[tuple[str, int]], title: str) -> bytes:
    """Horizontal bars of (name, count), biggest on top, each with its count."""
    items = items[:TOP_VALUES]
    height = max(HEIGHT_IN * 0.6, 0.7 + 0.27 * len(items))
    with matplotlib.rc_context({"font.family": FONT}):
        fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
        ax = fig.add_subplot()
        names = [name if len(name) <= 38 else name[:37] + "…" for name, _ in items]
        counts = [n for _, n in items]
        positions = list(range(len(items)))[::-1]
        ax.barh(positions, counts, color=BAR, height=0.65)
        ax.set_yticks(positions, names)
        for y, n in zip(positions, counts, strict=True):
            ax.annotate(str(n), (n, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        ax.set_xlim(0, max(counts, default=1) * 1.15 or 1)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(title, fontsize=10, loc="left", weight="bold")
        _style(ax)
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        fig.tight_layout()
        return _png(fig)


def _facet_items(data: DigestData, facet: str, namer) -> list[tuple[str, int]]:
    counts = data.today.facets.get(facet, {})
    return [(namer(value), n) for value, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def render_charts(data: DigestData, tr: Translator) -> list[Chart]:
    """The profile's charts, in its order. On an empty day only the first 30-day volume chart is
    drawn, and only if those 30 days had articles: it shows the empty day against its context
    (a quiet day or a crawler that stopped) and keeps the digest to one page."""
    charts: list[Chart] = []
    span = tr("chart.days", n=len(data.volume_days))
    for chart_id in data.profile.charts:
        if data.empty and charts:
            break
        if chart_id == "volume_scope" and data.volume_scope and data.volume_total:
            title = tr("chart.volume_scope", span=span)
            names = {"domestic": tr("scope.domestic"), "foreign": tr("scope.foreign"), "unknown": tr("unknown")}
            charts.append(Chart(chart_id, title, title, volume_chart(data.volume_days, data.volume_scope, names,
                                                                     title)))
        elif chart_id == "volume_sentiment" and data.volume_sentiment and data.volume_total:
            title = tr("chart.volume_sentiment", span=span)
            names = {s: tr.sentiment(s) for s in ("negative", "neutral", "positive")} | {
                "unknown": tr("sentiment.unknown")}
            charts.append(Chart(chart_id, title, title, volume_chart(data.volume_days, data.volume_sentiment,
                                                                     names, title)))
        elif chart_id in ("topics", "countries", "languages") and not data.empty:
            facet = {"topics": "topic", "countries": "country", "languages": "language"}[chart_id]
            namer = {"topic": tr.topic, "country": tr.country, "language": tr.language}[facet]
            items = _facet_items(data, facet, namer)
            if items:
                title = tr(f"chart.{chart_id}")
                charts.append(Chart(chart_id, title, title, bar_chart(items, title)))
    return charts
