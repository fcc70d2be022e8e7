"""What a stage returns when it lets an item go: a reason, never a bare ``None``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dropped:
    """An item the pipeline did not keep. ``reason`` is a short stable key for counters
    (``not_relevant``, ``binary``, ``empty``...); ``detail`` is for people."""

    stage: str
    reason: str
    detail: str = ""
    score: float | None = None

    @property
    def is_failure(self) -> bool:
        """True when the page itself was bad (as opposed to fine but not about the city)."""
        return self.reason not in ("not_relevant", "unchanged")

    def __str__(self) -> str:
        return f"{self.stage}/{self.reason}" + (f": {self.detail}" if self.detail else "")
