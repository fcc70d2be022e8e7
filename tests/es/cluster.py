"""Start, stop and kill real Elasticsearch clusters for tests (scripts/elasticsearch.sh)."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from index.article import Article

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "elasticsearch.sh"


def es_script(*args: str, timeout: float = 240) -> str:
    result = subprocess.run([str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"elasticsearch.sh {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout.strip()


def require_engine() -> None:
    """These tests need the engine `make test` prepares; skip only when no engine is configured at all."""
    if not os.environ.get("HPMON_ES_URL"):
        pytest.skip("HPMON_ES_URL is not set (make test starts Elasticsearch)")


def synthetic_articles(n: int, prefix: str = "a") -> list[Article]:
    """n distinct multilingual articles spread over three months."""
    texts = [
        ("vi", "Cảng Hải Phòng đón tàu container số {i}", "Tàu số {i} cập cảng Lạch Huyện ở Hải Phòng."),
        ("en", "Haiphong port ship {i}", "Ship number {i} berthed at the port of Hai Phong."),
        ("zh", "海防港第{i}艘船", "第{i}艘集装箱船停靠越南海防港。"),
        ("ja", "ハイフォン港 {i}", "{i}番目の船がハイフォン港に入港した。"),
    ]
    start = datetime(2026, 9, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        lang, title, text = texts[i % len(texts)]
        out.append(Article(id=f"{prefix}{i:06d}", url=f"https://example.org/{prefix}/{i}", source_id=f"s-{lang}",
                           title=title.format(i=i), text=text.format(i=i), language=lang,
                           published_at=start + timedelta(hours=i * 2), content_hash=f"h{prefix}{i}"))
    return out
