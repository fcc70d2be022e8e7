"""The office's official figures (records.figures): entered only with a source, never edited but
retired, versioned schema; the fact checker compares articles with them and never with the
shipped placeholders; ``hpmon doctor`` and ``hpmon facts`` say which quantities still lack one."""

from __future__ import annotations

import json
import math
import re
import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifiers.facts import FactChecker
from hpbase.schema import stored_version
from hpmon.app import load_facts
from hpmon.cli import main
from hpmon.doctor import run_checks
from hpmon.settings import DEFAULT_CONFIG_DIR, Settings
from records.figures import SCHEMA, FigureError, OfficialFigures

AFTER_MERGER = date(2025, 9, 1)
WRONG = "Sau sáp nhập, Hải Phòng có dân số 10 triệu người, theo bài viết."
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path) -> Settings:
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    home = tmp_path / "home"
    home.mkdir()
    return Settings(home=home, config_dir=config)


def _known(settings: Settings) -> set[str]:
    return set(FactChecker.from_config(settings.config_dir).quantities)


def test_a_figure_is_saved_with_its_source_and_retired_not_deleted(settings):
    store = OfficialFigures(settings.app_db_path, now=lambda: NOW)
    figure = store.add(quantity="population", value=4_700_000, source="  Niên giám   thống kê 2025 ",
                       valid_from=date(2025, 7, 1), entered_by="linh", known=_known(settings))
    assert (figure.source, figure.entered_by, figure.active) == ("Niên giám thống kê 2025", "linh", True)
    assert [f.id for f in store.list()] == [figure.id]
    assert store.retire(figure.id, by="admin") and not store.retire(figure.id, by="admin")
    assert store.list() == []
    [kept] = store.list(include_retired=True)
    assert (kept.retired_by, kept.active, kept.value) == ("admin", False, 4_700_000)
    store.close()
    conn = sqlite3.connect(settings.app_db_path)
    assert stored_version(conn, SCHEMA.store) == SCHEMA.version
    conn.close()


@pytest.mark.parametrize("fields,error", [
    ({"quantity": "happiness"}, "facts.error.quantity"),
    ({"value": 0}, "facts.error.value"),
    ({"value": -5}, "facts.error.value"),
    ({"value": math.nan}, "facts.error.value"),
    ({"value": math.inf}, "facts.error.value"),
    ({"source": "   "}, "facts.error.source"),
    ({"source": "x" * 501}, "facts.error.source_long"),
    ({"quantity": "fdi_attracted", "period": 1850}, "facts.error.period"),
    ({"period": 2024, "valid_from": date(2025, 1, 1)}, "facts.error.period_and_validity"),
    ({"valid_from": date(2025, 7, 1), "valid_until": date(2025, 6, 30)}, "facts.error.validity"),
])
def test_a_figure_that_is_not_usable_is_refused_with_its_reason(settings, fields, error):
    store = OfficialFigures(settings.app_db_path)
    values = {"quantity": "population", "value": 4_700_000, "source": "Niên giám thống kê 2025",
              "entered_by": "linh", **fields}
    with pytest.raises(FigureError, match=error):
        store.add(known=_known(settings), **values)
    assert store.list(include_retired=True) == []
    store.close()


def test_placeholders_never_conflict_but_an_entered_figure_does_and_is_cited(settings):
    assert load_facts(settings).check_facts(WRONG, "vi", AFTER_MERGER) == []  # only placeholders shipped
    store = OfficialFigures(settings.app_db_path)
    store.add(quantity="population", value=4_700_000, source="Cục Thống kê, Niên giám 2025", entered_by="linh",
              valid_from=date(2025, 7, 1), source_date=date(2026, 3, 31), known=_known(settings))
    store.close()
    checker = load_facts(settings)
    [conflict] = checker.check_facts(WRONG, "vi", AFTER_MERGER)
    assert (conflict.reference_value, conflict.reference_source, conflict.reference_date) == (
        4_700_000, "Cục Thống kê, Niên giám 2025", "2026-03-31")
    assert checker.check_facts("Hải Phòng có dân số 4,7 triệu người.", "vi", AFTER_MERGER) == []
    # before the figure applies, nothing official applies: no conflict
    assert checker.check_facts(WRONG, "vi", date(2024, 1, 1)) == []
    assert "population" not in checker.without_official()


def test_a_retired_figure_is_no_longer_compared(settings):
    store = OfficialFigures(settings.app_db_path)
    figure = store.add(quantity="population", value=4_700_000, source="Niên giám 2025", entered_by="linh",
                       known=_known(settings))
    store.retire(figure.id, by="linh")
    store.close()
    assert load_facts(settings).check_facts(WRONG, "vi", AFTER_MERGER) == []


def test_doctor_names_the_quantities_without_an_official_figure(settings):
    def finding():
        return next(f for f in run_checks(settings) if f.check == "reference facts")

    def missing(detail: str) -> set[str]:
        return set(re.search(r"compared with articles: (.*?)\. Enter", detail)[1].split(", "))

    before = finding()
    assert before.status == "warn" and "/facts" in before.detail
    assert missing(before.detail) == _known(settings)
    store = OfficialFigures(settings.app_db_path)
    store.add(quantity="population", value=4_700_000, source="Niên giám 2025", entered_by="linh",
              known=_known(settings))
    store.close()
    after = finding()
    assert after.status == "warn" and missing(after.detail) == _known(settings) - {"population"}


def test_the_cli_enters_lists_and_retires_figures(settings, monkeypatch):
    monkeypatch.setenv("HPMON_HOME", str(settings.home))
    monkeypatch.setenv("HPMON_CONFIG_DIR", str(settings.config_dir))
    runner = CliRunner()
    added = runner.invoke(main, ["facts", "add", "port_containers", "7100000", "--period", "2025",
                                 "--source", "Cảng vụ Hàng hải Hải Phòng, báo cáo năm 2025", "--by", "linh"])
    assert added.exit_code == 0, added.output
    refused = runner.invoke(main, ["facts", "add", "port_containers", "7100000", "--source", "x", "--period", "2025",
                                   "--valid-from", "2025-01-01"])
    assert refused.exit_code != 0 and "not both" in refused.output
    listed = runner.invoke(main, ["facts", "list", "--json"])
    assert listed.exit_code == 0
    data = json.loads(listed.output)
    assert "port_containers" not in data["without_official"] and "population" in data["without_official"]
    [entered] = data["entered"]
    assert runner.invoke(main, ["facts", "retire", str(entered["id"])]).exit_code == 0
    assert runner.invoke(main, ["facts", "retire", str(entered["id"])]).exit_code != 0


def test_config_without_facts_file_has_no_quantities(tmp_path):
    assert FactChecker.from_config(Path(tmp_path)).quantities == {}
