"""The hash-locked dependency set (requirements/lock.txt, requirements/pip.txt) covers what
pyproject.toml asks for, with a sha256 for every pin, and the Makefile installs from it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements" / "lock.txt"
PIP_LOCK = REPO / "requirements" / "pip.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def parse_lock(path: Path) -> dict[str, tuple[Version, list[str]]]:
    """name -> (version, hashes) of a pip-compile --generate-hashes file (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    pins: dict[str, tuple[Version, list[str]]] = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        match = PIN.match(line)
        if not match:
            assert not line or line.startswith("#"), f"{path.name}: unexpected line {line!r}"
            continue
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"{path.name}: {name} pinned twice"
        pins[name] = (Version(match.group(2)), re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return pins


def wanted() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    reqs = [*project["project"]["dependencies"], *project["project"]["optional-dependencies"]["test"],
            *project["build-system"]["requires"]]
    env = {**default_environment(), "extra": "test"}
    return [r for r in map(Requirement, reqs) if r.marker is None or r.marker.evaluate(env)]


def test_the_lock_pins_every_dependency_of_pyproject_within_its_range():
    pins = parse_lock(LOCK)
    missing, outside = [], []
    for req in wanted():
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            missing.append(str(req))
        elif not req.specifier.contains(pin[0], prereleases=True):
            outside.append(f"{req} (locked {pin[0]})")
    assert not missing, f"not in requirements/lock.txt (run `make lock`): {missing}"
    assert not outside, f"locked outside pyproject's range (run `make lock`): {outside}"


def test_every_pin_has_a_sha256_and_nothing_points_elsewhere():
    for path in (LOCK, PIP_LOCK):
        pins = parse_lock(path)
        assert pins, path
        unhashed = [name for name, (_, hashes) in pins.items() if not hashes]
        assert not unhashed, f"{path.name}: pins without --hash: {unhashed}"
        text = "\n".join(line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
        for option in ("--find-links", "--index-url", "--extra-index-url", "-e ", "file:"):
            assert option not in text, f"{path.name} has {option!r}: it must install the same anywhere"
    assert "pip" in parse_lock(PIP_LOCK)


def test_lxml_html_clean_is_declared_directly():
    """jusText's lxml[html_clean] extra is not matched by the pip of Python 3.11's venv: without the
    direct dependency every extraction fails at import."""
    names = {canonicalize_name(r.name) for r in wanted()}
    assert "lxml-html-clean" in names
    assert "lxml-html-clean" in parse_lock(LOCK)


def test_the_makefile_installs_from_the_lock_and_reinstalls_when_it_changes():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    stamp = re.search(r"^STAMP := (.*)$", makefile, re.M).group(1)
    for part in ("pyproject.toml", "$(LOCK)", "$(PIP_LOCK)"):
        assert part in stamp, f"the install stamp ignores {part}"
    start = makefile.index("$(STAMP):")
    rule = makefile[start:makefile.index("\n\n", start)]
    assert re.search(r"pip install .*--require-hashes -r \$\(PIP_LOCK\)", rule)
    assert re.search(r"pip install .*--require-hashes -r \$\(LOCK\)", rule)
    assert re.search(r"pip install .*--no-deps .*-e \.", rule)
    assert "--upgrade" not in rule and "'.[test]'" not in rule
    assert re.search(r"^lock:", makefile, re.M) and "--generate-hashes" in makefile
