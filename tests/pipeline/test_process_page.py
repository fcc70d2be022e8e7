"""From a fetched page to an indexed article: the publication time (the page's metadata gives
the time of day, which trafilatura drops; a feed's timestamp refines a bare date), so a syndicated
copy is told from its original whichever is crawled first; and a page typed in a legacy
Vietnamese font encoding is converted, and says so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawlers.items import FetchedPage, LinkHints
from index.sqlite import SqliteBackend
from pipeline.city import load_profile
from pipeline.extract import page_published_time
from pipeline.process import Indexed, Pipeline

REPO = Path(__file__).resolve().parents[2]
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
BODY = ("<p>Cảng Lạch Huyện của thành phố Hải Phòng hôm nay đón tàu mẹ 20.000 TEU đầu tiên, mở tuyến vận tải "
        "thẳng sang bờ Tây nước Mỹ. Lãnh đạo thành phố Hải Phòng cho biết tuyến mới giúp doanh nghiệp giảm "
        "chi phí logistics và thời gian vận chuyển hàng hóa.</p>") * 3


def _page(meta: str, title: str = "Cảng Lạch Huyện đón tàu mẹ 20.000 TEU đầu tiên") -> str:
    return (f'<html lang="vi"><head><meta charset="utf-8"><title>{title}</title>{meta}</head>'
            f"<body><article><h1>{title}</h1>{BODY}</article></body></html>")


def test_the_time_of_day_comes_from_the_page_metadata():
    og = _page('<meta content="2026-11-20T11:02:00+07:00" property="article:published_time">')
    assert page_published_time(og, HCM) == datetime(2026, 11, 20, 4, 2, tzinfo=UTC)
    json_ld = _page('<script type="application/ld+json">{"@type": "NewsArticle", '
                    '"datePublished": "2026-11-20T08:15:00+07:00", "headline": "x"}</script>')
    assert page_published_time(json_ld, HCM) == datetime(2026, 11, 20, 1, 15, tzinfo=UTC)
    local = _page('<meta name="pubdate" content="2026-11-20 08:15">')  # no zone: the city's time
    assert page_published_time(local, HCM) == datetime(2026, 11, 20, 1, 15, tzinfo=UTC)
    assert page_published_time(_page('<meta property="article:published_time" content="2026-11-20">'), HCM) is None
    assert page_published_time(_page('<meta property="article:modified_time" content="2026-11-21T09:00:00Z">'),
                               HCM) is None


@pytest.fixture
def pipeline(tmp_path):
    backend = SqliteBackend(tmp_path / "index.sqlite")
    yield Pipeline(city=load_profile(REPO / "config" / "cities" / "haiphong.yaml"), backend=backend)
    backend.close()


def _fetched(url: str, html: str, hints: LinkHints) -> FetchedPage:
    return FetchedPage(source_id="gdelt", url=url, link_url=url, status=200,
                       headers={"content-type": "text/html; charset=utf-8"}, body=html.encode(),
                       fetched_at=datetime(2026, 11, 21, tzinfo=UTC), hints=hints)


ORIGINAL = ("https://baocangbien.vn/lach-huyen.html", '<meta property="article:published_time" '
            'content="2026-11-20T08:15:00+07:00">')
COPY = ("https://tinduyenhai.vn/lach-huyen-copy.html", '<meta property="article:published_time" '
        'content="2026-11-20T11:02:00+07:00">')


@pytest.mark.parametrize("order", [(ORIGINAL, COPY), (COPY, ORIGINAL)], ids=["original first", "copy first"])
def test_a_copy_is_told_from_its_original_in_either_order(pipeline, order):
    day_only = LinkHints(published=datetime(2026, 11, 20, tzinfo=UTC))  # a listing that only knows the day
    outcomes = {url: pipeline.process_page(_fetched(url, _page(meta), day_only)) for url, meta in order}
    assert all(isinstance(o, Indexed) for o in outcomes.values())
    original, copy = pipeline.backend.get(outcomes[ORIGINAL[0]].article.id), \
        pipeline.backend.get(outcomes[COPY[0]].article.id)
    assert original.published_at == datetime(2026, 11, 20, 1, 15, tzinfo=UTC)
    assert copy.duplicate_of == original.id and original.duplicate_of is None


def test_a_feed_timestamp_refines_a_page_that_gives_only_the_date(pipeline):
    feed = LinkHints(published=datetime(2026, 11, 20, 2, 30, tzinfo=UTC))  # 09:30 in Hải Phòng
    dated = _page('<meta property="article:published_time" content="2026-11-20">')
    outcome = pipeline.process_page(_fetched("https://baocangbien.vn/a.html", dated, feed))
    assert outcome.article.published_at == feed.published
    timed = _page('<meta property="article:published_time" content="2026-11-20T08:15:00+07:00">')
    outcome = pipeline.process_page(_fetched("https://baocangbien.vn/b.html", timed, feed))
    assert outcome.article.published_at == datetime(2026, 11, 20, 1, 15, tzinfo=UTC)  # the page's own time wins


def test_an_article_converted_from_a_legacy_font_encoding_says_so(pipeline):
    from tests.pipeline.test_legacy_vietnamese import ENCODERS

    html = _page("", title="Cảng Hải Phòng đón tàu lớn nhất").replace('charset="utf-8"', 'charset="windows-1252"')
    outcome = pipeline.process_page(FetchedPage(
        source_id="old-site", url="https://old.example.vn/a.htm", link_url="https://old.example.vn/a.htm", status=200,
        headers={"content-type": "text/html; charset=windows-1252"}, body=ENCODERS["tcvn3"](html),
        fetched_at=datetime(2026, 11, 21, tzinfo=UTC)))
    assert isinstance(outcome, Indexed)
    assert "Hải Phòng" in outcome.article.title and "Lạch Huyện" in outcome.article.text
    assert outcome.article.reasons["decoding"] == {"converted_from": "tcvn3"}
