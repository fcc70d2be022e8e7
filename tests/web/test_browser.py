"""End to end in a real headless Chromium (Debian's ``chromium``) driven by Playwright, against the
app served by uvicorn on 127.0.0.1: log in, search in Vietnamese without diacritics, filter, open
an article, correct a label, move a case, and check an injected script never runs. Screenshots are
saved to tests/web/screenshots/."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from index.sqlite import SqliteBackend

from .conftest import PASSWORD, cheap_hasher, make_home

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

if not CHROMIUM.exists() and os.environ.get("CI"):
    raise RuntimeError("CI must run the browser tests: /usr/bin/chromium is missing (scripts/system-deps.sh)")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from web.app import create_app

    settings = make_home(tmp_path_factory.mktemp("web-e2e"))
    backend = SqliteBackend(settings.index_path)
    app = create_app(settings, backend, password_hasher=cheap_hasher())
    ctx = app.state.ctx
    case = ctx.services["cases"].open_case_for(ctx.backend.get("reasoned"), 0.75).case
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield {"url": f"http://127.0.0.1:{port}", "app": app, "case_id": case.id}
    srv.should_exit = True
    thread.join(timeout=10)
    ctx.close()
    backend.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _login(page, base: str, user: str) -> None:
    page.goto(f"{base}/search")
    assert "/login" in page.url
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/search")


def test_analyst_searches_filters_reads_corrects_and_moves_a_case(server, browser):
    SHOTS.mkdir(exist_ok=True)
    base = server["url"]
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, base, "analyst")

    page.fill("#q", "hai phong")
    page.press("#q", "Enter")
    page.wait_for_load_state()
    assert page.locator("li.hit").count() > 3
    assert page.locator("li.hit mark").count() > 0
    page.screenshot(path=str(SHOTS / "search-desktop.png"), full_page=True)

    page.check("input[name=scope][value=domestic]")
    page.click("aside button[type=submit][form=sf]")
    page.wait_for_load_state()
    assert "scope=domestic" in page.url
    metas = page.locator("li.hit .meta").all_inner_texts()
    assert metas and all("Báo chí trong nước" in m for m in metas)

    page.fill("#q", "cang lach huyen")
    page.press("#q", "Enter")
    page.wait_for_load_state()
    page.click("li.hit h3 a")
    page.wait_for_load_state()
    assert "Cảng Lạch Huyện" in page.locator("h1").inner_text()

    page.uncheck("#label-form input[value=port_logistics]")
    page.check("#label-form input[value=infrastructure]")
    page.select_option("#label-form select[name=sentiment]", "positive")
    page.click("#label-form button[type=submit]")
    page.wait_for_load_state()
    assert "Đã lưu nhãn" in page.content()
    article = server["app"].state.ctx.backend.get("vi-port")
    assert article.topics == ["infrastructure"] and article.sentiment == "positive"
    page.screenshot(path=str(SHOTS / "article-corrected.png"), full_page=True)

    page.goto(f"{base}/cases/{server['case_id']}")
    page.click("button[data-move=triaged]")
    page.wait_for_load_state()
    assert page.locator("#case-state").inner_text() == "Đã phân loại"
    page.click("button[data-move=drafting]")
    page.wait_for_load_state()
    page.fill("textarea[name=claim]", "Bài viết gọi Hoàng Sa bằng tên khác")
    page.fill("textarea[name=text]", "Hoàng Sa là một phần lãnh thổ Việt Nam.")
    page.click("form[action$='/rebuttal'] button[type=submit]")
    page.wait_for_load_state()
    page.click("button[data-move=awaiting_approval]")
    page.wait_for_load_state()
    assert page.locator("#case-state").inner_text() == "Chờ phê duyệt"
    assert page.locator("button[data-move=published]").count() == 0  # analysts do not approve
    page.screenshot(path=str(SHOTS / "case.png"), full_page=True)
    page.goto(f"{base}/cases")
    page.screenshot(path=str(SHOTS / "board.png"), full_page=True)
    assert not errors, errors
    context.close()


def test_injected_scripts_never_run(server, browser):
    base = server["url"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _login(page, base, "viewer")
    for url in (f"{base}/articles/xss-article", f"{base}/search?q=pwned", f"{base}/search?q=%3Cscript%3E"):
        page.goto(url)
        page.wait_for_load_state()
        assert page.evaluate("window.__pwned === undefined"), url
    page.goto(f"{base}/articles/xss-article")
    assert "<script>window.__pwned=1</script>" in page.locator("h1").inner_text()  # shown as text
    page.screenshot(path=str(SHOTS / "xss-escaped.png"), full_page=True)
    context.close()


def test_phone_width_layout_and_english(server, browser):
    base = server["url"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    _login(page, base, "admin")
    page.goto(f"{base}/search?q=hai+phong")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert not page.locator("details.filters").evaluate("d => d.open")  # folded on phones by app.js
    page.screenshot(path=str(SHOTS / "search-phone.png"), full_page=True)
    page.click("button.menu-toggle")
    assert page.locator("#nav").is_visible()
    page.click(".lang-switch button")
    page.wait_for_load_state()
    assert "Saved searches" in page.content()
    page.goto(f"{base}/articles/reasoned")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(SHOTS / "article-phone-en.png"), full_page=True)
    page.goto(f"{base}/sources")
    page.goto(f"{base}/digests")
    page.screenshot(path=str(SHOTS / "digests-phone.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_a_foreign_article_shows_its_machine_translation_and_search_finds_it(server, browser, width):
    from dataclasses import replace

    ctx = server["app"].state.ctx
    original = ctx.backend.get("zh-port")
    translated = replace(original, id="zh-port-translated", url=original.url + "?t",
                         translations={"vi": {"title": "Cảng Hải Phòng đón tàu container lớn nhất năm",
                                              "lead": "Sản lượng hàng qua cảng tăng mạnh.", "engine": "argos",
                                              "model": "zh-vi 1.9"}})
    ctx.backend.upsert([translated])
    ctx.backend.refresh()
    base = server["url"]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN")
    page = context.new_page()
    _login(page, base, "viewer")
    page.goto(f"{base}/articles/zh-port-translated")
    section = page.locator("section.translation")
    assert section.is_visible()
    assert "Bản dịch máy" in section.inner_text()
    assert section.locator(".translated-title").get_attribute("lang") == "vi"
    assert "Cảng Hải Phòng đón tàu container lớn nhất năm" in section.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(SHOTS / f"article-translation-{width}.png"), full_page=True)
    page.goto(f"{base}/search?q=%22t%C3%A0u+container+l%E1%BB%9Bn+nh%E1%BA%A5t+n%C4%83m%22")  # the translation's words
    assert page.locator("li.hit a[href='/articles/zh-port-translated']").count() >= 1
    context.close()
