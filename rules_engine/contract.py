"""The workbook contract: which sheets exist, their columns, and how headers are matched.

Shared by every adapter (file and live Excel) so that they read and write the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

POSITIONS = "Positions"
MARKET = "Market"
VIX_FUTURES = "VIX Futures"
VIX_OPTIONS = "VIX Options"
SPX_OPTIONS = "SPX Options"
HISTORY = "History"
CALENDAR = "Calendar"
SETTINGS = "Settings"
RULES = "Rules"

HEDGE = "Hedge"
SIGNALS = "Signals"
RISK = "Risk"
RUN = "Run"
LOG = "Log"

#: Input sheets: the user's; read, never written.
INPUT_SHEETS = (
    POSITIONS,
    MARKET,
    VIX_FUTURES,
    VIX_OPTIONS,
    SPX_OPTIONS,
    HISTORY,
    CALENDAR,
    SETTINGS,
    RULES,
)
#: Sheets a recompute cannot do without.
REQUIRED_SHEETS = (POSITIONS, MARKET, HISTORY)
#: Output sheets: the engine's; rewritten whole on every recompute. Log keeps the rows of earlier
#: recomputes (read back before it is rewritten) and gains one row per layer per recompute.
OWNED_SHEETS = (HEDGE, SIGNALS, RISK, RUN, LOG)

#: Cell A1 of every owned sheet starts with this text. A same-named sheet without it is the
#: user's, and the engine refuses to overwrite it.
OWNED_MARKER = "alvh output"

#: The number format kinds of `SheetCells.formats` and the input sheets, the same in every adapter:
#: kind -> (Excel's built-in format id, or None, and the format code). The file writer writes a
#: built-in id as such and declares a kind without one as a custom format (id 164 and up); the live
#: adapter sets the code. Prices and index levels are `money` (two decimals, at the tick); dollar
#: amounts `dollars` (no cents: they are noise at these sizes); shares and vols `percent`.
NUMBER_FORMATS: dict[str, tuple[int | None, str]] = {
    "date": (14, "m/d/yyyy"),
    "percent": (None, "0.0%"),
    "money": (4, "#,##0.00"),
    "dollars": (3, "#,##0"),
    "integer": (3, "#,##0"),
}
#: Excel's tallest row, in points.
MAX_ROW_HEIGHT = 409.0
#: Excel's built-in "m/d/yy h:mm", for datetime cells.
DATETIME_FORMAT: tuple[int, str] = (22, "m/d/yyyy h:mm")

Kind = Literal["text", "number", "date"]


@dataclass(frozen=True)
class Column:
    """One column of an input sheet: its normalized field name, its header, its type, and for
    numbers the size no real value reaches (beyond it a cell is a typo, and would overflow the
    math)."""

    field: str
    header: str
    kind: Kind
    required: bool
    limit: float | None = None


SHEET_COLUMNS: dict[str, tuple[Column, ...]] = {
    POSITIONS: (
        Column("group", "Group", "text", True),
        Column("underlying", "Underlying", "text", True),
        Column("type", "Type", "text", True),
        Column("expiry", "Expiry", "date", True),
        Column("strike", "Strike", "number", True, limit=1e6),
        Column("qty", "Qty", "number", True, limit=1e6),
        Column("multiplier", "Multiplier", "number", False, limit=1e6),
        Column("entry_price", "Entry Price", "number", False, limit=1e6),
        Column("iv", "IV", "number", False),
        Column("mark", "Mark", "number", False, limit=1e6),
    ),
    MARKET: (
        Column("field", "Field", "text", True),
        Column("value", "Value", "text", True),
    ),
    VIX_FUTURES: (
        Column("expiry", "Expiry", "date", True),
        Column("price", "Price", "number", True, limit=200.0),
    ),
    VIX_OPTIONS: (
        Column("expiry", "Expiry", "date", True),
        Column("strike", "Strike", "number", True, limit=1000.0),
        Column("call_bid", "Call Bid", "number", False, limit=500.0),
        Column("call_ask", "Call Ask", "number", False, limit=500.0),
        Column("iv", "IV", "number", False),
        Column("open_interest", "Open Interest", "number", False, limit=1e8),
    ),
    SPX_OPTIONS: (
        Column("expiry", "Expiry", "date", True),
        Column("strike", "Strike", "number", True, limit=1e6),
        Column("call_bid", "Call Bid", "number", True, limit=1e5),
        Column("call_ask", "Call Ask", "number", True, limit=1e5),
        Column("put_bid", "Put Bid", "number", True, limit=1e5),
        Column("put_ask", "Put Ask", "number", True, limit=1e5),
    ),
    HISTORY: (
        Column("date", "Date", "date", True),
        Column("spx_close", "SPX Close", "number", True, limit=1e6),
        Column("spx_high", "SPX High", "number", False, limit=1e6),
        Column("spx_low", "SPX Low", "number", False, limit=1e6),
        Column("vix_close", "VIX Close", "number", False, limit=200.0),
    ),
    CALENDAR: (
        Column("date", "Date", "date", True),
        Column("event", "Event", "text", True),
        Column("note", "Note", "text", False),
    ),
    SETTINGS: (
        Column("setting", "Setting", "text", True),
        Column("value", "Value", "text", True),
        Column("description", "Description", "text", False),
    ),
    RULES: (
        Column("layer", "Layer", "number", True, limit=100.0),
        Column("trigger", "Trigger", "text", True),
        Column("note", "Note", "text", False),
    ),
}

#: The Log sheet's columns (a table under its title row), one row per layer per recompute.
LOG_COLUMNS = (
    "Run (UTC)",
    "Inputs Hash",
    "Layer",
    "Status",
    "Instrument",
    "Contracts",
    "Cost ($)",
    "Share Covered",
)


@dataclass(frozen=True)
class MarketField:
    """A known Field of the Market sheet."""

    field: str
    label: str
    kind: Kind
    required: bool
    description: str


MARKET_FIELDS: tuple[MarketField, ...] = (
    MarketField("as_of", "As Of", "date", True, "valuation date; history after it is ignored"),
    MarketField("spx", "SPX", "number", True, "S&P 500 index level"),
    MarketField("vix", "VIX", "number", True, "Cboe VIX spot, index points"),
    MarketField("vix3m", "VIX3M", "number", False, "Cboe 3-month VIX, index points"),
    MarketField("vvix", "VVIX", "number", False, "Cboe VVIX (vol of VIX), index points"),
    MarketField(
        "rate", "Rate", "number", True, "risk-free rate, annual, continuous (0.045 = 4.5%)"
    ),
    MarketField("dividend_yield", "Dividend Yield", "number", False, "SPX dividend yield (0.015)"),
    MarketField("vxx", "VXX", "number", False, "VXX share price, $ (makes VXX a hedge candidate)"),
    MarketField(
        "uvxy", "UVXY", "number", False, "UVXY share price, $ (makes UVXY a hedge candidate)"
    ),
)

#: Contract multipliers when the Multiplier cell is blank: (underlying, type) -> multiplier.
DEFAULT_MULTIPLIERS: dict[tuple[str, str], float] = {
    ("SPX", "CALL"): 100.0,
    ("SPX", "PUT"): 100.0,
    ("SPXW", "CALL"): 100.0,
    ("SPXW", "PUT"): 100.0,
    ("VIX", "CALL"): 100.0,
    ("VIX", "PUT"): 100.0,
    ("VIX", "FUTURE"): 1000.0,
}
#: Everything else (ETP shares such as VXX, UVXY) defaults to 1.
DEFAULT_MULTIPLIER = 1.0


def header_key(text: object) -> str:
    """How headers are matched: case, spaces and underscores do not matter."""
    return re.sub(r"[\s_]+", "", str(text)).lower()


def field_name(text: object) -> str:
    """The normalized field name for a header the contract does not define (e.g. `Advances`)."""
    return re.sub(r"[^0-9a-z]+", "_", str(text).strip().lower()).strip("_")


def column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 26 -> AA)."""
    if index < 0:
        raise ValueError(f"negative column index {index}")
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


#: Leading characters that make a spreadsheet treat typed text as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    """Text that a spreadsheet would turn into a formula if it were typed or pasted as is.

    Adapters must keep such text as text: the file writer marks the cell quote-prefixed, the
    live-Excel adapter writes it with a leading apostrophe; both read back the same string.
    """
    return text.startswith(FORMULA_TRIGGERS)
