"""HTML sniffing before the binary check: a page with stray control bytes is decoded as HTML;
real binaries are refused with the format named, even with HTML-ish bytes later."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from pipeline.extract import Decoded, decode_html, extract_article, sniff_html
from pipeline.outcome import Dropped

_BODY = ("<p>Cảng Hải Phòng đón tàu container lớn nhất từ trước đến nay tại bến Lạch Huyện, "
         "mở ra cơ hội mới cho ngành logistics của thành phố.</p>") * 3


def _page(title: str = "Cảng Hải Phòng đón tàu lớn", head: str = "<!DOCTYPE html>\n<html lang=\"vi\">") -> bytes:
    return (f'{head}<head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><article><h1>{title}</h1>{_BODY}</article></body></html>").encode()


@pytest.mark.parametrize("body", [
    _page(title="Cảng Hải Phòng\x00 đón tàu lớn"),  # one NUL in the title (issue #19)
    _page().replace(b"<body>", b"<body>" + b"\x00" * 200),  # a run of NULs (> 2 % of 4 KB)
    _page().replace(b"<article>", b"<article>" + bytes([1, 2, 3, 4, 5, 6, 7, 8, 0x0b, 0x0e, 0x1f]) * 30),
    b"\x00" + _page(),  # a NUL before the doctype: markup within the first KB still says HTML
    b"\x01\x02\x03 junk " + _page(head="<html>"),
    _page(head="<!-- cms -->\x00<html>"),
    b"\xef\xbb\xbf" + _page(title="Cảng\x07 Hải Phòng đón tàu lớn"),
])
def test_html_with_stray_control_bytes_is_decoded(body):
    assert sniff_html(body)
    result = decode_html(body)
    assert isinstance(result, Decoded), result
    assert "\x00" not in result.html and not any(c in result.html for c in "\x01\x02\x07\x0b\x1f")
    article = extract_article(result.html, "https://baothu.vn/a.html")
    assert not isinstance(article, Dropped), article
    assert "Lạch Huyện" in article.text
    assert article.title == "Cảng Hải Phòng đón tàu lớn"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.html", "<!doctype html><html><head><meta charset=utf-8></head></html>")
    return buf.getvalue()


_HTMLISH = b"<!doctype html><html><head><meta charset=utf-8><title>x</title></head><body>" + _BODY.encode()


@pytest.mark.parametrize("body,what", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" + _HTMLISH, "PDF document"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _HTMLISH, "PNG image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + _HTMLISH, "JPEG image"),
    (b"GIF89a\x01\x00\x01\x00" + _HTMLISH, "GIF image"),
    (gzip.compress(_HTMLISH * 20), "gzip archive"),
    (_zip(), "zip archive"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 " + _HTMLISH, "WebP image"),
    (b"\x00\x00\x00\x18ftypmp42" + _HTMLISH, "MP4 video"),
    (b"BM\x36\x00\x0c\x00\x00\x00" + _HTMLISH, "BMP image"),
])
def test_real_binaries_are_refused_with_the_format(body, what):
    result = decode_html(body)
    assert isinstance(result, Dropped), result
    assert result.reason == "binary"
    assert what in result.detail and "not HTML" in result.detail


def test_binary_without_signature_or_markup_is_still_binary():
    result = decode_html(bytes(range(256)) * 50)
    assert isinstance(result, Dropped) and result.reason == "binary"
    assert "control bytes" in result.detail and "no HTML markup" in result.detail
    # HTML markup only past the first KB does not save a body of control bytes
    result = decode_html(b"\x00\x01\x02\x03" * 400 + _HTMLISH)
    assert isinstance(result, Dropped) and result.reason == "binary"


def test_text_that_starts_like_a_short_signature_is_not_a_binary():
    # "BM" is the BMP signature; a page that starts "BMW" (no binary bytes) is text
    result = decode_html(b"BMW opens a plant " + _HTMLISH)
    assert isinstance(result, Decoded)


def test_utf16_with_bom_is_not_stripped_of_nuls():
    body = "\ufeff<!doctype html><html><head><title>Hải Phòng</title></head><body>x</body></html>".encode("utf-16-le")
    result = decode_html(body)
    assert isinstance(result, Decoded) and "Hải Phòng" in result.html
