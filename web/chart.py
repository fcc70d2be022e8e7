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
