"""Script-aware length floors: a short but complete Chinese, Japanese, Korean or Thai brief is an
article (a CJK character carries two to three times what a Latin one does; Thai has no spaces),
while Latin boilerplate of the same length is still not."""

from __future__ import annotations

import pytest

from pipeline.extract import Extracted, extract_article, text_units
from pipeline.outcome import Dropped

# Three-sentence briefs written for these tests (not copied from any site).
BRIEFS = {
    "zh": ("海防港迎来最大集装箱船", ["海防港今天迎来有史以来最大的集装箱船。",
                                    "该船长三百米，可装载一万两千个标准箱。", "市领导表示，港口将继续扩建码头。"]),
    "ja": ("ハイフォン港に大型船", ["ハイフォン港に過去最大のコンテナ船が入港した。",
                                 "船の全長は三百メートルに達する。", "市は港の拡張を続ける方針だ。"]),
    "ko": ("하이퐁항 초대형 선박", ["하이퐁항에 역대 최대 컨테이너선이 입항했다.", "선박 길이는 300미터에 달한다.",
                                  "시는 항만 확장을 계속할 계획이다."]),
    "th": ("ท่าเรือไฮฟอง", ["ไฮฟองรับเรือลำใหญ่ที่สุด", "เรือยาวสามร้อยเมตร", "เมืองจะขยายท่าเรือ"]),
}


def _page(lang: str, title: str, paragraphs: list[str], pad: str = "") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body>{pad}<article><h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs)
            + "</article></body></html>")


@pytest.mark.parametrize("lang", sorted(BRIEFS))
def test_short_cjk_and_thai_briefs_are_articles(lang):
    title, paragraphs = BRIEFS[lang]
    result = extract_article(_page(lang, title, paragraphs), f"https://news.example/{lang}/1.html")
    assert isinstance(result, Extracted), result
    assert paragraphs[-1].rstrip("。.") in result.text
    # fewer characters than the default floor of 80: a character count dropped them as no_text
    assert len(result.text) < 80 <= text_units(result.text)


def test_latin_boilerplate_of_the_same_length_is_still_dropped():
    title, paragraphs = BRIEFS["zh"]
    brief = extract_article(_page("zh", title, paragraphs), "https://news.example/zh/1.html")
    assert isinstance(brief, Extracted)
    chars, nbytes = len(brief.text), len(brief.text.encode())
    notice = "Subscribe to our newsletter. We use cookies. Accept all. Privacy policy. Terms."
    boilerplate = (notice * 4)[:chars]
    assert text_units(boilerplate) == chars < 80
    result = extract_article(_page("en", "Home", [boilerplate]), "https://news.example/en/1.html")
    assert isinstance(result, Dropped) and result.reason == "no_text", result
    # the same number of UTF-8 bytes in Vietnamese or Russian is not worth more: bytes are not units
    for letters in ("Đăng ký nhận bản tin. Chúng tôi dùng cookie. Đồng ý. Chính sách. ",
                    "Подпишитесь на рассылку. Мы используем cookie. Принять. Правила. "):
        text = ""
        while len((text + letters).encode()) <= nbytes:
            text += letters
        assert len(text.encode()) > nbytes - len(letters.encode()) and text_units(text) == len(text)
    short = "Đăng ký nhận bản tin. Chúng tôi dùng cookie."  # 44 characters, 58 bytes
    assert isinstance(extract_article(_page("vi", "Home", [short]), "https://news.example/x/1.html"), Dropped)


def test_text_units_weights():
    assert text_units("") == 0
    assert text_units("Hai Phong port") == 14
    assert text_units("Cảng Hải Phòng") == len("Cảng Hải Phòng")  # Vietnamese: one per character
    assert text_units("Порт Хайфон") == 11
    assert text_units("海防港") == 9  # Han: three
    assert text_units("하이퐁") == 7  # Hangul: two and a half
    assert text_units("ハイフォン") == 10  # kana: two
    assert text_units("ไฮฟอง") == 6  # Thai: 1.2 (no spaces between words)
    assert text_units("海防港。") == 10  # CJK punctuation: one


def test_the_floor_is_in_text_units_and_says_so():
    title, paragraphs = BRIEFS["zh"]
    result = extract_article(_page("zh", title, paragraphs), "https://news.example/zh/1.html", min_chars=1000)
    assert isinstance(result, Dropped) and result.reason == "no_text"
    assert "text units" in result.detail


def test_the_pipeline_indexes_a_short_chinese_brief_with_a_stray_nul(tmp_path):
    """End to end (issue #19): a three-paragraph Chinese brief of about 60 characters, with one
    NUL byte in its title, was dropped first as ``binary``, then as ``no_text``."""
    from datetime import UTC, datetime
    from pathlib import Path

    from crawlers.items import FetchedPage
    from index.sqlite import SqliteBackend
    from pipeline.city import load_profile
    from pipeline.process import Indexed, Pipeline

    repo = Path(__file__).resolve().parents[2]
    title, paragraphs = BRIEFS["zh"]
    html = _page("zh", title.replace("最大", "\x00最大"), paragraphs)
    url = "https://news.example.cn/haifang/1.htm"
    page = FetchedPage(source_id="x", url=url, link_url=url, status=200,
                       headers={"content-type": "text/html; charset=utf-8"}, body=html.encode(),
                       fetched_at=datetime(2026, 11, 21, tzinfo=UTC))
    backend = SqliteBackend(tmp_path / "index.sqlite")
    try:
        pipeline = Pipeline(city=load_profile(repo / "config" / "cities" / "haiphong.yaml"), backend=backend,
                            min_text_chars=80)
        outcome = pipeline.process_page(page)
    finally:
        backend.close()
    assert isinstance(outcome, Indexed), outcome
    assert outcome.article.title == title and "\x00" not in outcome.article.text
