"""Canonical URLs never merge two different articles; tracking parameters are dropped."""

from __future__ import annotations

import itertools

import pytest

from crawlers.urls import canonical_url, is_tracking_param

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


def test_fixture_site_articles_keep_distinct_ids():
    from index.article import article_id
    from tests.fixtures.fixture_sources import load_manifest

    paths = [a["path"] for a in load_manifest()["articles"]]
    ids = {article_id(canonical_url("http://127.0.0.1:8000" + p)) for p in paths}
    assert len(ids) == len(paths)
    tracked = {article_id(canonical_url(f"http://127.0.0.1:8000{p}?utm_source=rss&fbclid=1")) for p in paths}
    assert tracked == ids
