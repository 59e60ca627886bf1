"""Small workbooks for reader tests, written with openpyxl from a dict of sheet -> rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string


@dataclass(frozen=True)
class Fmt:
    """A cell value with a number format, e.g. Fmt(0.25, "0%")."""

    value: Any
    number_format: str


@dataclass(frozen=True)
class At:
    """Rows placed with their top-left cell at `origin` (e.g. "B3") instead of A1."""

    origin: str
    rows: Sequence[Sequence[Any]]


Rows = Sequence[Sequence[Any]]
AS_OF = dt.date(2018, 1, 26)


def write_book(path: Path, sheets: Mapping[str, Rows | At]) -> Path:
    """Write each sheet's rows; None leaves a cell empty."""
    book = Workbook()
    book.remove(book.worksheets[0])
    for name, content in sheets.items():
        sheet = book.create_sheet(name)
        placed = content if isinstance(content, At) else At("A1", content)
        origin, rows = placed.origin, placed.rows
        letters, top = coordinate_from_string(origin)
        left = column_index_from_string(letters)
        for r, values in enumerate(rows):
            for k, value in enumerate(values):
                if value is None:
                    continue
                cell = sheet.cell(row=top + r, column=left + k)
                if isinstance(value, Fmt):
                    cell.value = value.value
                    cell.number_format = value.number_format
                else:
                    cell.value = value
    book.save(path)
    return path


POSITIONS_HEADER = [
    "Group", "Underlying", "Type", "Expiry", "Strike", "Qty", "Multiplier", "Entry Price", "IV",
    "Mark",
]  # fmt: skip


def valid_sheets() -> dict[str, Rows | At]:
    """A minimal valid workbook: one iron condor, a market snapshot, a curve, some history."""
    exp = dt.date(2018, 3, 16)
    return {
        "Positions": [
            POSITIONS_HEADER,
            ["IC1", "spx", "Put", exp, 2700, -10, None, 6.1, 0.13, None],
            ["IC1", "SPX", "p", exp, 2675, 10, None, 4.7, 0.135, None],
            ["IC1", "SPX", "CALLS", exp, 2950, -10, None, 7.4, 0.077, None],
            ["IC1", "SPX", "c", exp, 2975, 10, None, 3.7, 0.075, None],
        ],
        "Market": [
            ["Field", "Value"],
            ["As Of", AS_OF],
            ["SPX", 2872.87],
            ["VIX", 11.08],
            ["VIX3M", 13.5],
            ["VVIX", 95.0],
            ["Rate", 0.0142],
            ["Dividend Yield", 0.0185],
        ],
        "VIX Futures": [
            ["Expiry", "Price"],
            [dt.date(2018, 2, 14), 12.95],
            [dt.date(2018, 3, 21), 13.85],
        ],
        "History": [
            ["Date", "SPX Close", "VIX Close"],
            [dt.date(2018, 1, 24), 2837.54, 11.47],
            [dt.date(2018, 1, 25), 2839.25, 11.58],
            [dt.date(2018, 1, 26), 2872.87, 11.08],
        ],
    }
