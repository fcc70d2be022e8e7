"""The one settings layer (hpmon/settings.py): the order of its sources, the messages of a wrong
value (naming key and source, no traceback), unknown keys as warnings, ``hpmon doctor``'s
settings check, and ``ServiceConfig`` built from the same model."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from hpmon.doctor import run_checks
from hpmon.service import ServiceConfig, shutdown_bound
from hpmon.service.config import service_fields
from hpmon.settings import SETTINGS_FILE, Settings, SettingsError, load_settings, settings_problems
from tests.conftest import make_hpmon


@pytest.fixture(autouse=True)
def _no_hpmon_environment(monkeypatch):
    """Each test sees only the HPMON_* variables it sets."""
    for name in list(os.environ):
        if name.upper().startswith("HPMON_"):
            monkeypatch.delenv(name)


def _home(tmp_path: Path, toml: str | None = None) -> Path:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    if toml is not None:
        (home / SETTINGS_FILE).write_text(toml, encoding="utf-8")
    return home


# -- order of precedence: defaults < hpmon.toml < HPMON_* < command line --------------------


def test_each_source_wins_over_the_ones_before_it(tmp_path, monkeypatch):
    home = _home(tmp_path, 'download_delay = 2.5\nretry_times = 5\nworkers = 3\ncity = "toml-city"\n')
    monkeypatch.setenv("HPMON_RETRY_TIMES", "7")
    monkeypatch.setenv("HPMON_WORKERS", "4")
    monkeypatch.setenv("HPMON_SOURCES_FILE", str(tmp_path / "env-sources.yaml"))
    settings = load_settings(home=home, workers=9, sources_file=tmp_path / "cli-sources.yaml")
    assert settings.concurrent_requests == Settings.model_fields["concurrent_requests"].default == 16  # default
    assert settings.download_delay == 2.5 and settings.city == "toml-city"  # file over default
    assert settings.retry_times == 7  # environment over file
    assert settings.workers == 9  # command line over environment and file
    assert settings.sources_file == tmp_path / "cli-sources.yaml"  # command line over environment
    assert settings.home == home


def test_an_option_not_given_leaves_the_environment_in_place(tmp_path, monkeypatch):
    home = _home(tmp_path, "workers = 3\n")
    monkeypatch.setenv("HPMON_WORKERS", "4")
    assert load_settings(home=home, sources_file=None).workers == 4


def test_home_comes_from_the_environment_and_its_file_is_read(tmp_path, monkeypatch):
    home = _home(tmp_path, "es_shards = 3\n")
    monkeypatch.setenv("HPMON_HOME", str(home))
    settings = load_settings()
    assert settings.home == home and settings.es_shards == 3


def test_environment_values_are_typed_lists_and_maps_are_json(tmp_path, monkeypatch):
    monkeypatch.setenv("HPMON_OBEY_ROBOTS", "false")
    monkeypatch.setenv("HPMON_SERVICE_MIN_FREE_MB", "1200")
    monkeypatch.setenv("HPMON_RECIPIENTS", '{"sotttt": ["a@x.vn"]}')
    monkeypatch.setenv("HPMON_FETCH_ALLOW_HOSTS", '["intranet.local"]')
    settings = load_settings(home=_home(tmp_path))
    assert settings.obey_robots is False and settings.service_min_free_mb == 1200
    assert settings.recipients == {"sotttt": ["a@x.vn"]} and settings.fetch_allow_hosts == ["intranet.local"]


def test_no_file_means_the_defaults(tmp_path):
    settings = load_settings(home=_home(tmp_path))
    for name, info in Settings.model_fields.items():
        if name != "home":
            assert getattr(settings, name) == info.get_default(call_default_factory=True), name


# -- wrong values: one line per problem, naming the key and where it came from ---------------


def test_a_wrong_type_in_the_file_names_the_key_and_the_file(tmp_path):
    home = _home(tmp_path, 'download_delay = "slow"\nindex = "solr"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(home=home)
    message = str(caught.value)
    assert f"download_delay ({home / SETTINGS_FILE})" in message and "'slow'" in message
    assert f"index ({home / SETTINGS_FILE})" in message and "'sqlite' or 'elasticsearch'" in message
    assert {p.key for p in caught.value.problems} == {"download_delay", "index"}
    assert "validation error for" not in message  # not pydantic's dump


def test_a_wrong_environment_value_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("HPMON_WORKERS", "many")
    with pytest.raises(SettingsError, match=r"workers \(environment variable HPMON_WORKERS\).*'many'"):
        load_settings(home=_home(tmp_path, "workers = 2\n"))


def test_a_value_out_of_range_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match=r"workers \(.*hpmon\.toml\): Input should be greater than or equal to 0"):
        load_settings(home=_home(tmp_path, "workers = -1\n"))


def test_a_wrong_command_line_value_names_the_option(tmp_path):
    with pytest.raises(SettingsError, match=r"workers \(command-line option\)"):
        load_settings(home=_home(tmp_path), workers="x")


def test_environment_json_that_is_not_json_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("HPMON_RECIPIENTS", "a@x.vn")
    with pytest.raises(SettingsError, match=r"recipients \(environment variable HPMON_RECIPIENTS\): not valid JSON"):
        load_settings(home=_home(tmp_path))


def test_a_file_that_is_not_toml_names_the_file(tmp_path):
    home = _home(tmp_path, "download_delay = [\n")
    with pytest.raises(SettingsError, match=rf"{SETTINGS_FILE} \({home / SETTINGS_FILE}\): not valid TOML"):
        load_settings(home=home)


def test_a_secret_is_never_echoed(tmp_path):
    home = _home(tmp_path, "smtp_password = 123456789\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(home=home)
    assert "smtp_password" in str(caught.value) and "123456789" not in str(caught.value)


def test_the_command_says_what_is_wrong_without_a_traceback(tmp_path):
    home = _home(tmp_path, 'es_shards = "many"\n')
    result = make_hpmon(home).run("status", check=False)
    assert result.returncode != 0
    assert f"es_shards ({home / SETTINGS_FILE})" in result.stderr and "Traceback" not in result.stderr


# -- unknown keys: a warning, the key ignored, hpmon starts ----------------------------------


def test_an_unknown_key_in_the_file_is_a_warning_with_the_closest_name(tmp_path, caplog):
    home = _home(tmp_path, "obey_robot = false\nretry_times = 4\n")
    with caplog.at_level(logging.WARNING, logger="hpmon.settings"):
        settings = load_settings(home=home)
    assert settings.obey_robots is True and settings.retry_times == 4  # ignored; the rest is read
    assert f"obey_robot ({home / SETTINGS_FILE}): unknown setting, ignored (did you mean 'obey_robots'?)" \
        in caplog.text


def test_home_in_the_file_is_ignored_with_a_warning(tmp_path, caplog):
    home = _home(tmp_path, f'home = "{tmp_path / "elsewhere"}"\n')
    with caplog.at_level(logging.WARNING, logger="hpmon.settings"):
        assert load_settings(home=home).home == home
    assert "home (" in caplog.text and "cannot be set in the file" in caplog.text


def test_unknown_hpmon_variables_are_not_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("HPMON_ES_STATE_DIR", "/somewhere")  # the Elasticsearch runner's own variable
    assert settings_problems(_home(tmp_path)) == []


# -- hpmon doctor ----------------------------------------------------------------------------


def _doctor_settings(settings: Settings):
    return next(f for f in run_checks(settings) if f.check == "settings")


def test_doctor_reports_the_settings(tmp_path, monkeypatch):
    home = _home(tmp_path, "retry_times = 4\n")
    settings = Settings(home=home)
    assert _doctor_settings(settings).status == "ok"
    (home / SETTINGS_FILE).write_text("downlod_delay = 2\n", encoding="utf-8")
    finding = _doctor_settings(settings)
    assert finding.status == "warn" and "did you mean 'download_delay'" in finding.detail
    monkeypatch.setenv("HPMON_SMTP_PORT", "smtp")
    finding = _doctor_settings(settings)
    assert finding.status == "fail" and "HPMON_SMTP_PORT" in finding.detail and "downlod_delay" in finding.detail


def test_hpmon_doctor_lists_an_unknown_key(tmp_path):
    home = _home(tmp_path, "obey_robot = false\n")
    result = make_hpmon(home).run("doctor", "--json", check=False)
    findings = {f["check"]: f for f in json.loads(result.stdout)}
    assert findings["settings"]["status"] == "warn" and "obey_robot" in findings["settings"]["detail"]


# -- ServiceConfig is the service_* part of the same model ------------------------------------


def test_service_config_has_every_service_setting_with_its_type_and_default():
    assert set(ServiceConfig.model_fields) == {n.removeprefix("service_") for n in Settings.model_fields
                                               if n.startswith("service_")}
    defaults, settings = ServiceConfig(), Settings()
    for short, name in service_fields().items():
        assert getattr(defaults, short) == getattr(settings, name), short
        assert ServiceConfig.model_fields[short].annotation == Settings.model_fields[name].annotation, short


def test_service_config_reads_the_settings_and_types_overrides():
    settings = Settings(service_max_children=5, service_feed_interval=42)
    config = ServiceConfig.from_settings(settings, {"job_timeout": "12.5", "min_free_mb": "800"})
    assert config.max_children == 5 and config.feed_interval == 42.0
    assert config.job_timeout == 12.5 and config.min_free_mb == 800 and isinstance(config.min_free_mb, int)
    assert config.interval_for_kind("rss") == 42.0 and config.interval_for_kind("unknown") == 42.0
    assert config.interval_for_kind("pages") == settings.service_pages_interval
    assert shutdown_bound(ServiceConfig(shutdown_grace=10)) == 20.0


def test_service_config_rejects_wrong_values_and_unknown_names():
    with pytest.raises(ValidationError, match="max_children"):
        ServiceConfig(max_children="several")
    with pytest.raises(ValidationError, match="feed_intervall"):
        ServiceConfig.from_settings(Settings(), {"feed_intervall": 1})
    with pytest.raises(ValidationError):
        ServiceConfig().feed_interval = 1.0  # frozen, like the dataclass it replaces
