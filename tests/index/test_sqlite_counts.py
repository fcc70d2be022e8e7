"""The embedded engine's counts (facets, histogram, facet histogram) read from one narrow row per
article (``article_facets``: the date and the packed codes of its facet values). They must equal
what the articles themselves say, after every kind of write, whatever the zone and the date; and
an index file written before schema versions is adopted unchanged and upgraded with its rows."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import index.sqlite as sqlite_module
from hpbase.schema import SchemaTooNew, stored_version
from index.article import FACET_FIELDS, Article
from index.query import SearchQuery
from index.sqlite import SCHEMA, SqliteBackend, pack_codes, unpack_codes

TOPICS = ["port_logistics", "tourism_culture", "sovereignty", "investment", "environment"]
WORDS = ["cảng", "container", "du lịch", "bão", "đầu tư", "Hải Phòng", "Cát Bà"]


def corpus(n: int = 400, seed: int = 3) -> list[Article]:
    """Articles with ties in every facet, one story per article for most (a facet with a value per
    article), several undated, and dates spread over years, zones' transitions and the calendar's ends."""
    rng = random.Random(seed)
    edges = [datetime(1, 1, 1, 2, tzinfo=UTC), datetime(9999, 12, 31, 20, tzinfo=UTC),
             datetime(1900, 6, 1, 23, 30, tzinfo=UTC), datetime(1906, 6, 30, 16, 50, tzinfo=UTC),
             datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),
             datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 11, 1, 3, 29, tzinfo=UTC)]
    out = []
    for i in range(n):
        when = edges[i] if i < len(edges) else datetime(2020, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(0, 6 * 365 * 86400))
        out.append(Article(
            id=f"c{i:04d}", url=f"https://news.example/{i}", source_id=f"src-{i % 9}",
            title=f"{rng.choice(WORDS)} {rng.choice(WORDS)}", text=" ".join(rng.choice(WORDS) for _ in range(6)),
            language=rng.choice(["vi", "en", "zh"]), country=rng.choice(["VN", "US", None]),
            scope=rng.choice(["domestic", "foreign"]), outlet=f"Outlet {i % 13}",
            topics=rng.sample(TOPICS, rng.randint(0, 3)), sentiment=rng.choice(["negative", "neutral", "positive"]),
            sensitive_themes=rng.choice([None, [], ["sovereignty"]]), flags=rng.choice([[], ["misleading_risk"]]),
            story_id=f"s{i % 7}" if i % 5 == 0 else f"s-{i:04d}",
            published_at=None if i % 31 == 30 else when))
    return out


QUERIES = [SearchQuery(), SearchQuery(text="cảng"), SearchQuery(text="hai phong -bão"),
           SearchQuery(filters={"language": ["vi", "en"], "scope": ["foreign"]}),
           SearchQuery(text="du lịch", since=datetime(2021, 1, 1, tzinfo=UTC), min_risk=None),
           SearchQuery(text="container OR 海防", filters={"topic": ["investment"]})]


def hits_of(backend: SqliteBackend, query: SearchQuery) -> list[Article]:
    from dataclasses import replace

    return [h.article for h in backend.search(replace(query, limit=10_000, facets=False)).hits]


def expected_facets(articles: list[Article], size: int) -> dict[str, list[tuple[str, int]]]:
    out = {}
    for name in FACET_FIELDS:
        counts = Counter(v for a in articles for v in set(a.facet_values(name)))
        out[name] = sorted(counts.items(), key=lambda vn: (-vn[1], vn[0]))[:size]
    return out


def local_day(moment: datetime, tz: str) -> date:
    """The local day the way the engine documents it: UTC when the local time is off the calendar."""
    try:
        return moment.astimezone(ZoneInfo(tz)).date()
    except OverflowError:
        return moment.date()


def expected_histogram(articles: list[Article], tz: str, interval: str) -> list[tuple[str, int]]:
    counts: Counter = Counter()
    for a in articles:
        if a.date is None:
            continue
        day = local_day(a.date, tz)
        day = date(day.year, 1, 1) if interval == "year" else day.replace(day=1) if interval == "month" else day
        counts[day.isoformat()] += 1
    return sorted(counts.items())


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    backend = SqliteBackend(tmp_path_factory.mktemp("counts") / "index.sqlite")
    articles = corpus()
    backend.upsert(articles)
    yield backend, {a.id: a for a in articles}
    backend.close()


def test_codes_pack_and_unpack_and_are_found_only_where_a_code_starts():
    codes = [1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, (1 << 28) - 1]
    blob = pack_codes(codes)
    assert unpack_codes(blob).tolist() == codes and len(blob) == 4 * len(codes)
    for i, code in enumerate(codes):
        assert blob.find(pack_codes([code])) == 4 * i  # never inside another code's bytes
    with pytest.raises(ValueError):
        pack_codes([1 << 28])


@pytest.mark.parametrize("size", [1, 3, 20])
@pytest.mark.parametrize("q", range(len(QUERIES)))
def test_facets_are_the_counts_of_the_hits(loaded, q, size):
    backend, _ = loaded
    query = QUERIES[q]
    query.facets, query.facet_size = True, size
    result = backend.search(query)
    assert not result.timed_out
    assert result.facets == expected_facets(hits_of(backend, query), size)


def test_many_tied_values_are_ordered_by_value_through_the_index(loaded, monkeypatch):
    """Stories: nearly one value per article, so the last places are a tie among hundreds; walking the
    values in order gives what reading them all gives."""
    backend, _ = loaded
    query = SearchQuery(text="cảng", facets=True, facet_size=12)
    read_all = backend.search(query).facets["story"]
    monkeypatch.setattr(sqlite_module, "_VALUE_FETCH_MAX", 5)
    walked = backend.search(query).facets["story"]
    assert walked == read_all == expected_facets(hits_of(backend, query), 12)["story"]
    assert [n for _, n in walked].count(1) > 0  # the tie was reached


@pytest.mark.parametrize("tz", ["UTC", "Asia/Ho_Chi_Minh", "Europe/Paris", "America/St_Johns", "Asia/Kathmandu",
                                "Australia/Lord_Howe", "Pacific/Kiritimati", "America/Los_Angeles"])
@pytest.mark.parametrize("interval", ["day", "month", "year"])
def test_histogram_is_the_local_days_of_the_hits(loaded, tz, interval):
    backend, _ = loaded
    for query in (SearchQuery(), SearchQuery(text="cảng")):
        got = backend.histogram(query, interval=interval, timezone=tz)
        assert not got.timed_out
        assert list(got) == expected_histogram(hits_of(backend, query), tz, interval)


@pytest.mark.parametrize("tz", ["Asia/Ho_Chi_Minh", "Europe/Paris", "America/St_Johns"])
@pytest.mark.parametrize("facet,interval", [("topic", "week"), ("sentiment", "day"), ("story", "month")])
def test_facet_histogram_is_the_counts_of_the_hits(loaded, tz, facet, interval):
    backend, _ = loaded
    query = SearchQuery(text="cảng")
    counts: Counter = Counter()
    for a in hits_of(backend, query):
        if a.date is None:
            continue
        day = local_day(a.date, tz)
        day = day - timedelta(days=day.weekday()) if interval == "week" else day.replace(day=1) if (
            interval == "month") else day
        for v in set(a.facet_values(facet)):
            counts[(day.isoformat(), v)] += 1
    per: dict[str, list] = {}
    for (k, v), n in counts.items():
        per.setdefault(k, []).append((v, n))
    want = [(k, v, n) for k in sorted(per) for v, n in sorted(per[k], key=lambda vn: (-vn[1], vn[0]))[:4]]
    assert list(backend.facet_histogram(query, facet, interval=interval, timezone=tz, size=4)) == want


def test_counts_follow_every_write(tmp_path):
    backend = SqliteBackend(tmp_path / "index.sqlite")
    articles = corpus(60, seed=9)
    backend.upsert(articles)
    changed = articles[:20]
    for a in changed:  # new values, removed values, a new date, undated
        a.topics = ["brand_new_topic"] if a.topics else []
        a.language = "fr"
        a.published_at = None if a.published_at and a.published_at.year == 1 else datetime(2030, 5, 5, tzinfo=UTC)
    backend.upsert(changed)

    def broken():
        yield Article(id="never", url="https://x/never", source_id="src-x", title="cảng", text="cảng",
                      topics=["rolled_back_topic"])
        raise RuntimeError("the writer died")
    with pytest.raises(RuntimeError):
        backend.upsert(broken())  # its new code was rolled back: it must not be used afterwards
    late = Article(id="late", url="https://x/late", source_id="src-x", title="cảng", text="cảng",
                   topics=["rolled_back_topic"], published_at=datetime(2030, 5, 6, tzinfo=UTC))
    backend.upsert([late])
    other = SqliteBackend(tmp_path / "index.sqlite")  # another process numbering values too
    extra = Article(id="extra", url="https://x/extra", source_id="src-y", title="cảng", text="cảng",
                    topics=["from_the_other_writer"], published_at=datetime(2030, 5, 6, tzinfo=UTC))
    other.upsert([extra])
    articles = changed + articles[20:] + [late, extra]
    for engine in (backend, other):
        for query in QUERIES[:3]:
            query.facets, query.facet_size = True, 50
            hits = hits_of(engine, query)
            assert engine.search(query).facets == expected_facets(hits, 50)
            assert list(engine.histogram(query, timezone="Asia/Ho_Chi_Minh")) == expected_histogram(
                hits, "Asia/Ho_Chi_Minh", "day")
        conn = engine._conn
        assert conn.execute("SELECT count(*) FROM article_facets").fetchone() == conn.execute(
            "SELECT count(*) FROM articles").fetchone() == (len(articles),)
    assert backend.search(SearchQuery(facets=True, facet_size=50)).facets["topic"][-1] != ("rolled_back_topic", 0)
    other.close()
    backend.close()


def _as_before_versions(path) -> None:
    """Turn a file into what the index code before schema versions wrote: the same tables of step 1
    with the same rows (that code wrote articles, facets and the full text exactly as now)."""
    conn = sqlite3.connect(path)
    conn.executescript("DROP TABLE article_facets; DROP TABLE facet_codes; DROP TABLE hpmon_schema;")
    conn.close()


def test_an_index_from_before_versions_is_adopted_unchanged_and_upgraded_with_its_rows(tmp_path):
    path = tmp_path / "index.sqlite"
    backend = SqliteBackend(path)
    articles = corpus(120, seed=5)
    backend.upsert(articles)
    backend.close()
    _as_before_versions(path)
    conn = sqlite3.connect(path)
    before_schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    before_rows = conn.execute("SELECT rowid, id, sort_date, doc FROM articles ORDER BY rowid").fetchall()
    before_facets = conn.execute("SELECT article, field, value FROM facets ORDER BY 1, 2, 3").fetchall()
    assert stored_version(conn, SCHEMA.store) == 0
    conn.close()

    adopted = SqliteBackend(path)
    conn = adopted._conn
    assert stored_version(conn, SCHEMA.store) == SCHEMA.version == 2
    kept = {r[1]: r for r in conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()}
    assert all(kept[name] == (kind, name, sql) for kind, name, sql in before_schema)  # nothing of step 1 changed
    assert conn.execute("SELECT rowid, id, sort_date, doc FROM articles ORDER BY rowid").fetchall() == before_rows
    assert conn.execute("SELECT article, field, value FROM facets ORDER BY 1, 2, 3").fetchall() == before_facets
    # the migration's dates (SQLite's strftime) are the writer's (Python), to the second, years 1 to 9999
    for (rowid, at), a in zip(conn.execute("SELECT article, at FROM article_facets ORDER BY article"),
                              articles, strict=True):
        assert at == sqlite_module._epoch_seconds(a.date), (rowid, a.date)
    for query in QUERIES:
        query.facets, query.facet_size = True, 20
        hits = hits_of(adopted, query)
        assert adopted.search(query).facets == expected_facets(hits, 20)
        assert list(adopted.histogram(query, timezone="Europe/Paris")) == expected_histogram(hits, "Europe/Paris",
                                                                                              "day")
    adopted.upsert([Article(id="new", url="https://x/new", source_id="src-0", title="cảng", text="cảng",
                            topics=["port_logistics"], story_id="s-0001")])  # numbering goes on after the old values
    query = SearchQuery(text="cảng", facets=True, facet_size=50)
    assert adopted.search(query).facets == expected_facets(hits_of(adopted, query), 50)
    adopted.close()
    SqliteBackend(path).close()  # opening an up-to-date file changes nothing


def test_an_index_from_a_newer_hpmon_is_refused(tmp_path):
    path = tmp_path / "index.sqlite"
    SqliteBackend(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE hpmon_schema SET version = 99 WHERE store = ?", (SCHEMA.store,))
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNew):
        SqliteBackend(path)


def _thesaurus():
    from index.thesaurus import Thesaurus

    th = Thesaurus()
    th.add_entity(["Hải Phòng", "Hai Phong", "Haiphong", "海防"])
    th.add_label("topic", "sovereignty", ["chủ quyền", "Sovereignty"])
    th.add_label("topic", "investment", ["đầu tư"])
    return th


FILTERED = [
    SearchQuery(text="cảng", filters={"language": ["vi", "en"]}),
    SearchQuery(text="hai phong -bão", filters={"scope": ["foreign"], "topic": ["investment", "nosuchtopic"]},
                since=datetime(2021, 3, 1, 12, 30, 15, 999, tzinfo=UTC), until=datetime(2024, 1, 1, tzinfo=UTC)),
    SearchQuery(filters={"language": ["en"], "scope": ["domestic"]}, since=datetime(2022, 1, 1, tzinfo=UTC)),
    SearchQuery(filters={"country": ["nowhere"]}),
    SearchQuery(text="hai phong", filters={"sentiment": ["negative"]}, thesaurus=_thesaurus()),
    SearchQuery(text="đầu tư cảng", filters={"language": ["vi"]}, until=datetime(2023, 6, 1, tzinfo=UTC),
                thesaurus=_thesaurus()),
    SearchQuery(text="du lịch", filters={"story": ["s3"]}, min_risk=None),
]


@pytest.mark.parametrize("q", range(len(FILTERED)))
def test_filters_tested_on_the_narrow_row_give_the_same_answers_as_rowid_sets(loaded, monkeypatch, q):
    """A filter matching many articles is tested on each candidate's codes and date instead of being
    collected from the facets and dates indexes: the hits, their order, the facets and the histogram
    must not change."""
    from dataclasses import replace

    backend, _ = loaded

    def answers():
        out = []
        for sort in ("relevance", "date"):
            pages = [backend.search(replace(FILTERED[q], sort=sort, limit=25, offset=o, facets=True, facet_size=50))
                     for o in (0, 25, 50)]
            out.append([(r.total, [h.article.id for h in r.hits], r.facets) for r in pages])
        out.append(list(backend.histogram(FILTERED[q], timezone="Asia/Ho_Chi_Minh")))
        out.append(list(backend.facet_histogram(FILTERED[q], "topic", interval="month")))
        return out

    monkeypatch.setattr(sqlite_module, "_FEW", 10**9)  # every filter a set of rowids
    by_sets = answers()
    monkeypatch.setattr(sqlite_module, "_FEW", 1)  # every filter (that matches anything) on the narrow row
    matches_nothing = FILTERED[q].filters == {"country": ["nowhere"]}
    assert backend._where(FILTERED[q], narrow="c")[2] != matches_nothing  # the path under test was taken
    assert answers() == by_sets
    assert by_sets[0][0][0] == len(hits_of(backend, FILTERED[q]))
