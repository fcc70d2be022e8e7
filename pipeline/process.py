"""The pipeline: the one place that chains the stages, top to bottom.

    page bytes ─► decode ─► extract ─► language ─► relevance ─► duplicates and story
               ─► classify (topics, sentiment) ─► flag (sensitive themes, facts, risk)
               ─► translate (title and lead of a kept foreign article) ─► index

A stage either passes its result on or returns ``Dropped`` with a reason; nothing is
dropped silently. ``analyze_*`` runs the stages without writing anything (``hpmon
analyze``); ``process_page`` also indexes (crawls and ``hpmon ingest``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
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
from pipeline.relevance import Decider, Relevance, score_relevance
from pipeline.stories import StoryMatch, StoryStore

if TYPE_CHECKING:
    from classifiers.facts import FactChecker
    from classifiers.models import Prediction, TrainedModels
    from classifiers.risk import Risk, RiskScorer
    from classifiers.sensitive import SensitiveDetector, SensitiveResult
    from pipeline.translate import TranslationStage


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
    converted_from: str | None = None  # a legacy font encoding the text was converted from (tcvn3, vni, viscii)
    date_source: str | None = None  # where published_at came from (pipeline/extract.py, docs/extraction.md)


@dataclass
class Analysis:
    """Everything the pipeline concluded about one input."""

    draft: Draft | None = None
    language: LanguageGuess | None = None
    relevance: Relevance | None = None
    article: Article | None = None  # built when relevant
    duplicate_of: str | None = None
    story: StoryMatch | None = None
    prediction: Prediction | None = None
    sensitive: SensitiveResult | None = None
    risk: Risk | None = None
    fact_conflicts: list | None = None  # figures contradicting the reference facts (classifiers.facts)
    case_id: int | None = None  # the rebuttal case the article entered, if any
    scope: str | None = None  # why it is kept: "city" | "watch"; None = not kept
    dropped: Dropped | None = None

    def to_public(self, input_id: str) -> dict:
        """The ``hpmon analyze`` output contract (fields not computed yet are null)."""
        article = self.article
        return {
            "id": input_id,
            "language": self.language.language if self.language else None,
            "language_probability": round(self.language.probability, 4) if self.language else None,
            "relevant": bool(self.relevance and self.relevance.relevant),
            "kept": self.scope is not None,
            "scope": self.scope,
            "relevance": self.relevance.to_dict() if self.relevance else None,
            "topics": self.prediction.to_dict()["topics"] if self.prediction else None,
            "topic_reasons": [r.to_dict() for r in self.prediction.reasons if r.kind == "topic"]
            if self.prediction else None,
            "sentiment": {"label": self.prediction.sentiment[0], "score": round(self.prediction.sentiment[1], 4),
                          "reasons": [r.to_dict() for r in self.prediction.reasons if r.kind == "sentiment"]}
            if self.prediction else None,
            "sensitive": {"themes": self.sensitive.themes,
                          "findings": [f.to_dict() for f in self.sensitive.findings]} if self.sensitive else None,
            "risk": self.risk.to_dict() if self.risk else None,
            "story_id": article.story_id if article else None,
            "story": {"how": self.story.how, "score": self.story.score, "matched": self.story.matched}
            if self.story else None,
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


def _specific_places(analysis: Analysis) -> list[str]:
    """The places an article names other than the city itself (every article names the city,
    so only districts, ports, islands... say which event it is about)."""
    hits = analysis.relevance.hits if analysis.relevance else []
    return sorted({h.term for h in hits if h.kind != "name"})


def _published_before(a: Article, b: Article) -> bool:
    return a.published_at is not None and b.published_at is not None and a.published_at < b.published_at


def _same_day(a: datetime, b: datetime, tz: ZoneInfo) -> bool:
    """Whether two instants fall on the same day in the city's time zone."""
    return a.astimezone(tz).date() == b.astimezone(tz).date()


def _domain(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


class Pipeline:
    """The stages with their configuration. Build once, use for many items."""

    def __init__(self, *, city: CityProfile, backend: Backend | None, sources: dict[str, Source] | None = None,
                 outlets: dict[str, dict] | None = None, detector: LanguageDetector | None = None,
                 min_text_chars: int = 80, models: TrainedModels | None = None,
                 sensitive: SensitiveDetector | None = None, facts: FactChecker | None = None,
                 risk: RiskScorer | None = None, stories: StoryStore | None = None,
                 translation: TranslationStage | None = None,
                 on_indexed: list[Callable[[Article, Analysis], None]] | None = None,
                 about: Decider | None = None) -> None:
        self.city = city
        self.about = about  # the learned relevance decision (pipeline/about.py); None = the profile's threshold
        self.backend = backend
        self.sources = sources or {}
        self.outlets = outlets or {}
        self.detector = detector or LanguageDetector()
        self.min_text_chars = min_text_chars
        self.models = models
        self.sensitive = sensitive
        self.facts = facts
        self.risk = risk
        self.stories = stories
        self.on_indexed = on_indexed or []
        self.translation = translation  # title and lead of kept foreign articles (pipeline/translate.py)
        self.tz = ZoneInfo(city.timezone)

    # -- inputs ----------------------------------------------------------------------------

    def draft_from_page(self, page: FetchedPage) -> Draft | Dropped:
        """Decode and extract a fetched page."""
        decoded = decode_html(page.body, page.headers.get("content-type"))
        if isinstance(decoded, Dropped):
            return decoded
        source = self.sources.get(page.source_id)
        # a zone-less time on the page is in the source's zone (declared, else its country's), else the city's
        zone = (source.effective_timezone if source else None) or self.city.timezone
        extracted = extract_article(decoded.html, page.url, timezone=zone, min_chars=self.min_text_chars)
        if isinstance(extracted, Dropped):
            return extracted
        hints = page.hints or LinkHints()
        url = resolve_canonical(page.url, extracted.canonical_url)
        published, date_source = extracted.published_at, extracted.date_source
        guessed = not extracted.published_has_time or date_source == "htmldate"
        if hints.published and (published is None or (guessed and _same_day(published, hints.published,
                                                                             ZoneInfo(zone)))):
            # the listing's timestamp is more precise than a page's bare date or htmldate's guess of the same day
            published = hints.published
            date_source = {"rss": "feed", "sitemap": "sitemap"}.get(source.kind, source.kind) if source else "feed"
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
            converted_from=decoded.encoding if decoded.how == "legacy-font" else None,
            date_source=date_source if published else None,
        )

    def draft_from_text(self, input_id: str, text: str, *, title: str = "", url: str | None = None,
                        language: str | None = None, published_at: datetime | None = None) -> Draft:
        """A draft for text given directly (``hpmon analyze``)."""
        link = canonical_url(url) if url else f"urn:hpmon:{input_id}"
        return Draft(id=article_id(link), url=link, source_id="analyze", title=title, text=text,
                     published_at=published_at, fetched_at=datetime.now(UTC), declared_language=language,
                     date_source="input" if published_at else None)

    def analyze_input(self, item: dict, input_id: str) -> dict:
        """One ``hpmon analyze`` input object to its output object (docs/analyze.md).
        Raises ValueError or TypeError with the reason when the input is not usable."""
        return self.analyze(self.draft_from_input(item, input_id)).to_public(input_id)

    def draft_from_input(self, item: dict, input_id: str) -> Draft | Dropped:
        """The draft of one ``hpmon analyze`` input object (a page is decoded and extracted).
        Raises ValueError or TypeError with the reason when the input is not usable."""
        if "html" in item:
            html = item["html"]
            body = html.encode("utf-8") if isinstance(html, str) else bytes(html)
            url = item.get("url") or f"urn:hpmon:{input_id}"
            page = FetchedPage(source_id="analyze", url=url, link_url=url, status=200,
                               headers={"content-type": "text/html; charset=utf-8"}, body=body,
                               fetched_at=datetime.now(UTC))
            draft = self.draft_from_page(page)
        elif isinstance(item.get("text"), str):
            published = _input_date(item.get("published_at", item.get("date")), self.tz)
            draft = self.draft_from_text(input_id, item["text"], title=str(item.get("title") or ""),
                                         url=item.get("url"), language=item.get("language"), published_at=published)
        else:
            raise ValueError('needs "text" or "html"')
        return draft

    # -- the stages ------------------------------------------------------------------------

    def analyze(self, draft: Draft | Dropped) -> Analysis:
        """Run language, relevance and duplicate detection on a draft, writing nothing."""
        return self.analyze_context(self.analyze_content(draft))

    def analyze_content(self, draft: Draft | Dropped) -> Analysis:
        """The stages that read only the page and the models (language, relevance, topics and
        tone, sensitive themes, reference facts, the scope), with the risk of a page that is not
        kept. Touches neither the index nor the story store, so a worker process can run it;
        ``analyze_context`` then finishes a kept article against what is already indexed."""
        if isinstance(draft, Dropped):
            return Analysis(dropped=draft)
        analysis = Analysis(draft=draft)
        analysis.language = self.detector.detect(f"{draft.title}\n{draft.text}", draft.declared_language)
        when = (draft.published_at or draft.fetched_at or datetime.now(UTC)).astimezone(self.tz).date()
        analysis.relevance = score_relevance(self.city, title=draft.title, lead=draft.lead, text=draft.text, day=when,
                                             about=self.about)
        # every stage runs on every input, so `hpmon analyze` fills every field; what is
        # neither about the city nor a national watch theme is then dropped, with the figures
        article = self._article(draft, analysis.language, analysis.relevance)
        self._stage_classify(article, analysis)
        self._stage_sensitive(article, analysis)
        analysis.scope, why = self._scope(article, analysis)
        article.coverage = analysis.scope
        article.reasons["coverage"] = {"scope": analysis.scope, "why": why}
        self._stage_facts(article, analysis)
        if analysis.scope is None:
            self._stage_risk(article, analysis)
            analysis.dropped = Dropped("relevance", "not_relevant", why, score=round(analysis.relevance.score, 4))
            return analysis
        analysis.article = article
        self._stage_translate(article)
        return analysis

    def analyze_context(self, analysis: Analysis) -> Analysis:
        """A kept article of ``analyze_content`` against the index and the story store: its
        duplicate and story (matched, not recorded) and the risk that depends on the story.
        Run by the one writer, in order, right before ``index``."""
        if analysis.dropped is not None or analysis.article is None:
            return analysis
        self._stage_duplicates(analysis.article, analysis, record=False)
        self._stage_risk(analysis.article, analysis)
        return analysis

    def _scope(self, article: Article, analysis: Analysis) -> tuple[str | None, str]:
        """Why the article is kept: ``city`` (about the city), ``watch`` (a national watch theme
        of the city profile with the country a party), or None; with the reason in words."""
        if analysis.relevance and analysis.relevance.relevant:
            return "city", "about the city: " + ", ".join(analysis.relevance.terms[:5])
        watch = self.city.watch
        flagged = [t for t in (analysis.sensitive.themes if analysis.sensitive else []) if t in watch.themes]
        if not flagged:
            return None, "not about the city and no watch theme flagged"
        party = None
        if article.language in watch.home_languages:
            party = f"written in {article.language}"
        elif watch.names_country(f"{article.title}\n{article.text}"):
            party = "the country is named"
        else:
            claimed = sorted({f.term for f in analysis.sensitive.findings
                              if f.theme in flagged and f.severity >= watch.claimed_severity})
            if claimed:
                party = "a feature the country claims: " + ", ".join(claimed[:3])
        if party is None:
            return None, f"watch theme {', '.join(flagged)} flagged, but the country is not a party"
        return "watch", f"watch theme {', '.join(flagged)}; {party}"

    def _stage_translate(self, article: Article) -> None:
        """Title and lead of a kept article in each target language it is not written in
        (``Article.translations``); a failure is recorded in its reasons and never drops it."""
        if self.translation is not None:
            self.translation.apply(article)

    def _stage_duplicates(self, article: Article, analysis: Analysis, *, record: bool) -> None:
        """Exact copies point at their original; every article joins a story (its own when new)."""
        article.duplicate_of = None
        original = self.backend.find_by_content_hash(article.content_hash) if self.backend is not None else None
        if original is not None and original.id != article.id:
            if record and _published_before(article, original) and original.duplicate_of is None:
                # the copy seen first is the later one: the older article is the original
                original.duplicate_of = article.id
                self.backend.upsert([original])
            else:
                article.duplicate_of = original.duplicate_of or original.id
                analysis.duplicate_of = article.duplicate_of
        if self.stories is not None and record:
            analysis.story = self.stories.assign(
                article_id=article.id, title=article.title, text=article.text, date=article.date,
                language=article.language, outlet=article.outlet, country=article.country,
                places=_specific_places(analysis))
            article.story_id = analysis.story.story_id
        elif self.stories is not None:
            analysis.story = self.stories.match(
                article_id=article.id, title=article.title, text=article.text, date=article.date,
                language=article.language, places=_specific_places(analysis))
            article.story_id = analysis.story.story_id
        elif original is not None and original.id != article.id:
            article.story_id = original.story_id or original.id
        else:
            previous = self.backend.get(article.id) if self.backend is not None else None
            article.story_id = (previous.story_id if previous else None) or article.id
        if article.story_id:
            article.reasons["story"] = {"story_id": article.story_id,
                                        "how": analysis.story.how if analysis.story else None,
                                        "matched": analysis.story.matched if analysis.story else None,
                                        "duplicate_of": article.duplicate_of}

    def _stage_classify(self, article: Article, analysis: Analysis) -> None:
        """Topics and sentiment from the trained models, with their reasons."""
        if self.models is None:
            return
        prediction = self.models.predict(article.title, article.text, article.language)
        analysis.prediction = prediction
        article.topics = prediction.topic_labels
        article.sentiment, article.sentiment_score = prediction.sentiment[0], round(prediction.sentiment[1], 4)
        article.reasons["classification"] = prediction.to_dict()

    def _stage_sensitive(self, article: Article, analysis: Analysis) -> None:
        """Sensitive themes, each decided in context, with their findings."""
        if self.sensitive is None:
            return
        result = self.sensitive.detect(article.title, article.text, article.language, article.topics)
        context = self.models.context if self.models is not None else None
        if context is not None and analysis.prediction is not None:
            # the lexicon found candidates; the context decides which themes the article is about
            result = context.decide(result, article.title, article.text, analysis.prediction.topic_probabilities,
                                    self.sensitive.theme_implies)
        analysis.sensitive = result
        article.sensitive_themes = result.themes
        article.reasons["sensitive"] = result.to_dict()

    def _stage_facts(self, article: Article, analysis: Analysis) -> None:
        """Figures that contradict the reference facts (read by the risk score)."""
        if analysis.sensitive is None or self.risk is None or self.facts is None:
            return
        when = article.date.astimezone(self.tz).date() if article.date else None
        analysis.fact_conflicts = self.facts.check_facts(article.text, article.language, when)

    def _stage_risk(self, article: Article, analysis: Analysis) -> None:
        """The risk score, from the sensitive themes, the tone, the outlet, the fact conflicts
        and how far the article departs from its story."""
        result = analysis.sensitive
        if result is None or self.risk is None:
            return
        conflicts = analysis.fact_conflicts or []
        source = self.sources.get(article.source_id)
        outlet_info = self.outlets.get(_domain(article.url), {})
        divergence = (self.stories.divergence(article.story_id, article.id, article.title, article.text)
                      if self.stories is not None and article.story_id else None)
        risk = self.risk.score(
            result,
            sentiment_label=article.sentiment, sentiment_probability=article.sentiment_score,
            outlet_profile=(source.profile if source else None) or outlet_info.get("profile"),
            outlet_name=article.outlet, fact_conflicts=conflicts,
            divergence=divergence[0] if divergence else None,
            divergence_evidence=divergence[1] if divergence else None,
        )
        analysis.risk = risk
        article.risk_score = round(risk.score, 4)
        article.reasons["risk"] = risk.to_dict()
        if risk.queued:
            article.flags = sorted(set(article.flags) | {"rebuttal_queue"})

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
            reasons={"language": language.to_dict(), "relevance": relevance.to_dict(),
                     # the archived page holds the legacy bytes: say that the text is a conversion
                     **({"decoding": {"converted_from": draft.converted_from}} if draft.converted_from else {}),
                     **({"published": {"source": draft.date_source}} if draft.date_source else {})},
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
        self._stage_duplicates(article, analysis, record=True)
        new = self.backend.get(article.id) is None
        report = self.backend.upsert([article])
        if article.id in report.errors and not report.errors[article.id].startswith("queued"):
            return Dropped("index", "index_error", report.errors[article.id])
        for hook in self.on_indexed:
            hook(article, analysis)
        return Indexed(article=article, new=new, duplicate=article.duplicate_of is not None)


def _input_date(value: object, tz: ZoneInfo) -> datetime | None:
    """An input's publication time (ISO date or date-time; a bare date is noon in the city's
    zone); None when absent. Raises ValueError for anything else."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("published_at must be an ISO date or date-time string")
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"published_at {value!r} is not an ISO date or date-time") from exc
    if when.tzinfo is None:
        when = when.replace(hour=12, tzinfo=tz) if len(value) <= 10 else when.replace(tzinfo=tz)
    return when


_TLD_COUNTRIES = {"vn": "VN", "cn": "CN", "jp": "JP", "kr": "KR", "ru": "RU", "fr": "FR", "uk": "GB", "de": "DE",
                  "sg": "SG", "th": "TH", "la": "LA", "kh": "KH", "tw": "TW", "hk": "HK", "au": "AU", "in": "IN"}


def _country_from_tld(domain: str) -> str | None:
    return _TLD_COUNTRIES.get(domain.rsplit(".", 1)[-1]) if domain else None
