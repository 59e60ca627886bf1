"""Where a worksheet's values are, found in its XML before python-calamine reads it.

calamine makes one dense grid spanning the first to the last occupied cell (about 64 bytes per
cell while it converts), so one stray value at XFD1048576 asks for hundreds of gigabytes and
aborts the process; and a number outside Excel's dates in a date-formatted cell panics inside its
date conversion. Both are cheap to see in the XML and impossible to catch afterwards.

Most sheets are vouched for in one pass of C-speed regular expressions (every cell carries its
reference, the references span few cells, no date cell holds a suspicious number). Only a sheet
that fails that test is walked cell by cell, placing cells the way calamine does: by their `r`
reference or, without one, next to the previous cell of the row (rows likewise), and counting
only cells that hold a value.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rules_engine.workbook.datestyles import Kind

#: Excel's last date, 9999-12-31, as a day number in the 1900 and the 1904 date systems (a
#: duration may not be longer than the 1900 one either: calamine overflows beyond).
LAST_SERIAL = {False: 2_958_465.0, True: 2_957_003.0}

_PREFIX = rb"(?:[A-Za-z_][\w.\-]*:)?"
_SHEET_DATA = re.compile(rb"<(" + _PREFIX + rb")sheetData(?=[\s/>])[^>]*?(/?)>")
_SHEET_DATA_END = re.compile(rb"</" + _PREFIX + rb"sheetData\s*>")
_TAG = re.compile(rb"<(" + _PREFIX + rb")(c|row)(?=[\s/>])([^>]*?)(/?)>|</" + _PREFIX + rb"row\s*>")
_VALUE = re.compile(rb"<" + _PREFIX + rb"(v|is)(?=[\s/>])[^>]*>([^<]*)")
_R = re.compile(rb"(?:^|\s)r\s*=\s*[\"']([^\"']*)")
_S = re.compile(rb"(?:^|\s)s\s*=\s*[\"']([^\"']*)")
_T = re.compile(rb"(?:^|\s)t\s*=\s*[\"']([^\"']*)")
_REF = re.compile(rb"([A-Za-z]+)([0-9]+)")
_NUMERIC_TYPES = (None, b"n")
# The quick test: unprefixed cells, each with a plain reference.
_REF_LETTERS = re.compile(rb' r="([A-Z]{1,3})[0-9]{1,7}"')
_REF_DIGITS = re.compile(rb' r="[A-Z]{1,3}([0-9]{1,7})"')


@dataclass(frozen=True)
class OddDate:
    """A number in a date- or duration-formatted cell that no date or duration can be made of."""

    row: int
    col: int
    start: int
    text: str
    kind: Kind


@dataclass
class SheetScan:
    """The cells of one sheet that hold a value (0-based row and column, and where each cell's
    element starts in the XML), and the date cells calamine could not convert."""

    rows: array[int] = field(default_factory=lambda: array("q"))
    cols: array[int] = field(default_factory=lambda: array("q"))
    starts: array[int] = field(default_factory=lambda: array("q"))
    odd_dates: list[OddDate] = field(default_factory=list)


def scan_sheet(
    xml: bytes, kinds: Mapping[int, Kind], date1904: bool, budget: int
) -> SheetScan | None:
    """The sheet's valued cells and odd dates, or None when it plainly spans at most `budget`
    cells and holds no odd date. `kinds` are the workbook's date styles (cellXfs index -> kind),
    `date1904` its date system."""
    opening = _SHEET_DATA.search(xml)
    if opening is None or opening.group(2):
        return None
    closing = closing_sheet_data(xml, opening.end())
    span = (opening.end(), len(xml) if closing is None else closing.start())
    if not opening.group(1) and _plainly_fine(xml, span, kinds, budget):
        return None
    return _walk(xml, span, kinds, date1904)


def closing_sheet_data(xml: bytes, start: int = 0) -> re.Match[bytes] | None:
    """The sheet's `</sheetData>` tag (any namespace prefix): the last mention of sheetData,
    found from the end (a forward search would try every closing tag of the sheet)."""
    at = xml.rfind(b"sheetData", start)
    return _SHEET_DATA_END.match(xml, xml.rfind(b"<", start, at)) if at >= 0 else None


def _plainly_fine(
    xml: bytes, span: tuple[int, int], kinds: Mapping[int, Kind], budget: int
) -> bool:
    """Every cell has a plain reference, the references span at most `budget` cells, and no
    date-styled cell holds a negative, huge or non-decimal number."""
    letters = _REF_LETTERS.findall(xml, *span)
    digits = _REF_DIGITS.findall(xml, *span)
    # Every "<c" is then a cell with a plain reference: only cells carry such an `r`, and a
    # rich-text "<color" or "<charset" just sends the sheet the slow way.
    if xml.count(b"<c", *span) != len(letters) or len(digits) != len(letters):
        return False
    if letters:
        columns = [_column(text) for text in set(letters)]
        rows = [int(text) for text in set(digits)]
        if (max(columns) - min(columns) + 1) * (max(rows) - min(rows) + 1) > budget:
            return False
    return not kinds or (xml.find(b"s='", *span) < 0 and _suspect(kinds).search(xml, *span) is None)


def _suspect(kinds: Mapping[int, Kind]) -> re.Pattern[bytes]:
    """A cell styled as a date whose `<v>` starts with a minus, has 7+ digits before any point, or
    holds anything but digits and a point (exponent, NaN, inf): a superset of odd dates."""
    styles = b"|".join(str(index).encode() for index in sorted(kinds))
    formula = rb"(?:<f(?:\s[^>]*)?/>\s*|<f(?:\s[^>]*)?>[^<]*</f\s*>\s*)?"
    return re.compile(
        rb's="0*(?:' + styles + rb')"[^>]*>\s*' + formula
        + rb"<v(?:\s[^>]*)?>\s*(?:-|[0-9.]*[^0-9.<\s]|[0-9]{7})"
    )  # fmt: skip


def _walk(
    xml: bytes, span: tuple[int, int], kinds: Mapping[int, Kind], date1904: bool
) -> SheetScan:
    """Visit every cell of sheetData, placing it and checking its date as calamine would."""
    scan = SheetScan()
    row = col = 0
    pos, end = span
    while (tag := _TAG.search(xml, pos, end)) is not None:
        pos = tag.end()
        name, attrs, empty = tag.group(2), tag.group(3), tag.group(4)
        if name != b"c":
            refs = _R.findall(attrs) if name else []
            row = int(refs[-1]) - 1 if refs and refs[-1].isdigit() else row
            if name is None or empty:
                row, col = row + 1, 0
            continue
        here = _place(attrs, row, col)
        body = b""
        if not empty:
            close = _closing(tag.group(1)).search(xml, pos, end)
            if close is None:
                break
            body, pos = xml[pos : close.start()], close.start()
        if here is None:
            continue
        col = here[1] + 1
        value = _VALUE.search(body)
        if value is None or not _holds_value(value, attrs):
            continue
        scan.rows.append(here[0])
        scan.cols.append(here[1])
        scan.starts.append(tag.start())
        if kinds and value.group(1) == b"v":
            odd = _odd_date(attrs, value.group(2), kinds, date1904)
            if odd is not None:
                scan.odd_dates.append(OddDate(*here, tag.start(), *odd))
    return scan


def _closing(prefix: bytes) -> re.Pattern[bytes]:
    """The end tag of a cell written with this namespace prefix (re caches the compiled form)."""
    return re.compile(rb"</" + re.escape(prefix) + rb"c\s*>")


def _holds_value(value: re.Match[bytes], attrs: bytes) -> bool:
    """An inline string always counts; an empty `<v>` counts only as a formula's text result."""
    if value.group(1) == b"is" or value.group(2):
        return True
    types = _T.findall(attrs)
    return bool(types) and types[-1] == b"str"


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number - 1


def _place(attrs: bytes, row: int, col: int) -> tuple[int, int] | None:
    """(row, column) of a cell: its reference, else the next place in the row; None when the
    reference is unreadable (calamine then refuses the sheet itself)."""
    refs = _R.findall(attrs)
    if not refs:
        return row, col
    parts = _REF.fullmatch(refs[-1])
    if parts is None:
        return None
    return int(parts.group(2)) - 1, _column(parts.group(1))


def _odd_date(
    attrs: bytes, text: bytes, kinds: Mapping[int, Kind], date1904: bool
) -> tuple[str, Kind] | None:
    """(value text, kind) when a numeric cell is date-formatted and its number is no date."""
    styles = _S.findall(attrs)
    if not styles or not styles[-1].isdigit():
        return None
    kind = kinds.get(int(styles[-1]))
    types = _T.findall(attrs)
    if kind is None or (types[-1] if types else None) not in _NUMERIC_TYPES:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if kind == "date":
        fits = 0 <= number <= LAST_SERIAL[date1904]
    else:
        fits = math.isfinite(number) and abs(number) <= LAST_SERIAL[False]
    return None if fits else (text.decode("ascii", "replace").strip(), kind)


def blank_cells(xml: bytes, starts: Iterable[int]) -> bytes:
    """The XML with the values of the cells whose elements start at `starts` removed. The empty
    cell elements stay, so a cell after them without a reference keeps its place."""
    pieces: list[bytes] = []
    pos = 0
    for start in sorted(set(starts)):
        tag = _TAG.match(xml, start)
        if tag is None or tag.group(2) != b"c" or tag.group(4):
            continue
        close = _closing(tag.group(1)).search(xml, tag.end())
        if close is None:
            continue
        pieces.append(xml[pos : tag.end()])
        pos = close.start()
    pieces.append(xml[pos:])
    return b"".join(pieces)
