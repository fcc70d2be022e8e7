"""Peak memory of a piece of code, measured in a fresh process.

Linux keeps a process's ``ru_maxrss`` across ``fork`` + ``exec``: a child of the (large) pytest
process reports at least pytest's size. So the code runs in a grandchild, started by a small
wrapper, which reports ``RUSAGE_CHILDREN`` — the grandchild's own peak."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_WRAPPER = ("import resource, subprocess, sys\n"
            "done = subprocess.run(sys.argv[1:], stdin=sys.stdin, capture_output=True)\n"
            "sys.stderr.buffer.write(done.stderr)\n"
            "sys.stdout.buffer.write(done.stdout)\n"
            "print()\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(done.returncode)\n")


def run_measured(argv: list[str], *, input: bytes | None = None, env: dict[str, str] | None = None,
                 timeout: float = 300, check: bool = True) -> tuple[str, int]:
    """(stdout, peak memory in KiB) of ``argv`` run in a grandchild process; raises
    CalledProcessError when it fails (exits non-zero) and ``check``."""
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *argv], input=input, capture_output=True, cwd=REPO,
                          env=env, timeout=timeout, check=check)
    out, _, peak = done.stdout.decode("utf-8", "replace").rstrip().rpartition("\n")
    return out, int(peak)


def python_measured(code: str, *args: str, **kw) -> tuple[str, int]:
    """``run_measured`` of ``python -c code args...``."""
    return run_measured([sys.executable, "-c", code, *args], **kw)
