"""Titles by cause of failure (issue 19): site names before or after a separator, section names,
entities and whitespace, shortened Open Graph titles, and the Chinese ``_site`` / ``--section--``
suffixes. Small pages written for these tests; no benchmark page or publisher is named."""

from __future__ import annotations

import pytest

from pipeline.extract import Extracted, clean_title, extract_article

BODY = ("<p>The port of Hai Phong received its largest container ship yet at the Lach Huyen terminal this "
        "morning, opening a direct route to the west coast of the United States, the city said.</p>") * 3
CJK_BODY = "<p>海防港今天迎来了有史以来最大的集装箱船，这条航线直达美国西海岸，市政府表示这是一个重要的里程碑。</p>" * 3


def page(head: str = "", title: str = "", h1: str = "", body: str = BODY) -> str:
    heading = f"<h1>{h1}</h1>" if h1 else ""
    return (f'<html><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
            f"<body><article>{heading}{body}</article></body></html>")


def title_of(html: str, url: str = "https://harbourtimes.example.com/news/port-ship") -> str:
    result = extract_article(html, url, timezone="UTC")
    assert isinstance(result, Extracted), result
    return result.title


# --- the site's name kept -----------------------------------------------------------------------


def test_site_name_prefix_is_dropped():
    assert title_of(page(title="Harbour Times - Port welcomes largest ship")) == "Port welcomes largest ship"


def test_site_name_suffix_in_og_title_is_dropped_by_the_host_name():
    head = '<meta property="og:title" content="Port welcomes largest ship | Harbour Times">'
    assert title_of(page(head, title="Port")) == "Port welcomes largest ship"


@pytest.mark.parametrize("title", ["港口迎来最大集装箱船_海港日报", "港口迎来最大集装箱船_国际_海港日报"])
def test_chinese_underscore_site_suffix_is_dropped(title):
    head = '<meta property="og:site_name" content="海港日报">'
    assert title_of(page(head, title=title, body=CJK_BODY), "https://haigang.example.cn/a/1.html") \
        .startswith("港口迎来最大集装箱船")
    assert "海港日报" not in title_of(page(head, title=title, body=CJK_BODY), "https://haigang.example.cn/a/1.html")


def test_chinese_double_hyphen_site_suffix_is_dropped():
    assert clean_title("港口迎来最大集装箱船--时政--海港网", {"海港网"}) == "港口迎来最大集装箱船--时政"


def test_underscore_in_a_latin_title_is_not_a_separator():
    assert clean_title("snake_case tips for Harbour Times readers", {"harbourtimes"}) == \
        "snake_case tips for Harbour Times readers"


# --- section or kicker glued on -------------------------------------------------------------------


def test_section_before_the_headline_goes_when_the_heading_confirms_it():
    html = page(title="World | Port welcomes largest ship | Harbour Times", h1="Port welcomes largest ship")
    assert title_of(html) == "Port welcomes largest ship"


def test_a_kicker_in_the_metadata_title_stays():
    head = '<meta property="og:title" content="Exclusive: Port welcomes largest ship">'
    assert title_of(page(head, h1="Port welcomes largest ship")) == "Exclusive: Port welcomes largest ship"


# --- normalisation ---------------------------------------------------------------------------------


def test_double_escaped_entities_are_decoded():
    head = '<meta property="og:title" content="Port&amp;#39;s largest ship &amp;amp; its crew">'
    assert title_of(page(head)) == "Port's largest ship & its crew"


def test_whitespace_and_no_break_spaces_collapse():
    assert title_of(page(title="Port\n   welcomes&nbsp;largest\tship")) == "Port welcomes largest ship"


def test_invisible_characters_are_removed():
    assert title_of(page(title="Port wel\u00adcomes largest\u200b ship")) == "Port welcomes largest ship"


# --- a shortened Open Graph title --------------------------------------------------------------------


def test_a_shortened_og_title_gives_way_to_the_full_heading():
    head = '<meta property="og:title" content="Port welcomes largest container ship…">'
    html = page(head, title="Port", h1="Port welcomes largest container ship yet at Lach Huyen")
    assert title_of(html) == "Port welcomes largest container ship yet at Lach Huyen"
