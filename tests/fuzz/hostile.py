"""Seeded generators of hostile input for the readers of crawled bytes (feeds, sitemaps, OPML,
HTML pages, WARC files).

Each generator takes a ``random.Random`` and returns one input, built from the shapes that
break parsers in the wild: real documents of the test site mutated (bytes flipped, cut, repeated,
spliced), wrong or contradictory charsets, stray NULs and control characters, lone surrogates
and noncharacters, entity bombs and external entities, deep nesting, huge attributes, extreme
and absurd dates, and plain noise. The same seed gives the same input, so a failure is
reproduced with ``HPMON_FUZZ_SEED=<seed>`` (see ``tests/fuzz/conftest.py``).
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SITE = Path(__file__).resolve().parents[1] / "fixtures" / "site"


def _read_all(pattern: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted(SITE.glob(pattern))]


FEEDS = _read_all("feeds/*")
SITEMAPS = _read_all("*.xml")
PAGES = _read_all("**/*.html")

# -- atoms ---------------------------------------------------------------------------------------

DATES = [
    "", "not-a-date", "0000-00-00", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-14:00", "99999-01-01",
    "-0001-01-01", "2026-02-30", "2026-13-01T25:61:61Z", "Thu, 31 Dec 9999 23:59:59 +2400",
    "Mon, 01 Jan 0001 00:00:00 -9999", "1e309", "NaN", "2026-11-20T08:15:00", "20 tháng 11, 2026 08:15",
    "2026年11月20日 08時15分", "пятница, 20 ноября 2026", "۲۰۲۶-۱۱-۲۰", "2026-11-20T08:15:00.123456789123Z",
    "2" * 400, "Sat, 20 Nov 2026 08:15:00 GMT\x00", "１９７０-０１-０１", "-1", "1" + "0" * 30,
]

TEXTS = [
    "Hải Phòng", "海防", "ハイフォン", "하이퐁", "Хайфон", "هاي فونغ", "\u202eevil\u202c", "\u200b\u200d\ufeff",
    "\x00", "\x01\x02\x1b[31m", "\ud800", "\udfff", "\uffff", "\U0010ffff", "&amp;", "&#0;", "&#x110000;",
    "&#xD800;", "&undefined;", "<![CDATA[ ]]>", "]]>", "<script>alert(1)</script>", "javascript:alert(1)",
    "a" * 5000, "\r\n" * 50, "e\u0301" * 40, "𝕳𝖆𝖎 𝕻𝖍𝖔𝖓𝖌", "💣" * 30,
]

URLS = [
    "http://news.example/a/1", "https://[::1]:99999/", "http://", "//news.example/x", "news.example/no-scheme",
    "javascript:alert(1)", "file:///etc/passwd", "data:text/html,<b>x</b>", "http://user:pw@127.0.0.1/",
    "http://xn--80ak6aa92e.com/", "http://exa mple.com/sp ace", "http://a/" + "b" * 9000, "ftp://news.example/f",
    "http://news.example/%zz%00", "\x00http://x", "https://tin.vn/bài-viết?id=5&amp;x=1", "",
]

ENCODINGS = ["utf-8", "utf-16", "utf-16-be", "utf-32", "latin-1", "cp1252", "windows-1258", "gb18030",
             "shift_jis", "euc-kr", "koi8-r", "big5", "utf-7", "bogus-charset", "x-user-defined", "ascii"]

BOMBS = [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;'
    b'&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
    b'<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">%remote;]>',
    b'<?xml version="1.0" encoding="bogus"?>', b'<?xml version="9.9" standalone="maybe"?>', b"\xef\xbb\xbf",
    b"\xff\xfe", b"\xfe\xff\x00<", b"<?xml version='1.0' encoding='utf-16'?>",
]


def text(rng: random.Random) -> str:
    return "".join(rng.choice(TEXTS) for _ in range(rng.randint(1, 4)))


def xml_text(rng: random.Random) -> str:
    """Hostile text, most of the time escaped for XML, sometimes raw (markup injected)."""
    value = text(rng)
    if rng.random() < 0.7:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


def encode(rng: random.Random, value: str) -> bytes:
    """``value`` in a random encoding (errors replaced: lone surrogates, unmappable letters)."""
    encoding = rng.choice(ENCODINGS)
    try:
        return value.encode(encoding, errors="replace")
    except LookupError:
        return value.encode("utf-8", errors="surrogatepass")


# -- mutations -----------------------------------------------------------------------------------


def mutate(rng: random.Random, data: bytes, rounds: int | None = None) -> bytes:
    """``data`` with a few random byte-level mutations (flip, cut, insert, repeat, splice)."""
    out = bytearray(data)
    for _ in range(rounds or rng.randint(1, 6)):
        if not out:
            out += rng.randbytes(rng.randint(1, 64))
            continue
        at = rng.randrange(len(out))
        op = rng.randrange(8)
        if op == 0:
            out[at] ^= 1 << rng.randrange(8)
        elif op == 1:
            del out[at:at + rng.randint(1, 256)]
        elif op == 2:
            out[at:at] = rng.randbytes(rng.randint(1, 64))
        elif op == 3:
            piece = bytes(out[at:at + rng.randint(1, 128)])
            out[at:at] = piece * rng.randint(2, 50)
        elif op == 4:
            out = out[:at]  # truncated (a cut connection)
        elif op == 5:
            out[at:at] = rng.choice([b"\x00", b"\x1b", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"]]>", b"<", b"&"])
        elif op == 6:
            out[at:at] = encode(rng, text(rng))
        else:
            out[at:at] = rng.choice(BOMBS)
    return bytes(out)


def nested(rng: random.Random, tag: str, depth: int | None = None) -> str:
    depth = depth or rng.choice([100, 1000, 5000, 20000])
    return f"<{tag}>" * depth + "Hải Phòng" + f"</{tag}>" * rng.choice([0, depth // 2, depth])


# -- documents -----------------------------------------------------------------------------------


def _item(rng: random.Random) -> str:
    link = xml_text(rng) if rng.random() < .2 else rng.choice(URLS)
    fields = [f"<title>{xml_text(rng)}</title>", f"<link>{link}</link>",
              f"<pubDate>{rng.choice(DATES)}</pubDate>", f"<description>{xml_text(rng)}</description>",
              f"<guid>{rng.choice(URLS)}</guid>", f"<dc:date>{rng.choice(DATES)}</dc:date>",
              f'<enclosure url="{rng.choice(URLS)}" length="{rng.choice(["-1", "9" * 40, "x"])}"/>']
    rng.shuffle(fields)
    return "<item>" + "".join(fields[:rng.randint(0, len(fields))]) + "</item>"


def _entry(rng: random.Random) -> str:
    return (f'<entry><title type="{rng.choice(["html", "xhtml", "text", "bogus"])}">{xml_text(rng)}</title>'
            f'<link href="{rng.choice(URLS)}" rel="{rng.choice(["alternate", "self", ""])}"/>'
            f"<updated>{rng.choice(DATES)}</updated><published>{rng.choice(DATES)}</published>"
            f"<summary>{xml_text(rng)}</summary></entry>")


def feed(rng: random.Random) -> bytes:
    """An RSS, Atom or RDF feed: a fixture feed mutated, or one written from hostile parts."""
    roll = rng.random()
    if roll < 0.35 and FEEDS:
        return mutate(rng, rng.choice(FEEDS))
    if roll < 0.45:
        return rng.randbytes(rng.randint(0, 2048))
    prolog = rng.choice([b"", b'<?xml version="1.0" encoding="%s"?>' % rng.choice(ENCODINGS).encode(),
                         *BOMBS])
    kind = rng.randrange(3)
    n = rng.choice([0, 1, 5, 50, 500])
    if kind == 0:
        body = (f'<rss version="{rng.choice(["2.0", "0.91", "9"])}" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                f"<channel><title>{xml_text(rng)}</title><language>{rng.choice(['vi', 'zz-ZZ', '', 'x' * 300])}"
                f"</language>" + "".join(_item(rng) for _ in range(n)) + "</channel></rss>")
    elif kind == 1:
        body = ('<feed xmlns="http://www.w3.org/2005/Atom">' + "".join(_entry(rng) for _ in range(n)) + "</feed>")
    else:
        body = ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">'
                + "".join(_item(rng) for _ in range(n)) + "</rdf:RDF>")
    if rng.random() < 0.1:
        body = body.replace("<channel>", "<channel>" + nested(rng, "category"), 1)
    data = prolog + encode(rng, body) if rng.random() < 0.5 else prolog + body.encode("utf-8", "surrogatepass")
    return mutate(rng, data, rng.randint(1, 3)) if rng.random() < 0.3 else data


def sitemap(rng: random.Random) -> bytes:
    """A urlset or sitemapindex (sometimes gzipped, sometimes a broken gzip)."""
    roll = rng.random()
    if roll < 0.3 and SITEMAPS:
        data = mutate(rng, rng.choice(SITEMAPS))
    elif roll < 0.4:
        data = rng.randbytes(rng.randint(0, 2048))
    else:
        index = rng.random() < 0.3
        n = rng.choice([0, 1, 10, 300])
        ns = ('xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
              'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"')
        if index:
            body = f"<sitemapindex {ns}>" + "".join(
                f"<sitemap><loc>{rng.choice(URLS)}</loc><lastmod>{rng.choice(DATES)}</lastmod></sitemap>"
                for _ in range(n)) + "</sitemapindex>"
        else:
            body = f"<urlset {ns}>" + "".join(
                f"<url><loc>{rng.choice(URLS) if rng.random() < .8 else xml_text(rng)}</loc>"
                f"<lastmod>{rng.choice(DATES)}</lastmod><news:news><news:title>{xml_text(rng)}</news:title>"
                f"<news:publication_date>{rng.choice(DATES)}</news:publication_date></news:news></url>"
                for _ in range(n)) + "</urlset>"
        if rng.random() < 0.1:
            body = body.replace("<url>", "<url>" + nested(rng, "news:news"), 1)
        data = rng.choice([b"", *BOMBS]) + encode(rng, body)
    if rng.random() < 0.25:
        data = gzip.compress(data)
        if rng.random() < 0.4:
            data = mutate(rng, data, 1)  # a corrupt or truncated gzip
    return data


def opml(rng: random.Random) -> bytes:
    """An OPML file of feed outlines, folders and junk."""
    if rng.random() < 0.15:
        return mutate(rng, rng.randbytes(rng.randint(0, 512)) if rng.random() < .5 else b"<opml/>")

    def outline(depth: int) -> str:
        attrs = []
        for name in rng.sample(["text", "title", "xmlUrl", "xmlurl", "XMLURL", "feedUrl", "url", "htmlUrl", "type",
                                "language"], rng.randint(0, 5)):
            value = rng.choice(URLS) if "rl" in name.lower() else xml_text(rng)
            attrs.append(f'{name}="{value.replace(chr(34), "&quot;")}"')
        children = "".join(outline(depth + 1) for _ in range(rng.randint(0, 3))) if depth < 3 else ""
        return f"<outline {' '.join(attrs)}>{children}</outline>"

    body = (f'<opml version="{rng.choice(["2.0", "1.0", "x"])}"><head><title>{xml_text(rng)}</title></head><body>'
            + "".join(outline(0) for _ in range(rng.choice([0, 1, 10, 200])))
            + ("" if rng.random() < 0.1 else "</body></opml>"))
    if rng.random() < 0.05:
        body = body.replace("<body>", "<body>" + nested(rng, "outline", 3000), 1)
    data = rng.choice([b"", *BOMBS]) + encode(rng, body)
    return mutate(rng, data, rng.randint(1, 3)) if rng.random() < 0.3 else data


def page(rng: random.Random) -> tuple[bytes, str | None]:
    """An HTML page's bytes and the Content-Type it was served with."""
    content_type = rng.choice([None, "text/html", "text/html; charset=utf-8",
                               f"text/html; charset={rng.choice(ENCODINGS)}", "application/octet-stream", "image/png",
                               "text/plain", "text/html; charset=",
                               "text/html; charset=\"utf-8", "application/xhtml+xml"])
    roll = rng.random()
    if roll < 0.4 and PAGES:
        return mutate(rng, rng.choice(PAGES)), content_type
    if roll < 0.5:
        return rng.randbytes(rng.randint(0, 4096)), content_type
    if roll < 0.55:
        return rng.choice([b"\x89PNG\r\n\x1a\n", b"%PDF-1.7\n", b"PK\x03\x04", b"\x1f\x8b\x08"]) + rng.randbytes(512), \
            content_type
    meta = rng.choice(["", f'<meta charset="{rng.choice(ENCODINGS)}">',
                       f'<meta http-equiv="Content-Type" content="text/html; charset={rng.choice(ENCODINGS)}">'])
    head = (f"<head>{meta}<title>{text(rng)}</title>"
            f'<meta property="article:published_time" content="{rng.choice(DATES)}">'
            f'<link rel="canonical" href="{rng.choice(URLS)}"><meta name="author" content="{text(rng)}"></head>')
    paragraphs = "".join(f"<p>{text(rng)} Cảng Hải Phòng đón tàu mới, thành phố mở tuyến vận tải. {text(rng)}</p>"
                         for _ in range(rng.randint(0, 30)))
    body = rng.choice([
        f"<article><h1>{text(rng)}</h1>{paragraphs}</article>",
        nested(rng, "div") + paragraphs,
        f"<table>{'<tr><td>' * rng.randint(1, 3000)}{paragraphs}</table>",
        f'<div {" ".join(f"a{i}=x" for i in range(rng.choice([10, 5000])))}>{paragraphs}</div>',
        f"<svg><script>{text(rng)}</script></svg><noscript>{paragraphs}</noscript>",
        f"<frameset><frame src='{rng.choice(URLS)}'></frameset>{paragraphs}",
    ])
    html = f"<!DOCTYPE html><html lang='{rng.choice(['vi', 'zh', 'x' * 100, ''])}'>{head}<body>{body}</body></html>"
    data = encode(rng, html)
    return (mutate(rng, data, rng.randint(1, 3)) if rng.random() < 0.3 else data), content_type


GENERATORS: dict[str, Callable[[random.Random], object]] = {"feed": feed, "sitemap": sitemap, "opml": opml,
                                                            "page": page}


# -- WARC files ----------------------------------------------------------------------------------

STATUS_LINES = ["HTTP/1.1 200 OK", "HTTP/1.1 2OO OK", "HTTP/1.1 99999999999999999999 Big", "HTTP/1.1", "",
                "HTTP/9 -1 Neg", "garbage line", "HTTP/1.1 404 Not Found", "HTTP/1.1 200 \x00"]


def warc_record(rng: random.Random, n: int) -> bytes:
    """One response record written by hand, so every header may lie: the WARC-Date, the status
    line, the target URI, Content-Length (short, long, negative, not a number)."""
    body = rng.choice(PAGES)[: rng.choice([0, 100, 5000, 10 ** 6])] if PAGES else b"<html></html>"
    if rng.random() < 0.2:
        body = mutate(rng, body)
    http = (f"{rng.choice(STATUS_LINES)}\r\nContent-Type: {rng.choice(['text/html', 'text/html; charset=bogus', ''])}"
            f"\r\n{rng.choice(['', 'Content-Encoding: gzip', 'Transfer-Encoding: chunked', 'X: ' + 'y' * 9000])}"
            "\r\n\r\n").encode("utf-8", "surrogatepass") + body
    length = len(http)
    declared = rng.choice([str(length)] * 6 + [str(length + 50), str(max(0, length - 50)), "-5", "x", "9" * 30])
    headers = [
        "WARC/1.0" if rng.random() < 0.9 else rng.choice(["WARC/9.9", "HTTP/1.1 200 OK", ""]),
        f"WARC-Type: {rng.choice(['response'] * 8 + ['request', 'metadata', 'bogus'])}",
        f"WARC-Record-ID: <urn:uuid:{rng.getrandbits(128):032x}>",
        f"WARC-Date: {rng.choice(['2026-11-21T03:00:00Z'] * 5 + DATES)}",
        f"WARC-Target-URI: {rng.choice(URLS)}" if rng.random() < 0.9 else "",
        "Content-Type: application/http; msgtype=response",
        f"Content-Length: {declared}",
    ]
    head = "\r\n".join(h for h in headers if h).encode("utf-8", "surrogatepass") + b"\r\n\r\n"
    record = head + http + b"\r\n\r\n"
    return gzip.compress(record) if rng.random() < 0.85 else record


@dataclass
class WarcInput:
    data: bytes
    offsets: list[int]  # where each record began before any byte-level damage
    damaged: bool  # bytes flipped, cut or spliced after the records were written


def warc(rng: random.Random) -> WarcInput:
    """A WARC file: hand-written records (one gzip member each, or plain), then maybe cut,
    flipped or spliced at the byte level."""
    records = [warc_record(rng, i) for i in range(rng.choice([1, 2, 5, 12]))]
    offsets, at = [], 0
    for record in records:
        offsets.append(at)
        at += len(record)
    data = b"".join(records)
    if rng.random() < 0.35:
        return WarcInput(mutate(rng, data, rng.randint(1, 3)), offsets, True)
    return WarcInput(data, offsets, False)


GENERATORS["warc"] = warc
