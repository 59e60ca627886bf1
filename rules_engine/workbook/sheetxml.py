"""Render one engine-owned sheet as SpreadsheetML worksheet XML.

Text goes in inline strings so sharedStrings.xml never has to be edited, and never as a formula:
a cell that reads "=1+1" stays text, and is styled quote-prefixed so that Excel also keeps it
text when the user edits the cell. Dates become serial numbers in the workbook's date system.
Around the cells go the sheet's presentation: frozen panes, column widths, colour scales, the
print setup every owned sheet shares (landscape, one page wide) and the drawing that holds its
charts. The output is plain string building (fast, predictable), its elements in the order the
schema (CT_Worksheet) requires.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, SupportsFloat
from xml.sax.saxutils import quoteattr

import numpy as np

from rules_engine.contract import (
    DATETIME_FORMAT,
    MAX_ROW_HEIGHT,
    NUMBER_FORMATS,
    column_letter,
    looks_like_formula,
)
from rules_engine.models import (
    Align,
    CellRange,
    CellValue,
    FormatRun,
    SheetCells,
    StyleRun,
    WorkbookError,
)

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

#: Format kinds that mean "General" (no number format needed).
GENERAL_KINDS = frozenset({"number"})
#: Every owned sheet prints landscape, one page wide and as many tall as it takes, on Excel's
#: "Narrow" margins (inches) so that wide tables keep a readable scale.
_PAGE_SETUP = (
    '<pageMargins left="0.25" right="0.25" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
    '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
)
_FIT_TO_PAGE = '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
#: The colour scale of `SheetCells.color_scales`: the lowest value red, 0 white, the highest green.
_COLOR_SCALE = (
    '<colorScale><cfvo type="min"/><cfvo type="num" val="0"/><cfvo type="max"/>'
    '<color rgb="FFF8696B"/><color rgb="FFFFFFFF"/><color rgb="FF63BE7B"/></colorScale>'
)

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_TEXT = 32_767
MAX_WIDTH = 255.0
#: Integers beyond 2**53 lose digits as doubles: they are written as the nearest double.
_MAX_EXACT = 2**53

_ILLEGAL_CHAR = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
_ILLEGAL_XML = re.compile(_ILLEGAL_CHAR)
_LEADING_ILLEGAL = re.compile(_ILLEGAL_CHAR + "+")
_ESCAPE_LOOKALIKE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")
_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_EPOCH_1900 = dt.date(1899, 12, 30)
_EPOCH_1904 = dt.date(1904, 1, 1)
_FAKE_LEAP_DAY_AFTER = dt.date(1900, 3, 1)
_FIRST_1900_DATE = dt.date(1900, 1, 1)


def clean_text(text: str) -> str:
    """What a cell will hold: XML-illegal characters dropped, capped at Excel's 32,767 units."""
    text = _ILLEGAL_XML.sub("", text)
    utf16 = text.encode("utf-16-le", errors="surrogatepass")
    if len(utf16) > 2 * MAX_TEXT:
        text = utf16[: 2 * MAX_TEXT].decode("utf-16-le", errors="ignore")
    return text


def excel_serial(value: dt.date, date1904: bool) -> float:
    """Excel's day number for a date or datetime (1900 system keeps Excel's fake 1900-02-29)."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if date1904:
        if day < _EPOCH_1904:
            raise ValueError(f"{day} is before 1904-01-01, the first date of this workbook")
        serial = (day - _EPOCH_1904).days
    else:
        if day < _FIRST_1900_DATE:
            raise ValueError(f"{day} is before 1900-01-01, the first date Excel can store")
        serial = (day - _EPOCH_1900).days - (day < _FAKE_LEAP_DAY_AFTER)
    if not isinstance(value, dt.datetime):
        return float(serial)
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    return serial + seconds / 86400


class CellStyle(NamedTuple):
    """What a cell's xf must provide: its number format (a built-in `format_id`, 0 for General,
    or a custom `format_code` the workbook declares), quotePrefix for text that looks like a
    formula (Excel then keeps it text even when the user edits the cell), a bold font, wrapped
    text, a horizontal alignment and top vertical alignment."""

    format_id: int = 0
    quote_prefix: bool = False
    format_code: str = ""
    bold: bool = False
    wrap: bool = False
    align: Align | None = None
    top: bool = False


#: The style of a cell that needs none: the workbook's default xf.
_PLAIN = CellStyle()


def _number_style(kind: str) -> CellStyle:
    """The style of a cell showing a number format kind (contract.NUMBER_FORMATS, or 'number')."""
    if kind in GENERAL_KINDS:
        return _PLAIN
    builtin, code = NUMBER_FORMATS[kind]
    return CellStyle(builtin) if builtin is not None else CellStyle(format_code=code)


def quote_prefixed(text: str) -> bool:
    """Whether the text a cell will hold (see `clean_text`) must be marked quote-prefixed."""
    if not text or "@" < text[0] < "\ud800":  # a legal first character that starts no formula
        return False
    leading = _LEADING_ILLEGAL.match(text)
    return looks_like_formula(text[leading.end() :] if leading else text)


class _Styles:
    """The style attribute of each cell, worked out as the sheet renders: number formats from
    `formats`, bold, wrap and alignment from `styles`, a date format for date cells, quotePrefix
    for formula-like text. Each style's xf index is asked for once, when a cell first needs it,
    so only xfs in use are ever added."""

    def __init__(self, sheet: SheetCells, xf_index: Callable[[CellStyle], int], width: int) -> None:
        self._xf_index = xf_index
        self._attrs: dict[CellStyle | None, str] = {None: ""}
        self._dates: dict[tuple[CellStyle | None, CellStyle], str] = {}
        by_kind = {kind: _number_style(kind) for kind in {run.kind for run in sheet.formats}}
        self.by_row = _rows_of(sheet.formats, by_kind, sheet.styles, len(sheet.rows), width)

    def attr(self, style: CellStyle | None) -> str:
        """` s="N"` for the style (empty for none, or for the workbook's default xf 0)."""
        text = self._attrs.get(style)
        if text is None:
            assert style is not None
            index = self._xf_index(style)
            text = self._attrs[style] = f' s="{index}"' if index else ""
        return text

    def date_attr(self, style: CellStyle | None, number: CellStyle) -> str:
        """The style attribute of a date cell: the date format `number` in place of the cell's
        own number format, keeping its bold, wrap and alignment."""
        text = self._dates.get((style, number))
        if text is None:
            dated = (style or _PLAIN)._replace(
                format_id=number.format_id, format_code=number.format_code
            )
            text = self._dates[(style, number)] = self.attr(dated)
        return text


def _rows_of(
    formats: Sequence[FormatRun],
    by_kind: Mapping[str, CellStyle],
    styles: Sequence[StyleRun],
    height: int,
    width: int,
) -> dict[int, dict[int, CellStyle]]:
    """row -> column -> style of the styled cells (rows without one are absent).

    The rows between two run boundaries share one dict, so a table of 20,000 rows costs one dict
    and 20,000 references, not a dict entry per cell. Where format runs overlap, the later one
    wins; a style run adds bold and wrap to what earlier runs gave, and its alignment replaces
    theirs. Runs are cut to the sheet's rows and columns.
    """
    styles = [run for run in styles if run.bold or run.wrap or run.top or run.align is not None]
    tops = [run.first for run in formats] + [run.cells.first_row for run in styles]
    ends = [run.last + 1 for run in formats] + [run.cells.last_row + 1 for run in styles]
    edges = sorted({min(edge, height) for edge in (*tops, *ends)})
    by_row: dict[int, dict[int, CellStyle]] = {}
    for top, bottom in itertools.pairwise(edges):
        shared = {
            run.column: by_kind[run.kind]
            for run in formats
            if run.first <= top and bottom <= run.last + 1
        }
        for run in styles:
            cells = run.cells
            if cells.first_row <= top and bottom <= cells.last_row + 1:
                for c in range(cells.first_col, min(cells.last_col + 1, width)):
                    base = shared.get(c, _PLAIN)
                    shared[c] = base._replace(
                        bold=base.bold or run.bold,
                        wrap=base.wrap or run.wrap,
                        align=run.align or base.align,
                        top=base.top or run.top,
                    )
        shared = {c: style for c, style in shared.items() if style != _PLAIN}
        if shared:
            by_row.update(dict.fromkeys(range(top, bottom), shared))
    return by_row


def _quoted(style: CellStyle | None) -> CellStyle:
    return (style or _PLAIN)._replace(quote_prefix=True)


_DATE = _number_style("date")
_DATETIME = CellStyle(DATETIME_FORMAT[0])
_NO_STYLES: dict[int, CellStyle] = {}


def render_sheet(
    sheet: SheetCells,
    xf_index: Callable[[CellStyle], int],
    date1904: bool,
    *,
    drawing: str | None = None,
) -> bytes:
    """Worksheet XML for `sheet`; `xf_index` gives the workbook's cellXfs index of a cell style
    (adding the xf when the workbook has none); `drawing` is the relationship id of the sheet's
    drawing (its charts), None for none.

    Floats, text, whole numbers and dates, nearly every cell of a big sheet, take an inline fast
    path (text and dates repeat, so each is converted once); everything else goes through `_cell`.
    """
    width = _check_shape(sheet)
    styles = _Styles(sheet, xf_index, width)
    attr = styles.attr
    date_attr = styles.date_attr
    letters = [column_letter(c) for c in range(width)]
    texts: dict[str, tuple[str, bool]] = {}
    days: dict[dt.date, str | None] = {}
    body: list[str] = []
    bounds: list[int] = []
    heights = _checked_heights(sheet)
    for r, row in enumerate(sheet.rows):
        n = str(r + 1)
        row_styles = styles.by_row.get(r, _NO_STYLES)
        cells: list[str] = []
        add = cells.append
        first = last = -1
        for c, value in enumerate(row):
            if value is None:
                continue
            if type(value) is float:
                if value - value != 0.0:  # NaN and infinities leave the cell empty
                    continue
                add(f'<c r="{letters[c]}{n}"{attr(row_styles.get(c))}><v>{value!r}</v></c>')
            elif type(value) is str:
                known = texts.get(value)
                if known is None:
                    known = texts[value] = (xml_text(value), quote_prefixed(value))
                text, quoted = known
                style = _quoted(row_styles.get(c)) if quoted else row_styles.get(c)
                add(
                    f'<c r="{letters[c]}{n}"{attr(style)} t="inlineStr"><is>'
                    f'<t xml:space="preserve">{text}</t></is></c>'
                )
            elif type(value) is int and -_MAX_EXACT <= value <= _MAX_EXACT:
                add(f'<c r="{letters[c]}{n}"{attr(row_styles.get(c))}><v>{value}</v></c>')
            elif type(value) is dt.date:
                if value not in days:
                    days[value] = _serial_text(sheet.name, r, c, value, date1904)
                s = date_attr(row_styles.get(c), _DATE)
                add(f'<c r="{letters[c]}{n}"{s}><v>{days[value]}</v></c>')
            else:
                style = row_styles.get(c)
                if isinstance(value, dt.datetime):
                    s = date_attr(style, _DATETIME)
                elif isinstance(value, dt.date):
                    s = date_attr(style, _DATE)
                elif isinstance(value, str) and quote_prefixed(value):
                    s = attr(_quoted(style))
                else:
                    s = attr(style)
                rendered = _cell(sheet.name, r, c, value, s, date1904)
                if rendered is None:
                    continue
                add(rendered)
            if first < 0:
                first = c
            last = c
        if cells:
            height = heights.get(r)
            tall = f' ht="{height!r}" customHeight="1"' if height else ""
            body.append(f'<row r="{n}" spans="{first + 1}:{last + 1}"{tall}>')
            body.extend(cells)
            body.append("</row>")
            bounds.append(r)
            bounds.extend((first, last))
    head = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">',
        _FIT_TO_PAGE,
        f'<dimension ref="{_dimension(bounds)}"/>',
        _sheet_views(sheet),
        _cols(sheet),
        "<sheetData>",
    ]
    tail = [
        "</sheetData>",
        _color_scales(sheet),
        _PAGE_SETUP,
        "" if drawing is None else f"<drawing r:id={quoteattr(drawing)}/>",
        "</worksheet>",
    ]
    return "".join([*head, *body, *tail]).encode("utf-8")


def _checked_heights(sheet: SheetCells) -> Mapping[int, float]:
    """The row heights, each a number of points Excel can show (above 0, at most 409)."""
    for r, height in sheet.heights.items():
        if not (isinstance(height, int | float) and 0 < height <= MAX_ROW_HEIGHT):
            raise WorkbookError(
                f"sheet {sheet.name}: row {r + 1} height {height!r} is not in (0, 409]"
            )
    return sheet.heights


def xml_text(value: str) -> str:
    """Cell text as it goes between `<t>` tags: cleaned, `_xHHHH_` look-alikes and `<&>` escaped."""
    return _ESCAPE_LOOKALIKE.sub("_x005F_", clean_text(value)).translate(_XML_TEXT)


def _check_shape(sheet: SheetCells) -> int:
    """The sheet's width in columns, once its rows, columns, panes and colour scales are known to
    fit in Excel's grid."""
    if len(sheet.rows) > MAX_ROWS:
        raise WorkbookError(
            f"sheet {sheet.name} has {len(sheet.rows)} rows (Excel's limit 1,048,576)"
        )
    widest = max((len(row) for row in sheet.rows), default=0)
    if widest > MAX_COLUMNS:
        raise WorkbookError(f"sheet {sheet.name} has {widest} columns (Excel's limit 16,384)")
    if sheet.freeze is not None:
        rows, cols = sheet.freeze
        if not (0 <= rows < MAX_ROWS and 0 <= cols < MAX_COLUMNS):
            raise WorkbookError(f"sheet {sheet.name}: cannot freeze {rows} rows and {cols} columns")
    for cells in sheet.color_scales:
        if cells.last_row >= MAX_ROWS or cells.last_col >= MAX_COLUMNS:
            raise WorkbookError(f"sheet {sheet.name}: colour scale {cells} is outside Excel's grid")
    return widest


def cell_range(cells: CellRange) -> str:
    """A1 reference of a rectangle: `B5:I12`, or `B5` for one cell."""
    top = f"{column_letter(cells.first_col)}{cells.first_row + 1}"
    bottom = f"{column_letter(cells.last_col)}{cells.last_row + 1}"
    return top if top == bottom else f"{top}:{bottom}"


def _sheet_views(sheet: SheetCells) -> str:
    """The frozen pane: rows above and columns left of `sheet.freeze` stay in view, and the
    cursor starts in the scrolling part."""
    if sheet.freeze is None or sheet.freeze == (0, 0):
        return ""
    rows, cols = sheet.freeze
    corner = f"{column_letter(cols)}{rows + 1}"
    pane = "bottomRight" if rows and cols else "bottomLeft" if rows else "topRight"
    split = (f' xSplit="{cols}"' if cols else "") + (f' ySplit="{rows}"' if rows else "")
    return (
        f'<sheetViews><sheetView workbookViewId="0"><pane{split} topLeftCell="{corner}" '
        f'activePane="{pane}" state="frozen"/>'
        f'<selection pane="{pane}" activeCell="{corner}" sqref="{corner}"/>'
        "</sheetView></sheetViews>"
    )


def _color_scales(sheet: SheetCells) -> str:
    """One conditional format per colour-scaled rectangle, each rule with its own priority."""
    return "".join(
        f'<conditionalFormatting sqref="{cell_range(cells)}"><cfRule type="colorScale" '
        f'priority="{priority}">{_COLOR_SCALE}</cfRule></conditionalFormatting>'
        for priority, cells in enumerate(sheet.color_scales, start=1)
    )


def _dimension(bounds: list[int]) -> str:
    if not bounds:
        return "A1"
    rows = bounds[0::3]
    return cell_range(CellRange(rows[0], min(bounds[1::3]), rows[-1], max(bounds[2::3])))


def _cols(sheet: SheetCells) -> str:
    if not sheet.widths:
        return ""
    parts = ["<cols>"]
    for col in sorted(sheet.widths):
        width = sheet.widths[col]
        if not 0 <= col < MAX_COLUMNS:
            raise WorkbookError(f"sheet {sheet.name}: column index {col} is outside Excel's range")
        if not (isinstance(width, int | float) and 0 < width <= MAX_WIDTH):
            raise WorkbookError(f"sheet {sheet.name}: column width {width!r} is not in (0, 255]")
        n = col + 1
        parts.append(f'<col min="{n}" max="{n}" width="{float(width)!r}" customWidth="1"/>')
    parts.append("</cols>")
    return "".join(parts)


def _cell(sheet: str, r: int, c: int, value: CellValue, s: str, date1904: bool) -> str | None:
    """One `<c>` element (`s` is its style attribute), or None when the cell is empty (None,
    NaN, infinite)."""
    ref = f"{column_letter(c)}{r + 1}"
    if value is None:
        return None
    if isinstance(value, str):
        text = xml_text(value)
        return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    if isinstance(value, bool | np.bool_):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.date):
        if value != value:  # pandas NaT is a datetime that is not equal to itself
            return None
        number = _serial_text(sheet, r, c, value, date1904)
    elif isinstance(value, float):
        number = _number_text(value)
    elif isinstance(value, int | numbers.Integral) and abs(int(value)) <= _MAX_EXACT:
        number = str(int(value))
    elif isinstance(value, numbers.Real):
        number = _number_text(value)
    else:
        raise WorkbookError(f"{sheet}!{ref}: cannot write {type(value)} into a cell")
    return None if number is None else f'<c r="{ref}"{s}><v>{number}</v></c>'


def _serial_text(sheet: str, r: int, c: int, value: dt.date, date1904: bool) -> str | None:
    """A date cell's value: its serial number as text; a date Excel cannot store is an error."""
    try:
        return _number_text(excel_serial(value, date1904))
    except ValueError as exc:
        raise WorkbookError(f"{sheet}!{column_letter(c)}{r + 1}: {exc}") from exc


def _number_text(value: SupportsFloat) -> str | None:
    """Shortest text that reads back as the same double; None for NaN and infinities."""
    try:
        number = float(value)
    except OverflowError:
        return None
    return float.__repr__(number) if math.isfinite(number) else None
