"""The trends and stories pages in a real headless Chromium at 1280 and 390 px: no horizontal
scrolling, no script or CSP error, and a click on a number opens the search with that many
articles. Screenshots are saved to tests/web/screenshots/ (trends-*.png, stories-*.png)."""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn

from index.sqlite import SqliteBackend

from .conftest import cheap_hasher
from .test_browser import CHROMIUM, SHOTS, _free_port, _login, browser  # noqa: F401 - fixtures
from .test_trends import SOURCE, make_trend_home

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from web.app import create_app

    settings = make_trend_home(tmp_path_factory.mktemp("trends-e2e"))
    backend = SqliteBackend(settings.index_path)
    app = create_app(settings, backend, password_hasher=cheap_hasher())
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning",
                                        access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield {"url": f"http://127.0.0.1:{port}"}
    srv.should_exit = True
    thread.join(timeout=10)
    app.state.ctx.close()
    backend.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_trends_and_stories_in_the_browser(server, browser, width):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    base = server["url"]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, base, "viewer")

    page.click("nav >> text=Xu hướng") if width > 760 else page.goto(f"{base}/trends")
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(f"{base}/trends")
    page.goto(f"{base}/trends?source={SOURCE}")
    assert page.locator("svg.spark").count() == 3 and page.locator("svg.chart").count() == 1
    page.screenshot(path=str(SHOTS / f"trends-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    link = page.locator("#share-country ~ .table-wrap a").first
    count = int(link.text_content())
    link.click()
    page.wait_for_load_state("networkidle")
    assert "/search?" in page.url and "country=" in page.url and "since=" in page.url
    assert int(page.text_content("p.total strong")) == count

    page.goto(f"{base}/trends?source={SOURCE}")
    page.locator("svg.spark a").first.click()  # a bar of a small multiple
    page.wait_for_load_state("networkidle")
    assert "/search?" in page.url and "topic=" in page.url and int(page.text_content("p.total strong")) >= 1

    page.goto(f"{base}/stories")
    page.screenshot(path=str(SHOTS / f"stories-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("ol.stories h3 a").first.click()
    page.wait_for_load_state("networkidle")
    assert "/stories/" in page.url and page.locator("ol.hits li.hit").count() == 7
    page.screenshot(path=str(SHOTS / f"stories-detail-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.goto(f"{base}/trends?source={SOURCE}")
    page.click("form.lang-switch button")  # English
    page.wait_for_load_state("networkidle")
    assert "Topics over time" in page.text_content("main") and "United States" in page.text_content("main")
    page.screenshot(path=str(SHOTS / f"trends-en-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert not errors, errors
    context.close()
