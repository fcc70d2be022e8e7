"""Client-rendered pages: the article's text is taken from the page's script data when the markup
holds none (small pages written for these tests)."""

from __future__ import annotations

import json

from pipeline.extract import Extracted, extract_article
from pipeline.outcome import Dropped

URL = "https://harbourtimes.example.com/news/port-ship"
HEADLINE = "Hai Phong port welcomes its largest container ship"
PARAGRAPHS = [
    "The port of Hai Phong received its largest container ship yet at the Lach Huyen terminal this morning.",
    "The ship opens a direct route to the west coast of the United States, the city's transport office said.",
    "Dock workers unloaded the first containers within an hour of berthing, the terminal operator reported.",
]
OTHER = "Rain expected over the northern provinces this weekend, forecasters say in their bulletin. " * 4


def shell(script: str, head: str = "") -> str:
    """A page whose body is only a mount point for its scripts."""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{HEADLINE} | Harbour Times</title>'
            f'<meta property="og:title" content="{HEADLINE}">{head}</head>'
            f'<body><div id="root"></div><script>{script}</script></body></html>')


def state(article_title: str) -> str:
    data = {"queries": [{"state": {"data": {"detail": {
        "title": article_title, "section": "Economy",
        "contentHtml": "".join(f"<p>{p}</p>" for p in PARAGRAPHS),
    }}}}], "related": [{"title": "Rain over the north", "summary": OTHER}]}
    return f'window["__STATE__"] = window["__STATE__"] || []; window["__STATE__"].push({json.dumps(data)});'


def test_the_article_in_the_script_data_of_a_client_rendered_page():
    result = extract_article(shell(state(HEADLINE)), URL, timezone="UTC")
    assert isinstance(result, Extracted), result
    assert result.title == HEADLINE
    for paragraph in PARAGRAPHS:
        assert paragraph in result.text
    assert "Rain expected" not in result.text


def test_script_data_that_names_another_headline_is_not_the_article():
    result = extract_article(shell(state("Rain over the north")), URL, timezone="UTC")
    assert isinstance(result, Dropped) and result.reason == "no_text", result


def test_the_json_ld_article_body_when_the_markup_has_none():
    ld = json.dumps({"@type": "NewsArticle", "headline": HEADLINE, "articleBody": " ".join(PARAGRAPHS)})
    html = shell("", head=f'<script type="application/ld+json">{ld}</script>')
    result = extract_article(html, URL, timezone="UTC")
    assert isinstance(result, Extracted), result
    assert PARAGRAPHS[1] in result.text


def test_a_json_string_of_a_state_object_is_read_too():
    data = json.dumps({"article": {"headline": HEADLINE, "body": " ".join(PARAGRAPHS)}})
    result = extract_article(shell(f"window.__DATA__ = JSON.parse({json.dumps(data)});"), URL, timezone="UTC")
    assert isinstance(result, Extracted), result
    assert PARAGRAPHS[2] in result.text


def test_hostile_script_data_does_not_stop_the_page():
    deep = "[" * 20_000 + "]" * 20_000
    html = shell(f"window.__STATE__ = {deep};", head=f'<script type="application/ld+json">{deep}</script>')
    result = extract_article(html, URL, timezone="UTC")
    assert isinstance(result, Dropped) and result.reason == "no_text", result
    # the same page with its article beside the junk is read
    html = shell(f"window.__JUNK__ = {deep}; " + state(HEADLINE))
    result = extract_article(html, URL, timezone="UTC")
    assert isinstance(result, Extracted), result
    assert PARAGRAPHS[0] in result.text


def test_script_data_in_an_unspaced_script_is_prose():
    thai = "ท่าเรือไฮฟองต้อนรับเรือคอนเทนเนอร์ลำใหญ่ที่สุดเป็นครั้งแรกที่ท่าเทียบเรือลัคเฮวียนเมื่อเช้านี้" * 4
    data = json.dumps({"article": {"title": HEADLINE, "content": f"<p>{thai}</p>",
                                   "image": "https://img.example.com/" + "a1b2c3" * 60}})
    result = extract_article(shell(f"window.__DATA__ = {data};"), URL, timezone="UTC")
    assert isinstance(result, Extracted), result
    assert thai[:40] in result.text
