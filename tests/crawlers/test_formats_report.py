"""The formats report on ../shared/benchmarks/formats: no file lost, misread or falsely warned."""

from __future__ import annotations

import json

import pytest

from bench.common import data_dir
from bench.formats_report import expected_counts, main

FORMATS = data_dir("formats")


@pytest.mark.skipif(not FORMATS.is_dir(), reason="../shared/benchmarks/formats absent")
def test_every_format_file_is_read(tmp_path):
    main(["--results", str(tmp_path)])
    report = json.loads((tmp_path / "formats.json").read_text(encoding="utf-8"))
    files = report["files"]
    assert len(files) >= 20
    bad = [(f["file"], f.get("error"), f.get("misread"), f.get("warning")) for f in files
           if f["lost"] or f["misread_any"] or f.get("warning")]
    assert bad == []
    assert report["lost"] == report["misread"] == report["warned"] == 0


def test_expected_counts_read_the_readme_table(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("| file | source | what | notes |\n|---|---|---|---|\n"
                      "| a.rss | x | VnExpress RSS, 25 items, 2017 | |\n"
                      "| b.opml | y | Feedly | 1,522 feeds, categories |\n"
                      "| c.xml | z | sitemap index, 5 children | |\n| d.xml | w | no count | |\n", encoding="utf-8")
    assert expected_counts(readme) == {"a.rss": 25, "b.opml": 1522, "c.xml": 5}
