"""Render one engine-owned sheet as SpreadsheetML worksheet XML.

Text goes in inline strings so sharedStrings.xml never has to be edited, and never as a formula:
a cell that reads "=1+1" stays text, and is styled quote-prefixed so that Excel also keeps it
text when the user edits the cell. Dates become serial numbers in the workbook's date system.
The output is plain string building (fast, predictable); the writer checks it is well-formed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, SupportsFloat

import numpy as np

from rules_engine.contract import NUMBER_FORMATS, column_letter, looks_like_formula
from rules_engine.models import CellValue, FormatRun, SheetCells, WorkbookError

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

#: Built-in "m/d/yy h:mm", for datetimes (dates alone use NUMBER_FORMAT_IDS["date"]).
DATETIME_FORMAT_ID = 22
#: Format kinds that mean "General" (no style needed).
GENERAL_KINDS = frozenset({"number"})

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
    """What a cell's xf must provide: a built-in number format, and quotePrefix for text that
    looks like a formula (Excel then keeps it text even when the user edits the cell)."""

    format_id: int
    quote_prefix: bool = False


def quote_prefixed(text: str) -> bool:
    """Whether the text a cell will hold (see `clean_text`) must be marked quote-prefixed."""
    if not text or "@" < text[0] < "\ud800":  # a legal first character that starts no formula
        return False
    leading = _LEADING_ILLEGAL.match(text)
    return looks_like_formula(text[leading.end() :] if leading else text)


class _Styles:
    """The style attribute of each cell, worked out as the sheet renders: number formats from
    `formats`, a date format for date cells, quotePrefix for formula-like text. Each style's xf
    index is asked for once, when a cell first needs it, so only xfs in use are ever added."""

    def __init__(self, sheet: SheetCells, xf_index: Callable[[CellStyle], int]) -> None:
        self._xf_index = xf_index
        self._attrs: dict[CellStyle | None, str] = {None: ""}
        by_kind: dict[str, CellStyle | None] = {
            kind: None if kind in GENERAL_KINDS else CellStyle(NUMBER_FORMATS[kind][0] or 10)
            for kind in {run.kind for run in sheet.formats}
        }
        self.by_row = _rows_of(sheet.formats, by_kind)

    def attr(self, style: CellStyle | None) -> str:
        """` s="N"` for the style (empty for none, or for the workbook's default xf 0)."""
        text = self._attrs.get(style)
        if text is None:
            assert style is not None
            index = self._xf_index(style)
            text = self._attrs[style] = f' s="{index}"' if index else ""
        return text


def _rows_of(
    runs: Sequence[FormatRun], by_kind: Mapping[str, CellStyle | None]
) -> dict[int, dict[int, CellStyle | None]]:
    """row -> column -> style of the formatted cells (rows without one are absent).

    The rows between two run boundaries share one dict, so a table of 20,000 rows costs one dict
    and 20,000 references, not a dict entry per cell. Where runs overlap, the later one wins.
    """
    edges = sorted({run.first for run in runs} | {run.last + 1 for run in runs})
    by_row: dict[int, dict[int, CellStyle | None]] = {}
    for top, bottom in itertools.pairwise(edges):
        shared = {
            run.column: by_kind[run.kind]
            for run in runs
            if run.first <= top and bottom <= run.last + 1
        }
        if shared:
            by_row.update(dict.fromkeys(range(top, bottom), shared))
    return by_row


def _quoted(style: CellStyle | None) -> CellStyle:
    return CellStyle(0 if style is None else style.format_id, quote_prefix=True)


_DATE_STYLE = CellStyle(14)
_DATETIME_STYLE = CellStyle(DATETIME_FORMAT_ID)
_NO_STYLES: dict[int, CellStyle | None] = {}


def render_sheet(sheet: SheetCells, xf_index: Callable[[CellStyle], int], date1904: bool) -> bytes:
    """Worksheet XML for `sheet`; `xf_index` gives the workbook's cellXfs index of a cell style
    (adding the xf when the workbook has none).

    Floats, text, whole numbers and dates, nearly every cell of a big sheet, take an inline fast
    path (text and dates repeat, so each is converted once); everything else goes through `_cell`.
    """
    _check_shape(sheet)
    styles = _Styles(sheet, xf_index)
    attr = styles.attr
    letters = [column_letter(c) for c in range(max((len(row) for row in sheet.rows), default=0))]
    texts: dict[str, tuple[str, bool]] = {}
    days: dict[dt.date, str | None] = {}
    body: list[str] = []
    bounds: list[int] = []
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
                add(f'<c r="{letters[c]}{n}"{attr(_DATE_STYLE)}><v>{days[value]}</v></c>')
            else:
                style = row_styles.get(c)
                if isinstance(value, dt.datetime):
                    style = _DATETIME_STYLE
                elif isinstance(value, dt.date):
                    style = _DATE_STYLE
                elif isinstance(value, str) and quote_prefixed(value):
                    style = _quoted(style)
                rendered = _cell(sheet.name, r, c, value, attr(style), date1904)
                if rendered is None:
                    continue
                add(rendered)
            if first < 0:
                first = c
            last = c
        if cells:
            body.append(f'<row r="{n}" spans="{first + 1}:{last + 1}">')
            body.extend(cells)
            body.append("</row>")
            bounds.append(r)
            bounds.extend((first, last))
    head = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">',
        f'<dimension ref="{_dimension(sheet, bounds)}"/>',
        _cols(sheet),
        "<sheetData>",
    ]
    return "".join([*head, *body, "</sheetData></worksheet>"]).encode("utf-8")


def xml_text(value: str) -> str:
    """Cell text as it goes between `<t>` tags: cleaned, `_xHHHH_` look-alikes and `<&>` escaped."""
    return _ESCAPE_LOOKALIKE.sub("_x005F_", clean_text(value)).translate(_XML_TEXT)


def _check_shape(sheet: SheetCells) -> None:
    if len(sheet.rows) > MAX_ROWS:
        raise WorkbookError(
            f"sheet {sheet.name} has {len(sheet.rows)} rows (Excel's limit 1,048,576)"
        )
    widest = max((len(row) for row in sheet.rows), default=0)
    if widest > MAX_COLUMNS:
        raise WorkbookError(f"sheet {sheet.name} has {widest} columns (Excel's limit 16,384)")


def _dimension(sheet: SheetCells, bounds: list[int]) -> str:
    if not bounds:
        return "A1"
    rows = bounds[0::3]
    first_col = min(bounds[1::3])
    last_col = max(bounds[2::3])
    top = f"{column_letter(first_col)}{rows[0] + 1}"
    bottom = f"{column_letter(last_col)}{rows[-1] + 1}"
    return top if top == bottom else f"{top}:{bottom}"


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
