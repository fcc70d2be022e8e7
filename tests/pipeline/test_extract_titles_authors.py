"""Titles without site names, and authors only when the page names them (small pages written for
these tests)."""

from __future__ import annotations

import pytest

from pipeline.extract import Extracted, clean_title, extract_article, split_authors, split_credits

BODY = ("<p>The port of Hai Phong received its largest container ship yet at the Lach Huyen terminal this "
        "morning, opening a direct route to the west coast of the United States, the city said.</p>") * 3


def page(head: str = "", byline: str = "", title: str = "Port welcomes largest ship | Harbour Times",
         h1: str = "Port welcomes largest ship") -> str:
    return (f'<html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
            f"<body><article><h1>{h1}</h1>{byline}{BODY}</article></body></html>")


def extract(html: str, url: str = "https://harbourtimes.example.com/news/port-ship") -> Extracted:
    result = extract_article(html, url, timezone="UTC")
    assert isinstance(result, Extracted), result
    return result


# --- titles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("title,sites,expected", [
    ("Port welcomes largest ship - Harbour Times", {"harbourtimes"}, "Port welcomes largest ship"),
    ("Harbour Times | Port welcomes largest ship", {"harbourtimes"}, "Port welcomes largest ship"),
    ("Port welcomes largest ship – HarbourTimes.com", {"harbourtimes"}, "Port welcomes largest ship"),
    ("港に最大の船が入港：港湾新聞デジタル", {"港湾新聞デジタル"}, "港に最大の船が入港"),
    ("港口迎来最大船舶-港湾网", {"港湾网"}, "港口迎来最大船舶"),
    # a separator that belongs to the headline stays
    ("Hai Phong: port welcomes largest ship", {"harbourtimes"}, "Hai Phong: port welcomes largest ship"),
    ("Port - and city - celebrate", {"harbourtimes"}, "Port - and city - celebrate"),
])
def test_site_names_are_cleaned_from_titles(title, sites, expected):
    assert clean_title(title, sites) == expected


def test_the_heading_tells_a_section_prefix_from_the_headline():
    assert clean_title("Shipping | Port welcomes largest ship", set(), ["Port welcomes largest ship"]) \
        == "Port welcomes largest ship"
    # a heading that is only a small part of the title is not taken for the headline
    assert clean_title("Ports: Hai Phong welcomes its largest ship", set(), ["Ports"]) \
        == "Ports: Hai Phong welcomes its largest ship"


def test_the_page_title_without_the_site_name_from_og_site_name():
    result = extract(page('<meta property="og:site_name" content="Harbour Times">'))
    assert result.title == "Port welcomes largest ship"


def test_json_ld_headline_and_entities():
    head = ('<meta property="og:title" content="Short social title">'
            '<script type="application/ld+json">{"@type": "NewsArticle", '
            '"headline": "Port welcomes &#8216;largest&#8217; ship"}</script>')
    result = extract(page(head, h1="Something else entirely"))
    assert result.title == "Port welcomes ‘largest’ ship"


def test_the_candidate_the_visible_heading_confirms_wins():
    head = ('<meta property="og:title" content="Port welcomes largest ship">'
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "SEO headline"}</script>')
    assert extract(page(head)).title == "Port welcomes largest ship"


# --- authors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("byline,expected", [
    ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
    ("Jane Doe, John Roe & Mary Major", ["Jane Doe", "John Roe", "Mary Major"]),
    ("Von Anna Schmidt und Peter Meier", ["Anna Schmidt", "Peter Meier"]),
    ("Par Claire Dubois et Marc Petit", ["Claire Dubois", "Marc Petit"]),
    ("Nguyễn Văn An và Trần Thị Bình", ["Nguyễn Văn An", "Trần Thị Bình"]),
    ("文／王小明", ["王小明"]),
    ("责任编辑：李华", []),  # an editor, not an author (split_credits)
    ("김철수 기자", ["김철수"]),
    ("山田太郎記者", ["山田太郎"]),
    ("Jane Doe (jd)", ["Jane Doe"]),
    ("Jobs & Hire", ["Jobs & Hire"]),
    ("https://www.facebook.com/harbourtimes", []),
])
def test_by_lines_are_split_and_normalised(byline, expected):
    assert split_authors(byline) == expected


def test_json_ld_authors_come_first_and_keep_their_spelling():
    head = ('<meta name="author" content="Harbour Times">'
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "x", "author": '
            '[{"@type": "Person", "name": "María R. Sánchez"}, {"@type": "Person", "name": "Lê Văn Cường"}]}'
            '</script>')
    assert extract(page(head)).authors == ["María R. Sánchez", "Lê Văn Cường"]


def test_json_ld_author_references_are_resolved():
    head = ('<script type="application/ld+json">{"@graph": ['
            '{"@type": "NewsArticle", "headline": "x", "author": {"@id": "https://h.example.com/#p1"}},'
            '{"@type": "Person", "@id": "https://h.example.com/#p1", "name": "Jane Doe"}]}</script>')
    assert extract(page(head)).authors == ["Jane Doe"]


def test_the_publisher_beside_a_person_is_not_an_author():
    head = ('<meta property="og:site_name" content="Harbour Times">'
            '<meta name="author" content="Harbour Times"><meta name="author" content="Jane Doe">')
    assert extract(page(head)).authors == ["Jane Doe"]


def test_the_publisher_named_as_the_only_author_is_kept():
    head = ('<meta property="og:site_name" content="Harbour Times"><script type="application/ld+json">'
            '{"@type": "NewsArticle", "headline": "x", "author": {"@type": "Organization", "name": "Harbour Times"}}'
            "</script>")
    assert extract(page(head)).authors == ["Harbour Times"]


@pytest.mark.parametrize("value", [
    "https://www.facebook.com/harbourtimes", "null", "admin", "12345", "jane-doe", "Photo: Reuters",
    "Foto: dpa", "20/11/2026 08:15", "a staff writer of the harbour desk who covers shipping",
])
def test_profile_urls_ids_slugs_photo_credits_dates_and_phrases_are_not_authors(value):
    head = f'<meta name="author" content="{value}">'
    assert extract(page(head)).authors == []


def test_no_author_when_the_page_names_none():
    assert extract(page()).authors == []


def test_a_one_word_by_line_fragment_is_not_an_author():
    byline = '<p class="byline">Tango</p>'
    assert extract(page(byline=byline)).authors == []


def test_a_kicker_before_the_by_line_word_is_dropped_but_a_name_particle_stays():
    assert split_authors("Opinion By Jane Doe") == ["Jane Doe"]
    assert split_authors("Ursula von der Leyen") == ["Ursula von der Leyen"]


def test_the_visible_heading_without_words_the_title_adds():
    head = '<meta property="og:title" content="Recipe Hai Phong crab noodle soup">'
    assert extract(page(head, title="Recipe Hai Phong crab noodle soup", h1="Hai Phong crab noodle soup")).title \
        == "Hai Phong crab noodle soup"
    # a heading that is only a kicker is not the headline
    assert extract(page(head, title="Recipe Hai Phong crab noodle soup", h1="Recipe")).title \
        == "Recipe Hai Phong crab noodle soup"
    # a kicker set off by a colon stays part of the headline
    kicker = '<meta property="og:title" content="Hai Phong: crab noodle soup wins">'
    assert extract(page(kicker, title="Hai Phong: crab noodle soup wins", h1="crab noodle soup wins")).title \
        == "Hai Phong: crab noodle soup wins"


@pytest.mark.parametrize("byline,expected", [
    ("Nicolas Dupont C.", ["Nicolas Dupont C."]),  # the dot of an initial stays
    ("Jane Doe.", ["Jane Doe"]),
    ("Adam Smith HarbourTimes Staff", ["Adam Smith"]),
    ("Harbour staff reporter", ["Harbour staff reporter"]),
    ("Hafen-Verlag GmbH, Hamburg, Germany", ["Hafen-Verlag GmbH"]),
    ("facebook.com/harbourtimes", []),
])
def test_by_line_details(byline, expected):
    assert split_authors(byline) == expected


def test_a_social_network_is_not_an_author():
    assert extract(page('<meta name="author" content="Facebook.com">')).authors == []


def test_a_body_by_line_that_is_a_phrase_is_not_an_author():
    assert extract(page(byline='<p class="author">Un documentaire de Claire Dubois</p>')).authors == []
    assert extract(page(byline='<p class="author">Maria de la Cruz</p>')).authors == ["Maria de la Cruz"]


def test_a_closing_bold_right_aligned_by_line():
    signoff = '<p style="text-align: right;"><strong>Lê Phương</strong></p>'
    head = '<meta name="author" content="Báo Thử"><meta property="og:site_name" content="Báo Thử">'
    html = page(head).replace("</article>", signoff + "</article>")
    assert extract(html).authors == ["Lê Phương"]
    credit = page(head).replace("</article>", '<p style="text-align:right"><strong>Theo Reuters</strong></p></article>')
    assert extract(credit).authors == ["Báo Thử"]  # a source credit is not a by-line: the publisher stays


def test_the_headline_the_publisher_declares_twice_beats_the_visible_heading():
    head = ('<meta property="og:title" content="Port opens route to the US west coast">'
            '<script type="application/ld+json">{"@type": "NewsArticle", '
            '"headline": "Port opens route to the US west coast"}</script>')
    result = extract(page(head, title="Largest ship ever docks at Lach Huyen | Harbour Times",
                          h1="Largest ship ever docks at Lach Huyen"))
    assert result.title == "Port opens route to the US west coast"


def test_og_title_alone_is_the_declared_headline():
    head = '<meta property="og:title" content="Port opens route to the US west coast">'
    result = extract(page(head, title="Largest ship ever docks at Lach Huyen | Harbour Times",
                          h1="Largest ship ever docks at Lach Huyen"))
    assert result.title == "Port opens route to the US west coast"


def test_a_headline_meta_tag_tells_the_section_from_the_headline():
    head = ('<meta property="og:site_name" content="항만일보">'
            '<meta property="og:title" content="항구에 최대 선박 입항-경제ㅣ항만일보">'
            '<meta name="headline" content="항구에 최대 선박 입항">')
    result = extract(page(head, title="항구에 최대 선박 입항-경제ㅣ항만일보", h1=""))
    assert result.title == "항구에 최대 선박 입항"


def test_the_newsrooms_by_line_is_an_author_not_the_publisher():
    head = ('<meta property="og:site_name" content="Harbour Times">'
            '<meta property="article:author" content="Wire Service in Hai Phong">'
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "x", '
            '"author": [{"@type": "Person", "name": "Harbour Times staff reporter"}]}</script>')
    assert extract(page(head)).authors == ["Harbour Times staff reporter"]
    # the publisher itself as author still gives way to a person named elsewhere
    head = head.replace("Harbour Times staff reporter", "Harbour Times").replace(
        "Wire Service in Hai Phong", "Jane Doe")
    assert extract(page(head)).authors == ["Jane Doe"]


def test_entities_escaped_twice_are_decoded():
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", '
            '"headline": "Port welcomes &amp;#8216;largest&amp;#8217; ship &amp;amp; crew"}</script>')
    assert extract(page(head, h1="Port welcomes ‘largest’ ship & crew")).title == "Port welcomes ‘largest’ ship & crew"


@pytest.mark.parametrize("byline,authors,editors", [
    ("Reporting by Jane Doe; Editing by John Roe", ["Jane Doe"], ["John Roe"]),
    ("Jane Doe, Senior Correspondent", ["Jane Doe"], []),
    ("By Jane Doe and John Roe, Politics Editor", ["Jane Doe", "John Roe"], []),
    ("Jane Doe in Hai Phong", ["Jane Doe"], []),
    ("By Jane Doe and John Roe for Harbour Times", ["Jane Doe", "John Roe"], []),
    ("Anna Weber aus Berlin", ["Anna Weber"], []),
    ("Hồng Phúc (theo Reuters)", ["Hồng Phúc"], []),
    # "en" is "and" in Dutch, not a place: both names stay
    ("Jan Jansen en Piet Pietersen", ["Jan Jansen", "Piet Pietersen"], []),
    ("Harbour staff reporter", ["Harbour staff reporter"], []),
])
def test_roles_datelines_and_sources_in_by_lines_are_not_names(byline, authors, editors):
    assert split_credits(byline) == (authors, editors)


@pytest.mark.parametrize("section", [
    '<meta property="article:section" content="Shipping">',
    '<script type="application/ld+json">{"@type": "BreadcrumbList", "itemListElement": ['
    '{"@type": "ListItem", "position": 1, "name": "Shipping"}, {"@type": "ListItem", "position": 2, "name": "x"}]}'
    "</script>",
    "",  # the category link in the body (below)
])
def test_a_section_name_in_the_author_field_is_not_an_author(section):
    category = '<a rel="category tag" href="/category/shipping/">Shipping</a>'
    html = page(f'<meta name="author" content="Shipping">{section}', byline=category if not section else "")
    assert extract(html).authors == []
    # a writer named beside it is
    html = html.replace('content="Shipping">', 'content="Shipping, Jane Doe">', 1)
    assert extract(html).authors == ["Jane Doe"]


def test_a_declared_headline_that_is_only_the_site_name_is_not_the_headline():
    head = '<meta property="og:site_name" content="Harbour Times"><meta property="og:title" content="Harbour Times">'
    assert extract(page(head)).title == "Port welcomes largest ship"
