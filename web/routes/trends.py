"""The trends page: for the search's filters and period (the last 30 days by default), topic and
tone over time, share of voice by country, outlet and language, and the last 7 days against the 7
before, with the stories that grew most. Every count links to the search it counts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from alerts.i18n import country_name, language_name
from index.query import QuerySyntaxError, SearchQuery
from index.thesaurus import Thesaurus
from web.chart import TONE_COLOURS, share_bar, share_svg, spark_svg
from web.guard import page
from web.render import render
from web.searchform import FILTER_PARAMS, SearchForm

router = APIRouter()

DEFAULT_DAYS = 30
SHARE_ROWS = 12  # values listed per share-of-voice panel; the rest is one line
RISING_STORIES = 8
TONES = ("negative", "neutral", "positive")
NAMED = ("topic", "sentiment", "country", "language", "theme")  # facets this page names (the others as the search does)
ENGINE_ERRORS = ("QueryTimeout", "ConnectionError", "ConnectionTimeout", "TransportError")


class BadRequest(ValueError):
    """A parameter the page cannot use; the message is a catalogue key."""


@dataclass
class Period:
    since: date
    until: date

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1


def period_of(form: SearchForm, today: date) -> Period:
    """The form's dates, the missing end filled: the last ``DEFAULT_DAYS`` days ending today (or at
    ``until``); a start after the end is a bad request."""
    until = form.until or (today if form.since is None or form.since <= today else form.since)
    since = form.since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise BadRequest("trends.error.range")
    return Period(since, until)


def interval_for(period: Period) -> str:
    """Per day up to a month, per ISO week up to half a year, per month up to ten years, then per year."""
    if period.days <= 31:
        return "day"
    if period.days <= 183:
        return "week"
    return "month" if period.days <= 3660 else "year"


def bucket_start(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    if interval == "year":
        return day.replace(month=1, day=1)
    return day


def buckets(period: Period, interval: str) -> list[tuple[str, date, date]]:
    """(key as the engines name it, first day, last day) of every bucket of the period, the first
    and last clipped to the period (so a bucket's link searches exactly what it counts)."""
    out = []
    start = bucket_start(period.since, interval)
    while start <= period.until:
        if interval == "week":
            following = start + timedelta(days=7)
        elif interval == "month":
            following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        elif interval == "year":
            following = start.replace(year=start.year + 1)
        else:
            following = start + timedelta(days=1)
        out.append((start.isoformat(), max(start, period.since), min(following - timedelta(days=1), period.until)))
        start = following
    return out


class Trends:
    """What one request computes, with the links and names it needs."""

    def __init__(self, request: Request, form: SearchForm, period: Period) -> None:
        self.request = request
        self.ctx = request.app.state.ctx
        self.lang = request.state.lang
        self.form = form
        self.period = period
        self.partial = False

    # -- names and links --------------------------------------------------------------------

    def t(self, key: str, **values) -> str:
        return self.ctx.catalogues.gettext(self.lang, key, **values)

    def name(self, facet: str, value: str) -> str:
        if facet == "topic":
            return self.ctx.taxonomy.name("topics", value, self.lang)
        if facet == "sentiment":
            return self.ctx.taxonomy.name("sentiments", value, self.lang)
        if facet == "theme":
            return self.ctx.taxonomy.name("themes", value, self.lang)
        if facet in ("coverage", "scope"):
            key = f"{facet}.{value}"
            return self.t(key) if key in self.ctx.catalogues.messages.get(self.lang, {}) else value
        if facet == "country":
            return country_name(value, self.lang)
        if facet == "language":
            return language_name(value, self.lang)
        return value

    def day(self, value: date) -> str:
        return value.strftime("%d/%m/%Y" if self.lang == "vi" else "%Y-%m-%d")

    def span(self, first: date, last: date) -> str:
        return self.day(first) if first == last else f"{self.day(first)}–{self.day(last)}"

    def href(self, first: date, last: date, facet: str | None = None, value: str | None = None) -> str:
        """The search counting what a number counts: this page's query and filters, the dates, and
        (with ``facet``) that one value instead of the filter's others."""
        param = {f: p for p, f in FILTER_PARAMS.items()}.get(facet) if facet else None
        params = [p for p in self.form.params(with_page=False) if p[0] not in ("since", "until", "sort", param)]
        if param:
            params.append((param, value))
        params += [("since", first.isoformat()), ("until", last.isoformat())]
        return "/search?" + urlencode(params)

    # -- queries ----------------------------------------------------------------------------

    def query(self, first: date, last: date, **kwargs) -> SearchQuery:
        query = replace(self.form, since=first, until=last, page=1).to_query(self.ctx.timezone, **kwargs)
        query.thesaurus = Thesaurus.of_installation(self.ctx.settings.config_dir, self.ctx.settings.city_path)
        return query

    def counts(self, first: date, last: date, filters: dict[str, list[str]] | None = None, size: int = 30):
        """(total, facets) of the period's hits; notes a partial answer."""
        query = self.query(first, last, limit=0, offset=0, facets=True)
        query.facet_size = size
        for facet, values in (filters or {}).items():
            query.filters[facet] = values
        result = self.ctx.backend.search(query)
        self.partial |= result.timed_out
        return result.total, result.facets

    # -- panels -----------------------------------------------------------------------------

    def over_time(self) -> dict:
        """Topic small multiples and tone shares per bucket, with their tables."""
        p = self.period
        interval = interval_for(p)
        cols = buckets(p, interval)
        query = self.query(p.since, p.until, limit=0, offset=0)
        series = {}
        for facet in ("topic", "sentiment"):
            rows = self.ctx.backend.facet_histogram(query, facet, interval=interval, timezone=self.ctx.timezone,
                                                    size=100)
            self.partial |= rows.timed_out
            per: dict[str, dict[str, int]] = {}
            for key, value, n in rows:
                per.setdefault(value, {})[key] = n
            series[facet] = per
        labels = [self.span(first, last) for _, first, last in cols]
        topics = sorted(series["topic"], key=lambda v: (-sum(series["topic"][v].values()), v))
        top = max((n for per in series["topic"].values() for n in per.values()), default=0)
        topic_rows = []
        for value in topics:
            name = self.name("topic", value)
            cells = []
            for (key, first, last), label in zip(cols, labels, strict=True):
                n = series["topic"][value].get(key, 0)
                cells.append({"label": label, "count": n, "href": self.href(first, last, "topic", value)})
            spark = spark_svg([(self.t("trends.cell", name=name, span=c["label"], count=c["count"]), c["count"],
                                c["href"]) for c in cells], top, self.t("trends.topic_row", name=name))
            topic_rows.append({"value": value, "name": name, "total": sum(c["count"] for c in cells),
                               "href": self.href(p.since, p.until, "topic", value), "cells": cells, "spark": spark})
        tones = [v for v in TONES if v in series["sentiment"]] + sorted(set(series["sentiment"]) - set(TONES))
        tone_rows, columns = [], []
        for (key, first, last), label in zip(cols, labels, strict=True):
            total = sum(series["sentiment"][v].get(key, 0) for v in tones)
            cells = []
            for v in tones:
                n = series["sentiment"][v].get(key, 0)
                cells.append({"value": v, "count": n, "share": n / total if total else 0.0,
                              "href": self.href(first, last, "sentiment", v)})
            tone_rows.append({"label": label, "total": total, "cells": cells})
            columns.append((label, [(c["value"], c["count"], c["href"],
                                     self.t("trends.tone_cell", name=self.name("sentiment", c["value"]), span=label,
                                            count=c["count"], share=pct(c["share"], self.lang)))
                                    for c in cells]))
        tone_chart = share_svg(columns, self.t("trends.tone_title"), TONE_COLOURS) if any(
            r["total"] for r in tone_rows) else None
        return {"interval": interval, "interval_key": f"trends.per_{interval}", "labels": labels,
                "topics": topic_rows, "tones": tones,
                "tone_rows": tone_rows, "tone_chart": tone_chart}

    def share_of_voice(self) -> tuple[int, list[dict]]:
        p = self.period
        total, facets = self.counts(p.since, p.until, size=50)
        panels = []
        for facet, key in (("country", "trends.by_country"), ("outlet", "trends.by_outlet"),
                           ("language", "trends.by_language")):
            values = facets.get(facet, [])
            rows = [{"name": self.name(facet, v), "count": n, "share": n / total if total else 0.0,
                     "pct": pct(n / total if total else 0.0, self.lang),
                     "bar": share_bar(n / total if total else 0.0),
                     "href": self.href(p.since, p.until, facet, v)} for v, n in values[:SHARE_ROWS]]
            rest = total - sum(r["count"] for r in rows)
            panels.append({"facet": facet, "title": self.t(key), "rows": rows, "rest": rest,
                           "rest_pct": pct(rest / total if total else 0.0, self.lang)})
        return total, panels

    def week_on_week(self) -> dict:
        end = self.period.until
        cur = (end - timedelta(days=6), end)
        prev = (end - timedelta(days=13), end - timedelta(days=7))
        cur_total, cur_f = self.counts(*cur)
        prev_total, prev_f = self.counts(*prev)

        def rows(facet: str, order: tuple[str, ...] = ()) -> list[dict]:
            now, before = dict(cur_f.get(facet, [])), dict(prev_f.get(facet, []))
            values = [v for v in order if v in now or v in before] + sorted(
                (set(now) | set(before)) - set(order), key=lambda v: (-now.get(v, 0), -before.get(v, 0), v))
            return [self.change(self.name(facet, v), now.get(v, 0), before.get(v, 0),
                                self.href(*cur, facet, v), self.href(*prev, facet, v)) for v in values]

        return {"cur": self.span(*cur), "prev": self.span(*prev),
                "total": self.change(self.t("trends.all_articles"), cur_total, prev_total, self.href(*cur),
                                     self.href(*prev)),
                "topics": rows("topic"), "tones": rows("sentiment", TONES), "themes": rows("theme"),
                "coverage": rows("coverage", ("city", "watch")), "stories": self.rising(cur, prev, cur_f)}

    def change(self, name: str, now: int, before: int, now_href: str, before_href: str) -> dict:
        if before:
            ratio = (now - before) / before
            text = ("▲ " if ratio > 0 else "▼ " if ratio < 0 else "") + pct(abs(ratio), self.lang)
            direction = "up" if ratio > 0 else "down" if ratio < 0 else "same"
        else:
            text, direction = (self.t("trends.new"), "up") if now else ("—", "same")
        return {"name": name, "now": now, "before": before, "now_href": now_href, "before_href": before_href,
                "change": text, "direction": direction}

    def rising(self, cur: tuple[date, date], prev: tuple[date, date], cur_f: dict) -> list[dict]:
        """The stories with most more articles in the last 7 days than in the 7 before (at least two
        articles in the last 7 days)."""
        now = {v: n for v, n in cur_f.get("story", []) if n >= 2}
        if not now:
            return []
        _, before_f = self.counts(*prev, filters={"story": list(now)}, size=len(now))
        before = dict(before_f.get("story", []))
        ranked = sorted(now, key=lambda s: (-(now[s] - before.get(s, 0)), -now[s], s))
        out = []
        for story_id in ranked[:RISING_STORIES]:
            growth = now[story_id] - before.get(story_id, 0)
            if growth <= 0:
                continue
            lead = self.ctx.backend.get(story_id)
            if lead is None:
                first = self.ctx.backend.search(SearchQuery(filters={"story": [story_id]}, sort="date", limit=1))
                lead = first.hits[0].article if first.hits else None
            out.append({"id": story_id, "title": (lead.title if lead else "") or self.t("article.untitled"),
                        "language": lead.language if lead else None, "now": now[story_id],
                        "before": before.get(story_id, 0), "growth": growth})
        return out


def pct(share: float, lang: str) -> str:
    """A percentage with one decimal at most, the decimal mark of the reader's language."""
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".")
    return (text.replace(".", ",") if lang == "vi" else text) + " %"


def _today(request: Request) -> date:
    return datetime.now(ZoneInfo(request.app.state.ctx.timezone)).date()


@page(router, "/trends", role="viewer")
def trends_page(request: Request) -> Response:
    form = SearchForm.from_params(list(request.query_params.multi_items()))
    if form.errors:
        return render(request, "error.html", status_code=400, message_key=form.errors[0])
    try:
        period = period_of(form, _today(request))
        form = replace(form, since=period.since, until=period.until, page=1, sort="relevance")
        trends = Trends(request, form, period)
        trends.query(period.since, period.until).parsed  # noqa: B018 - a syntax error is a bad request
    except BadRequest as exc:
        return render(request, "error.html", status_code=400, message_key=str(exc))
    except QuerySyntaxError:
        return render(request, "error.html", status_code=400, message_key="search.error.syntax")
    error_keys: list[str] = []
    total, shares, over, weeks = 0, [], None, None
    try:
        total, shares = trends.share_of_voice()
        over = trends.over_time()
        weeks = trends.week_on_week()
    except Exception as exc:  # the engine timed out or is down: say so on the page
        if type(exc).__name__ not in ENGINE_ERRORS:
            raise
        error_keys.append("search.error.engine")
    base = [p for p in form.params(with_page=False) if p[0] not in ("since", "until")]
    return render(
        request, "trends.html", form=form, period=period, total=total, shares=shares, over=over, weeks=weeks,
        error_keys=error_keys, partial=trends.partial, span=trends.span(period.since, period.until),
        search_href=trends.href(period.since, period.until),
        hidden=[(k, v) for k, v in base if k in FILTER_PARAMS or k == "min_risk"],
        remove_links=[(k, trends.name(FILTER_PARAMS[k], v) if FILTER_PARAMS[k] in NAMED else None, v,
                       "/trends?" + urlencode(form.params(drop=(k, v), with_page=False)))
                      for k, vals in form.filters.items() for v in vals],
    )
