"""A stale charset declaration: UTF-8 bytes under a single-byte declaration are UTF-8 (page titles
and authors came out as mojibake, "sanciÃ³n")."""

from pipeline.extract import decode_html


def test_utf8_bytes_under_a_stale_single_byte_declaration_are_utf8():
    raw = '<html><head><meta charset="iso-8859-15"></head><body><p>sanción, Hải Phòng</p></body></html>'.encode()
    decoded = decode_html(raw)
    assert "sanción, Hải Phòng" in decoded.html and decoded.encoding == "utf-8"


def test_real_single_byte_text_keeps_its_declaration():
    latin = '<meta charset="iso-8859-15"><p>sanción €</p>'.encode("iso-8859-15")
    assert "sanción €" in decode_html(latin).html
