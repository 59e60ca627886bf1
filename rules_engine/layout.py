"""Laying Outputs out as the five engine-owned sheets, the same for every adapter.

Each sheet starts with the ownership marker in A1 (so a same-named user sheet is never
overwritten), then titled tables separated by a blank row. Positions are stable: the Hedge table's
header is always row 4 and layer 1 is row 5, so user formulas that read our cells keep working
across recomputes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from rules_engine.contract import HEDGE, LOG, LOG_COLUMNS, OWNED_MARKER, RISK, RUN, SIGNALS
from rules_engine.logbook import MAX_LOG_ROWS
from rules_engine.models import CellValue, FormatRun, Issue, LoggedLayer, Outputs, SheetCells

#: Column-name patterns -> number format kind (see contract.NUMBER_FORMAT_IDS).
_FORMAT_RULES: tuple[tuple[str, str], ...] = (
    ("($)", "money"),
    ("$Delta", "money"),
    ("$Gamma", "money"),
    ("$Vega", "money"),
    ("$Theta", "money"),
    ("Vanna", "money"),
    ("Vomma", "money"),
    ("(SPX pts)", "money"),
    ("Share of Loss", "percent"),
    ("Target Share", "percent"),
    ("Share Covered", "percent"),
    ("(%)", "percent"),
    ("SPX Move", "percent"),
    ("IV", "percent"),
    ("Contracts", "integer"),
    ("Legs", "integer"),
    ("Days", "integer"),
)
#: Exact column names shown with two decimals (prices and levels).
_TWO_DECIMALS = frozenset(
    {
        "Price (VIX pts)",
        "Model Price",
        "Underlying Price",
        "Break-even Low (SPX)",
        "Break-even High (SPX)",
        "Strength (0-1)",
        "VIX",
        "SPX",
    }
)
_TEXT_COLUMNS_WIDE = {"Why": 90.0, "Trigger": 60.0, "Exit Rule": 60.0, "Explanation": 80.0}
#: The Log's columns that need more room than their headers: a date and time, a hash, a name.
_LOG_WIDTHS = {0: 18.0, 1: 18.0, 4: 40.0}
NOT_COMPUTED = "Not computed: the inputs have errors. See the Run sheet for each one."
#: What the result sheets say instead of figures, by how the run ended.
_NOT_COMPUTED_BECAUSE = {
    "input errors": NOT_COMPUTED,
    "plugin failed": "Not computed: the sizer failed. See the Run sheet for why.",
    "internal error": "Not computed: alvh hit an internal error. See the Run sheet.",
}


def marker(sheet: str) -> str:
    return f"{OWNED_MARKER} - {sheet}: rewritten by `alvh recompute`; edits here are lost"


def _format_for(column: str) -> str | None:
    if column in _TWO_DECIMALS:
        return "money"
    if column == "IV From":
        return None
    return next((kind for pattern, kind in _FORMAT_RULES if pattern in column), None)


#: Types that `_cell` returns unchanged (exactly these: subclasses such as Timestamp are not).
_AS_IS = frozenset({str, bool, int, dt.date, dt.datetime})


def _cell(value: object) -> CellValue:
    """A frame value as a spreadsheet value: NaN/NaT -> empty, numpy scalars -> Python."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | bool | int | float | dt.date):
        return value
    if value is pd.NaT or value is pd.NA:
        return None
    return str(value)


def _column(series: pd.Series) -> list[CellValue]:
    """`_cell` of each value of a column; numpy number columns are converted in bulk, which
    gives the same Python values many times faster on a big book."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        values: list[CellValue] = series.to_numpy().tolist()
        return values
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return [v if v - v == 0.0 else None for v in series.to_numpy().tolist()]
    if isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "O"):
        return [v if type(v) in _AS_IS else _cell(v) for v in series.to_numpy(dtype=object)]
    return [_cell(v) for v in series]


class _Sheet:
    """Accumulates rows and formats for one sheet."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[tuple[CellValue, ...]] = [(marker(name),), ()]
        self.formats: list[FormatRun] = []
        self.widths: dict[int, float] = {}

    def line(self, *values: CellValue) -> None:
        self.rows.append(tuple(values))

    def table(self, title: str, frame: pd.DataFrame) -> None:
        self.line(title)
        columns = [str(c) for c in frame.columns]
        self.line(*columns)
        kinds = [_format_for(c) for c in columns]
        for c, name in enumerate(columns):
            width = _TEXT_COLUMNS_WIDE.get(name, min(max(len(name) + 2, 10.0), 40.0))
            self.widths[c] = max(self.widths.get(c, 0.0), width)
        start = len(self.rows)
        cells = [_column(frame.iloc[:, c]) for c in range(len(columns))]
        self.rows.extend(zip(*cells, strict=True))
        end = len(self.rows) - 1
        if end >= start:
            self.formats.extend(FormatRun(c, start, end, k) for c, k in enumerate(kinds) if k)
        self.line()

    def done(self) -> SheetCells:
        return SheetCells(self.name, tuple(self.rows), tuple(self.formats), dict(self.widths))


def _messages(issues: Iterable[Issue]) -> pd.DataFrame:
    rows = [(i.severity.upper(), i.where, i.message, i.source) for i in issues]
    return pd.DataFrame(rows, columns=["Severity", "Where", "Message", "Source"])


def _not_computed(name: str, title: str, why: str) -> SheetCells:
    sheet = _Sheet(name)
    sheet.line(title)
    sheet.line(why)
    return sheet.done()


def _log_sheet(log: Sequence[LoggedLayer]) -> SheetCells:
    """The Log: one row per layer per recompute, oldest first, whatever the run's status (a run
    that computed nothing passes the earlier rows on unchanged)."""
    rows = [
        (r.run, r.inputs_hash, r.layer, r.status, r.instrument, r.contracts, r.cost, r.covered)
        for r in log
    ]
    sheet = _Sheet(LOG)
    sheet.table(
        f"Log: each recompute's layers, oldest first (the newest {MAX_LOG_ROWS:,} rows are kept). "
        "The steward rules compare each run with the last one here.",
        pd.DataFrame(rows, columns=list(LOG_COLUMNS)),
    )
    sheet.widths |= _LOG_WIDTHS
    return sheet.done()


def lay_out(outputs: Outputs) -> list[SheetCells]:
    """The five owned sheets for `outputs` (placeholders pointing at Run when inputs had
    errors; the Log in every case)."""
    log = _log_sheet(outputs.log)
    run = _Sheet(RUN)
    run.table("Run", pd.DataFrame(list(outputs.run_info), columns=["Field", "Value"]))
    run.table("Messages (errors name the sheet and cell to fix)", _messages(outputs.issues))
    run.table("Plugins", outputs.plugins)
    why = _NOT_COMPUTED_BECAUSE.get(outputs.status, "")
    if outputs.status in ("input errors", "internal error"):
        return [
            _not_computed(HEDGE, "Hedge layers", why),
            _not_computed(SIGNALS, "Signal readings", why),
            _not_computed(RISK, "Risk", why),
            run.done(),
            log,
        ]
    title = (
        "Hedge layers (prices in VIX points, 1 option contract = 100 x VIX; Cost is option "
        "premium; Net P&L = closed at the bid in the spike less the cost)"
    )
    if outputs.status == "plugin failed":
        hedge = _not_computed(HEDGE, title, why)
    else:
        table = _Sheet(HEDGE)
        table.table(title, outputs.hedge)
        table.table("Premium budget ($)", outputs.hedge_budget)
        hedge = table.done()
    signals = _Sheet(SIGNALS)
    signals.table("Signal readings (strength 0-1 feeds the hedge ratio)", outputs.signals)
    signals.table(
        "Composite warning level = 1 - product over categories of (1 - weight x the category's "
        "loudest strength); it moves layer 1's target from its ladder share up to "
        "alvh.hedge_ratio_max",
        outputs.composite,
    )
    risk = _Sheet(RISK)
    risk.table("Structures ($ per position; P&L by full repricing)", outputs.risk_structures)
    for title, frame in outputs.risk_book:
        risk.table(title, frame)
    risk.table(
        "VIX spike scenarios at each horizon, hedged vs unhedged ($)", outputs.risk_scenarios
    )
    for title, frame in outputs.risk_tables:
        risk.table(title, frame)
    risk.table("Legs ($Greeks per position; IV as a fraction)", outputs.risk_legs)
    return [hedge, signals.done(), risk.done(), run.done(), log]


def as_text_table(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """A plain-text table of some columns, for the terminal."""
    present = [c for c in columns if c in frame.columns]
    if frame.empty or not present:
        return "(no rows)"
    shown = frame[present].copy()
    for col in present:
        shown[col] = [_fmt(v, percent=_format_for(col) == "percent") for v in shown[col]]
    return shown.to_string(index=False)


def _fmt(value: object, *, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float) and percent:
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
