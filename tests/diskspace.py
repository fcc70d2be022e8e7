"""A real small filesystem for the tests of full disks: a tmpfs mounted for the test (skipped
where mounting is not allowed), and a filler that takes its space."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (``256k``, ``64m``) mounted on the new folder ``where``, unmounted
    after; the test is skipped when it cannot be mounted (no privilege)."""
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path, *, leave: int = 0, name: str = "filler", chunk: int = 4096) -> Path:
    """Write a file on ``disk`` until the filesystem refuses (ENOSPC), then give back ``leave``
    bytes; returns the file (delete it to free the space)."""
    filler = disk / name
    with filler.open("wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * chunk)
        except OSError:
            pass
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler
