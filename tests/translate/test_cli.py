"""``hpmon translate``: install checks and unpacks a package (or refuses it, exit 1, with the
reason), status lists the pairs and routes, text translates with the installed model."""

from __future__ import annotations

from click.testing import CliRunner

from hpmon.cli import main


def _run(home, *args, env=None):
    return CliRunner().invoke(main, ["--home", str(home), "translate", *args], env=env, catch_exceptions=False)


def test_install_status_text_and_remove(tmp_path, packages):
    home = tmp_path / "home"
    empty = _run(home, "status")
    assert empty.exit_code == 0
    assert "no translation" in empty.output and "hpmon translate install" in empty.output
    installed = _run(home, "install", str(packages["zh-en"]), str(packages["en-vi"]))
    assert installed.exit_code == 0, installed.output
    assert "installed zh→en (tiny-zh-en 0.1)" in installed.output
    assert (home / "translation" / "en-vi" / "sentencepiece.model").is_file()
    status = _run(home, "status")
    assert "engine: argos" in status.output and "zh→en" in status.output and "en→vi" in status.output
    assert "via en" in status.output  # zh reaches vi through English
    text = _run(home, "text", "海防港的货运量今年增长很快", "--from", "zh-cn", "--to", "vi")
    assert text.exit_code == 0 and text.output.strip()
    assert "machine translation, argos: tiny-zh-en 0.1 + tiny-en-vi 0.1" in text.stderr
    assert _run(home, "remove", "zh-en").exit_code == 0
    missing = _run(home, "text", "海防", "--from", "zh")
    assert missing.exit_code == 1 and "no model for zh→vi" in missing.output


def test_install_refuses_a_bad_file_with_exit_1(tmp_path):
    bad = tmp_path / "bad.argosmodel"
    bad.write_bytes(b"PK\x03\x04 not really")
    result = _run(tmp_path / "home", "install", str(bad))
    assert result.exit_code == 1
    assert "bad.argosmodel: not installed:" in result.stderr and "not a zip archive" in result.stderr
    assert not (tmp_path / "home" / "translation").exists() or not any((tmp_path / "home" / "translation").iterdir())


def test_an_engine_switched_off_says_so(tmp_path, packages):
    home = tmp_path / "home"
    _run(home, "install", str(packages["zh-vi"]))
    result = _run(home, "status", env={"HPMON_TRANSLATION_ENGINE": "off"})
    assert "engine: none" in result.output and "switched off" in result.output
