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
  that hold a value or a format (A1 on an empty sheet); `clear()` drops values and cell formats
  (number formats, bold, wrap, alignment), `clear_contents()` only values; neither touches charts,
  page setup, panes or conditional formats, so a writer that owns those must replace them itself;
- presentation through xlwings: `range.font.bold`, `range.wrap_text`, `range.horizontal_alignment`
  and `sheet.charts` (`add` with xlwings' arguments, iteration, and per chart `chart_type`, `title`,
  `category_axis.title`, `value_axis.title`, `delete()`), as desktop Excel on Windows has them;
- `.api`, the native COM objects of Windows Excel (`Com`): the members the adapter uses and no
  others (any other name raises AttributeError, as pywin32 does), each property read, assignment
  and method call recorded as one call. They keep state with Excel's meaning: the active window's
  panes (per sheet: `Sheet.frozen()`), `PageSetup`, colour-scale conditional formats and chart
  series.

Every recorded call names the sheet it touches (`Call.sheet`), so a test can show that a sheet was
never called. Reading a style or a chart, which the adapter never needs, raises AssertionError:
NotImplementedError is what xlwings raises for a feature an engine lacks, and the adapter skips
those. `Book.load(path)` fills it from a real .xlsx through openpyxl (read-only use, cached
values), an independent reader from the calamine-based file adapter. `recorder.seconds` is the time
spent inside the stand-in, so a benchmark can subtract "Excel's own time".
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
from xlwings.base_classes import CHART_TYPES, HORIZONTAL_ALIGNMENTS, VERTICAL_ALIGNMENTS

P = ParamSpec("P")
R = TypeVar("R")

EXCEL_DAY_ZERO = dt.datetime(1899, 12, 30)
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*%?\s*$")
_CALC_MODES = ("automatic", "manual", "semiautomatic")
#: Excel's XlPageOrientation, and XlSheetVisibility.
PORTRAIT, LANDSCAPE = 1, 2
VISIBLE, HIDDEN, VERY_HIDDEN = -1, 0, 2
#: Excel's XlConditionValueTypes that a colour scale's criteria take.
_CRITERION_TYPES = range(0, 6)
#: Excel's XlPlacement: move and size with cells, move only, free floating.
_PLACEMENTS = (1, 2, 3)
_PRINT_TITLE_ROWS = re.compile(r"^(\$\d+:\$\d+)?$")
_LAST_ROW, _LAST_COLUMN = 1_048_575, 16_383


class Formula(str):
    """Text Excel would have turned into a formula (the adapter must never cause one)."""


class StandinFailure(RuntimeError):
    """Raised by the stand-in when told to fail at an operation (to test clean-up paths)."""


@dataclass(frozen=True)
class Call:
    """One call into the stand-in: which object, what operation, a detail (address, value), and
    the sheet it touches (None for the application and the book)."""

    target: str
    op: str
    detail: Any = None
    sheet: str | None = None


@dataclass
class Recorder:
    """The log shared by every object of one stand-in book."""

    calls: list[Call] = field(default_factory=list)
    seconds: float = 0.0
    #: An op, or a test of the call, at which the stand-in raises StandinFailure (after logging).
    fail_on: str | Callable[[Call], bool] | None = None

    def record(self, target: str, op: str, detail: Any = None, sheet: str | None = None) -> None:
        call = Call(target, op, detail, sheet)
        self.calls.append(call)
        if op == self.fail_on or (callable(self.fail_on) and self.fail_on(call)):
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
    """Excel's application settings, the alerts shown, and the open books (whose active one owns
    the active window)."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._settings: dict[str, Any] = {
            "screen_updating": True,
            "enable_events": True,
            "calculation": "automatic",
        }
        self.alerts: list[dict[str, Any]] = []
        self.books: list[Book] = []
        self.native: dict[str, Any] = {"PrintCommunication": True}

    @property
    def api(self) -> ComApp:
        return ComApp(self)

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
        self.app.books.append(self)
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
        self.heights: dict[int, float] = {}
        self.touched: set[tuple[int, int]] = set()
        self.bold: set[tuple[int, int]] = set()
        self.wrap: set[tuple[int, int]] = set()
        self.align: dict[tuple[int, int], str] = {}
        self.valign: dict[tuple[int, int], str] = {}
        self.chart_list: list[Chart] = []
        self.charts_made = 0
        self.visibility = VISIBLE
        self.color_scales: list[ColorScale] = []
        #: Excel's defaults for a new sheet: portrait, 100%, no print titles.
        self.page_setup: dict[str, Any] = {
            "Orientation": PORTRAIT,
            "Zoom": 100,
            "FitToPagesWide": 1,
            "FitToPagesTall": 1,
            "PrintTitleRows": "",
        }
        #: The sheet's view in the book's window: top-left cell shown (1-based), the split (rows,
        #: columns) and the top-left cell it was made from, and whether the panes are frozen.
        self.panes: dict[str, Any] = {
            "scroll": (1, 1),
            "split": (0, 0),
            "split_from": (1, 1),
            "frozen": False,
        }

    def __repr__(self) -> str:
        return f"<Sheet {self.name}>"

    def _record(self, op: str, detail: Any = None) -> None:
        self._recorder.record(f"Sheet {self.name}", op, detail, self.name)

    @property
    def api(self) -> ComSheet:
        return ComSheet(self)

    @property
    def charts(self) -> Charts:
        return Charts(self)

    def frozen(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """The frozen panes as ((first row, first column) they start from, 1-based; (rows,
        columns) kept in view), or None when nothing is frozen."""
        if not self.panes["frozen"]:
            return None
        return self.panes["split_from"], self.panes["split"]

    def range(self, cell1: str | tuple[int, int], cell2: tuple[int, int] | None = None) -> Range:
        self._record("range")
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
        self._record("used_range")
        used = set(self.cells) | set(self.formats) | self.touched | self.bold | self.wrap
        used |= set(self.align)
        if not used:
            return Range(self, 0, 0, 0, 0)
        rows = [r for r, _ in used]
        cols = [c for _, c in used]
        return Range(self, min(rows), min(cols), max(rows), max(cols))

    def clear(self) -> None:
        self._record("clear")
        for held in (self.cells, self.formats, self.touched, self.bold, self.wrap, self.align,
                     self.valign):  # fmt: skip
            held.clear()

    def clear_contents(self) -> None:
        self._record("clear_contents")
        self.cells.clear()

    @property
    def visible(self) -> int:
        """Windows' XlSheetVisibility, as xlwings hands it over: -1 visible, 0 hidden, 2 very
        hidden."""
        self._record("get_visible")
        return self.visibility

    def activate(self) -> None:
        self._record("activate")
        if self.visibility != VISIBLE:
            raise StandinFailure(f"Activate method of Worksheet class failed ({self.name} hidden)")
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

    def _record(self, op: str, detail: Any) -> None:
        self._recorder.record("Range", op, detail, self.sheet.name)

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
        self._record("get_value", self._where())
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
        self._record("set_value", self._where())
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
        self._record("set_number_format", (self._where(), code))
        for cell in self._cells():
            self.sheet.formats[cell] = code

    @property
    def column_width(self) -> float:
        raise NotImplementedError("the adapter has no reason to read widths")

    @column_width.setter
    @_timed
    def column_width(self, width: float) -> None:
        self._record("set_column_width", (self._where(), width))
        if not 0 <= width <= 255:
            raise ValueError(f"column width {width} outside 0-255")
        for c in range(self.left, self.right + 1):
            self.sheet.widths[c] = float(width)

    @property
    def row_height(self) -> float:
        raise NotImplementedError("the adapter has no reason to read heights")

    @row_height.setter
    @_timed
    def row_height(self, height: float) -> None:
        self._record("set_row_height", (self._where(), height))
        if not 0 <= height <= 409:
            raise ValueError(f"row height {height} outside 0-409")
        for r in range(self.top, self.bottom + 1):
            self.sheet.heights[r] = float(height)

    def clear_contents(self) -> None:
        self._record("clear_contents", self._where())
        for cell in self._cells():
            self.sheet.cells.pop(cell, None)

    @property
    def api(self) -> ComRange:
        return ComRange(self)

    @property
    def font(self) -> Font:
        return Font(self)

    @property
    def wrap_text(self) -> bool:
        raise AssertionError("the adapter has no reason to read styles")

    @wrap_text.setter
    def wrap_text(self, value: bool) -> None:
        self._record("set_wrap_text", (self._where(), value))
        self._mark(self.sheet.wrap, value)

    @property
    def horizontal_alignment(self) -> str:
        raise AssertionError("the adapter has no reason to read styles")

    @horizontal_alignment.setter
    def horizontal_alignment(self, value: str) -> None:
        self._record("set_horizontal_alignment", (self._where(), value))
        if value not in HORIZONTAL_ALIGNMENTS:
            raise ValueError(f"invalid horizontal alignment {value!r}")
        for cell in self._cells():
            if value == "general":
                self.sheet.align.pop(cell, None)
            else:
                self.sheet.align[cell] = value

    @property
    def vertical_alignment(self) -> str:
        raise AssertionError("the adapter has no reason to read styles")

    @vertical_alignment.setter
    def vertical_alignment(self, value: str) -> None:
        self._record("set_vertical_alignment", (self._where(), value))
        if value not in VERTICAL_ALIGNMENTS:
            raise ValueError(f"invalid vertical alignment {value!r}")
        for cell in self._cells():
            self.sheet.valign[cell] = value

    def points(self) -> tuple[float, float]:
        """(left, top) of the top-left cell in points, without recording a call: 7 pixels a
        character of column width plus 5 (8.43 characters when no width is set), 0.75 points a
        pixel, rows of Excel's default 15 points."""
        widths = self.sheet.widths
        left = sum((7 * widths.get(c, 8.43) + 5) * 0.75 for c in range(self.left))
        return left, 15.0 * self.top

    def _mark(self, cells: set[tuple[int, int]], on: bool) -> None:
        for cell in self._cells():
            if on:
                cells.add(cell)
            else:
                cells.discard(cell)


class Font:
    """A range's font: only bold, which is all the adapter sets."""

    def __init__(self, rng: Range) -> None:
        self._range = rng

    @property
    def bold(self) -> bool:
        raise AssertionError("the adapter has no reason to read styles")

    @bold.setter
    def bold(self, value: bool) -> None:
        self._range._record("set_bold", (self._range._where(), value))
        self._range._mark(self._range.sheet.bold, value)


def sheets_in(book: Book, names: Sequence[str]) -> dict[str, Sheet]:
    """The named sheets of a stand-in book, for assertions (no call recorded)."""
    by_name = {sheet.name: sheet for sheet in book.sheets._sheets}
    return {name: by_name[name] for name in names}


# --- charts, as xlwings has them ------------------------------------------------------------------


class Charts:
    """`sheet.charts`: iterating lists the sheet's charts; `add` takes xlwings' arguments."""

    def __init__(self, sheet: Sheet) -> None:
        self._sheet = sheet

    def __iter__(self) -> Iterator[Chart]:
        self._sheet._record("charts")
        return iter(list(self._sheet.chart_list))

    def __len__(self) -> int:
        return len(self._sheet.chart_list)

    def add(
        self,
        left: float = 0,
        top: float = 0,
        width: float = 355,
        height: float = 211,
        chart_type: str | None = None,
        source: Range | None = None,
        plot_by: str | None = None,
        name: str | None = None,
        anchor: Range | None = None,
        style: int | None = 227,
    ) -> Chart:
        sheet = self._sheet
        if anchor is not None and (top or left):
            raise ValueError("You must either provide 'anchor' or 'top'/'left', but not both.")
        if source is not None or plot_by is not None:
            raise AssertionError("the stand-in's charts get their series through .api")
        sheet._record("add_chart", (left, top, width, height, chart_type, name, style))
        if anchor is not None:  # xlwings reads the anchor's position: two calls into Excel
            anchor._record("get_top", anchor._where())
            anchor._record("get_left", anchor._where())
            left, top = anchor.points()
        sheet.charts_made += 1
        chart = Chart(sheet, name or f"Chart {sheet.charts_made}", (left, top, width, height))
        sheet.chart_list.append(chart)
        if chart_type is not None:
            chart.chart_type = chart_type
        return chart


class Chart:
    """One embedded chart: its place and size in points, and what was set on it (`state`)."""

    def __init__(self, sheet: Sheet, name: str, box: tuple[float, float, float, float]) -> None:
        self.sheet = sheet
        self.name = name
        self.box = box
        self.state: dict[str, Any] = {
            "chart_type": None,
            "title": None,
            "category_axis": None,
            "value_axis": None,
            "Placement": 1,
            "series": [],
        }

    def __repr__(self) -> str:
        return f"<Chart {self.name!r} in {self.sheet.name}>"

    def _record(self, op: str, detail: Any = None) -> None:
        self.sheet._recorder.record(
            f"Chart {self.sheet.name}!{self.name}", op, detail, self.sheet.name
        )

    @property
    def api(self) -> tuple[ComChartObject, ComChart]:
        """Windows: (the ChartObject, its Chart)."""
        return ComChartObject(self), ComChart(self)

    @property
    def chart_type(self) -> str:
        raise AssertionError("the adapter has no reason to read charts")

    @chart_type.setter
    def chart_type(self, value: str) -> None:
        self._record("set_chart_type", value)
        if value not in CHART_TYPES:
            raise ValueError(f"invalid chart type {value!r}")
        if value.startswith("xy_") and not self.state["series"]:
            raise ValueError("Excel cannot make an x-y chart without series")  # xlwings: data first
        self.state["chart_type"] = value

    @property
    def title(self) -> str | None:
        raise AssertionError("the adapter has no reason to read charts")

    @title.setter
    def title(self, value: str | None) -> None:
        self._record("set_title", value)
        self.state["title"] = value

    @property
    def category_axis(self) -> ChartAxis:
        return ChartAxis(self, "category_axis")

    @property
    def value_axis(self) -> ChartAxis:
        return ChartAxis(self, "value_axis")

    def delete(self) -> None:
        self._record("delete")
        self.sheet.chart_list.remove(self)


class ChartAxis:
    """A chart's primary category (x) or value (y) axis: its title."""

    def __init__(self, chart: Chart, which: str) -> None:
        self._chart = chart
        self._which = which

    @property
    def title(self) -> str | None:
        raise AssertionError("the adapter has no reason to read charts")

    @title.setter
    def title(self, value: str | None) -> None:
        self._chart._record(f"set_{self._which}_title", value)
        self._chart.state[self._which] = value


# --- the native COM objects of Windows Excel ------------------------------------------------------


class Com:
    """A native object of Windows Excel as pywin32 hands it over (xlwings' `.api`).

    Properties that can be read and assigned are named in `_properties` and kept in `_state`;
    object members are Python properties and methods are methods. Each read, assignment and call
    is recorded as the one call into Excel it is: op `com_get`, `com_set` or `com_call`, detail
    (member,), (member, value) or (method, args, kwargs). Any other name raises AttributeError, as
    pywin32 does for a member Excel does not have.
    """

    _properties: frozenset[str] = frozenset()

    def __init__(self, recorder: Recorder, path: str, sheet: str | None, state: dict[str, Any]):
        object.__setattr__(self, "_recorder", recorder)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_sheet", sheet)
        object.__setattr__(self, "_state", state)

    def __repr__(self) -> str:
        return f"<COM {self._path}>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._properties:
            raise AttributeError(f"<unknown>.{name}")
        self._record("get", (name,))
        return self._state.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._properties:
            raise AttributeError(f"Property '{self._path}.{name}' can not be set.")
        self._record("set", (name, value))
        self._assign(name, value)

    def _assign(self, name: str, value: Any) -> None:
        """Keep an assigned value; subclasses check it and give it Excel's meaning."""
        self._state[name] = value

    def _record(self, op: str, detail: Any) -> None:
        self._recorder.record(self._path, f"com_{op}", detail, self._sheet)


class ComApp(Com):
    """Excel.Application: PrintCommunication and the active window."""

    _properties = frozenset({"PrintCommunication"})

    def __init__(self, app: App) -> None:
        super().__init__(app._recorder, "Application", None, app.native)
        object.__setattr__(self, "_app", app)

    def _assign(self, name: str, value: Any) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"{name} takes a boolean, not {value!r}")
        super()._assign(name, value)

    @property
    def ActiveWindow(self) -> ComWindow | None:
        """The active book's window (None, as Excel's Nothing, with no book open)."""
        self._record("get", ("ActiveWindow",))
        return ComWindow(self._app.books[-1]) if self._app.books else None


class ComWindow(Com):
    """A book's window: its panes belong to the sheet active when each is set."""

    _properties = frozenset(
        {"Split", "ScrollRow", "ScrollColumn", "SplitRow", "SplitColumn", "FreezePanes"}
    )

    def __init__(self, book: Book) -> None:
        super().__init__(book.recorder, "ActiveWindow", None, {})
        object.__setattr__(self, "_book", book)

    def _record(self, op: str, detail: Any) -> None:
        self._recorder.record(self._path, f"com_{op}", detail, self._active().name)

    def _active(self) -> Sheet:
        sheets = self._book.sheets
        return sheets._sheets[sheets._active]

    def _assign(self, name: str, value: Any) -> None:
        panes = self._active().panes
        if name in ("Split", "FreezePanes"):
            if not isinstance(value, bool):
                raise TypeError(f"{name} takes a boolean, not {value!r}")
            if name == "Split" and value:
                raise AssertionError("the stand-in splits only by SplitRow/SplitColumn")
            if name == "Split":
                panes.update(split=(0, 0), frozen=False)
            elif value and panes["split"] == (0, 0):
                raise AssertionError("the stand-in freezes only at a split")
            else:
                panes["frozen"] = value
            return
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise TypeError(f"{name} takes a row or column number, not {value!r}")
        rows, cols = panes["split"]
        if name == "ScrollRow":
            panes["scroll"] = (value, panes["scroll"][1])
        elif name == "ScrollColumn":
            panes["scroll"] = (panes["scroll"][0], value)
        else:  # a split counts from the top-left cell shown now
            panes["split"] = (value, cols) if name == "SplitRow" else (rows, value)
            panes["split_from"] = panes["scroll"]


class ComSheet(Com):
    """A Worksheet: its PageSetup, its Cells and (for charts) ChartObjects."""

    def __init__(self, sheet: Sheet) -> None:
        super().__init__(sheet._recorder, sheet.name, sheet.name, {})
        object.__setattr__(self, "_of", sheet)

    @property
    def PageSetup(self) -> ComPageSetup:
        self._record("get", ("PageSetup",))
        return ComPageSetup(self._of)

    @property
    def Cells(self) -> ComRange:
        self._record("get", ("Cells",))
        return ComRange(Range(self._of, 0, 0, _LAST_ROW, _LAST_COLUMN))

    def ChartObjects(self) -> None:
        self._record("call", ("ChartObjects", (), {}))
        raise AssertionError("the stand-in's charts are xlwings' sheet.charts")


class ComPageSetup(Com):
    """A sheet's PageSetup: values checked as Excel checks them."""

    _properties = frozenset(
        {"Orientation", "Zoom", "FitToPagesWide", "FitToPagesTall", "PrintTitleRows"}
    )

    def __init__(self, sheet: Sheet) -> None:
        super().__init__(sheet._recorder, f"{sheet.name}.PageSetup", sheet.name, sheet.page_setup)

    def _assign(self, name: str, value: Any) -> None:
        number = isinstance(value, int) and not isinstance(value, bool)
        if name == "Orientation":
            ok = value in (PORTRAIT, LANDSCAPE)
        elif name == "Zoom":
            ok = value is False or (number and 10 <= value <= 400)
        elif name == "PrintTitleRows":
            ok = isinstance(value, str) and bool(_PRINT_TITLE_ROWS.match(value))
        else:
            ok = value is False or (number and value >= 1)
        if not ok:
            raise ValueError(f"PageSetup.{name} cannot be {value!r}")
        super()._assign(name, value)


class ComRange(Com):
    """A Range: its FormatConditions. Assigned to a chart series, it stands for its cells."""

    def __init__(self, rng: Range) -> None:
        super().__init__(rng._recorder, rng._where(), rng.sheet.name, {})
        object.__setattr__(self, "_range", rng)

    @property
    def FormatConditions(self) -> ComFormatConditions:
        self._record("get", ("FormatConditions",))
        return ComFormatConditions(self._range)


@dataclass
class ColorScale:
    """A colour-scale rule: the cells it applies to and its criteria (Type, Value, Color)."""

    area: tuple[int, int, int, int]
    address: str
    criteria: list[dict[str, Any]]


#: A new rule's criteria, as Excel makes them (XlConditionValueTypes; colours BGR).
_NEW_SCALE = {
    2: [
        {"Type": 1, "Value": None, "Color": 0x6B69F8},
        {"Type": 2, "Value": None, "Color": 0x7BBE63},
    ],
    3: [
        {"Type": 1, "Value": None, "Color": 0x6B69F8},
        {"Type": 5, "Value": 50, "Color": 0x84EBFF},
        {"Type": 2, "Value": None, "Color": 0x7BBE63},
    ],
}


class ComFormatConditions(Com):
    """A range's conditional formats: Delete() drops the rules on its cells; AddColorScale."""

    def __init__(self, rng: Range) -> None:
        super().__init__(rng._recorder, f"{rng._where()}.FormatConditions", rng.sheet.name, {})
        object.__setattr__(self, "_range", rng)

    def Delete(self) -> None:
        self._record("call", ("Delete", (), {}))
        rng = self._range
        rng.sheet.color_scales = [
            rule
            for rule in rng.sheet.color_scales
            if not _overlap(rule.area, (rng.top, rng.left, rng.bottom, rng.right))
        ]

    def AddColorScale(self, ColorScaleType: int) -> ComColorScale:
        self._record("call", ("AddColorScale", (), {"ColorScaleType": ColorScaleType}))
        if ColorScaleType not in _NEW_SCALE:
            raise ValueError(f"ColorScaleType must be 2 or 3, not {ColorScaleType!r}")
        rng = self._range
        rule = ColorScale(
            (rng.top, rng.left, rng.bottom, rng.right),
            rng._where(),
            [dict(criterion) for criterion in _NEW_SCALE[ColorScaleType]],
        )
        rng.sheet.color_scales.append(rule)
        return ComColorScale(rng, rule)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


class ComColorScale(Com):
    """A colour-scale rule: ColorScaleCriteria(i), 1-based."""

    def __init__(self, rng: Range, rule: ColorScale) -> None:
        super().__init__(rng._recorder, f"{rng._where()}.ColorScale", rng.sheet.name, {})
        object.__setattr__(self, "_rule", rule)

    def ColorScaleCriteria(self, index: int) -> ComCriterion:
        self._record("call", ("ColorScaleCriteria", (index,), {}))
        if not 1 <= index <= len(self._rule.criteria):
            raise IndexError(index)
        return ComCriterion(self, self._rule.criteria[index - 1], index)


class ComCriterion(Com):
    """One criterion of a colour scale: Type, Value and FormatColor.Color."""

    _properties = frozenset({"Type", "Value"})

    def __init__(self, scale: ComColorScale, state: dict[str, Any], index: int) -> None:
        super().__init__(scale._recorder, f"{scale._path}({index})", scale._sheet, state)

    def _assign(self, name: str, value: Any) -> None:
        if name == "Type" and value not in _CRITERION_TYPES:
            raise ValueError(f"no XlConditionValueTypes {value!r}")
        super()._assign(name, value)

    @property
    def FormatColor(self) -> ComColor:
        self._record("get", ("FormatColor",))
        return ComColor(self)


class ComColor(Com):
    """A criterion's FormatColor: Color, an integer 0xBBGGRR."""

    _properties = frozenset({"Color"})

    def __init__(self, criterion: ComCriterion) -> None:
        super().__init__(
            criterion._recorder,
            f"{criterion._path}.FormatColor",
            criterion._sheet,
            criterion._state,
        )

    def _assign(self, name: str, value: Any) -> None:
        if not isinstance(value, int) or not 0 <= value <= 0xFFFFFF:
            raise ValueError(f"Color takes an integer 0xBBGGRR, not {value!r}")
        super()._assign(name, value)


class ComChartObject(Com):
    """The frame of an embedded chart: its Placement."""

    _properties = frozenset({"Placement"})

    def __init__(self, chart: Chart) -> None:
        path = f"{chart.sheet.name}!{chart.name}.ChartObject"
        super().__init__(chart.sheet._recorder, path, chart.sheet.name, chart.state)

    def _assign(self, name: str, value: Any) -> None:
        if value not in _PLACEMENTS:
            raise ValueError(f"no XlPlacement {value!r}")
        super()._assign(name, value)


class ComChart(Com):
    """A Chart: SeriesCollection().NewSeries()."""

    def __init__(self, chart: Chart) -> None:
        super().__init__(
            chart.sheet._recorder, f"{chart.sheet.name}!{chart.name}", chart.sheet.name, {}
        )
        object.__setattr__(self, "_chart", chart)

    def SeriesCollection(self) -> ComSeriesCollection:
        self._record("call", ("SeriesCollection", (), {}))
        return ComSeriesCollection(self)


class ComSeriesCollection(Com):
    """A chart's series: NewSeries() adds an empty one."""

    def __init__(self, chart: ComChart) -> None:
        super().__init__(chart._recorder, f"{chart._path}.SeriesCollection", chart._sheet, {})
        object.__setattr__(self, "_chart", chart._chart)

    def NewSeries(self) -> ComSeries:
        self._record("call", ("NewSeries", (), {}))
        series: dict[str, Any] = {"Name": None, "XValues": None, "Values": None}
        self._chart.state["series"].append(series)
        return ComSeries(self, series, len(self._chart.state["series"]))


class ComSeries(Com):
    """One series: Name (text) and XValues, Values (a Range; kept as its address)."""

    _properties = frozenset({"Name", "XValues", "Values"})

    def __init__(self, owner: ComSeriesCollection, state: dict[str, Any], index: int) -> None:
        super().__init__(owner._recorder, f"{owner._path}({index})", owner._sheet, state)

    def _assign(self, name: str, value: Any) -> None:
        if name == "Name":
            if not isinstance(value, str):
                raise TypeError(f"Name takes text, not {value!r}")
            super()._assign(name, value)
            return
        if not isinstance(value, ComRange):
            raise TypeError(f"{name} takes a Range here, not {value!r}")
        super()._assign(name, value._path)
