import codecs
import unicodedata

import pytest

from pipeline.extract import Decoded, decode_html, extract_article
from pipeline.outcome import Dropped

ARTICLE = """<html lang="vi"><head><meta charset="{charset}"><title>{title} | Báo Thử</title>
<meta name="description" content="Tóm tắt bài viết.">
<meta property="article:published_time" content="2026-11-20T08:15:00+07:00">
<link rel="canonical" href="https://baothu.vn/kinh-te/bai-viet.html"></head>
<body><nav><a href="/">Trang chủ</a> <a href="/the-gioi">Thế giới</a></nav>
<article><h1>{title}</h1><p>{body}</p><p>{body}</p></article>
<footer>Liên hệ quảng cáo. Bản quyền thuộc về Báo Thử.</footer></body></html>"""
BODY = "Thành phố Hải Phòng đón chuyến tàu container lớn nhất từ trước tới nay tại cảng Lạch Huyện, mở ra cơ hội mới."


def page(title="Cảng Hải Phòng đón tàu lớn", charset="utf-8", body=BODY):
    return ARTICLE.format(charset=charset, title=title, body=body)


@pytest.mark.parametrize("encoding,declared_as", [
    ("cp1258", "windows-1258"), ("gb18030", "gbk"), ("cp932", "shift_jis"), ("cp949", "euc-kr"),
    ("cp1251", "windows-1251"), ("utf-8", "utf-8"),
])
def test_declared_charsets_decode(encoding, declared_as):
    texts = {"cp1258": "Cảng Hải Phòng", "gb18030": "越南海防港", "cp932": "ハイフォン港", "cp949": "하이퐁 항구",
             "cp1251": "Порт Хайфона", "utf-8": "Hải Phòng 海防"}
    text = texts[encoding]
    source = unicodedata.normalize("NFD", text) if encoding == "cp1258" else text
    body = f'<html><head><meta charset="{declared_as}"></head><body><p>{source}</p></body></html>'
    raw = codecs.encode(body, encoding, errors="strict") if encoding != "cp1258" else body.encode("cp1258")
    decoded = decode_html(raw)
    assert isinstance(decoded, Decoded) and decoded.how == "meta"
    assert text in decoded.html


def test_http_charset_wins_over_meta():
    raw = '<meta charset="utf-8"><p>Порт Хайфона</p>'.encode("cp1251")
    assert "Хайфона" in decode_html(raw, "text/html; charset=windows-1251").html


def test_undeclared_legacy_charset_is_detected():
    raw = ("<html><body><p>" + "В Хайфоне открыли новый терминал для контейнеров. " * 20 + "</p></body></html>").encode(
        "cp1251")
    decoded = decode_html(raw)
    assert decoded.how == "detected" and "Хайфоне" in decoded.html


@pytest.mark.parametrize("body,reason", [(b"", "empty"), (b"   \n", "empty"),
                                         (bytes(range(256)) * 50, "binary")])
def test_bad_bodies_are_dropped_with_a_reason(body, reason):
    result = decode_html(body)
    assert isinstance(result, Dropped) and result.reason == reason


def test_extracts_text_without_boilerplate_and_metadata():
    result = extract_article(page(), "https://baothu.vn/kinh-te/bai-viet.html?utm_source=x",
                             timezone="Asia/Ho_Chi_Minh")
    assert result.title.startswith("Cảng Hải Phòng đón tàu lớn")
    assert "Lạch Huyện" in result.text
    assert "Bản quyền" not in result.text and "Trang chủ" not in result.text
    assert result.published_at.isoformat() == "2026-11-20T01:15:00+00:00"
    assert result.canonical_url == "https://baothu.vn/kinh-te/bai-viet.html"
    assert result.html_lang == "vi" and result.lead == "Tóm tắt bài viết."


def test_page_without_article_text_is_dropped():
    result = extract_article("<html><body><nav>Trang chủ</nav></body></html>", "https://x.vn/")
    assert isinstance(result, Dropped) and result.reason == "no_text"
