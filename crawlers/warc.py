"""The WARC archive: every fetched article page, with its HTTP headers, as proof of what
the page said when it was fetched."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# Headers describing a transfer encoding the stored body no longer has (Scrapy decompresses).
_TRANSFER_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


class WarcArchive:
    """Appends response records to one gzipped WARC file per crawl run."""

    def __init__(self, directory: str | Path, *, prefix: str = "hpmon") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self.path = self.directory / f"{prefix}-{stamp}-{os.getpid()}.warc.gz"
        self._file = None
        self._writer: WARCWriter | None = None
        self._lock = threading.Lock()

    def write_response(self, url: str, status: int, reason: str, headers: list[tuple[str, str]],
                       body: bytes, fetched_at: datetime) -> tuple[str, int]:
        """Store one response; returns (file name, offset) to find the record again."""
        with self._lock:
            if self._writer is None:
                self._file = open(self.path, "ab")  # noqa: SIM115 - kept open for the run
                self._writer = WARCWriter(self._file, gzip=True)
            kept = [(k, v) for k, v in headers if k.lower() not in _TRANSFER_HEADERS]
            kept.append(("Content-Length", str(len(body))))
            http_headers = StatusAndHeaders(f"{status} {reason}".strip(), kept, protocol="HTTP/1.1")
            record = self._writer.create_warc_record(
                url, "response", payload=BytesIO(body), http_headers=http_headers,
                warc_headers_dict={"WARC-Date": fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            offset = self._file.tell()
            self._writer.write_record(record)
            self._file.flush()
            os.fsync(self._file.fileno())
            return self.path.name, offset

    def close(self) -> None:
        with self._lock:
            if self._file:
                self._file.close()
                self._file = None
                self._writer = None
