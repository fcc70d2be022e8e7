"""Canonical URLs never merge two different articles; tracking parameters are dropped."""

from __future__ import annotations

import itertools

import pytest

from crawlers.urls import canonical_url, is_tracking_param, resolve_canonical

# Pairs of DIFFERENT articles in the URL shapes of Vietnamese and Chinese news sites: each pair
# must keep two ids.
DIFFERENT = [
    ("https://baohaiphong.vn/tin-tuc.aspx?cid=101", "https://baohaiphong.vn/tin-tuc.aspx?cid=202"),
    ("https://haiphong.gov.vn/News.aspx?ID=1234", "https://haiphong.gov.vn/News.aspx?ID=1235"),
    ("https://www.x.vn/NewsDetail.aspx?newsid=77&catid=3", "https://www.x.vn/NewsDetail.aspx?newsid=78&catid=3"),
    ("https://thhp.vn/tin.php?id=5", "https://thhp.vn/tin.php?id=6"),
    ("https://baohaiphong.vn/-/hai-phong-don-tau-123.htm", "https://baohaiphong.vn/-/hai-phong-don-tau-124.htm"),
    ("https://news.qq.com/a/20180918/012345.htm", "https://news.qq.com/a/20180918/012346.htm"),
    ("https://www.people.com.cn/n1/2024/0615/c1002-4025.html", "https://www.people.com.cn/n1/2024/0615/c1002-4026.html"),
    ("https://news.sina.com.cn/list.shtml?from=20", "https://news.sina.com.cn/list.shtml?from=40"),
    ("https://x.cn/show.asp?ref=2024A", "https://x.cn/show.asp?ref=2024B"),
    ("https://x.vn/search?source=hp&keyword=cang", "https://x.vn/search?source=hp&keyword=bien"),
    ("https://x.vn/rss?uid=1", "https://x.vn/rss?uid=2"),
    ("https://x.vn/a?p=1", "https://x.vn/a?p=2"),
    ("https://x.vn/News/Detail?ArticleID=9", "https://x.vn/News/detail?ArticleID=9"),  # path case kept
    ("https://x.vn/#!/news/1", "https://x.vn/#!/news/2"),  # hash-bang route selects the page
    ("https://x.vn/a?share=1", "https://x.vn/a?share=2"),
]

# The same article reached with tracking added: one id.
SAME = [
    ("https://vnexpress.net/hai-phong-4000001.html", "https://vnexpress.net/hai-phong-4000001.html"
     "?utm_source=facebook&utm_medium=social&utm_campaign=x&fbclid=IwAR0abc"),
    ("https://baohaiphong.vn/-/tin-123.htm", "https://baohaiphong.vn/-/tin-123.htm?gclid=Cj0K&msclkid=1#comments"),
    ("https://x.vn/News.aspx?ID=5", "https://X.VN:443/News.aspx?ID=5&utm_content=top&mc_cid=9&mc_eid=8"),
    ("https://item.example.cn/a.html?id=7", "https://item.example.cn/a.html?spm=a21bo.jianhua.201876&id=7"),
    ("https://zingnews.vn/a-post1.html", "https://zingnews.vn/a-post1.html?zarsrc=30&utm_source=zalo&gidzl=x"),
    ("https://x.fr/a.html?id=1", "https://x.fr/a.html?xtor=RSS-3&id=1"),
    ("http://x.vn/a?b=1&a=2", "http://x.vn:80/a?a=2&b=1"),
]


@pytest.mark.parametrize("a,b", DIFFERENT)
def test_different_articles_keep_different_urls(a, b):
    assert canonical_url(a) != canonical_url(b)


@pytest.mark.parametrize("a,b", SAME)
def test_tracking_variants_collapse(a, b):
    assert canonical_url(a) == canonical_url(b)


def test_no_two_different_articles_share_an_id():
    urls = [u for pair in DIFFERENT for u in pair]
    canon = [canonical_url(u) for u in urls]
    for (u1, c1), (u2, c2) in itertools.combinations(zip(urls, canon, strict=True), 2):
        assert c1 != c2, (u1, u2)


@pytest.mark.parametrize("key", ["utm_source", "UTM_Medium", "fbclid", "gclid", "msclkid", "mc_cid", "spm",
                                 "xtor", "pk_campaign", "mtm_source", "ocid"])
def test_trackers(key):
    assert is_tracking_param(key)


@pytest.mark.parametrize("key", ["id", "ID", "cid", "catid", "newsid", "NewsID", "articleid", "from", "ref", "rss",
                                 "source", "p", "page", "q", "keyword", "share", "uid", "tag"])
def test_content_parameters_are_kept(key):
    assert not is_tracking_param(key)


def test_canonical_url_is_idempotent():
    for a, b in DIFFERENT + SAME:
        for url in (a, b):
            once = canonical_url(url)
            assert canonical_url(once) == once


BASE = "http://127.0.0.1:8000"
# The URL shapes of Vietnamese and Chinese news sites, filled with each fixture article's serial
# number and slug; each must select one article.
SHAPES = [
    "https://{domain}/tin-tuc.aspx?ID={n}",
    "https://{domain}/News/NewsDetail.aspx?newsid={n}&catid=3",
    "https://{domain}/tin.php?id={n}",
    "https://{domain}/-/{slug}-{n}.htm",
    "https://{domain}/tin-tuc.aspx?cid={n}",
    "https://{domain}/a/20261120/{n:06d}.htm",
]
TRACKING = "utm_source=rss&utm_medium=feed&fbclid=IwAR0abc&spm=a21bo.1&gclid=Cj0K"


def _fixture_articles() -> list[dict]:
    from tests.fixtures.fixture_sources import load_manifest

    return load_manifest()["articles"]


def _with_tracking(url: str, extra: str = TRACKING) -> str:
    return url + ("&" if "?" in url else "?") + extra.lstrip("?")


def _page_id(url: str, html_bytes: bytes) -> tuple[str, str]:
    """(id, URL) as the pipeline gives them: the page's declared canonical, resolved."""
    from index.article import article_id
    from pipeline.extract import decode_html, extract_article

    decoded = decode_html(html_bytes)
    extracted = extract_article(decoded.html, url, min_chars=1)
    assert not hasattr(extracted, "reason"), (url, extracted)
    resolved = resolve_canonical(url, extracted.canonical_url)
    return article_id(resolved), resolved


def test_fixture_site_articles_keep_distinct_ids():
    """Every fixture article, read as the pipeline reads it (its rel=canonical resolved), reached
    with or without the feed's tracking parameters: one id per article, never one for two."""
    from tests.conftest import REPO

    site = REPO / "tests" / "fixtures" / "site"
    ids: dict[str, str] = {}
    for article in _fixture_articles():
        body = (site / article["path"].lstrip("/")).read_bytes().replace(b"{{BASE}}", BASE.encode())
        own, url = _page_id(BASE + article["path"], body)
        assert url == canonical_url(BASE + article.get("canonical", article["path"]))
        for query in {article.get("feed_link_query", ""), TRACKING} - {""}:
            assert _page_id(_with_tracking(BASE + article["path"], query), body)[0] == own
        assert own not in ids, (article["path"], ids.get(own))  # a syndicated copy is another article too
        ids[own] = article["path"]
    assert len(ids) == len(_fixture_articles()) == 40


def test_fixture_articles_in_news_site_url_shapes_keep_distinct_ids():
    """The fixture articles served in the URL shapes of Vietnamese and Chinese sites (?id=,
    newsid=, .aspx?ID=, /-/...htm): no two share an id across all shapes, tracking variants and a
    declared canonical that repeats the URL collapse into one, and a CMS canonical that drops the
    selecting parameter (tin-tuc.aspx for tin-tuc.aspx?ID=5) or names the home page merges nothing."""
    from index.article import article_id

    seen: dict[str, str] = {}
    for n, article in enumerate(_fixture_articles(), start=1):
        slug = article["path"].rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")
        for shape in SHAPES:
            url = shape.format(domain=article["domain"], n=n, slug=slug)
            own = article_id(resolve_canonical(url, None))
            assert own not in seen, (url, seen.get(own))
            seen[own] = url
            tracked = _with_tracking(url)
            assert article_id(resolve_canonical(tracked, None)) == own
            assert article_id(resolve_canonical(tracked, url)) == own  # rel=canonical is the clean URL
            script = url.split("?", 1)[0]
            assert article_id(resolve_canonical(tracked, script)) == own, url  # the query dropped
            assert article_id(resolve_canonical(url, f"https://{article['domain']}/")) == own  # the home page
    assert len(seen) == len(SHAPES) * len(_fixture_articles())


def test_a_canonical_that_drops_the_selecting_query_is_not_taken():
    page = "https://haiphong.gov.vn/tin-tuc.aspx?ID=1234&utm_source=x"
    assert resolve_canonical(page, "https://haiphong.gov.vn/tin-tuc.aspx") == \
        "https://haiphong.gov.vn/tin-tuc.aspx?ID=1234"
    # a canonical with its own selecting query, or another path, is still taken
    assert resolve_canonical(page, "https://haiphong.gov.vn/tin-tuc.aspx?ID=1234&lang=vi") == \
        "https://haiphong.gov.vn/tin-tuc.aspx?ID=1234&lang=vi"
    assert resolve_canonical(page, "https://haiphong.gov.vn/tin/1234-cang.html") == \
        "https://haiphong.gov.vn/tin/1234-cang.html"
    # parameters that only choose a view (AMP, mobile, print): the bare canonical is the article
    for view in ("amp=1", "amp", "outputType=amp", "m=1", "print=1"):
        assert resolve_canonical(f"https://x.vn/a.aspx?{view}", "https://x.vn/a.aspx") == "https://x.vn/a.aspx"
    assert resolve_canonical("https://x.vn/a.aspx?ID=5&amp=1", "https://x.vn/a.aspx") == "https://x.vn/a.aspx?ID=5&amp=1"
    # a page whose only parameters track: the bare canonical is the page
    assert resolve_canonical("https://x.vn/a.aspx?utm_source=x", "https://x.vn/a.aspx") == "https://x.vn/a.aspx"
