"""The CTranslate2 engine end to end on tiny packages the tests build: install (and every refusal),
load, tokenise, translate, decode; through English when no direct model is installed."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from pipeline.translate import (
    ArgosEngine,
    PackageError,
    TranslationError,
    install_package,
    installed_pairs,
    remove_pair,
)
from tests.translate.tiny_model import vocabulary_text

ZH_TITLE = "海防港的货运量今年增长很快"
ZH_LEAD = "新的大桥明年将通车。许多游客来到吉婆岛！"


def _is_decoded_target_text(text: str, package: Path) -> bool:
    """Whether ``text`` reads as decoded pieces of the package's target vocabulary: non-empty,
    every character one the target pieces are written with, no piece markers or ids left."""
    _, chars = vocabulary_text(package)
    return bool(text.strip()) and "▁" not in text and set(text.replace(" ", "")) <= chars


def test_an_installed_package_translates_into_decoded_target_text(tmp_path, packages):
    pair = install_package(packages["zh-vi"], tmp_path / "translation")
    assert (pair.source, pair.target, pair.name) == ("zh", "vi", "tiny-zh-vi 0.1")
    assert (tmp_path / "translation" / "zh-vi" / "model" / "model.bin").is_file()
    engine = ArgosEngine(tmp_path / "translation")
    assert engine.pairs() == {("zh", "vi")}
    title, lead, empty = engine.translate([ZH_TITLE, ZH_LEAD, ""], "zh", "vi")
    assert _is_decoded_target_text(title, packages["zh-vi"])
    assert _is_decoded_target_text(lead, packages["zh-vi"])
    assert empty == ""
    # deterministic: the same model gives the same output (greedy/beam search, no sampling)
    assert engine.translate([ZH_TITLE], "zh", "vi") == [title]
    assert engine.model("zh", "vi") == "tiny-zh-vi 0.1"


def test_a_pair_without_its_own_model_goes_through_english(tmp_path, packages):
    for key in ("zh-en", "en-vi"):
        install_package(packages[key], tmp_path / "translation")
    engine = ArgosEngine(tmp_path / "translation")
    assert [p.key for p in engine.route("zh", "vi")] == ["zh-en", "en-vi"]
    [via_english] = engine.translate([ZH_TITLE], "zh", "vi")
    [english] = engine.translate([ZH_TITLE], "zh", "en")
    assert _is_decoded_target_text(english, packages["zh-en"])
    assert _is_decoded_target_text(via_english, packages["en-vi"])
    assert engine.translate([english], "en", "vi") == [via_english]
    assert engine.model("zh", "vi") == "tiny-zh-en 0.1 + tiny-en-vi 0.1"


def test_a_pair_with_no_route_is_a_clear_error(tmp_path, packages):
    install_package(packages["zh-en"], tmp_path / "translation")
    with pytest.raises(TranslationError, match=r"no model for ja→vi .*installed: zh-en"):
        ArgosEngine(tmp_path / "translation").translate(["日本"], "ja", "vi")


def _rezip(src: Path, dest: Path, *, drop: str | None = None, extra: dict[str, bytes] | None = None,
           replace: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            if drop and info.filename.endswith(drop):
                continue
            data = zin.read(info)
            for suffix, new in (replace or {}).items():
                if info.filename.endswith(suffix):
                    data = new
            zout.writestr(info, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dest


def _symlink_member(src: Path, folder: Path) -> Path:
    dest = _rezip(src, folder / "x.argosmodel")
    with zipfile.ZipFile(dest, "a") as zf:
        top = zf.namelist()[0].split("/")[0]
        info = zipfile.ZipInfo(f"{top}/link")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    return dest


@pytest.mark.parametrize(("make", "reason"), [
    (lambda src, d: (d / "x.argosmodel").write_bytes(b"not a zip at all") and d / "x.argosmodel",
     "is not a zip archive"),
    (lambda src, d: _rezip(src, d / "x.argosmodel", extra={"../evil.txt": b"x"}), "points outside the package"),
    (lambda src, d: _rezip(src, d / "x.argosmodel", extra={"/etc/evil": b"x"}), "absolute"),
    (_symlink_member, "is a symbolic link"),
    (lambda src, d: _rezip(src, d / "x.argosmodel", drop="sentencepiece.model"), "sentencepiece tokenizer"),
    (lambda src, d: _rezip(src, d / "x.argosmodel", drop="model.bin"), "the CTranslate2 model"),
    (lambda src, d: _rezip(src, d / "x.argosmodel", drop="metadata.json"), "the metadata"),
    (lambda src, d: _rezip(src, d / "x.argosmodel", replace={"metadata.json": b'{"from_code": "zh"}'}),
     "no valid to_code"),
    (lambda src, d: _rezip(src, d / "x.argosmodel", extra={"second/file.txt": b"x"}), "top-level entries"),
    (lambda src, d: _rezip(src, d / "x.argosmodel", replace={"model.bin": b"garbage"}), "not a CTranslate2 model"),
    (lambda src, d: _rezip(src, d / "x.argosmodel", replace={"sentencepiece.model": b"garbage"}),
     "not a sentencepiece model"),
])
def test_a_bad_package_is_refused_with_its_reason_and_leaves_nothing(tmp_path, packages, make, reason):
    bad = make(packages["zh-en"], tmp_path)
    target = tmp_path / "translation"
    with pytest.raises(PackageError, match=reason):
        install_package(bad, target)
    assert not (tmp_path / "evil.txt").exists()
    assert not target.exists() or list(target.iterdir()) == []
    assert installed_pairs(target) == []


def test_installing_again_replaces_the_pair_and_remove_takes_it_away(tmp_path, packages):
    target = tmp_path / "translation"
    install_package(packages["zh-en"], target)
    [before] = ArgosEngine(target).translate([ZH_TITLE], "zh", "en")
    # another model for the same pair (the zh-vi package relabelled zh→en) replaces the first
    relabelled = _rezip(packages["zh-vi"], tmp_path / "relabelled.argosmodel", replace={"metadata.json": json.dumps(
        {"from_code": "zh", "to_code": "en", "name": "tiny-relabelled", "package_version": "2"}).encode()})
    assert install_package(relabelled, target).name == "tiny-relabelled 2"
    assert [p.key for p in installed_pairs(target)] == ["zh-en"]
    assert sorted(p.name for p in target.iterdir()) == ["zh-en"]
    [after] = ArgosEngine(target).translate([ZH_TITLE], "zh", "en")
    assert after != before
    assert remove_pair(target, "zh-en") and installed_pairs(target) == []
    assert not remove_pair(target, "zh-en")
    assert not remove_pair(target, "../translation")
