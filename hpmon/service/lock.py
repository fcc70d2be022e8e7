"""One ``hpmon run`` per data directory: an exclusive ``flock`` the kernel drops when the
process dies."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = "hpmon.lock"


# -- single-instance lock -----------------------------------------------------------------


class AlreadyRunning(RuntimeError):
    """Another ``hpmon run`` holds the lock of this data directory."""

    def __init__(self, lock_path: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"hpmon đang chạy trên thư mục dữ liệu này ({who}, khoá {lock_path}); không khởi động lần hai. "
            f"/ hpmon is already running on this data directory ({who} holds {lock_path}); refusing to start.")
        self.pid = pid
        self.lock_path = lock_path


class InstanceLock:
    """An exclusive ``flock`` on ``HOME/hpmon.lock`` holding the owner's pid. The kernel drops it
    when the process dies, even by SIGKILL, so a stale lock cannot block a restart."""

    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning (with the holder's pid)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(self.path, read_lock_pid(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_lock_pid(lock_path: Path) -> int | None:
    try:
        return int(lock_path.read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


def running_pid(home: Path) -> int | None:
    """The pid of the ``hpmon run`` holding HOME's lock, or None when no service runs there."""
    path = home / LOCK_FILE
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_lock_pid(path) or -1
    finally:
        os.close(fd)
    return None


