"""The pipeline: the one place that chains the stages, top to bottom.

    page bytes ─► decode ─► extract ─► language ─► relevance ─► exact duplicates ─► index

A stage either passes its result on or returns ``Dropped`` with a reason; nothing is
dropped silently. ``analyze_*`` runs the stages without writing anything (``hpmon
analyze``); ``process_page`` also indexes (crawls and ``hpmon ingest``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from crawlers.items import FetchedPage, LinkHints
from crawlers.sources import Source
from crawlers.urls import canonical_url, resolve_canonical
from index.article import Article, article_id
from index.backend import Backend
from index.text import fold
from pipeline.city import CityProfile
from pipeline.extract import decode_html, extract_article
from pipeline.language import LanguageDetector, LanguageGuess
from pipeline.outcome import Dropped
from pipeline.relevance import Relevance, score_relevance


@dataclass
class Draft:
    """An article on its way through the stages."""

    id: str
    url: str
    source_id: str
    title: str
    text: str
    lead: str = ""
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    fetched_at: datetime | None = None
    outlet: str | None = None
    country: str | None = None
    declared_language: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None


@dataclass
class Analysis:
    """Everything the pipeline concluded about one input."""

    draft: Draft | None = None
    language: LanguageGuess | None = None
    relevance: Relevance | None = None
    article: Article | None = None  # built when relevant
    duplicate_of: str | None = None
    dropped: Dropped | None = None

    def to_public(self, input_id: str) -> dict:
        """The ``hpmon analyze`` output contract (fields not computed yet are null)."""
        article = self.article
        return {
            "id": input_id,
            "language": self.language.language if self.language else None,
            "language_probability": round(self.language.probability, 4) if self.language else None,
            "relevant": bool(self.relevance and self.relevance.relevant),
            "relevance": {"score": round(self.relevance.score, 4), "terms": self.relevance.terms,
                          "hits": [h.__dict__ for h in self.relevance.hits],
                          "rejected": [r.__dict__ for r in self.relevance.rejected]} if self.relevance else None,
            "topics": article.topics if article else None,
            "sentiment": None,
            "sensitive": None,
            "risk": None,
            "story_id": article.story_id if article else None,
            "duplicate_of": self.duplicate_of,
            "dropped": {"stage": self.dropped.stage, "reason": self.dropped.reason, "detail": self.dropped.detail}
            if self.dropped else None,
        }


@dataclass
class Indexed:
    article: Article
    new: bool
    duplicate: bool


def _without_repeated_title(text: str, title: str) -> str:
    """The text without a first line that only repeats the title (some pages print the
    headline inside the article body), so copies of one article have the same text."""
    first, _, rest = text.partition("\n")
    if title and rest and fold(first).strip() == fold(title).strip():
        return rest.lstrip("\n")
    return text


def content_hash(text: str) -> str:
    """Identity of an article's text regardless of case, diacritics and spacing."""
    return hashlib.sha1(" ".join(fold(text).split()).encode("utf-8")).hexdigest()[:20]


def _domain(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


class Pipeline:
    """The stages with their configuration. Build once, use for many items."""

    def __init__(self, *, city: CityProfile, backend: Backend | None, sources: dict[str, Source] | None = None,
                 outlets: dict[str, dict] | None = None, detector: LanguageDetector | None = None,
                 min_text_chars: int = 80) -> None:
        self.city = city
        self.backend = backend
        self.sources = sources or {}
        self.outlets = outlets or {}
        self.detector = detector or LanguageDetector()
        self.min_text_chars = min_text_chars
        self.tz = ZoneInfo(city.timezone)

    # -- inputs ----------------------------------------------------------------------------

    def draft_from_page(self, page: FetchedPage) -> Draft | Dropped:
        """Decode and extract a fetched page."""
        decoded = decode_html(page.body, page.headers.get("content-type"))
        if isinstance(decoded, Dropped):
            return decoded
        extracted = extract_article(decoded.html, page.url, timezone=self.city.timezone,
                                    min_chars=self.min_text_chars)
        if isinstance(extracted, Dropped):
            return extracted
        hints = page.hints or LinkHints()
        url = resolve_canonical(page.url, extracted.canonical_url)
        source = self.sources.get(page.source_id)
        published = extracted.published_at
        if hints.published and (published is None or published.date() == hints.published.date()):
            published = hints.published  # the feed's timestamp is more precise than a page's date
        domain = _domain(url)
        outlet_info = self.outlets.get(domain, {})
        title = extracted.title or hints.title or ""
        return Draft(
            id=article_id(url),
            url=url,
            source_id=page.source_id,
            title=title,
            text=_without_repeated_title(extracted.text, title),
            lead=extracted.lead or "",
            authors=extracted.authors,
            published_at=published,
            fetched_at=page.fetched_at,
            outlet=outlet_info.get("name") or hints.outlet or extracted.site_name or domain or None,
            country=(source.country if source and source.scope != "mixed" else None) or hints.country
            or outlet_info.get("country") or (source.country if source else None) or _country_from_tld(domain),
            declared_language=(source.language if source else None) or hints.language or extracted.html_lang,
            warc_file=page.warc_file,
            warc_offset=page.warc_offset,
        )

    def draft_from_text(self, input_id: str, text: str, *, title: str = "", url: str | None = None,
                        language: str | None = None, published_at: datetime | None = None) -> Draft:
        """A draft for text given directly (``hpmon analyze``)."""
        link = canonical_url(url) if url else f"urn:hpmon:{input_id}"
        return Draft(id=article_id(link), url=link, source_id="analyze", title=title, text=text,
                     published_at=published_at, fetched_at=datetime.now(UTC), declared_language=language)

    # -- the stages ------------------------------------------------------------------------

    def analyze(self, draft: Draft | Dropped) -> Analysis:
        """Run language, relevance and duplicate detection on a draft, writing nothing."""
        if isinstance(draft, Dropped):
            return Analysis(dropped=draft)
        analysis = Analysis(draft=draft)
        analysis.language = self.detector.detect(f"{draft.title}\n{draft.text}", draft.declared_language)
        when = (draft.published_at or draft.fetched_at or datetime.now(UTC)).astimezone(self.tz).date()
        analysis.relevance = score_relevance(self.city, title=draft.title, lead=draft.lead, text=draft.text, day=when)
        if not analysis.relevance.relevant:
            analysis.dropped = Dropped("relevance", "not_relevant", "not about the city",
                                       score=round(analysis.relevance.score, 4))
            return analysis
        article = self._article(draft, analysis.language, analysis.relevance)
        if self.backend is not None:
            original = self.backend.find_by_content_hash(article.content_hash)
            if original is not None and original.id != article.id:
                article.duplicate_of = original.id
                article.story_id = original.story_id or original.id
                analysis.duplicate_of = original.id
            else:
                previous = self.backend.get(article.id)
                article.story_id = (previous.story_id if previous else None) or article.id
        else:
            article.story_id = article.id
        analysis.article = article
        return analysis

    def _article(self, draft: Draft, language: LanguageGuess, relevance: Relevance) -> Article:
        country = draft.country
        source = self.sources.get(draft.source_id)
        if source and source.scope in ("domestic", "foreign"):
            scope = source.scope
        elif country:
            scope = "domestic" if country == self.city.country else "foreign"
        else:
            scope = None
        return Article(
            id=draft.id, url=draft.url, source_id=draft.source_id, title=draft.title, text=draft.text,
            lead=draft.lead, language=language.language, language_probability=round(language.probability, 4),
            outlet=draft.outlet, country=country, scope=scope, authors=draft.authors,
            published_at=draft.published_at, fetched_at=draft.fetched_at,
            relevance_score=round(relevance.score, 4), relevance_terms=relevance.terms,
            content_hash=content_hash(draft.text), warc_file=draft.warc_file, warc_offset=draft.warc_offset,
            reasons={"language": language.to_dict(), "relevance": relevance.to_dict()},
        )

    def process_page(self, page: FetchedPage) -> Indexed | Dropped:
        """Decode, extract, understand and index one fetched page."""
        return self.index(self.analyze(self.draft_from_page(page)))

    def index(self, analysis: Analysis) -> Indexed | Dropped:
        """Store an analysed article (idempotent upsert by id)."""
        if analysis.dropped:
            return analysis.dropped
        if self.backend is None:
            raise RuntimeError("this pipeline has no index to write to")
        article = analysis.article
        new = self.backend.get(article.id) is None
        report = self.backend.upsert([article])
        if article.id in report.errors:
            return Dropped("index", "index_error", report.errors[article.id])
        return Indexed(article=article, new=new, duplicate=article.duplicate_of is not None)


_TLD_COUNTRIES = {"vn": "VN", "cn": "CN", "jp": "JP", "kr": "KR", "ru": "RU", "fr": "FR", "uk": "GB", "de": "DE",
                  "sg": "SG", "th": "TH", "la": "LA", "kh": "KH", "tw": "TW", "hk": "HK", "au": "AU", "in": "IN"}


def _country_from_tld(domain: str) -> str | None:
    return _TLD_COUNTRIES.get(domain.rsplit(".", 1)[-1]) if domain else None
