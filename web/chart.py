"""The volume-over-time chart of the search page: an inline SVG drawn on the server (no script)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD_BOTTOM, PAD_TOP = 600, 120, 18, 6
MAX_DAYS_AS_DAYS = 120  # a longer span is drawn per month
MAX_BAR_WIDTH = 40
MAX_MONTHS_AS_MONTHS = 120  # a longer span is drawn per year


def fill_days(counts: list[tuple[str, int]], interval: str) -> list[tuple[str, int]]:
    """Every day (or month) between the first and last bucket, missing ones at zero."""
    if not counts:
        return []
    known = dict(counts)
    first, last = date.fromisoformat(counts[0][0]), date.fromisoformat(counts[-1][0])
    out: list[tuple[str, int]] = []
    current: date | None = first
    while current is not None and current <= last:
        key = current.isoformat()
        out.append((key, known.get(key, 0)))
        current = next_bucket(current, interval)
    return out


def next_bucket(day: date, interval: str) -> date | None:
    """The first day of the next day (or month) bucket; None after the last representable date."""
    try:
        if interval == "year":
            return date(day.year + 1, 1, 1)
        if interval == "month":
            return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        return day + timedelta(days=1)
    except (OverflowError, ValueError):
        return None


def choose_interval(counts: list[tuple[str, int]]) -> str:
    """``day`` unless the span is long, then ``month``; ``year`` when even months would be too many
    bars (a crawled page dated 0001 or 9999 must not draw thousands)."""
    if len(counts) < 2:
        return "day"
    span = date.fromisoformat(counts[-1][0]) - date.fromisoformat(counts[0][0])
    if span.days > MAX_MONTHS_AS_MONTHS * 31:
        return "year"
    return "month" if span.days > MAX_DAYS_AS_DAYS else "day"


def volume_svg(buckets: list[tuple[str, int]], title: str, bar_label: str,
               link: Callable[[str], str] | None = None, link_label: str = "") -> Markup:
    """Bars of article counts per bucket with the first and last dates underneath; each bar has a
    tooltip (``bar_label`` formatted with ``date`` and ``count``). With ``link`` (bucket key -> URL)
    every bar with articles is a link (narrowing the search to its day or month; ``link_label``
    formatted like ``bar_label`` names it for screen readers): a plain SVG ``<a>``, no script, so the
    CSP stays strict. Empty markup for no data."""
    if not buckets:
        return Markup("")
    top = max(n for _, n in buckets) or 1
    n = len(buckets)
    step = WIDTH / n
    gap = 1 if step > 3 else 0
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" preserveAspectRatio="none" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, (key, count) in enumerate(buckets):
        h = 0 if count == 0 else max(1.5, plot * count / top)
        x = i * step
        tip = escape(bar_label.format(date=key, count=count))
        width = min(max(step - gap, 0.5), MAX_BAR_WIDTH)  # a few buckets: narrow bars, not a wall
        rect = (f'<rect x="{x + (step - gap - width) / 2 if width < step - gap else x:.2f}" '
                f'y="{PAD_TOP + plot - h:.2f}" width="{width:.2f}" height="{h:.2f}" class="bar">'
                f'<title>{tip}</title></rect>')
        if link is not None and count:
            # the whole column is the target, not only the (maybe 1.5 px high) bar
            hit = (f'<rect x="{x:.2f}" y="{PAD_TOP}" width="{max(step, 0.5):.2f}" height="{plot}" '
                   f'class="bar-target" fill="transparent" pointer-events="all"/>')
            label = escape(link_label.format(date=key, count=count)) if link_label else tip
            parts.append(f'<a href="{escape(link(key))}" class="bar-link" aria-label="{label}">{hit}{rect}</a>')
        else:
            parts.append(rect)
    parts.append(f'<line x1="0" y1="{PAD_TOP + plot}" x2="{WIDTH}" y2="{PAD_TOP + plot}" class="axis"/>')
    parts.append(f'<text x="0" y="{HEIGHT - 4}" class="tick">{escape(buckets[0][0])}</text>')
    if n > 1:
        parts.append(f'<text x="{WIDTH}" y="{HEIGHT - 4}" class="tick" text-anchor="end">'
                     f'{escape(buckets[-1][0])}</text>')
    parts.append(f'<text x="{WIDTH}" y="{PAD_TOP + 10}" class="tick" text-anchor="end">{top}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# -- the trends page ---------------------------------------------------------------------------

TONE_COLOURS = {"negative": "#c0392b", "neutral": "#8a94a6", "positive": "#2e8b57"}
SERIES_COLOUR = "#3a7bd5"


def _svg_open(width: int, height: int, title: str, *, css_class: str = "", size: str = "") -> str:
    cls = f' class="{css_class}"' if css_class else ""
    return (f'<svg{cls} viewBox="0 0 {width} {height}" {size}role="img" preserveAspectRatio="none" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>')


def spark_svg(cells: list[tuple[str, int, str | None]], top: int, title: str, *, height: int = 34) -> Markup:
    """One small multiple: a bar per bucket (``(label, count, href)``, oldest first) on a shared scale
    ``top`` so the rows of a panel compare; each bar with articles is a link (``href``) with the label
    as its name. Drawn full width, ``height`` px high; empty markup for no buckets."""
    if not cells:
        return Markup("")
    top = max(top, 1)
    step = WIDTH / len(cells)
    gap = 1 if step > 3 else 0
    width = min(max(step - gap, 0.5), MAX_BAR_WIDTH)
    parts = [_svg_open(WIDTH, height, title, css_class="spark", size=f'width="100%" height="{height}" ')]
    for i, (label, count, href) in enumerate(cells):
        h = 0 if count == 0 else max(1.5, (height - 2) * count / top)
        x = i * step + (step - gap - width) / 2
        rect = (f'<rect x="{x:.2f}" y="{height - h:.2f}" width="{width:.2f}" height="{h:.2f}" '
                f'fill="{SERIES_COLOUR}"><title>{escape(label)}</title></rect>')
        if href and count:
            hit = (f'<rect x="{i * step:.2f}" y="0" width="{step:.2f}" height="{height}" fill="transparent" '
                   f'pointer-events="all"/>')
            parts.append(f'<a href="{escape(href)}" aria-label="{escape(label)}">{hit}{rect}</a>')
        else:
            parts.append(rect)
    parts.append(f'<line x1="0" y1="{height - 0.5}" x2="{WIDTH}" y2="{height - 0.5}" stroke="#aab2bf" '
                 f'stroke-width="1"/></svg>')
    return Markup("".join(parts))


def share_svg(columns: list[tuple[str, list[tuple[str, int, str | None, str]]]], title: str,
              colours: dict[str, str], *, height: int = 120) -> Markup:
    """100 % stacked bars: per bucket ``(axis label, [(value, count, href, tooltip), ...])`` the share of
    each value (``colours``: value -> fill), in the order given; every segment is a link. A bucket
    without articles is an empty column. No text inside (the SVG stretches to the page's width, which
    would distort letters): the page writes the period under it."""
    if not columns:
        return Markup("")
    plot = height - 2
    step = WIDTH / len(columns)
    gap = 1 if step > 3 else 0
    width = min(max(step - gap, 0.5), MAX_BAR_WIDTH)
    parts = [_svg_open(WIDTH, height, title, css_class="chart")]
    for i, (_, segments) in enumerate(columns):
        total = sum(n for _, n, _, _ in segments)
        if not total:
            continue
        x = i * step + (step - gap - width) / 2
        y = float(plot)
        for value, count, href, tip in segments:
            if not count:
                continue
            h = plot * count / total
            y -= h
            rect = (f'<rect x="{x:.2f}" y="{y:.2f}" width="{width:.2f}" height="{h:.2f}" '
                    f'fill="{colours.get(value, SERIES_COLOUR)}"><title>{escape(tip)}</title></rect>')
            parts.append(f'<a href="{escape(href)}" aria-label="{escape(tip)}">{rect}</a>' if href else rect)
    parts.append(f'<line x1="0" y1="{plot}" x2="{WIDTH}" y2="{plot}" class="axis"/></svg>')
    return Markup("".join(parts))


def share_bar(fraction: float, title: str = "") -> Markup:
    """A thin horizontal bar filled to ``fraction`` (0..1) of its width: the bar of a share-of-voice
    row (the number beside it is the link; the bar is decoration, hidden from screen readers)."""
    fraction = min(max(fraction, 0.0), 1.0)
    tip = f"<title>{escape(title)}</title>" if title else ""
    return Markup(f'<svg viewBox="0 0 100 8" width="100%" height="8" preserveAspectRatio="none" aria-hidden="true">'
                  f'{tip}<rect width="100" height="8" fill="#e9ecf1"/>'
                  f'<rect width="{100 * fraction:.2f}" height="8" fill="{SERIES_COLOUR}"/></svg>')
