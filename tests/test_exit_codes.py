"""Honest exits: ``hpmon ingest`` exits 3 when an input failed and says how many and why (a WARC's
bad record is skipped, the records after it are read); ``hpmon crawl`` exits 3 when every source
failed and 4, in seconds and on its first line, when no source host resolves. The real command
in a subprocess."""

from __future__ import annotations

import io
import socket

import yaml
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from hpmon.exitcodes import EXIT_FAILED, EXIT_NO_NETWORK
from index.sqlite import SqliteBackend
from tests.conftest import REPO, make_hpmon
from tests.diskspace import fill, small_tmpfs
from tests.fixtures.fixture_sources import load_manifest

SITE = REPO / "tests" / "fixtures" / "site"
KEPT = ["/vi/baocangbien/kinh-te/2026/11/20/cang-lach-huyen-don-tau-me-20000-teu-dau-tien.html",
        "/vi/baocangbien/dau-tu/2026/11/19/tap-doan-han-quoc-rot-them-1-2-ty-usd-vao-nam-dinh-vu.html"]


def _sources(path, urls: list[str]):
    sources = [{"id": f"s{i}", "name": f"Source {i}", "kind": "rss", "urls": [u], "country": "VN",
                "language": "vi", "scope": "domestic"} for i, u in enumerate(urls)]
    path.write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    return path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _warc(path, records: list[tuple[str, str, bytes]]) -> None:
    """A WARC of response records (url, WARC-Date, HTML body)."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=False)
    for url, date, body in records:
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                           warc_headers_dict={"WARC-Date": date})
        writer.write_record(record)
    path.write_bytes(buffer.getvalue())


def test_crawl_without_network_says_so_first_and_exits_4_in_seconds(tmp_path):
    hpmon = make_hpmon(tmp_path / "home", _sources(tmp_path / "sources.yaml", [
        "https://feeds.hpmon-test.invalid/a.rss", "https://news.hpmon-test.invalid/b.rss"]))
    result = hpmon.run("crawl", check=False, timeout=120)
    assert result.returncode == EXIT_NO_NETWORK, result.stderr
    first = result.stderr.strip().splitlines()[0]
    assert first.startswith("no network: none of 2 source hosts resolves"), result.stderr
    assert "feeds.hpmon-test.invalid" in first
    # the probe stopped it before any crawl: no source was fetched (and failed) one by one
    from crawlers.state import CrawlState

    state_path = tmp_path / "home" / "crawl.sqlite"
    if state_path.exists():
        state = CrawlState(state_path)
        try:
            assert not any(h.get("error_streak") for h in state.health().values()), state.health()
            assert state.last_runs(5) == []
        finally:
            state.close()


def test_crawl_where_every_source_fails_exits_3_with_the_reasons(tmp_path):
    port = _closed_port()
    hpmon = make_hpmon(tmp_path / "home", _sources(tmp_path / "sources.yaml", [
        f"http://127.0.0.1:{port}/a.rss", f"http://127.0.0.1:{port}/b.rss"]))
    result = hpmon.run("crawl", check=False, timeout=120)
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert "Every source failed" in result.stderr and "connection_refused" in result.stderr
    as_json = hpmon.run("crawl", "--json", check=False, timeout=120)  # the service reads the rows
    assert as_json.returncode == EXIT_FAILED
    assert {r["source"] for r in yaml.safe_load(as_json.stdout)} == {"s0", "s1"}


def test_ingest_exits_3_when_an_input_failed_and_reads_past_a_bad_warc_record(tmp_path):
    home = tmp_path / "home"
    hpmon = make_hpmon(home)
    good, other = (SITE / p.lstrip("/") for p in KEPT)
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    warc = tmp_path / "pages.warc"
    _warc(warc, [("https://baocangbien.example/bad", "not-a-date", good.read_bytes()),
                 ("https://baocangbien.example" + KEPT[1], "2026-11-19T08:00:00Z", other.read_bytes())])

    result = hpmon.run("ingest", str(good), str(empty), str(warc), check=False, timeout=300)

    output = result.stdout + result.stderr
    assert result.returncode == EXIT_FAILED, output
    assert "2 inputs failed" in output and "empty×1" in output and "bad_record×1" in output, output
    assert "not-a-date" in output
    backend = SqliteBackend(home / "index.sqlite")
    titles = {a.title for a in backend.iter_articles()}
    backend.close()
    manifest = {a["path"]: a for a in load_manifest()["articles"]}
    # the file, and the WARC record after the bad one (the bad record, the same page as the file, is skipped)
    assert titles == {manifest[KEPT[0]]["title"], manifest[KEPT[1]]["title"]}

    again = hpmon.run("ingest", str(good), timeout=300)  # nothing failed: exit 0
    assert again.returncode == 0


def test_ingest_skips_an_html_file_larger_than_the_page_limit_without_reading_it(tmp_path):
    home = tmp_path / "home"
    hpmon = make_hpmon(home, HPMON_MAX_PAGE_BYTES="100000")
    good = SITE / KEPT[0].lstrip("/")
    big = tmp_path / "big.html"
    with big.open("wb") as fh:  # sparse: 3 GB on paper, nothing on disk; reading it whole would take 3 GB
        fh.truncate(3 * 1024**3)
    result = hpmon.run("ingest", str(big), str(good), check=False, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_FAILED, output
    assert "1 input failed" in output and "too_large×1" in output, output
    backend = SqliteBackend(home / "index.sqlite")
    assert len(list(backend.iter_articles())) == 1  # the good file is indexed
    backend.close()


def test_a_full_disk_is_one_line_not_a_traceback(tmp_path):
    with small_tmpfs(tmp_path / "disk", "256k") as disk:
        fill(disk)
        home = disk / "home"
        hpmon = make_hpmon(home)
        page = SITE / KEPT[0].lstrip("/")
        result = hpmon.run("ingest", str(page), check=False, timeout=120)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines[-1].startswith("Error: disk full at "), result.stderr


def test_a_damaged_index_is_one_line_with_the_repair_not_a_traceback(tmp_path):
    home = tmp_path / "home"
    hpmon = make_hpmon(home)
    hpmon.run("ingest", str(SITE / KEPT[0].lstrip("/")), timeout=120)
    index = home / "index.sqlite"
    with index.open("r+b") as fh:  # garbage over the middle of the file, as a failing disk leaves it
        fh.seek(index.stat().st_size // 2)
        fh.write(b"\xa5" * 65536)
    result = hpmon.run("search", "hai phong", check=False, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    last = [line for line in result.stderr.splitlines() if line.strip()][-1]
    assert last.startswith("Error: a database in ") and "hpmon restore" in last, result.stderr
