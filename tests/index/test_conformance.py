"""One conformance suite for every backend: the same multilingual articles, the same queries,
the same hits, facets and pages. A behaviour that differs between engines is a bug in one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from index.query import SearchQuery
from tests.index.conformance_data import ALL, ARTICLES, QUERIES


def _load(backend):
    report = backend.upsert(ARTICLES)
    assert report.errors == {} and sorted(report.written) == ALL
    backend.refresh()
    return backend


@pytest.fixture(scope="module")
def loaded(empty_module_backend):
    """The corpus in each engine, for tests that only read."""
    return _load(empty_module_backend)


@pytest.fixture
def backend(empty_backend):
    """A fresh copy of the corpus, for tests that write."""
    return _load(empty_backend)


def hit_ids(result):
    return sorted(h.article.id for h in result.hits)


@pytest.mark.parametrize("text,filters,expected", QUERIES, ids=[f"{q[0] or '*'}|{q[1]}" for q in QUERIES])
def test_query_matches_the_same_articles(loaded, text, filters, expected):
    result = loaded.search(SearchQuery(text=text, filters=filters, limit=100))
    assert hit_ids(result) == expected
    assert result.total == len(expected)


def test_enough_queries_are_checked():
    assert len(QUERIES) >= 25


def test_facet_counts(loaded):
    result = loaded.search(SearchQuery(text="", facets=True, limit=1))
    assert result.total == len(ARTICLES)
    assert dict(result.facets["scope"]) == {"domestic": 9, "foreign": 15}
    assert dict(result.facets["language"]) == {"vi": 8, "en": 5, "zh": 3, "ja": 2, "ko": 2, "ru": 2, "fr": 2}
    assert dict(result.facets["topic"])["port_logistics"] == 6
    assert result.facets["language"][0] == ("vi", 8)  # biggest first


def test_facets_follow_the_query(loaded):
    result = loaded.search(SearchQuery(text="haiphong OR 海防 OR ハイフォン", facets=True))
    assert dict(result.facets["language"]) == {"en": 2, "fr": 2, "zh": 2, "ja": 2}
    assert dict(result.facets["country"]) == {"GB": 1, "US": 1, "FR": 2, "CN": 2, "JP": 2}


def test_date_range_is_inclusive_and_uses_publication_else_fetch_date(loaded):
    result = loaded.search(SearchQuery(since=datetime(2026, 10, 19, tzinfo=UTC),
                                        until=datetime(2026, 10, 20, 3, 0, tzinfo=UTC), limit=100))
    assert hit_ids(result) == sorted(["vi-port", "vi-fdi", "en-port", "zh-port", "ja-port", "ko-forum", "ru-port",
                                      "fr-port"])
    undated = loaded.search(SearchQuery(since=datetime(2026, 11, 25, tzinfo=UTC), limit=100))
    assert hit_ids(undated) == ["fr-heritage"]


def test_min_risk_filter(loaded):
    assert hit_ids(loaded.search(SearchQuery(min_risk=0.5))) == ["en-sea", "zh-sea"]


def test_paging_by_date_is_stable_and_complete(loaded):
    pages = []
    for offset in range(0, len(ARTICLES), 5):
        result = loaded.search(SearchQuery(sort="date", limit=5, offset=offset))
        assert result.total == len(ARTICLES)
        pages += [h.article.id for h in result.hits]
    assert sorted(pages) == ALL and len(set(pages)) == len(ARTICLES)
    full = [h.article.id for h in loaded.search(SearchQuery(sort="date", limit=100)).hits]
    assert pages == full
    assert full[0] == "fr-heritage"  # undated: filed under its fetch date, the newest
    same_day = [a.id for a in ARTICLES if a.published_at and a.published_at.day == 20]
    assert full[1:1 + len(same_day)] == sorted(same_day)  # ties broken by id


def test_paging_by_relevance_is_stable(loaded):
    query = "hai phong OR haiphong OR 海防 OR ハイフォン OR 하이퐁"
    full = [h.article.id for h in loaded.search(SearchQuery(text=query, limit=100)).hits]
    paged = []
    for offset in range(0, len(full), 3):
        paged += [h.article.id for h in loaded.search(SearchQuery(text=query, limit=3, offset=offset)).hits]
    assert paged == full


def test_title_match_ranks_before_body_only_match(loaded):
    hits = [h.article.id for h in loaded.search(SearchQuery(text="storm")).hits]
    assert hits == ["en-storm"]
    ranked = [h.article.id for h in loaded.search(SearchQuery(text="lạch huyện OR container", limit=5)).hits]
    assert ranked[0] == "vi-port"


def test_snippets_mark_the_matched_words(loaded):
    hit = loaded.search(SearchQuery(text='"do son"')).hits[0]
    marked = [hit.snippet.text[s:e] for s, e in hit.snippet.spans]
    assert marked == ["Đồ Sơn"]
    hit = loaded.search(SearchQuery(text="海防市")).hits[0]
    assert "海防" in "".join(hit.snippet.text[s:e] for s, e in hit.snippet.spans)


def test_histogram_by_day(loaded):
    days = dict(loaded.histogram(SearchQuery(text="port"), timezone="Asia/Ho_Chi_Minh"))
    assert days == {"2026-10-12": 1, "2026-10-20": 2}


def test_upsert_is_idempotent(backend):
    again = backend.upsert(ARTICLES[:3])
    backend.refresh()
    assert again.errors == {} and backend.count() == len(ARTICLES)
    changed = backend.get("vi-port")
    changed.title = "Tiêu đề đã sửa"
    backend.upsert([changed])
    backend.refresh()
    assert backend.count() == len(ARTICLES)
    assert backend.get("vi-port").title == "Tiêu đề đã sửa"
    assert hit_ids(backend.search(SearchQuery(text="tiêu đề đã sửa"))) == ["vi-port"]


def test_an_article_whose_date_moves_is_still_stored_once(backend):
    moved = backend.get("en-port")
    moved.published_at = datetime(2025, 3, 1, tzinfo=UTC)
    backend.upsert([moved])
    backend.refresh()
    assert backend.count() == len(ARTICLES)
    assert backend.get("en-port").published_at == moved.published_at


def test_get_and_content_hash_lookup(backend):
    assert backend.get("nope") is None
    article = backend.get("ja-port")
    article.content_hash = "hash-1"
    backend.upsert([article])
    backend.refresh()
    assert backend.find_by_content_hash("hash-1").id == "ja-port"
    assert backend.find_by_content_hash("hash-2") is None


def test_iterating_returns_every_article(loaded):
    assert sorted(a.id for a in loaded.iter_articles()) == ALL


def test_a_machine_translation_is_searched_like_the_lead(empty_backend):
    """A Vietnamese query finds a Chinese article through its stored Vietnamese translation, ranked
    below an article whose own title says it; without the translation it is not found."""
    from index.article import Article

    when = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    zh = Article(id="zh-fdi", url="https://news.example.cn/fdi.html", source_id="cn", title="越南海防市吸引外资创新高",
                 text="海防市今年吸引外资创新高，多家企业在工业园区投资。", language="zh", published_at=when,
                 translations={"vi": {"title": "Hải Phòng thu hút vốn đầu tư nước ngoài cao kỷ lục", "lead": "",
                                      "engine": "argos", "model": "zh-vi"}})
    vi = Article(id="vi-fdi", url="https://news.example.vn/fdi.html", source_id="vn",
                 title="Vốn đầu tư nước ngoài vào Hải Phòng cao kỷ lục", text="Thành phố thu hút nhiều dự án mới.",
                 language="vi", published_at=when)
    plain = Article(id="zh-plain", url="https://news.example.cn/plain.html", source_id="cn", title="海防港口",
                    text="海防港今年货运量增长。", language="zh", published_at=when)
    assert empty_backend.upsert([zh, vi, plain]).errors == {}
    empty_backend.refresh()
    result = empty_backend.search(SearchQuery(text='"vốn đầu tư nước ngoài"', sort="relevance"))
    assert [h.article.id for h in result.hits] == ["vi-fdi", "zh-fdi"]
    assert hit_ids(empty_backend.search(SearchQuery(text="von dau tu"))) == ["vi-fdi", "zh-fdi"]  # folded
    assert empty_backend.get("zh-fdi").translations["vi"]["engine"] == "argos"
