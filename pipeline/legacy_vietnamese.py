"""Vietnamese pages written in legacy *font encodings*: detection and conversion to Unicode.

Before Unicode was usable (roughly until the mid-2000s, and much later in offices that kept old Word
documents), Vietnamese was typed with special fonts that reused the slots of an 8-bit Western code page.
The bytes of such a page are declared (or guessed) as windows-1252 / ISO-8859-1, so once decoded the
letters come out as Western symbols: ``H¶i Phßng`` instead of ``Hải Phòng``. Three schemes matter:

- **TCVN3 / ABC** (TCVN 5712:1993, fonts ``.VnTime``, ``.VnArial``...): one byte per precomposed
  *lowercase* letter (``¶`` = ả, ``ß`` = ò, ``®`` = đ). The common "VN3" subset has no slots for
  capital letters with a tone: those were typed with the same codes in a capital-only font
  (``.VnTimeH``, ``.VnArialH``...). The full "VN1" table of the standard also puts the 60 capital
  toned letters in C0/C1 control slots and in the gaps of the lowercase table; we read those too,
  except cp1252 punctuation (``“`` ``…`` ``–``), which VN3 documents use as punctuation.
- **VNI** (VNI-Windows, fonts ``VNI-Times``, ``VNI-Helve``...): a *two-character* scheme, an ASCII
  base letter followed by a mark character (``a`` + ``ù`` = á, ``o`` + ``ø`` = ò, ``a`` + ``ê`` = ă,
  ``e`` + ``ä`` = ệ); a few letters are single characters (``ñ`` = đ, ``ô`` = ơ, ``ö`` = ư,
  ``ò`` = ị, ``ó`` = ĩ, ``æ`` = ỉ, ``î`` = ỵ).
- **VISCII** (RFC 1456): a real 8-bit charset holding all 134 Vietnamese letters, six of them in C0
  control slots and 32 capitals in 0x80–0x9F (which cp1252 shows as ``€ ‚ … – “`` and which
  ISO-8859-1 shows as C1 controls). Python has no codec for it.

The tables below map the characters a Python string holds after ``bytes.decode("cp1252")`` (or
``latin-1``, or after the mis-rendered text was re-saved as UTF-8) back to Vietnamese, NFC.

Why detection is conservative: the "mojibake" characters of these schemes are ordinary Latin-1
letters (``é ô ü ß à``), so a French, German, Portuguese, Turkish or correctly encoded Vietnamese page
would be destroyed by a wrong conversion. A page is only converted when (1) it has many characters in
the legacy ranges (a cheap pre-check, so ordinary pages cost nothing), (2) after conversion its
non-ASCII words are overwhelmingly valid Vietnamese syllables (onset + vowel nucleus + coda, one tone
on the right vowel, only sắc/nặng on syllables ending in p, t, c, ch), and (3) before conversion they
are not. A font declaration naming a legacy font (``.VnTime``, ``VNI-Times``, ``VISCII``) lowers the
amount of evidence needed but never replaces it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from itertools import islice

TCVN3 = "tcvn3"
VNI = "vni"
VISCII = "viscii"
ENCODINGS = (TCVN3, VNI, VISCII)

# --------------------------------------------------------------------------------------------------
# Tables. Each string lists, in byte order, the Vietnamese letter of consecutive code points.
# --------------------------------------------------------------------------------------------------

# TCVN 5712:1993, bytes 0xA1..0xFF (VN1; VN3 = the lowercase letters and Ă Â Ê Ô Ơ Ư Đ).
# 0xB0..0xB4 are combining tone marks in VN1; VN3 fonts keep ° ± ² ³ ´ there, so they stay symbols ("·").
_TCVN3_A1_FF = (
    "ĂÂÊÔƠƯĐăâêôơưđẰ"  # A1..AF
    "·····àảãáạẲằẳẵắẴ"  # B0..BF
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"  # C0..CF
    "éẹềểễếệìỉỄẾỒĩíịò"  # D0..DF
    "Ổỏõóọồổỗốộờởỡớợù"  # E0..EF
    "ỖủũúụừửữứựỳỷỹýỵỐ"  # F0..FF
)
# VN1 capitals in 0x80..0x9F: read when they arrive as C1 controls (ISO-8859-1 decoding or bytes
# undefined in cp1252) or as cp1252 letters, never from cp1252 punctuation (“ ” – … of VN3 documents).
_TCVN3_80_9F = "ÀẢÃÁẠẶẬÈẺẼÉẸỆÌỈĨÍỊÒỎÕÓỌỘỜỞỠỚỢÙỦŨ"
_CP1252_LETTERS = frozenset("ƒŠŒŽšœžŸˆ˜")
_TCVN3_C0 = {0x01: "Ú", 0x02: "Ụ", 0x04: "Ừ", 0x05: "Ử", 0x06: "Ữ", 0x11: "Ứ", 0x12: "Ự",
             0x13: "Ỳ", 0x14: "Ỷ", 0x15: "Ỹ", 0x16: "Ý", 0x17: "Ỵ"}

# RFC 1456 (VISCII 1.1), bytes 0x80..0xFF, plus six capitals in C0 slots.
_VISCII_80_FF = (
    "ẠẮẰẶẤẦẨẬẼẸẾỀỂỄỆỐ"  # 80..8F
    "ỒỔỖỘỢỚỜỞỊỎỌỈỦŨỤỲ"  # 90..9F
    "Õắằặấầẩậẽẹếềểễệố"  # A0..AF
    "ồổỗỠƠộờởịỰỨỪỬơớƯ"  # B0..BF
    "ÀÁÂÃẢĂẳẵÈÉÊẺÌÍĨỳ"  # C0..CF
    "ĐứÒÓÔạỷừửÙÚỹỵÝỡư"  # D0..DF
    "àáâãảăữẫèéêẻìíĩỉ"  # E0..EF
    "đựòóôõỏọụùúũủýợỮ"  # F0..FF
)
_VISCII_C0 = {0x02: "Ẳ", 0x05: "Ẵ", 0x06: "Ẫ", 0x14: "Ỷ", 0x19: "Ỹ", 0x1E: "Ỵ"}

# VNI-Windows: single characters standing for a whole letter.
_VNI_SINGLE = {"ñ": "đ", "Ñ": "Đ", "ô": "ơ", "Ô": "Ơ", "ö": "ư", "Ö": "Ư", "ò": "ị", "Ò": "Ị",
               "ó": "ĩ", "Ó": "Ĩ", "æ": "ỉ", "Æ": "Ỉ", "î": "ỵ", "Î": "Ỵ", "í": "í", "Í": "Í",
               "ì": "ì", "Ì": "Ì"}
# VNI mark characters (lowercase form; the capital form is used in capital words) -> combining marks.
_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRC, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"
_VNI_TONE = {"ù": _ACUTE, "ø": _GRAVE, "û": _HOOK, "õ": _TILDE, "ï": _DOT}
_VNI_CIRC = {"â": "", "á": _ACUTE, "à": _GRAVE, "å": _HOOK, "ã": _TILDE, "ä": _DOT}
_VNI_BREVE = {"ê": "", "é": _ACUTE, "è": _GRAVE, "ú": _HOOK, "ü": _TILDE, "ë": _DOT}


def _cp1252_forms(byte: int) -> list[str]:
    """The characters byte ``byte`` can become: its cp1252 character and its ISO-8859-1 one."""
    forms = [chr(byte)]
    try:
        cp = bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return forms
    if cp not in forms:
        forms.append(cp)
    return forms


def _tcvn3_table() -> dict[str, str]:
    """TCVN3 (lowercase fonts): mojibake character -> Vietnamese letter."""
    table: dict[str, str] = {}
    for offset, letter in enumerate(_TCVN3_A1_FF):
        if letter != "·":
            table[chr(0xA1 + offset)] = letter
    for offset, letter in enumerate(_TCVN3_80_9F):
        for form in _cp1252_forms(0x80 + offset):  # C1 control, or a cp1252 letter (ƒ Š Œ Ž š œ ž Ÿ ˆ ˜);
            if form == chr(0x80 + offset) or form in _CP1252_LETTERS:  # cp1252 punctuation stays
                table[form] = letter
    for code, letter in _TCVN3_C0.items():
        table[chr(code)] = letter
    return table


def _tcvn3_caps_table() -> dict[str, str]:
    """TCVN3 read with a capital-only font (``.VnTimeH``...): lowercase codes show capitals."""
    return {char: letter.upper() for char, letter in _tcvn3_table().items()}


def _viscii_table() -> dict[str, str]:
    """VISCII: mojibake character (cp1252 and ISO-8859-1 forms) -> Vietnamese letter.

    0xA0 (no-break space once decoded) is left out here: :func:`convert_legacy_vietnamese`
    only reads it as Õ inside a word."""
    table: dict[str, str] = {}
    for offset, letter in enumerate(_VISCII_80_FF):
        byte = 0x80 + offset
        if byte == 0xA0:
            continue
        for form in _cp1252_forms(byte):
            table[form] = letter
    for code, letter in _VISCII_C0.items():
        table[chr(code)] = letter
    return table


@dataclass(frozen=True)
class _Tables:
    tcvn3: dict[int, str]
    tcvn3_caps: dict[int, str]
    viscii: dict[int, str]
    tcvn3_chars: frozenset[str]
    viscii_signal: re.Pattern[str]  # characters VISCII reads differently from cp1252/Latin-1
    viscii_precheck: dict[int, None]  # translate table deleting those, minus cp1252 punctuation (“ ” – …)
    tcvn3_precheck: dict[int, None]  # translate table deleting TCVN3's tell-tale characters
    vni: dict[str, str]
    signals: dict[str, re.Pattern[str]]  # per encoding: a character (VNI: pair) it reads differently


_TABLES: _Tables | None = None


def _tables() -> _Tables:
    """The translate tables, built on first use (no work at import time)."""
    global _TABLES
    if _TABLES is None:
        tcvn3, viscii = _tcvn3_table(), _viscii_table()
        changed = "".join(sorted(ch for ch, letter in viscii.items() if ch != letter and ord(ch) > 0x20))
        _TABLES = _Tables(
            tcvn3=str.maketrans(tcvn3), tcvn3_caps=str.maketrans(_tcvn3_caps_table()),
            viscii=str.maketrans(viscii), tcvn3_chars=frozenset(tcvn3),
            viscii_signal=re.compile(f"[{re.escape(changed)}]"),
            viscii_precheck=dict.fromkeys(ord(ch) for ch in changed if 0x80 <= ord(ch) < 0x100),
            tcvn3_precheck=dict.fromkeys([*range(0x80, 0xA0), *range(0xA1, 0xC0)]),
            vni=_vni_table(),
            signals={
                TCVN3: re.compile(_TCVN3_SIGNAL_ANY),
                VISCII: re.compile(f"[{re.escape(changed)}]"),
                VNI: re.compile(_VNI_SIGNAL_ANY),
            },
        )
    return _TABLES


def legacy_table(encoding: str) -> dict[str, str]:
    """The character map of ``encoding`` ("tcvn3", "tcvn3-caps", "viscii" or "vni"), for inspection
    and for building inverse tables in tests. For VNI the map lists every base+mark pair and single
    character, keys being the decoded (mojibake) strings."""
    if encoding == TCVN3:
        return _tcvn3_table()
    if encoding == "tcvn3-caps":
        return _tcvn3_caps_table()
    if encoding == VISCII:
        return _viscii_table()
    if encoding == VNI:
        return _vni_table()
    raise ValueError(f"unknown legacy encoding {encoding!r}")


# --------------------------------------------------------------------------------------------------
# VNI: base letter + mark character
# --------------------------------------------------------------------------------------------------

_VNI_BASES = {"a": "a", "e": "e", "o": "o", "u": "u", "y": "y", "ô": "ơ", "ö": "ư"}


def _vni_table() -> dict[str, str]:
    """Every VNI sequence (lowercase and capital) -> Vietnamese letter, NFC."""
    table: dict[str, str] = {}

    def add(seq: str, base: str, marks: str) -> None:
        letter = unicodedata.normalize("NFC", base + marks)
        table[seq] = letter
        table[seq.upper()] = letter.upper()

    for single, letter in _VNI_SINGLE.items():
        table[single] = letter
    for key, base in _VNI_BASES.items():
        for mark, tone in _VNI_TONE.items():
            add(key + mark, base, tone)
    for base in "aeo":
        for mark, tone in _VNI_CIRC.items():
            add(base + mark, base, _CIRC + tone)
    for mark, tone in _VNI_BREVE.items():
        add("a" + mark, "a", _BREVE + tone)
    return table


_VNI_PAIR = re.compile(
    "([aeouyôöAEOUYÔÖ])([ùøûõïÙØÛÕÏâáàåãäÂÁÀÅÃÄêéèúüëÊÉÈÚÜË])|([ñÑôÔöÖòÒóÓæÆîÎ])"
)


def _vni_convert(text: str, table: dict[str, str]) -> str:
    """VNI to Unicode: valid base+mark pairs compose; the single letters (ñ ô ö ò ó æ î) convert;
    anything else (ASCII included) is left alone."""

    def repl(m: re.Match[str]) -> str:
        if m.group(3):
            return table[m.group(3)]
        base, mark = m.group(1), m.group(2)
        letter = table.get(base.lower() + mark.lower())
        if letter is None:  # not a VNI combination (e.g. "eê"): keep the base, read the mark alone
            return table.get(base, base) + mark
        return letter.upper() if base.isupper() else letter

    return _VNI_PAIR.sub(repl, text)


# --------------------------------------------------------------------------------------------------
# TCVN3 capitals: capital-only fonts and all-caps words
# --------------------------------------------------------------------------------------------------

_CAPS_FONT_TAG = re.compile(
    r"""<([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(?:face\s*=\s*["']?|font-family\s*:)[^>]*?\.vn[a-z]*h(?![a-z])[^>]*>""",
    re.I,
)
# TCVN3 codes of Ă Â Ê Ô Ơ Ư Đ (certainly capitals) and of ă â ê ô ơ ư đ (certainly lowercase in a
# lowercase font); every other toned-letter code may show either case, depending on the font.
_TCVN3_UPPER_ONLY = frozenset(map(chr, range(0xA1, 0xA8)))
_TCVN3_LOWER_ONLY = frozenset(map(chr, range(0xA8, 0xAF)))
_WORD_CHARS = r"[^\s!-@\[-`{-~]"  # ASCII letters and any non-ASCII, non-space character
_WORD = re.compile(f"{_WORD_CHARS}+")
_TCVN3_SIGNAL_ANY = "[\x01\x02\x04-\x06\x11-\x17\x80-\x9f\xa1-\xaf\xb5-\xff]"
_VNI_SIGNAL_ANY = "[aeouyôöAEOUYÔÖ][ùøûõïâáàåãäêéèúüëÙØÛÕÏÂÁÀÅÃÄÊÉÈÚÜË]|[ñÑôÔöÖòÒóÓæÆîÎ]"


def _tcvn3_caps_regions(html: str) -> list[tuple[int, int]]:
    """Spans of ``html`` inside an element whose font is a TCVN3 capital font (``.VnTimeH``...)."""
    spans = []
    for m in _CAPS_FONT_TAG.finditer(html):
        name = m.group(1)
        depth, pos = 1, m.end()
        tag = re.compile(rf"<(/?){re.escape(name)}\b[^>]*>", re.I)
        for t in tag.finditer(html, pos):
            depth += -1 if t.group(1) else 1
            if depth == 0:
                spans.append((m.end(), t.start()))
                break
        else:
            spans.append((m.end(), len(html)))
    return spans


def _tcvn3_word(word: str, tables: _Tables, caps: bool) -> str:
    """One TCVN3 word, read with the capital font's table when ``caps``."""
    return word.translate(tables.tcvn3_caps if caps else tables.tcvn3)


def _tcvn3_convert(text: str, tables: _Tables) -> str:
    """TCVN3 to Unicode. Capital-font regions convert to capitals; elsewhere a word whose certain
    letters are all capitals (two or more: ``H¶I`` = HẢI, ``§¶O`` = ĐẢO), or a one-capital word next to
    such a word, converts to capitals too (the ABC habit of typing headlines in ``.VnTimeH``)."""
    caps_spans = _tcvn3_caps_regions(text) if "<" in text else []
    out: list[str] = []
    pos = 0
    for start, end in caps_spans:
        if start < pos:
            continue
        out.append(_tcvn3_words(text[pos:start], tables))
        segment = text[start:end]
        out.append(re.sub(r"<[^>]*>|[^<]+", lambda m: m.group(0) if m.group(0).startswith("<")
                          else m.group(0).translate(tables.tcvn3_caps), segment))
        pos = end
    out.append(_tcvn3_words(text[pos:], tables))
    return "".join(out)


def _caps_class(word: str) -> int:
    """2 = certainly a capital word, 1 = one capital and nothing lowercase, 0 = not capital."""
    upper = lower = 0
    for ch in word:
        if "A" <= ch <= "Z" or ch in _TCVN3_UPPER_ONLY:
            upper += 1
        elif "a" <= ch <= "z" or ch in _TCVN3_LOWER_ONLY:
            lower += 1
    if lower:
        return 0
    return 2 if upper >= 2 else upper


def _tcvn3_words(text: str, tables: _Tables) -> str:
    if not text:
        return text
    chars = tables.tcvn3_chars
    pieces: list[str] = []
    words = list(_WORD.finditer(text))
    classes = [_caps_class(m.group(0)) for m in words]
    pos = 0
    for i, m in enumerate(words):
        word = m.group(0)
        pieces.append(text[pos:m.start()].translate(tables.tcvn3))
        pos = m.end()
        if not any(ch in chars for ch in word):
            pieces.append(word)
            continue
        cls = classes[i]
        caps = cls == 2 or (cls == 1 and ((i > 0 and classes[i - 1] == 2)
                                         or (i + 1 < len(words) and classes[i + 1] == 2)))
        pieces.append(_tcvn3_word(word, tables, caps))
    pieces.append(text[pos:].translate(tables.tcvn3))
    return "".join(pieces)


# --------------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------------

_VISCII_NBSP = re.compile(r"(?<=\w)\xa0|\xa0(?=\w)")


def convert_legacy_vietnamese(text: str, encoding: str) -> str:
    """``text`` (decoded as cp1252/ISO-8859-1, or re-saved as UTF-8) read as ``encoding`` ("tcvn3",
    "vni" or "viscii") and returned as Unicode NFC. Only characters ≥ 0x80 (and VISCII's/TCVN's C0
    letter slots) and VNI's base+mark pairs change, so tags, attributes, URLs and scripts of a whole
    HTML document survive. Raises ValueError on an unknown encoding."""
    tables = _tables()
    if encoding == TCVN3:
        out = _tcvn3_convert(text, tables)
    elif encoding == VNI:
        out = _vni_convert(text, tables.vni)
    elif encoding == VISCII:
        out = _VISCII_NBSP.sub("Õ", text.translate(tables.viscii))
    else:
        raise ValueError(f"unknown legacy encoding {encoding!r}")
    return unicodedata.normalize("NFC", out)


_SURROGATE = re.compile("[\udc80-\udcff]")


def decode_as_cp1252(body: bytes) -> str:
    """``body`` decoded as windows-1252, the five bytes cp1252 leaves undefined kept as C1 controls
    (the way browsers and ISO-8859-1 decoders show them): the text the tables above expect."""
    text = body.decode("cp1252", errors="surrogateescape")
    return _SURROGATE.sub(lambda m: chr(ord(m.group(0)) - 0xDC00), text)


# --------------------------------------------------------------------------------------------------
# Vietnamese syllables
# --------------------------------------------------------------------------------------------------

_TONES = {_GRAVE: "grave", _ACUTE: "acute", _HOOK: "hook", _TILDE: "tilde", _DOT: "dot"}
_QUALITY = {_CIRC, _BREVE, _HORN}
_MARKED = set("ăâêôơư")
_VOWELS = set("aăâeêioôơuưy")
_ONSET = re.compile(r"ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx]")
_CODA = {"", "c", "ch", "m", "n", "ng", "nh", "p", "t"}
_OPEN_OR_CLOSED = {"a", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "oa", "oe", "uê", "uy", "uơ"}
_CLOSED_ONLY = {"ă", "â", "iê", "yê", "uô", "ươ", "oă", "uâ", "uyê", "oo"}
_OPEN_ONLY = {"ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oi", "ôi", "ơi", "ua", "ui",
              "ưa", "ưi", "ưu", "iêu", "yêu", "oai", "oay", "oao", "oeo", "uây", "uôi", "ươi", "ươu",
              "uyu", "uya"}
_CH_NH_AFTER = {"a", "ê", "i", "y", "oa", "uê", "uy"}
_NEW_STYLE = {"oa", "oe", "uy"}  # hoà / hòa, thuý / thúy: both placements are in use


def _split_tone(word: str) -> tuple[str, str | None, int] | None:
    """(toneless lowercase word, tone name or None, index of the toned letter), or None when the word
    has two tones or a mark Vietnamese does not use."""
    letters: list[str] = []
    tone: str | None = None
    tone_at = -1
    for ch in unicodedata.normalize("NFD", word.lower()):
        if ch in _TONES:
            if tone is not None or not letters:
                return None
            tone, tone_at = _TONES[ch], len(letters) - 1
        elif ch in _QUALITY:
            if not letters:
                return None
            letters[-1] += ch
        elif unicodedata.combining(ch):
            return None
        else:
            letters.append(ch)
    return "".join(unicodedata.normalize("NFC", x) for x in letters), tone, tone_at


def _rhyme_ok(rest: str, tone: str | None, tone_at: int) -> bool:
    """Whether ``rest`` (the syllable after its onset) is a vowel nucleus + coda with the tone, if
    any, on the right vowel (index ``tone_at`` counted within ``rest``)."""
    n = 0
    while n < len(rest) and rest[n] in _VOWELS:
        n += 1
    nucleus, coda = rest[:n], rest[n:]
    if not nucleus or coda not in _CODA:
        return False
    if coda:
        if nucleus not in _OPEN_OR_CLOSED and nucleus not in _CLOSED_ONLY:
            return False
        if coda in ("ch", "nh") and nucleus not in _CH_NH_AFTER:
            return False
        if coda in ("c", "ng") and nucleus in ("i", "y", "ê"):
            return False
        if coda in ("c", "ch", "p", "t") and tone not in ("acute", "dot"):
            return False
    elif nucleus not in _OPEN_OR_CLOSED and nucleus not in _OPEN_ONLY:
        return False
    if tone is None:
        return True
    if not 0 <= tone_at < len(nucleus):
        return False
    marked = [i for i, v in enumerate(nucleus) if v in _MARKED]
    if marked:
        return tone_at == marked[-1]
    if len(nucleus) == 1:
        return True
    if coda or nucleus == "oo":
        return tone_at == len(nucleus) - 1 or nucleus == "oo"
    if len(nucleus) == 3:
        return tone_at == 1
    return tone_at == 0 or (nucleus in _NEW_STYLE and tone_at == 1)


def is_vietnamese_syllable(word: str) -> bool:
    """Whether ``word`` (any case, NFC or NFD) is a well-formed Vietnamese syllable: optional onset
    (b, c, ch, d, đ, g, gh, gi, h, k, kh, l, m, n, ng, ngh, nh, p, ph, qu, r, s, t, th, tr, v, x), a vowel
    nucleus Vietnamese uses, an optional coda (c, ch, m, n, ng, nh, p, t), at most one tone, placed on
    the vowel that carries it (old and new placements both accepted), and only sắc or nặng when the
    syllable ends in p, t, c or ch. Loan letters (f, j, w, z) make it invalid."""
    split = _split_tone(word)
    if split is None:
        return False
    bare, tone, tone_at = split
    if not bare or any(ch not in _VOWELS and ch not in "bcdđghklmnpqrstvx" for ch in bare):
        return False
    m = _ONSET.match(bare)
    onsets = [m.group(0)] if m else [""]
    if onsets[0] == "gi":
        onsets.append("g")
    for onset in onsets:
        if tone is not None and tone_at < len(onset):
            continue
        if _rhyme_ok(bare[len(onset):], tone, tone_at - len(onset)):
            return True
    return False


# --------------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------------

# TCVN3 puts ă â đ ê ô ơ ư and the a-tones on Latin-1 symbols, which Western text seldom uses.
_HIGH = re.compile("[\x80-\xff]")
_NOT_HIGH = re.compile("[^\x80-\xff]+")  # removed to keep only the legacy-range characters, in one pass
# A word for scoring: a run of word characters or non-ASCII ones (a legacy font's letters may be
# Latin-1 spaces or symbols). Matched as runs, then filtered: the earlier "W*[non-ASCII]W*" search
# retried every position of a long ASCII run, quadratic on mis-decoded pages (4 s on 93 KB).
_SCORED_WORD = re.compile("[^\t\n\x0b\x0c\r\x1c-\x1f !-@\\[-`{-~]+")  # one class: not an ASCII space or symbol
_VNI_MARKS = re.compile("[aeouyôöAEOUYÔÖ][ùøûõïâáàåãäêéèúüëÙØÛÕÏÂÁÀÅÃÄÊÉÈÚÜË]")
_HINT_NEEDLES = ((".vn", TCVN3), ("tcvn", TCVN3), ("vni", VNI), ("viscii", VISCII))
_MAX_HINT_PROBES = 200  # occurrences of a needle examined per page
_SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
_MIN_SIGNALS = 15  # legacy characters needed before any work is done (without a font hint)
_MAX_SCANNED_CHARS = 300_000  # a legacy page shows it in its first 300,000 characters
_UNICODE_PROBE_CHARS = 50_000
# Letters of Unicode Vietnamese outside Latin-1 (ă ơ ư đ and the U+1EA0 block): text holding many
# of them is already Unicode, whatever else it holds.
_UNICODE_VIETNAMESE = re.compile("[ăĂơƠưƯđĐ\u1ea0-\u1ef9]")
_MAX_MEASURED_CHARS = 30_000  # visible text scored, from the first non-ASCII character: a long article
_MIN_SIGNALS_HINTED = 3
_MAX_DISTINCT_WORDS = 2000
_HOPELESS_AFTER = 100  # distinct words scored before giving up on a reading that fits under half of them


@dataclass(frozen=True)
class LegacyEvidence:
    """What detection measured for one encoding: ``words`` non-ASCII words scored (occurrences),
    ``distinct`` distinct ones, the share of them that are valid Vietnamese syllables ``after``
    conversion and ``before`` it, and whether a font/charset declaration named the encoding."""
    encoding: str
    words: int
    distinct: int
    after: float
    before: float
    hinted: bool

    @property
    def convincing(self) -> bool:
        """Enough words, overwhelmingly valid once converted, mostly invalid as they stand."""
        if self.hinted:
            return (self.words >= 3 and self.after >= 0.7 and self.before <= 0.5
                    and self.after - self.before >= 0.3)
        return (self.words >= 15 and self.distinct >= 8 and self.after >= 0.85 and self.before <= 0.4
                and self.after - self.before >= 0.45)


def font_hints(html: str) -> set[str]:
    """Legacy encodings named by the page's font declarations (``font-family``, ``font:``, ``face=``:
    ``.VnTime`` → tcvn3, ``VNI-Times`` → vni, a ``VISCII`` font → viscii) or by a ``charset=`` naming
    VISCII/TCVN/VNI. Plain substring searches (no regex over the page), so cheap on large pages."""
    low = html.lower()
    hints: set[str] = set()
    for needle, encoding in _HINT_NEEDLES:
        start = 0
        for _ in range(_MAX_HINT_PROBES):
            if encoding in hints:
                break
            at = low.find(needle, start)
            if at < 0:
                break
            start = at + 1
            if _declares_font(low, at, needle):
                hints.add(encoding)
    return hints


def _declares_font(low: str, at: int, needle: str) -> bool:
    """Whether the occurrence of ``needle`` at ``at`` sits in a font or charset declaration."""
    after = low[at + len(needle):at + len(needle) + 1]
    before = low[at - 1:at] if at else " "
    context = low[max(0, at - 160):at]
    context = context[max(context.rfind(c) for c in ";{}<>") + 1:]
    if needle != ".vn" and "charset" in context:
        return True
    if needle == ".vn" and (not after.isalpha() or before not in " \t\"',:="):
        return False  # ".vn" of a domain name (baohaiphong.vn/...) is not a font
    if needle == "vni" and (after not in ("-", "_", " ") or before.isalnum()):
        return False
    if needle == "tcvn":
        return False  # only meaningful as a charset name
    return any(word in context for word in ("font-family", "font:", "face"))


def _visible_text(text: str) -> str:
    if "<" not in text:
        return text
    return _TAG.sub(" ", _SCRIPT_STYLE.sub(" ", text))


def _strip_nonletters(word: str) -> str:
    start, end = 0, len(word)
    while start < end and not unicodedata.category(word[start]).startswith(("L", "M")):
        start += 1
    while end > start and not unicodedata.category(word[end - 1]).startswith(("L", "M")):
        end -= 1
    return word[start:end]


def _convert_word(word: str, encoding: str) -> str:
    """One word converted, without the capital-word heuristics (validation ignores case)."""
    if encoding == TCVN3:
        return word.translate(_tables().tcvn3)
    if encoding == VISCII:
        return word.translate(_tables().viscii)
    return _vni_convert(word, _tables().vni)


def measure(text: str, encoding: str, hinted: bool = False, words: Counter[str] | None = None) -> LegacyEvidence:
    """Score ``text`` as ``encoding``: its words holding characters the encoding reads differently,
    converted one by one, and how many of them are valid Vietnamese syllables after and before
    conversion (occurrence-weighted, words of 2+ letters). Cost is bounded: the
    ``_MAX_DISTINCT_WORDS`` most frequent distinct words at most, and scoring stops early once the
    words seen make a Vietnamese reading hopeless. ``words`` (the non-ASCII words of ``text``,
    counted) may be passed in when several encodings are measured on the same text."""
    if words is None:
        words = _non_ascii_words(text)
    signal = _tables().signals[encoding]
    counts = Counter({word: n for word, n in words.items() if signal.search(word)})
    total = valid_after = valid_before = 0
    distinct = 0
    for word, n in counts.most_common(_MAX_DISTINCT_WORDS):
        after = _strip_nonletters(unicodedata.normalize("NFC", _convert_word(word, encoding)))
        before = _strip_nonletters(word)
        if len(after) < 2 or after == before:  # unchanged words say nothing about the encoding
            continue
        distinct += 1
        total += n
        if is_vietnamese_syllable(after):
            valid_after += n
        if is_vietnamese_syllable(before):
            valid_before += n
        if distinct >= _HOPELESS_AFTER and valid_after < 0.5 * total:
            break
    if not total:
        return LegacyEvidence(encoding, 0, 0, 0.0, 0.0, hinted)
    return LegacyEvidence(encoding, total, distinct, valid_after / total, valid_before / total, hinted)


def _non_ascii_words(text: str) -> Counter[str]:
    """The words of ``text`` holding a non-ASCII character, counted."""
    return Counter(word for word in _SCORED_WORD.findall(text) if not word.isascii())


def _precheck(text: str) -> dict[str, int]:
    """For each encoding, how many of its tell-tale characters ``text`` holds: TCVN3 → Latin-1
    symbols 0xA1–0xBF and C1 controls, VISCII → characters it reads differently (punctuation aside),
    VNI → a vowel followed by a mark character. Regex and translate passes only (C speed)."""
    tables = _tables()
    high = _NOT_HIGH.sub("", text)
    return {
        TCVN3: len(high) - len(high.translate(tables.tcvn3_precheck)),
        VISCII: len(high) - len(high.translate(tables.viscii_precheck)),
        VNI: len(_VNI_MARKS.findall(text)) if len(high) >= _MIN_SIGNALS_HINTED else 0,
    }


def legacy_evidence(text: str, html: str | None = None) -> list[LegacyEvidence]:
    """The evidence for each candidate encoding that passes the cheap pre-check (many characters in
    the legacy ranges, or a few plus a font hint); empty for ordinary pages. Order of work, cheapest
    first: ASCII test, one bounded regex scan per encoding, font hints, then word scoring."""
    if text.isascii():
        return []
    text = text[:_MAX_SCANNED_CHARS]
    if next(islice(_UNICODE_VIETNAMESE.finditer(text, 0, _UNICODE_PROBE_CHARS), _MIN_SIGNALS - 1, None), None):
        return []  # already Unicode Vietnamese: these letters exist in no legacy reading of cp1252/Latin-1
    signals = _precheck(text)
    if max(signals.values()) < _MIN_SIGNALS_HINTED:
        return []
    source = html if html is not None else text
    hints = font_hints(source)
    if not any(count >= (_MIN_SIGNALS_HINTED if encoding in hints else _MIN_SIGNALS)
               for encoding, count in signals.items()):
        return []
    # Once there is work to do, every plausible reading is scored, so that the readings compete.
    candidates = [encoding for encoding, count in signals.items() if count >= _MIN_SIGNALS_HINTED]
    visible = _visible_text(text)
    first = _HIGH.search(visible)
    start = max(0, first.start() - 200) if first else 0
    words = _non_ascii_words(visible[start:start + _MAX_MEASURED_CHARS])
    return [measure("", encoding, encoding in hints, words) for encoding in candidates]


def detect_legacy_vietnamese(text: str, html: str | None = None) -> str | None:
    """"tcvn3", "vni" or "viscii" when ``text`` (a decoded page, markup allowed) is Vietnamese written
    in that legacy font encoding, else None. ``html`` is searched for font declarations (defaults to
    ``text``). Conservative: without a font hint it needs at least 15 words the encoding changes
    (8 distinct), ≥ 85 % of them valid Vietnamese syllables once converted and ≤ 40 % valid as they
    stand; with a hint 3 words, 70 % and 50 %. When two readings fit about equally well the answer is
    None. ASCII pages return at once, pages with few legacy characters after a regex pass."""
    convincing = [e for e in legacy_evidence(text, html) if e.convincing]
    if not convincing:
        return None
    # The reading that turns the most words into Vietnamese wins (a hinted one first).
    ranked = sorted(convincing, key=lambda e: (e.hinted, e.after * e.words, e.after), reverse=True)
    best = ranked[0]
    if len(ranked) > 1 and ranked[1].hinted == best.hinted and \
            ranked[1].after * ranked[1].words >= 0.9 * best.after * best.words:
        return None  # two readings fit about equally well: too short to tell, leave the page alone
    return best.encoding
