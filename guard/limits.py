"""Bounded decompression: what hpmon inflates (a gzip sitemap, a zip member of an evidence
bundle, a WARC member of a backup) is read in chunks and abandoned with a clear reason past a
limit, never inflated whole into memory (611 KB of gzip can hold 600 MiB; an 815 KB zip, 1.7 GB)."""

from __future__ import annotations

import hashlib
import zipfile
import zlib

MIB = 1024 * 1024
CHUNK = 1 << 20


class TooLarge(ValueError):
    """Inflating went past the limit; the message says which limit."""


def _mib(n: int) -> str:
    return f"{n / MIB:g} MiB" if n >= MIB else f"{n} bytes"


def inflate(body: bytes, limit: int, *, what: str = "the limit") -> bytes:
    """A gzip body inflated, at most ``limit`` bytes of it; ``TooLarge`` (a ValueError) past
    the limit, ValueError when it is corrupt or truncated."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"bad gzip: {exc}") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"expands beyond {_mib(limit)} ({what})")
    if not inflater.eof:
        raise ValueError("bad gzip: truncated")
    return out


def read_member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A zip member's bytes, at most ``limit`` (whatever its header declares); ``TooLarge``
    past it, KeyError when there is no such member."""
    chunks, size = [], 0
    with zf.open(name) as fh:
        while chunk := fh.read(min(CHUNK, limit + 1 - size)):
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"{name} expands beyond {_mib(limit)}")
            chunks.append(chunk)
    return b"".join(chunks)


def hash_member(zf: zipfile.ZipFile, name: str, limit: int) -> tuple[str, int]:
    """(SHA-256 hex, size) of a zip member read in chunks, at most ``limit`` bytes of it;
    ``TooLarge`` past it, KeyError when there is no such member."""
    digest, size = hashlib.sha256(), 0
    with zf.open(name) as fh:
        while chunk := fh.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"{name} expands beyond {_mib(limit)}")
            digest.update(chunk)
    return digest.hexdigest(), size


def read_stream(stream, limit: int, *, what: str = "the stream") -> bytes:
    """The bytes of a file-like ``stream`` (a WARC record's content stream, which inflates as it
    is read), at most ``limit`` of them, read in chunks; ``TooLarge`` past the limit, having read
    no more than ``limit`` + one chunk."""
    chunks, size = [], 0
    while chunk := stream.read(min(CHUNK, limit + 1 - size)):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"{what} expands beyond {_mib(limit)}")
        chunks.append(chunk)
    return b"".join(chunks)
