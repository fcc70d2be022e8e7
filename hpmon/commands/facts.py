"""CLI of the office's reference figures: ``hpmon facts list | add | retire``.

The quantities (population, area, FDI...) and their placeholders are in config/facts.yaml; the
official figures are entered here or on the web app's Facts page, always with their source, and
kept in the office's SQLite file (``records.figures``)."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import click
from rich.table import Table
from rich.text import Text

from hpmon.app import load_facts
from hpmon.settings import Settings
from hpmon.term import console
from records.figures import FigureError, OfficialFigures

# the catalogue keys of records.figures' errors, in words for the command line
_ERRORS = {
    "facts.error.quantity": "unknown quantity (see `hpmon facts list`)",
    "facts.error.value": "the value must be a positive number",
    "facts.error.source": "a figure needs its source (document, issuer, number)",
    "facts.error.source_long": "the source is longer than 500 characters",
    "facts.error.period": "the year must be between 1900 and 2100",
    "facts.error.period_and_validity": "give either a year (annual flow) or validity dates, not both",
    "facts.error.validity": "the validity ends before it starts",
}


def _num(value: float) -> str:
    """A figure as written in a report: thousands separated, no float noise."""
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0").rstrip(".")


@contextmanager
def _store(ctx: click.Context) -> Iterator[OfficialFigures]:
    settings: Settings = ctx.obj["settings"]
    settings.home.mkdir(parents=True, exist_ok=True)
    store = OfficialFigures(settings.app_db_path)
    try:
        yield store
    finally:
        store.close()


def _day(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from exc


@click.group()
def facts() -> None:
    """Số liệu chuẩn của thành phố (the office's reference figures)."""


@facts.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def facts_list(ctx: click.Context, as_json: bool) -> None:
    """Mỗi đại lượng với số liệu đang dùng (every quantity with the references in use)."""
    checker = load_facts(ctx.obj["settings"])
    rows = []
    for name, q in checker.quantities.items():
        for r in q.references:
            rows.append({"quantity": name, "label": q.label_in("vi"), "unit": q.unit, "value": r.value,
                         "period": r.period, "valid_from": r.valid_from.isoformat() if r.valid_from else None,
                         "valid_until": r.valid_until.isoformat() if r.valid_until else None,
                         "source": r.source, "official": r.official})
    with _store(ctx) as store:
        entered = store.list(include_retired=True)
    if as_json:
        click.echo(json.dumps({"quantities": sorted(checker.quantities), "references": rows,
                               "entered": [f.to_dict() for f in entered],
                               "without_official": checker.without_official()}, ensure_ascii=False, indent=2))
        return
    table = Table(title="Số liệu chuẩn — reference figures")
    for col in ("Đại lượng / quantity", "Giá trị / value", "Áp dụng / applies", "Nguồn / source", "Chính thức"):
        table.add_column(col)
    for r in rows:
        applies = str(r["period"]) if r["period"] else f"{r['valid_from'] or '…'} → {r['valid_until'] or '…'}"
        table.add_row(Text(f"{r['label']} ({r['quantity']})"), f"{_num(r['value'])} {r['unit']}", applies,
                      Text(r["source"][:70]), "có / yes" if r["official"] else "chưa / placeholder")
    console.print(table)
    if entered:
        mine = Table(title="Do văn phòng nhập — entered by the office")
        for col in ("#", "Đại lượng / quantity", "Giá trị / value", "Nhập bởi / by", "Trạng thái / state"):
            mine.add_column(col)
        for f in entered:
            mine.add_row(str(f.id), f.quantity, _num(f.value), Text(f"{f.entered_by}, {f.entered_at:%Y-%m-%d}"),
                         "đang dùng / active" if f.active else f"thôi dùng / retired ({f.retired_by})")
        console.print(mine)
    missing = checker.without_official()
    if missing:
        console.print(f"Chưa có số liệu chính thức (never compared): {', '.join(missing)}", markup=False)


@facts.command("add")
@click.argument("quantity")
@click.argument("value", type=float)
@click.option("--source", required=True, help="The citation: document, issuer, number (required).")
@click.option("--period", type=int, help="The year of an annual flow (FDI, throughput, growth).")
@click.option("--valid-from", help="First day a point-in-time figure applies (YYYY-MM-DD).")
@click.option("--valid-until", help="Last day it applies (YYYY-MM-DD).")
@click.option("--source-date", help="Date of the source document (YYYY-MM-DD).")
@click.option("--document", "document_id", type=int, help="Id of the source document in the evidence library.")
@click.option("--by", help="Who enters it (default: the login name).")
@click.pass_context
def facts_add(ctx: click.Context, quantity: str, value: float, source: str, period: int | None,
              valid_from: str | None, valid_until: str | None, source_date: str | None, document_id: int | None,
              by: str | None) -> None:
    """Nhập một số liệu chính thức kèm nguồn (enter an official figure with its source)."""
    known = set(load_facts(ctx.obj["settings"]).quantities)
    with _store(ctx) as store:
        try:
            figure = store.add(quantity=quantity, value=value, source=source, known=known, period=period,
                               valid_from=_day(valid_from, "--valid-from"),
                               valid_until=_day(valid_until, "--valid-until"),
                               source_date=_day(source_date, "--source-date"), document_id=document_id,
                               entered_by=(by or "").strip() or getpass.getuser())
        except FigureError as exc:
            raise click.ClickException(_ERRORS.get(str(exc), str(exc))) from exc
    console.print(f"figure #{figure.id} saved: {quantity} = {_num(figure.value)} ({figure.source})", markup=False)


@facts.command("retire")
@click.argument("figure_id", type=int)
@click.option("--by", help="Who retires it (default: the login name).")
@click.pass_context
def facts_retire(ctx: click.Context, figure_id: int, by: str | None) -> None:
    """Thôi dùng một số liệu (retire a figure; it is kept, with who retired it)."""
    with _store(ctx) as store:
        if not store.retire(figure_id, by=(by or "").strip() or getpass.getuser()):
            raise click.ClickException(f"no active figure #{figure_id}")
    console.print(f"figure #{figure_id} retired", markup=False)
