"""The search page in a real headless Chromium: the expansion line, the exact-words link and a
click on a histogram bar that narrows the search to its day, on a desktop and a 390 px screen.
Screenshots are saved to tests/web/screenshots/."""

from __future__ import annotations

import re

import pytest

from .test_browser import ARGS, CHROMIUM, SHOTS, _login, browser, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")


def _total(page) -> int:
    return int(page.text_content("p.total strong"))


@pytest.mark.parametrize("width", [1280, 390])
def test_search_by_meaning_and_the_clickable_histogram(server, browser, width):  # noqa: F811
    base = server["url"]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(page, base, "viewer")

    page.fill("#q", "hai phong")
    page.press("#q", "Enter")
    page.wait_for_load_state("networkidle")
    expansion = page.text_content(".expansions")
    assert "Cũng tìm" in expansion and "Haiphong" in expansion and "ハイフォン" in expansion
    expanded = _total(page)
    page.screenshot(path=str(SHOTS / f"search-expansion-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no horizontal scrolling

    page.click("text=Chỉ tìm đúng cụm từ này")
    page.wait_for_load_state("networkidle")
    assert page.input_value("#q") == '"hai phong"'
    assert page.locator(".expansions").count() == 0 and _total(page) < expanded

    page.fill("#q", "chủ quyền")
    page.press("#q", "Enter")
    page.wait_for_load_state("networkidle")
    assert "bài thuộc chủ đề «Chủ quyền biển đảo, biên giới»" in page.text_content(".expansions")
    assert page.locator("li.hit p.via").count() >= 2  # en-sea and zh-sea say why they are listed
    page.screenshot(path=str(SHOTS / f"search-label-{width}.png"), full_page=True)

    page.fill("#q", "port")
    page.press("#q", "Enter")
    page.wait_for_load_state("networkidle")
    before = _total(page)
    bar = page.locator("svg.chart a.bar-link").last
    label = bar.get_attribute("aria-label")
    day = re.search(r"\d{4}-\d{2}-\d{2}", label).group(0)
    count = int(re.search(r"\((\d+)", label).group(1))
    bar.click()
    page.wait_for_load_state("networkidle")
    assert f"since={day}" in page.url and f"until={day}" in page.url
    assert page.input_value("input[name=since]") == day and page.input_value("input[name=until]") == day
    assert _total(page) == count < before
    page.screenshot(path=str(SHOTS / f"search-bar-clicked-{width}.png"), full_page=True)
    assert not errors, errors
    context.close()
