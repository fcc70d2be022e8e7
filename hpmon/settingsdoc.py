"""docs/settings.md's table of settings, generated from the model in hpmon/settings.py.

``python -m hpmon.settingsdoc`` rewrites the table between the two markers in docs/settings.md;
``--check`` only says whether it is up to date (exit 1 if not). tests/hpmon/test_settings_doc.py
checks it, so a setting added to the model without a new table fails the tests."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from hpmon.settings import ENV_PREFIX, NOT_IN_FILE, Settings

BEGIN = "<!-- settings table: generated from hpmon/settings.py by `python -m hpmon.settingsdoc`; do not edit -->"
END = "<!-- end of the settings table -->"
DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def shown_default(info: FieldInfo) -> str:
    """The default as the table shows it: the field's ``doc_default`` when it has one, ``—`` when
    unset, else the TOML spelling of the value."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "doc_default" in extra:
        return str(extra["doc_default"])
    value: Any = info.get_default(call_default_factory=True)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list | dict):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def table() -> str:
    """The markdown table of every setting: variable, TOML key, default, meaning."""
    rows = ["| variable | TOML key | default | meaning |", "|---|---|---|---|"]
    for name, info in Settings.model_fields.items():
        key = "—" if name in NOT_IN_FILE else f"`{name}`"
        meaning = (info.description or "").replace("|", "\\|")
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {key} | {shown_default(info)} | {meaning} |")
    return "\n".join(rows)


def render(doc: str) -> str:
    """``doc`` with the text between the markers replaced by today's table."""
    head, found, rest = doc.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not (found and found_end):
        raise ValueError(f"the settings doc lacks the markers {BEGIN!r} ... {END!r}")
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hpmon.settingsdoc", description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DOC)
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is not up to date")
    args = parser.parse_args(argv)
    doc = args.path.read_text(encoding="utf-8")
    new = render(doc)
    if args.check:
        if new != doc:
            print(f"{args.path}: the settings table is out of date (run python -m hpmon.settingsdoc)", file=sys.stderr)
            return 1
        return 0
    if new != doc:
        args.path.write_text(new, encoding="utf-8")
        print(f"{args.path}: settings table rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
