"""The WARC file a real crawl leaves (``hpmon crawl`` in a subprocess, the local test site's
Vietnamese feed) is fit for replay as it is: ``warcio check`` passes, it starts with its
``warcinfo`` record, and every page's ``response`` is followed by the ``request`` that fetched it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import make_hpmon
from tests.crawlers.test_etag_retry import _feed_source

pytestmark = pytest.mark.slow


def test_a_crawls_warc_passes_warcio_check_with_warcinfo_first_and_each_request_kept(news_site, tmp_path):
    home = tmp_path / "home"
    hpmon = make_hpmon(home, _feed_source(news_site.base_url, tmp_path / "sources.yaml"),
                       HPMON_DOWNLOAD_TIMEOUT="60")
    [row] = hpmon.json("crawl")
    assert row["fetched"] >= 5 and not row["failures"], row
    [warc] = sorted((home / "warc").glob("*.warc.gz"))

    cli = [sys.executable, "-c", "import sys; from warcio.cli import main; sys.exit(main())"]
    check = subprocess.run([*cli, "check", "-v", str(warc)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "fail" not in check.stdout, check.stdout + check.stderr

    with warc.open("rb") as fh:
        records = [(r.rec_type, r.rec_headers, r.http_headers) for r in ArchiveIterator(fh)]
    assert records[0][0] == "warcinfo" and [r[0] for r in records].count("warcinfo") == 1
    pairs = list(zip(records[1::2], records[2::2], strict=True))
    assert len(pairs) == row["fetched"]
    pages = {f"{news_site.base_url}{path}" for method, path, _ in news_site.requests if method == "GET"}
    for (kind, response, _), (request_kind, request, http) in pairs:
        assert (kind, request_kind) == ("response", "request")
        url = response.get_header("WARC-Target-URI")
        assert url in pages and request.get_header("WARC-Target-URI") == url
        assert request.get_header("WARC-Concurrent-To") == response.get_header("WARC-Record-ID")
        assert http.protocol == "GET" and http.get_header("User-Agent", "").startswith("hpmon/")
