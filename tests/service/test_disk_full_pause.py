"""A job that runs into a full disk pauses the jobs that write, even when the free space the
service read before it was above ``service_min_free_mb`` (the disk filled between two looks, a
quota, inodes): the service logs why once, starts no writing job while the disk stays full, and
resumes when space is freed. The data directory is a real small tmpfs, filled to ENOSPC."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from hpbase.clock import utcnow
from hpmon.service.config import ServiceConfig
from hpmon.service.jobs import JobSpec
from hpmon.service.jobstore import JobStore
from hpmon.service.scheduler import Child, Service
from hpmon.settings import Settings
from tests.diskspace import fill, small_tmpfs


@pytest.fixture
def small_home(tmp_path):
    with small_tmpfs(tmp_path / "disk", "64m") as disk:
        yield disk


# a stand-in for `hpmon crawl --json` on a full disk: the summary row it prints, the line it logs
CRAWL_ON_FULL_DISK = (
    "import json, sys; print(json.dumps([{'source': 'fx-vi', 'fetched': 3, 'failed': 3, "
    "'failures': {'disk_full': 3}}])); print('disk full while processing http://x/1', file=sys.stderr)")


def _finished_child(service: Service, job: JobSpec, code: str, tmp: Path) -> Child:
    out, err = tmp / "job.out", tmp / "job.err"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=o, stderr=e)
        proc.wait()
    return Child(jobs=[job], proc=proc, started=utcnow(), started_mono=0.0, out_path=out, err_path=err)


def test_a_job_that_hits_a_full_disk_pauses_writing_until_space_is_freed(small_home, tmp_path, caplog):
    home = small_home / "home"
    home.mkdir()
    settings = Settings(home=home)
    config = ServiceConfig.from_settings(settings, {"min_free_mb": 0})  # the threshold alone would never pause
    service = Service(settings=settings, config=config)
    store = JobStore(tmp_path / "jobs.sqlite")  # off the small disk: the job table itself is not the test
    job = JobSpec(id="crawl:fx-vi", kind="crawl", interval=60, argv=("--source", "fx-vi"), source_id="fx-vi")
    store.register(job.id, job.kind, job.interval, utcnow() - timedelta(minutes=1))
    try:
        assert service._disk_ok()
        ballast = fill(small_home, name="ballast", chunk=65536)
        service._record_exit(store, _finished_child(service, job, CRAWL_ON_FULL_DISK, tmp_path), 0)
        assert "disk full" in caplog.text and "crawl:fx-vi" in caplog.text and "paused" in caplog.text
        assert not service._disk_ok()

        service._launch_due(store, {job.id: job})  # due, but the disk is full: not started
        assert service.children == []

        ballast.unlink()
        assert service._disk_ok()
        assert "disk space is back" in caplog.text
        errors = [r for r in caplog.records if r.levelname == "ERROR" and "disk full" in r.getMessage()]
        assert len(errors) == 1  # said once, not per tick
    finally:
        store.close()


def test_a_job_without_a_full_disk_does_not_pause(tmp_path):
    settings = Settings(home=tmp_path)
    service = Service(settings=settings, config=ServiceConfig.from_settings(settings, {"min_free_mb": 0}))
    store = JobStore(tmp_path / "jobs.sqlite")
    job = JobSpec(id="crawl:fx-vi", kind="crawl", interval=60, source_id="fx-vi")
    code = "import json; print(json.dumps([{'source': 'fx-vi', 'fetched': 3, 'failures': {'timeout': 1}}]))"
    try:
        service._record_exit(store, _finished_child(service, job, code, tmp_path), 0)
        assert service._disk_ok()
    finally:
        store.close()
