"""Structured logs carry the article id and the source; the health report and its
Prometheus form say what an operator needs."""

from __future__ import annotations

import errno
import io
import json
import logging

from hpmon.health import find_problems, health_report, prometheus_text
from hpmon.logjson import ContextFilter, JsonFormatter, LogFileHandler, json_handler, log_context
from hpmon.service import ServiceConfig
from hpmon.settings import Settings


def _logger(stream: io.StringIO) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger(f"test.logjson.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def test_each_record_is_one_json_line_with_article_and_source():
    out = io.StringIO()
    log = _logger(out)
    log.info("indexed %s", "x", extra={"source_id": "fx-vi", "article_id": "a1b2"})
    with log_context(job="crawl:fx-en", source="fx-en"):
        log.warning("page said:\n{\"level\": \"CRITICAL\"}")  # hostile text cannot forge a record
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["source"] == "fx-vi" and first["article_id"] == "a1b2" and first["msg"] == "indexed x"
    assert second["source"] == "fx-en" and second["job"] == "crawl:fx-en" and second["level"] == "WARNING"
    assert "CRITICAL" in second["msg"]


def test_records_without_context_have_no_empty_fields():
    out = io.StringIO()
    _logger(out).info("service started")
    record = json.loads(out.getvalue())
    assert "source" not in record and "article_id" not in record and record["ts"].endswith("Z")


class _Disk(io.StringIO):
    """A log file's stream on a disk that can be full."""

    full = False

    def write(self, text: str) -> int:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(text)


def test_a_log_file_that_cannot_be_written_is_reported_once_not_per_record(tmp_path, capsys):
    handler = json_handler(LogFileHandler(tmp_path / "hpmon.log", encoding="utf-8"))
    disk = _Disk()
    handler.stream.close()
    handler.stream = disk
    logger = logging.getLogger("test.logjson.fullfile")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logger.info("before")
        disk.full = True
        for n in range(5):
            logger.error("while full %d", n)
        disk.full = False
        logger.info("after")
    finally:
        logger.handlers[:] = []
    written = [json.loads(line)["msg"] for line in disk.getvalue().splitlines()]
    assert written == ["before", "after"]
    said = [json.loads(line) for line in capsys.readouterr().err.splitlines()]  # JSON lines, no traceback
    assert [line["level"] for line in said] == ["ERROR", "WARNING"]
    assert "No space left" in said[0]["msg"] and str(tmp_path / "hpmon.log") in said[0]["msg"]
    assert "writable again" in said[1]["msg"]


def test_a_record_with_a_bad_format_string_is_still_one_json_line():
    out = io.StringIO()
    log = _logger(out)
    log.info("%d articles from %s", "many", extra={"source": "baohaiphong"})  # a caller's bug, not a lost record
    line = json.loads(out.getvalue())
    assert line["level"] == "INFO" and line["source"] == "baohaiphong"
    assert line["msg"].startswith("'%d articles from %s' (unformattable:")


def test_health_report_of_a_fresh_home_and_its_metrics(tmp_path):
    settings = Settings(home=tmp_path)
    report = health_report(settings, config=ServiceConfig())
    assert report["service"]["running"] is False
    assert report["index"]["articles"] == 0
    assert report["disk"]["total_bytes"] > 0
    text = prometheus_text(report)
    assert "# TYPE hpmon_service_up gauge\nhpmon_service_up 0.0\n" in text
    assert "hpmon_disk_used_ratio " in text
    for line in text.splitlines():
        assert line.startswith("#") or line.startswith("hpmon_")


def test_a_source_failing_for_a_day_and_a_full_disk_are_problems():
    report = {
        "generated_at": "2026-11-26T12:00:00+00:00",
        "service": {"jobs": [{"job_id": "crawl:dead", "kind": "crawl", "created_at": "2026-11-20T00:00:00+00:00"}]},
        "sources": [
            {"id": "dead", "kind": "rss", "enabled": True, "error_streak": 40, "last_success": None,
             "last_error": "connection_refused"},
            {"id": "flaky", "kind": "rss", "enabled": True, "error_streak": 2,
             "last_success": "2026-11-26T09:00:00Z"},
        ],
        "disk": {"path": "/srv/hpmon", "used_percent": 93.5, "free_bytes": 10_000_000},
    }
    problems = {p["key"]: p for p in find_problems(report, ServiceConfig())}
    assert set(problems) == {"source_down:dead", "disk:/srv/hpmon"}
    assert "Nguồn dead" in problems["source_down:dead"]["message"]


def test_metric_labels_are_escaped():
    report = {"service": {"running": True, "jobs": []}, "sources": [
        {"id": 'a"b\\c', "kind": "rss", "error_streak": 1}], "index": {"engine": "sqlite", "articles": 5},
        "disk": {"used_percent": 50.0, "free_bytes": 1}, "problems": []}
    text = prometheus_text(report)
    assert 'hpmon_source_error_streak{kind="rss",source="a\\"b\\\\c"} 1.0' in text
    assert "hpmon_index_articles{engine=\"sqlite\"} 5.0" in text


def test_metric_timestamps_and_byte_counts_keep_every_digit():
    report = {"service": {"running": True, "jobs": []}, "sources": [
        {"id": "a", "kind": "rss", "error_streak": 0, "last_success": "2026-12-04T10:11:12Z"}],
        "disk": {"used_percent": 50.0, "free_bytes": 123_456_789_012}, "problems": []}
    text = prometheus_text(report)
    assert 'hpmon_source_last_success_timestamp_seconds{kind="rss",source="a"} 1.796379072e+09' in text
    assert "hpmon_disk_free_bytes 1.23456789012e+11" in text
