"""Fixtures of the rebuttal-queue tests: a case store on a real SQLite file, articles, a WARC."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.warc import WarcArchive
from index.article import Article, article_id
from records.cases import CaseStore
from records.library import LibraryStore

SOVEREIGNTY_VI_HTML = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Tàu Trung Quốc hoạt động trái phép ở quần đảo Hoàng Sa</title></head>
<body><article><h1>Tàu Trung Quốc hoạt động trái phép ở quần đảo Hoàng Sa</h1>
<p>Một tàu khảo sát của Trung Quốc cùng tàu hải cảnh hộ tống đã hoạt động nhiều ngày trong vùng biển thuộc
quần đảo Hoàng Sa của Việt Nam. Báo chí nước ngoài gọi khu vực này là "thành phố Tam Sa" và khẳng định
"đường chín đoạn" là căn cứ pháp lý.</p>
<p>Bài viết cho rằng ngư dân Hải Phòng đánh bắt trái phép ở vùng biển này, trích dẫn các số liệu không rõ
nguồn gốc về tàu cá và cảng cá của thành phố.</p>
</article></body></html>"""


def make_article(url: str, *, title: str = "Bài báo", text: str = "Nội dung bài báo.", story_id: str | None = None,
                 risk: float | None = 0.6, language: str = "vi", outlet: str = "Báo Biển",
                 warc: tuple[str, int] | None = None) -> Article:
    """An indexed article as the pipeline would hand it over."""
    aid = article_id(url)
    return Article(
        id=aid, url=url, source_id="test", title=title, text=text, language=language, outlet=outlet,
        published_at=datetime(2026, 11, 14, 12, 5, tzinfo=UTC), fetched_at=datetime(2026, 11, 14, 13, 0, tzinfo=UTC),
        story_id=story_id or aid, risk_score=risk,
        reasons={"risk": {"score": risk, "reasons": [{"kind": "theme:sovereignty", "evidence": '"Hoàng Sa"',
                                                        "weight": 0.5}]}},
        warc_file=warc[0] if warc else None, warc_offset=warc[1] if warc else None,
    )


@pytest.fixture
def store(tmp_path: Path):
    s = CaseStore(tmp_path / "hpmon.sqlite")
    yield s
    s.close()


@pytest.fixture
def library(tmp_path: Path):
    s = LibraryStore(tmp_path / "hpmon.sqlite")
    yield s
    s.close()


@pytest.fixture
def warc_dir(tmp_path: Path) -> Path:
    return tmp_path / "warc"


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    return tmp_path / "evidence"


def archive_page(warc_dir: Path, url: str, body: bytes, *, fetched_at: datetime | None = None,
                 content_type: str = "text/html; charset=utf-8") -> tuple[str, int]:
    """Write one response to a real WARC file, as the crawler does; returns (file, offset)."""
    archive = WarcArchive(warc_dir)
    try:
        return archive.write_response(url, 200, "OK", [("Content-Type", content_type), ("Server", "test")], body,
                                      fetched_at or datetime(2026, 11, 14, 13, 0, tzinfo=UTC))
    finally:
        archive.close()
