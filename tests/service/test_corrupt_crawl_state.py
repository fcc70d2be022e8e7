"""Garbage over crawl.sqlite's header: the crawls that need the crawl state fail, and ``hpmon run``
says which file is damaged and how to restore it, and keeps running the jobs that don't need it
(it used to die with a traceback when it tried to forget an interrupted crawl's feed validators)."""

from __future__ import annotations

import pytest

from tests.service.conftest import stop, wait_for

pytestmark = pytest.mark.slow


def test_a_corrupt_crawl_state_fails_the_crawls_and_the_service_goes_on(service_home):
    from tests.conftest import make_hpmon

    make_hpmon(service_home.home).run("init")
    state = service_home.home / "crawl.sqlite"
    assert state.exists()
    with state.open("r+b") as fh:
        fh.write(b"\x13\x37garbage-over-the-header" * 4)

    proc = service_home.start()
    try:
        def crawls_failed_and_alerts_ran_again():
            jobs = service_home.jobs()
            crawls = [j for j in jobs.values() if j["kind"] == "crawl"]
            alerts = jobs.get("alerts") or {}
            return (crawls and all(j["last_outcome"] == "failed" for j in crawls)
                    and (alerts.get("last_finish") or "") > max(j["last_finish"] for j in crawls))

        wait_for(lambda: proc.poll() is not None or crawls_failed_and_alerts_ran_again(), 90, interval=0.5,
                 what="every crawl to fail and the alerts job to run after them")
        assert proc.poll() is None, f"the service died:\n{service_home.stderr()[-3000:]}"
    finally:
        code = stop(proc)
    log = service_home.stderr()
    assert code == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    assert f"{state} is not a readable database" in log and "hpmon restore" in log
