"""The review's SSRF finding, reproduced: an article whose server later answers
``302 → http://127.0.0.1:<port>/internal/secret`` is rechecked. The internal page must not be
fetched, and nothing of it may reach the case's evidence (which any viewer can download).

Both servers listen on 127.0.0.1; the article's server is allowed by host:port (as an office
would allow a named internal host), the internal one is not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.evidence import enter_queue, recheck
from records.cases import CaseStore
from tests.cases.conftest import SOVEREIGNTY_VI_HTML, archive_page, make_article
from tests.route_server import RouteServer

SECRET = "MẬT-NỘI-BỘ internal credentials page: db password hunter2"
SECRET_HTML = (f"<html><head><title>Internal</title></head><body><article><h1>Internal secret</h1>"
               f"<p>{SECRET}. " + "This is the office's internal administration page. " * 10 +
               "</p></article></body></html>").encode()


@pytest.fixture
def servers() -> Iterator[tuple[RouteServer, RouteServer]]:
    news, internal = RouteServer(), RouteServer()
    internal.routes["/internal/secret"] = (200, {}, SECRET_HTML)
    yield news, internal
    for s in (news, internal):
        s.close()


def _queued(store: CaseStore, news: RouteServer, warc_dir: Path, evidence_dir: Path) -> tuple[int, str]:
    url = news.base + "/tin/hoang-sa.html"
    warc = archive_page(warc_dir, url, SOVEREIGNTY_VI_HTML.encode())
    case_id = enter_queue(store, make_article(url, warc=warc), 0.6, 0.3, warc_dir, evidence_dir)
    assert case_id is not None
    return case_id, url


def _evidence_bytes(evidence_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(evidence_dir.rglob("*")) if p.is_file())


def test_a_redirect_to_an_internal_address_is_refused_and_nothing_of_it_becomes_evidence(
        servers, store: CaseStore, warc_dir: Path, evidence_dir: Path) -> None:
    news, internal = servers
    case_id, url = _queued(store, news, warc_dir, evidence_dir)
    news.routes["/tin/hoang-sa.html"] = (302, {"Location": internal.base + "/internal/secret"}, b"")
    before = [r.kind for r in store.evidence(case_id)]

    [result] = recheck(store, warc_dir=warc_dir, evidence_dir=evidence_dir, user_agent="hpmon-test/1", timeout=5,
                       delay=0, case_ids=[case_id], allow_hosts=[f"127.0.0.1:{news.port}"])

    assert result.outcome == "error"
    assert "blocked_address" in result.detail and "127.0.0.1 is loopback" in result.detail
    assert internal.paths == []  # not even its robots.txt was asked for
    assert [r.kind for r in store.evidence(case_id)] == before
    assert SECRET.encode() not in _evidence_bytes(evidence_dir)
    assert not list(warc_dir.glob("hpmon-recheck-*.warc.gz")) or all(
        SECRET.encode() not in p.read_bytes() for p in warc_dir.glob("hpmon-recheck-*"))


def test_by_default_even_the_first_loopback_host_is_refused(servers, store: CaseStore, warc_dir: Path,
                                                            evidence_dir: Path) -> None:
    news, _ = servers
    case_id, _ = _queued(store, news, warc_dir, evidence_dir)
    [result] = recheck(store, warc_dir=warc_dir, evidence_dir=evidence_dir, user_agent="hpmon-test/1", timeout=5,
                       delay=0, case_ids=[case_id])
    assert result.outcome == "error" and "blocked_address" in result.detail and news.paths == []


def test_a_redirect_to_another_host_asks_that_hosts_robots_txt(servers, store: CaseStore, warc_dir: Path,
                                                             evidence_dir: Path) -> None:
    news, other = servers
    case_id, _ = _queued(store, news, warc_dir, evidence_dir)
    news.routes["/tin/hoang-sa.html"] = (301, {"Location": other.base + "/moved/hoang-sa.html"}, b"")
    other.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /moved/\n")
    other.routes["/moved/hoang-sa.html"] = (200, {}, SOVEREIGNTY_VI_HTML.encode())
    [result] = recheck(store, warc_dir=warc_dir, evidence_dir=evidence_dir, user_agent="hpmon-test/1", timeout=5,
                       delay=0, case_ids=[case_id], allow_hosts=["127.0.0.1"])
    assert result.outcome == "error" and "robots" in result.detail
    assert other.paths == ["/robots.txt"]  # asked, and the page was not fetched
    other.routes["/robots.txt"] = (404, {}, b"")
    [result] = recheck(store, warc_dir=warc_dir, evidence_dir=evidence_dir, user_agent="hpmon-test/1", timeout=5,
                       delay=0, case_ids=[case_id], allow_hosts=["127.0.0.1"])
    assert result.outcome == "unchanged" and result.final_url == other.base + "/moved/hoang-sa.html"


def test_a_gzip_bomb_page_is_too_large_not_out_of_memory(servers, store: CaseStore, warc_dir: Path,
                                                         evidence_dir: Path) -> None:
    import zlib

    news, _ = servers
    case_id, _ = _queued(store, news, warc_dir, evidence_dir)
    deflater, zeros = zlib.compressobj(9, zlib.DEFLATED, 31), bytes(1 << 20)
    bomb = b"".join([*(deflater.compress(zeros) for _ in range(200)), deflater.flush()])  # 200 MiB in 200 KB
    news.routes["/tin/hoang-sa.html"] = (200, {"Content-Encoding": "gzip"}, bomb)
    [result] = recheck(store, warc_dir=warc_dir, evidence_dir=evidence_dir, user_agent="hpmon-test/1", timeout=5,
                       delay=0, case_ids=[case_id], allow_hosts=["127.0.0.1"], max_bytes=2_000_000)
    assert result.outcome == "error" and "too_large" in result.detail
