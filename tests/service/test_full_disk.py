"""A full disk: the service stops starting jobs that write, says why, and resumes when space
returns. The data directory is a small tmpfs (mounting needs root; otherwise skipped)."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.service.conftest import stop, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path: Path) -> Path:
    ballast = path / "ballast"
    with ballast.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * (1 << 20))
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return ballast


def _started_lines(log: str) -> int:
    return sum('"msg": "started crawl' in line for line in log.splitlines())


def test_full_disk_pauses_writing_with_a_clear_error_and_resumes(service_home, small_disk):
    home = small_disk / "home"
    home.mkdir()
    service_home.log_dir = service_home.home.parent  # off the small disk: the log must survive it filling
    service_home.home = home
    env = service_home.env
    env.update({"HPMON_HOME": str(home), "HPMON_SERVICE_MIN_FREE_MB": "4"})
    proc = service_home.start()
    try:
        wait_for(lambda: '"msg": "crawl:fx-vi finished: ok"' in service_home.stderr(), 90,
                 what="a first crawl to finish")
        ballast = _fill(small_disk)
        wait_for(lambda: "disk almost full" in service_home.stderr(), 30, what="the disk-full error")
        log = service_home.stderr()
        error_line = next(line for line in log.splitlines() if "disk almost full" in line)
        assert '"level": "ERROR"' in error_line and str(home) in error_line and "paused" in error_line
        assert "--- Logging error ---" not in log, "a log file on the full disk is reported in one line, not per record"
        started_when_full = _started_lines(log)
        time.sleep(5)  # several intervals pass while the disk is full
        assert proc.poll() is None, "the service must survive a full disk"
        assert "disk space is back" not in service_home.stderr()
        assert _started_lines(service_home.stderr()) == started_when_full, "a crawl started on a full disk"
        ballast.unlink()
        wait_for(lambda: "disk space is back" in service_home.stderr(), 30, what="the service to resume")
        resumed_at = len(service_home.stderr())
        wait_for(lambda: '"msg": "started crawl' in service_home.stderr()[resumed_at:], 30, what="crawls to resume")
        wait_for(lambda: '"msg": "crawl:fx-vi finished: ok"' in service_home.stderr()[resumed_at:], 60,
                 what="a crawl to succeed after space returned")
    finally:
        assert stop(proc) == 0
    for name in ("index.sqlite", "crawl.sqlite", "hpmon.sqlite"):
        with sqlite3.connect(home / name) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", name
