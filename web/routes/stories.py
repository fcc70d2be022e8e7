"""The stories pages: the story groups the pipeline keeps (``pipeline.stories.StoryStore``, the file
``stories.sqlite`` of the data directory, also read by ``hpmon stories``), sorted by recent growth,
and one story with its copies across outlets and languages."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from alerts.i18n import country_name, language_name
from index.query import SearchQuery
from web.guard import page
from web.params import parse_day
from web.render import render

router = APIRouter()

DEFAULT_DAYS = 30
GROWTH_DAYS = 7  # growth: articles in the last 7 days against the 7 before
MAX_STORIES = 500  # read from the store
PAGE_STORIES = 60  # listed
MAX_MEMBERS = 500  # articles listed on a story's page

#: A story id is the id of its first article (``index.article.article_id``: 20 hex digits; tests and
#: older data use other short ids).
StoryId = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")]


def _store(request: Request):
    """The pipeline's story store, or None when nothing was ever grouped (no file yet: opening it would
    create one)."""
    path = request.app.state.ctx.settings.home / "stories.sqlite"
    if not path.is_file():
        return None
    from pipeline.stories import StoryStore

    return StoryStore(path)


def _today(request: Request) -> date:
    return datetime.now(ZoneInfo(request.app.state.ctx.timezone)).date()


def growth(per_day: list[tuple[str, int]], today: date) -> tuple[int, int]:
    """(articles in the last ``GROWTH_DAYS`` days up to ``today``, in the ``GROWTH_DAYS`` before)."""
    recent_from = today - timedelta(days=GROWTH_DAYS - 1)
    before_from = recent_from - timedelta(days=GROWTH_DAYS)
    recent = before = 0
    for day, n in per_day:
        d = date.fromisoformat(day)
        if recent_from <= d <= today:
            recent += n
        elif before_from <= d < recent_from:
            before += n
    return recent, before


@page(router, "/stories", role="viewer")
def stories_page(request: Request) -> Response:
    ctx = request.app.state.ctx
    lang = request.state.lang
    today = _today(request)
    raw = request.query_params.get("since", "").strip()
    try:
        since = parse_day(raw) if raw else today - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        return render(request, "error.html", status_code=400, message_key="search.error.bad_date")
    singles = request.query_params.get("single") == "1"  # one-article stories are hidden unless asked
    store = _store(request)
    rows = []
    hidden = 0
    if store is not None:
        try:
            start = datetime.combine(since, time.min, ZoneInfo(ctx.timezone)).astimezone(UTC)
            summaries = store.top(since=start, limit=MAX_STORIES)
        finally:
            store.close()
        for s in summaries:
            if s.size < 2 and not singles:
                hidden += 1
                continue
            recent, before = growth(s.per_day, today)
            rows.append({"id": s.story_id, "title": s.title, "size": s.size, "outlets": s.outlets,
                         "languages": [language_name(x, lang) for x in s.languages],
                         "countries": [country_name(x, lang) for x in s.countries],
                         "first_seen": s.first_seen, "last_seen": s.last_seen,
                         "recent": recent, "before": before, "growth": recent - before})
        rows.sort(key=lambda r: (-r["growth"], -r["recent"], -r["size"], -_ts(r["last_seen"]), r["id"]))
    return render(request, "stories.html", stories=rows[:PAGE_STORIES], more=max(0, len(rows) - PAGE_STORIES),
                  since=since, has_store=store is not None, growth_days=GROWTH_DAYS, singles=singles, hidden=hidden)


def _ts(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return 0.0


def _indexed_members(request: Request, story_id: str) -> list:
    """The indexed articles whose ``story_id`` is ``story_id`` (the search page links a story's
    copies here; an index filled by ``hpmon ingest`` elsewhere, or restored, may have no store)."""
    result = request.app.state.ctx.backend.search(SearchQuery(filters={"story": [story_id]}, sort="date",
                                                              limit=MAX_MEMBERS))
    return [h.article for h in result.hits]


@page(router, "/stories/{story_id}", role="viewer")
def story_page(request: Request, story_id: StoryId) -> Response:
    ctx = request.app.state.ctx
    lang = request.state.lang
    store = _store(request)
    members: list[str] = []
    if store is not None:
        try:
            members = store.members(story_id)
        finally:
            store.close()
    if members:
        articles = [a for a in (ctx.backend.get(i) for i in members[:MAX_MEMBERS]) if a is not None]
    else:  # a story the index knows (Article.story_id) but the store does not: its indexed copies
        articles = _indexed_members(request, story_id)
        members = [a.id for a in articles]
    if not members:
        return render(request, "error.html", status_code=404, message_key="error.not_found")
    articles.sort(key=lambda a: (a.date is None, a.date or datetime.min.replace(tzinfo=UTC), a.id))
    lead = next((a for a in articles if a.id == story_id), articles[0] if articles else None)
    dates = [a.date for a in articles if a.date]
    outlets = Counter(a.outlet or a.source_id for a in articles)
    languages = Counter(a.language for a in articles if a.language)
    countries = Counter(a.country for a in articles if a.country)
    recent, before = growth(sorted(Counter(ctx.dates.local(d).date().isoformat() for d in dates).items()),
                            _today(request))
    return render(
        request, "stories_detail.html", story_id=story_id, lead=lead, articles=articles, size=len(members),
        missing=len(members) - len(articles), first_seen=min(dates) if dates else None,
        last_seen=max(dates) if dates else None, outlets=outlets.most_common(),
        languages=[(language_name(c, lang), n) for c, n in languages.most_common()],
        countries=[(country_name(c, lang), n) for c, n in countries.most_common()],
        recent=recent, before=before, growth_days=GROWTH_DAYS, language_label=lambda c: language_name(c, lang),
        country_label=lambda c: country_name(c, lang),
    )
