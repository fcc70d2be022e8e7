"""A WARC record is whole or absent: a write that fills the disk part way is cut back, so the
records written after it (once there is room) stay readable; a file that ends in a torn record
(a kill mid-write) is cut to its last complete record when it is opened again."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawlers.warc import WarcArchive, complete_warc_length, repair
from tests.diskspace import fill, small_tmpfs

WHEN = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


def _write(archive: WarcArchive, n: int, body: bytes | None = None) -> tuple[str, int]:
    return archive.write_response(f"http://news.example/a/{n}", 200, "OK", [("Content-Type", "text/html")],
                                  body or f"<html><body>article {n}</body></html>".encode(), WHEN,
                                  request_method="GET", request_headers=[("User-Agent", "hpmon-test")])


def _read_all(path) -> list[tuple[str, str | None, bytes]]:
    """Every record, read as a replay tool or ``hpmon ingest`` reads it; raises on a damaged file."""
    with path.open("rb") as fh:
        return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
                for r in ArchiveIterator(fh)]


def _body_at(path, offset: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(offset)
        return next(ArchiveIterator(fh)).content_stream().read()


@pytest.fixture
def small_disk(tmp_path):
    with small_tmpfs(tmp_path / "disk", "256k") as disk:
        yield disk


def test_a_write_that_fills_the_disk_part_way_is_cut_back_and_later_records_stay_readable(small_disk):
    archive = WarcArchive(small_disk / "warc")
    _write(archive, 1)
    size_before = archive.path.stat().st_size
    filler = fill(small_disk, leave=30_000)
    with pytest.raises(OSError):  # 100 kB of incompressible body cannot fit in the 30 kB left
        _write(archive, 2, os.urandom(100_000))
    assert archive.path.stat().st_size == size_before  # nothing of the failed record stays
    filler.unlink()
    name, offset = _write(archive, 3)
    archive.close()
    records = _read_all(archive.path)  # the whole file reads, past the failed write
    assert [(kind, url) for kind, url, _ in records] == [
        ("warcinfo", None), ("response", "http://news.example/a/1"), ("request", "http://news.example/a/1"),
        ("response", "http://news.example/a/3"), ("request", "http://news.example/a/3")]
    assert name == archive.path.name and _body_at(archive.path, offset) == b"<html><body>article 3</body></html>"
    assert complete_warc_length(archive.path) == archive.path.stat().st_size


def test_a_torn_last_record_is_cut_on_open_so_appends_after_it_read(tmp_path):
    archive = WarcArchive(tmp_path)
    _write(archive, 1)
    whole = archive.path.stat().st_size
    _, torn_at = _write(archive, 2, os.urandom(20_000))
    archive.close()
    os.truncate(archive.path, torn_at + (archive.path.stat().st_size - torn_at) // 2)  # killed mid-write
    assert complete_warc_length(archive.path) == torn_at < archive.path.stat().st_size
    name, offset = _write(archive, 3)  # the same file opened again
    archive.close()
    assert offset == whole  # the torn record is gone, the next one follows the last whole record
    urls = [url for kind, url, _ in _read_all(archive.path) if kind == "response"]
    assert urls == ["http://news.example/a/1", "http://news.example/a/3"]


def test_repair_says_how_much_it_cut_and_leaves_a_whole_file_alone(tmp_path, caplog):
    archive = WarcArchive(tmp_path)
    _write(archive, 1)
    archive.close()
    whole = archive.path.read_bytes()
    assert repair(archive.path) == 0 and archive.path.read_bytes() == whole
    with archive.path.open("ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00garbage of a record torn by a kill")
    assert repair(archive.path) == len(b"\x1f\x8b\x08\x00garbage of a record torn by a kill")
    assert archive.path.read_bytes() == whole
    assert "torn record" in caplog.text and archive.path.name in caplog.text


def test_an_archive_begun_on_a_full_disk_still_starts_with_its_warcinfo_once_there_is_room(small_disk):
    """The first write of a run fails with the disk full (its warcinfo cannot be written); once
    there is room the file still starts with a warcinfo record, and has only one."""
    filler = fill(small_disk)
    archive = WarcArchive(small_disk / "warc")
    for n in (1, 2):
        with pytest.raises(OSError):
            _write(archive, n)
    filler.unlink()
    _, offset = _write(archive, 3)
    _write(archive, 4)
    archive.close()
    records = _read_all(archive.path)
    assert [(kind, url) for kind, url, _ in records] == [
        ("warcinfo", None), ("response", "http://news.example/a/3"), ("request", "http://news.example/a/3"),
        ("response", "http://news.example/a/4"), ("request", "http://news.example/a/4")]
    assert _body_at(archive.path, offset) == b"<html><body>article 3</body></html>"
