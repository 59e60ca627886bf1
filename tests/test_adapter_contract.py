"""The adapter contract: the same workbook read through the file adapter (calamine) and through the
live-Excel adapter gives identical Inputs, and the same Outputs written through the file writer and
through the live adapter give identical cells (values and number formats).

The live side runs on the recording stand-in (loaded from the same .xlsx by openpyxl, an
independent reader), and, when XLWINGS_LICENSE_KEY is set, on xlwings' own remote engine
(`xw.Book(json=...)`): there the adapter's actions are replayed onto a stand-in with Excel's rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import python_calamine as calamine
from live_standin import Book, Formula, Sheet, excel_stores
from reader_books import POSITIONS_HEADER, At, Fmt, Rows, valid_sheets

from rules_engine.contract import DATETIME_FORMAT, NUMBER_FORMATS, OWNED_SHEETS
from rules_engine.engine import failed_outputs, recompute
from rules_engine.host import load_plugins
from rules_engine.layout import lay_out, marker
from rules_engine.models import FormatRun, InputError, Inputs, Issue, LoggedLayer, SheetCells
from rules_engine.workbook.live import read_book, write_book
from rules_engine.workbook.reader import read_workbook
from rules_engine.workbook.writer import write_owned_sheets

EXAMPLE = Path(__file__).parents[1] / "workbooks" / "alvh.xlsx"
NO_KEY = "xlwings' remote engine needs XLWINGS_LICENSE_KEY (xlwings PRO); the stand-in variant ran"
LIVE_SIDES = [
    "standin",
    pytest.param(
        "remote",
        marks=pytest.mark.skipif(not os.environ.get("XLWINGS_LICENSE_KEY"), reason=NO_KEY),
    ),
]

#: Text a spreadsheet would not keep as typed: formulas, numbers, booleans, dates, escapes.
HOSTILE_TEXT = (
    "=SUM(A1:A3)",
    "+1 555 0100",
    "-hedged",
    "@risk",
    "'quoted",
    "1.0",
    "TRUE",
    "2018-01-26",
    "_x0041_ looks escaped",
    "\ttab first",
    "bell\x07inside",
    "",
)


# --- workbooks --------------------------------------------------------------------------------


def write_text_safe(path: Path, sheets: Mapping[str, Rows | At]) -> Path:
    """Like reader_books.write_book, but every str is stored as text (openpyxl would turn "=..."
    into a formula), and a styled empty cell at A1 makes Excel's used range start before the data.
    """
    book = openpyxl.Workbook()
    book.remove(book.worksheets[0])
    for name, content in sheets.items():
        sheet = book.create_sheet(name)
        placed = content if isinstance(content, At) else At("A1", content)
        origin = sheet[placed.origin]
        if placed.origin != "A1":
            sheet["A1"].number_format = "0.00"
        for r, values in enumerate(placed.rows):
            for k, value in enumerate(values):
                if value is None:
                    continue
                cell = sheet.cell(row=origin.row + r, column=origin.column + k)
                raw = value.value if isinstance(value, Fmt) else value
                cell.value = raw
                if isinstance(raw, str):
                    cell.data_type = "s"
                if isinstance(value, Fmt):
                    cell.number_format = value.number_format
    book.save(path)
    return path


def hostile_sheets() -> dict[str, Rows | At]:
    """A valid book whose data starts away from A1, with formula-like text, percent cells, text
    numbers, times, extra columns and blank rows."""
    sheets = valid_sheets()
    exp = dt.date(2018, 3, 16)
    sheets["Positions"] = At(
        "C4",
        [
            [*POSITIONS_HEADER, "Note", "Entered"],
            ["=IC1", " spx ", "p", exp, "2700", -10, None, 6.1, Fmt(0.13, "0%"), None, "@risk",
             dt.time(9, 30)],
            [None] * 12,
            ["=IC1", "SPX", "P", exp, 2675, 10, None, 4.7, 0.135, None, "-hedged", None],
            ["=IC1", "SPX", "C", exp, 2950, -10, None, 7.4, 0.077, None, "+1", None],
            ["=IC1", "SPX", "c", dt.datetime(2018, 3, 16), 2975, 10, 100, 3.7, 0.075, None,
             "'quoted", dt.datetime(2018, 1, 26, 15, 45)],
        ],
    )  # fmt: skip
    sheets["Market"] = At(
        "B2",
        [
            ["Field", "Value"],
            ["As Of", dt.datetime(2018, 1, 26)],
            ["SPX", 2872.87],
            ["VIX", "11.08"],
            ["VIX3M", 13.5],
            ["Rate", Fmt(0.0142, "0.00%")],
            ["Dividend Yield", "1.85%"],
            ["Breadth Source", "=NYSE"],
        ],
    )
    sheets["VIX Futures"] = At("A2", [["expiry", "PRICE"], [dt.date(2018, 2, 14), 12.95],
                                      [dt.date(2018, 3, 21), 13.85]])  # fmt: skip
    sheets["History"] = [
        ["Date", "SPX Close", "VIX Close", "Comment", "Advances"],
        [dt.date(2018, 1, 24), 2837.54, 11.47, "=bad", 1500],
        [dt.date(2018, 1, 25), 2839.25, None, "TRUE", None],
        [dt.date(2018, 1, 26), 2872.87, 11.08, None, 1800],
    ]
    sheets["Calendar"] = [["Date", "Event", "Note"], [dt.date(2018, 1, 31), "FOMC", "+1 555"]]
    sheets["Settings"] = [
        ["Setting", "Value", "Description"],
        ["sizer", "alvh", "=which sizer"],
        ["report.cutoff", dt.time(16, 0), "a time value"],
        ["hedge.max_ratio", Fmt(0.6, "0%"), None],
    ]
    return sheets


def broken_sheets() -> dict[str, Rows | At]:
    """The hostile book with mistakes in several sheets: both adapters must report the same."""
    sheets = hostile_sheets()
    positions = sheets["Positions"]
    assert isinstance(positions, At)
    rows = [list(r) for r in positions.rows]
    rows[1][5] = "ten"
    rows[3][2] = "Straddle"
    sheets["Positions"] = At(positions.origin, rows)
    sheets["VIX Futures"] = [["Expiry", "Price"], [dt.date(2018, 2, 14), -1]]
    sheets["Market"] = [["Field", "Value"], ["As Of", "someday"], ["SPX", 2872.87]]
    return sheets


# --- the live side: the stand-in, or xlwings' remote engine -------------------------------------


def remote_json(book: Book) -> dict[str, Any]:
    """The workbook as the xlwings Office.js client sends it to the remote engine."""
    import xlwings as xw

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            return value.isoformat(timespec="milliseconds") + "Z"
        return value

    sheets = []
    for sheet in book.sheets._sheets:
        used = sheet.used_range
        values = [
            [cell(sheet.cells.get((r, c))) for c in range(used.right + 1)]
            for r in range(used.bottom + 1)
        ]
        empty = not (sheet.cells or sheet.formats or sheet.touched)
        sheets.append(
            {
                "name": sheet.name,
                "values": values,
                "used_range_address": None if empty else used.address,
                "visibility": "Visible",
                "pictures": [],
                "shapes": [],
                "charts": [],
                "notes": [],
                "tables": [],
                "pivot_tables": [],
                "print_area": None,
                "show_gridlines": True,
            }
        )
    return {
        "client": "Office.js",
        "version": xw.__version__,
        "book": {
            "name": book.name,
            "active_sheet_index": 0,
            "selection": "A1",
            "calculation": "Automatic",
        },
        "names": [],
        "sheets": sheets,
    }


def replay(actions: Sequence[Mapping[str, Any]], target: Book) -> None:
    """Apply the remote engine's recorded actions to a stand-in, with Excel's rules for values."""
    sheets = target.sheets._sheets
    for action in actions:
        func = action["func"]
        if func == "addSheet":
            index, name = action["args"]
            sheets.insert(index, Sheet(target, name))
            continue
        if func in ("setCalculation", "setScreenUpdating", "activateSheet", "setColumnWidth",
                    "setFontProperty", "setWrapText", "setHorizontalAlignment"):  # fmt: skip
            continue  # settings, widths (points on this engine) and styles are not cells
        sheet = sheets[action["sheet_position"]]
        if func == "sheetClear":
            sheet.clear()
            continue
        top, left = action["start_row"] + 1, action["start_column"] + 1
        bottom = top + action["row_count"] - 1
        right = left + action["column_count"] - 1
        if func == "setValues":
            sheet.range((top, left)).value = action["values"]
        elif func == "setNumberFormat":
            sheet.range((top, left), (bottom, right)).number_format = action["args"][0]
        else:
            raise AssertionError(f"unexpected remote action {func}")


def live_read(side: str, path: Path) -> Inputs:
    standin = Book.load(path)
    if side == "standin":
        return read_book(standin).inputs
    import xlwings as xw

    return read_book(xw.Book(json=remote_json(standin))).inputs


def live_write(side: str, path: Path, sheets: Sequence[SheetCells]) -> Book:
    """Write through the live adapter; the stand-in that holds the result."""
    standin = Book.load(path)
    if side == "standin":
        write_book(standin, sheets)
        return standin
    import xlwings as xw

    remote = xw.Book(json=remote_json(standin))
    write_book(remote, sheets)
    replay(remote.json()["actions"], standin)
    return standin


# --- comparing ----------------------------------------------------------------------------------


def assert_same_inputs(file_side: Inputs, live_side: Inputs) -> None:
    """Every frame and mapping of Inputs, exactly (dtypes, row numbers, addresses, warnings)."""
    for f in dataclasses.fields(Inputs):
        a, b = getattr(file_side, f.name), getattr(live_side, f.name)
        if isinstance(a, pd.DataFrame):
            assert isinstance(b, pd.DataFrame), f.name
            pd.testing.assert_frame_equal(a, b, check_exact=True, obj=f.name)
        else:
            assert a == b, f.name


#: Number formats as openpyxl names Excel's built-in ids, and as the live adapter sets them.
FILE_FORMATS = {"mm-dd-yy": "date", "m/d/yy h:mm": "datetime", "0.00%": "percent",
                "0.0%": "percent", "#,##0.00": "money", "#,##0": "integer",
                "General": None}  # fmt: skip
#: dollars and integer share "#,##0": both sides call it integer.
LIVE_FORMATS = {code: kind for kind, (_, code) in NUMBER_FORMATS.items()}
LIVE_FORMATS[DATETIME_FORMAT[1]] = "datetime"

Cells = dict[tuple[int, int], tuple[Any, str | None]]


def _as_datetime(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def file_cells(path: Path, name: str) -> Cells:
    """Non-empty cells of a written sheet: value (calamine) and format kind (openpyxl)."""
    sheet = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name)
    rows = sheet.to_python()
    r0, c0 = sheet.start or (0, 0)
    styled = openpyxl.load_workbook(path, read_only=True)[name]
    kinds = {
        (cell.row - 1, cell.column - 1): FILE_FORMATS[cell.number_format]
        for row in styled.iter_rows()
        for cell in row
        if getattr(cell, "value", None) is not None
    }
    return {
        (r0 + i, c0 + j): (_as_datetime(v), kinds.get((r0 + i, c0 + j)))
        for i, row in enumerate(rows)
        for j, v in enumerate(row)
        if v != ""
    }


def live_cells(book: Book, name: str) -> Cells:
    sheet = book.sheets[name]
    return {
        cell: (value, LIVE_FORMATS.get(sheet.formats.get(cell, "")))
        for cell, value in sheet.grid().items()
        if value != ""
    }


def assert_same_cells(tmp_path: Path, side: str, sheets: list[SheetCells]) -> None:
    target = tmp_path / "file.xlsx"
    shutil.copyfile(EXAMPLE, target)
    write_owned_sheets(target, sheets)
    live = live_write(side, EXAMPLE, sheets)
    for sheet in sheets:
        expected = file_cells(target, sheet.name)
        got = live_cells(live, sheet.name)
        assert got == expected, sheet.name
        assert expected, f"{sheet.name} is empty: the comparison proves nothing"


# --- reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", LIVE_SIDES)
def test_example_reads_identically(side: str) -> None:
    file_side = read_workbook(EXAMPLE).inputs
    assert len(file_side.positions) >= 8 and len(file_side.history) > 400
    assert_same_inputs(file_side, live_read(side, EXAMPLE))


@pytest.mark.parametrize("side", LIVE_SIDES)
def test_hostile_workbook_reads_identically(tmp_path: Path, side: str) -> None:
    path = write_text_safe(tmp_path / "hostile.xlsx", hostile_sheets())
    file_side = read_workbook(path).inputs
    assert set(file_side.positions["group"]) == {"=IC1"}
    assert file_side.columns["Positions"]["group"] == "C"
    assert list(file_side.positions["row"]) == [5, 7, 8, 9]
    assert file_side.market_cells["rate"] == "C7"
    assert file_side.settings["report.cutoff"].value == "16:00:00"
    assert file_side.positions["entered"].iloc[0] == dt.time(9, 30)
    assert_same_inputs(file_side, live_read(side, path))


@pytest.mark.parametrize("side", LIVE_SIDES)
def test_bad_inputs_give_identical_errors(tmp_path: Path, side: str) -> None:
    path = write_text_safe(tmp_path / "broken.xlsx", broken_sheets())
    with pytest.raises(InputError) as file_error:
        read_workbook(path)
    with pytest.raises(InputError) as live_error:
        live_read(side, path)
    assert len(file_error.value.issues) >= 4
    assert live_error.value.issues == file_error.value.issues


# --- writing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", LIVE_SIDES)
def test_example_outputs_write_identical_cells(tmp_path: Path, side: str) -> None:
    outputs = recompute(read_workbook(EXAMPLE).inputs, load_plugins())
    assert outputs.ok
    sheets = lay_out(outputs)
    assert [s.name for s in sheets] == list(OWNED_SHEETS)
    assert_same_cells(tmp_path, side, sheets)


@pytest.mark.parametrize("side", LIVE_SIDES)
def test_hostile_outputs_write_identical_cells(tmp_path: Path, side: str) -> None:
    issues = [
        Issue("error", text, "Positions", "C5", "Group", source=text) for text in HOSTILE_TEXT
    ]
    runs = (dt.datetime(2018, 1, 26, 21, 5, 9), dt.datetime(2018, 1, 29))  # the second at 0:00
    log = tuple(
        LoggedLayer(run, "0123456789012345", 1, "ACTIVE", text, 12, 3060.5, 0.2125)
        for run in runs
        for text in HOSTILE_TEXT
    )
    outputs = dataclasses.replace(
        failed_outputs(load_plugins(), issues, as_of=dt.date(2018, 1, 26)), log=log
    )
    odd = SheetCells(
        "Odd Types",
        (
            (marker("Odd Types"),),
            (dt.date(2018, 1, 26), dt.datetime(2018, 1, 26, 13, 30), True, 3, 0.25, float("nan")),
            (None, -1234.5, 2**40, "x", *HOSTILE_TEXT[:3]),
        ),
        formats=(
            FormatRun(4, 1, 1, "percent"),
            FormatRun(1, 2, 2, "money"),
            FormatRun(2, 2, 2, "integer"),
            FormatRun(3, 1, 1, "number"),
        ),
    )
    sheets = [*lay_out(outputs), odd]
    assert_same_cells(tmp_path, side, sheets)


def test_hostile_text_reads_back_as_written(tmp_path: Path) -> None:
    """Not only identical: both sides hold the very text the engine wrote (control characters
    dropped as the file writer drops them)."""
    issues = [Issue("error", text, source="test") for text in HOSTILE_TEXT]
    sheets = lay_out(failed_outputs(load_plugins(), issues))
    live = live_write("standin", EXAMPLE, sheets)
    texts = {v for v in live.sheets["Run"].grid().values() if isinstance(v, str)}
    expected = {t.replace("\x07", "") for t in HOSTILE_TEXT if t}
    assert expected <= texts
    assert not [v for v in live.sheets["Run"].grid().values() if isinstance(v, Formula)]


def test_standin_applies_excel_parsing_rules() -> None:
    """The stand-in is only a useful oracle if unprotected text really changes like in Excel."""
    assert isinstance(excel_stores("=1+1"), Formula)
    assert excel_stores("1.0") == 1.0
    assert excel_stores("TRUE") is True
    assert excel_stores("2018-01-26") == dt.datetime(2018, 1, 26)
    assert excel_stores("'=1+1") == "=1+1" and not isinstance(excel_stores("'=1+1"), Formula)
    assert excel_stores(dt.date(2018, 1, 26)) == dt.datetime(2018, 1, 26)
