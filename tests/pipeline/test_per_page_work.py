"""The per-page work of the content stages stays what issue 16 asks: each page is parsed once
for its text and its metadata, htmldate's extensive search runs only when nothing else gave a
date, and a worker builds its pipeline (models, lexicons, city profile) once, not per page."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
import trafilatura.utils

import pipeline.extract as extract
from crawlers.items import FetchedPage
from pipeline.pool import PagePool

BODY = ("<p>The harbour authority opened a new container berth on Friday, adding room for the larger ships "
        "that now call at the port every week, officials said at a ceremony attended by shipping lines.</p>"
        "<p>Volumes are expected to keep growing next year as factories in nearby industrial zones expand "
        "production for export markets, the port's director told reporters after the ceremony.</p>")


def _page(head: str = "", body_extra: str = "") -> str:
    return (f"<html lang='en'><head><meta charset='utf-8'><title>New berth opens</title>{head}</head><body>"
            f"<nav>Home | World</nav><article><h1>New berth opens</h1>{body_extra}{BODY}</article>"
            "<footer>Example News</footer></body></html>")


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """Every markup lxml parses as trafilatura calls it (the page's, or a fallback extractor's
    own output)."""
    seen: list[str] = []
    original = trafilatura.utils.fromstring

    def counting(markup, *args, **kwargs):
        seen.append(markup.decode("utf-8") if isinstance(markup, bytes) else markup)
        return original(markup, *args, **kwargs)

    monkeypatch.setattr(trafilatura.utils, "fromstring", counting)
    return seen


@pytest.fixture
def htmldate_calls(monkeypatch) -> list[tuple[type, bool]]:
    """(what htmldate was given, extensive search or not) of every htmldate call."""
    calls: list[tuple[type, bool]] = []
    original = extract.find_date

    def recording(html_or_tree, **kwargs):
        calls.append((type(html_or_tree), kwargs.get("extensive_search", True)))
        return original(html_or_tree, **kwargs)

    monkeypatch.setattr(extract, "find_date", recording)
    return calls


def test_a_page_is_parsed_once_for_text_metadata_and_date(parses, htmldate_calls):
    page = _page(body_extra="<p class='byline'>By Jane Doe</p>")
    result = extract.extract_article(page, "https://news.example/a", timezone="Asia/Ho_Chi_Minh")
    assert isinstance(result, extract.Extracted) and "container berth" in result.text
    # one parse of the page: trafilatura, the metadata, the author and htmldate share the tree
    assert [markup for markup in parses if "Example News" in markup] == [page]
    assert htmldate_calls and all(given is not str for given, _ in htmldate_calls)


def test_a_zoned_time_in_the_structured_data_needs_no_htmldate(htmldate_calls):
    head = '<meta property="article:published_time" content="2024-03-05T08:15:00+07:00">'
    result = extract.extract_article(_page(head), "https://news.example/a", timezone="Asia/Ho_Chi_Minh")
    assert result.date_source == "meta:article:published_time"
    assert htmldate_calls == []


def test_a_bare_date_gets_only_the_fast_search(htmldate_calls):
    head = '<meta property="article:published_time" content="2024-03-05">'
    result = extract.extract_article(_page(head), "https://news.example/a", timezone="Asia/Ho_Chi_Minh")
    assert result.published_local.date().isoformat() == "2024-03-05"
    assert [extensive for _, extensive in htmldate_calls] == [False]


def test_the_extensive_search_runs_only_when_no_date_was_found(htmldate_calls):
    extract.extract_article(_page(), "https://news.example/a", timezone="Asia/Ho_Chi_Minh")
    assert [extensive for _, extensive in htmldate_calls] == [False, True]
    htmldate_calls.clear()
    dated = _page(body_extra="<p>Published on 2024-03-05</p>")  # the fast search finds this one
    result = extract.extract_article(dated, "https://news.example/a", timezone="Asia/Ho_Chi_Minh")
    assert result.date_source == "htmldate"
    assert [extensive for _, extensive in htmldate_calls] == [False]


# -- a worker builds its pipeline once -----------------------------------------------------------

_BUILT = 0  # pipelines built in this process (each worker counts its own)


class _CountingPipeline:
    def draft_from_page(self, page):
        return page.url

    def analyze_content(self, draft):
        return draft, os.getpid(), _BUILT


def _counting_pipeline() -> _CountingPipeline:
    global _BUILT
    _BUILT += 1
    return _CountingPipeline()


def test_a_worker_builds_its_pipeline_once_for_all_its_pages():
    when = datetime(2026, 11, 21, tzinfo=UTC)
    pages = [FetchedPage(source_id="s", url=f"https://news.example/{n}", link_url=f"https://news.example/{n}",
                         status=200, headers={}, body=b"<html></html>", fetched_at=when) for n in range(24)]
    pool = PagePool(2, _counting_pipeline)
    try:
        results = [pool.submit(page).result(timeout=120) for page in pages]
    finally:
        pool.close()
    assert [url for url, _, _ in results] == [p.url for p in pages]
    assert {pid for _, pid, _ in results} <= set(range(1, 1 << 22)) - {os.getpid()}
    assert {built for _, _, built in results} == {1}  # every page found its worker's one pipeline
    assert _BUILT == 0  # and none was built in the calling process
