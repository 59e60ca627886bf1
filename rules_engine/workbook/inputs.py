"""Sheet grids -> `Inputs`: the parsing both workbook adapters share, reporting every problem.

An adapter hands over each input sheet as a grid: its used range as rows of raw cell values, in
python-calamine's types (blank cells "", numbers float, dates `date`/`datetime`), and where that
range starts. From there on nothing depends on where the grid came from, which is why the file
and the live-Excel adapter give identical `Inputs` for the same workbook.
"""

from __future__ import annotations

import datetime as dt
import math
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from rules_engine import contract as c
from rules_engine.models import InputError, Inputs, Issue, Rule, SettingCell
from rules_engine.workbook.cells import CellError, RawCell, is_blank, show, to_date, to_number
from rules_engine.workbook.sheetparse import Problems, Table, parse_table

_TYPE_SYNONYMS = {
    **dict.fromkeys(("C", "CALL", "CALLS"), "CALL"),
    **dict.fromkeys(("P", "PUT", "PUTS"), "PUT"),
    **dict.fromkeys(("F", "FUT", "FUTURE", "FUTURES"), "FUTURE"),
    **dict.fromkeys(("SHARE", "SHARES", "ETP", "STOCK", "ETF"), "SHARE"),
}
_TYPES_TEXT = "Call, Put, Future or Share"
_POSITIVE_MARKET = ("spx", "vix", "vix3m", "vvix", "vxx", "uvxy")
_FRACTION_MARKET = ("rate", "dividend_yield")
#: Plausible ranges of the Market levels (inclusive): beyond them a value is a typo, and would
#: overflow the pricing. VIX closed between 9 and 83 in 1990-2025 and VVIX peaked near 212.
_MARKET_RANGES: dict[str, tuple[float, float]] = {
    "spx": (1.0, 1e6),
    "vix": (1.0, 200.0),
    "vix3m": (1.0, 200.0),
    "vvix": (1.0, 500.0),
    "vxx": (0.01, 1e6),
    "uvxy": (0.01, 1e6),
    "rate": (-0.05, 0.50),
    "dividend_yield": (0.0, 0.20),
}
#: Market level vs the last History close of the same series: outside these ratios one of the two
#: is mistyped (SPX never moved 2x, VIX never 5x, between two closes a trader would compare).
_LEVEL_CHECKS = (("spx", "spx_close", 0.5, 2.0), ("vix", "vix_close", 0.2, 5.0))


class SheetGrid(NamedTuple):
    """One sheet's used range: rows of raw cells, and the 0-based (row, column) of `rows[0][0]`.

    `start` is None for a sheet with no cells at all. `issues` are problems the adapter found
    before the grid existed (a cell it could not convert, a stray value far outside the table):
    they are reported with the rest, and their cells count as already flagged.
    """

    rows: Sequence[Sequence[RawCell]]
    start: tuple[int, int] | None
    issues: tuple[Issue, ...] = ()


def _key(name: str) -> str:
    return name.strip().casefold()


def input_sheet_names(sheet_names: Iterable[str]) -> list[str]:
    """The workbook's sheets (as named there) that are input sheets: the ones to read."""
    wanted = {_key(name) for name in c.INPUT_SHEETS}
    return [name for name in sheet_names if _key(name) in wanted]


def read_inputs(grids: Mapping[str, SheetGrid]) -> Inputs:
    """Parse the input sheets' grids (keyed by sheet name, matched ignoring case and spaces).

    Raises InputError listing every bad input; a missing required sheet is one of them.
    """
    sheets = _Sheets(grids)
    problems = Problems()
    for grid in grids.values():
        problems.add(grid.issues)
    missing = [name for name in c.REQUIRED_SHEETS if not sheets.has(name)]
    for name in missing:
        problems.error(name, f"sheet is missing: add a sheet named {name!r}")

    market, market_cells, market_letters = _read_market(sheets, problems)
    as_of = market.get("as_of")
    valuation = _AsOf(as_of, market_cells["as_of"]) if isinstance(as_of, dt.date) else None
    tables = {name: sheets.table(name, problems) for name in c.INPUT_SHEETS if name != c.MARKET}
    if not sheets.has(c.SETTINGS):
        problems.warning(c.SETTINGS, "no Settings sheet: the default settings are used")
    if not sheets.has(c.RULES):
        problems.warning(
            c.RULES,
            "no Rules sheet: the default layer triggers are used (`alvh init` writes them; "
            "README: The Rules sheet)",
        )
    positions = _positions(tables[c.POSITIONS], valuation, problems)
    futures = _vix_futures(tables[c.VIX_FUTURES], valuation, problems)
    options = _chain(tables[c.VIX_OPTIONS], valuation, problems, _vix_chain_rules(futures))
    spx_rules = _spx_chain_rules(market.get("spx"))
    spx_options = _chain(tables[c.SPX_OPTIONS], valuation, problems, spx_rules)
    history = _history(tables[c.HISTORY], valuation, problems)
    _check_levels(market, market_cells, history, tables[c.HISTORY], problems)
    calendar = _calendar(tables[c.CALENDAR], problems)
    settings = _settings(tables[c.SETTINGS], problems)
    rules = _rules(tables[c.RULES], problems)
    if problems.errors:
        raise InputError(problems.errors)
    letters = {name: t.letters for name, t in tables.items() if t is not None}
    if market_letters:
        letters[c.MARKET] = market_letters
    return Inputs(
        positions=positions,
        market=market,
        vix_futures=futures,
        history=history,
        calendar=calendar,
        settings=settings,
        columns=letters,
        vix_options=options,
        spx_options=spx_options,
        market_cells=market_cells,
        warnings=tuple(problems.warnings),
        rules=rules,
    )


class _Sheets:
    """The input sheets' grids by case-insensitive name, each parsed into a located table."""

    def __init__(self, grids: Mapping[str, SheetGrid]) -> None:
        self._by_key = {_key(name): grid for name, grid in grids.items()}

    def has(self, name: str) -> bool:
        return name.casefold() in self._by_key

    def table(self, name: str, problems: Problems) -> Table | None:
        """The contract table of sheet `name`, or None when it is absent or unusable."""
        if not self.has(name):
            return None
        rows, start, issues = self._by_key[name.casefold()]
        if start is None and any(i.severity == "error" for i in issues):
            return None  # the adapter refused the sheet and said why
        return parse_table(name, rows, start, c.SHEET_COLUMNS[name], problems)


@dataclass(frozen=True)
class _AsOf:
    """The valuation date and the Market cell it came from, for messages that compare to it."""

    date: dt.date
    cell: str

    def text(self) -> str:
        return f"the As Of date {self.date.isoformat()} (Market!{self.cell})"


# --- Market -----------------------------------------------------------------------------------

_MARKET_BY_KEY = {
    **{c.header_key(f.field): f for f in c.MARKET_FIELDS},
    **{c.header_key(f.label): f for f in c.MARKET_FIELDS},
}


def _read_market(
    sheets: _Sheets, problems: Problems
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Field/Value pairs -> (values, value cells, column letters)."""
    table = sheets.table(c.MARKET, problems)
    if table is None:
        return {}, {}, {}
    values: dict[str, Any] = {}
    cells: dict[str, str] = {}
    rows: dict[str, int] = {}
    for i, label in enumerate(table.texts("field")):
        raw = table.values["value"][i]
        if not label:
            if not is_blank(raw):
                problems.warning(
                    c.MARKET,
                    f"value {show(raw)} has no Field name and is ignored",
                    table.cell("field", i),
                    table.headers["field"],
                )
            continue
        spec = _MARKET_BY_KEY.get(c.header_key(label))
        name = spec.field if spec else c.field_name(label)
        if not name:
            continue
        if name in rows:
            problems.error(
                c.MARKET,
                f"{label!r} appears twice (rows {rows[name]} and {table.rows[i]}): keep one",
                table.cell("field", i),
                table.headers["field"],
            )
            continue
        rows[name] = table.rows[i]
        cells[name] = table.cell("value", i)
        if spec is None:
            values[name] = None if is_blank(raw) else raw
            continue
        value = _market_value(spec, raw, cells[name], problems)
        if value is not None:
            values[name] = value
    for spec in c.MARKET_FIELDS:
        if spec.required and spec.field not in rows:
            problems.error(
                c.MARKET,
                f"no {spec.label!r} row: add a row with Field {spec.label!r} and its value "
                f"({spec.description})",
                None,
                table.headers["field"],
            )
    values.setdefault("dividend_yield", 0.0)
    return values, cells, table.letters


def _market_value(spec: c.MarketField, raw: RawCell, cell: str, problems: Problems) -> Any:
    """One known Market value, converted and checked; None when blank or wrong."""
    kind = "date" if spec.kind == "date" else "number"
    try:
        value = to_date(raw) if spec.kind == "date" else to_number(raw)
    except CellError as exc:
        problems.error(c.MARKET, f"{spec.label}: {exc}", cell, spec.label)
        return None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if spec.required and not problems.flagged(c.MARKET, cell):
            problems.error(c.MARKET, f"{spec.label} is blank: enter a {kind}", cell, spec.label)
        return None
    if spec.field in _POSITIVE_MARKET and isinstance(value, float) and value <= 0:
        problems.error(c.MARKET, f"{spec.label} {show(raw)} must be above 0", cell, spec.label)
        return None
    if spec.field in _FRACTION_MARKET and isinstance(value, float):
        if value > 1:
            problems.error(
                c.MARKET,
                f"{spec.label} {show(value)} looks like a percentage typed as a number "
                f"({show(value)} means {value * 100:g}%): enter {value / 100:g} or {show(value)}%",
                cell,
                spec.label,
            )
            return None
        if spec.field == "dividend_yield" and value < 0:
            problems.error(c.MARKET, f"{spec.label} {show(raw)} is negative", cell, spec.label)
            return None
    bounds = _MARKET_RANGES.get(spec.field)
    if bounds is not None and isinstance(value, float) and not bounds[0] <= value <= bounds[1]:
        low, high = bounds
        fraction = spec.field in _FRACTION_MARKET
        shown = f"{value:g} ({value:.2%})" if fraction else _plain(value)
        span = f"{low:.0%} to {high:.0%}" if fraction else f"{_plain(low)} to {_plain(high)}"
        problems.error(
            c.MARKET,
            f"{spec.label} {shown} is outside the plausible range {span}: check the cell",
            cell,
            spec.label,
        )
        return None
    return value


def _plain(number: float) -> str:
    """1,000,000 rather than 1e+06 where a whole number is readable; 1e+308 stays short."""
    return f"{number:,.0f}" if number.is_integer() and abs(number) < 1e9 else f"{number:,.6g}"


def _check_levels(
    market: Mapping[str, Any],
    cells: Mapping[str, str],
    history: pd.DataFrame,
    table: Table | None,
    problems: Problems,
) -> None:
    """A Market level far from the last History close of the same series means a typo in one."""
    if table is None:
        return
    for field, column, low, high in _LEVEL_CHECKS:
        level = market.get(field)
        if not isinstance(level, float) or column not in history.columns:
            continue
        known = history[column].notna().to_numpy().nonzero()[0]
        if not len(known):
            continue
        last = float(history[column].iloc[known[-1]])
        if last <= 0:
            continue  # reported at its own cell
        ratio = level / last
        if low <= ratio <= high:
            continue
        day = history.index[known[-1]].date().isoformat()
        where = f"{c.HISTORY}!{table.letters[column]}{int(history['row'].iloc[known[-1]])}"
        label = table.headers[column]
        problems.error(
            c.MARKET,
            f"{field.upper()} {level:,.2f} is {ratio:.3g}x the last {label} in History "
            f"({last:,.2f} on {day}, {where}): one of them is mistyped",
            cells[field],
            field.upper(),
        )


# --- row checks shared by several sheets ----------------------------------------------------------


def _check_iv(table: Table, i: int, iv: float, problems: Problems) -> None:
    """IV is a fraction (0.25); a number above 5 is almost surely 25 meaning 25%."""
    if math.isnan(iv):
        return
    cell = table.cell("iv", i)
    header = table.headers["iv"]
    if iv < 0:
        problems.error(table.sheet, f"IV {show(iv)} is negative", cell, header)
    elif iv == 0:
        problems.error(
            table.sheet,
            "IV is 0: enter the implied vol (e.g. 0.18), or leave it blank to solve it from Mark",
            cell,
            header,
        )
    elif iv > 5:
        problems.error(
            table.sheet,
            f"IV {show(iv)} looks like a percentage typed as a number ({iv * 100:g}%): "
            f"enter {iv / 100:g} or {show(iv)}%",
            cell,
            header,
        )


def _check_not_negative(
    table: Table, fieldname: str, i: int, value: float, problems: Problems, hint: str = ""
) -> None:
    if not math.isnan(value) and value < 0:
        header = table.headers[fieldname]
        problems.error(
            table.sheet,
            f"{header} {show(value)} is negative: enter 0 or more{hint}",
            table.cell(fieldname, i),
            header,
        )


#: Sizes no real value reaches, by sheet and field; beyond them a cell is a typo, and would
#: overflow the math.
#: (sheet, field) -> the size no real value reaches (contract.Column.limit).
_LIMITS = {
    (sheet, col.field): col.limit
    for sheet, columns in c.SHEET_COLUMNS.items()
    for col in columns
    if col.limit is not None
}


def _check_plausible(
    table: Table, fieldname: str, i: int, value: float, problems: Problems
) -> None:
    limit = _LIMITS.get((table.sheet, fieldname))
    if limit is not None and not math.isnan(value) and abs(value) > limit:
        header = table.headers[fieldname]
        problems.error(
            table.sheet,
            f"{header} {value:g} is implausibly large (more than {limit:,.0f} in size)",
            table.cell(fieldname, i),
            header,
        )


def _require(
    table: Table, fieldname: str, i: int, blank: bool, what: str, problems: Problems
) -> bool:
    """Report a blank required cell (unless it already has an error); True when it is usable."""
    cell = table.cell(fieldname, i)
    if blank and not problems.flagged(table.sheet, cell):
        header = table.headers[fieldname]
        problems.error(table.sheet, f"{header} is blank: {what}", cell, header)
    return not blank


def _duplicates(
    table: Table, fieldname: str, keys: Sequence[object], label: Sequence[str], problems: Problems
) -> None:
    """Report every key seen before, naming both rows."""
    seen: dict[object, int] = {}
    for i, key in enumerate(keys):
        if key is None:
            continue
        if key in seen:
            header = table.headers[fieldname]
            problems.error(
                table.sheet,
                f"{label[i]} appears twice (rows {seen[key]} and {table.rows[i]}): keep one row",
                table.cell(fieldname, i),
                header,
            )
        else:
            seen[key] = table.rows[i]


def _extras(table: Table, problems: Problems) -> dict[str, list[object]]:
    return {name: table.extra(name, problems) for name in table.extras}


def _frame(columns: dict[str, list[Any]], keep: Sequence[bool]) -> pd.DataFrame:
    """One DataFrame from python lists, keeping the rows where `keep` is true."""
    if all(keep):
        return pd.DataFrame(columns)
    return pd.DataFrame(
        {
            name: [v for v, k in zip(values, keep, strict=True) if k]
            for name, values in columns.items()
        }
    )


# --- Positions --------------------------------------------------------------------------------

_POSITION_COLUMNS = tuple(col.field for col in c.SHEET_COLUMNS[c.POSITIONS])
_PRICE_HINT = " (prices are per unit and positive; the sign of Qty says long or short)"


def _positions(table: Table | None, as_of: _AsOf | None, problems: Problems) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame({name: [] for name in (*_POSITION_COLUMNS, "row")})
    if not table.rows:
        problems.error(
            c.POSITIONS,
            "there are no positions: add one row per leg below the header",
            f"{table.first_column}{table.header_row + 1}",
        )
    groups = table.texts("group")
    underlyings = [u.upper() for u in table.texts("underlying")]
    types = _position_types(table, problems)
    expiries = table.dates("expiry", problems)
    strikes = table.numbers("strike", problems)
    qtys = table.numbers("qty", problems)
    multipliers = table.numbers("multiplier", problems)
    entries = table.numbers("entry_price", problems)
    ivs = table.numbers("iv", problems)
    marks = table.numbers("mark", problems)
    keep = _check_positions(
        table,
        _PositionColumns(
            groups, underlyings, types, expiries, strikes, qtys, multipliers, entries, ivs, marks
        ),
        as_of,
        problems,
    )
    columns: dict[str, list[Any]] = {
        "group": groups,
        "underlying": underlyings,
        "type": types,
        "expiry": expiries,
        "strike": strikes,
        "qty": qtys,
        "multiplier": multipliers,
        "entry_price": entries,
        "iv": ivs,
        "mark": marks,
        **_extras(table, problems),
        "row": table.rows,
    }
    return _frame(columns, keep)


class _PositionColumns(NamedTuple):
    """The Positions columns, converted (numbers are NaN where blank or wrong)."""

    groups: list[str]
    underlyings: list[str]
    types: list[str]
    expiries: list[dt.date | None]
    strikes: list[float]
    qtys: list[float]
    multipliers: list[float]
    entries: list[float]
    ivs: list[float]
    marks: list[float]


def _rows(mask: npt.NDArray[np.bool_]) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)]


def _check_positions(
    table: Table, legs: _PositionColumns, as_of: _AsOf | None, problems: Problems
) -> list[bool]:
    """Report every bad Positions cell and fill blank multipliers; returns which rows to keep.

    Each check finds its rows in bulk and reports only those, so a clean 20,000-leg book costs
    a few milliseconds rather than a Python pass over every cell.
    """
    types = np.array(legs.types, dtype=object)
    strikes, qtys = np.array(legs.strikes), np.array(legs.qtys)
    multipliers, ivs = np.array(legs.multipliers), np.array(legs.ivs)
    option = np.isin(types, ["CALL", "PUT"])
    for i in _rows(np.array([not g for g in legs.groups], dtype=bool)):
        _require(table, "group", i, True, "give each leg a group name", problems)
    for i in _rows(np.array([not u for u in legs.underlyings], dtype=bool)):
        _require(table, "underlying", i, True, "enter SPX, VIX, VXX, ...", problems)
    for i in _rows(option & ~(strikes > 0)):
        _check_strike(table, i, legs.strikes[i], legs.types[i], problems)
    dated = np.isin(types, ["CALL", "PUT", "FUTURE"])
    undated = np.array([e is None for e in legs.expiries], dtype=bool)
    for i in _rows(dated & undated):
        what = f"a {legs.types[i].lower()} needs an expiry date"
        _require(table, "expiry", i, True, what, problems)
    if as_of is not None:
        early = np.array([e is not None and e < as_of.date for e in legs.expiries], dtype=bool)
        for i in _rows(dated & early):
            _check_expiry(table, i, legs.expiries[i], as_of, problems)
    for i in _rows(np.isnan(qtys)):
        what = "enter the signed number of contracts (negative = short)"
        _require(table, "qty", i, True, what, problems)
    keep = qtys != 0
    for i in _rows(~keep):
        problems.warning(
            c.POSITIONS, "Qty is 0: this row is ignored", table.cell("qty", i), table.headers["qty"]
        )
    for i in _rows(np.isnan(multipliers)):
        key = (legs.underlyings[i], legs.types[i])
        legs.multipliers[i] = c.DEFAULT_MULTIPLIERS.get(key, c.DEFAULT_MULTIPLIER)
    for i in _rows(multipliers <= 0):
        header = table.headers["multiplier"]
        problems.error(
            c.POSITIONS,
            f"{header} {show(legs.multipliers[i])} must be above 0 (or blank for the default)",
            table.cell("multiplier", i),
            header,
        )
    for name, values in (("entry_price", legs.entries), ("mark", legs.marks)):
        for i in _rows(np.array(values) < 0):
            _check_not_negative(table, name, i, values[i], problems, _PRICE_HINT)
    for name, values in (
        ("qty", legs.qtys),
        ("strike", legs.strikes),
        ("multiplier", legs.multipliers),
        ("entry_price", legs.entries),
        ("mark", legs.marks),
    ):
        if name in table.headers:
            for i in _rows(np.abs(np.array(values)) > _LIMITS[(c.POSITIONS, name)]):
                _check_plausible(table, name, i, values[i], problems)
    if "iv" in table.values:
        for i in _rows((ivs <= 0) | (ivs > 5)):
            _check_iv(table, i, legs.ivs[i], problems)
    return [bool(k) for k in keep]


def _position_types(table: Table, problems: Problems) -> list[str]:
    out: list[str] = []
    header = table.headers["type"]
    for i, raw in enumerate(table.column("type")):
        text = raw.strip().upper() if isinstance(raw, str) else ""
        kind = _TYPE_SYNONYMS.get(text, "")
        if not kind:
            message = (
                f"Type is blank: expected {_TYPES_TEXT}"
                if is_blank(raw)
                else f"{show(raw)} is not a position type: expected {_TYPES_TEXT}"
            )
            problems.error(c.POSITIONS, message, table.cell("type", i), header)
        out.append(kind)
    return out


def _check_strike(table: Table, i: int, strike: float, kind: str, problems: Problems) -> None:
    what = f"a {kind.lower()} needs a strike"
    if _require(table, "strike", i, math.isnan(strike), what, problems) and strike <= 0:
        header = table.headers["strike"]
        problems.error(
            table.sheet, f"{header} {show(strike)} must be above 0", table.cell("strike", i), header
        )


def _check_expiry(
    table: Table, i: int, expiry: dt.date | None, as_of: _AsOf | None, problems: Problems
) -> None:
    if expiry is not None and as_of is not None and expiry < as_of.date:
        header = table.headers["expiry"]
        problems.error(
            table.sheet,
            f"expiry {expiry.isoformat()} is before {as_of.text()}: remove or roll the expired leg",
            table.cell("expiry", i),
            header,
        )


# --- VIX Futures and VIX Options ------------------------------------------------------------------


def _expired(
    table: Table, expiries: Sequence[dt.date | None], as_of: _AsOf | None, problems: Problems
) -> list[bool]:
    """Keep-mask that drops contracts expiring before As Of, with one warning naming their rows."""
    if as_of is None:
        return [True] * len(expiries)
    keep = [e is None or e >= as_of.date for e in expiries]
    dropped = [str(r) for r, k in zip(table.rows, keep, strict=True) if not k]
    if dropped:
        problems.warning(
            table.sheet,
            f"{len(dropped)} expired contract(s) with expiry before {as_of.text()} are ignored "
            f"(rows {', '.join(dropped)})",
        )
    return keep


#: A live VIX future more than this many times the median of the live curve, or less than its
#: inverse, is probably mistyped (a dropped or extra digit). The most inverted curve on record,
#: 2020-03-16, had its front month (72.6) at about twice the curve's median.
_CURVE_MEDIAN_RATIO = 3.0


def _vix_futures(table: Table | None, as_of: _AsOf | None, problems: Problems) -> pd.DataFrame:
    """The curve, sorted by expiry; rows out of order and outlying prices are warnings."""
    if table is None:
        return pd.DataFrame({"expiry": [], "price": [], "row": []})
    expiries = table.dates("expiry", problems)
    prices = table.numbers("price", problems)
    for i in range(len(table.rows)):
        _require(table, "expiry", i, expiries[i] is None, "enter the contract's expiry", problems)
        _check_positive(table, "price", i, prices[i], True, problems)
        _check_plausible(table, "price", i, prices[i], problems)
    labels = [f"expiry {e.isoformat()}" if e else "" for e in expiries]
    _duplicates(table, "expiry", expiries, labels, problems)
    _check_order(table, expiries, problems)
    keep = _expired(table, expiries, as_of, problems)
    columns: dict[str, list[Any]] = {
        "expiry": expiries,
        "price": prices,
        **_extras(table, problems),
        "row": table.rows,
    }
    frame = _frame(columns, keep).sort_values("expiry", kind="stable", ignore_index=True)
    _check_curve_outliers(table, frame, problems)
    return frame


def _check_order(table: Table, expiries: Sequence[dt.date | None], problems: Problems) -> None:
    """One warning at the first expiry earlier than the one above it. The curve is read sorted
    by expiry, which is right only when each price sits on its own contract's row."""
    above: tuple[dt.date, int] | None = None
    for i, expiry in enumerate(expiries):
        if expiry is None:
            continue
        if above is not None and expiry < above[0]:
            problems.warning(
                table.sheet,
                f"expiry {expiry.isoformat()} in row {table.rows[i]} is earlier than "
                f"{above[0].isoformat()} in row {above[1]} above it: the expiries are not in "
                "ascending order. The curve is read sorted by expiry; check that each price is "
                "on its own contract's row",
                table.cell("expiry", i),
                table.headers["expiry"],
            )
            return
        above = (expiry, table.rows[i])


def _check_curve_outliers(table: Table, curve: pd.DataFrame, problems: Problems) -> None:
    """A warning at each live price beyond `_CURVE_MEDIAN_RATIO` times the curve's median, either
    way (with at least three live contracts: with two, neither can be told to be the odd one)."""
    prices = curve["price"].to_numpy(dtype=float)
    usable = np.isfinite(prices) & (prices > 0)
    if usable.sum() < 3:
        return
    median = float(np.median(prices[usable]))
    header = table.headers["price"]
    for price, row in zip(prices[usable], curve["row"].to_numpy()[usable], strict=True):
        ratio = price / median
        if 1.0 / _CURVE_MEDIAN_RATIO <= ratio <= _CURVE_MEDIAN_RATIO:
            continue
        problems.warning(
            table.sheet,
            f"{header} {show(float(price))} is {ratio:.3g}x the median {show(median)} of the "
            f"{int(usable.sum())} live contracts (more than {_CURVE_MEDIAN_RATIO:g}x either way): "
            "a mistyped price? It is used as given",
            f"{table.letters['price']}{int(row)}",
            header,
        )


def _check_positive(
    table: Table, fieldname: str, i: int, value: float, required: bool, problems: Problems
) -> None:
    header = table.headers.get(fieldname, fieldname)
    if required and not _require(
        table, fieldname, i, math.isnan(value), f"enter the {header.lower()}", problems
    ):
        return
    if value <= 0:
        cell = table.cell(fieldname, i)
        problems.error(table.sheet, f"{header} {show(value)} must be above 0", cell, header)


#: The price and size columns of each option chain (all optional cells, never negative).
_CHAIN_NUMBERS = {
    c.VIX_OPTIONS: ("call_bid", "call_ask", "open_interest"),
    c.SPX_OPTIONS: ("call_bid", "call_ask", "put_bid", "put_ask"),
}
#: The (bid, ask) pairs of each chain: a bid above its ask is a crossed quote, not a price.
_CHAIN_QUOTES = {
    c.VIX_OPTIONS: (("call_bid", "call_ask"),),
    c.SPX_OPTIONS: (("call_bid", "call_ask"), ("put_bid", "put_ask")),
}
#: The highest implied vol a chain row may carry (a fraction: 3.0 = 300%). VVIX, the 30-day
#: implied vol of VIX options, peaked near 212 (2020) and VIX, SPX's, closed at 82.69 at its
#: highest (2020-03-16): a chain IV above 300% is a typo (25 for 25%) or a broken quote.
_CHAIN_IV_MAX = 3.0
#: Plausible VIX option strikes, index points: the range the Market sheet accepts for VIX itself
#: (VIX closed between 9 and 83 in 1990-2025).
_VIX_STRIKES = (1.0, 200.0)
#: Plausible SPX option strikes, as multiples of the Market SPX level; and a fixed range, index
#: points, when the Market sheet gives no usable SPX (wider than any level SPX options have traded
#: at since their listing in 1983, when the index stood near 150).
_SPX_STRIKE_FACTORS = (0.2, 5.0)
_SPX_STRIKES = (50.0, 50_000.0)


class _ChainRules(NamedTuple):
    """What a chain row must satisfy beyond the types of its cells."""

    #: (lowest, highest) plausible strike, and how that range was set, for the message
    strikes: tuple[float, float]
    strike_basis: str
    #: VIX Options: the live VIX futures' expiries (an option is priced on the future of its own
    #: expiry); None when not checked (SPX Options, or a VIX Futures sheet without live contracts)
    listed: frozenset[dt.date] | None


def _vix_chain_rules(futures: pd.DataFrame) -> _ChainRules:
    listed = frozenset(e for e in futures["expiry"] if isinstance(e, dt.date))
    return _ChainRules(_VIX_STRIKES, "VIX index points", listed or None)


def _spx_chain_rules(spx: object) -> _ChainRules:
    if isinstance(spx, float) and spx > 0:
        low, high = _SPX_STRIKE_FACTORS
        basis = f"{low:g}x to {high:g}x the Market SPX {spx:,.2f}"
        return _ChainRules((low * spx, high * spx), basis, None)
    return _ChainRules(_SPX_STRIKES, "index points: the Market sheet gives no SPX", None)


def _chain(
    table: Table | None, as_of: _AsOf | None, problems: Problems, rules: _ChainRules
) -> pd.DataFrame | None:
    """An optional option chain (VIX Options, SPX Options), sorted by expiry and strike; None
    when the sheet is absent (or unusable, which is reported).

    A chain is market data, not the book: a row with a bad cell (not a number or date, a blank
    expiry or strike, a negative or implausible price, an IV outside (0, 300%], a strike outside
    `rules.strikes`, a bid above its ask, a VIX option without a future of its expiry, a second
    row of the same expiry and strike) is left out, with a warning at each bad cell saying that
    the row is skipped, and everything else is read as usual.
    """
    if table is None:
        return None
    found = Problems()  # each live row's problems, reported below as warnings that skip it
    expiries = table.dates("expiry", found)
    strikes = table.numbers("strike", found)
    optional_iv = ("iv",) if "iv" in table.values else ()
    numbers = {
        name: table.numbers(name, found) for name in (*_CHAIN_NUMBERS[table.sheet], *optional_iv)
    }
    extras = {name: table.extra(name, found) for name in table.extras if name not in numbers}
    live = _expired(table, expiries, as_of, problems)
    for i in (i for i, ok in enumerate(live) if ok):
        _check_chain_row(table, i, expiries[i], strikes[i], numbers, found)
        _check_chain_market(table, i, expiries[i], strikes[i], numbers, rules, found)
    bad = _rows_with_problems(table, found)
    keys = [
        (e, s) if e and ok and i not in bad else None
        for i, (e, s, ok) in enumerate(zip(expiries, strikes, live, strict=True))
    ]
    labels = [
        f"expiry {e.isoformat()} strike {show(s)}" if e else ""
        for e, s in zip(expiries, strikes, strict=True)
    ]
    _duplicates(table, "expiry", keys, labels, found)
    keep = _skip_rows(table, found, live, problems)
    columns: dict[str, list[Any]] = {
        "expiry": expiries,
        "strike": strikes,
        **numbers,
        **extras,
        "row": table.rows,
    }
    frame = _frame(columns, keep)
    return frame.sort_values(["expiry", "strike"], kind="stable", ignore_index=True)


def _check_chain_row(
    table: Table,
    i: int,
    expiry: dt.date | None,
    strike: float,
    numbers: Mapping[str, list[float]],
    found: Problems,
) -> None:
    """The cells of one chain row: expiry and strike given, prices and IV plausible."""
    _require(table, "expiry", i, expiry is None, "enter the option's expiry", found)
    _check_positive(table, "strike", i, strike, True, found)
    for name in _CHAIN_NUMBERS[table.sheet]:
        if name in table.values:
            _check_not_negative(table, name, i, numbers[name][i], found)
            _check_plausible(table, name, i, numbers[name][i], found)
    iv = numbers["iv"][i] if "iv" in numbers else math.nan
    if not (math.isnan(iv) or 0 < iv <= _CHAIN_IV_MAX):
        header = table.headers["iv"]
        why = f"{header} {show(iv)} is not above 0: no option trades at zero or negative vol"
        if iv > 0:
            why = f"{header} {show(iv)} ({iv:.0%}) is above {_CHAIN_IV_MAX:.0%}, more than these "
            why += "options trade at"
            if iv > 5:
                why += f" (a percentage typed as a number? enter {iv / 100:g} or {show(iv)}%)"
        found.error(table.sheet, why, table.cell("iv", i), header)


def _check_chain_market(
    table: Table,
    i: int,
    expiry: dt.date | None,
    strike: float,
    numbers: Mapping[str, list[float]],
    rules: _ChainRules,
    found: Problems,
) -> None:
    """One chain row against the market: a sane strike, an uncrossed quote, a future to price
    a VIX option on."""
    low, high = rules.strikes
    if strike > 0 and not low <= strike <= high:
        header = table.headers["strike"]
        found.error(
            table.sheet,
            f"{header} {show(strike)} is outside the plausible range {_plain(low)} to "
            f"{_plain(high)} ({rules.strike_basis})",
            table.cell("strike", i),
            header,
        )
    for bid, ask in _CHAIN_QUOTES[table.sheet]:
        if bid not in table.values or ask not in table.values:
            continue
        cells = (table.cell(bid, i), table.cell(ask, i))
        if numbers[bid][i] > numbers[ask][i] and not any(
            found.flagged(table.sheet, cell) for cell in cells
        ):
            found.error(
                table.sheet,
                f"{table.headers[bid]} {show(numbers[bid][i])} is above {table.headers[ask]} "
                f"{show(numbers[ask][i])}: a crossed quote is not a price",
                cells[0],
                table.headers[bid],
            )
    if rules.listed is not None and expiry is not None and expiry not in rules.listed:
        listed = ", ".join(e.isoformat() for e in sorted(rules.listed))
        found.error(
            table.sheet,
            f"expiry {expiry.isoformat()} matches no live contract of the {c.VIX_FUTURES} sheet "
            f"({listed}): a VIX option is priced on the future of its own expiry, and this one "
            "has none",
            table.cell("expiry", i),
            table.headers["expiry"],
        )


def _row_of(cell: str | None) -> int:
    """The row number of an A1 address ("E12" -> 12); every chain check names its cell."""
    return int((cell or "").lstrip(string.ascii_uppercase))


def _rows_with_problems(table: Table, found: Problems) -> set[int]:
    """Data-row indices (0-based) with a problem in `found`."""
    index = {row: i for i, row in enumerate(table.rows)}
    return {index[_row_of(issue.cell)] for issue in found.errors}


def _skip_rows(
    table: Table, found: Problems, live: Sequence[bool], problems: Problems
) -> list[bool]:
    """Report each problem of a live row as a warning that says the row is skipped; the mask of
    rows to keep (live and without problems)."""
    keep = list(live)
    index = {row: i for i, row in enumerate(table.rows)}
    for issue in found.errors:
        i = index[_row_of(issue.cell)]
        if live[i]:
            keep[i] = False
            message = f"{issue.message}; row {table.rows[i]} is skipped"
            problems.warning(table.sheet, message, issue.cell, issue.column)
    return keep


# --- History ----------------------------------------------------------------------------------

_HISTORY_NUMBERS = tuple(col.field for col in c.SHEET_COLUMNS[c.HISTORY] if col.kind == "number")


def _history(table: Table | None, as_of: _AsOf | None, problems: Problems) -> pd.DataFrame:
    if table is None:
        empty = pd.DataFrame({"spx_close": [], "row": []}, index=pd.DatetimeIndex([]))
        return empty.rename_axis("date")
    dates = table.dates("date", problems)
    for i in range(len(table.rows)):
        _require(table, "date", i, dates[i] is None, "enter the trading day's date", problems)
    _duplicates(table, "date", dates, [f"date {d}" for d in dates], problems)
    columns: dict[str, list[Any]] = {
        name: list(table.numbers(name, problems))
        for name in _HISTORY_NUMBERS
        if name in table.values
    }
    for name, values in columns.items():
        for i, value in enumerate(values):
            _check_positive(table, name, i, value, False, problems)
            _check_plausible(table, name, i, value, problems)
    columns.update(_extras(table, problems))
    columns["row"] = table.rows
    keep = [d is not None and (as_of is None or d <= as_of.date) for d in dates]
    if as_of is not None:
        after = sum(1 for d in dates if d is not None and d > as_of.date)
        if after:
            problems.warning(c.HISTORY, f"{after} row(s) dated after {as_of.text()} are ignored")
    frame = _frame(columns, keep)
    kept = [d for d, k in zip(dates, keep, strict=True) if k and d is not None]
    frame.index = pd.DatetimeIndex(pd.to_datetime(kept), name="date").normalize()
    return frame.sort_index(kind="stable")


# --- Calendar and Settings ------------------------------------------------------------------------


def _calendar(table: Table | None, problems: Problems) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame({"date": [], "event": [], "note": [], "row": []})
    dates = table.dates("date", problems)
    events = table.texts("event")
    for i in range(len(table.rows)):
        _require(table, "date", i, dates[i] is None, "enter the event's date", problems)
        _require(table, "event", i, not events[i], "name the event (FOMC, CPI, ...)", problems)
    columns: dict[str, list[Any]] = {
        "date": dates,
        "event": events,
        "note": table.texts("note"),
        **_extras(table, problems),
        "row": table.rows,
    }
    frame = _frame(columns, [True] * len(table.rows))
    if frame.empty:
        return frame
    order = sorted(range(len(dates)), key=lambda i: (dates[i] or dt.date.max, i))
    return frame.iloc[order].reset_index(drop=True)


def _settings(table: Table | None, problems: Problems) -> dict[str, SettingCell]:
    """Setting name (lower case) -> raw value and its cell; checking them is the host's job."""
    if table is None:
        return {}
    out: dict[str, SettingCell] = {}
    rows: dict[str, int] = {}
    header = table.headers["setting"]
    for i, name in enumerate(table.texts("setting")):
        raw = table.values["value"][i]
        key = name.lower()
        if not key:
            if not is_blank(raw):
                problems.warning(
                    c.SETTINGS,
                    f"value {show(raw)} has no Setting name and is ignored",
                    table.cell("setting", i),
                    header,
                )
            continue
        if key in rows:
            problems.error(
                c.SETTINGS,
                f"setting {name!r} appears twice (rows {rows[key]} and {table.rows[i]}): keep one",
                table.cell("setting", i),
                header,
            )
            continue
        rows[key] = table.rows[i]
        value = str(raw) if isinstance(raw, dt.time | dt.timedelta) else raw
        out[key] = SettingCell(None if is_blank(value) else value, table.cell("value", i))
    return out


# --- Rules --------------------------------------------------------------------------------------

#: The layer numbers a Rules row may gate: 1 to the contract's limit.
_LAYERS = (1, int(_LIMITS[(c.RULES, "layer")]))


def _rules(table: Table | None, problems: Problems) -> tuple[Rule, ...]:
    """One trigger per hedge layer, in sheet order, each with its Trigger cell. Rows with neither
    Layer nor Trigger are skipped; the triggers themselves are checked by `rules.check_rules`,
    which knows the loaded signals. An absent sheet gives no rules (the engine then uses the
    defaults); a sheet without any is an error, never silently the defaults."""
    if table is None:
        return ()
    layers = table.numbers("layer", problems)
    raw_layers = table.column("layer")
    triggers = [
        str(v) if isinstance(v, bool) else text  # a typed True becomes Excel's TRUE
        for v, text in zip(table.column("trigger"), table.texts("trigger"), strict=True)
    ]
    notes = table.texts("note")
    layer_header, trigger_header = table.headers["layer"], table.headers["trigger"]
    rules: list[Rule] = []
    seen: dict[int, int] = {}
    filled = [i for i in range(len(table.rows)) if triggers[i] or not is_blank(raw_layers[i])]
    if not filled:
        problems.error(
            c.RULES,
            f"the sheet has no rules: add one row per hedge layer ({layer_header}, "
            f"{trigger_header}), or delete the sheet to use the default rules",
            f"{table.first_column}{table.header_row + 1}",
        )
    for i in filled:
        row, layer_cell = table.rows[i], table.cell("layer", i)
        _require(
            table, "trigger", i, not triggers[i], "enter the layer's trigger, e.g. True", problems
        )
        if problems.flagged(c.RULES, layer_cell):
            continue
        if is_blank(raw_layers[i]):
            problems.error(
                c.RULES,
                f"{layer_header} is blank: enter the hedge layer ({_LAYERS[0]}-{_LAYERS[1]}) "
                "this trigger gates",
                layer_cell,
                layer_header,
            )
            continue
        number = layers[i]
        if not (number.is_integer() and _LAYERS[0] <= number <= _LAYERS[1]):
            problems.error(
                c.RULES,
                f"{layer_header} {show(number)} is not a whole number from {_LAYERS[0]} to "
                f"{_LAYERS[1]}",
                layer_cell,
                layer_header,
            )
            continue
        layer = int(number)
        if layer in seen:
            problems.error(
                c.RULES,
                f"layer {layer} appears twice (rows {seen[layer]} and {row}): keep one row per "
                "layer",
                layer_cell,
                layer_header,
            )
            continue
        seen[layer] = row
        if triggers[i]:
            rules.append(Rule(layer, triggers[i], table.cell("trigger", i), notes[i]))
    return tuple(rules)
