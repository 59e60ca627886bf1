"""The live-Excel adapter: read the input sheets of an open workbook and write the owned sheets
into it through xlwings, with the same contract as the file adapter.

Excel is slow per call, not per cell, so every input sheet is read with one bulk `.value` of its
used range, every owned sheet is written with one bulk `.value`, and number formats and column
widths go per rectangular block. While the owned sheets are written Excel does not repaint, fire
events or recalculate; its settings are restored afterwards, also when the write fails. `book` is
anything with xlwings' Book/Sheet/Range/App attributes: desktop Excel, xlwings' remote engine, or
the recording stand-in the tests use.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rules_engine.contract import OWNED_MARKER
from rules_engine.logbook import log_sheet_name, read_with_log
from rules_engine.models import CellValue, Inputs, SheetCells, WorkbookError
from rules_engine.workbook import extent
from rules_engine.workbook.cells import RawCell, address
from rules_engine.workbook.guards import check_sheets
from rules_engine.workbook.inputs import SheetGrid, input_sheet_names
from rules_engine.workbook.sheetxml import clean_text

if TYPE_CHECKING:
    import xlwings as xw

#: Excel's number format codes for the kinds in `SheetCells.formats` (the same built-in formats
#: the file writer uses: see contract.NUMBER_FORMAT_IDS), plus the ones date cells always get.
NUMBER_FORMAT_CODES = {
    "date": "m/d/yyyy",
    "datetime": "m/d/yyyy h:mm",
    "percent": "0.00%",
    "money": "#,##0.00",
    "integer": "#,##0",
}
#: Format kinds that mean Excel's General format: nothing to set.
_GENERAL = frozenset({"number"})
#: Excel's day 0: a time-only cell comes back from xlwings as a datetime on this day.
_EXCEL_DAY_ZERO = dt.date(1899, 12, 30)
#: What the application settings are while the owned sheets are written.
_QUIET = (("screen_updating", False), ("enable_events", False), ("calculation", "manual"))


@dataclass(frozen=True)
class LiveRead:
    """What was read from the open workbook, and the sheets it has (live Excel has no file hash)."""

    inputs: Inputs
    sheet_names: tuple[str, ...]


def read_book(book: xw.Book) -> LiveRead:
    """Read the input sheets and the Log with one bulk read each; raise InputError (a
    `logbook.LoggedInputError`, carrying the Log's rows) listing every bad input."""
    sheets = {sheet.name: sheet for sheet in book.sheets}
    grids = {name: _grid(sheets[name]) for name in input_sheet_names(sheets)}
    log = log_sheet_name(sheets)
    inputs = read_with_log(grids, None if log is None else _grid(sheets[log]))
    return LiveRead(inputs, tuple(sheets))


def _grid(sheet: xw.Sheet) -> SheetGrid:
    """The used range in one bulk read, unless it spans more cells than any table needs: Excel
    would hand over gigabytes for one stray value at XFD1048576, so that is an error instead."""
    used = sheet.used_range
    height, width = used.shape
    if height * width > extent.MAX_SHEET_CELLS:
        top, left = used.row - 1, used.column - 1
        whole = extent.Extent(top, left, top + height - 1, left + width - 1)
        corner = address(whole.bottom, whole.right)
        issue = extent.too_large_issue(sheet.name, whole, corner, "the sheet's used range spans")
        return SheetGrid([], None, (issue,))
    rows = used.options(ndim=2).value
    return SheetGrid(
        [[grid_value(v) for v in row] for row in rows], (used.row - 1, used.column - 1)
    )


def grid_value(value: object) -> RawCell:
    """An xlwings cell value in the types python-calamine gives for the same cell.

    Empty and error cells are "" (xlwings: None), numbers float (Excel's currency cells arrive as
    Decimal on Windows), a date at midnight is a `date`, and a time-only cell is a `time`. A
    duration of a day or more is indistinguishable from a date here and stays a datetime.
    """
    if value is None:
        return ""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        plain = value.replace(tzinfo=None)
        if plain.date() == _EXCEL_DAY_ZERO:
            return plain.time()
        return plain.date() if plain.time() == dt.time() else plain
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return value
    return str(value)


# --- writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """A rectangle of cells, 0-based and inclusive, that gets one setting in one call."""

    top: int
    left: int
    bottom: int
    right: int

    def of(self, sheet: xw.Sheet) -> xw.Range:
        return sheet.range((self.top + 1, self.left + 1), (self.bottom + 1, self.right + 1))


@dataclass(frozen=True)
class _Plan:
    """Everything one sheet's write needs, worked out before Excel is touched."""

    values: list[list[CellValue]]
    formats: list[tuple[_Block, str]]
    widths: list[tuple[_Block, float]]


def write_book(book: xw.Book, sheets: Sequence[SheetCells]) -> None:
    """Replace or add the given engine-owned sheets in the open workbook.

    Refuses (WorkbookError, nothing changed) when a same-named sheet does not carry the marker.
    Adding a sheet makes it active in Excel, so the sheet the user was on is activated again.
    Each sheet is cleared whole, contents and formats, as the file writer rewrites it whole: a
    stale percent format must not show next run's dollars as percentages.
    """
    check_sheets(sheets)
    existing = {sheet.name.casefold(): sheet for sheet in book.sheets}
    targets = [(cells, existing.get(cells.name.casefold())) for cells in sheets]
    for _, found in targets:
        if found is not None:
            _check_owned(found)
    plans = [_plan(cells) for cells in sheets]
    active = book.sheets.active
    with _quiet(book.app):
        for (cells, found), plan in zip(targets, plans, strict=True):
            sheet = found or book.sheets.add(cells.name, after=book.sheets[-1])
            sheet.clear()
            sheet.range("A1").value = plan.values
            for block, code in plan.formats:
                block.of(sheet).number_format = code
            for block, width in plan.widths:
                block.of(sheet).column_width = width
        if any(found is None for _, found in targets):
            active.activate()


def _check_owned(sheet: xw.Sheet) -> None:
    first = sheet.range("A1").value
    if not (isinstance(first, str) and first.startswith(OWNED_MARKER)):
        raise WorkbookError(
            f"a sheet named '{sheet.name}' exists but was not made by alvh; rename it or delete it"
        )


@contextmanager
def _quiet(app: xw.App) -> Iterator[None]:
    """No repainting, no events, manual calculation; every setting restored on the way out.

    A setting the engine cannot read (xlwings' remote engine has no events flag) is left alone.
    """
    saved: list[tuple[str, Any]] = []
    try:
        for name, value in _QUIET:
            try:
                saved.append((name, getattr(app, name)))
            except NotImplementedError:
                continue
            setattr(app, name, value)
        yield
    finally:
        for name, value in reversed(saved):
            setattr(app, name, value)


def _plan(sheet: SheetCells) -> _Plan:
    width = max((len(row) for row in sheet.rows), default=0)
    values = [[_excel_value(v) for v in row] + [None] * (width - len(row)) for row in sheet.rows]
    formats = [*_run_blocks(sheet), *_format_blocks(_date_codes(sheet))]
    return _Plan(values, formats, _width_blocks(sheet.widths))


def _excel_value(value: CellValue) -> CellValue:
    """A value as Excel's `Range.Value` must receive it to store exactly that value.

    Excel parses text as if it were typed ("=1+1" becomes a formula, "1.0" a number, "TRUE" a
    boolean, "2018-01-26" a date); a leading apostrophe makes it keep any text as text and is not
    part of the value read back. Text is cleaned the way the file writer cleans it.
    """
    if isinstance(value, str):
        return "'" + clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _run_blocks(sheet: SheetCells) -> list[tuple[_Block, str]]:
    """The number formats' column runs as rectangles: neighbouring columns whose runs cover the
    same rows with the same code are set in one call."""
    columns_of: dict[tuple[int, int, str], list[int]] = {}
    for run in sheet.formats:
        if run.kind not in _GENERAL:
            key = (run.first, run.last, NUMBER_FORMAT_CODES[run.kind])
            columns_of.setdefault(key, []).append(run.column)
    return [
        (_Block(top, left, bottom, right), code)
        for (top, bottom, code), columns in columns_of.items()
        for left, right in _spans(sorted(set(columns)))
    ]


def _date_codes(sheet: SheetCells) -> dict[tuple[int, int], str]:
    """A date format for every date cell (the file writer gives them one too)."""
    codes: dict[tuple[int, int], str] = {}
    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                codes[(r, c)] = NUMBER_FORMAT_CODES["datetime"]
            elif isinstance(value, dt.date):
                codes[(r, c)] = NUMBER_FORMAT_CODES["date"]
    return codes


def _format_blocks(codes: Mapping[tuple[int, int], str]) -> list[tuple[_Block, str]]:
    """Cells with the same code grouped into rectangles: runs down each column, then neighbouring
    columns whose runs cover the same rows."""
    rows_of: dict[tuple[int, str], list[int]] = {}
    for (r, c), code in sorted(codes.items()):
        rows_of.setdefault((c, code), []).append(r)
    columns_of: dict[tuple[int, int, str], list[int]] = {}
    for (c, code), rows in sorted(rows_of.items()):
        for top, bottom in _spans(rows):
            columns_of.setdefault((top, bottom, code), []).append(c)
    return [
        (_Block(top, left, bottom, right), code)
        for (top, bottom, code), columns in columns_of.items()
        for left, right in _spans(columns)
    ]


def _spans(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted distinct indices -> (first, last) of each run of consecutive ones."""
    spans: list[tuple[int, int]] = []
    for i in indices:
        if spans and spans[-1][1] == i - 1:
            spans[-1] = (spans[-1][0], i)
        else:
            spans.append((i, i))
    return spans


def _width_blocks(widths: Mapping[int, float]) -> list[tuple[_Block, float]]:
    """Neighbouring columns of equal width set together."""
    by_width: dict[float, list[int]] = {}
    for col in sorted(widths):
        by_width.setdefault(float(widths[col]), []).append(col)
    return [
        (_Block(0, left, 0, right), width)
        for width, columns in by_width.items()
        for left, right in _spans(columns)
    ]
