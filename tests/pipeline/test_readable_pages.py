"""Pages a browser shows stay readable: one stray byte or a download cut inside a character is
replaced and counted, not the page dropped; a meta tag naming UTF-16 on ASCII-compatible bytes
means UTF-8 (the HTML standard's prescan); an article nested deeper than libxml2's default limit
of 256 levels is still extracted."""

from __future__ import annotations

from pipeline.extract import Decoded, decode_html, extract_article
from pipeline.outcome import Dropped

PARAGRAPHS = "".join(
    f"<p>Đoạn {i}: Cảng Lạch Huyện ở Hải Phòng đón thêm tàu container cỡ lớn, sản lượng hàng hóa qua cảng "
    f"tăng đều trong quý, các doanh nghiệp logistics mở rộng kho bãi và tuyến vận tải mới.</p>" for i in range(6))


def _page(meta: str = '<meta charset="utf-8">', body: str = PARAGRAPHS) -> str:
    return (f"<!doctype html><html lang=\"vi\"><head>{meta}<title>Cảng Hải Phòng tăng sản lượng</title></head>"
            f"<body><article><h1>Cảng Hải Phòng tăng sản lượng</h1>{body}</article></body></html>")


def test_a_stray_byte_is_replaced_and_counted():
    body = _page().encode("utf-8")
    at = body.index("Đoạn 3".encode())
    broken = body[:at] + b"\xff" + body[at:]
    decoded = decode_html(broken, "text/html; charset=utf-8")
    assert isinstance(decoded, Decoded), decoded
    assert decoded.replaced == 1 and "\ufffdĐoạn 3" in decoded.html
    assert isinstance(decode_html(broken, None), Decoded)  # undeclared too
    assert not isinstance(extract_article(decoded.html, "https://news.example.vn/a"), Dropped)


def test_a_download_cut_inside_a_character_keeps_the_page():
    body = _page().encode("utf-8")
    cut = body[: body.index("Đoạn 5".encode()) + 1]  # the first byte of Đ only
    decoded = decode_html(cut, None)
    assert isinstance(decoded, Decoded) and decoded.replaced == 1


def test_many_bad_bytes_are_not_papered_over():
    body = _page().encode("utf-8").replace("ả".encode(), b"\xe1\xba")  # every ả broken
    decoded = decode_html(body, "text/html; charset=utf-8")
    assert isinstance(decoded, Dropped) or decoded.encoding != "utf-8" or decoded.replaced == 0


def test_a_meta_naming_utf16_on_utf8_bytes_means_utf8():
    decoded = decode_html(_page('<meta charset="utf-16">').encode("utf-8"), None)
    assert isinstance(decoded, Decoded) and decoded.encoding == "utf-8"
    assert "Cảng Hải Phòng" in decoded.html


def test_an_article_nested_past_the_parsers_depth_limit_is_extracted():
    deep = "<div>" * 300 + PARAGRAPHS + "</div>" * 300
    extracted = extract_article(_page(body=deep), "https://news.example.vn/deep")
    assert not isinstance(extracted, Dropped), extracted
    assert "Đoạn 5" in extracted.text
