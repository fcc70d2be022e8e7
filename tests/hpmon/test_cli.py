"""The CLI as a user runs it: analyze's public contract, ingest of files and WARCs, docs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest

from crawlers.warc import WarcArchive
from hpmon.cli import main
from hpmon.settings import Settings
from tests.conftest import REPO, make_hpmon

CONTRACT_KEYS = {"id", "language", "language_probability", "relevant", "relevance", "topics", "sentiment",
                 "sensitive", "risk", "story_id"}
PAGE = """<html lang="en"><head><meta charset="utf-8"><title>Haiphong port sets a record</title>
<meta property="article:published_time" content="2026-11-20T08:00:00+07:00"></head><body>
<nav>Home | World | Business</nav><article><h1>Haiphong port sets a record</h1>
<p>The northern Vietnamese port city of Haiphong handled a record number of containers in October, the port
authority said on Friday, as new berths at Lach Huyen came into service and shipping lines added routes.</p>
<p>Officials in Hai Phong expect volumes to keep growing next year as factories in nearby industrial zones
expand production for export markets in the United States and Europe.</p></article>
<footer>Copyright Example News</footer></body></html>"""


@pytest.fixture
def hpmon(tmp_path):
    return make_hpmon(tmp_path / "home")


def analyze(hpmon, lines):
    out = hpmon.run("analyze", input="\n".join(lines) + "\n").stdout.splitlines()
    return [json.loads(line) for line in out]


def test_analyze_follows_the_public_contract(hpmon):
    results = analyze(hpmon, [
        json.dumps({"id": "a", "text": "Cảng Lạch Huyện ở Hải Phòng đón tàu container lớn nhất từ trước tới nay."}),
        json.dumps({"id": "b", "html": PAGE, "url": "https://example.com/world/2026/11/20/haiphong-port.html"}),
        json.dumps({"id": "c", "text": "Đà Nẵng đón một triệu lượt khách du lịch trong tháng mười."}),
    ])
    assert [r["id"] for r in results] == ["a", "b", "c"]
    for r in results:
        assert set(r) >= CONTRACT_KEYS
        assert r["topics"] is None and r["sentiment"] is None  # no trained model in this home: null
    a, b, c = results
    assert a["language"] == "vi" and a["relevant"] and "Lạch Huyện" in a["relevance"]["terms"]
    assert b["language"] == "en" and b["relevant"] and b["story_id"]
    assert a["risk"]["score"] < 0.3 and a["sensitive"]["themes"] == []  # a port story is not flagged
    assert a["kept"] and a["scope"] == "city" and b["scope"] == "city"
    assert not c["relevant"] and c["relevance"]["score"] < 0.5 and c["story_id"] is None
    # every field is filled whether a crawl would keep the article or not
    assert not c["kept"] and c["scope"] is None and c["dropped"]["reason"] == "not_relevant"
    assert c["sensitive"]["themes"] == [] and c["risk"]["score"] == 0.0


def test_analyze_never_crashes_on_bad_input(hpmon):
    results = analyze(hpmon, [
        "not json",
        json.dumps({"id": "empty", "text": ""}),
        json.dumps({"id": "one", "text": "Haiphong"}),
        json.dumps({"id": "nothing"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "huge", "text": "Hải Phòng phát triển cảng biển. " * 70_000}),
        json.dumps({"id": "mixed", "text": "Hải Phòng 海防 ハイフォン 하이퐁 Хайфон Haiphong"}),
        json.dumps({"id": "binary", "html": "\x00\x01\x02" * 100, "url": "https://x.vn/a"}),
    ])
    by_id = {r["id"]: r for r in results}
    assert len(results) == 8
    assert "error" in results[0] and "error" in by_id["nothing"] and "error" in results[4]
    assert by_id["empty"]["language"] == "und" and not by_id["empty"]["relevant"]
    assert by_id["one"]["relevant"]
    assert by_id["huge"]["relevant"] and by_id["huge"]["language"] == "vi"
    assert by_id["mixed"]["relevant"] and len(by_id["mixed"]["relevance"]["terms"]) >= 5
    assert by_id["binary"]["dropped"]["reason"] == "binary"


def test_ingest_html_and_warc_files_then_search(hpmon, tmp_path):
    html = tmp_path / "page.html"
    html.write_text(PAGE, encoding="utf-8")
    archive = WarcArchive(tmp_path / "warc")
    archive.write_response("https://example.com/world/2026/11/21/haiphong-port-2.html", 200, "OK",
                           [("Content-Type", "text/html; charset=utf-8")],
                           PAGE.replace("record", "new record").encode(), datetime.now(UTC))
    archive.close()
    out = hpmon.run("ingest", str(html), str(archive.path)).stdout
    assert out.count("indexed") == 2
    result = hpmon.json("search", "haiphong", "--facets")
    assert result["total"] == 2 and dict(result["facets"]["language"]) == {"en": 2}
    # ingesting the same WARC again changes nothing (idempotent by id)
    assert "updated" in hpmon.run("ingest", str(archive.path)).stdout
    assert hpmon.json("search", "haiphong")["total"] == 2


def test_ingest_reports_a_corrupt_warc_and_goes_on(hpmon, tmp_path):
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    good = tmp_path / "page.html"
    good.write_text(PAGE, encoding="utf-8")
    result = hpmon.run("ingest", str(bad), str(good), check=False)
    assert result.returncode == 3  # an input failed (hpmon.exitcodes.EXIT_FAILED); the good one is indexed
    assert "failed" in result.stdout and "indexed" in result.stdout and "1 input failed" in result.stderr


def test_search_rejects_an_unclosed_quote_clearly(hpmon):
    result = hpmon.run("search", '"hai phong', check=False)
    assert result.returncode != 0 and "unclosed quote" in result.stderr


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        full = f"{prefix}{name}"
        names.append(full)
        if isinstance(command, click.Group):
            names += _commands(command, full + " ")
    return names


def test_docs_list_every_command_and_setting():
    cli_doc = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    for command in _commands(main):
        assert f"hpmon {command}" in cli_doc, f"docs/cli.md does not document `hpmon {command}`"
    settings_doc = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert re.search(rf"`HPMON_{name.upper()}`", settings_doc), f"docs/settings.md lacks HPMON_{name.upper()}"


def test_every_command_has_help(hpmon):
    for command in _commands(main):
        result = hpmon.run(*command.split(), "--help")
        assert "Usage:" in result.stdout


def test_readme_shows_the_two_commands():
    readme = Path(REPO / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme and "make demo" in readme


def test_eval_scores_the_models_and_the_sensitive_themes_on_a_labelled_file(tmp_path):
    hp = make_hpmon(tmp_path / "home")
    hp.run("train", "--no-cv")
    lines = [
        {"id": "1", "lang": "vi", "title": "Trung Quốc tập trận trái phép ở Hoàng Sa",
         "text": "Bộ Ngoại giao phản đối việc Trung Quốc tập trận ở quần đảo Hoàng Sa của Việt Nam.",
         "topics": ["sovereignty"], "sentiment": "negative", "sensitive": ["sovereignty"]},
        {"id": "2", "lang": "en", "title": "Haiphong port sets a record",
         "text": "The port of Haiphong handled a record number of containers in October.",
         "topics": ["port_logistics"], "sentiment": "positive", "sensitive": []},
    ]
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    report = json.loads(hp.run("eval", str(labelled), "--json").stdout)
    sensitive = report["sensitive_themes"]
    assert sensitive["n"] == 2 and sensitive["per_theme"]["sovereignty"]["tp"] == 1
    assert sensitive["any_theme"]["fp"] == 0
    text = hp.run("eval", str(labelled)).stdout
    assert "Sensitive themes" in text and "sovereignty" in text
    unlabelled = tmp_path / "topics-only.jsonl"
    unlabelled.write_text("\n".join(json.dumps({k: v for k, v in line.items() if k != "sensitive"},
                                               ensure_ascii=False) for line in lines), encoding="utf-8")
    assert json.loads(hp.run("eval", str(unlabelled), "--json").stdout)["sensitive_themes"] is None


def test_the_data_directory_is_private_to_the_office(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)  # made by hand, open to everyone
    hp = make_hpmon(home)
    hp.run("init")
    assert home.stat().st_mode & 0o777 == 0o700
    for path in home.rglob("*"):
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o777
        assert not mode & 0o077, f"{path} is {mode:o}"
    doctor = hp.run("doctor").stdout
    assert "readable by other users" not in doctor
