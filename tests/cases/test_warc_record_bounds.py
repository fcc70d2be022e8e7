"""Bounded WARC reads (#17): ``hpmon ingest file.warc.gz`` and the evidence readers (the article
page's record, freezing) read a record's page in chunks up to a limit as it inflates, never whole.
A record of a few hundred KB of gzip that expands to 400 MiB is skipped with ``too_large``, and
the records after it are still read. The WARC is built here with warcio."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from guard.limits import TooLarge, read_stream
from hpmon.exitcodes import EXIT_FAILED
from pipeline.evidence import read_warc_record
from pipeline.outcome import Dropped
from tests.conftest import REPO, make_hpmon
from tests.peak_memory import python_measured, run_measured

BOMB_MIB = 400
PAGE = REPO / "tests/fixtures/site/vi/baocangbien/kinh-te/2026/11/20/cang-lach-huyen-don-tau-me-20000-teu-dau-tien.html"
PAGE_URL = "https://baocangbien.example/vi/baocangbien/kinh-te/2026/11/20/cang-lach-huyen-don-tau-me-20000-teu-dau-tien.html"


class _Spaces(io.RawIOBase):
    """An HTML page of ``n`` bytes, nearly all spaces (a few hundred KB as gzip), generated as read."""

    def __init__(self, n: int) -> None:
        self.head, self.left = b"<!doctype html><html><body><p>", n

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self.head:
            k = min(len(buf), len(self.head))
            buf[:k], self.head = self.head[:k], self.head[k:]
        else:
            k = min(len(buf), self.left)
            buf[:k] = b" " * k
        self.left -= k
        return k


def _http(length: int) -> StatusAndHeaders:
    return StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(length))],
                            protocol="HTTP/1.1")


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """A .warc.gz: a 400 MiB page record (about 400 KB stored), then a real page."""
    path = tmp_path_factory.mktemp("warc") / "bomb.warc.gz"
    size, page = BOMB_MIB << 20, PAGE.read_bytes()
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warc_record(
            "https://baocangbien.example/bomb", "response", payload=io.BufferedReader(_Spaces(size), 1 << 20),
            length=size, http_headers=_http(size)))
        writer.write_record(writer.create_warc_record(
            PAGE_URL, "response", payload=io.BytesIO(page), length=len(page), http_headers=_http(len(page))))
    assert path.stat().st_size < 2 << 20
    return path


def _offsets(path: Path) -> list[int]:
    with path.open("rb") as fh:
        iterator = ArchiveIterator(fh)
        return [iterator.get_record_offset() for _ in iterator]


def test_read_stream_stops_past_the_limit():
    assert read_stream(io.BytesIO(b"x" * 10), 10) == b"x" * 10
    with pytest.raises(TooLarge, match="expands beyond 9 bytes"):
        read_stream(io.BytesIO(b"x" * 10), 9)


def test_ingest_reader_skips_the_oversize_record_in_bounded_memory(bomb: Path):
    code = ("import json, sys; from hpmon.cli import _pages_from_warc\n"
            "out = [list(p) if isinstance(p, tuple) else [p.url, len(p.body)] "
            "for p in _pages_from_warc(__import__('pathlib').Path(sys.argv[1]), 5_000_000)]\n"
            "print(json.dumps(out))")
    out, peak_kib = python_measured(code, str(bomb))
    (where, reason), (url, length) = json.loads(out)
    assert "record 1 (https://baocangbien.example/bomb)" in where
    assert reason.startswith("too_large: the page expands beyond 4.76837 MiB (max_page_bytes)") and "skipped" in reason
    assert url == PAGE_URL and length == PAGE.stat().st_size  # the record after it is read
    print(f"ingest reader, {BOMB_MIB} MiB record: peak {peak_kib / 1024:.0f} MiB")
    assert peak_kib < 150 * 1024  # the record was read whole: more than 400 MiB


def test_evidence_reader_refuses_the_oversize_page_in_bounded_memory(bomb: Path):
    first, second = _offsets(bomb)
    code = ("import sys; from pathlib import Path; from pipeline.evidence import read_warc_record\n"
            "c = read_warc_record(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]))\n"
            "print(getattr(c, 'reason', 'read'), getattr(c, 'detail', ''))")
    out, peak_kib = python_measured(code, str(bomb.parent), bomb.name, str(first))
    assert out.startswith("too_large ") and "expands beyond 47.6837 MiB" in out and "not read further" in out, out
    print(f"evidence reader, {BOMB_MIB} MiB record: peak {peak_kib / 1024:.0f} MiB")
    assert peak_kib < 200 * 1024
    copy = read_warc_record(bomb.parent, bomb.name, second)  # the next record reads as before
    assert not isinstance(copy, Dropped) and copy.url == PAGE_URL and copy.body == PAGE.read_bytes()
    small = read_warc_record(bomb.parent, bomb.name, second, max_bytes=1000)
    assert isinstance(small, Dropped) and small.reason == "too_large"


def test_web_serves_the_stored_record_without_inflating_it(bomb: Path, monkeypatch):
    first, _ = _offsets(bomb)
    code = ("import sys; from pathlib import Path; from web.evidence import read_warc_record\n"
            "r = read_warc_record(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]))\n"
            "print(len(r.data), r.target_uri)")
    out, peak_kib = python_measured(code, str(bomb.parent), bomb.name, str(first))
    stored, uri = out.split()
    assert int(stored) < 2 << 20 and uri == "https://baocangbien.example/bomb"
    print(f"web evidence, {BOMB_MIB} MiB record: peak {peak_kib / 1024:.0f} MiB")
    assert peak_kib < 200 * 1024

    import web.evidence as web_evidence

    monkeypatch.setattr(web_evidence, "MAX_RECORD_BYTES", 1000)  # a stored record over the cap: not read
    with pytest.raises(web_evidence.EvidenceError, match="evidence.unreadable"):
        web_evidence.read_warc_record(bomb.parent, bomb.name, first)


def test_hpmon_ingest_skips_the_record_with_a_reason_and_indexes_the_rest(bomb: Path, tmp_path):
    from index.sqlite import SqliteBackend

    home = tmp_path / "home"
    hpmon = make_hpmon(home)
    hpmon.run("sources", "list", check=False, timeout=120)  # create the home before measuring
    with pytest.raises(subprocess.CalledProcessError) as failed:  # an input failed: exit 3
        run_measured([sys.executable, "-m", "hpmon", "ingest", str(bomb)], env=hpmon.env, timeout=300)
    assert failed.value.returncode == EXIT_FAILED
    out, _, peak = failed.value.stdout.decode("utf-8", "replace").rstrip().rpartition("\n")
    peak_kib = int(peak)
    assert "too_large×1" in out and "expands beyond" in out and "(max_page_bytes), skipped" in out, out
    print(f"hpmon ingest of the {BOMB_MIB} MiB record: peak {peak_kib / 1024:.0f} MiB")
    assert peak_kib < BOMB_MIB * 1024  # it held the whole page
    backend = SqliteBackend(home / "index.sqlite")
    urls = [a.url for a in backend.iter_articles()]
    backend.close()
    assert len(urls) == 1
