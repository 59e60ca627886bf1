"""Values that would fool the engine are input errors at their cell: non-finite numbers, absurd
magnitudes, dates Excel cannot hold, levels that contradict the History sheet. Each exits 1 with
the sheet, cell and column, computes nothing, and leaves the input sheets as they were."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from cli_support import EXAMPLE, cells, edit, run_alvh, set_market, set_raw_cell, sheet_part

from rules_engine.workbook.reader import read_workbook

#: (sheet, cell, raw value, column, words the message must contain)
CASES = {
    "SPX inf": ("Market", "B3", "inf", "SPX", "not a finite number"),
    "SPX -inf": ("Market", "B3", "-inf", "SPX", "not a finite number"),
    "SPX nan": ("Market", "B3", "nan", "SPX", "not a finite number"),
    "SPX 1e309": ("Market", "B3", "1e309", "SPX", "not a finite number"),
    "SPX 1e308": ("Market", "B3", "1e308", "SPX", "outside the plausible range 1 to 1,000,000"),
    "VIX 1e309": ("Market", "B4", "1e309", "VIX", "not a finite number"),
    "VVIX 1e300": ("Market", "B6", "1e300", "VVIX", "outside the plausible range 1 to 500"),
    "Rate -6%": ("Market", "B7", "-0.06", "Rate", "outside the plausible range -5% to 50%"),
    "Rate 51%": ("Market", "B7", "0.51", "Rate", "outside the plausible range -5% to 50%"),
    "SPX 10x": ("Market", "B3", "28728.7", "SPX", "10x the last SPX Close in History"),
    "SPX 0.1x": ("Market", "B3", "287.287", "SPX", "0.1x the last SPX Close in History"),
    "VIX 8x": ("Market", "B4", "88.6", "VIX", "8x the last VIX Close in History"),
    "strike inf": ("Positions", "E3", "inf", "Strike", "not a finite number"),
    "qty -inf": ("Positions", "F3", "-inf", "Qty", "not a finite number"),
    "entry nan": ("Positions", "H4", "nan", "Entry Price", "not a finite number"),
    "IV 1e309": ("Positions", "I5", "1e309", "IV", "not a finite number"),
    "future inf": ("VIX Futures", "B2", "inf", "Price", "not a finite number"),
    "future 1e300": ("VIX Futures", "B3", "1e300", "Price", "implausibly large"),
    "last close inf": ("History", "B{last}", "inf", "SPX Close", "not a finite number"),
    "last close nan": ("History", "B{last}", "nan", "SPX Close", "not a finite number"),
    "last close 0": ("History", "B{last}", "0", "SPX Close", "must be above 0"),
    "VIX close 1e309": ("History", "E{last}", "1e309", "VIX Close", "not a finite number"),
    "VIX close 1e6": ("History", "E{earlier}", "1e6", "VIX Close", "implausibly large"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_value_is_an_input_error_at_its_cell(tmp_path, case):
    sheet, cell, raw, column, words = CASES[case]
    last = len(cells(EXAMPLE, "History"))  # the last History row: the as-of date's closes
    cell = cell.format(last=last, earlier=last - 100)
    book = tmp_path / "book.xlsx"
    shutil.copy(EXAMPLE, book)
    set_raw_cell(book, sheet, cell, raw)
    inputs_before = read_parts(book)
    result = run_alvh("recompute", str(book))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{sheet}!{cell} ({column})" in result.stderr, result.stderr
    line = next(x for x in result.stderr.splitlines() if f"{sheet}!{cell}" in x)
    assert words in line, line
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    assert "Not computed" in cells(book, "Hedge")[3][0]
    assert read_parts(book) == inputs_before


def read_parts(book: Path) -> dict[str, bytes]:
    """The input sheets' zip parts, to prove they were not touched."""
    import zipfile

    with zipfile.ZipFile(book) as z:
        return {
            name: z.read(sheet_part(book, name))
            for name in ("Positions", "Market", "VIX Futures", "History", "Settings")
        }


@pytest.mark.parametrize(
    "as_of", ["1899-12-31", dt.datetime(1899, 12, 31), "1066-10-14"], ids=["text", "date", "old"]
)
def test_an_as_of_date_excel_cannot_hold_is_an_input_error_not_a_write_error(tmp_path, as_of):
    book = tmp_path / "book.xlsx"
    shutil.copy(EXAMPLE, book)
    edit(book, set_market("As Of", as_of))
    result = run_alvh("recompute", str(book))
    assert result.returncode == 1, result.stderr
    assert "Market!B2 (As Of)" in result.stderr
    assert "Cannot write" not in result.stderr and "Run!" not in result.stderr


def test_the_example_passes_every_check():
    inputs = read_workbook(EXAMPLE).inputs
    assert not [w for w in inputs.warnings if w.sheet == "Market"]
    assert 0.5 <= inputs.market["spx"] / inputs.history["spx_close"].iloc[-1] <= 2.0
