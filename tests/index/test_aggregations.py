"""The trends page's aggregation (``facet_histogram``): counts of a facet's values per day, ISO week,
month or year, the same on both engines, with the query's filters and under the time limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from index.article import Article
from index.backend import FacetHistogram
from index.query import SearchQuery
from index.sqlite import SqliteBackend

# Monday 2026-11-02 .. Sunday 2026-11-15 (two ISO weeks), city time UTC+7
START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
TOPICS = ["port_logistics", "tourism_culture", "sovereignty"]
TONES = ["negative", "neutral", "positive"]


def corpus() -> list[Article]:
    out = []
    for i in range(42):
        day = i % 14
        out.append(Article(
            id=f"agg-{i:02d}", url=f"https://news.example/agg/{i}", source_id=f"src-{i % 3}",
            title=f"Cảng Hải Phòng {i}" if i % 2 else f"Du lịch Hải Phòng {i}", text="Hải Phòng hôm nay.",
            language=("vi", "en", "zh")[i % 3], country=("VN", "US", "CN")[i % 3], outlet=f"Outlet {i % 4}",
            topics=[TOPICS[i % 3]] + (["investment"] if i % 7 == 0 else []), sentiment=TONES[i % 3 if day < 7 else 0],
            published_at=START + timedelta(days=day, hours=i % 5)))
    # 23:30 UTC on Sunday 2026-11-08 is Monday 06:30 in Hải Phòng: the second week in city time
    out.append(Article(id="agg-edge", url="https://news.example/agg/edge", source_id="src-0", title="Cảng",
                       text="Hải Phòng", language="vi", country="VN", topics=["port_logistics"],
                       sentiment="neutral", published_at=datetime(2026, 11, 8, 23, 30, tzinfo=UTC)))
    out.append(Article(id="agg-undated", url="https://news.example/agg/u", source_id="src-0", title="Cảng",
                       text="Hải Phòng", language="vi", topics=["port_logistics"], sentiment="neutral"))
    return out


def expected(articles, facet: str, interval: str, tz: str = "Asia/Ho_Chi_Minh", keep=lambda a: True):
    from zoneinfo import ZoneInfo

    counts: dict[tuple[str, str], int] = {}
    for a in articles:
        if a.date is None or not keep(a):
            continue
        local = a.date.astimezone(ZoneInfo(tz)).date()
        if interval == "week":
            local -= timedelta(days=local.weekday())
        elif interval == "month":
            local = local.replace(day=1)
        for v in a.facet_values(facet):
            counts[(local.isoformat(), v)] = counts.get((local.isoformat(), v), 0) + 1
    return sorted(((k, v, n) for (k, v), n in counts.items()), key=lambda r: (r[0], -r[2], r[1]))


@pytest.fixture(scope="module")
def backend(empty_module_backend):
    empty_module_backend.upsert(corpus())
    empty_module_backend.refresh()
    return empty_module_backend


@pytest.mark.parametrize("facet", ["topic", "sentiment", "country", "language"])
@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_counts_per_bucket_and_value_match_the_articles(backend, facet, interval):
    got = backend.facet_histogram(SearchQuery(), facet, interval=interval, timezone="Asia/Ho_Chi_Minh")
    assert isinstance(got, FacetHistogram) and not got.timed_out
    assert list(got) == expected(corpus(), facet, interval)


def test_weeks_start_on_monday_in_the_city_time_zone(backend):
    weeks = backend.facet_histogram(SearchQuery(), "topic", interval="week", timezone="Asia/Ho_Chi_Minh")
    assert {k for k, _, _ in weeks} == {"2026-11-02", "2026-11-09"}
    in_utc = backend.facet_histogram(SearchQuery(), "topic", interval="week", timezone="UTC")
    assert list(in_utc) == expected(corpus(), "topic", "week", tz="UTC") != list(weeks)
    # the edge article is in the first week in UTC and in the second in city time
    edge = [a for a in corpus() if a.id == "agg-edge"]
    assert expected(edge, "topic", "week", tz="UTC")[0][0] == "2026-11-02"
    assert expected(edge, "topic", "week")[0][0] == "2026-11-09"


def test_filters_text_and_dates_apply(backend):
    since = datetime(2026, 11, 8, 17, 0, tzinfo=UTC)  # 2026-11-09 00:00 city time
    query = SearchQuery(text="cảng", filters={"country": ["VN", "US"]}, since=since)
    got = backend.facet_histogram(query, "sentiment", interval="day", timezone="Asia/Ho_Chi_Minh")
    want = expected(corpus(), "sentiment", "day",
                    keep=lambda a: a.title.startswith("Cảng") and a.country in ("VN", "US") and a.date >= since)
    assert list(got) == want and want
    assert {v for _, v, _ in got} <= {"negative", "neutral"}  # the second week is all negative but the edge


def test_size_keeps_the_most_frequent_values_of_each_bucket(backend):
    got = backend.facet_histogram(SearchQuery(), "topic", interval="week", timezone="Asia/Ho_Chi_Minh", size=2)
    full = expected(corpus(), "topic", "week")
    for week in ("2026-11-02", "2026-11-09"):
        assert [r for r in got if r[0] == week] == [r for r in full if r[0] == week][:2]


def test_a_query_matching_nothing_and_bad_arguments(backend):
    assert list(backend.facet_histogram(SearchQuery(text="khôngcótừnày"), "topic")) == []
    with pytest.raises(ValueError):
        backend.facet_histogram(SearchQuery(), "nosuchfacet")
    with pytest.raises(ValueError):
        backend.facet_histogram(SearchQuery(), "topic", interval="fortnight")


def test_the_embedded_engine_stops_at_the_time_limit_and_says_so(tmp_path):
    from tests.index.test_time_limit import corpus as big_corpus

    engine = SqliteBackend(tmp_path / "index.sqlite")
    try:
        engine.upsert(big_corpus(3000))
        full = engine.facet_histogram(SearchQuery(), "topic", interval="week")
        assert not full.timed_out and sum(n for _, _, n in full) == 6000
        engine.time_limit_ms = 0
        cut = engine.facet_histogram(SearchQuery(), "topic", interval="week")
        assert cut.timed_out and sum(n for _, _, n in cut) < 6000
    finally:
        engine.close()
