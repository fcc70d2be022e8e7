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


def test_utf8_bytes_under_a_multibyte_declaration_they_do_not_fit_are_utf8():
    # a GB2312 page re-saved as UTF-8 with its old <meta> (People's Daily does this): decoding the
    # declared charset with replacement characters, as a sniffer that trusts declarations does, turns
    # the whole page into mojibake; the strict decode fails and the bytes are read as the UTF-8 they are
    raw = ('<html><head><meta http-equiv="content-type" content="text/html;charset=GB2312"/></head>'
           '<body><p>海防市人民委员会主席会见越南驻华大使。</p></body></html>').encode()
    decoded = decode_html(raw)
    assert "海防市人民委员会主席会见越南驻华大使。" in decoded.html and decoded.encoding == "utf-8"
    assert "\ufffd" not in decoded.html


def test_a_utf7_declaration_is_refused_so_no_markup_is_smuggled_in():
    # UTF-7 spells "<" and ">" in ASCII; browsers dropped it, so a page declaring it is read as UTF-8
    raw = b'<meta charset="utf-7"><p>+ADw-script+AD4-alert(1)+ADw-/script+AD4-</p>'
    decoded = decode_html(raw)
    assert "<script>" not in decoded.html and decoded.encoding == "utf-8"


def test_declared_charsets_mean_their_supersets():
    # Big5 pages of Hong Kong use HKSCS characters (㗎), Thai TIS-620 pages windows-874 punctuation
    hk = '<meta charset="big5"><p>香港人講嘢㗎</p>'.encode("big5hkscs")
    decoded = decode_html(hk)
    assert "香港人講嘢㗎" in decoded.html and (decoded.encoding, decoded.how) == ("big5hkscs", "meta")
    thai = '<meta charset="tis-620"><p>“ไฮฟอง” – ท่าเรือ</p>'.encode("cp874")
    decoded = decode_html(thai)
    assert "“ไฮฟอง” – ท่าเรือ" in decoded.html and (decoded.encoding, decoded.how) == ("cp874", "meta")
