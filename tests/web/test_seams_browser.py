"""Every page in a real headless Chromium, in vi and in en, at 1280 and 390 px, over the seams test's
data: the visible text (as the browser lays it out) has no message key, machine code or source id, and
no page scrolls sideways. Screenshots are saved to tests/web/screenshots/seams/."""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn

from index.sqlite import SqliteBackend

from .conftest import cheap_hasher, make_home
from .test_browser import ARGS, CHROMIUM, SHOTS, _free_port, _login
from .test_seams import PAGES, add_rich_data, seams

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")
OUT = SHOTS / "seams"


@pytest.fixture(scope="module")
def rich_server(tmp_path_factory):
    from web.app import create_app

    settings = make_home(tmp_path_factory.mktemp("web-seams"))
    backend = SqliteBackend(settings.index_path)
    app = create_app(settings, backend, password_hasher=cheap_hasher())
    case_id = add_rich_data(app, settings)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "case_id": case_id}
    srv.should_exit = True
    thread.join(5)
    app.state.ctx.close()
    backend.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_in_the_browser(rich_server, browser, lang, width):
    OUT.mkdir(parents=True, exist_ok=True)
    base = rich_server["url"]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    _login(page, base, "admin")
    if lang == "en":
        page.locator("form[action='/lang'] button").first.click()
        page.wait_for_load_state()
    problems: dict[str, object] = {}
    for n, path in enumerate(p.format(case=rich_server["case_id"]) for p in PAGES):
        page.goto(base + path)
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == lang, path
        text = page.evaluate("""() => { const c = document.body.cloneNode(true);
            c.querySelectorAll('script,style,code,template,[lang]').forEach(e => e.remove());
            return c.innerText; }""")
        if found := seams(text):
            problems[path] = found
        if width > 760:  # on a desktop every table is laid out as a table (a class clash made one a flex box)
            displays = page.evaluate(
                "() => [...document.querySelectorAll('table')].map(t => getComputedStyle(t).display)")
            if any(d != "table" for d in displays):
                problems[path + " (tables)"] = displays
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            problems[path + " (width)"] = scroll
        page.screenshot(path=str(OUT / f"{n:02d}-{lang}-{width}.png"), full_page=True)
    context.close()
    assert not problems, problems
