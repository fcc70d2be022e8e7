"""Why an article is kept (``coverage``: city | watch) is a facet: search filters and counts it,
and an alert rule can target it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alerts.rules import load_rules, read_risk_thresholds
from index.article import Article
from index.query import SearchQuery
from index.sqlite import SqliteBackend

CONFIG = Path(__file__).resolve().parents[2] / "config"
WHEN = datetime(2026, 11, 20, 3, tzinfo=UTC)


def _article(aid: str, title: str, coverage: str) -> Article:
    return Article(id=aid, url=f"https://example.org/{aid}", source_id="x", title=title, text=title * 3,
                   language="en", published_at=WHEN, fetched_at=WHEN, coverage=coverage)


def test_search_filters_and_counts_coverage(tmp_path):
    backend = SqliteBackend(tmp_path / "index.sqlite")
    try:
        assert not backend.upsert([_article("a", "Haiphong port handles record volumes", "city"),
                                   _article("b", "Hanoi protests survey ship near the Spratlys", "watch"),
                                   _article("c", "Haiphong hosts a sovereignty exhibition", "city")]).errors
        watch = backend.search(SearchQuery(filters={"coverage": ["watch"]}, facets=True))
        assert [h.article.id for h in watch.hits] == ["b"]
        counts = dict(backend.search(SearchQuery(facets=True)).facets["coverage"])
        assert counts == {"city": 2, "watch": 1}
    finally:
        backend.close()


def test_the_shipped_rules_alert_on_national_watch_coverage():
    rules = {r.name: r for r in load_rules(CONFIG / "alerts.yaml",
                                           thresholds=read_risk_thresholds(CONFIG / "risk.yaml"))}
    assert rules["national_watch"].filters.facets() == {"coverage": ["watch"]}
    assert rules["national_watch"].search_query().filters == {"coverage": ["watch"]}
