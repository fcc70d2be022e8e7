"""The consoles every command prints to: piped output (logs, CI, files) gets wide tables
instead of rich's 80-column default."""

from __future__ import annotations

import sys

from rich.console import Console

console = Console() if sys.stdout.isatty() else Console(width=160)
err = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=160)
