"""Test helpers for the surgical writer: sample sheets, fixture workbooks, raw zip inspection.

Zip entries are inspected with the standard library's zipfile plus the local header read by hand,
independently of the writer's own zip code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import python_calamine
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from rules_engine.contract import OWNED_MARKER
from rules_engine.engine import recompute
from rules_engine.host import load_plugins
from rules_engine.layout import lay_out
from rules_engine.models import CellValue, FormatRun, SheetCells
from rules_engine.workbook.reader import read_workbook

SHEET_NAMES = ("Hedge", "Signals", "Risk", "Run")
EXAMPLE_WORKBOOK = Path(__file__).parent.parent / "workbooks" / "example.xlsx"


@dataclass(frozen=True)
class RawEntry:
    """Everything about a zip entry that must survive a copy untouched."""

    compressed: bytes
    local_header: bytes
    crc: int
    size: int
    date_time: tuple[int, ...]
    extra: bytes
    flag_bits: int
    compress_type: int
    content: bytes


def raw_entries(path: Path) -> dict[str, RawEntry]:
    """Each entry's raw compressed bytes, local header and metadata, keyed by name."""
    data = path.read_bytes()
    found: dict[str, RawEntry] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            at = info.header_offset
            name_len, extra_len = struct.unpack_from("<HH", data, at + 26)
            start = at + 30 + name_len + extra_len
            found[info.filename] = RawEntry(
                compressed=data[start : start + info.compress_size],
                local_header=data[at:start],
                crc=info.CRC,
                size=info.file_size,
                date_time=info.date_time,
                extra=info.extra,
                flag_bits=info.flag_bits,
                compress_type=info.compress_type,
                content=archive.read(info),
            )
    return found


def entry_names(path: Path) -> list[str]:
    """Entry names in central-directory order."""
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def part(path: Path, name: str) -> bytes:
    """One part's decompressed content."""
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def rezip(
    source: Path,
    target: Path,
    replace: Mapping[str, bytes | None] | None = None,
    add: Mapping[str, bytes] | None = None,
) -> None:
    """Copy a package with some parts replaced (None drops them) or added: builds test inputs."""
    replace = replace or {}
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = replace.get(info.filename, src.read(info))
            if content is not None:
                dst.writestr(info.filename, content)
        for name, content in (add or {}).items():
            dst.writestr(name, content)


def make_workbook(path: Path, *, epoch_1904: bool = False) -> Path:
    """A small user workbook: input sheets and a user sheet with a formula reading Hedge!B3."""
    book = openpyxl.Workbook()
    positions = book.active
    assert positions is not None
    positions.title = "Positions"
    positions.append(["Group", "Underlying", "Type", "Expiry", "Strike", "Qty"])
    positions.append(["IC1", "SPX", "Put", dt.date(2024, 3, 15), 4800, -1])
    market = book.create_sheet("Market")
    market.append(["Field", "Value"])
    market.append(["SPX", 5000.5])
    user = book.create_sheet("Notes")
    user["A1"] = "=Hedge!B3"
    user["A2"] = "my own notes"
    if epoch_1904:
        book.epoch = CALENDAR_MAC_1904
    book.save(path)
    return path


def sample_sheet(name: str) -> SheetCells:
    """A sheet with the kinds of cells the engine writes: text, numbers, dates, percents."""
    rows: tuple[tuple[CellValue, ...], ...] = (
        (f"{OWNED_MARKER}: {name}", None, None, None),
        ("Layer", "Expiry", "Cost", "Share covered"),
        ("VIX 20C", dt.date(2024, 2, 14), 1234.5, 0.25),
        ("Run at", dt.datetime(2024, 1, 5, 16, 15, 30), 7, 0.1 + 0.2),
        ("flag", True, False, -3.75),
    )
    formats = (
        FormatRun(3, 2, 3, "percent"),
        FormatRun(2, 2, 2, "money"),
        FormatRun(2, 3, 3, "integer"),
    )
    return SheetCells(name, rows, formats=formats, widths={0: 18.5, 1: 12.0})


def sample_sheets() -> list[SheetCells]:
    return [sample_sheet(name) for name in SHEET_NAMES]


def expected_readback(name: str) -> list[list[object]]:
    """What calamine must return for `sample_sheet(name)`: worked out by hand, not by the writer.

    calamine returns every number as a float, empty cells as '', and date-formatted cells as
    date (format 14) or datetime (format 22).
    """
    return [
        [f"{OWNED_MARKER}: {name}", "", "", ""],
        ["Layer", "Expiry", "Cost", "Share covered"],
        ["VIX 20C", dt.date(2024, 2, 14), 1234.5, 0.25],
        ["Run at", dt.datetime(2024, 1, 5, 16, 15, 30), 7.0, 0.30000000000000004],
        ["flag", True, False, -3.75],
    ]


def read_sheet(path: Path, name: str) -> list[list[object]]:
    """A sheet's values as python-calamine reads them."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return [list(row) for row in rows]


#: A Positions group name that a spreadsheet would run as a formula (a classic DDE injection).
INJECTED_GROUP = "=cmd|' /C calc'!A0"


def engine_sheets() -> list[SheetCells]:
    """The four owned sheets of a real engine run over the shipped example workbook.

    One condor's group is renamed to formula-like text, so user data that reaches the output
    sheets exercises the quote-prefix styling the writer must apply.
    """
    read = read_workbook(EXAMPLE_WORKBOOK)
    positions = read.inputs.positions.copy()
    positions["group"] = positions["group"].replace({"IC-FEB": INJECTED_GROUP})
    inputs = dataclasses.replace(read.inputs, positions=positions)
    return lay_out(recompute(inputs, load_plugins(use_entry_points=False)))


def expected_cells(sheet: SheetCells) -> list[list[tuple[str, object]]]:
    """What calamine must return for `sheet`, as (type name, value) so 1.0 never passes for True.

    calamine reads every number as a float, an empty cell as '', a date cell (format 14) as a
    date and a datetime cell (format 22) as a datetime; the grid runs from A1 to the last
    non-empty row and column.
    """

    def typed(value: CellValue) -> tuple[str, object]:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return ("str", "")
        if isinstance(value, bool | str | dt.date):
            return (type(value).__name__, value)
        return ("float", float(value))

    grid = [[typed(value) for value in row] for row in sheet.rows]
    filled = [(r, c) for r, row in enumerate(grid) for c, cell in enumerate(row) if cell[1] != ""]
    height = max(r for r, _ in filled) + 1
    width = max(c for _, c in filled) + 1
    return [(row + [("str", "")] * width)[:width] for row in (grid + [[]] * height)[:height]]


def read_cells(path: Path, name: str) -> list[list[tuple[str, object]]]:
    """A sheet as python-calamine reads it, each value with its type name."""
    return [[(type(v).__name__, v) for v in row] for row in read_sheet(path, name)]
