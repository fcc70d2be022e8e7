"""Recheck against the local test news site: an edited page gives a diff, a deleted one a record."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner

from hpmon.commands.cases import recheck as recheck_command
from hpmon.settings import Settings
from pipeline.evidence import enter_queue, recheck
from records.cases import CaseStore
from tests.cases.conftest import make_article
from tests.fixtures.newsite import SITE_DIR, NewsSite, _make_handler, _quiet_handle_error

PATH = "/en/apwire/world/2026/11/14/vietnam-protests-survey-ship-activity-in-east-sea.html"
UA = "hpmon-test/1.0 (+https://example.org/hpmon; recheck test)"
OLD = "She called on the vessels to leave immediately."
NEW = "She said the vessels had left the area on Saturday."


class GoneSite(NewsSite):
    """The test site, where paths listed in ``gone`` answer 410 Gone (test code only)."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.gone: set[str] = set()

    def start(self) -> GoneSite:
        site = self
        base = _make_handler(self)

        class Handler(base):  # type: ignore[misc,valid-type]
            def _handle(self, send_body: bool) -> None:
                if urlsplit(self.path).path in site.gone:
                    site._log(self.command, self.path, dict(self.headers.items()))
                    return self._error(410, send_body)
                return super()._handle(send_body)

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self._server.handle_error = _quiet_handle_error  # type: ignore[method-assign]
        self.port = self._server.server_address[1]
        import threading

        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self


@pytest.fixture
def site(tmp_path: Path) -> Iterator[GoneSite]:
    root = tmp_path / "site"
    shutil.copytree(SITE_DIR, root)
    with GoneSite(port=0, root=root) as s:
        yield s


def _crawl_and_queue(site: NewsSite, store: CaseStore, warc_dir: Path, evidence_dir: Path,
                     path: str = PATH) -> tuple[int, str]:
    """Fetch the page as the crawler would, archive it to WARC, and send it into the queue."""
    from crawlers.warc import WarcArchive

    url = site.base_url + path
    response = httpx.get(url)
    archive = WarcArchive(warc_dir)
    warc = archive.write_response(url, response.status_code, response.reason_phrase,
                                  list(response.headers.multi_items()), response.content, datetime.now(UTC))
    archive.close()
    article = make_article(url, title="Vietnam protests survey ship activity", language="en", warc=warc,
                           story_id=path)
    case_id = enter_queue(store, article, 0.6, 0.30, warc_dir, evidence_dir)
    assert case_id is not None
    return case_id, url


def _recheck(store: CaseStore, warc_dir: Path, evidence_dir: Path, **kw):
    return recheck(store, warc_dir=warc_dir, evidence_dir=evidence_dir, user_agent=UA, timeout=5, delay=0,
                   allow_hosts=["127.0.0.1"], **kw)


def test_recheck_records_an_edit_with_a_diff_then_a_deletion(site: GoneSite, store: CaseStore, warc_dir: Path,
                                                             evidence_dir: Path) -> None:
    case_id, url = _crawl_and_queue(site, store, warc_dir, evidence_dir)
    page = site.root / PATH.lstrip("/")
    site.reset_requests()

    [unchanged] = _recheck(store, warc_dir, evidence_dir)
    assert (unchanged.outcome, unchanged.http_status, unchanged.diff) == ("unchanged", 200, None)

    page.write_text(page.read_text(encoding="utf-8").replace(OLD, NEW), encoding="utf-8")
    [edited] = _recheck(store, warc_dir, evidence_dir)
    assert edited.outcome == "edited"
    removed = [line for line in edited.diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line for line in edited.diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert any(OLD in line for line in removed) and any(NEW in line for line in added)
    assert all(OLD not in line for line in added)
    kinds = [r.kind for r in store.evidence(case_id)]
    assert kinds == ["page_record", "page_text", "recheck_record", "recheck_text"]
    new_text = store.evidence(case_id)[-1]
    assert NEW in (evidence_dir / new_text.path).read_text(encoding="utf-8")

    [same_again] = _recheck(store, warc_dir, evidence_dir)
    assert same_again.outcome == "unchanged"  # compared with the latest version kept

    page.unlink()
    [deleted] = _recheck(store, warc_dir, evidence_dir)
    assert (deleted.outcome, deleted.http_status) == ("deleted", 404)
    [still] = _recheck(store, warc_dir, evidence_dir)
    assert still.outcome == "still_deleted"

    actions = [a.action for a in store.audit(case_id)]
    assert actions.count("article_edited") == 1 and actions.count("article_deleted") == 1
    assert [r.outcome for r in store.rechecks(case_id)] == ["unchanged", "edited", "unchanged", "deleted",
                                                            "still_deleted"]
    # every response went to WARC, the 404 too (proof of the deletion)
    from warcio.archiveiterator import ArchiveIterator

    statuses = []
    for warc in sorted(warc_dir.glob("hpmon-recheck-*.warc.gz")):
        with warc.open("rb") as fh:
            statuses += [int(r.http_headers.get_statuscode()) for r in ArchiveIterator(fh)
                         if r.rec_type == "response"]
    assert statuses == [200, 200, 200, 404, 404]
    # politely: our User-Agent on every request, robots.txt asked for
    page_requests = [r for r in site.requests if r[1] == PATH]
    assert len(page_requests) == 5 and all(r[2].get("User-Agent") == UA for r in page_requests)
    assert any(r[1] == "/robots.txt" for r in site.requests)


def test_recheck_treats_410_gone_as_deleted(site: GoneSite, store: CaseStore, warc_dir: Path,
                                            evidence_dir: Path) -> None:
    case_id, _ = _crawl_and_queue(site, store, warc_dir, evidence_dir)
    site.gone.add(PATH)
    [gone] = _recheck(store, warc_dir, evidence_dir)
    assert (gone.outcome, gone.http_status) == ("deleted", 410)
    assert store.evidence(case_id)[-1].kind == "recheck_record"


def test_recheck_reports_errors_without_calling_them_edits(site: GoneSite, store: CaseStore, warc_dir: Path,
                                                           evidence_dir: Path) -> None:
    huge = store.open_case_for(make_article(site.base_url + "/bad/huge.html", story_id="huge")).case.id
    private = store.open_case_for(make_article(site.base_url + "/private/secret.html", story_id="p")).case.id
    broken = store.open_case_for(make_article(site.base_url + "/bad/500.html", story_id="500")).case.id
    results = {r.case_id: r for r in _recheck(store, warc_dir, evidence_dir, max_bytes=1_000_000)}
    assert results[huge].outcome == "error" and "too_large" in results[huge].detail
    assert results[private].outcome == "error" and "robots" in results[private].detail
    assert results[broken].outcome == "error" and results[broken].http_status == 500
    assert not any(r[1] == "/private/secret.html" for r in site.requests)
    assert not any(a.action.startswith("article_") and a.action != "article_added"
                   for c in (huge, private, broken) for a in store.audit(c))


def test_recheck_only_watches_cases_that_are_not_dismissed(site: GoneSite, store: CaseStore, warc_dir: Path,
                                                           evidence_dir: Path) -> None:
    case_id, _ = _crawl_and_queue(site, store, warc_dir, evidence_dir)
    store.move(case_id, "dismissed", actor="lan", reason="không cần phản bác")
    assert _recheck(store, warc_dir, evidence_dir) == []


def test_hpmon_recheck_command_prints_outcomes(site: GoneSite, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", user_agent=UA, download_delay=0, download_timeout=5,
                        fetch_allow_hosts=["127.0.0.1"])
    store = CaseStore(settings.app_db_path)
    try:
        case_id, _ = _crawl_and_queue(site, store, settings.warc_dir, settings.home / "evidence")
    finally:
        store.close()
    page = site.root / PATH.lstrip("/")
    page.write_text(page.read_text(encoding="utf-8").replace(OLD, NEW), encoding="utf-8")
    result = CliRunner().invoke(recheck_command, ["--json"], obj={"settings": settings})
    assert result.exit_code == 0, result.output
    import json

    [row] = json.loads(result.output)
    assert (row["case_id"], row["outcome"]) == (case_id, "edited") and NEW in row["diff"]


def test_library_document_from_a_url_is_fetched_politely_and_extracted(site: GoneSite) -> None:
    from pipeline.library_docs import load_document
    from pipeline.outcome import Dropped

    doc = load_document(site.base_url + PATH, user_agent=UA, timeout=5, language="en", allow_hosts=["127.0.0.1"])
    assert not isinstance(doc, Dropped), doc
    assert doc.format == "html" and doc.title.startswith("Vietnam protests survey ship activity")
    assert OLD in doc.text and "Most read" not in doc.text
    assert all(r[2].get("User-Agent") == UA for r in site.requests)
    missing = load_document(site.base_url + "/bad/404.html", user_agent=UA, timeout=5, allow_hosts=["127.0.0.1"])
    assert isinstance(missing, Dropped) and "404" in missing.detail
