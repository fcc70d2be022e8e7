"""Wiring: builds the parts (index, city profile, sources, pipeline) from the settings.

Heavy modules are imported where they are used, so `hpmon --help` and small commands start fast.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from hpmon.settings import Settings

if TYPE_CHECKING:
    from crawlers.sources import Source
    from index.backend import Backend
    from pipeline.city import CityProfile
    from pipeline.process import Pipeline


def open_backend(settings: Settings, kind: str | None = None) -> Backend:
    """The index engine the settings select (or ``kind``)."""
    kind = kind or settings.index
    if kind == "sqlite":
        from index.sqlite import SqliteBackend

        return SqliteBackend(settings.index_path, time_limit_ms=settings.search_time_limit_ms)
    from index.elasticsearch import ElasticsearchBackend
    from index.outbox import Outbox

    auth = (settings.es_username, settings.es_password or "") if settings.es_username else None
    return ElasticsearchBackend(
        settings.es_url, prefix=settings.es_prefix, outbox=Outbox(settings.outbox_path),
        api_key=settings.es_api_key, basic_auth=auth,
        ca_certs=str(settings.es_ca_certs) if settings.es_ca_certs else None,
        shards=settings.es_shards, replicas=settings.es_replicas, time_limit_ms=settings.search_time_limit_ms,
    )


def load_city(settings: Settings) -> CityProfile:
    from pipeline.city import load_profile

    return load_profile(settings.city_path)


def load_source_list(settings: Settings, path: Path | None = None) -> list[Source]:
    from crawlers.sources import load_sources

    return load_sources(path or settings.sources_path)


def smtp_config(settings: Settings):
    """The SMTP server of the settings (alerts, digests and admin alerts all send through it), or
    None when none is configured (deliveries then wait)."""
    from alerts.mail import SmtpConfig

    if not settings.smtp_host:
        return None
    return SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, security=settings.smtp_security,
                      username=settings.smtp_username, password=settings.smtp_password, sender=settings.smtp_from,
                      timeout=settings.smtp_timeout)


def load_outlets(settings: Settings) -> dict[str, dict]:
    """Known outlets by domain (name, country, profile) from config/outlets.yaml, if present."""
    path = settings.config_dir / "outlets.yaml"
    if not path.is_file():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    outlets = raw.get("outlets", raw) if isinstance(raw, dict) else {}
    return {str(domain).removeprefix("www."): dict(info or {}) for domain, info in outlets.items()}


def load_models(settings: Settings):
    """The trained topic and sentiment models, or None (with a logged reason) before `hpmon train`."""
    from classifiers.models import load

    if not (settings.models_dir / "meta.json").is_file():
        logging.getLogger(__name__).warning("no trained models in %s: topics and sentiment stay empty "
                                            "(run `hpmon train`)", settings.models_dir)
        return None
    return load(settings.models_dir)


def load_facts(settings: Settings):
    """The reference-fact checker: the quantities of config/facts.yaml with the office's official
    figures (``records.figures``, entered on the Facts page or with ``hpmon facts add``) in front
    of the file's own references. Placeholders (``official: false``) are never compared."""
    from classifiers.facts import FactChecker, Reference
    from records.figures import OfficialFigures

    checker = FactChecker.from_config(settings.config_dir)
    if not settings.app_db_path.is_file():
        return checker
    store = OfficialFigures(settings.app_db_path)
    try:
        figures = store.list()
    finally:
        store.close()
    return checker.with_references(
        (f.quantity, Reference(f.value, f.source, f.source_date.isoformat() if f.source_date else None, f.period,
                               f.valid_from, f.valid_until, official=True)) for f in figures)


def load_about_model(settings: Settings, city: CityProfile):
    """The learned relevance decision trained for ``city`` (``pipeline/about.py``), or None with a
    logged reason (before `hpmon train`, a broken file, another city's model): the profile's
    threshold then decides relevance."""
    from pipeline.about import load_about

    return load_about(settings.models_dir, city.id)


def engine_choice(settings: Settings):
    """The machine-translation engine of the settings (``pipeline.translate.EngineChoice``: the
    translator, or None with the reason)."""
    from pipeline.translate import MODELS_FOLDER, choose_engine

    return choose_engine(settings.translation_engine, settings.home / MODELS_FOLDER,
                         libretranslate_url=settings.libretranslate_url, api_key=settings.libretranslate_api_key,
                         timeout=settings.libretranslate_timeout)


def translation_stage(settings: Settings):
    """The pipeline's translation stage, or None (logged once, with the reason) when no engine
    is configured (docs/translation.md)."""
    from pipeline.translate import TranslationStage

    choice = engine_choice(settings)
    if choice.translator is None:
        logging.getLogger(__name__).info("foreign articles are indexed without translation: %s", choice.reason)
        return None
    return TranslationStage(choice.translator, targets=list(settings.translation_targets))


def build_pipeline(settings: Settings, backend: Backend | None, sources: list[Source],
                   city: CityProfile | None = None, *, record_stories: bool = True,
                   content_stages: bool = True) -> Pipeline:
    """The pipeline with every stage the installation has (models once trained).
    ``content_stages=False``: without the models, lexicons and facts of the content stages, for
    a crawl's writer whose worker processes run them (``worker_pipeline``)."""
    from classifiers.risk import RiskScorer
    from classifiers.sensitive import SensitiveDetector
    from pipeline.city import boundary_names
    from pipeline.process import Pipeline
    from pipeline.stories import StoryStore

    city = city or load_city(settings)
    return Pipeline(
        city=city,
        backend=backend,
        sources={s.id: s for s in sources},
        outlets=load_outlets(settings),
        min_text_chars=settings.min_text_chars,
        models=load_models(settings) if content_stages else None,
        sensitive=SensitiveDetector.from_config(settings.config_dir, boundary_names(city)) if content_stages else None,
        facts=load_facts(settings) if content_stages else None,
        risk=RiskScorer.from_config(settings.config_dir),
        stories=StoryStore(settings.home / "stories.sqlite") if record_stories else None,
        on_indexed=[rebuttal_queue_hook(settings, city.timezone), alert_evaluation_hook(settings)]
        if record_stories else [],
        about=load_about_model(settings, city) if content_stages else None,
        translation=translation_stage(settings) if content_stages else None,
    )


def worker_pipeline(settings: Settings, sources: list[Source]) -> Pipeline:
    """The pipeline of a crawl's worker process (pipeline/pool.py): the content stages only, no
    index, story store or hooks (the crawl's one writer does those)."""
    return build_pipeline(settings, None, sources, record_stories=False)


def page_pool(settings: Settings, sources: list[Source]):
    """The worker pool of a crawl (``workers`` setting), or None to process pages in the
    crawling process (``workers = 1``)."""
    from pipeline.pool import PagePool, worker_count

    workers = worker_count(settings.workers)
    return PagePool(workers, worker_pipeline, (settings, sources)) if workers > 1 else None


def alert_evaluation_hook(settings: Settings):
    """After indexing: the article waits in the alert log for the rules to be evaluated on it
    (alerts/delivery.py ``await_evaluation``), durably, before the crawl goes on: the delivery
    round evaluates it even when the crawl is killed before its own alert step."""
    from alerts.delivery import AlertLog

    log = AlertLog(settings.app_db_path)

    def hook(article, analysis) -> None:
        log.await_evaluation(article.id, article.to_dict())

    return hook


def rebuttal_queue_hook(settings: Settings, timezone: str):
    """After indexing: an article at or above the risk threshold enters the rebuttal queue
    (its story's case), with its evidence frozen."""
    from pipeline.evidence import enter_queue, queue_threshold
    from records.cases import CaseStore

    store = CaseStore(settings.app_db_path)
    threshold = queue_threshold(settings.config_dir)

    def hook(article, analysis) -> None:
        case_id = enter_queue(store, article, article.risk_score, threshold, settings.warc_dir,
                              settings.home / "evidence", timezone=timezone)
        if case_id is not None:
            analysis.case_id = case_id

    return hook


def search_names(city: CityProfile, sources: list[Source]) -> dict[str | None, list[str]]:
    """The terms to put in news-search and GDELT queries: the city's names per source language,
    and, keyed by source id, the watch themes' search terms of a ``search: watch`` source."""
    names: dict[str | None, list[str]] = {None: city.names_for(None)[:8]}
    for source in sources:
        if source.search == "watch":
            terms = city.watch.search_terms.get(source.language or "") or city.watch.search_terms.get("en", ())
            names[source.id] = list(terms)[:8]
        elif source.language not in names:
            names[source.language] = city.names_for(source.language)[:8] or names[None]
    return names


def init_home(settings: Settings) -> list[Path]:
    """Create the data directory layout; returns what was created."""
    created = []
    for path in (settings.home, settings.warc_dir, settings.log_dir):
        if not path.exists():
            path.mkdir(parents=True, mode=0o700)
            created.append(path)
    settings.home.chmod(0o700)  # a home made by an older version or by hand is closed too
    return created


def setup_logging(settings: Settings) -> None:
    """Structured logs: JSON lines in ``home/logs/hpmon.log`` (rotated) at the configured level,
    with the source and article id in every record that has them; the console only shows
    warnings (the CLI prints its own summaries)."""
    from hpmon.logjson import setup_json_logging

    setup_json_logging(settings.log_dir, settings.log_level)
    for noisy in ("scrapy", "twisted", "trafilatura", "htmldate", "charset_normalizer", "readability",
                  "matplotlib", "fontTools", "weasyprint"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
