"""Both profiles rendered from the fixture index: the numbers, the sections and their order, escaping,
languages and the empty day (see conftest.py for the articles and the counts they imply)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import lxml.html
import pytest

from alerts.digest.render import build_digest
from tests.digest.conftest import BASE_URL, CITY, DAY, EMPTY_DAY, case_state, queue_counter

NOW = datetime(2025, 11, 25, 0, 30, tzinfo=UTC)


def build(backend, profiles, taxonomy, profile: str, day=DAY, lang=None):
    return build_digest(backend, profiles[profile], day, timezone="Asia/Ho_Chi_Minh", city=CITY, base_url=BASE_URL,
                        taxonomy=taxonomy, queue_counter=queue_counter, case_state=case_state, lang=lang, now=NOW)


@pytest.fixture(scope="module")
def sotttt(backend, profiles, taxonomy):
    return build(backend, profiles, taxonomy, "sotttt")


@pytest.fixture(scope="module")
def songoaivu(backend, profiles, taxonomy):
    return build(backend, profiles, taxonomy, "songoaivu")


def page(digest, mode="file"):
    return lxml.html.fromstring(digest.html(mode))


def text(node) -> str:
    return " ".join(node.text_content().split())


def headline(doc) -> dict[str, tuple[str, str, str]]:
    rows = doc.xpath("//table[@id='headline']//tr[@data-metric]")
    return {r.get("data-metric"): tuple(text(r.xpath(f".//td[@class='{c}']")[0]).rstrip(" ▲▼")
                                        for c in ("today", "previous", "average")) for r in rows}


def test_sotttt_headline_compares_the_day_with_the_day_before_and_the_7_day_average(sotttt):
    assert headline(page(sotttt)) == {
        "articles": ("12", "6", "4,9"),           # 34 articles over the 7 days before
        "outlets": ("12", "5", "1,6"),
        "foreign_share": ("50,0%", "33,3%", "4,8%"),
        "languages": ("5", "3", "1,3"),
        "negative_share": ("16,7%", "16,7%", "2,4%"),
        "queue": ("3", "1", "0,1"),
    }


def test_songoaivu_counts_only_foreign_press_and_averages_shares_over_days_with_articles(songoaivu):
    assert headline(page(songoaivu)) == {
        "articles": ("6", "2", "0,3"),
        "outlets": ("6", "2", "0,3"),
        "countries": ("5", "2", "0,3"),
        "languages": ("5", "2", "0,3"),
        "negative_share": ("33,3%", "50,0%", "50,0%"),
        "queue": ("3", "1", "0,1"),
    }


def test_sections_follow_the_profile_order(sotttt, songoaivu):
    html = sotttt.html("file")
    order = [html.index(f'id="{i}"') for i in ("headline", "top-stories", "sensitive", "topics", "appendix")]
    assert order == sorted(order)
    assert 'id="breakdown-country"' not in html
    html = songoaivu.html("file")
    assert html.index('id="headline"') < html.index('id="breakdown-country"') < html.index('id="top-stories"')


def test_top_stories_rank_by_outlets_then_countries_with_original_titles_and_links(sotttt):
    doc = page(sotttt)
    stories = doc.xpath("//table[contains(@class,'story')]")
    assert [s.get("data-story") for s in stories] == ["s1a", "s2a", "s4a", "s3", "s5", "u1"]
    first = text(stories[0])
    assert "4 cơ quan báo chí" in first and "3 quốc gia" in first
    assert all(o in first for o in ("vnexpress.net", "tuoitre.vn", "reuters.com", "nikkei.com"))
    assert "Cảng biển, logistics" in first and "Tích cực" in first  # topics and tone, by name
    second = text(stories[1])
    assert "越南海防市吸引外资创新高" in second and "Tiếng Trung" in second
    links = stories[0].xpath(".//a/@href")
    assert f"{BASE_URL}/articles/s1a" in links and f"{BASE_URL}/articles/s1d" in links


def test_foreign_press_stories_are_titled_by_their_foreign_articles(songoaivu):
    stories = page(songoaivu).xpath("//table[contains(@class,'story')]")
    assert [s.get("data-story") for s in stories] == ["s2a", "s1a", "s3", "s5"]
    assert "Largest container ship calls at Vietnam's Haiphong port" in text(stories[1])
    assert "vnexpress.net" not in text(stories[1])
    # a foreign title comes with its machine translation into the digest's language, marked as such
    assert "越南海防市吸引外资创新高" in text(stories[0])
    assert "Bản dịch máy: Hải Phòng của Việt Nam thu hút vốn ngoại cao kỷ lục" in " ".join(text(stories[0]).split())
    assert "Bản dịch máy" not in text(stories[1])  # an English article without a translation


def test_sensitive_items_show_risk_reasons_and_case_state(sotttt):
    items = page(sotttt).xpath("//table[contains(@class,'flagged')]")
    assert [i.get("data-article") for i in items] == ["s3", "s5"]
    first, second = text(items[0]), text(items[1])
    assert "72/100 (cao)" in first  # alerts.i18n.format_risk, as on the web and in alerts
    assert "Chủ đề nhạy cảm «Chủ quyền lãnh thổ»" in first and "Xisha Islands" in first and "南海" in first
    assert "Tên gọi gây tranh chấp" in first
    assert "Đang soạn phản bác" in first          # case_state("s3") == "drafting", named as on the case pages
    assert "Sắc thái tiêu cực: xác suất 91" in first and "(p=" not in first
    assert "Chưa mở hồ sơ" in second and "Theo dõi quốc gia" in second and "45/100 (trung bình)" in second
    assert "watch" not in second


def test_topic_sections_count_the_day_and_the_day_before(sotttt):
    blocks = {b.get("data-topic"): text(b) for b in page(sotttt).xpath("//div[@class='topic-block']")}
    assert list(blocks) == ["investment", "port_logistics", "tourism_culture", "promotion_events", "sovereignty",
                            "rights_religion_ethnicity"]
    # the fixture day has no watch coverage: no "0 bài" block, one line naming the empty sections
    assert "0 bài trong ngày" not in text(page(sotttt))
    empty = page(sotttt).xpath("//div[@class='topics-empty']")
    assert len(empty) == 1 and "Theo dõi quốc gia" in text(empty[0])
    assert "4 bài trong ngày (hôm trước: 3)" in blocks["investment"]
    assert "2 bài trong ngày (hôm trước: 1)" in blocks["promotion_events"]  # lễ hội / festival; hội chợ
    assert "Lễ hội Hoa Phượng Đỏ 2025" in blocks["promotion_events"]
    assert "1 bài trong ngày (hôm trước: 0)" in blocks["sovereignty"]
    assert "cần theo dõi, phản bác" in blocks["sovereignty"] and "hình ảnh thành phố" in blocks["investment"]


def test_appendix_lists_every_article_of_the_local_day_grouped_by_topic(sotttt):
    groups = page(sotttt).xpath("//table[contains(@class,'appendix-group')]")
    assert [g.get("data-topic") for g in groups] == [
        "sovereignty", "investment", "port_logistics", "tourism_culture", "rights_religion_ethnicity", ""]
    titles = [text(a) for g in groups for a in g.xpath(".//a")]
    assert len(titles) == 12
    assert "Lễ hội Hoa Phượng Đỏ 2025 khai mạc tại Hải Phòng" in titles       # 00:05 local
    assert "Red Flamboyant Festival opens in Hai Phong" in titles             # 23:30 local
    assert not any("Tin sáng" in t for t in titles)                           # 00:10 the next day


def test_songoaivu_breaks_down_by_country_and_language(songoaivu):
    doc = page(songoaivu)
    countries = {r.get("data-value"): [text(td) for td in r.xpath("td")]
                 for r in doc.xpath("//table[@id='breakdown-country']//tr[@data-value]")}
    assert countries["CN"] == ["Trung Quốc", "2", "1", "0,1"]
    assert countries["US"] == ["Hoa Kỳ", "1", "1", "0,1"]
    assert set(countries) == {"CN", "GB", "JP", "KR", "US"}
    languages = {r.get("data-value"): text(r.xpath("td")[1])
                 for r in doc.xpath("//table[@id='breakdown-language']//tr[@data-value]")}
    assert languages == {"en": "2", "ja": "1", "zh": "1", "ko": "1", "vi": "1"}


def test_crawled_text_is_escaped_in_html_and_markdown(sotttt):
    html = sotttt.html("email")
    assert "<script>" not in html and "&lt;script&gt;alert(" in html
    md = sotttt.markdown()
    assert "<script>" not in md and r"\<script\>" in md


def test_charts_are_cid_images_in_mail_and_data_uris_in_files(sotttt):
    ids = [c.id for c in sotttt.charts]
    assert ids == ["volume_scope", "volume_sentiment", "topics", "languages"]
    mail = page(sotttt, "email").xpath("//img/@src")
    assert mail == [f"cid:chart-{i}@hpmon" for i in ids]
    assert all(src.startswith("data:image/png;base64,") for src in page(sotttt, "file").xpath("//img/@src"))


def test_english_digest_uses_the_english_catalogue_and_number_format(backend, profiles, taxonomy):
    digest = build(backend, profiles, taxonomy, "sotttt", lang="en")
    doc = page(digest)
    assert "Press digest on Hai Phong" in text(doc) and "24 November 2025" in text(doc)
    assert "For internal use" in text(doc) and "Lưu hành" not in text(doc)
    assert headline(doc)["foreign_share"] == ("50.0%", "33.3%", "4.8%")
    assert "Investment and economy" in text(doc) and "4 outlets" in text(doc) and "1 outlet" in text(doc)
    assert digest.subject == "Press digest on Hai Phong, 2025-11-24 — Department of Information and Communications"


def test_an_empty_day_gives_a_short_correct_digest(backend, profiles, taxonomy):
    for profile in ("sotttt", "songoaivu"):
        digest = build(backend, profiles, taxonomy, profile, day=EMPTY_DAY)
        doc = page(digest)
        body = text(doc)
        assert "Không có bài báo nào về Hải Phòng trong ngày 04/12/2025" in body
        assert headline(doc)["articles"] == ("0", "0", "0,0")
        assert headline(doc)["negative_share"] == ("—", "—", "—")
        assert not doc.xpath("//*[@id='top-stories' or @id='sensitive' or @id='topics' or @id='appendix']")
        assert len(digest.charts) == 1  # the 30-day volume: DAY's articles are in it
        assert "Không có bài báo nào" in digest.markdown()


def test_markdown_has_the_headline_table_and_every_section(sotttt):
    md = sotttt.markdown({c.id: f"{c.id}.png" for c in sotttt.charts})
    assert "| Số bài báo | **12** | 6 | 4,9 |" in md
    for heading in ("## Số liệu chính", "## Biểu đồ", "## Các câu chuyện nổi bật", "## Tin nhạy cảm",
                    "## Theo chủ đề", "## Phụ lục"):
        assert heading in md
    assert "![Số bài mỗi ngày \\(30 ngày\\): trong nước và nước ngoài](volume_scope.png)" in md
    assert f"]({BASE_URL}/articles/s1a)" in md
    assert not re.search(r"\{\{|\{%", md)


def test_without_case_store_the_queue_shows_a_dash(backend, profiles, taxonomy):
    digest = build_digest(backend, profiles["sotttt"], DAY, timezone="Asia/Ho_Chi_Minh", city=CITY,
                          base_url=BASE_URL, taxonomy=taxonomy, now=NOW)
    doc = page(digest)
    assert headline(doc)["queue"] == ("—", "—", "—")
    assert "Chưa mở hồ sơ" in text(doc.xpath("//table[@data-article='s3']")[0])


def test_hostile_urls_and_oversized_titles_are_neutralised():
    from zoneinfo import ZoneInfo

    from alerts.digest.collect import article_row
    from index.article import Article

    article = Article(id="x1", url="javascript:alert(1)", source_id="s", title="Hải Phòng " * 200, text="",
                      outlet="<b>evil</b>" * 20)
    row = article_row(article, BASE_URL + "/", ZoneInfo("Asia/Ho_Chi_Minh"))
    assert row.url is None and row.link == f"{BASE_URL}/articles/x1"
    assert len(row.title) == 300 and row.title.endswith("…") and len(row.outlet) <= 80
    assert article_row(Article(id="x2", url="https://a.vn/x", source_id="s", title="t", text=""), BASE_URL,
                       ZoneInfo("UTC")).url == "https://a.vn/x"


def test_national_watch_coverage_has_its_own_section_in_both_digests(tmp_path, profiles, taxonomy):
    from index.sqlite import SqliteBackend
    from tests.digest.conftest import day_articles, local, make

    store = SqliteBackend(tmp_path / "index.sqlite")
    watch = make("wt1", "Vietnam protests water cannon use against its fishermen near the Paracels", "reuters.com",
                 "GB", "en", "foreign", local(DAY, 17), topics=["sovereignty"], sentiment="neutral",
                 sensitive_themes=["sovereignty"], coverage="watch")
    assert not store.upsert([*day_articles(), watch]).errors
    try:
        for profile in ("sotttt", "songoaivu"):
            blocks = {b.get("data-topic"): text(b) for b in
                      page(build(store, profiles, taxonomy, profile)).xpath("//div[@class='topic-block']")}
            assert "1 bài trong ngày" in blocks["national_watch"], profile
            assert "Paracels" in blocks["national_watch"]
            assert "Lạch Huyện" not in blocks["national_watch"]  # city coverage stays out of it
    finally:
        store.close()
