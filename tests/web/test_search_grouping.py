"""Search results fold the copies of one story (Article.story_id) under its best-ranked copy, with
"and N more" leading to the story's page; a toggle lists every copy."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lxml import html as lxml_html

from index.article import Article

STORY_COPIES = {"vi-port", "en-port", "zh-port", "reasoned"}  # story-port in the fixture index


def _hit_ids(page: str, xpath: str = "//li[@class='hit']/h3/a") -> list[str]:
    tree = lxml_html.fromstring(page)
    return [re.sub(r"^/articles/", "", a.get("href")) for a in tree.xpath(xpath)]


def _leads(page: str) -> list[str]:
    """The hits listed at the top level (a story's other copies are under its lead)."""
    return _hit_ids(page, "//ol[@class='hits']/li[@class='hit']/h3/a")


def test_one_hit_per_story_with_its_copies_under_it(client_for):
    client = client_for("viewer")
    page = client.get("/search", params={"q": "hai phong"}).text
    leads = _leads(page)
    assert len(STORY_COPIES & set(leads)) == 1, leads  # the story's four copies all match; one leads
    lead = (STORY_COPIES & set(leads)).pop()
    under = _hit_ids(page, f"//ol[@class='hits']/li[h3/a/@href='/articles/{lead}']/ol[@class='story-group']"
                           "/li/h3/a")
    assert set(under) == STORY_COPIES - {lead}
    ids = _hit_ids(page)
    assert len(ids) == len(set(ids))  # each article once
    links = lxml_html.fromstring(page).xpath("//p[@class='story-copies small']/a")
    assert [a.get("href") for a in links] == ["/stories/story-port"]
    assert links[0].text_content() == "Cả sự kiện: 4 bài, 4 cơ quan báo chí, 3 ngôn ngữ"


def test_copies_on_other_pages_are_counted(client_for):
    """Twenty articles dated between the story's newest copy and the others push three copies to the
    second page: the first says so, and every copy is still listed once over the two pages."""
    client = client_for("viewer")
    backend = client.app.state.ctx.backend
    backend.upsert([Article(id=f"filler-{i}", url=f"https://news.example/filler/{i}", source_id="src-vi",
                            title=f"Tin Hải Phòng số {i}", text="Hải Phòng hôm nay.", language="vi",
                            published_at=datetime(2026, 10, 21, 1, i, tzinfo=UTC)) for i in range(20)])
    backend.refresh()
    first = client.get("/search", params={"q": "hai phong", "sort": "date"}).text
    assert STORY_COPIES & set(_hit_ids(first)) == {"reasoned"}
    link = lxml_html.fromstring(first).xpath("//p[@class='story-copies small']/a")[0].text_content()
    assert link == "và 3 bài khác cùng sự kiện ở các trang khác · Cả sự kiện: 4 bài, 4 cơ quan báo chí, 3 ngôn ngữ"
    second = client.get("/search", params={"q": "hai phong", "sort": "date", "page": "2"}).text
    assert STORY_COPIES - {"reasoned"} <= set(_hit_ids(second))
    assert len(_hit_ids(first)) == 20  # a page keeps its twenty articles


def test_the_toggle_lists_every_copy_and_stays_on_across_pages(client_for):
    client = client_for("viewer")
    grouped = lxml_html.fromstring(client.get("/search", params={"q": "hai phong"}).text)
    toggle = grouped.xpath("//p[contains(@class, 'copies-toggle')]/a")[0].get("href")
    assert "copies=all" in toggle
    page = client.get(toggle).text
    assert set(_hit_ids(page)) >= STORY_COPIES
    assert 'class="story-copies' not in page
    assert '<input type="hidden" name="copies" value="all">' in page  # a new query keeps listing every copy
    many = client.get("/search", params={"copies": "all"}).text  # 20+ articles: two pages
    pager = lxml_html.fromstring(many).xpath("//nav[@class='pager']//a")
    assert pager and all("copies=all" in a.get("href") for a in pager)


def test_a_story_known_only_to_the_index_has_its_page(client_for, settings):
    assert not (settings.home / "stories.sqlite").exists()
    page = client_for("viewer").get("/stories/story-port")
    assert page.status_code == 200
    assert set(_hit_ids(page.text)) >= STORY_COPIES
    assert client_for("viewer").get("/stories/no-such-story").status_code == 404


def test_grouping_in_english(client_for):
    client = client_for("viewer")
    from tests.web.conftest import csrf_of

    client.post("/lang", data={"lang": "en", "csrf_token": csrf_of(client.get("/search").text), "next": "/"})
    page = client.get("/search", params={"q": "hai phong"}).text
    assert "Whole story: 4 articles (outlets: 4, languages: 3)" in page
