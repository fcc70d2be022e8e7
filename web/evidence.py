"""The preserved copy of an article page for the article page: its WARC record (read by
``pipeline.evidence``) with the SHA-256 of the record's exact bytes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pipeline.evidence import read_warc_record as read_record
from pipeline.evidence import sha256_bytes
from pipeline.outcome import Dropped

log = logging.getLogger(__name__)

MAX_RECORD_BYTES = 50_000_000


@dataclass(frozen=True)
class WarcRecord:
    """One record's bytes exactly as stored (a gzip member for .warc.gz) and their SHA-256."""

    file_name: str
    offset: int
    data: bytes
    sha256: str
    target_uri: str | None
    date: str | None


class EvidenceError(ValueError):
    """The record cannot be read; the message is a catalogue key."""


def read_warc_record(warc_dir: Path, file_name: str | None, offset: int | None) -> WarcRecord:
    """The WARC record at ``offset`` of ``warc_dir/file_name``. Raises EvidenceError when the article
    has none, the name points outside the archive, or the record is missing or unreadable."""
    if not file_name or offset is None:
        raise EvidenceError("evidence.none")
    if Path(file_name).name != file_name or file_name.startswith("."):
        raise EvidenceError("evidence.bad_name")
    # only the stored bytes are served: the page inside is not inflated, and a record larger than
    # MAX_RECORD_BYTES is refused before it is read (it was read whole, then measured)
    copy = read_record(warc_dir, file_name, offset, max_bytes=MAX_RECORD_BYTES, with_body=False)
    if isinstance(copy, Dropped):
        if copy.reason != "warc_missing":
            log.warning("evidence record %s:%s not served: %s", file_name, offset, copy)
        raise EvidenceError("evidence.missing" if copy.reason == "warc_missing" else "evidence.unreadable")
    if not copy.raw or len(copy.raw) > MAX_RECORD_BYTES:
        raise EvidenceError("evidence.unreadable")
    return WarcRecord(file_name=file_name, offset=offset, data=copy.raw, sha256=sha256_bytes(copy.raw),
                      target_uri=copy.url, date=copy.warc_date.isoformat() if copy.warc_date else None)
