"""The live-Excel adapter: read the input sheets of an open workbook and write the owned sheets
into it through xlwings, with the same contract as the file adapter.

Excel is slow per call, not per cell, so every input sheet is read with one bulk `.value` of its
used range, every owned sheet is written with one bulk `.value`, and number formats, column
widths, bold, wrap and alignment go per rectangular block: the calls a recompute makes depend on
the layout's tables and charts, never on how many rows they have. While the owned sheets are
written Excel does not repaint, fire events or recalculate; its settings are restored afterwards,
also when the write fails. `book` is anything with xlwings' Book/Sheet/Range/App attributes:
desktop Excel, xlwings' remote engine, or the recording stand-in the tests use.

What xlwings has no call for goes through the native object model of Windows Excel (`.api`, COM):
colour scales, chart series, print setup and frozen panes. An engine without it (Excel for macOS,
whose `.api` is AppleScript; xlwings' remote engine, which has no window) gets the values, number
formats, widths, bold, wrap and alignment, and leaves those four out, without a warning: the
numbers are what matter, and the file writer gives them to every workbook it writes. Likewise a
feature an engine lacks in xlwings itself (it raises NotImplementedError) is left out. Any other
error is raised, as in every write.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from rules_engine.contract import DATETIME_FORMAT, NUMBER_FORMATS, OWNED_MARKER
from rules_engine.logbook import log_sheet_name, read_with_log
from rules_engine.models import (
    Align,
    CellRange,
    CellValue,
    Chart,
    Inputs,
    SheetCells,
    StyleRun,
    WorkbookError,
)
from rules_engine.workbook import extent
from rules_engine.workbook.cells import RawCell, address
from rules_engine.workbook.guards import check_sheets
from rules_engine.workbook.inputs import SheetGrid, input_sheet_names
from rules_engine.workbook.sheetxml import clean_text

if TYPE_CHECKING:
    import xlwings as xw

#: Format kinds that mean Excel's General format: nothing to set.
_GENERAL = frozenset({"number"})
#: Excel's day 0: a time-only cell comes back from xlwings as a datetime on this day.
_EXCEL_DAY_ZERO = dt.date(1899, 12, 30)
#: What the application settings are while the owned sheets are written.
_QUIET = (("screen_updating", False), ("enable_events", False), ("calculation", "manual"))
#: `Sheet.visible` of a visible sheet: xlwings hands Windows' XlSheetVisibility over as it is
#: (-1 visible, 0 hidden, 2 very hidden).
_VISIBLE = (True, -1)
#: Excel's XlPageOrientation landscape, for PageSetup.Orientation.
_LANDSCAPE = 2
#: Excel's XlPlacement "move but don't size with cells": rows that grow for wrapped text below a
#: chart's top edge must not stretch it.
_MOVE_DONT_SIZE = 2
#: The colour scale's criteria, lowest to highest: (XlConditionValueTypes, value, colour as COM's
#: 0xBBGGRR): the lowest value red (F8696B), 0 white, the highest green (63BE7B), Excel's own
#: red-white-green scale centred on 0, so losses are red and gains green.
_COLOR_SCALE = ((1, None, 0x6B69F8), (0, 0, 0xFFFFFF), (2, None, 0x7BBE63))
#: An x-y chart with straight lines between its points, in xlwings' name.
_XY_LINES = "xy_scatter_lines_no_markers"
#: Points per pixel (Excel's 96 dpi): a Chart's size is in pixels, xlwings places in points.
_POINTS_PER_PIXEL = 0.75


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

_V = TypeVar("_V", bound=Hashable)
#: Sets one style on a range: bold, wrap or horizontal alignment.
_Setter = Callable[[Any, Any], None]


@dataclass(frozen=True)
class _Block:
    """A rectangle of cells, 0-based and inclusive, that gets one setting in one call."""

    top: int
    left: int
    bottom: int
    right: int

    @classmethod
    def around(cls, cells: CellRange) -> _Block:
        return cls(cells.first_row, cells.first_col, cells.last_row, cells.last_col)

    def of(self, sheet: xw.Sheet) -> xw.Range:
        return sheet.range((self.top + 1, self.left + 1), (self.bottom + 1, self.right + 1))


@dataclass(frozen=True)
class _Plan:
    """Everything one sheet's write needs, worked out before Excel is touched."""

    values: list[list[CellValue]]
    formats: list[tuple[_Block, str]]
    widths: list[tuple[_Block, float]]
    #: Row heights, one call per run of neighbouring rows of one height (every row is set, so a
    #: row that was tall last run is not tall this run).
    heights: list[tuple[_Block, float]]
    #: Per style (how it is set), the blocks that get it and the value each gets.
    styles: list[tuple[_Setter, list[tuple[_Block, Any]]]]


def write_book(book: xw.Book, sheets: Sequence[SheetCells]) -> None:
    """Replace or add the given engine-owned sheets in the open workbook.

    Refuses (WorkbookError, nothing changed) when a same-named sheet does not carry the marker.
    Each sheet is rewritten whole, as the file writer rewrites it: cleared (contents and formats:
    a stale percent format must not show next run's dollars as percentages), its conditional
    formats and charts replaced, and its print setup and frozen panes set, also to none. Adding a
    sheet makes it active in Excel, and freezing panes activates each sheet (panes belong to the
    window), so the sheet the user was on is activated again.
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
        written = []
        for (cells, found), plan in zip(targets, plans, strict=True):
            sheet = found or book.sheets.add(cells.name, after=book.sheets[-1])
            _write_sheet(sheet, cells, plan)
            written.append((sheet, cells))
        _print_setup(book.app, written)
        activated = _freeze(book, written)
        if activated or any(found is None for _, found in targets):
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


def _write_sheet(sheet: xw.Sheet, cells: SheetCells, plan: _Plan) -> None:
    """One sheet's cells, formats, widths, styles, colour scales and charts."""
    sheet.clear()
    sheet.range("A1").value = plan.values
    for block, code in plan.formats:
        block.of(sheet).number_format = code
    for block, width in plan.widths:
        block.of(sheet).column_width = width
    for block, height in plan.heights:
        block.of(sheet).row_height = height
    for setter, blocks in plan.styles:
        with suppress(NotImplementedError):  # an engine without this style leaves it out
            for block, value in blocks:
                setter(block.of(sheet), value)
    _color_scales(sheet, cells.color_scales)
    with suppress(NotImplementedError):
        _charts(sheet, cells.charts)


def _native(obj: Any, *names: str) -> Any:
    """`obj.api.<names>`, Windows Excel's COM object; None on an engine without it (the remote
    engine has no native objects; macOS's AppleScript ones have other names), or where Excel has
    none (no window)."""
    try:
        native = obj.api
        for name in names:
            native = getattr(native, name)
    except (AttributeError, NotImplementedError):
        return None
    return native


def _color_scales(sheet: xw.Sheet, areas: Sequence[CellRange]) -> None:
    """The sheet's conditional formats replaced by a colour scale on each area, through COM:
    xlwings' add_color_scale cannot mix a lowest value, a number and a highest value."""
    cells = _native(sheet, "Cells")
    if cells is None:
        return
    cells.FormatConditions.Delete()
    for area in areas:
        rules = _Block.around(area).of(sheet).api.FormatConditions
        scale = rules.AddColorScale(ColorScaleType=len(_COLOR_SCALE))
        for index, (kind, value, color) in enumerate(_COLOR_SCALE, start=1):
            criterion = scale.ColorScaleCriteria(index)
            criterion.Type = kind
            if value is not None:
                criterion.Value = value
            criterion.FormatColor.Color = color


def _charts(sheet: xw.Sheet, charts: Sequence[Chart]) -> None:
    """The engine's charts replaced. Every chart on an owned sheet is the engine's (a user's live
    on the user's sheets and are never touched, also when they read cells here), so all go.

    A chart's series can only be added through Windows Excel's object model; an engine without it
    leaves the old charts as they are: they read this sheet's cells, so they show the new numbers.
    """
    if _native(sheet, "ChartObjects") is None:
        return
    for old in list(sheet.charts):
        old.delete()
    for chart in charts:
        if chart.series:  # a chart without a line has nothing to show
            _draw(sheet, chart)


def _draw(sheet: xw.Sheet, chart: Chart) -> None:
    """One x-y chart: placed and sized by xlwings, its series added through COM (xlwings has no
    call for a series of given cells), then its type and titles set by xlwings (an x-y type needs
    its series first)."""
    row, col = chart.anchor
    drawn = sheet.charts.add(
        width=chart.width * _POINTS_PER_PIXEL,
        height=chart.height * _POINTS_PER_PIXEL,
        anchor=sheet.range((row + 1, col + 1)),
    )
    frame, plot = drawn.api
    frame.Placement = _MOVE_DONT_SIZE
    for series in chart.series:
        line = plot.SeriesCollection().NewSeries()
        line.Name = series.name
        line.XValues = _Block.around(series.x).of(sheet).api
        line.Values = _Block.around(series.y).of(sheet).api
    drawn.chart_type = _XY_LINES
    drawn.title = chart.title
    drawn.category_axis.title = chart.x_title
    drawn.value_axis.title = chart.y_title


def _print_setup(app: xw.App, sheets: Sequence[tuple[xw.Sheet, SheetCells]]) -> None:
    """Every owned sheet prints landscape, one page wide and as many tall as it takes, with its
    print titles on every page (PageSetup, COM only)."""
    setups = [(_native(sheet, "PageSetup"), cells) for sheet, cells in sheets]
    with _printer_quiet(app):
        for setup, cells in setups:
            if setup is None:
                continue
            setup.Orientation = _LANDSCAPE
            setup.Zoom = False
            setup.FitToPagesWide = 1
            setup.FitToPagesTall = False
            setup.PrintTitleRows = _title_rows(cells.print_titles)


@contextmanager
def _printer_quiet(app: xw.App) -> Iterator[None]:
    """Excel asks the printer driver about every PageSetup change, a tenth of a second or more
    each, unless PrintCommunication is off (Excel 2010 and later); restored on the way out."""
    was = _native(app, "PrintCommunication")
    if was is None:
        yield
        return
    app.api.PrintCommunication = False
    try:
        yield
    finally:
        app.api.PrintCommunication = was


def _title_rows(rows: tuple[int, int] | None) -> str:
    """0-based (first, last) rows -> PageSetup.PrintTitleRows ("$4:$4"); "" for none."""
    return "" if rows is None else f"${rows[0] + 1}:${rows[1] + 1}"


def _freeze(book: xw.Book, sheets: Sequence[tuple[xw.Sheet, SheetCells]]) -> bool:
    """Frozen panes belong to the book's window, not to a sheet: each sheet is activated in turn,
    any old split removed, and for a `freeze` the window scrolled to A1 (a split counts from the
    top-left cell shown), split and frozen. A sheet the user has hidden cannot be activated and
    keeps its panes. Returns whether sheets were activated; an engine without a window (the
    remote engine, macOS's object model) does nothing."""
    if _native(book.app, "ActiveWindow") is None:
        return False
    for sheet, cells in sheets:
        if sheet.visible not in _VISIBLE:
            continue
        sheet.activate()
        window = book.app.api.ActiveWindow
        window.Split = False
        if cells.freeze is not None and any(cells.freeze):
            window.ScrollRow = 1
            window.ScrollColumn = 1
            window.SplitRow = cells.freeze[0]
            window.SplitColumn = cells.freeze[1]
            window.FreezePanes = True
    return True


def _plan(sheet: SheetCells) -> _Plan:
    values, dates = _values(sheet)
    return _Plan(
        values,
        _blocks(_run_codes(sheet) | dates),
        _width_blocks(sheet.widths),
        _height_blocks(sheet),
        _style_blocks(sheet.styles),
    )


def _values(sheet: SheetCells) -> tuple[list[list[CellValue]], dict[tuple[int, int], str]]:
    """The rows padded into one rectangle of values as Excel must receive them, and the format
    code of every date cell (the file writer gives each one). Floats and text, nearly every cell
    of a big sheet, take a fast path; text repeats, so each is converted once."""
    width = max((len(row) for row in sheet.rows), default=0)
    date_code, datetime_code = NUMBER_FORMATS["date"][1], DATETIME_FORMAT[1]
    texts: dict[str, CellValue] = {}
    dates: dict[tuple[int, int], str] = {}
    values: list[list[CellValue]] = []
    for r, row in enumerate(sheet.rows):
        out: list[CellValue] = []
        for c, value in enumerate(row):
            if type(value) is float:
                out.append(value if math.isfinite(value) else None)
            elif type(value) is str:
                text = texts.get(value)
                if text is None:
                    text = texts[value] = _excel_value(value)
                out.append(text)
            else:
                if isinstance(value, dt.date):
                    dates[(r, c)] = datetime_code if isinstance(value, dt.datetime) else date_code
                out.append(_excel_value(value))
        out.extend([None] * (width - len(row)))
        values.append(out)
    return values, dates


def _excel_value(value: CellValue) -> CellValue:
    """A value as Excel's `Range.Value` must receive it to store exactly that value.

    Excel parses text as if it were typed ("=1+1" becomes a formula, "1.0" a number, "TRUE" a
    boolean, "2018-01-26" a date); a leading apostrophe makes it keep any text as text and is not
    part of the value read back. Text is cleaned the way the file writer cleans it. Booleans go
    as booleans: Excel shows TRUE and FALSE.
    """
    if isinstance(value, str):
        return "'" + clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _run_codes(sheet: SheetCells) -> dict[tuple[int, int], str]:
    """The format code of every cell the runs format (a later run wins where two overlap,
    General too: General cells get none)."""
    return {
        cell: NUMBER_FORMATS[kind][1]
        for cell, kind in sheet.cell_formats().items()
        if kind not in _GENERAL
    }


def _set_bold(cells: xw.Range, on: bool) -> None:
    cells.font.bold = on


def _set_wrap(cells: xw.Range, on: bool) -> None:
    cells.wrap_text = on


def _set_align(cells: xw.Range, how: Align) -> None:
    cells.horizontal_alignment = how


def _set_top(cells: xw.Range, on: bool) -> None:
    cells.vertical_alignment = "top"


def _style_blocks(runs: Sequence[StyleRun]) -> list[tuple[_Setter, list[tuple[_Block, Any]]]]:
    """Bold, wrap, alignment and top alignment as rectangles, one call each. A later run adds to
    an earlier one (it never unsets bold, wrap or top) and its alignment wins where two overlap."""
    bold: dict[tuple[int, int], bool] = {}
    wrap: dict[tuple[int, int], bool] = {}
    top: dict[tuple[int, int], bool] = {}
    align: dict[tuple[int, int], Align] = {}
    for run in runs:
        area = run.cells
        cells = [
            (r, c)
            for r in range(area.first_row, area.last_row + 1)
            for c in range(area.first_col, area.last_col + 1)
        ]
        if run.bold:
            bold.update(dict.fromkeys(cells, True))
        if run.wrap:
            wrap.update(dict.fromkeys(cells, True))
        if run.align is not None:
            align.update(dict.fromkeys(cells, run.align))
        if run.top:
            top.update(dict.fromkeys(cells, True))
    return [
        (_set_bold, _blocks(bold)),
        (_set_wrap, _blocks(wrap)),
        (_set_align, _blocks(align)),
        (_set_top, _blocks(top)),
    ]


def _blocks(settings: Mapping[tuple[int, int], _V]) -> list[tuple[_Block, _V]]:
    """Cells with the same setting grouped into rectangles: runs down each column, then
    neighbouring columns whose runs cover the same rows."""
    rows_of: dict[tuple[int, _V], list[int]] = {}
    for (r, c), value in settings.items():
        rows_of.setdefault((c, value), []).append(r)
    columns_of: dict[tuple[int, int, _V], list[int]] = {}
    for c, value in sorted(rows_of, key=_column):
        for top, bottom in _spans(sorted(rows_of[(c, value)])):
            columns_of.setdefault((top, bottom, value), []).append(c)
    return [
        (_Block(top, left, bottom, right), value)
        for (top, bottom, value), columns in columns_of.items()
        for left, right in _spans(columns)
    ]


def _column(key: tuple[int, object]) -> int:
    return key[0]


def _spans(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted distinct indices -> (first, last) of each run of consecutive ones."""
    if indices and indices[-1] - indices[0] == len(indices) - 1:
        return [(indices[0], indices[-1])]  # one run: the usual case, a table's column
    spans: list[tuple[int, int]] = []
    for i in indices:
        if spans and spans[-1][1] == i - 1:
            spans[-1] = (spans[-1][0], i)
        else:
            spans.append((i, i))
    return spans


#: Excel's default row height, points (11-point text).
STANDARD_ROW_HEIGHT = 15.0


def _height_blocks(sheet: SheetCells) -> list[tuple[_Block, float]]:
    """The sheet's rows in runs of one height: the heights the layout gives, else standard."""
    out: list[tuple[_Block, float]] = []
    for r in range(len(sheet.rows)):
        height = float(sheet.heights.get(r, STANDARD_ROW_HEIGHT))
        if out and out[-1][1] == height and out[-1][0].bottom == r - 1:
            out[-1] = (_Block(out[-1][0].top, 0, r, 0), height)
        else:
            out.append((_Block(r, 0, r, 0), height))
    return out


def _width_blocks(widths: Mapping[int, float]) -> list[tuple[_Block, float]]:
    """One call per column: widths follow the values, so setting equal neighbours together would
    make the number of calls depend on the data rather than on the layout."""
    return [(_Block(0, col, 0, col), float(widths[col])) for col in sorted(widths)]
