"""A recording stand-in for the Excel side of xlwings: Book, Sheets, Sheet, Range and App with the
attributes and semantics xlwings has for the calls the live adapter makes, and a log of every call.

What it reproduces, because the adapter must cope with it:
- reading `.value`: a scalar for one cell and a flat list for one row or column, unless
  `options(ndim=2)`; empty cells are None, numbers float, dates datetime (a time-only cell is a
  datetime on Excel's day 0, 1899-12-30); error cells are None;
- writing `.value`: a 2-D list fills the block from the range's top-left cell (ragged rows are
  refused, as Excel's COM array is rectangular); text is parsed the way Excel parses typed input:
  a leading apostrophe is dropped and keeps the rest text, "=..." (and "+...", "-...", "@..."
  that are not numbers) becomes a `Formula`, and numbers, TRUE/FALSE and ISO dates are converted;
- `sheets.add(name, after=...)` inserts and activates; `used_range` is the bounding box of the cells
  that hold a value or a format (A1 on an empty sheet); `clear()` drops values and formats,
  `clear_contents()` only values.

`Book.load(path)` fills it from a real .xlsx through openpyxl (read-only use, cached values), an
independent reader from the calamine-based file adapter. `recorder.seconds` is the time spent inside
the stand-in, so a benchmark can subtract "Excel's own time".
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import openpyxl
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

P = ParamSpec("P")
R = TypeVar("R")

EXCEL_DAY_ZERO = dt.datetime(1899, 12, 30)
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*%?\s*$")
_CALC_MODES = ("automatic", "manual", "semiautomatic")


class Formula(str):
    """Text Excel would have turned into a formula (the adapter must never cause one)."""


class StandinFailure(RuntimeError):
    """Raised by the stand-in when told to fail at an operation (to test clean-up paths)."""


@dataclass(frozen=True)
class Call:
    """One call into the stand-in: which object, what operation, and a detail (address, value)."""

    target: str
    op: str
    detail: Any = None


@dataclass
class Recorder:
    """The log shared by every object of one stand-in book."""

    calls: list[Call] = field(default_factory=list)
    seconds: float = 0.0
    fail_on: str | None = None

    def record(self, target: str, op: str, detail: Any = None) -> None:
        self.calls.append(Call(target, op, detail))
        if op == self.fail_on:
            raise StandinFailure(f"injected failure at {op} on {target}")

    def ops(self, op: str) -> list[Call]:
        return [call for call in self.calls if call.op == op]


def _timed(method: Callable[P, R]) -> Callable[P, R]:
    """Add the time spent in `method` to its recorder, so callers can subtract it."""

    @wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        recorder: Recorder = args[0]._recorder  # type: ignore[attr-defined]
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            recorder.seconds += time.perf_counter() - started

    return run


def excel_stores(value: Any) -> Any:
    """What a cell holds after Excel's `Range.Value = value` (None: the cell is empty)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        raise TypeError(f"Excel cannot store {type(value).__name__} {value!r}")
    if value.startswith("'"):
        return value[1:]
    if _NUMBER.match(value):
        text = value.strip()
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if value.strip().upper() in ("TRUE", "FALSE"):
        return value.strip().upper() == "TRUE"
    if value.startswith(("=", "+", "-", "@")) and len(value) > 1:
        return Formula(value)
    try:
        return dt.datetime.fromisoformat(value.strip().rstrip("Z"))
    except ValueError:
        return value


def _excel_value_of_loaded(cell: Any) -> Any:
    """An openpyxl cell (cached values) as Excel's own value model holds it."""
    value = cell.value
    if value is None or cell.data_type == "e":
        return None
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.time):
        return dt.datetime.combine(EXCEL_DAY_ZERO.date(), value)
    if isinstance(value, dt.timedelta):
        return EXCEL_DAY_ZERO + value
    raise TypeError(f"unexpected cell value {value!r}")


class App:
    """Excel's application settings, and the alerts shown."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._settings: dict[str, Any] = {
            "screen_updating": True,
            "enable_events": True,
            "calculation": "automatic",
        }
        self.alerts: list[dict[str, Any]] = []

    def _get(self, name: str) -> Any:
        self._recorder.record("App", f"get_{name}")
        return self._settings[name]

    def _set(self, name: str, value: Any) -> None:
        self._recorder.record("App", f"set_{name}", value)
        if name == "calculation" and value not in _CALC_MODES:
            raise ValueError(f"invalid calculation mode {value!r}")
        self._settings[name] = value

    screen_updating = property(
        lambda self: self._get("screen_updating"),
        lambda self, v: self._set("screen_updating", v),
    )
    enable_events = property(
        lambda self: self._get("enable_events"), lambda self, v: self._set("enable_events", v)
    )
    calculation = property(
        lambda self: self._get("calculation"), lambda self, v: self._set("calculation", v)
    )

    def settings(self) -> dict[str, Any]:
        """The current settings, without recording a call."""
        return dict(self._settings)

    def alert(
        self,
        prompt: str,
        title: str | None = None,
        buttons: str = "ok",
        mode: str | None = None,
        callback: str | None = None,
    ) -> str:
        self._recorder.record("App", "alert", prompt)
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        return "ok"


class Book:
    """An open workbook: its sheets and its application."""

    def __init__(self, name: str = "Book1.xlsx") -> None:
        self._recorder = Recorder()
        self.name = name
        self.app = App(self._recorder)
        self.sheets = Sheets(self)

    @property
    def recorder(self) -> Recorder:
        return self._recorder

    @classmethod
    def load(cls, path: Path) -> Book:
        """A stand-in holding the cached values of every sheet of the .xlsx at `path`."""
        source = openpyxl.load_workbook(path, data_only=True)
        book = cls(Path(path).name)
        try:
            for ws in source.worksheets:
                sheet = book.sheets._append(ws.title)
                for row in ws.iter_rows():
                    for cell in row:
                        value = _excel_value_of_loaded(cell)
                        if value is not None:
                            sheet.cells[(cell.row - 1, cell.column - 1)] = value
                        elif cell.has_style:
                            sheet.touched.add((cell.row - 1, cell.column - 1))
        finally:
            source.close()
        book.recorder.calls.clear()
        return book


class Sheets:
    """The worksheets of a book, in order; indexable by position or (case-insensitive) name."""

    def __init__(self, book: Book) -> None:
        self._book = book
        self._recorder = book.recorder
        self._sheets: list[Sheet] = []
        self._active = 0

    def _append(self, name: str) -> Sheet:
        sheet = Sheet(self._book, name)
        self._sheets.append(sheet)
        return sheet

    def __iter__(self) -> Iterator[Sheet]:
        self._recorder.record("Sheets", "iter")
        return iter(list(self._sheets))

    def __len__(self) -> int:
        return len(self._sheets)

    def __getitem__(self, key: int | str) -> Sheet:
        self._recorder.record("Sheets", "getitem", key)
        if isinstance(key, int):
            return self._sheets[key]
        for sheet in self._sheets:
            if sheet.name.casefold() == key.casefold():
                return sheet
        raise KeyError(key)

    @property
    def active(self) -> Sheet:
        self._recorder.record("Sheets", "active")
        return self._sheets[self._active]

    def names(self) -> list[str]:
        """The sheet names in order, without recording a call."""
        return [sheet.name for sheet in self._sheets]

    def add(
        self, name: str | None = None, before: Sheet | None = None, after: Sheet | None = None
    ) -> Sheet:
        self._recorder.record("Sheets", "add", name)
        name = name or f"Sheet{len(self._sheets) + 1}"
        if name.casefold() in (n.casefold() for n in self.names()):
            raise ValueError(f"Sheet named '{name}' already present in workbook")
        sheet = Sheet(self._book, name)
        if after is not None:
            index = self._sheets.index(after) + 1
        elif before is not None:
            index = self._sheets.index(before)
        else:
            index = self._active
        self._sheets.insert(index, sheet)
        self._active = index
        return sheet


class Sheet:
    """One worksheet: cell values and number formats by 0-based (row, column), column widths."""

    def __init__(self, book: Book, name: str) -> None:
        self.book = book
        self._recorder = book.recorder
        self.name = name
        self.cells: dict[tuple[int, int], Any] = {}
        self.formats: dict[tuple[int, int], str] = {}
        self.widths: dict[int, float] = {}
        self.touched: set[tuple[int, int]] = set()

    def __repr__(self) -> str:
        return f"<Sheet {self.name}>"

    def range(self, cell1: str | tuple[int, int], cell2: tuple[int, int] | None = None) -> Range:
        self._recorder.record(f"Sheet {self.name}", "range")
        if isinstance(cell1, str):
            first, _, last = cell1.partition(":")
            top, left = _a1(first)
            bottom, right = _a1(last) if last else (top, left)
        else:
            top, left = cell1[0] - 1, cell1[1] - 1
            bottom, right = (cell2[0] - 1, cell2[1] - 1) if cell2 else (top, left)
        return Range(self, top, left, bottom, right)

    @property
    def used_range(self) -> Range:
        self._recorder.record(f"Sheet {self.name}", "used_range")
        used = set(self.cells) | set(self.formats) | self.touched
        if not used:
            return Range(self, 0, 0, 0, 0)
        rows = [r for r, _ in used]
        cols = [c for _, c in used]
        return Range(self, min(rows), min(cols), max(rows), max(cols))

    def clear(self) -> None:
        self._recorder.record(f"Sheet {self.name}", "clear")
        self.cells.clear()
        self.formats.clear()
        self.touched.clear()

    def clear_contents(self) -> None:
        self._recorder.record(f"Sheet {self.name}", "clear_contents")
        self.cells.clear()

    def activate(self) -> None:
        self._recorder.record(f"Sheet {self.name}", "activate")
        self.book.sheets._active = self.book.sheets._sheets.index(self)

    def grid(self) -> dict[tuple[int, int], Any]:
        """Every non-empty cell, without recording a call."""
        return dict(self.cells)


def _a1(ref: str) -> tuple[int, int]:
    letters, row = coordinate_from_string(ref.replace("$", ""))
    return row - 1, column_index_from_string(letters) - 1


class Range:
    """A rectangle of one sheet, 0-based inclusive bounds; reads and writes like xlwings' Range."""

    def __init__(
        self, sheet: Sheet, top: int, left: int, bottom: int, right: int, ndim: int | None = None
    ) -> None:
        self.sheet = sheet
        self._recorder = sheet.book.recorder
        self.top, self.left, self.bottom, self.right = top, left, bottom, right
        self._ndim = ndim

    @property
    def address(self) -> str:
        def ref(r: int, c: int) -> str:
            return f"{openpyxl.utils.get_column_letter(c + 1)}{r + 1}"

        first, last = ref(self.top, self.left), ref(self.bottom, self.right)
        return first if first == last else f"{first}:{last}"

    def _where(self) -> str:
        return f"{self.sheet.name}!{self.address}"

    def options(self, convert: Any = None, **options: Any) -> Range:
        if convert is not None or set(options) - {"ndim"}:
            raise NotImplementedError(f"stand-in supports only ndim, not {options}")
        return Range(self.sheet, self.top, self.left, self.bottom, self.right, options.get("ndim"))

    @property
    def row(self) -> int:
        return self.top + 1

    @property
    def column(self) -> int:
        return self.left + 1

    @property
    def shape(self) -> tuple[int, int]:
        return self.bottom - self.top + 1, self.right - self.left + 1

    @property
    @_timed
    def value(self) -> Any:
        self._recorder.record("Range", "get_value", self._where())
        cells = self.sheet.cells
        rows = [
            [cells.get((r, c)) for c in range(self.left, self.right + 1)]
            for r in range(self.top, self.bottom + 1)
        ]
        if self._ndim == 2:
            return rows
        nrows, ncols = self.shape
        if nrows == 1 and ncols == 1:
            return rows[0][0]
        if nrows == 1:
            return rows[0]
        if ncols == 1:
            return [row[0] for row in rows]
        return rows

    @value.setter
    @_timed
    def value(self, data: Any) -> None:
        self._recorder.record("Range", "set_value", self._where())
        if isinstance(data, list | tuple):
            rows = [list(r) for r in data] if data and isinstance(data[0], list | tuple) else [data]
        else:
            rows = [[data]]
        if len({len(r) for r in rows}) > 1:
            raise ValueError("a 2-D value must be rectangular (Excel takes one array)")
        for i, row in enumerate(rows):
            for j, item in enumerate(row):
                stored = excel_stores(item)
                key = (self.top + i, self.left + j)
                if stored is None:
                    self.sheet.cells.pop(key, None)
                else:
                    self.sheet.cells[key] = stored

    def _cells(self) -> Iterator[tuple[int, int]]:
        for r in range(self.top, self.bottom + 1):
            for c in range(self.left, self.right + 1):
                yield r, c

    @property
    def number_format(self) -> str:
        raise NotImplementedError("the adapter has no reason to read formats")

    @number_format.setter
    @_timed
    def number_format(self, code: str) -> None:
        self._recorder.record("Range", "set_number_format", (self._where(), code))
        for cell in self._cells():
            self.sheet.formats[cell] = code

    @property
    def column_width(self) -> float:
        raise NotImplementedError("the adapter has no reason to read widths")

    @column_width.setter
    @_timed
    def column_width(self, width: float) -> None:
        self._recorder.record("Range", "set_column_width", (self._where(), width))
        if not 0 <= width <= 255:
            raise ValueError(f"column width {width} outside 0-255")
        for c in range(self.left, self.right + 1):
            self.sheet.widths[c] = float(width)

    def clear_contents(self) -> None:
        self._recorder.record("Range", "clear_contents", self._where())
        for cell in self._cells():
            self.sheet.cells.pop(cell, None)


def sheets_in(book: Book, names: Sequence[str]) -> dict[str, Sheet]:
    """The named sheets of a stand-in book, for assertions (no call recorded)."""
    by_name = {sheet.name: sheet for sheet in book.sheets._sheets}
    return {name: by_name[name] for name in names}
