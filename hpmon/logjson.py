"""Structured logs: one JSON object per line, with the article id and the source in every
record that has them.

A record gets its context from two places, so code below ``hpmon`` (which may not import
this module) and code inside it are both covered:

- ``extra=`` fields on the logging call (``logger.info("...", extra={"source": s, "article_id": a})``),
  the way ``pipeline`` and ``crawlers`` can pass them without importing anything of ours;
- :func:`log_context`, a context manager setting the same fields for everything logged inside
  it (the service sets ``job``; a CLI command can set ``source``).

Log text can quote crawled pages, which are hostile: messages are capped and JSON-escaped, so
a page cannot forge a log line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import logging.handlers
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

# Fields copied from a record (or the context) into the JSON line, in this order.
CONTEXT_FIELDS = ("source", "article_id", "url", "job", "run_id")
# Aliases some callers use for the same thing.
_ALIASES = {"source_id": "source"}
MAX_MESSAGE_CHARS = 8_000
MAX_FIELD_CHARS = 2_000

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("hpmon_log_context", default=None)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (source, article_id, url, job, run_id) to every record logged inside the block."""
    current = dict(_context.get() or {})
    current.update({_ALIASES.get(k, k): v for k, v in fields.items() if v is not None})
    token = _context.set(current)
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Puts the fields of :func:`log_context` on each record (a record's own ``extra`` wins).
    Always returns True: it enriches, it never drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        for alias, key in _ALIASES.items():
            if getattr(record, key, None) is None and getattr(record, alias, None) is not None:
                setattr(record, key, getattr(record, alias))
        return True


def _cap(value: Any, limit: int) -> Any:
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``msg``,
    ``pid``, then the context fields it has, then ``exc`` (the traceback) if any."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception as exc:  # a bad format string must not lose the record
            message = f"{record.msg!r} (unformattable: {exc})"
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": _cap(message, MAX_MESSAGE_CHARS),
            "pid": record.process or os.getpid(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is None and key == "source":
                value = getattr(record, "source_id", None)
            if value is not None:
                line[key] = _cap(value, MAX_FIELD_CHARS)
        if record.exc_info:
            line["exc"] = _cap(self.formatException(record.exc_info), MAX_MESSAGE_CHARS)
        elif record.exc_text:
            line["exc"] = _cap(record.exc_text, MAX_MESSAGE_CHARS)
        return json.dumps(line, ensure_ascii=False, default=str)


class LogFileHandler(logging.handlers.RotatingFileHandler):
    """The log file, size-rotated. When the file cannot be written (a full disk, a removed
    directory) the records are still logged to the other handlers; this one says so once, as
    a JSON line on stderr, instead of a traceback per record, and says again when the file is
    writable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failing = False
        self._error: BaseException | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self._error = None
        super().emit(record)
        if self._error is None and self.failing:
            self.failing = False
            self._report("WARNING", f"the log file {self.baseFilename} is writable again")

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handleError(record)
            return
        self._error = error
        if not self.failing:
            self.failing = True
            self._report("ERROR", f"cannot write the log file {self.baseFilename}: {error}; "
                                  "records go to the other log outputs until it can be written again")

    def _report(self, level: str, message: str) -> None:
        line = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "level": level, "logger": __name__, "msg": message, "pid": os.getpid()}
        try:
            sys.stderr.write(json.dumps(line, ensure_ascii=False) + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):  # stderr closed or broken: nothing more can be said
            pass


def json_handler(handler: logging.Handler, level: str | int = "INFO") -> logging.Handler:
    """``handler`` set up to write JSON lines with context; returns it (for chaining)."""
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.setLevel(level.upper() if isinstance(level, str) else level)
    return handler


def setup_json_logging(log_dir: Path, level: str = "INFO", *, stream: TextIO | None = None,
                       stream_level: str = "WARNING", max_bytes: int = 10_000_000, backups: int = 5) -> None:
    """Log JSON lines to ``log_dir/hpmon.log`` (size-rotated; logrotate may rotate it instead,
    see deploy/logrotate.conf) and, when ``stream`` is given, to that stream too (the service
    logs to stderr so journald keeps a copy). Safe to call twice: it adds its handlers once."""
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in root.handlers:  # hpmon.app.setup_logging's text handler: switch it to JSON lines
        if getattr(handler, "_hpmon", False) and not getattr(handler, "_hpmon_json", False):
            handler.setFormatter(JsonFormatter())
            handler.addFilter(ContextFilter())
            handler._hpmon_json = True  # type: ignore[attr-defined]
    if not any(getattr(h, "_hpmon_json", False) for h in root.handlers):
        file_handler = json_handler(LogFileHandler(
            log_dir / "hpmon.log", maxBytes=max_bytes, backupCount=backups, encoding="utf-8"), level)
        file_handler._hpmon_json = True  # type: ignore[attr-defined]
        root.addHandler(file_handler)
    if stream is not None and not any(getattr(h, "_hpmon_json_stream", False) for h in root.handlers):
        stream_handler = json_handler(logging.StreamHandler(stream), stream_level)
        stream_handler._hpmon_json_stream = True  # type: ignore[attr-defined]
        root.addHandler(stream_handler)
    levels = [level] + ([stream_level] if stream is not None else [])
    wanted = min(logging.getLevelName(name.upper()) for name in levels)
    root.setLevel(min(root.level, wanted) if root.level != logging.NOTSET else wanted)
    for noisy in ("scrapy", "twisted", "trafilatura", "htmldate", "charset_normalizer", "readability"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
