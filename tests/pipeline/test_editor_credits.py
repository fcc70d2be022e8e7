"""Editors are not authors (issue 19): Chinese ``责任编辑：X`` / ``（责编：X）`` / ``编辑：X`` lines,
Vietnamese ``Biên tập: X``, English ``Edited by X``; they are kept apart as ``Extracted.editors``.
And a bare page date meets a time of day on the same day in the source's zone. Small pages written
for these tests."""

from __future__ import annotations

import pytest

from pipeline.extract import Extracted, extract_article, split_authors, split_credits

BODY = ("<p>The port of Hai Phong received its largest container ship yet at the Lach Huyen terminal this "
        "morning, opening a direct route to the west coast of the United States, the city said.</p>") * 3
CJK_BODY = "<p>海防港今天迎来了有史以来最大的集装箱船，这条航线直达美国西海岸，市政府表示这是一个重要的里程碑。</p>" * 3


def extract(html: str, url: str = "https://news.example.com/a/1.html", timezone: str = "UTC") -> Extracted:
    result = extract_article(html, url, timezone=timezone)
    assert isinstance(result, Extracted), result
    return result


@pytest.mark.parametrize("line,authors,editors", [
    ("责任编辑：李华", [], ["李华"]),
    ("（责编：张三、李四）", [], ["张三", "李四"]),
    ("编辑：陈明 审核：刘强", [], ["陈明", "刘强"]),
    ("作者：王五 责任编辑：赵六", ["王五"], ["赵六"]),
    ("（记者 张三）（责编：李四）", ["张三"], ["李四"]),
    ("Biên tập: Trần Thị Bình", [], ["Trần Thị Bình"]),
    ("Biên tập Nguyễn Văn An", [], ["Nguyễn Văn An"]),  # trafilatura's by-line search drops the colon
    ("BTV: Lê Hoa", [], ["Lê Hoa"]),
    ("By John Roe; Editor: Jane Doe", ["John Roe"], ["Jane Doe"]),
    ("Edited by Jane Doe", [], ["Jane Doe"]),
    ("Tác giả: Nguyễn Văn An", ["Nguyễn Văn An"], []),
    ("Jane Doe (jd)", ["Jane Doe"], []),
])
def test_credit_lines_split_into_authors_and_editors(line, authors, editors):
    assert split_credits(line) == (authors, editors)
    assert split_authors(line) == authors


def test_editor_in_an_author_meta_tag_is_not_an_author():
    html = (f'<html><head><title>港口迎来最大集装箱船</title><meta name="author" content="责任编辑：李华"></head>'
            f"<body><article><h1>港口迎来最大集装箱船</h1>{CJK_BODY}</article></body></html>")
    result = extract(html)
    assert result.authors == []
    assert result.editors == ["李华"]


def test_editor_line_found_in_the_body_is_not_an_author():
    html = (f"<html><head><title>港口迎来最大集装箱船</title></head><body><article><h1>港口迎来最大集装箱船</h1>"
            f'{CJK_BODY}<p class="author">（责编：张三、李四）</p></article></body></html>')
    result = extract(html)
    assert result.authors == []
    assert result.editors == ["张三", "李四"]


def test_vietnamese_signoff_naming_the_editor_is_not_an_author():
    html = ("<html><head><title>Cảng đón tàu lớn nhất</title></head><body><article><h1>Cảng đón tàu lớn nhất</h1>"
            f'{BODY}<p style="text-align: right"><strong>Biên tập: Trần Thị Bình</strong></p></article></body></html>')
    result = extract(html, "https://baomoi.example.vn/cang-don-tau.html")
    assert result.authors == []
    assert result.editors == ["Trần Thị Bình"]


def test_author_and_editor_in_one_field():
    html = (f'<html><head><title>港口迎来最大集装箱船</title><meta name="author" content="作者：王五 责任编辑：赵六">'
            f"</head><body><article><h1>港口迎来最大集装箱船</h1>{CJK_BODY}</article></body></html>")
    result = extract(html)
    assert result.authors == ["王五"]
    assert result.editors == ["赵六"]


# --- a bare date and a time of day ---------------------------------------------------------------


def test_a_time_of_day_on_the_pages_day_in_the_source_zone_refines_a_bare_date():
    """The page's structured date is 21 November (midnight in Hanoi); the page's <time> says
    20:00 UTC on the 20th, which is 03:00 on the 21st in Hanoi: the same day there."""
    html = ("<html><head><title>Port news</title></head><body><article><h1>Port news</h1>"
            '<span itemprop="datePublished" content="2026-11-21"></span>'
            f'<time class="entry-date published" datetime="2026-11-20T20:00:00+00:00">20 Nov</time>{BODY}'
            "</article></body></html>")
    result = extract(html, "https://news.example.vn/a.html", timezone="Asia/Ho_Chi_Minh")
    assert result.published_has_time
    assert result.published_at.isoformat() == "2026-11-20T20:00:00+00:00"
