"""``hpmon doctor`` against real parts: a real SMTP server answers EHLO, a closed port fails
with its reason, the shipped configuration is valid."""

from __future__ import annotations

from hpmon.doctor import run_checks
from hpmon.settings import Settings
from tests.service.conftest import free_port


def _by_check(settings: Settings) -> dict:
    return {f.check: f for f in run_checks(settings)}


def test_doctor_finds_the_shipped_configuration_valid_and_the_smtp_server_reachable(tmp_path, smtp_server):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    settings = Settings(home=home, smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_security="none")
    findings = _by_check(settings)
    for check in ("home", "city", "sources", "lexicons", "alert rules", "smtp", "versions"):
        assert findings[check].status == "ok", findings[check]
    assert smtp_server.inbox.messages == [], "doctor only says EHLO; it sends nothing"


def test_doctor_reports_an_unreachable_smtp_server_with_its_reason(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    settings = Settings(home=home, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none")
    finding = _by_check(settings)["smtp"]
    assert finding.status == "fail" and "ConnectionRefusedError" in finding.detail


def test_doctor_warns_when_the_data_directory_is_open_to_other_users(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    finding = _by_check(Settings(home=home))["home"]
    assert finding.status == "warn" and "chmod 700" in finding.detail
