"""The evidence library: adding PDF, HTML and text documents, searching, suggesting for a case."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.language import LanguageDetector
from pipeline.library_docs import document_text, load_document, sniff_format
from pipeline.outcome import Dropped
from records.cases import CaseStore
from records.library import LibraryStore
from tests.cases.conftest import make_article


def tiny_pdf(lines: list[str], title: str) -> bytes:
    """A minimal valid one-page PDF (Helvetica, ASCII text) with a document title, built by hand
    so the test needs no PDF library; the xref offsets are computed, not guessed."""
    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    content = "BT /F1 11 Tf 50 780 Td 14 TL " + " ".join(f"({esc(line)}) '" for line in lines) + " ET"
    stream = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title (" + esc(title).encode("latin-1") + b") /Producer (hpmon tests) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PDF_LINES = [
    "Statement of the Ministry of Foreign Affairs of Viet Nam",
    "Viet Nam has sufficient historical evidence and legal basis to affirm its sovereignty",
    "over the Hoang Sa (Paracel) and Truong Sa (Spratly) archipelagos.",
    "The so-called nine-dash line has no legal basis under UNCLOS 1982.",
]

VI_STATEMENT = """Tuyên bố của Người phát ngôn Bộ Ngoại giao về chủ quyền quần đảo Hoàng Sa và Trường Sa

Việt Nam có đầy đủ bằng chứng lịch sử và cơ sở pháp lý khẳng định chủ quyền đối với quần đảo Hoàng Sa và
quần đảo Trường Sa phù hợp với luật pháp quốc tế. Việt Nam kiên quyết phản đối việc Trung Quốc thành lập
cái gọi là "thành phố Tam Sa" và yêu sách "đường chín đoạn" không có cơ sở pháp lý theo Công ước Liên Hợp Quốc
về Luật Biển năm 1982. Mọi hoạt động của tàu nước ngoài tại vùng biển Hoàng Sa mà không được phép của Việt
Nam đều vi phạm chủ quyền của Việt Nam và vô giá trị."""

VI_PORT = """Sản lượng hàng hóa qua cảng biển Hải Phòng năm 2025

Cảng Hải Phòng tiếp nhận hơn 180 triệu tấn hàng hóa, sản lượng container tăng 12%. Cảng cửa ngõ quốc tế Lạch
Huyện đón tàu mẹ 20.000 TEU, tuyến vận tải mới đi Bắc Mỹ và châu Âu. Thành phố đầu tư hạ tầng logistics."""

VI_TOURISM = """Du lịch Cát Bà đón khách quốc tế kỷ lục

Vịnh Lan Hạ và đảo Cát Bà đón hơn ba triệu lượt khách, nhiều tàu du lịch mới, khách sạn và nhà hàng hải sản
ven biển của thành phố Hải Phòng kín phòng trong mùa hè."""

EN_STATEMENT_HTML = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Viet Nam rejects survey ship activity near the Spratly islands</title></head><body>
<nav>Home | News | Contact</nav>
<article><h1>Viet Nam rejects survey ship activity near the Spratly islands</h1>
<p>The Foreign Ministry spokesperson said that Viet Nam has full legal basis and historical evidence of its
sovereignty over the Truong Sa (Spratly) and Hoang Sa (Paracel) archipelagos. Any survey ship operating in
Viet Nam's exclusive economic zone and continental shelf without permission violates UNCLOS 1982.</p>
<p>Viet Nam rejects the so-called nine-dash line, which the 2016 arbitral tribunal found has no legal basis.</p>
</article><footer>Copyright Ministry</footer></body></html>"""

EN_TRADE = """Hai Phong port handles record container volumes

The port of Hai Phong handled 6.4 million TEU in ten months, with new direct services to North America and
Europe. Logistics investment and deep-water berths at Lach Huyen keep growing."""


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "tuyen-bo.txt").write_text(VI_STATEMENT, encoding="utf-8")
    (d / "cang.txt").write_text(VI_PORT, encoding="utf-8")
    (d / "du-lich.txt").write_text(VI_TOURISM, encoding="utf-8")
    (d / "statement.html").write_text(EN_STATEMENT_HTML, encoding="utf-8")
    (d / "trade.txt").write_text(EN_TRADE, encoding="utf-8")
    (d / "statement.pdf").write_bytes(tiny_pdf(PDF_LINES, "MOFA statement on Hoang Sa and Truong Sa"))
    return d


_DETECTOR = LanguageDetector()  # loading its profiles once keeps the module fast


def _add(library: LibraryStore, path: Path, kind: str):
    doc = load_document(str(path), detector=_DETECTOR)
    assert not isinstance(doc, Dropped), doc
    added, _ = library.add(title=doc.title, text=doc.text, kind=kind, source=doc.source, language=doc.language,
                           meta={"format": doc.format})
    return added, doc


def test_pdf_document_is_added_with_its_text_and_title(library: LibraryStore, docs_dir: Path) -> None:
    added, doc = _add(library, docs_dir / "statement.pdf", "statement")
    assert (doc.format, doc.extractor in ("pypdf", "pdftotext")) == ("pdf", True)
    assert added.title == "MOFA statement on Hoang Sa and Truong Sa"
    assert "so-called nine-dash line has no legal basis" in added.text
    assert "Truong Sa (Spratly)" in added.text
    assert added.language == "en"
    assert [h.id for h in library.search("nine-dash")] == [added.id]


def test_html_document_keeps_the_article_and_drops_the_page_chrome(library: LibraryStore, docs_dir: Path) -> None:
    added, doc = _add(library, docs_dir / "statement.html", "statement")
    assert doc.format == "html" and doc.extractor == "trafilatura"
    assert added.title == "Viet Nam rejects survey ship activity near the Spratly islands"
    assert "arbitral tribunal" in added.text
    assert "Copyright Ministry" not in added.text and "Home | News" not in added.text


def test_text_document_is_added_with_its_first_line_as_title_and_its_language(library: LibraryStore,
                                                                              docs_dir: Path) -> None:
    added, doc = _add(library, docs_dir / "tuyen-bo.txt", "statement")
    assert doc.format == "text"
    assert added.title.startswith("Tuyên bố của Người phát ngôn Bộ Ngoại giao")
    assert added.language == "vi"
    assert added.source == str((docs_dir / "tuyen-bo.txt").resolve())


def test_same_text_added_twice_is_one_document(library: LibraryStore, docs_dir: Path) -> None:
    first, _ = _add(library, docs_dir / "cang.txt", "record")
    again, new = library.add(title="copy", text=first.text, kind="record", source="elsewhere")
    assert (again.id, new) == (first.id, False)
    assert library.count() == 1


def test_search_is_diacritic_insensitive_and_understands_the_query_syntax(library: LibraryStore,
                                                                          docs_dir: Path) -> None:
    statement, _ = _add(library, docs_dir / "tuyen-bo.txt", "statement")
    port, _ = _add(library, docs_dir / "cang.txt", "record")
    assert [h.id for h in library.search("hoang sa")] == [statement.id]
    assert [h.id for h in library.search('"Hải Phòng"')] == [port.id]
    assert [h.id for h in library.search("hai phong -container")] == []
    assert {h.id for h in library.search('"tam sa" OR "lach huyen"')} == {statement.id, port.id}
    assert [h.id for h in library.search("hoang sa", kind="record")] == []


def test_unreadable_inputs_give_reasons(tmp_path: Path) -> None:
    assert isinstance(load_document(str(tmp_path / "nope.pdf")), Dropped)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot really a pdf")
    got = load_document(str(broken))
    assert isinstance(got, Dropped) and got.reason in ("bad_pdf", "no_text")
    assert sniff_format(b"<!doctype html><p>x</p>") == "html"
    assert isinstance(document_text(b"   \n ", "empty.txt"), Dropped)


@pytest.fixture
def full_library(library: LibraryStore, docs_dir: Path) -> dict[str, int]:
    ids = {}
    for name, kind in (("tuyen-bo.txt", "statement"), ("cang.txt", "record"), ("du-lich.txt", "record"),
                       ("statement.html", "statement"), ("trade.txt", "record"), ("statement.pdf", "statement")):
        ids[name] = _add(library, docs_dir / name, kind)[0].id
    return ids


VI_CASE = """Tàu Trung Quốc hoạt động trái phép ở quần đảo Hoàng Sa
Một tàu khảo sát của Trung Quốc cùng tàu hải cảnh hộ tống đã hoạt động nhiều ngày trong vùng biển quần đảo Hoàng
Sa. Bài báo nước ngoài gọi đây là "thành phố Tam Sa" và coi "đường chín đoạn" là căn cứ, đồng thời nhắc tới cảng
Hải Phòng."""

EN_CASE = """Chinese survey ship operates near the Spratly islands, Beijing cites nine-dash line
A Chinese survey ship and coast guard escorts operated for nine days near the Spratly islands. State media said
the nine-dash line gives China rights over the area, and mentioned container ships bound for Hai Phong port."""


def test_suggestions_rank_the_vietnamese_statement_first_for_a_vietnamese_sovereignty_case(
        library: LibraryStore, full_library: dict[str, int]) -> None:
    suggestions = library.similar(VI_CASE, 3)
    assert suggestions[0].id == full_library["tuyen-bo.txt"]
    assert "chin doan" in suggestions[0].terms
    assert full_library["du-lich.txt"] not in [s.id for s in suggestions[:2]]


def test_suggestions_rank_an_english_statement_first_for_an_english_sovereignty_case(
        library: LibraryStore, full_library: dict[str, int]) -> None:
    suggestions = library.similar(EN_CASE, 3)
    assert suggestions[0].id in (full_library["statement.html"], full_library["statement.pdf"])
    assert {s.id for s in suggestions[:2]} == {full_library["statement.html"], full_library["statement.pdf"]}
    assert {"nine dash", "survey ship"} <= set(suggestions[0].terms)
    assert "nine dash" in suggestions[1].terms


def test_a_neutral_port_case_is_matched_to_port_records_not_to_statements(
        library: LibraryStore, full_library: dict[str, int]) -> None:
    suggestions = library.similar("Cảng Hải Phòng đón tàu container 20.000 TEU, sản lượng hàng hóa tăng", 2)
    assert suggestions[0].id == full_library["cang.txt"]


def test_empty_library_suggests_nothing(library: LibraryStore) -> None:
    assert library.similar(VI_CASE) == []


def test_prior_cases_are_suggested_by_similarity(store: CaseStore) -> None:
    sovereignty = store.open_case_for(make_article("https://a.example/1", title="Tàu lạ ở Hoàng Sa",
                                                   text=VI_CASE)).case.id
    store.open_case_for(make_article("https://a.example/2", title="Cảng Hải Phòng", text=VI_PORT))
    store.open_case_for(make_article("https://a.example/3", title="Du lịch", text=VI_TOURISM))
    new = store.open_case_for(make_article("https://b.example/9", title="Hoàng Sa và cái gọi là Tam Sa",
                                           text="Trung Quốc lại nhắc tới thành phố Tam Sa và đường chín đoạn "
                                                "khi tàu khảo sát vào quần đảo Hoàng Sa.")).case.id
    similar = store.similar_cases(store.case_text(new), 3, exclude=new)
    assert similar and similar[0][0].id == sovereignty
    assert new not in [c.id for c, _, _ in similar]
