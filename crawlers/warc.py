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

A record is whole or absent. Each write (a response with its request) is built in memory and
appended at once; when the append fails part way (a full disk), the file is cut back to where
the write began, so the next record follows the last whole one and nothing half-written stays.
A file opened again that ends in a torn record (a kill, or a full disk, mid-write) is cut to its
last complete record first (:func:`repair`), so appends after it stay readable.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import zlib
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

CHUNK = 1 << 20

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


def complete_warc_length(path: str | Path) -> int:
    """Bytes of ``path`` up to the end of its last complete gzip member. Our writer puts each
    record in a member of its own, so this is the end of the last whole record; what follows
    (a record torn by a kill or a full disk, or one being appended) is not evidence."""
    end = consumed = 0
    decompressor = zlib.decompressobj(31)
    pending = b""
    with Path(path).open("rb") as fh:
        while True:
            if not pending:
                pending = fh.read(CHUNK)
                if not pending:
                    break
                consumed += len(pending)
            try:
                # at most CHUNK bytes out per call: a member that inflates to gigabytes (a gzip
                # bomb) is walked a chunk at a time, never held whole
                decompressor.decompress(pending, CHUNK)
            except zlib.error:  # damaged: keep what was complete before
                break
            if decompressor.eof:
                pending = decompressor.unused_data
                end = consumed - len(pending)
                decompressor = zlib.decompressobj(31)
            else:
                pending = decompressor.unconsumed_tail
    return end


def repair(path: str | Path) -> int:
    """Cut a WARC file that ends in a torn record back to its last complete record; returns the
    bytes removed (0 when the file was whole). The torn record was never indexed: an article is
    indexed only once its record is synced, and a torn record never was."""
    path = Path(path)
    size = path.stat().st_size
    length = complete_warc_length(path)
    if length < size:
        os.truncate(path, length)
        logger.warning("WARC %s ended in a torn record: cut %d bytes, back to its last complete record at %d",
                       path, size - length, length)
    return size - length


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
        if self.path.exists() and self.path.stat().st_size:
            repair(self.path)  # a torn last record would make every later one unreadable
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - kept open for the run
        self._writer = WARCWriter(BytesIO(), gzip=True)  # builds records; _append writes them
        if self._size() == 0:  # a new file: it starts with its warcinfo record
            version = self._writer.warc_version.removeprefix("WARC/")
            info = {
                "software": _software(),
                "hostname": socket.gethostname(),
                "format": f"WARC File Format {version}",
                "conformsTo": f"https://iipc.github.io/warc-specifications/specifications/warc-format/warc-{version}/",
                "isPartOf": self.is_part_of,
                **self.info,
            }
            try:
                self._append([self._writer.create_warcinfo_record(self.path.name, info)])
            except BaseException:  # a full disk: the next write opens the file again, warcinfo first
                if self._file is not None:
                    self._file.close()
                self._file = None
                self._writer = None
                raise
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
            records = [response]
            if request_method:
                records.append(self._request_record(url, date, request_method, request_headers or [],
                                                    response.rec_headers.get_header("WARC-Record-ID")))
            offset = self._append(records)  # readable by another reader of the file from now on
            written = len(records)
            self.records += written
            self._unsynced += written
            if self._unsynced >= self.sync_every or time.monotonic() - self._last_sync >= self.sync_seconds:
                self._fsync()
            return self.path.name, offset

    def _size(self) -> int:
        return os.fstat(self._file.fileno()).st_size

    def _append(self, records: list) -> int:
        """Append ``records`` whole, each in its own gzip member; returns the offset of the first.
        A failed write (ENOSPC, EIO) cuts the file back to that offset before it is raised."""
        buffer = BytesIO()
        writer = WARCWriter(buffer, gzip=True)
        for record in records:
            writer.write_record(record)
        data = memoryview(buffer.getvalue())
        fd = self._file.fileno()
        offset = self._size()
        try:
            while data:
                done = os.write(fd, data)  # O_APPEND: at the end, whatever another handle did
                data = data[done:]
        except BaseException:
            try:
                os.ftruncate(fd, offset)
            except OSError as exc:  # cannot cut it now: the next open of the file repairs it
                logger.error("WARC %s: could not cut a failed write back to %d: %s", self.path, offset, exc)
                self._file.close()
                self._file = None
                self._writer = None
            raise
        return offset

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
