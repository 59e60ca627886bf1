"""Turning one raw cell value (as python-calamine returns it) into a number, a date or text.

Each converter either returns the value or raises `CellError` whose message quotes the offending
value and says what was expected, so the caller only has to add the sheet and the address.
"""

from __future__ import annotations

import datetime as dt
import math

from rules_engine.contract import column_letter
from rules_engine.models import CellValue

#: Anything calamine may hand back for one cell (durations and times included).
RawCell = CellValue | dt.time | dt.timedelta
#: The first day Excel can hold (its day 1 in the 1900 date system).
FIRST_EXCEL_DATE = dt.date(1900, 1, 1)
_NOT_FINITE = "is not a finite number: a cell must hold an ordinary number (or stay blank)"


class CellError(ValueError):
    """A cell holds something of the wrong kind; the message is meant for the user."""


def address(row0: int, col0: int) -> str:
    """0-based (row, column) -> the A1 address ("E5")."""
    return f"{column_letter(col0)}{row0 + 1}"


def is_blank(value: RawCell) -> bool:
    """Empty cells come back as "" from calamine; whitespace-only text counts as empty too."""
    return value is None or (isinstance(value, str) and not value.strip())


def show(value: RawCell) -> str:
    """The value as the message quotes it: text in quotes, dates in ISO form, numbers plainly."""
    if isinstance(value, str):
        return repr(value.strip())
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_number(value: RawCell) -> float:
    """A number cell (or numeric text); blank is NaN. Booleans and dates are refused."""
    if isinstance(value, bool):
        raise CellError(f"{show(value)} is a true/false value, not a number")
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            raise CellError(f"{show(value)} {_NOT_FINITE}")
        return number
    if is_blank(value):
        return math.nan
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            raise CellError(f"{show(value)} is not a number") from None
        if not math.isfinite(number):
            raise CellError(f"{show(value)} {_NOT_FINITE}")
        return number
    if isinstance(value, dt.date | dt.datetime):
        raise CellError(f"{show(value)} is a date, not a number: format the cell as a number")
    raise CellError(f"{show(value)} is a time or duration, not a number")


def to_date(value: RawCell) -> dt.date | None:
    """A date cell, or ISO text such as "2018-01-26" (a time part is dropped); blank is None.
    Dates before Excel's first day are refused: no workbook can hold them."""
    day = _to_date(value)
    if day is not None and day < FIRST_EXCEL_DATE:
        raise CellError(
            f"{day.isoformat()} is before {FIRST_EXCEL_DATE.isoformat()}, the first date Excel "
            "can hold"
        )
    return day


def _to_date(value: RawCell) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise CellError(f"{show(value)} is a true/false value, not a date")
    if isinstance(value, int | float):
        raise CellError(f"{show(value)} is a number, not a date: format the cell as a date")
    if is_blank(value):
        return None
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip()).date()
        except ValueError:
            raise CellError(
                f"{show(value)} is not a date: enter a date cell or ISO text like 2018-01-26"
            ) from None
    raise CellError(f"{show(value)} is a time or duration, not a date")


def to_text(value: RawCell) -> str:
    """Text for a label or name cell; a whole number such as 1.0 becomes "1". Blank is ""."""
    if is_blank(value):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return show(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)
