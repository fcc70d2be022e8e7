"""``hpmon users add --password-stdin`` for scripts, and a clear error instead of a prompt when
there is no terminal to ask at."""

from __future__ import annotations

from click.testing import CliRunner

from hpmon.commands.serve import users
from web.auth import UserStore


def _can_log_in(settings, name: str, password: str) -> bool:
    store = UserStore(settings.app_db_path)
    try:
        return store.authenticate(name, password, "127.0.0.1") is not None
    finally:
        store.close()


def test_password_read_from_standard_input(settings):
    result = CliRunner().invoke(users, ["add", "lan", "--role", "analyst", "--password-stdin"],
                                input="mot mat khau rat dai\n", obj={"settings": settings})
    assert result.exit_code == 0, result.output
    assert "added lan (analyst)" in result.output
    assert "fallback_getpass" not in result.output and "Password" not in result.output
    assert _can_log_in(settings, "lan", "mot mat khau rat dai")


def test_empty_standard_input_is_refused(settings):
    result = CliRunner().invoke(users, ["add", "lan", "--password-stdin"], input="", obj={"settings": settings})
    assert result.exit_code != 0 and "no password on standard input" in result.output


def test_both_ways_at_once_are_refused(settings):
    result = CliRunner().invoke(users, ["add", "lan", "--password", "mot mat khau dai", "--password-stdin"],
                                input="x\n", obj={"settings": settings})
    assert result.exit_code != 0 and "not both" in result.output


def test_no_terminal_and_no_password_says_what_to_do(settings):
    # CliRunner's standard input is not a terminal, as in a script or a pipe
    result = CliRunner().invoke(users, ["add", "lan"], input="", obj={"settings": settings})
    assert result.exit_code != 0
    assert "--password-stdin" in result.output and "fallback_getpass" not in result.output
