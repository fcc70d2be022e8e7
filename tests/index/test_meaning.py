"""Search by meaning, on every backend: Vietnamese syllables searched as words (``da nang`` is not
"đã … nâng"), the other names of what a query names (``hai phong`` finds Haiphong, 海防, ハイフォン)
and the labels it names (``chủ quyền`` finds the articles labelled sovereignty, after the ones that
say it). The articles and the thesaurus are written for these tests; one test checks that the
installation's own configuration expands the same way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hpmon.settings import DEFAULT_CONFIG_DIR
from index.article import Article
from index.query import SearchQuery, parse_query
from index.thesaurus import Thesaurus


def _a(id, lang, title, text, topics=None, themes=None, day=1):
    return Article(id=id, url=f"https://news.example/{id}", source_id=f"src-{lang}", title=title, text=text,
                   language=lang, published_at=datetime(2026, 11, day, 3, 0, tzinfo=UTC), topics=topics,
                   sensitive_themes=themes)


ARTICLES = [
    _a("vi-sov-text", "vi", "Hội thảo khoa học tại Quảng Ninh",
       "Các nhà nghiên cứu khẳng định chủ quyền biển đảo bằng tư liệu lịch sử.", topics=["foreign_affairs"]),
    _a("vi-sov-label", "vi", "Ngư dân Bạch Long Vĩ bám biển", "Mùa này tàu lạ xuất hiện dày đặc ngoài khơi.",
       topics=["sovereignty"], themes=["sovereignty"], day=2),
    _a("en-sov-label", "en", "Survey ship returns near the Paracels", "The foreign ministry protested again.",
       topics=["sovereignty"], day=3),
    _a("zh-sov-text", "zh", "海警船巡航", "中国海警船在西沙群岛附近巡航，声称拥有主权。", day=4),
    _a("vi-danang", "vi", "Đà Nẵng đón ba tàu du lịch quốc tế", "Thành phố biển miền Trung đón hơn ba nghìn khách.",
       topics=["tourism_culture"], day=5),
    _a("vi-danghe", "vi", "Hãng vận tải điều chỉnh giá vé", "Công ty đã quyết định nâng giá vé từ tháng sau.",
       topics=["infrastructure"], day=5),
    _a("en-danang", "en", "Da Nang hosts fireworks festival", "Teams from six countries took part.", day=6),
    _a("vi-hp", "vi", "Cảng Hải Phòng đón tàu lớn", "Thành phố Hải Phòng đón tàu container lớn nhất.",
       topics=["port_logistics"], day=7),
    _a("vi-hp-doson", "vi", "Bãi biển đông khách", "Đồ Sơn, Hải Phòng, đón hàng nghìn du khách dịp lễ.",
       topics=["tourism_culture"], day=8),
    _a("en-hp", "en", "Haiphong container volumes climb", "Volumes at the port rose in October.", day=9),
    _a("fr-hp", "fr", "Le port d'Haïphong modernisé", "Les quais ont été rénovés.", day=10),
    _a("zh-hp", "zh", "越南海防市新建工业园", "一家企业宣布投资建设新园区。", day=11),
    _a("ja-hp", "ja", "ハイフォン市に新工場", "精密部品メーカーが工場を建設する。", day=12),
    _a("ru-hp", "ru", "Новый терминал", "В Хайфоне открыли контейнерный терминал.", day=13),
    _a("vi-vn", "vi", "Việt Nam và Nhật Bản ký hiệp định", "Hai nước ký hiệp định hợp tác.", day=14),
]
HP = ["vi-hp", "vi-hp-doson", "en-hp", "fr-hp", "zh-hp", "ja-hp", "ru-hp"]


def thesaurus() -> Thesaurus:
    """A small thesaurus shaped like the one the configuration gives (index.thesaurus.from_config)."""
    th = Thesaurus()
    th.add_entity(["Hải Phòng", "Hai Phong", "Haiphong", "Haïphong", "海防市", "海防", "ハイフォン", ("Хайфон", True)])
    th.add_entity(["Việt Nam", "Vietnam", "越南", ("Вьетнам", True)])
    th.add_label("topic", "sovereignty", ["Chủ quyền biển đảo, biên giới", "Sovereignty, sea and borders",
                                          "chủ quyền", "主权"])
    th.add_label("theme", "sovereignty", ["Chủ quyền lãnh thổ", "Sovereignty", "chủ quyền", "主权"])
    th.add_words(["Đồ Sơn", "Bạch Long Vĩ"])
    return th


@pytest.fixture(scope="module")
def loaded(empty_module_backend):
    report = empty_module_backend.upsert(ARTICLES)
    assert report.errors == {}
    empty_module_backend.refresh()
    return empty_module_backend


def search(backend, text, *, expand=True, **kw):
    return backend.search(SearchQuery(text=text, limit=100, thesaurus=thesaurus() if expand else None, **kw))


def ids(result):
    return sorted(h.article.id for h in result.hits)


@pytest.mark.parametrize("text,expected", [
    ("da nang", ["en-danang", "vi-danang"]),  # not "đã quyết định nâng"
    ("Đà Nẵng", ["en-danang", "vi-danang"]),
    ("DA NANG", ["en-danang", "vi-danang"]),
    ("nâng giá", ["vi-danghe"]),
    ("đã nâng", ["en-danang", "vi-danang"]),  # diacritics never matter; "đã … nâng" apart does not match
    ("da nang OR du lich", ["en-danang", "vi-danang"]),
    ("da nang -festival", ["vi-danang"]),
    ('"da" "nang"', ["vi-danang", "vi-danghe", "en-danang"]),  # quotes delimit words: two of them, ANDed
    ("nang", ["vi-danghe", "vi-danang", "en-danang"]),  # one word still finds every form
    ("hải phòng đồ sơn", []),  # without a thesaurus the syllables are one word: not in the text
])
def test_vietnamese_syllables_are_searched_as_words(loaded, text, expected):
    result = search(loaded, text, expand=False)
    assert ids(result) == sorted(expected) and result.total == len(expected)


@pytest.mark.parametrize("text,expected", [
    ("hai phong", HP),
    ("Hải Phòng", HP),
    ("haiphong", HP),
    ("Haïphong", HP),
    ("海防", HP),
    ("ハイフォン", HP),
    ("хайфон", HP),
    ('"hai phong"', ["vi-hp", "vi-hp-doson"]),  # quotes switch the expansion off
    ('"haiphong"', ["en-hp", "fr-hp"]),
    ("hai phong -haiphong", ["vi-hp", "vi-hp-doson", "zh-hp", "ja-hp", "ru-hp"]),
    ("hai phong container", ["vi-hp", "en-hp"]),
    ("hải phòng đồ sơn", ["vi-hp-doson"]),  # two known words: both must be there, anywhere
    ("việt nam", ["vi-vn", "zh-hp"]),  # 越南海防市
    ("da nang OR haiphong", ["en-danang", "vi-danang", *HP]),
])
def test_a_name_finds_every_spelling_of_what_it_names(loaded, text, expected):
    result = search(loaded, text)
    assert ids(result) == sorted(expected) and result.total == len(expected)


def test_without_a_thesaurus_only_the_words_are_searched(loaded):
    assert ids(search(loaded, "hai phong", expand=False)) == ["vi-hp", "vi-hp-doson"]
    assert ids(search(loaded, "chủ quyền", expand=False)) == ["vi-sov-text"]


@pytest.mark.parametrize("text,first", [
    ("chủ quyền", "vi-sov-text"), ("chu quyen", "vi-sov-text"), ("主权", "zh-sov-text"), ("sovereignty", None),
])
def test_a_label_name_finds_the_labelled_articles_after_the_text_matches(loaded, text, first):
    result = search(loaded, text)
    order = [h.article.id for h in result.hits]
    labelled = ["en-sov-label", "vi-sov-label"]  # by label only: equal rank, then by id
    assert order == ([first] if first else []) + labelled
    assert result.total == len(order)
    if first:
        assert result.hits[0].score > result.hits[1].score


def test_quotes_switch_the_label_expansion_off(loaded):
    assert ids(search(loaded, '"chủ quyền"')) == ["vi-sov-text"]


def test_labels_combine_with_other_words_and_filters(loaded):
    assert ids(search(loaded, "chủ quyền tàu lạ")) == ["vi-sov-label"]  # label for one word, text for the other
    assert ids(search(loaded, "chủ quyền", filters={"language": ["en"]})) == ["en-sov-label"]
    assert ids(search(loaded, "chủ quyền -ngư")) == ["en-sov-label", "vi-sov-text"]


def test_label_matches_count_in_facets_and_histogram(loaded):
    result = search(loaded, "chủ quyền", facets=True)
    assert dict(result.facets["topic"]) == {"sovereignty": 2, "foreign_affairs": 1}
    days = loaded.histogram(SearchQuery(text="chủ quyền", thesaurus=thesaurus()), timezone="UTC")
    assert list(days) == [("2026-11-01", 1), ("2026-11-02", 1), ("2026-11-03", 1)]
    assert not days.timed_out


def test_expanded_names_are_highlighted(loaded):
    hit = next(h for h in search(loaded, "hai phong").hits if h.article.id == "en-hp")
    assert [hit.snippet.text[s:e] for s, e in hit.snippet.spans] == ["Haiphong"]


def test_the_expansion_is_reported_for_display():
    parsed = parse_query('hai phong "đồ sơn" chủ quyền', thesaurus())
    by_phrase = {e.phrase: e for e in parsed.expansions}
    assert set(by_phrase) == {"hai phong", "chủ quyền"}  # "đồ sơn" is quoted
    assert {"Haiphong", "海防", "ハイフォン"} <= set(by_phrase["hai phong"].names)
    assert "Hải Phòng" not in by_phrase["hai phong"].names  # the same word without diacritics is not news
    assert by_phrase["chủ quyền"].labels == (("topic", "sovereignty"), ("theme", "sovereignty"))


def test_the_configuration_gives_the_city_country_and_label_expansions():
    config = DEFAULT_CONFIG_DIR
    th = Thesaurus.from_config(city=config / "cities" / "haiphong.yaml", taxonomy=config / "topics.yaml",
                               lexicons=[("topic", config / "lexicons" / "topics.yaml"),
                                         ("theme", config / "lexicons" / "sensitive.yaml")])
    names, prefixes, _ = th.lookup("hai phong")
    assert {"Haiphong", "海防", "ハイフォン", "하이퐁"} <= set(names) and "Хайфон" in prefixes  # Haïphong folds
    assert "Việt Nam" in th.lookup("vietnam")[0] and "越南" in th.lookup("vietnam")[0]
    assert "Вьетнам" in th.lookup("việt nam")[1]
    assert th.lookup("hà nội") == ((), (), ())  # the capital marks the country as a party; it is not its name
    assert "Hanoi" not in th.lookup("vietnam")[0]
    for words in ("chủ quyền", "Chu Quyen", "sovereignty", "主权"):
        assert {("topic", "sovereignty"), ("theme", "sovereignty")} <= set(th.lookup(words)[2]), words
    assert {"吉婆", "カットバ島", "깟바"} <= set(th.lookup("cat ba")[0])  # places sharing an `entity`
    assert "白龙尾岛" in th.lookup("Bạch Long Vĩ")[0]
    assert th.lookup("du lịch")[2] == (("topic", "tourism_culture"),)  # one part of a label's name
    assert th.lookup("khác")[2] == ()  # the catch-all label is not named by a common word
    assert th.segment(["hải", "phòng", "đồ", "sơn"]) == ["hải phòng", "đồ sơn"]
    assert th.segment(["da", "nang"]) == ["da nang"]


def test_a_missing_configuration_file_leaves_search_on_the_text(tmp_path):
    th = Thesaurus.from_config(city=tmp_path / "nope.yaml", taxonomy=tmp_path / "nope.yaml")
    assert len(th) == 0 and th.lookup("hai phong") == ((), (), ())


@pytest.mark.parametrize("text", ["chủ quyền", "hai phong OR chủ quyền", "主权"])
def test_pages_of_an_expanded_query_follow_the_full_order(loaded, text):
    full = [h.article.id for h in search(loaded, text).hits]
    for size in (1, 2):
        paged = []
        for offset in range(0, len(full), size):
            page = loaded.search(SearchQuery(text=text, limit=size, offset=offset, thesaurus=thesaurus()))
            assert page.total == len(full)
            paged += [h.article.id for h in page.hits]
        assert paged == full
    by_date = [h.article.id for h in search(loaded, text, sort="date").hits]
    assert sorted(by_date) == sorted(full)
    assert by_date == sorted(full, key=lambda i: next(a.published_at for a in ARTICLES if a.id == i), reverse=True)


def test_the_installation_thesaurus_is_read_again_when_the_profile_changes(tmp_path):
    import os
    import shutil

    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    city = config / "cities" / "haiphong.yaml"
    first = Thesaurus.of_installation(config, city)
    assert Thesaurus.of_installation(config, city) is first  # read once
    assert "Hoa Phượng Đỏ" not in first.lookup("hai phong")[0]
    entry = '  - {term: "Hải Phòng", lang: vi}'
    text = city.read_text(encoding="utf-8").replace(entry, entry + '\n  - {term: "Hoa Phượng Đỏ", lang: vi}', 1)
    city.write_text(text, encoding="utf-8")
    os.utime(city, ns=(city.stat().st_atime_ns, city.stat().st_mtime_ns + 10**9))
    assert "Hoa Phượng Đỏ" in Thesaurus.of_installation(config, city).lookup("hai phong")[0]


@pytest.mark.parametrize("text,own", [
    ("hai phong", {"vi-hp", "vi-hp-doson"}), ("haiphong", {"en-hp", "fr-hp"}), ("海防", {"zh-hp"}),
    ("hai phong OR chủ quyền", {"vi-hp", "vi-hp-doson", "vi-sov-text"}),
])
def test_the_users_own_words_rank_before_other_spellings_and_labels(loaded, text, own):
    order = [h.article.id for h in search(loaded, text).hits]
    assert set(order[:len(own)]) == own
    if "chủ quyền" in text:
        assert set(order[-2:]) == {"en-sov-label", "vi-sov-label"}  # the labels last


def test_places_sharing_an_entity_key_are_one_entity(tmp_path):
    city = tmp_path / "city.yaml"
    city.write_text("""
id: somecity
names: [{term: "Hải Phòng", lang: vi}, {term: "Haiphong", lang: en}]
places:
  - {term: "Cát Bà", kind: island, entity: cat_ba}
  - {term: "吉婆", kind: island, entity: cat_ba}
  - {term: "カットバ島", kind: island, entity: cat_ba}
  - {term: "Đồ Sơn", kind: beach}
""", encoding="utf-8")
    th = Thesaurus.from_config(city=city)
    assert set(th.lookup("cat ba")[0]) == {"吉婆", "カットバ島"}
    assert th.lookup("đồ sơn")[0] == ()  # a place of its own: no other names
    assert th.segment(["đồ", "sơn", "cát", "bà"]) == ["đồ sơn", "cát bà"]


@pytest.mark.parametrize("interval,expected", [("month", [("2026-11-01", 15)]), ("year", [("2026-01-01", 15)])])
def test_histogram_by_month_and_year(loaded, interval, expected):
    assert list(loaded.histogram(SearchQuery(), interval=interval, timezone="Asia/Ho_Chi_Minh")) == expected


def test_dates_at_the_ends_of_the_calendar_are_filed_and_counted(empty_backend):
    """A crawled page may claim any date; the index files it in order and counts it in the chart."""
    odd = [Article(id=f"odd-{y}", url=f"https://news.example/odd/{y}", source_id="src-odd", title="Bản tin",
                   text="Ngày lạ.", language="vi", published_at=when)
           for y, when in ((1, datetime(1, 1, 2, tzinfo=UTC)), (2026, datetime(2026, 11, 1, tzinfo=UTC)),
                           (9999, datetime(9999, 12, 31, tzinfo=UTC)))]
    assert empty_backend.upsert(odd).errors == {}
    empty_backend.refresh()
    newest_first = [h.article.id for h in empty_backend.search(SearchQuery(sort="date")).hits]
    assert newest_first == ["odd-9999", "odd-2026", "odd-1"]
    years = empty_backend.histogram(SearchQuery(), interval="year", timezone="Asia/Ho_Chi_Minh")
    assert list(years) == [("0001-01-01", 1), ("2026-01-01", 1), ("9999-01-01", 1)]
    since = empty_backend.search(SearchQuery(since=datetime(9000, 1, 1, tzinfo=UTC)))
    assert [h.article.id for h in since.hits] == ["odd-9999"]
