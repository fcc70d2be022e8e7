"""Reading one day's digest out of the index: counts, stories, flagged items, sections, appendix.

Everything goes through the ``Backend`` protocol (search with facets, histogram), so the digest
reads the embedded SQLite store and Elasticsearch alike. A day is a calendar day in the city's
time zone. The rebuttal queue and case states belong to the case store, which the caller passes
in as two callables (or None: the digest then shows "—").
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from alerts.digest.model import (
    EVIDENCE_MAX,
    NAME_MAX,
    TITLE_MAX,
    AppendixGroup,
    ArticleRow,
    Breakdown,
    BreakdownRow,
    DayStats,
    DigestData,
    FlaggedItem,
    Metric,
    RiskLine,
    Story,
    TopicBlock,
    cap,
)
from alerts.digest.profiles import DigestProfile, TopicSection
from index.article import Article
from index.backend import Backend
from index.query import SearchQuery

log = logging.getLogger(__name__)

QueueCounter = Callable[[date], int]
CaseState = Callable[[str], "str | None"]

VOLUME_DAYS = 30
WEEK = 7
MAX_ARTICLES = 5000  # articles of one day the digest reads (a day beyond that is a crawl gone wrong)
PAGE = 500
MAX_REASONS = 5
MAX_LINKS = 5
BREAKDOWN_ROWS = 15
FACET_SIZE = 10_000
SCOPES = ("domestic", "foreign")
SENTIMENTS = ("negative", "neutral", "positive")


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The first and last instant (UTC, inclusive) of ``day`` in the city's time zone."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz) - timedelta(microseconds=1)
    return start.astimezone(UTC), end.astimezone(UTC)


def merge_filters(base: dict[str, list[str]], extra: dict[str, list[str]]) -> dict[str, list[str]] | None:
    """The profile's filters narrowed by ``extra``; None when they exclude each other (e.g. a
    foreign-press profile asked for domestic articles), meaning: nothing matches."""
    merged = {k: list(v) for k, v in base.items()}
    for facet, values in extra.items():
        if facet in merged:
            values = [v for v in values if v in merged[facet]]
            if not values:
                return None
        merged[facet] = list(values)
    return merged


class Collector:
    """Reads the index for one profile: each query carries the profile's filters and search text."""

    def __init__(self, backend: Backend, profile: DigestProfile, timezone: str) -> None:
        self.backend = backend
        self.profile = profile
        self.timezone = timezone

    def _query(self, day_from: date, day_to: date, extra: dict[str, list[str]] | None = None,
               text: str = "", **kw) -> SearchQuery | None:
        filters = merge_filters(self.profile.filters, extra or {})
        if filters is None:
            return None
        since, _ = day_bounds(day_from, self.timezone)
        _, until = day_bounds(day_to, self.timezone)
        words = " ".join(t for t in (self.profile.query, text) if t)
        return SearchQuery(text=words, filters=filters, since=since, until=until, **kw)

    def day_stats(self, day: date, queue_counter: QueueCounter | None) -> DayStats:
        """The day's article count and facet counts (outlets, countries, languages, scope, tone...)."""
        query = self._query(day, day, limit=0, facets=True, facet_size=FACET_SIZE)
        result = self.backend.search(query) if query else None
        stats = DayStats(day=day, articles=result.total if result else 0,
                         facets={k: dict(v) for k, v in (result.facets if result else {}).items()})
        stats.queue = _queue(queue_counter, day)
        return stats

    def count(self, day: date, extra: dict[str, list[str]] | None = None, text: str = "") -> int:
        query = self._query(day, day, extra, text, limit=0)
        return self.backend.search(query).total if query else 0

    def articles(self, day: date, extra: dict[str, list[str]] | None = None, text: str = "",
                 limit: int = MAX_ARTICLES) -> tuple[list[Article], int]:
        """The day's articles (newest first, at most ``limit``) and how many there are in all."""
        found: list[Article] = []
        total = 0
        while len(found) < limit:
            query = self._query(day, day, extra, text, sort="date", limit=min(PAGE, limit - len(found)),
                                offset=len(found))
            if query is None:
                break
            result = self.backend.search(query)
            total = result.total
            found.extend(hit.article for hit in result.hits)
            if not result.hits or len(found) >= total:
                break
        return found, max(total, len(found))

    def daily_series(self, days: list[date], extra: dict[str, list[str]] | None = None) -> list[int]:
        """Article counts per day of ``days`` (consecutive, oldest first), zeros included."""
        query = self._query(days[0], days[-1], extra)
        if query is None:
            return [0] * len(days)
        counts = dict(self.backend.histogram(query, interval="day", timezone=self.timezone))
        return [counts.get(d.isoformat(), 0) for d in days]


def _queue(queue_counter: QueueCounter | None, day: date) -> int | None:
    if queue_counter is None:
        return None
    try:
        return int(queue_counter(day))
    except Exception:  # the case store is another component: its failure must not stop the digest
        log.exception("rebuttal queue count for %s failed", day)
        return None


def _case_state(case_state: CaseState | None, article_id: str) -> str | None:
    if case_state is None:
        return None
    try:
        state = case_state(article_id)
    except Exception:  # same: show "no case" rather than no digest
        log.exception("case state of %s failed", article_id)
        return None
    return cap(state, NAME_MAX) if state else None


def _safe_url(url: str | None) -> str | None:
    """The original URL when it is a plain http(s) link (crawled data: no javascript: or data:)."""
    if url and url.lower().startswith(("http://", "https://")) and len(url) <= 2000 and not any(
            c in url for c in "\"'<> \n\r\t"):
        return url
    return None


def _host(url: str | None) -> str | None:
    """The site's name from the article's URL (``www.`` dropped): shown when the outlet is unknown,
    rather than the crawler's source id."""
    host = urlsplit(url or "").hostname if _safe_url(url) else None
    return host.removeprefix("www.") if host else None


def article_row(article: Article, base_url: str, tz: ZoneInfo, lang: str | None = None) -> ArticleRow:
    """How the digest shows one article (capped strings, city time, link into the web app), with
    the machine translation of its title into ``lang`` when the article is in another language
    and has one (``Article.translations``)."""
    when = article.date.astimezone(tz) if article.date else None
    translated = None
    if lang and article.language and article.language.split("-")[0] != lang:
        entry = (article.translations or {}).get(lang) or {}
        title = entry.get("title") if isinstance(entry, dict) else None
        translated = cap(title, TITLE_MAX) if isinstance(title, str) else None
    return ArticleRow(
        id=article.id,
        title=cap(article.title, TITLE_MAX) or cap(article.lead, TITLE_MAX) or article.id,
        link=f"{base_url.rstrip('/')}/articles/{article.id}",
        url=_safe_url(article.url),
        outlet=cap(article.outlet or _host(article.url) or article.source_id, NAME_MAX),
        country=cap(article.country, NAME_MAX) or None,
        language=cap(article.language, 16) or None,
        scope=article.scope,
        topics=[cap(t, NAME_MAX) for t in article.topics or []],
        sentiment=article.sentiment,
        published=when,
        story_id=article.story_id or article.duplicate_of or article.id,
        risk_score=article.risk_score,
        themes=[cap(t, NAME_MAX) for t in article.sensitive_themes or []],
        flags=[cap(f, NAME_MAX) for f in article.flags or []],
        translated_title=translated or None,
        translated_language=lang if translated else None,
    )


def _ordered(values: list[str | None]) -> list[str]:
    """Distinct values, most frequent first (ties in order of appearance)."""
    counts = Counter(v for v in values if v)
    first = {v: n for n, v in reversed(list(enumerate(values)))}
    return sorted(counts, key=lambda v: (-counts[v], first[v]))


def _tone(rows: list[ArticleRow]) -> tuple[str | None, int]:
    counts = Counter(r.sentiment for r in rows if r.sentiment)
    negative = counts.get("negative", 0)
    if not counts:
        return None, 0
    total = sum(counts.values())
    if negative and counts.get("positive", 0) and min(negative, counts["positive"]) * 3 >= total:
        return "mixed", negative
    return _ordered([r.sentiment for r in rows])[0], negative


def group_stories(rows: list[ArticleRow]) -> list[Story]:
    """The articles grouped by story, biggest first: most outlets, then most countries, then most
    articles, then earliest."""
    by_story: dict[str, list[ArticleRow]] = {}
    for row in rows:
        by_story.setdefault(row.story_id, []).append(row)
    stories = []
    for story_id, members in by_story.items():
        members.sort(key=lambda r: (r.published is None, r.published or datetime.min.replace(tzinfo=UTC), r.id))
        lead = next((r for r in members if r.id == story_id), members[0])
        tone, negative = _tone(members)
        stories.append(Story(
            id=story_id, lead=lead, articles=members,
            outlets=_ordered([r.outlet for r in members]),
            countries=_ordered([r.country for r in members]),
            languages=_ordered([r.language for r in members]),
            topics=_ordered([t for r in members for t in r.topics]),
            tone=tone, negative=negative,
        ))
    stories.sort(key=lambda s: (-len(s.outlets), -len(s.countries), -s.size,
                                s.lead.published.timestamp() if s.lead.published else 0.0, s.id))
    return stories


def _risk_lines(article: Article) -> tuple[float | None, str | None, list[RiskLine]]:
    risk = article.reasons.get("risk") if isinstance(article.reasons, dict) else None
    if not isinstance(risk, dict):
        return article.risk_score, None, []
    lines = []
    for reason in (risk.get("reasons") or [])[:MAX_REASONS]:
        if isinstance(reason, dict):
            try:
                weight = float(reason.get("weight") or 0.0)
            except (TypeError, ValueError):
                weight = 0.0
            data = reason.get("data")
            lines.append(RiskLine(kind=cap(str(reason.get("kind", "")), NAME_MAX),
                                  evidence=cap(str(reason.get("evidence", "")), EVIDENCE_MAX), weight=weight,
                                  data=data if isinstance(data, dict) else {}))
    score = article.risk_score if article.risk_score is not None else risk.get("score")
    level = risk.get("level")
    return (float(score) if isinstance(score, int | float) else None,
            cap(level, 16) if isinstance(level, str) else None, lines)


def flagged_items(articles: list[Article], rows: dict[str, ArticleRow], min_risk: float,
                  case_state: CaseState | None) -> list[FlaggedItem]:
    """Articles with a sensitive theme, a flag, or a risk score ≥ ``min_risk``, riskiest first."""
    items = []
    for article in articles:
        risky = article.risk_score is not None and article.risk_score >= min_risk
        if not (article.sensitive_themes or article.flags or risky):
            continue
        score, level, lines = _risk_lines(article)
        items.append(FlaggedItem(article=rows[article.id], score=score, level=level, reasons=lines,
                                 case_state=_case_state(case_state, article.id)))
    items.sort(key=lambda i: (-(i.score or 0.0), i.article.id))
    return items


def _average(values: list[float | int | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def headline(profile: DigestProfile, today: DayStats, previous: DayStats, week: list[DayStats]) -> list[Metric]:
    """The profile's headline numbers: the day, the day before, the mean of the 7 days before.
    Shares average only over days that had articles (a share of nothing is no share)."""
    return [Metric(key=key, today=today.metric(key), previous=previous.metric(key),
                   average=_average([d.metric(key) for d in week]), is_share=key.endswith("_share"))
            for key in profile.metrics]


def breakdown(facet: str, today: DayStats, previous: DayStats, week: list[DayStats]) -> Breakdown:
    """Counts by ``facet`` (country, language, topic), biggest first; the tail summed into ``others``."""
    name = {"country": "country", "language": "language", "topic": "topic"}[facet]
    values = set(today.facets.get(name, {})) | set(previous.facets.get(name, {}))
    rows = [BreakdownRow(value=cap(v, NAME_MAX), today=today.value(name, v), previous=previous.value(name, v),
                         average=sum(d.value(name, v) for d in week) / max(len(week), 1)) for v in values]
    rows.sort(key=lambda r: (-r.today, -r.previous, r.value))
    return Breakdown(facet=facet, rows=rows[:BREAKDOWN_ROWS], others=sum(r.today for r in rows[BREAKDOWN_ROWS:]))


def appendix(rows: list[ArticleRow], topic_order: list[str], limit: int) -> tuple[list[AppendixGroup], int]:
    """Every article of the day under its main topic (the first), in the taxonomy's order, oldest
    first within a topic; unclassified ones last. At most ``limit`` articles; returns the groups
    and how many were shown."""
    groups: dict[str | None, list[ArticleRow]] = {}
    for row in rows:
        groups.setdefault(row.topics[0] if row.topics else None, []).append(row)
    rank = {t: n for n, t in enumerate(topic_order)}
    ordered = sorted(groups, key=lambda t: (t is None, rank.get(t, len(rank)) if t else 0, t or ""))
    out, shown = [], 0
    for topic in ordered:
        members = sorted(groups[topic], key=lambda r: (r.published.timestamp() if r.published else 0.0, r.id))
        members = members[: max(limit - shown, 0)]
        if members:
            out.append(AppendixGroup(topic=topic, articles=members))
            shown += len(members)
    return out, shown


def topic_block(collector: Collector, section: TopicSection, day: date, rows: list[ArticleRow],
                limit: int) -> TopicBlock:
    """One per-topic section: the day's articles of the topic (or matching the section's search),
    grouped into stories, with the day before's count for comparison."""
    previous_day = day - timedelta(days=1)
    if section.topic:
        members = [r for r in rows if section.topic in r.topics]
        previous = collector.count(previous_day, {"topic": [section.topic]})
    else:
        matching, _ = collector.articles(day, section.filters or None, text=section.query)
        ids = {a.id for a in matching}
        members = [r for r in rows if r.id in ids]
        previous = collector.count(previous_day, section.filters or None, text=section.query)
    return TopicBlock(id=section.id, topic=section.topic, name=section.name, purpose=section.purpose,
                      total=len(members), previous=previous, stories=group_stories(members)[:limit])


def collect_digest(
    backend: Backend,
    profile: DigestProfile,
    day: date,
    *,
    timezone: str,
    city: dict[str, str],
    base_url: str,
    topic_order: list[str] | None = None,
    queue_counter: QueueCounter | None = None,
    case_state: CaseState | None = None,
    lang: str | None = None,
    now: datetime | None = None,
) -> DigestData:
    """Everything the profile's digest of ``day`` (city time) shows, read from ``backend``.
    ``queue_counter(day)`` gives the rebuttal queue's size and ``case_state(article_id)`` an
    article's case state; either may be None (shown as "—" / "no case")."""
    tz = ZoneInfo(timezone)
    collector = Collector(backend, profile, timezone)
    today = collector.day_stats(day, queue_counter)
    previous = collector.day_stats(day - timedelta(days=1), queue_counter)
    week = [previous] + [collector.day_stats(day - timedelta(days=n), queue_counter) for n in range(2, WEEK + 1)]
    data = DigestData(
        profile=profile, lang=lang or profile.language, day=day, timezone=timezone, city=city,
        base_url=base_url, generated_at=(now or datetime.now(UTC)).astimezone(tz), today=today, previous=previous,
        week=week, metrics=headline(profile, today, previous, week),
    )
    data.volume_days = [day - timedelta(days=n) for n in range(VOLUME_DAYS - 1, -1, -1)]
    total = collector.daily_series(data.volume_days)
    if "volume_scope" in profile.charts:
        data.volume_scope = _split(total, {s: collector.daily_series(data.volume_days, {"scope": [s]})
                                           for s in SCOPES})
    if "volume_sentiment" in profile.charts:
        data.volume_sentiment = _split(total, {s: collector.daily_series(data.volume_days, {"sentiment": [s]})
                                               for s in SENTIMENTS})
    if not data.volume_scope and not data.volume_sentiment:
        data.volume_scope = {"all": total}
    if today.articles == 0:
        return data
    articles, found = collector.articles(day)
    data.truncated = found > len(articles)
    rows = {a.id: article_row(a, base_url, tz, data.lang) for a in articles}
    row_list = list(rows.values())
    data.stories = group_stories(row_list)[: profile.top_stories]
    data.flagged = flagged_items(articles, rows, profile.min_risk, case_state)
    data.topic_blocks = [topic_block(collector, s, day, row_list, profile.topic_items) for s in profile.topics]
    data.breakdowns = [breakdown(facet, today, previous, week) for facet in profile.breakdown]
    data.appendix, data.appendix_shown = appendix(row_list, topic_order or [], profile.appendix_limit)
    data.appendix_total = found
    return data


def _split(total: list[int], parts: dict[str, list[int]]) -> dict[str, list[int]]:
    """The named series plus ``unknown`` (the rest of ``total``), dropping all-zero unknowns."""
    rest = [max(t - sum(p[n] for p in parts.values()), 0) for n, t in enumerate(total)]
    out = dict(parts)
    if any(rest):
        out["unknown"] = rest
    return out
