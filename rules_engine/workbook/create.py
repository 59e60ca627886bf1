"""Create a new workbook (blank or with the example book) with openpyxl.

This is the only place openpyxl writes: it is fine for a file nobody has edited yet, and wrong for a
user's workbook (it rebuilds the whole package on save; see DESIGN.md). The owned sheets are created
as placeholders; the engine's first write adds the styles it needs (bold, wrap, its formats).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Font
from openpyxl.styles.numbers import BUILTIN_FORMATS
from openpyxl.worksheet.worksheet import Worksheet

from rules_engine import contract as c
from rules_engine.models import CellValue, Setting, WorkbookError
from rules_engine.rules import DEFAULT_RULES
from rules_engine.workbook import example as ex

DATE = BUILTIN_FORMATS[14]  # the built-in date, shown in the user's locale
PERCENT = BUILTIN_FORMATS[10]  # 0.00%: rates and IVs as typed, to the basis point

#: Number format per input column (by field); other columns stay General.
_COLUMN_FORMATS = {
    (c.POSITIONS, "expiry"): DATE,
    (c.POSITIONS, "iv"): PERCENT,
    (c.VIX_FUTURES, "expiry"): DATE,
    (c.VIX_OPTIONS, "expiry"): DATE,
    (c.VIX_OPTIONS, "iv"): PERCENT,
    (c.SPX_OPTIONS, "expiry"): DATE,
    (c.HISTORY, "date"): DATE,
    (c.CALENDAR, "date"): DATE,
}
_MARKET_FORMATS = {"as_of": DATE, "rate": PERCENT, "dividend_yield": PERCENT}
_WIDE = {"description": 90.0, "note": 50.0, "setting": 36.0, "trigger": 50.0}
#: The example History's extra column: Shiller's CAPE, read by the `valuation` signal.
CAPE = "CAPE"


def create_workbook(
    path: Path, settings: Sequence[Setting], *, example: bool = False, force: bool = False
) -> None:
    """Write a new workbook at `path`: owned sheets, then the input sheets with their headers;
    Settings holds every declared setting's default and Rules the default layer triggers.

    Refuses to replace an existing file unless `force`; the file appears whole or not at all.
    """
    if path.suffix.lower() != ".xlsx":
        raise WorkbookError(f"{path}: a new workbook must be an .xlsx file")
    if path.exists() and not force:
        raise WorkbookError(f"{path}: already exists; use --force to replace it")
    if not path.parent.is_dir():
        raise WorkbookError(f"{path}: the folder {path.parent} does not exist")
    book = Workbook()
    book.remove(book.worksheets[0])
    for name in c.OWNED_SHEETS:
        _owned_sheet(book, name)
    _positions(book, ex.position_legs() if example else [])
    _market(book, ex.market_rows() if example else [])
    _table(book, c.VIX_FUTURES, ex.futures_rows() if example else [])
    _table(book, c.VIX_OPTIONS, [])
    _table(book, c.SPX_OPTIONS, [])
    if example:
        _table(book, c.HISTORY, _history(ex.history_rows(), ex.cape_rows()), extra=(CAPE,))
    else:
        _table(book, c.HISTORY, [])
    _table(book, c.CALENDAR, ex.calendar_rows() if example else [])
    _table(book, c.SETTINGS, [_setting_row(s) for s in settings])
    _table(book, c.RULES, [(rule.layer, rule.expression, rule.note) for rule in DEFAULT_RULES])
    _save(book, path)


def _save(book: Workbook, path: Path) -> None:
    """Save beside the target, then rename over it: readers never see a half-written file."""
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        book.save(temp)
        os.replace(temp, path)
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot be written ({exc})") from exc
    finally:
        temp.unlink(missing_ok=True)


def _write(cell: Cell | MergedCell, value: CellValue) -> None:
    """Set a value; text is always stored as text (even when it starts with '='), dates as dates."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, dt.date):
        cell.number_format = DATE


def _owned_sheet(book: Workbook, name: str) -> None:
    sheet = book.create_sheet(name)
    marker = f"{c.OWNED_MARKER} - {name}: rewritten by `alvh recompute`; edits here are lost"
    _write(sheet["A1"], marker)
    _write(sheet["A3"], "Run `alvh recompute <file>` to fill this sheet.")


def _header(book: Workbook, name: str, headers: Sequence[str], fields: Sequence[str]) -> Worksheet:
    """A sheet with bold headers in row 1, the header row frozen, widths and column formats."""
    sheet: Worksheet = book.create_sheet(name)
    bold = Font(bold=True)
    for col, (text, field) in enumerate(zip(headers, fields, strict=True), start=1):
        cell = sheet.cell(row=1, column=col)
        _write(cell, text)
        cell.font = bold
        letter = c.column_letter(col - 1)
        sheet.column_dimensions[letter].width = _WIDE.get(field, max(12.0, len(text) + 4.0))
        number_format = _COLUMN_FORMATS.get((name, field))
        if number_format:
            sheet.column_dimensions[letter].number_format = number_format
    sheet.freeze_panes = "A2"
    return sheet


def _table(
    book: Workbook, name: str, rows: Sequence[Sequence[CellValue]], extra: Sequence[str] = ()
) -> None:
    """The sheet's contract columns, then the `extra` headers (columns a signal reads), and rows."""
    columns = c.SHEET_COLUMNS[name]
    headers = [col.header for col in columns] + list(extra)
    sheet = _header(
        book, name, headers, [col.field for col in columns] + list(map(c.field_name, extra))
    )
    formats = [_COLUMN_FORMATS.get((name, col.field)) for col in columns]
    for r, values in enumerate(rows, start=2):
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=col)
            _write(cell, value)
            number_format = formats[col - 1] if col <= len(formats) else None
            if number_format and isinstance(value, float):
                cell.number_format = number_format


def _positions(book: Workbook, legs: Sequence[ex.Leg]) -> None:
    rows = [
        (
            leg.group,
            leg.underlying,
            leg.type,
            leg.expiry,
            leg.strike,
            leg.qty,
            leg.multiplier,
            leg.entry_price,
            leg.iv,
            None,
        )
        for leg in legs
    ]
    _table(book, c.POSITIONS, rows)


def _market(book: Workbook, example_rows: Sequence[tuple[str, float | dt.date, str]]) -> None:
    """One row per known Market field: label, value (blank or the example's), description."""
    headers = ["Field", "Value", "Description"]
    sheet = _header(book, c.MARKET, headers, [c.field_name(h) for h in headers])
    values = {label: (value, note) for label, value, note in example_rows}
    for r, spec in enumerate(c.MARKET_FIELDS, start=2):
        value, note = values.get(spec.label, (None, ""))
        _write(sheet.cell(row=r, column=1), spec.label)
        cell = sheet.cell(row=r, column=2)
        _write(cell, value)
        number_format = _MARKET_FORMATS.get(spec.field)
        if number_format:
            cell.number_format = number_format
        description = f"{spec.description} ({note})" if note else spec.description
        _write(sheet.cell(row=r, column=3), description)


def _history(
    daily: Sequence[tuple[dt.date, float, float | None]], cape: Sequence[tuple[dt.date, float]]
) -> list[tuple[CellValue, ...]]:
    """Example history: daily closes (SPX High and Low stay blank) and a CAPE column; the CAPE
    months before the daily closes are rows with only Date and CAPE."""
    by_day = dict(cape)
    rows: list[tuple[CellValue, ...]] = [
        (day, None, None, None, None, value) for day, value in cape if day < daily[0][0]
    ]
    rows += [(day, spx, None, None, vix, by_day.get(day)) for day, spx, vix in daily]
    return rows


def _setting_row(setting: Setting) -> tuple[CellValue, CellValue, CellValue]:
    """Setting, default value, description with its bounds or choices."""
    limits = []
    if setting.minimum is not None:
        limits.append(f"min {setting.minimum:g}")
    if setting.maximum is not None:
        limits.append(f"max {setting.maximum:g}")
    if setting.choices:
        limits.append("one of: " + ", ".join(setting.choices))
    description = f"{setting.description} ({'; '.join(limits)})" if limits else setting.description
    default = setting.default
    plain = default is None or isinstance(default, str | int | float | dt.date)
    return setting.name, default if plain else str(default), description
