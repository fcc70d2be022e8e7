"""GDELT artlist answers: one bad article never loses the batch; escapes in titles decoded."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawlers.gdelt import clean_title, read_artlist

CONSTRUCTED = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "formats" / "constructed"


def _article(url: str, title: str) -> str:
    return (f'{{"url": "{url}", "title": "{title}", "seendate": "20240615T170000Z", "domain": "x.vn", '
            f'"language": "Vietnamese", "sourcecountry": "Vietnam"}}')


def test_an_invalid_escape_in_one_title_keeps_the_batch():
    body = ('{"articles": [' + ", ".join([
        _article("https://a.vn/1", "Hải Phòng đón tàu"),
        _article("https://a.vn/2", r"Hai Phong\'s port \x handles"),
        _article("https://a.vn/3", r"C:\\path stays \"quoted\" and \u00e1"),
    ]) + "]}").encode()
    reading = read_artlist(body)
    assert reading.error is None
    titles = [h.title for _, h in reading.articles]
    assert titles == ["Hải Phòng đón tàu", "Hai Phong's port x handles", 'C:\\path stays "quoted" and á']
    assert reading.notes and "2 invalid escape(s) repaired" in reading.notes[0]
    assert "Invalid \\escape" in reading.notes[0]


def test_an_article_beyond_repair_is_skipped_with_a_note():
    body = ('{"articles": [' + _article("https://a.vn/1", "One") + ', {"url": "https://a.vn/2", "title": "Two" "x"}, '
            + _article("https://a.vn/3", "Three") + "]}").encode()
    reading = read_artlist(body)
    assert reading.error is None
    assert [u for u, _ in reading.articles] == ["https://a.vn/1", "https://a.vn/3"]
    assert "1 beyond repair skipped" in reading.notes[0]


def test_odd_articles_are_skipped_one_by_one():
    body = b'{"articles": [{"url": 7}, "x", {"title": "no url"}, {"url": "https://a.vn/1", "seendate": "bad"}]}'
    reading = read_artlist(body)
    assert [u for u, _ in reading.articles] == ["https://a.vn/1"]
    assert len(reading.notes) == 4 and any("seendate" in n for n in reading.notes)


def test_truncated_answer_keeps_the_complete_articles():
    cut = _article("https://a.vn/2", "Two")[:40]
    body = ('{"articles": [' + _article("https://a.vn/1", "One") + ", " + cut).encode()
    reading = read_artlist(body)
    assert [u for u, _ in reading.articles] == ["https://a.vn/1"]


def test_plain_text_answers_are_errors_with_their_text():
    reading = read_artlist(b"One or more of your keywords were too short, too long or too common: (x)")
    assert reading.error == "gdelt_error" and reading.detail.startswith("One or more of your keywords")
    reading = read_artlist(b"Please limit requests to one every 5 seconds or contact us.")
    assert reading.error == "gdelt_rate_limited"
    reading = read_artlist(b'{"articles": [')
    assert reading.error == "gdelt_error" and reading.detail.startswith("not valid JSON")
    assert read_artlist(b"{}").articles == [] and read_artlist(b"").error is None


@pytest.mark.parametrize("raw,clean", [
    ("Hai Phong&#39;s port &amp; city", "Hai Phong's port & city"),
    ("&amp;quot;Quoted&amp;quot;", '"Quoted"'),
    ("H\\u1ea3i Ph\\u00f2ng", "Hải Phòng"),
    ("  two\n lines ", "two lines"),
    ("", None), (None, None), (5, None),
])
def test_clean_title(raw, clean):
    assert clean_title(raw) == clean


@pytest.mark.skipif(not CONSTRUCTED.is_dir(), reason="../shared/benchmarks/formats/constructed absent")
def test_constructed_answers():
    reading = read_artlist((CONSTRUCTED / "gdelt__invalid-escape-in-title.json").read_bytes())
    assert reading.error is None and len(reading.articles) == 3
    assert all("\\" not in (h.title or "") for _, h in reading.articles)
    limited = read_artlist((CONSTRUCTED / "gdelt__plaintext-429-rate-limit.txt").read_bytes())
    assert limited.error == "gdelt_rate_limited"
    assert read_artlist((CONSTRUCTED / "gdelt__empty-no-match.json").read_bytes()).articles == []
