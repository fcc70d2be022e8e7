"""Legacy Vietnamese font encodings (TCVN3/ABC, VNI, VISCII): round trips, detection, no false positives.

Test pages are built by *encoding* Vietnamese sentences into each legacy scheme with the inverse of the
module's tables, then decoding the bytes the way hpmon would (windows-1252, ISO-8859-1, or UTF-8 after the
mojibake was re-saved). Negative pages are genuine text in the languages hpmon reads.
"""

from __future__ import annotations

import gzip
import re
import unicodedata

import pytest

from bench.common import DATA_ROOT as BENCHMARKS  # the shared public benchmark data, read in place
from pipeline.extract import decode_html
from pipeline.legacy_vietnamese import (
    convert_legacy_vietnamese,
    decode_as_cp1252,
    detect_legacy_vietnamese,
    font_hints,
    is_vietnamese_syllable,
    legacy_evidence,
    legacy_table,
)

SENTENCES = [
    "Cảng Hải Phòng đón tàu container lớn nhất từ trước tới nay tại bến Lạch Huyện.",
    "Mùa hè, du khách đổ về đảo Cát Bà để ngắm vịnh Lan Hạ và khu rừng quốc gia xanh mướt.",
    "Bãi biển Đồ Sơn rộn rã tiếng sóng, những chiếc thuyền nhỏ nằm nghỉ dưới nắng chiều.",
    "Thành phố hoa phượng đỏ rực rỡ mỗi độ tháng năm, khi học trò chuẩn bị nghỉ hè.",
    "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG QUYẾT ĐỊNH ĐẦU TƯ MỞ RỘNG ĐƯỜNG VEN BIỂN ĐỒ SƠN.",
    "Người dân Kiến An, Thủy Nguyên và An Lão háo hức chờ đợi cây cầu mới bắc qua sông Cấm.",
    "Ông Nguyễn Văn Ẩn, ngư dân ở Bạch Long Vĩ, kể rằng gió mùa đông bắc năm nay đến sớm hơn.",
    "Ấm áp, hiếu khách và giản dị: đó là ấn tượng của bạn bè quốc tế về ẩm thực đất Cảng với bánh đa cua.",
    "Sở Giao thông vận tải cho biết tuyến phà Gót đi Cát Bà tăng chuyến, giá vé giữ nguyên suốt mùa lễ hội.",
    "Ở quận Ngô Quyền, hàng nghìn người xếp hàng dài xem pháo hoa khai mạc Lễ hội Hoa Phượng Đỏ.",
]
TEXT = " ".join(SENTENCES)

VOWELS = "aăâeêioôơuưy"
TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
LETTERS = [unicodedata.normalize("NFC", v + t) for v in VOWELS for t in TONES] + ["đ"]
ALL_LETTERS = LETTERS + [x.upper() for x in LETTERS]
TONED_CAPITALS = {unicodedata.normalize("NFC", v.upper() + t) for v in VOWELS for t in TONES[1:]}


# ---- encoders: inverses of the module's tables ---------------------------------------------------

def _byte_of(char: str) -> int:
    return ord(char) if ord(char) < 0x100 else char.encode("cp1252")[0]


def encode_tcvn3(text: str, capitals: str = "vn1") -> bytes:
    """Unicode → TCVN3 bytes. capitals="vn1": toned capitals in their VN1 slots; capitals="font": the
    VN3 habit, toned capitals written with the lowercase code (a capital font shows them as capitals)."""
    table = legacy_table("tcvn3")
    inverse: dict[str, int] = {}
    for char, letter in table.items():
        inverse.setdefault(letter, _byte_of(char))
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if ord(ch) < 0x80:
            out.append(ord(ch))
        elif capitals == "font" and ch in TONED_CAPITALS:
            out.append(inverse[ch.lower()])
        else:
            out.append(inverse[ch])
    return bytes(out)


def encode_vni(text: str) -> bytes:
    table = legacy_table("vni")
    inverse: dict[str, str] = {}
    for seq, letter in table.items():
        inverse.setdefault(letter, seq)
    return "".join(ch if ord(ch) < 0x80 else inverse[ch] for ch in unicodedata.normalize("NFC", text)).encode("cp1252")


def encode_viscii(text: str) -> bytes:
    table = legacy_table("viscii")
    inverse = {letter: _byte_of(char) for char, letter in table.items()}
    inverse["Õ"] = 0xA0
    return bytes(ord(ch) if ord(ch) < 0x80 else inverse[ch] for ch in unicodedata.normalize("NFC", text))


ENCODERS = {"tcvn3": encode_tcvn3, "vni": encode_vni, "viscii": encode_viscii}


def page(body: str, font: str | None = None, title: str = "Tin Hải Phòng") -> str:
    style = f' style="font-family: {font}, serif"' if font else ""
    return (f'<html><head><meta charset="windows-1252"><title>{title}</title>'
            '<script>var u = "https://example.org/a?b=1&c=2"; if (a < b) { go(); }</script></head>'
            f'<body><div class="bai-viet"{style}><h1>{title}</h1><p>{body}</p>'
            '<a href="https://baohaiphong.vn/tin-tuc.html?id=42&amp;p=1">Xem tiếp</a></div></body></html>')


def legacy_page(encoding: str, body: str = TEXT, font: str | None = None, **kw: str) -> bytes:
    """A whole HTML page in ``encoding``: markup is ASCII, the Vietnamese is legacy-encoded (TCVN3 in
    the VN3 form real ABC documents have: toned capitals written with the lowercase codes)."""
    html = page(body, font)
    encoder = ENCODERS[encoding]
    if encoding == "tcvn3":
        kw.setdefault("capitals", "font")
    return "".join(part if part.startswith("<") else encoder(part, **kw).decode("latin-1")
                   for part in re.split(r"(<[^>]*>)", html)).encode("latin-1")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# ---- (a) tables and round trips ------------------------------------------------------------------

@pytest.mark.parametrize("encoding,mojibake", [
    ("tcvn3", "H¶i Phßng, ®¶o C¸t Bµ, §å S¬n, hoa ph­îng ®á"),
    ("vni", "Haûi Phoøng, ñaûo Caùt Baø, Ñoà Sôn, hoa phöôïng ñoû"),
    ("viscii", b"H\xe4i Ph\xf2ng, \xf0\xe4o C\xe1t B\xe0, \xd0\xb0 S\xbdn, hoa ph\xdf\xfeng \xf0\xf6".decode("cp1252")),
])
def test_published_code_points_convert_to_the_city_names(encoding, mojibake):
    assert convert_legacy_vietnamese(mojibake, encoding) == "Hải Phòng, đảo Cát Bà, Đồ Sơn, hoa phượng đỏ"


def test_tables_cover_all_134_vietnamese_letters():
    non_ascii = {letter for letter in ALL_LETTERS if not letter.isascii()}
    assert len(non_ascii) == 134
    for encoding in ("tcvn3", "vni"):
        assert non_ascii <= set(legacy_table(encoding).values()), encoding
    assert set(legacy_table("viscii").values()) | {"Õ"} == non_ascii  # Õ is 0xA0: read inside words only


@pytest.mark.parametrize("decoder", ["cp1252", "latin-1"])
def test_every_letter_with_every_tone_round_trips_in_viscii_and_vni(decoder):
    decode = decode_as_cp1252 if decoder == "cp1252" else (lambda b: b.decode("latin-1"))
    for letter in ALL_LETTERS:
        word = f"x{letter}n"  # inside a word, as in text
        assert convert_legacy_vietnamese(decode(encode_viscii(word)), "viscii") == word, letter
        assert convert_legacy_vietnamese(decode(encode_vni(word)), "vni") == word, letter


def test_every_tcvn3_letter_round_trips_with_the_vn1_capitals_read_as_latin1():
    for letter in ALL_LETTERS:
        word = f"x{letter}n"
        assert convert_legacy_vietnamese(encode_tcvn3(word).decode("latin-1"), "tcvn3") == word, letter


def test_tcvn3_capitals_in_cp1252_slots_that_are_punctuation_stay_punctuation():
    # VN3 documents use 0x93/0x94/0x96 as quotes and dashes; only cp1252 letters there are VN1 capitals.
    assert convert_legacy_vietnamese("“C¶ng” – …", "tcvn3") == "“Cảng” – …"
    assert convert_legacy_vietnamese("\x9eY BAN", "tcvn3") == "ỦY BAN"  # C1 form (ISO-8859-1 decoding)
    assert convert_legacy_vietnamese("žY BAN", "tcvn3") == "ỦY BAN"  # cp1252 form of the same byte


def test_tcvn3_capital_words_written_with_lowercase_codes_come_back_as_capitals():
    caps = SENTENCES[4]
    mojibake = decode_as_cp1252(encode_tcvn3(caps, capitals="font"))
    assert mojibake != caps and "HảI" not in mojibake
    assert convert_legacy_vietnamese(mojibake, "tcvn3") == caps


def test_tcvn3_capital_font_region_converts_to_capitals():
    body = encode_tcvn3("Cảng Hải Phòng", capitals="font").decode("latin-1").lower()  # typed in lowercase
    html = f'<p>Tin mới</p><font face=".VnTimeH"><b>{body}</b></font><p>c¶ng</p>'
    out = convert_legacy_vietnamese(html, "tcvn3")
    assert out == '<p>Tin mới</p><font face=".VnTimeH"><b>cẢng hẢi phÒng</b></font><p>cảng</p>'


@pytest.mark.parametrize("encoding", ["vni", "viscii"])
def test_all_sentences_round_trip_in_each_decoding(encoding):
    raw = ENCODERS[encoding](TEXT)
    for decoded in (decode_as_cp1252(raw), raw.decode("latin-1"), decode_as_cp1252(raw).encode("utf-8").decode()):
        assert convert_legacy_vietnamese(decoded, encoding) == nfc(TEXT)


def test_all_sentences_round_trip_in_tcvn3_vn1_and_vn3():
    assert convert_legacy_vietnamese(encode_tcvn3(TEXT).decode("latin-1"), "tcvn3") == nfc(TEXT)
    # VN3 (the ABC fonts): no toned capitals; all-caps words come back, a toned capital opening a
    # lowercase word cannot be told from its lowercase letter (a known limit of the encoding itself).
    vn3 = decode_as_cp1252(encode_tcvn3(TEXT, capitals="font"))
    expected = nfc(TEXT).replace("Ấm", "ấm").replace("Ẩn", "ẩn").replace("Ở quận", "ở quận")
    assert convert_legacy_vietnamese(vn3, "tcvn3") == expected


def test_unknown_encoding_is_an_error():
    with pytest.raises(ValueError):
        convert_legacy_vietnamese("abc", "vps")


# ---- syllable validator ------------------------------------------------------------------------

@pytest.mark.parametrize("word", ["Hải", "Phòng", "nghiêng", "quyết", "giữa", "khuỷu", "hoà", "hòa", "thuý",
                                  "thúy", "người", "ĐƯỜNG", "xoong", "gì", "oanh", "khuya", "ở"])
def test_vietnamese_syllables_are_valid(word):
    assert is_vietnamese_syllable(word)


@pytest.mark.parametrize("word", ["càt", "hảỉ", "été", "über", "für", "Hafen", "miasto", "hàio", "phòngs",
                                  "jà", "cảng1", "ha\u0301\u0300", "ing", "H¶i", "Haûi"])
def test_non_syllables_are_invalid(word):
    assert not is_vietnamese_syllable(word)


# ---- (b) detection on legacy pages ---------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "viscii"])
@pytest.mark.parametrize("font", [None, "hint"])
def test_legacy_pages_are_detected(encoding, font):
    fonts = {"tcvn3": ".VnTime", "vni": "VNI-Times", "viscii": "VISCII Times"}
    text = decode_as_cp1252(legacy_page(encoding, font=fonts[encoding] if font else None))
    assert detect_legacy_vietnamese(text) == encoding
    converted = convert_legacy_vietnamese(text, encoding)
    assert "Cảng Hải Phòng đón tàu" in converted and "hoa phượng đỏ" in converted


@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_decode_html_converts_legacy_pages_declared_windows_1252(encoding):
    decoded = decode_html(legacy_page(encoding), "text/html; charset=windows-1252")
    assert (decoded.encoding, decoded.how) == (encoding, "legacy-font")
    assert nfc(SENTENCES[2]) in decoded.html


@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "viscii"])
def test_decode_html_converts_legacy_pages_without_a_declared_charset(encoding):
    decoded = decode_html(legacy_page(encoding), None)  # VISCII is not even valid cp1252
    assert (decoded.encoding, decoded.how) == (encoding, "legacy-font")
    assert nfc(SENTENCES[0]) in decoded.html and "Lễ hội Hoa Phượng Đỏ" in decoded.html


@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "viscii"])
def test_latin1_decoding_with_c1_controls_is_detected(encoding):
    text = legacy_page(encoding).decode("latin-1")
    assert detect_legacy_vietnamese(text) == encoding
    assert nfc(SENTENCES[0]) in convert_legacy_vietnamese(text, encoding)


@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "viscii"])
def test_mojibake_resaved_as_utf8_is_detected(encoding):
    mojibake = decode_as_cp1252(legacy_page(encoding))
    decoded = decode_html(mojibake.encode("utf-8"), None)  # the broken text, saved again as UTF-8
    assert (decoded.encoding, decoded.how) == (encoding, "legacy-font")
    assert "Lễ hội Hoa Phượng Đỏ" in decoded.html


def test_tcvn3_headline_habit_capital_words_is_still_detected():
    text = decode_as_cp1252(legacy_page("tcvn3", capitals="font"))
    assert detect_legacy_vietnamese(text) == "tcvn3"
    assert nfc(SENTENCES[4]) in convert_legacy_vietnamese(text, "tcvn3")


@pytest.mark.parametrize("encoding,font", [("tcvn3", ".VnArial"), ("vni", "VNI-Helve"), ("viscii", "VISCII")])
def test_a_font_hint_lets_a_short_snippet_be_detected(encoding, font):
    short = "Cảng Hải Phòng đón tàu lớn."
    hinted = decode_as_cp1252(legacy_page(encoding, body=short, font=font))
    plain = decode_as_cp1252(legacy_page(encoding, body=short))
    assert detect_legacy_vietnamese(plain) is None  # too little evidence alone
    assert detect_legacy_vietnamese(hinted) == encoding
    assert font_hints(hinted) == {encoding}


def test_evidence_is_reported_per_encoding():
    evidence = {e.encoding: e for e in legacy_evidence(decode_as_cp1252(legacy_page("vni")))}
    assert evidence["vni"].after > 0.95 and evidence["vni"].before < 0.1 and evidence["vni"].convincing


# ---- (c) no false positives ----------------------------------------------------------------------

GENUINE = {
    "fr": "Le port de Hải Phòng, dans le nord du Việt Nam, a accueilli cette année un nombre record de porte-"
          "conteneurs. Les autorités prévoient d'élargir le chenal de Lạch Huyện avant l'été. « C'est une étape "
          "décisive pour l'économie régionale », a déclaré un responsable, à côté des grues géantes.",
    "de": "Die Hafenstadt Hải Phòng im Norden Vietnams wächst schneller als erwartet. Über die neue Brücke "
          "fahren täglich tausende Lastwagen zum Containerhafen. Für Touristen ist die Insel Cát Bà mit ihren "
          "Kalksteinfelsen ein beliebtes Ziel; Straßenhändler verkaufen dort frische Meeresfrüchte.",
    "es": "El puerto de Hải Phòng, en el norte de Vietnam, recibió este año más buques que nunca. Según las "
          "autoridades, la ampliación del muelle terminará en otoño. ¿Qué significa para la región? Más empleo, "
          "más inversión extranjera y también más tráfico en las carreteras de la costa.",
    "pt": "O porto de Hải Phòng, no norte do Vietnã, bateu recordes de movimentação neste ano. A prefeitura "
          "anunciou que a ponte nova será inaugurada em dezembro. Os pescadores da ilha de Cát Bà, porém, "
          "reclamam da poluição e pedem ações concretas do governo à população.",
    "it": "Il porto di Hải Phòng, nel nord del Vietnam, è cresciuto più del previsto. Le autorità hanno "
          "annunciato nuovi investimenti perché la città diventi un polo logistico. Sull'isola di Cát Bà il "
          "turismo è già tornato ai livelli di prima della pandemia, però mancano infrastrutture.",
    "pl": "Port w Hải Phòng na północy Wietnamu przeżywa prawdziwy rozkwit. Władze miasta zapowiadają "
          "rozbudowę nabrzeża i nową linię kolejową. Mieszkańcy wyspy Cát Bà cieszą się z turystów, ale "
          "skarżą się na hałas i zanieczyszczenie wody w zatoce.",
    "tr": "Vietnam'ın kuzeyindeki Hải Phòng limanı bu yıl rekor sayıda gemi ağırladı. Şehir yönetimi yeni "
          "köprünün ilkbaharda açılacağını açıkladı. Cát Bà adasındaki balıkçılar ise kıyıdaki kirlilikten "
          "şikâyetçi ve çözüm bekliyor.",
    "cs": "Přístav Hải Phòng na severu Vietnamu letos přijal rekordní počet lodí. Městská rada oznámila, že "
          "nový most bude dokončen do podzimu. Rybáři z ostrova Cát Bà si však stěžují na znečištění moře a "
          "žádají rychlé řešení.",
    "vi": "Cảng Hải Phòng năm nay đón số lượng tàu kỷ lục. Ủy ban nhân dân thành phố cho biết cầu mới sẽ "
          "thông xe trước mùa mưa bão. Ngư dân trên đảo Cát Bà phấn khởi vì du khách quay trở lại đông đúc, "
          "nhưng vẫn lo ngại tình trạng ô nhiễm ở vịnh Lan Hạ.",
    "en": "The port of Hai Phong in northern Vietnam handled a record number of ships this year. City officials "
          "said the new bridge will open before the rainy season, while fishermen on Cat Ba island welcomed "
          "the return of tourists despite worries about pollution in Lan Ha bay.",
}
LEGACY_CODEC = {"pl": "cp1250", "cs": "cp1250", "tr": "cp1254"}


@pytest.mark.parametrize("lang", sorted(GENUINE))
def test_genuine_pages_are_not_detected(lang):
    text = GENUINE[lang]
    html = page(" ".join([text] * 6), title=text[:40])
    assert detect_legacy_vietnamese(html) is None
    assert detect_legacy_vietnamese(decode_html(html.encode("utf-8"), None).html) is None
    codec = LEGACY_CODEC.get(lang, "cp1252")
    if lang not in ("vi",):
        raw = html.replace("ả", "a").replace("ò", "o").replace("á", "a") if codec != "cp1252" else html
        raw = nfc(raw).encode(codec, errors="replace")
        # declared correctly, and mis-declared as windows-1252 (Polish/Czech/Turkish mojibake)
        assert detect_legacy_vietnamese(decode_html(raw, f"text/html; charset={codec}").html) is None
        assert detect_legacy_vietnamese(decode_as_cp1252(raw)) is None


def test_unicode_vietnamese_page_declaring_a_legacy_font_is_not_detected():
    for font in (".VnTime", "VNI-Times", "VISCII"):
        html = page(" ".join([GENUINE["vi"]] * 4), font=font)
        assert detect_legacy_vietnamese(html) is None


def _langid_pages(kind: str) -> list[tuple[str, str]]:
    folder = BENCHMARKS / "langid" / kind
    pages = []
    for path in sorted(folder.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        pages += [(path.stem, " ".join(lines[i:i + 20])) for i in range(0, len(lines), 20)]
    return pages


@pytest.mark.skipif(not (BENCHMARKS / "langid").is_dir(), reason="shared benchmarks not present")
def test_no_langid_benchmark_text_is_detected():
    detected = [(lang, text[:60]) for kind in ("sentences", "word-pairs")
                for lang, text in _langid_pages(kind) if detect_legacy_vietnamese(text)]
    assert detected == []


@pytest.mark.skipif(not (BENCHMARKS / "langid").is_dir(), reason="shared benchmarks not present")
def test_benchmark_vietnamese_encoded_in_legacy_schemes_is_detected():
    lines = (BENCHMARKS / "langid" / "sentences" / "vi.txt").read_text(encoding="utf-8").splitlines()[:200]
    paragraphs = [" ".join(lines[i:i + 10]) for i in range(0, len(lines), 10)]
    for encoding, encoder in ENCODERS.items():
        known = set(legacy_table(encoding).values()) | {"Õ"}
        legacy = [encoder("".join(ch if ord(ch) < 0x80 or ch in known else "?" for ch in nfc(p))) for p in paragraphs]
        found = [detect_legacy_vietnamese(decode_as_cp1252(raw)) for raw in legacy]
        assert found == [encoding] * len(paragraphs), encoding


@pytest.mark.skipif(not (BENCHMARKS / "extraction" / "html").is_dir(), reason="shared benchmarks not present")
def test_no_extraction_benchmark_page_is_detected():
    detected = []
    for path in sorted((BENCHMARKS / "extraction" / "html").glob("*.html.gz")):
        raw = gzip.decompress(path.read_bytes())
        if detect_legacy_vietnamese(raw.decode("utf-8", errors="replace")):
            detected.append(path.name)
        if detect_legacy_vietnamese(decode_as_cp1252(raw)):  # UTF-8 mis-read as windows-1252
            detected.append("cp1252:" + path.name)
    assert detected == []


# ---- (d) markup survives -------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "viscii"])
def test_markup_survives_conversion_of_a_whole_page(encoding):
    text = decode_as_cp1252(legacy_page(encoding))
    out = convert_legacy_vietnamese(text, encoding)
    tags = re.compile(r"<[^>]*>")
    assert tags.findall(out) == tags.findall(text)
    assert '<script>var u = "https://example.org/a?b=1&c=2"; if (a < b) { go(); }</script>' in out
    assert 'href="https://baohaiphong.vn/tin-tuc.html?id=42&amp;p=1"' in out
    assert nfc(SENTENCES[5]) in out


def test_scored_words_are_the_runs_holding_a_non_ascii_character():
    from pipeline.legacy_vietnamese import _non_ascii_words

    text = "Th\u00e0nh ph\u00e8 H\u00b6i Ph\u00dfng port 2026 \u00a9x, abc\u00a0d\u00e9f plain"
    assert _non_ascii_words(text) == {"Th\u00e0nh": 1, "ph\u00e8": 1, "H\u00b6i": 1, "Ph\u00dfng": 1,
                                      "\u00a9x": 1, "abc\u00a0d\u00e9f": 1}
    assert _non_ascii_words("a" * 50_000 + " b") == {}  # a long ASCII run: one pass, no word
