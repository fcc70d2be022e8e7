"""The digest's content as plain data: what ``collect`` computes and every renderer shows.

Crawled strings (titles, outlets, evidence) are capped here; escaping is the renderers' job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from alerts.digest.profiles import DigestProfile

TITLE_MAX = 300
EVIDENCE_MAX = 300
NAME_MAX = 80


def cap(text: str | None, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (an ellipsis marks the cut)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@dataclass
class DayStats:
    """Headline counts of one day, and its facet counts {facet: {value: n}}."""

    day: date
    articles: int = 0
    queue: int | None = None
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    def distinct(self, facet: str) -> int:
        return len(self.facets.get(facet, {}))

    def value(self, facet: str, value: str) -> int:
        return self.facets.get(facet, {}).get(value, 0)

    def share(self, facet: str, value: str) -> float | None:
        """The fraction of the day's articles with that facet value; None on a day without articles."""
        return self.value(facet, value) / self.articles if self.articles else None

    def metric(self, key: str) -> float | int | None:
        """The value of a headline metric (``profiles.METRICS``) for this day."""
        if key == "articles":
            return self.articles
        if key == "outlets":
            return self.distinct("outlet")
        if key == "countries":
            return self.distinct("country")
        if key == "languages":
            return self.distinct("language")
        if key == "foreign_share":
            return self.share("scope", "foreign")
        if key == "negative_share":
            return self.share("sentiment", "negative")
        if key == "queue":
            return self.queue
        raise KeyError(key)


@dataclass
class Metric:
    """One headline number: the day, the day before, and the average of the 7 days before."""

    key: str
    today: float | int | None
    previous: float | int | None
    average: float | None
    is_share: bool = False

    @property
    def trend(self) -> str:
        """``up``, ``down`` or ``flat`` (today against the 7-day average), ``none`` without data."""
        if self.today is None or self.average is None:
            return "none"
        if abs(self.today - self.average) < 1e-9:
            return "flat"
        return "up" if self.today > self.average else "down"


@dataclass
class ArticleRow:
    """One article as the digest lists it."""

    id: str
    title: str
    link: str  # the article's page in the web app
    url: str | None  # the original, only when it is an http(s) URL
    outlet: str
    country: str | None
    language: str | None
    scope: str | None
    topics: list[str]
    sentiment: str | None
    published: datetime | None  # city time
    story_id: str
    risk_score: float | None = None
    themes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    translated_title: str | None = None  # the machine translation into the digest's language
    translated_language: str | None = None


@dataclass
class Story:
    """The day's articles of one story (``Article.story_id``), biggest by outlets then countries."""

    id: str
    lead: ArticleRow  # the article whose title and language represent the story
    articles: list[ArticleRow]
    outlets: list[str]
    countries: list[str]
    languages: list[str]
    topics: list[str]
    tone: str | None  # the most frequent tone, ``mixed`` when negative and positive are both frequent
    negative: int = 0

    @property
    def size(self) -> int:
        return len(self.articles)


@dataclass
class RiskLine:
    kind: str
    evidence: str
    weight: float
    data: dict = field(default_factory=dict)  # the scorer's structured evidence (terms, probability...)


@dataclass
class FlaggedItem:
    """A sensitive or flagged article, why it is risky, and where its rebuttal case stands."""

    article: ArticleRow
    score: float | None
    level: str | None
    reasons: list[RiskLine]
    case_state: str | None


@dataclass
class TopicBlock:
    """A per-topic section: the day's count (and the day before's) and its biggest stories."""

    id: str
    topic: str | None
    name: dict[str, str]
    purpose: str
    total: int
    previous: int
    stories: list[Story]


@dataclass
class BreakdownRow:
    value: str
    today: int
    previous: int
    average: float


@dataclass
class Breakdown:
    """Counts by country, language or topic: the day, the day before, the 7-day average."""

    facet: str
    rows: list[BreakdownRow]
    others: int = 0  # values beyond the rows shown, summed


@dataclass
class AppendixGroup:
    topic: str | None  # None: not classified
    articles: list[ArticleRow]


@dataclass
class DigestData:
    """Everything one digest shows, for one profile and one day."""

    profile: DigestProfile
    lang: str
    day: date
    timezone: str
    city: dict[str, str]
    base_url: str
    generated_at: datetime
    today: DayStats
    previous: DayStats
    week: list[DayStats]
    metrics: list[Metric]
    stories: list[Story] = field(default_factory=list)
    flagged: list[FlaggedItem] = field(default_factory=list)
    topic_blocks: list[TopicBlock] = field(default_factory=list)
    breakdowns: list[Breakdown] = field(default_factory=list)
    appendix: list[AppendixGroup] = field(default_factory=list)
    appendix_total: int = 0
    appendix_shown: int = 0
    volume_days: list[date] = field(default_factory=list)
    volume_scope: dict[str, list[int]] = field(default_factory=dict)
    volume_sentiment: dict[str, list[int]] = field(default_factory=dict)
    truncated: bool = False  # more articles that day than the digest reads

    @property
    def empty(self) -> bool:
        return self.today.articles == 0

    @property
    def topics_with_articles(self) -> list[TopicBlock]:
        """The per-topic sections that have articles that day (the others are named once)."""
        return [b for b in self.topic_blocks if b.total]

    @property
    def topics_without_articles(self) -> list[TopicBlock]:
        return [b for b in self.topic_blocks if not b.total]

    @property
    def volume_total(self) -> int:
        return sum(sum(series) for series in self.volume_scope.values()) or sum(
            sum(series) for series in self.volume_sentiment.values())

    def city_name(self) -> str:
        return self.city.get(self.lang) or self.city.get("vi") or ""
