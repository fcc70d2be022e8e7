"""config/ ships inside the wheel (as the package ``hpmon.defaults``) and an installed hpmon finds it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOP_LEVEL = ("hpmon", "hpbase", "guard", "index", "crawlers", "pipeline", "classifiers", "records", "alerts", "web")


def _listed_packages() -> set[str]:
    return set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])


def test_the_package_list_names_every_package_folder_and_every_config_folder() -> None:
    found = {".".join(init.parent.relative_to(REPO).parts)
             for top in TOP_LEVEL for init in (REPO / top).rglob("__init__.py")}
    config = {".".join(("hpmon", "defaults", *d.relative_to(REPO / "config").parts)) for d in
              [REPO / "config", *(p for p in (REPO / "config").rglob("*") if p.is_dir())]}
    assert _listed_packages() == found | config


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source")  # a copy: setuptools builds in the tree it is given
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    for name in (*TOP_LEVEL, "config"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(source),
                    "-w", str(out)], check=True, capture_output=True, timeout=600)
    [whl] = out.glob("hpmon-*.whl")
    return whl


@pytest.mark.slow
def test_the_wheel_holds_every_config_file(wheel) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"hpmon/defaults/" + p.relative_to(REPO / "config").as_posix()
                for p in (REPO / "config").rglob("*.yaml")}
    assert len(expected) >= 10 and "hpmon/defaults/cities/haiphong.yaml" in expected
    assert expected <= names


@pytest.mark.slow
def test_an_installed_hpmon_outside_a_checkout_uses_the_packaged_config(wheel, tmp_path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    probe = ("import hpmon.settings as s; from hpmon.settings import Settings; "
             "print(s.__file__); print(Settings().config_dir); print((Settings().config_dir / 'risk.yaml').is_file())")
    run = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    module, config_dir, has_risk = run.stdout.split("\n")[:3]
    assert module.startswith(str(target)), "the installed copy, not the checkout"
    assert config_dir == str(target / "hpmon" / "defaults") and has_risk == "True"
