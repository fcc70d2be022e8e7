"""``hpmon backup`` never copies a corrupt database into what looks like a sound backup: 64 KiB
of garbage in the middle of the index, or a garbled header on the crawl state, is refused by
name with the restore command, exit 1, and nothing written; a backup that fails part way (its
destination disk fills) leaves no half backup behind."""

from __future__ import annotations

import errno
import os
from datetime import UTC, datetime

import pytest

from alerts.delivery import AlertLog
from crawlers.state import CrawlState
from hpmon.backup import BackupError, backup, verify
from hpmon.settings import Settings
from index.article import Article
from index.sqlite import SqliteBackend
from tests.conftest import make_hpmon
from tests.diskspace import small_tmpfs


@pytest.fixture
def settings(tmp_path) -> Settings:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "warc").mkdir()
    (home / "warc" / "hpmon-20200101000000-1.warc.gz").write_bytes(os.urandom(64 * 1024))
    settings = Settings(home=home)
    backend = SqliteBackend(settings.index_path)
    backend.upsert([Article(id=f"a{i}", url=f"https://news.example/{i}", source_id="s",
                            title=f"Hải Phòng cảng biển {i}", text=("Cảng Hải Phòng đón tàu lớn. " * 40) + str(i),
                            language="vi", published_at=datetime(2026, 11, 1, tzinfo=UTC)) for i in range(300)])
    backend.close()
    CrawlState(settings.state_path).close()
    AlertLog(settings.app_db_path).close()
    return settings


def _garble_middle(path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as fh:  # the header stays intact: only SQLite's own check sees it
        fh.seek(size // 2 - 32 * 1024)
        fh.write(os.urandom(64 * 1024))


def test_a_sound_data_directory_is_backed_up(settings, tmp_path):
    manifest = backup(settings, tmp_path / "backup")
    assert {"index.sqlite", "crawl.sqlite", "hpmon.sqlite"} <= {f.path for f in manifest.files}
    assert verify(tmp_path / "backup")[1] == []


def test_garbage_in_the_middle_of_the_index_is_refused_by_name_and_nothing_is_written(settings, tmp_path):
    _garble_middle(settings.index_path)
    dest = tmp_path / "backup"
    with pytest.raises(BackupError) as caught:
        backup(settings, dest)
    message = str(caught.value)
    assert "index.sqlite" in message and "corrupt" in message and "hpmon restore" in message
    assert "crawl.sqlite" not in message and "hpmon.sqlite" not in message  # only the corrupt one is named
    assert not dest.exists()


def test_a_garbled_header_is_refused_too_and_an_empty_destination_stays_empty(settings, tmp_path):
    with settings.state_path.open("r+b") as fh:  # no SQLite magic any more: once copied as a plain file
        fh.write(b"\xff" * 100)
    dest = tmp_path / "backup"
    dest.mkdir()
    with pytest.raises(BackupError, match="crawl.sqlite"):
        backup(settings, dest)
    assert list(dest.iterdir()) == []


def test_the_command_exits_1_with_one_line_and_no_traceback(settings, tmp_path):
    _garble_middle(settings.index_path)
    hpmon = make_hpmon(settings.home)
    done = hpmon.run("backup", str(tmp_path / "backup"), check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "index.sqlite" in done.stderr and "hpmon restore" in done.stderr
    assert not (tmp_path / "backup").exists()


@pytest.fixture
def small_disk(tmp_path):
    with small_tmpfs(tmp_path / "small", "512k") as disk:
        yield disk


def test_a_backup_that_fills_its_disk_is_removed_not_left_half_written(settings, small_disk):
    (settings.home / "models").mkdir()
    (settings.home / "models" / "big.bin").write_bytes(os.urandom(2 * 1024 * 1024))  # cannot fit in 512 KiB
    dest = small_disk / "backup"
    with pytest.raises((OSError, BackupError)) as caught:
        backup(settings, dest)
    error = caught.value
    assert (error.errno == errno.ENOSPC) if isinstance(error, OSError) else f"disk full at {dest}" in str(error)
    assert not dest.exists()
    assert list(small_disk.iterdir()) == []
