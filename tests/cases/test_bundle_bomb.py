"""``hpmon evidence verify`` on a hostile bundle: a zip of a few hundred KB whose members
inflate to hundreds of MiB. Members are hashed in chunks and never read past the size the
manifest gives them, so memory stays bounded and the reason is clear; a damaged zip or
manifest is a reason too, not a traceback."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpmon.commands.cases import evidence_verify
from pipeline.evidence import verify_export
from tests.peak_memory import python_measured

LIAR_MIB, HONEST_MIB = 800, 300


def _write_zeros(zf: zipfile.ZipFile, name: str, mib: int) -> str:
    digest, zeros = hashlib.sha256(), bytes(1 << 20)
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=True) as fh:
        for _ in range(mib):
            fh.write(zeros)
            digest.update(zeros)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """A bundle whose manifest says 11 bytes for an 800 MiB member, and honestly gives a 300 MiB one."""
    path = tmp_path_factory.mktemp("bundle") / "case-bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        liar = _write_zeros(zf, "evidence/1/page.txt", LIAR_MIB)
        honest = _write_zeros(zf, "evidence/1/page.warc.gz", HONEST_MIB)
        zf.writestr("manifest.json", json.dumps({"format": "hpmon-evidence/1", "files": [
            {"path": "evidence/1/page.txt", "size": 11, "sha256": liar, "frozen_sha256": liar},
            {"path": "evidence/1/page.warc.gz", "size": HONEST_MIB << 20, "sha256": honest,
             "frozen_sha256": honest}]}))
    return path


def test_a_zip_bomb_bundle_is_verified_in_bounded_memory_with_a_reason(bomb: Path):
    code = ("import json, sys; from pipeline.evidence import verify_export; "
            "print(json.dumps(verify_export(sys.argv[1])))")
    problems, peak_kib = python_measured(code, str(bomb))
    assert json.loads(problems) == ["larger than the manifest says (11 bytes), not read further: evidence/1/page.txt"]
    print(f"bundle of {bomb.stat().st_size // 1024} KB ({LIAR_MIB + HONEST_MIB} MiB inflated): "
          f"peak memory {peak_kib / 1024:.0f} MiB")
    assert peak_kib < 200 * 1024  # it was 1.7 GB for an 815 KB bundle


def test_the_command_reports_the_bomb_and_exits_non_zero(bomb: Path):
    result = CliRunner().invoke(evidence_verify, [str(bomb)])
    assert result.exit_code == 1 and "larger than the manifest says" in result.output


def test_a_damaged_zip_or_manifest_is_a_reason_not_a_traceback(tmp_path: Path):
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(b"PK\x03\x04 this is not a zip")
    assert verify_export(not_zip)[0].startswith("not a readable zip")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("manifest.json", "{not json")
    assert verify_export(bad)[0].startswith("manifest.json is unreadable")
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"files": [{"size": 3}]}))
    assert verify_export(bad) == ["manifest.json is malformed: no list of files with their paths"]
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("a.txt", b"abcd")
        zf.writestr("manifest.json", json.dumps({"files": [
            {"path": "a.txt", "size": 5, "sha256": hashlib.sha256(b"abcd").hexdigest()}]}))
    assert verify_export(bad) == ["size differs from the manifest (4 != 5): a.txt"]
