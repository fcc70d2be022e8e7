"""Alert rules as the web app edits them: read from ``config_dir/alerts.yaml``, one rule added or
replaced, the whole file validated by ``alerts.rules.parse_rules`` before it is written back
(atomically, the previous version kept as ``alerts.yaml.bak``, the header comment preserved)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from alerts.rules import Rule, RuleError, load_rules, parse_rules, read_risk_thresholds


def rules_path(settings: Any) -> Path:
    return Path(settings.config_dir) / "alerts.yaml"


def thresholds(settings: Any) -> dict[str, float]:
    return read_risk_thresholds(Path(settings.config_dir) / "risk.yaml")


def read_rules(settings: Any) -> tuple[list[Rule], str | None]:
    """The rules, and the reason when the file cannot be used (then no rules)."""
    path = rules_path(settings)
    if not path.is_file():
        return [], None
    try:
        # the queries expand through the installation's thesaurus, as the search page's do
        return load_rules(path, thresholds=thresholds(settings), city=Path(settings.city_path)), None
    except RuleError as exc:
        return [], str(exc)


def raw_rule(settings: Any, name: str) -> dict[str, Any] | None:
    """The rule as written in the file (a dict), or None."""
    data = _load(rules_path(settings))
    return next((r for r in data.get("rules") or [] if isinstance(r, dict) and r.get("name") == name), None)


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"version": 1, "rules": []}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise RuleError(f"{path}: expected a mapping with 'rules:'")
    return data


def save_rule(settings: Any, rule: dict[str, Any], *, replace: str | None = None) -> Rule:
    """Add ``rule`` (or replace the rule named ``replace``) and write the file; returns the parsed
    rule. Raises RuleError (nothing written) when the result is not a valid rules file."""
    path = rules_path(settings)
    data = _load(path)
    rules = [r for r in data.get("rules") or []]
    names = [r.get("name") if isinstance(r, dict) else None for r in rules]
    if replace is not None:
        if replace not in names:
            raise RuleError(f"no rule named {replace!r}")
        rules[names.index(replace)] = rule
    else:
        rules.append(rule)
    data["rules"] = rules
    parsed = parse_rules(data, source=str(path), thresholds=thresholds(settings))
    header = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or not line.strip():
                header.append(line)
            else:
                break
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        path.with_suffix(".yaml.bak").write_bytes(path.read_bytes())
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text("\n".join(header) + ("\n" if header else "") + body, encoding="utf-8")
    os.replace(tmp, path)
    return next(r for r in parsed if r.name == rule["name"])
