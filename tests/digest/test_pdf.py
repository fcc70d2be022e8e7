"""The PDF digest, checked with Debian's poppler-utils: page images (pdftoppm), extracted text
(pdftotext: every Vietnamese diacritic), embedded fonts (pdffonts) and images (pdfimages)."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from alerts.digest.render import build_digest
from tests.digest.conftest import BASE_URL, CITY, DAY, EMPTY_DAY, case_state, queue_counter

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (apt)")


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


@pytest.fixture(scope="module")
def pdfs(backend, profiles, taxonomy, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("pdf")
    paths = {}
    for name, profile, day in (("sotttt", "sotttt", DAY), ("songoaivu", "songoaivu", DAY),
                               ("empty", "sotttt", EMPTY_DAY)):
        digest = build_digest(backend, profiles[profile], day, timezone="Asia/Ho_Chi_Minh", city=CITY,
                              base_url=BASE_URL, taxonomy=taxonomy, queue_counter=queue_counter,
                              case_state=case_state)
        paths[name] = out / f"{name}.pdf"
        paths[name].write_bytes(digest.pdf())
    return paths


def pages_text(pdf: Path) -> list[str]:
    """The NFC text of each page (pdftotext separates pages with form feeds)."""
    return [unicodedata.normalize("NFC", p) for p in run("pdftotext", "-layout", str(pdf), "-").split("\f")[:-1]]


def page_images(pdf: Path, tmp_path: Path) -> list[Image.Image]:
    run("pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / pdf.stem))
    return [Image.open(p).convert("L") for p in sorted(tmp_path.glob(f"{pdf.stem}-*.png"))]


def page_count(pdf: Path) -> int:
    info = run("pdfinfo", str(pdf))
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def test_pages_are_a4_and_each_renders_to_a_non_blank_image(pdfs, tmp_path):
    for name, pdf in pdfs.items():
        images = page_images(pdf, tmp_path)
        assert len(images) == page_count(pdf), name
        assert "595.276 x 841.89 pts (A4)" in run("pdfinfo", str(pdf))
        for image in images:
            dark = sum(image.histogram()[:200])  # pixels clearly darker than the white page
            assert dark > 500, f"{name}: a blank page"


def test_an_empty_day_fits_on_one_page(pdfs):
    assert page_count(pdfs["empty"]) == 1
    assert "Không có bài báo nào về Hải Phòng trong ngày 04/12/2025" in " ".join(pages_text(pdfs["empty"])[0].split())


def test_a_full_day_runs_over_several_pages_with_the_appendix_on_its_own_pages(pdfs):
    pages = pages_text(pdfs["sotttt"])
    assert 3 <= len(pages) <= 8
    assert "Số liệu chính" in pages[0] and "Bản tin báo chí về Hải Phòng" in pages[0]
    start = next(n for n, p in enumerate(pages) if "Phụ lục: toàn bộ bài báo trong ngày (12)" in p)
    # the page starts with the appendix, under the internal-circulation mark every page carries
    assert start > 0 and pages[start].lstrip().removeprefix("Lưu hành nội bộ").lstrip().startswith("Phụ lục")
    assert all(p.lstrip().startswith("Lưu hành nội bộ") for p in pages)
    assert "Bản tin do hpmon tạo tự động" in pages[-1]
    assert re.search(rf"1\s*/\s*{len(pages)}$", pages[0].rstrip())  # the page footer


def test_vietnamese_text_extracts_with_every_diacritic(pdfs):
    sotttt = " ".join(" ".join(pages_text(pdfs["sotttt"])).split())
    for phrase in ("Hải Phòng", "Sở Thông tin và Truyền thông", "Cảng Lạch Huyện đón tàu mẹ 200.000 tấn",
                   "Lễ hội Hoa Phượng Đỏ 2025 khai mạc", "Chủ quyền biển đảo, biên giới", "Tỷ lệ bài tiêu cực",
                   "Hồ sơ phản bác: Đang soạn phản bác", "Tiên Lãng", "ngày 24 tháng 11 năm 2025"):
        assert phrase in sotttt, phrase
    songoaivu = " ".join(" ".join(pages_text(pdfs["songoaivu"])).split())
    assert "Sở Ngoại vụ" in songoaivu and "SỞ NGOẠI VỤ" in songoaivu  # the header is upper-cased
    assert "Theo quốc gia" in songoaivu and "Trung Quốc" in songoaivu


def test_original_titles_in_chinese_japanese_and_korean_extract(pdfs):
    text = " ".join(pages_text(pdfs["sotttt"]))
    for title in ("越南海防市吸引外资创新高", "ハイフォン港に大型コンテナ船が寄港",
                  "베트남 하이퐁, 외국인 투자 유치 사상 최대"):
        assert title in text, title


def test_fonts_are_embedded_dejavu_for_vietnamese_and_noto_cjk_for_east_asian_titles(pdfs):
    rows = run("pdffonts", str(pdfs["sotttt"])).splitlines()[2:]
    names = [r.split()[0] for r in rows]
    assert all(r.split()[-5] == "yes" for r in rows), rows  # the "emb" column
    assert any("DejaVu-Sans" in n for n in names), names
    assert any("Noto-Sans-CJK" in n for n in names), f"install fonts-noto-cjk (apt): {names}"


def test_every_chart_is_an_image_in_the_pdf(pdfs):
    listing = run("pdfimages", "-list", str(pdfs["sotttt"])).splitlines()[2:]
    assert sum(1 for line in listing if line.split()[2] == "image") == 4
    listing = run("pdfimages", "-list", str(pdfs["empty"])).splitlines()[2:]
    assert sum(1 for line in listing if line.split()[2] == "image") == 1
