"""Which cell styles python-calamine turns into dates, times or durations.

calamine converts a number to a date when its cell's number format looks like one, and a number
outside the dates Excel can show then panics inside that conversion, or comes back as a wrong
date. The check before reading has to know those styles to find such cells first, so the rules
here follow calamine's own (its `formats.rs`): built-in formats 14-22, 45 and 47 are dates and 46
a duration; a custom format is a date when its first section has d, m, h, y or s outside quotes,
brackets and escapes, and a duration when it starts with [h], [m] or [s].
"""

from __future__ import annotations

from typing import Literal

from lxml import etree

from rules_engine.workbook.packageparts import q
from rules_engine.workbook.sheetxml import MAIN_NS

Kind = Literal["date", "duration"]

#: Built-in number format ids calamine reads as dates or times, and 46 ([h]:mm:ss) as a duration.
BUILTIN_KINDS: dict[int, Kind] = {
    **dict.fromkeys((*range(14, 23), 45, 47), "date"),
    46: "duration",
}
_DATE_LETTERS = frozenset("dmhysDMHYS")
_AM_PM_LETTERS = frozenset("pmPM/")
_DURATION_LETTERS = frozenset("mhsMHS")
_ESCAPES = frozenset("_\\*")


def format_kind(code: str) -> Kind | None:
    """What calamine makes of a number shown with this custom format code (None: a number)."""
    escaped = quoted = am_pm = elapsed = False
    brackets = 0
    previous = " "
    for ch in code:
        if escaped:
            escaped = False
        elif ch in _ESCAPES:
            escaped = True
        elif quoted:
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == ";":
            return None
        elif ch == "[":
            brackets += 1
        elif ch == "]" and brackets == 1 and elapsed:
            return "duration"
        elif ch == "]":
            brackets = max(brackets - 1, 0)
        elif brackets == 0 and not am_pm and ch in "aA":
            am_pm = True
        elif brackets == 0 and (ch in _AM_PM_LETTERS if am_pm else ch in _DATE_LETTERS):
            return "date"
        elif not (elapsed and ch.lower() == previous.lower()):
            elapsed = previous == "[" and ch in _DURATION_LETTERS
        previous = ch
    return None


def style_kinds(stylesheet: etree._Element) -> dict[int, Kind]:
    """cellXfs index -> kind, for every cell style calamine reads as a date, time or duration."""
    custom: dict[int, Kind | None] = {}
    for fmt in stylesheet.iter(q(MAIN_NS, "numFmt")):
        number = _integer(fmt.get("numFmtId"))
        if number is not None:
            custom[number] = format_kind(fmt.get("formatCode") or "")
    cell_xfs = stylesheet.find(q(MAIN_NS, "cellXfs"))
    kinds: dict[int, Kind] = {}
    for index, xf in enumerate(() if cell_xfs is None else cell_xfs.iter(q(MAIN_NS, "xf"))):
        number = _integer(xf.get("numFmtId")) or 0
        kind = custom[number] if number in custom else BUILTIN_KINDS.get(number)
        if kind is not None:
            kinds[index] = kind
    return kinds


def _integer(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None
