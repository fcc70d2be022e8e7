"""The WARC archive: every fetched article page, with its HTTP headers, as proof of what
the page said when it was fetched.

Each file is fit for replay tools (pywb, replayweb.page) and archivists: it starts with a
``warcinfo`` record (software, host, format, what it is part of), and every ``response``
record is followed by the ``request`` that fetched it, linked by ``WARC-Concurrent-To``.

Durability is grouped: records are handed to the OS at once (readable straight away) and
fsynced every ``sync_every`` records or ``sync_seconds`` seconds, whichever comes first.
Whoever relies on a record being on disk (the pipeline, before it indexes the article whose
record it is) calls :meth:`WarcArchive.sync`, which costs nothing when the group was already
synced. ``sync_every=1`` (the default) fsyncs every record on its own.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# Headers describing a transfer encoding the stored body no longer has (Scrapy decompresses).
_TRANSFER_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


def _software() -> str:
    try:
        from importlib.metadata import version

        return f"hpmon/{version('hpmon')} (warcio/{version('warcio')})"
    except Exception:  # noqa: BLE001 - not installed as a package: the name is enough
        return "hpmon"


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    """(name, value) text pairs from pairs or from a mapping of names to values or lists of values
    (Scrapy's ``Headers``: bytes to lists of bytes)."""
    def text(x: Any) -> str:
        return x.decode("latin-1") if isinstance(x, bytes) else str(x)

    if headers is None:
        return []
    if not hasattr(headers, "items"):
        return [(text(k), text(v)) for k, v in headers]
    out = []
    for k, vs in headers.items():
        for v in vs if isinstance(vs, list | tuple) else [vs]:
            out.append((text(k), text(v)))
    return out


def _warc_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WarcArchive:
    """Appends request/response record pairs to one gzipped WARC file per crawl run."""

    def __init__(self, directory: str | Path, *, prefix: str = "hpmon", sync_every: int = 1,
                 sync_seconds: float = 1.0, is_part_of: str | None = None,
                 info: dict[str, str] | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self.path = self.directory / f"{prefix}-{stamp}-{os.getpid()}.warc.gz"
        self.sync_every = max(1, sync_every)
        self.sync_seconds = sync_seconds
        self.is_part_of = is_part_of or f"{prefix} crawl"
        self.info = dict(info or {})
        self._file = None
        self._writer: WARCWriter | None = None
        self._lock = threading.Lock()
        self._unsynced = 0  # records written since the last fsync
        self._last_sync = time.monotonic()
        self.records = 0
        self.syncs = 0

    # -- writing -----------------------------------------------------------------------------

    def _open(self) -> None:
        self._file = open(self.path, "ab")  # noqa: SIM115 - kept open for the run
        self._writer = WARCWriter(self._file, gzip=True)
        if self._file.tell() == 0:  # a new file: it starts with its warcinfo record
            version = self._writer.warc_version.removeprefix("WARC/")
            info = {
                "software": _software(),
                "hostname": socket.gethostname(),
                "format": f"WARC File Format {version}",
                "conformsTo": f"https://iipc.github.io/warc-specifications/specifications/warc-format/warc-{version}/",
                "isPartOf": self.is_part_of,
                **self.info,
            }
            self._writer.write_record(self._writer.create_warcinfo_record(self.path.name, info))
            self._unsynced += 1
            self._fsync()
            self._fsync_directory()  # the new file's name is durable too

    def write_response(self, url: str, status: int, reason: str, headers: list[tuple[str, str]],
                       body: bytes, fetched_at: datetime, *, request_method: str | None = None,
                       request_headers: Any = None) -> tuple[str, int]:
        """Store one response, and the request that fetched it when ``request_method`` is given
        (``request_headers``: (name, value) pairs, or Scrapy's headers: bytes to lists of bytes);
        returns (file name, offset of the response record) to find the record again. The record
        is readable at once and durable after the next :meth:`sync` (or group fsync)."""
        with self._lock:
            if self._writer is None:
                self._open()
            kept = [(k, v) for k, v in headers if k.lower() not in _TRANSFER_HEADERS]
            kept.append(("Content-Length", str(len(body))))
            http_headers = StatusAndHeaders(f"{status} {reason}".strip(), kept, protocol="HTTP/1.1")
            date = _warc_date(fetched_at)
            response = self._writer.create_warc_record(
                url, "response", payload=BytesIO(body), http_headers=http_headers,
                warc_headers_dict={"WARC-Date": date},
            )
            offset = self._file.tell()
            self._writer.write_record(response)
            written = 1
            if request_method:
                self._writer.write_record(self._request_record(url, date, request_method, request_headers or [],
                                                               response.rec_headers.get_header("WARC-Record-ID")))
                written += 1
            self._file.flush()  # readable by another reader of the file from now on
            self.records += written
            self._unsynced += written
            if self._unsynced >= self.sync_every or time.monotonic() - self._last_sync >= self.sync_seconds:
                self._fsync()
            return self.path.name, offset

    def _request_record(self, url: str, date: str, method: str, headers: Any, response_id: str):
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        kept = [(k, v) for k, v in _header_pairs(headers) if k.lower() != "content-length"]
        if not any(k.lower() == "host" for k, _ in kept):
            kept.insert(0, ("Host", parts.netloc))
        http_headers = StatusAndHeaders(f"{method.upper()} {target} HTTP/1.1", kept, protocol="HTTP/1.1",
                                        is_http_request=True)
        return self._writer.create_warc_record(
            url, "request", payload=BytesIO(b""), http_headers=http_headers,
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": response_id},
        )

    # -- durability --------------------------------------------------------------------------

    def _fsync(self) -> None:
        if self._file is not None and self._unsynced:
            self._file.flush()
            os.fsync(self._file.fileno())
            self.syncs += 1
        self._unsynced = 0
        self._last_sync = time.monotonic()

    def _fsync_directory(self) -> None:
        try:
            fd = os.open(self.directory, os.O_RDONLY)
        except OSError:  # a platform without directory handles: the file's fsync is what there is
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @property
    def pending(self) -> int:
        """Records written but not yet fsynced."""
        return self._unsynced

    def sync(self) -> None:
        """Make every record written so far durable (fsync), unless it already is. Called
        before an article whose record is here is indexed: an indexed article's record is
        never lost."""
        with self._lock:
            self._fsync()

    def close(self) -> None:
        with self._lock:
            if self._file:
                self._fsync()
                self._file.close()
                self._file = None
                self._writer = None
