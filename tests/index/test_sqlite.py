"""The embedded backend on a small multilingual set (the conformance suite for every backend
comes with the Elasticsearch backend; these are the SQLite-specific and basic behaviours)."""

from datetime import UTC, datetime

import pytest

from index.article import Article
from index.query import SearchQuery
from index.sqlite import SqliteBackend


def art(id, title, text, lang, country, scope, day, **kw):
    return Article(id=id, url=f"https://example.org/{id}", source_id=kw.pop("source", "src-" + lang), title=title,
                   text=text, language=lang, country=country, scope=scope,
                   published_at=datetime(2026, 11, day, 8, tzinfo=UTC), **kw)


@pytest.fixture
def backend(tmp_path):
    b = SqliteBackend(tmp_path / "index.sqlite")
    b.upsert([
        art("vi1", "Cảng Hải Phòng đón tàu container lớn nhất", "Thành phố Hải Phòng và cảng Lạch Huyện. Đồ Sơn.",
            "vi", "VN", "domestic", 20),
        art("vi2", "Thuỷ Nguyên hoàn thành thuỷ lợi", "Huyện Thuỷ Nguyên hoà mạng lưới điện.", "vi", "VN",
            "domestic", 18),
        art("en1", "Haiphong port throughput rises", "The port of Hai Phong handled more containers.", "en", "GB",
            "foreign", 19),
        art("zh1", "越南海防港吞吐量增长", "越南海防市的港口吞吐量增长。", "zh", "CN", "foreign", 17),
        art("ja1", "ハイフォン港に新ターミナル", "ベトナム北部ハイフォン市の港湾。", "ja", "JP", "foreign", 16),
        art("ko1", "하이퐁에서 투자 포럼", "베트남 하이퐁시에서 열린 투자 포럼.", "ko", "KR", "foreign", 15),
        art("ru1", "Порт Хайфона растёт", "В Хайфоне открыли новый терминал.", "ru", "RU", "foreign", 14),
    ])
    yield b
    b.close()


def ids(result):
    return sorted(h.article.id for h in result.hits)


@pytest.mark.parametrize("query,expected", [
    ("hai phong", ["en1", "vi1"]),
    ("Hải Phòng", ["en1", "vi1"]),
    ("HAI PHONG", ["en1", "vi1"]),
    ("do son", ["vi1"]),
    ("thủy nguyên", ["vi2"]),  # new tone placement finds the old one
    ("hòa", ["vi2"]),
    ("海防", ["zh1"]),
    ("海防港", ["zh1"]),
    ("港", ["ja1", "zh1"]),  # 港 also in Japanese ハイフォン港
    ("ハイフォン", ["ja1"]),
    ("하이퐁", ["ko1"]),
    ("хайфоне", ["ru1"]),
    ('"port of hai phong"', ["en1"]),
    ('"hai phong port"', []),
    ("haiphong OR 海防 OR 하이퐁", ["en1", "ko1", "zh1"]),
    ("cảng -container", []),
    ("-port -港", ["ko1", "ru1", "vi1", "vi2"]),
])
def test_query_matches(backend, query, expected):
    assert ids(backend.search(SearchQuery(text=query, limit=50))) == expected


def test_filters_and_facets(backend):
    result = backend.search(SearchQuery(text="", filters={"scope": ["foreign"]}, facets=True, limit=50))
    assert ids(result) == ["en1", "ja1", "ko1", "ru1", "zh1"]
    assert dict(result.facets["scope"]) == {"foreign": 5}
    assert dict(result.facets["language"]) == {"en": 1, "ja": 1, "ko": 1, "ru": 1, "zh": 1}
    only = backend.search(SearchQuery(text="hai phong", filters={"language": ["vi"]}))
    assert ids(only) == ["vi1"]


def test_date_range_is_inclusive(backend):
    result = backend.search(SearchQuery(since=datetime(2026, 11, 17, tzinfo=UTC),
                                        until=datetime(2026, 11, 19, 23, 59, tzinfo=UTC), limit=50))
    assert ids(result) == ["en1", "vi2", "zh1"]


def test_upsert_is_idempotent_and_updates_in_place(backend):
    before = backend.count()
    article = backend.get("vi1")
    backend.upsert([article])
    assert backend.count() == before
    article.title = "Cảng Hải Phòng: tiêu đề mới"
    backend.upsert([article])
    assert backend.count() == before
    assert backend.get("vi1").title == "Cảng Hải Phòng: tiêu đề mới"
    assert ids(backend.search(SearchQuery(text="tiêu đề mới"))) == ["vi1"]
    assert ids(backend.search(SearchQuery(text="container lớn nhất"))) == []


def test_snippet_marks_the_original_words(backend):
    hit = backend.search(SearchQuery(text="hai phong", filters={"language": ["vi"]})).hits[0]
    marked = [hit.snippet.text[s:e] for s, e in hit.snippet.spans]
    assert marked == ["Hải Phòng"]


def test_paging_is_stable_and_complete(backend):
    seen = []
    for offset in range(0, 7, 2):
        page = backend.search(SearchQuery(text="", sort="date", limit=2, offset=offset))
        assert page.total == 7
        seen += [h.article.id for h in page.hits]
    assert seen == ["vi1", "en1", "vi2", "zh1", "ja1", "ko1", "ru1"]


def test_duplicate_lookup_by_content_hash(backend):
    a = backend.get("en1")
    a.content_hash = "abc"
    backend.upsert([a])
    assert backend.find_by_content_hash("abc").id == "en1"
    assert backend.find_by_content_hash("nope") is None


def test_hostile_query_text_is_not_fts_syntax(backend):
    for q in ["NEAR(a b)", "title:x", '"a" AND "b"', "a*", "^x", "col:(a)", "'; DROP TABLE articles; --", "AND OR NOT"]:
        backend.search(SearchQuery(text=q))  # words are always quoted for FTS5: no syntax error, no injection
    assert backend.count() == 7


@pytest.fixture
def many(tmp_path):
    """700 articles with many equal ranks (repeated texts), equal dates and undated ones: enough
    for the date-index walk (≥ 500 hits) and for pages whose last rank is shared."""
    b = SqliteBackend(tmp_path / "many.sqlite")
    texts = ["Cảng Hải Phòng đón tàu container.", "Hải Phòng mở tuyến vận tải mới qua cảng Lạch Huyện.",
             "Du khách đến Cát Bà và Hải Phòng dịp lễ hội.", "Haiphong port container volumes rise."]
    articles = []
    for i in range(700):
        text = texts[i % len(texts)] + (" Đồ Sơn." if i % 7 == 0 else "")
        article = art(f"a{i:03d}", f"Tin {i % 11}", text, "en" if i % 4 == 3 else "vi", "VN", "domestic",
                      1 + (i * 13) % 28, risk_score=(i % 10) / 10)
        if i % 50 == 0:
            article.published_at = None
        articles.append(article)
    b.upsert(articles)
    yield b, {a.id: a for a in articles}
    b.close()


def _all_pages(backend, **kw) -> list:
    hits, offset = [], 0
    while True:
        page = backend.search(SearchQuery(limit=37, offset=offset, **kw)).hits
        hits.extend(page)
        if len(page) < 37:
            return hits
        offset += 37


@pytest.mark.parametrize("kw", [
    {"text": "Hải Phòng"}, {"text": "hai phong -\"Cát Bà\""}, {"text": "cảng", "filters": {"language": ["vi"]}},
    {"text": "Hải Phòng", "since": datetime(2026, 11, 5, tzinfo=UTC), "min_risk": 0.3}, {"text": ""},
])
def test_pages_follow_one_order_whatever_the_strategy(many, kw):
    backend, articles = many
    by_rank = _all_pages(backend, **kw, sort="relevance")
    by_date = _all_pages(backend, **kw, sort="date")
    total = backend.search(SearchQuery(**kw)).total
    assert len(by_rank) == len(by_date) == total and len({h.article.id for h in by_date}) == total
    if kw["text"]:  # best rank first, equal ranks by id, across page boundaries
        assert [h.article.id for h in by_rank] == [h.article.id for h in sorted(by_rank, key=lambda h: (-h.score,
                                                                                                       h.article.id))]
    newest = sorted(by_date, key=lambda h: h.article.id)
    newest.sort(key=lambda h: articles[h.article.id].published_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    assert [h.article.id for h in by_date] == [h.article.id for h in newest]  # undated last, equal dates by id
    if kw["text"]:
        assert {h.article.id: round(h.score, 6) for h in by_date} == {h.article.id: round(h.score, 6) for h in by_rank}
