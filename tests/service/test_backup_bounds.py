"""Backups and restores never inflate or copy without a bound: the live WARC file is walked a
chunk at a time (a gzip-bomb member does not fill memory), a file whose size differs from the
manifest is reported before it is hashed, and a file that changed after it was verified stops
the restore."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from hpmon.backup import BackupError, ManifestEntry, _copy_checked, backup, verify
from hpmon.settings import Settings
from tests.peak_memory import python_measured


def _bomb_member(mib: int) -> bytes:
    deflater = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    return b"".join([*(deflater.compress(zeros) for _ in range(mib)), deflater.flush()])


def test_a_live_warc_with_a_gzip_bomb_member_is_cut_in_bounded_memory(tmp_path):
    first, bomb = gzip.compress(b"WARC/1.1\r\n record one"), _bomb_member(600)
    half = gzip.compress(b"WARC/1.1\r\n a record being written")[:20]
    path = tmp_path / f"hpmon-20260101000000-{os.getpid()}.warc.gz"
    path.write_bytes(first + bomb + half)
    code = ("import sys; from pathlib import Path; from hpmon.backup import complete_warc_length; "
            "print(complete_warc_length(Path(sys.argv[1])))")
    out, peak_kib = python_measured(code, str(path), timeout=120)
    length = int(out)
    assert length == len(first) + len(bomb)  # the half-written record is cut, the bomb kept as it is
    print(f"complete_warc_length over a 600 MiB member: peak memory {peak_kib / 1024:.0f} MiB")
    assert peak_kib < 200 * 1024


def test_a_file_whose_size_differs_from_the_manifest_is_reported_before_it_is_hashed(tmp_path):
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "topics.json").write_text('{"weights": [1]}')
    dest = tmp_path / "backup"
    backup(Settings(home=home), dest)
    with (dest / "models" / "topics.json").open("ab") as fh:
        fh.write(b" " * 1000)
    _, problems = verify(dest)
    assert problems == ["models/topics.json: sha256 differs from the manifest (1016 bytes, the manifest says 16: "
                        "not hashed)"]


def test_a_file_changed_after_it_was_verified_stops_the_restore(tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(b"x" * 5000)
    entry = ManifestEntry("big.bin", "file", 100, "0" * 64)
    with pytest.raises(BackupError, match="grew past the 100 bytes"):
        _copy_checked(src, tmp_path / "out.restoring", entry)
    assert not (tmp_path / "out.restoring").exists()
    entry = ManifestEntry("big.bin", "file", 5000, "0" * 64)
    with pytest.raises(BackupError, match="changed since it was verified"):
        _copy_checked(src, tmp_path / "out.restoring", entry)
    assert not (tmp_path / "out.restoring").exists()
