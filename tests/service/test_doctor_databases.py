"""``hpmon doctor`` runs SQLite's own check on every database: 64 KiB of garbage in the middle of
the index, a garbage header, a zero-length file are each named with the restore command, and
``doctor`` exits 1; sound databases pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.delivery import AlertLog
from crawlers.state import CrawlState
from hpmon.doctor import check_database, run_checks
from hpmon.settings import Settings
from index.article import Article
from index.sqlite import SqliteBackend
from tests.conftest import make_hpmon


@pytest.fixture
def settings(tmp_path) -> Settings:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    settings = Settings(home=home)
    backend = SqliteBackend(settings.index_path)
    backend.upsert([Article(id=f"a{i}", url=f"https://news.example/{i}", source_id="s",
                            title=f"Hải Phòng cảng biển {i}", text=("Cảng Hải Phòng đón tàu lớn. " * 40) + str(i),
                            language="vi", published_at=datetime(2026, 11, 1, tzinfo=UTC)) for i in range(300)])
    backend.close()
    CrawlState(settings.state_path).close()
    AlertLog(settings.app_db_path).close()
    return settings


def _databases(settings: Settings):
    return next(f for f in run_checks(settings) if f.check == "databases")


def test_sound_databases_pass_the_quick_check(settings):
    finding = _databases(settings)
    assert finding.status == "ok", finding
    assert "index.sqlite" in finding.detail and "crawl.sqlite" in finding.detail and "hpmon.sqlite" in finding.detail


def test_garbage_in_the_middle_of_the_index_fails_by_name_and_doctor_exits_1(settings):
    path = settings.index_path
    size = path.stat().st_size
    assert size > 4 * 65536
    with path.open("r+b") as fh:  # 64 KiB of garbage in the middle, the header intact
        fh.seek(size // 2 // 4096 * 4096)
        fh.write(bytes((i * 7 + 3) % 256 for i in range(65536)))
    assert check_database(path) is not None
    finding = _databases(settings)
    assert finding.status == "fail" and "index.sqlite" in finding.detail and "hpmon restore" in finding.detail
    assert "crawl.sqlite" not in finding.detail  # only the corrupt one is named

    result = make_hpmon(settings.home).run("doctor", check=False, timeout=120)
    assert result.returncode == 1 and "index.sqlite" in result.stdout, result.stdout + result.stderr


def test_a_garbage_header_and_a_zero_length_file_are_named(settings):
    with settings.state_path.open("r+b") as fh:
        fh.write(b"\xde\xad\xbe\xef" * 25)
    settings.app_db_path.write_bytes(b"")
    finding = _databases(settings)
    assert finding.status == "fail"
    assert "crawl.sqlite: DatabaseError: file is not a database" in finding.detail, finding.detail
    assert "hpmon.sqlite: empty file (0 bytes)" in finding.detail


def test_full_runs_the_integrity_check(settings):
    finding = next(f for f in run_checks(settings, full=True) if f.check == "databases")
    assert finding.status == "ok" and "integrity_check" in finding.detail
