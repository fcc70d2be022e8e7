"""The WARC archive is fit for replay: a ``warcinfo`` record first, then each response with the
request that fetched it (linked by WARC-Concurrent-To), valid for ``warcio check``; records are
fsynced in groups, and an article is never indexed before its record is durable."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawlers.warc import WarcArchive

REPO = Path(__file__).resolve().parents[2]
WHEN = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
UA = "hpmon-test/1.0 (+https://example.org/bot)"
CITY_PAGE = ("<html lang='vi'><head><meta charset='utf-8'><title>Cảng Lạch Huyện đón tàu mẹ</title></head><body>"
             "<article><h1>Cảng Lạch Huyện đón tàu mẹ</h1>" + "<p>Cảng Lạch Huyện của thành phố Hải Phòng hôm nay "
             "đón tàu mẹ 20.000 TEU đầu tiên, mở tuyến vận tải thẳng sang bờ Tây nước Mỹ. Lãnh đạo thành phố "
             "Hải Phòng cho biết tuyến mới giúp doanh nghiệp giảm chi phí logistics.</p>" * 3
             + "</article></body></html>")
OTHER_PAGE = ("<html lang='en'><head><title>Rain in Lisbon</title></head><body><article><h1>Rain in Lisbon</h1>"
              + "<p>Lisbon had its wettest November day in a decade, the weather office said on Friday, and "
              "the city's trams ran late all afternoon.</p>" * 3 + "</article></body></html>")


def _write(archive: WarcArchive, n: int, *, with_request: bool = True) -> list[tuple[str, int]]:
    return [archive.write_response(f"http://news.example/a/{i}?page=2", 200, "OK",
                                   [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")],
                                   f"<html><body>article {i}</body></html>".encode(), WHEN,
                                   request_method="GET" if with_request else None,
                                   request_headers=[("User-Agent", UA), ("Accept", "text/html")])
            for i in range(n)]


def _records(path: Path) -> list:
    out = []
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh):
            out.append((record.rec_type, record.rec_headers, record.http_headers, record.content_stream().read()))
    return out


def test_an_archive_starts_with_warcinfo_then_holds_response_and_request_pairs(tmp_path):
    archive = WarcArchive(tmp_path, is_part_of="hpmon crawl run 7")
    positions = _write(archive, 3)
    archive.close()
    records = _records(archive.path)
    kind, headers, _, body = records[0]
    assert kind == "warcinfo" and headers.get_header("WARC-Filename") == archive.path.name
    fields = dict(line.split(": ", 1) for line in body.decode().strip().splitlines())
    assert fields["software"].startswith("hpmon/") and fields["hostname"]
    assert fields["format"].startswith("WARC File Format 1.") and fields["isPartOf"] == "hpmon crawl run 7"
    assert [r[0] for r in records[1:]] == ["response", "request"] * 3
    for i, (response, request) in enumerate(zip(records[1::2], records[2::2], strict=True)):
        url = f"http://news.example/a/{i}?page=2"
        assert response[1].get_header("WARC-Target-URI") == request[1].get_header("WARC-Target-URI") == url
        assert request[1].get_header("WARC-Concurrent-To") == response[1].get_header("WARC-Record-ID")
        assert request[1].get_header("WARC-Date") == response[1].get_header("WARC-Date") == "2026-11-21T03:00:00Z"
        assert request[2].protocol == "GET" and request[2].statusline == f"/a/{i}?page=2 HTTP/1.1"
        assert request[2].get_header("Host") == "news.example" and request[2].get_header("User-Agent") == UA
        # the body is stored decoded: the transfer headers describe it as it is stored
        assert response[2].get_header("Content-Encoding") is None
        assert response[3] == f"<html><body>article {i}</body></html>".encode()
    # each returned offset is the response record's, so evidence finds the page, not the request
    for i, (name, offset) in enumerate(positions):
        assert name == archive.path.name
        with archive.path.open("rb") as fh:
            fh.seek(offset)
            record = next(ArchiveIterator(fh))
            assert record.rec_type == "response" and record.content_stream().read().endswith(b"%d</body></html>" % i)


def test_warcio_check_passes_on_an_archive_and_fails_on_a_damaged_one(tmp_path):
    archive = WarcArchive(tmp_path / "good")
    _write(archive, 4)
    archive.close()
    cli = [sys.executable, "-c", "import sys; from warcio.cli import main; sys.exit(main())"]
    good = subprocess.run([*cli, "check", "-v", str(archive.path)], capture_output=True, text=True, timeout=60)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.count("digest pass") == 1 + 4 * 2 and "fail" not in good.stdout

    # the same archive uncompressed, one byte of a page changed: the digests no longer match
    import gzip

    raw = gzip.decompress(archive.path.read_bytes()).replace(b"article 2", b"article X")
    damaged = tmp_path / "damaged.warc"
    damaged.write_bytes(raw)
    bad = subprocess.run([*cli, "check", str(damaged)], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "digest failed" in bad.stdout


def test_an_archive_appended_to_keeps_one_warcinfo(tmp_path):
    first = WarcArchive(tmp_path)
    _write(first, 1)
    first.close()
    again = WarcArchive(tmp_path)
    again.path = first.path  # same second, same process: the same file name
    _write(again, 1)
    again.close()
    assert [r[0] for r in _records(first.path)] == ["warcinfo", "response", "request", "response", "request"]


def test_records_are_fsynced_in_groups_and_sync_makes_them_durable(tmp_path):
    archive = WarcArchive(tmp_path, sync_every=4, sync_seconds=3600)
    _write(archive, 1)
    assert archive.syncs == 1 and archive.pending == 2  # the warcinfo (and the new file's name) only
    _write(archive, 1)
    assert archive.syncs == 2 and archive.pending == 0  # the group of 4 records is full
    _, offset = _write(archive, 1)[0]
    assert archive.pending == 2
    # not fsynced yet, but already readable by another reader (the evidence freezer, the web app)
    with archive.path.open("rb") as fh:
        fh.seek(offset)
        assert next(ArchiveIterator(fh)).rec_type == "response"
    archive.sync()
    assert archive.syncs == 3 and archive.pending == 0
    archive.sync()  # nothing new: no fsync
    assert archive.syncs == 3
    archive.close()


def test_a_group_is_also_fsynced_when_its_time_is_up_and_by_default_each_record_is(tmp_path):
    timed = WarcArchive(tmp_path / "timed", sync_every=1000, sync_seconds=0.0)
    _write(timed, 3)
    assert timed.pending == 0 and timed.syncs == 1 + 3
    timed.close()
    default = WarcArchive(tmp_path / "default")
    _write(default, 3, with_request=False)
    assert default.pending == 0 and default.syncs == 1 + 3
    default.close()


def _spider(tmp_path, archive):
    from scrapy.utils.test import get_crawler

    from crawlers.sources import Source
    from crawlers.spider import SourcesSpider
    from crawlers.state import CrawlState

    source = Source(id="bcb", name="Báo Cảng biển", kind="pages", urls=("http://news.example/a",),
                    language="vi", country="VN", scope="domestic")
    crawler = get_crawler(SourcesSpider)
    spider = SourcesSpider.from_crawler(crawler, sources=[source], state=CrawlState(tmp_path / "crawl.sqlite"),
                                        archive=archive, search_names={})
    crawler.stats.open_spider()
    crawler.spider = spider
    return crawler, spider


def _response(url: str, html: str):
    from scrapy.http import HtmlResponse, Request

    request = Request(url, headers={"User-Agent": UA, "Accept-Language": "vi,en"},
                      meta={"source_id": "bcb", "link": url})
    return HtmlResponse(url, body=html.encode(), encoding="utf-8", request=request,
                        headers={"Content-Type": "text/html; charset=utf-8"})


def test_the_spider_archives_each_page_with_the_request_that_fetched_it(tmp_path):
    archive = WarcArchive(tmp_path / "warc")
    _, spider = _spider(tmp_path, archive)
    [page] = list(spider.parse_article(_response("http://news.example/a/lach-huyen", CITY_PAGE)))
    archive.close()
    records = _records(archive.path)
    assert [r[0] for r in records] == ["warcinfo", "response", "request"]
    request = records[2]
    assert request[2].get_header("User-Agent") == UA and request[2].get_header("Accept-Language") == "vi,en"
    assert request[1].get_header("WARC-Concurrent-To") == records[1][1].get_header("WARC-Record-ID")
    assert page.warc_file == archive.path.name and page.warc_offset > 0


def test_an_article_is_indexed_only_after_its_warc_record_is_durable(tmp_path):
    from index.sqlite import SqliteBackend
    from pipeline.city import load_profile
    from pipeline.process import Indexed, Pipeline
    from pipeline.scrapy_bridge import ProcessPages

    archive = WarcArchive(tmp_path / "warc", sync_every=1000, sync_seconds=3600)
    pending_at_upsert: list[int] = []

    class WatchedBackend(SqliteBackend):  # the real index, noting what was still unsynced at each write
        def upsert(self, articles):
            pending_at_upsert.append(archive.pending)
            return super().upsert(articles)

    backend = WatchedBackend(tmp_path / "index.sqlite")
    crawler, spider = _spider(tmp_path, archive)
    spider.processor = Pipeline(city=load_profile(REPO / "config" / "cities" / "haiphong.yaml"), backend=backend)
    bridge = ProcessPages.from_crawler(crawler)
    try:
        [other] = list(spider.parse_article(_response("http://news.example/a/lisbon-rain", OTHER_PAGE)))
        assert archive.pending == 2  # a dropped page is not waited for: its records go in the next group
        assert not isinstance(bridge.process_item(other), Indexed) and archive.pending == 2
        [city] = list(spider.parse_article(_response("http://news.example/a/lach-huyen", CITY_PAGE)))
        assert archive.pending == 4
        outcome = bridge.process_item(city)
        assert isinstance(outcome, Indexed), outcome
        assert pending_at_upsert and set(pending_at_upsert) == {0}
        assert backend.get(outcome.article.id).warc_offset == city.warc_offset
    finally:
        archive.close()
        backend.close()


def _pywb_bin() -> Path | None:
    """Where pywb's commands are: HPMON_PYWB_BIN (pywb may live in a venv of its own), else next
    to this Python, else on PATH."""
    import os
    import shutil

    for folder in (os.environ.get("HPMON_PYWB_BIN"), str(Path(sys.executable).parent)):
        if folder and (Path(folder) / "wayback").exists() and (Path(folder) / "wb-manager").exists():
            return Path(folder)
    found = shutil.which("wayback")
    return Path(found).parent if found and shutil.which("wb-manager") else None


def test_pywb_replays_an_archived_page_byte_for_byte(tmp_path):
    import socket
    import time
    import urllib.request

    pywb = _pywb_bin()
    if pywb is None:
        pytest.skip("pywb is not installed (set HPMON_PYWB_BIN to its venv's bin folder)")
    archive = WarcArchive(tmp_path / "src")
    archive.write_response("http://news.example/a/lach-huyen", 200, "OK",
                           [("Content-Type", "text/html; charset=utf-8")], CITY_PAGE.encode(), WHEN,
                           request_method="GET", request_headers=[("User-Agent", UA)])
    archive.close()
    subprocess.run([str(pywb / "wb-manager"), "init", "hpmon"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run([str(pywb / "wb-manager"), "add", "hpmon", str(archive.path)], cwd=tmp_path, check=True,
                   capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(pywb / "wayback"), "-b", "127.0.0.1", "-p", str(port)], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/hpmon/20261121030000id_/http://news.example/a/lach-huyen"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=10) as answer:
                    status, body = answer.status, answer.read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert status == 200 and body == CITY_PAGE.encode()
