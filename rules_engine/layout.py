"""Laying Outputs out as the five engine-owned sheets, the same for every adapter.

Each sheet starts with the ownership marker in A1 (so a same-named user sheet is never
overwritten), then titled tables separated by a blank row. Positions are stable: the Hedge table's
header is always row 4 and layer 1 is row 5, so user formulas that read our cells keep working
across recomputes; the answer (what to do now) is the bold line on row 2, and in full under the
layer table beside its chart.

Presentation is part of the layout, so every adapter shows the same thing: titles and header
rows bold, headers wrapped and aligned like their numbers, long explanations wrapped in a
readable width, numbers formatted by what they measure (prices at the tick, dollars without
cents, percentages, dates), panes frozen below each sheet's first header, header rows repeated
on printed pages, a P&L chart on Hedge and on Risk, the scenario grids shaded red to green.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Collection, Iterable, Sequence

import numpy as np
import pandas as pd

from rules_engine.contract import (
    HEDGE,
    LOG,
    LOG_COLUMNS,
    MAX_ROW_HEIGHT,
    OWNED_MARKER,
    RISK,
    RUN,
    SIGNALS,
)
from rules_engine.logbook import MAX_LOG_ROWS
from rules_engine.models import (
    CellRange,
    CellValue,
    Chart,
    ChartSeries,
    FormatRun,
    Issue,
    LoggedLayer,
    Outputs,
    SheetCells,
    StyleRun,
)

#: Column-name patterns -> number format kind (see contract.NUMBER_FORMAT_IDS).
_FORMAT_RULES: tuple[tuple[str, str], ...] = (
    ("($)", "dollars"),
    ("$Delta", "dollars"),
    ("$Gamma", "dollars"),
    ("$Vega", "dollars"),
    ("$Theta", "dollars"),
    ("Vanna", "dollars"),
    ("Vomma", "dollars"),
    ("(SPX pts)", "money"),
    ("Share of Loss", "percent"),
    ("Covered", "percent"),
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
        "Value",
        "Weight",
        "Weight x Strength",
        "Composite",
        "VIX",
        "SPX",
    }
)
#: Columns of long explanations: wrapped in this width (Excel character units).
_WRAPPED = {
    "Why": 70.0,
    "Trigger": 60.0,
    "Exit Rule": 48.0,
    "Explanation": 80.0,
    "Message": 80.0,
    "Reason": 60.0,
    "Instrument": 32.0,
}
#: Widest a column gets from its values; longer text wraps or overflows into empty cells.
_MAX_WIDTH = 40.0
#: Narrowest a column gets: headers wrap onto a second line rather than widen a number column.
_MIN_WIDTH = 9.0
#: How much wider bold header text is than the digits a width unit measures.
_BOLD_WIDTH = 1.15
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
    """Accumulates rows, formats, styles and charts for one sheet."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[tuple[CellValue, ...]] = [(marker(name),), ()]
        self.formats: list[FormatRun] = []
        self.widths: dict[int, float] = {}
        self.styles: list[StyleRun] = []
        self.charts: list[Chart] = []
        self.color_scales: list[CellRange] = []

    def line(self, *values: CellValue, bold: bool = False) -> None:
        if bold and values:
            r = len(self.rows)
            self.styles.append(StyleRun(CellRange(r, 0, r, len(values) - 1), bold=True))
        self.rows.append(tuple(values))

    def table(
        self, title: str, frame: pd.DataFrame, general: Collection[str] = ()
    ) -> CellRange | None:
        """A bold title, a bold wrapped header row (right-aligned over numbers), the rows; the
        data's cells, None when it has no rows. Columns named in `general` hold mixed values and
        keep Excel's General format."""
        self.line(title, bold=True)
        columns = [str(c) for c in frame.columns]
        header = len(self.rows)
        self.line(*columns)
        kinds = [None if c in general else _format_for(c) for c in columns]
        start = len(self.rows)
        series = [frame.iloc[:, c] for c in range(len(columns))]
        cells = [_column(column) for column in series]
        self.rows.extend(zip(*cells, strict=True))
        end = len(self.rows) - 1
        self._style_header(header, kinds, series)
        for c, name in enumerate(columns):
            self._widen(c, name, cells[c], series[c])
        self.line()
        if end < start:
            return None
        self.formats.extend(FormatRun(c, start, end, k) for c, k in enumerate(kinds) if k)
        wrapped = [c for c, name in enumerate(columns) if name in _WRAPPED]
        for c in wrapped:
            self.styles.append(StyleRun(CellRange(start, c, end, c), wrap=True))
        if wrapped:  # rows grow for the wrapped text: every cell reads from the row's top
            self.styles.append(StyleRun(CellRange(start, 0, end, len(columns) - 1), top=True))
        return CellRange(start, 0, end, len(columns) - 1)

    def _style_header(self, row: int, kinds: list[str | None], series: list[pd.Series]) -> None:
        """Bold and wrapped; right-aligned over a column of numbers (formatted, or numeric)."""
        if not kinds:
            return
        self.styles.append(StyleRun(CellRange(row, 0, row, len(kinds) - 1), bold=True, wrap=True))
        for c, kind in enumerate(kinds):
            if kind is not None or series[c].dtype.kind in "iuf":
                self.styles.append(StyleRun(CellRange(row, c, row, c), align="right"))

    def _widen(self, c: int, name: str, values: list[CellValue], column: pd.Series) -> None:
        """A width for the longest value (capped), never below the header's longest word. A
        number column's longest text is its smallest or largest value's; other columns are
        measured on their distinct values (a big book repeats them)."""
        if name in _WRAPPED:
            width = _WRAPPED[name]
        else:
            shown: list[CellValue]
            if column.dtype.kind in "iuf":
                numbers = column.to_numpy(dtype=float)
                finite = numbers[np.isfinite(numbers)]
                shown = [float(finite.min()), float(finite.max())] if finite.size else []
            else:
                shown = list(dict.fromkeys(v for v in values if v is not None))
            longest = max((len(text_value(name, v)) for v in shown), default=0)
            word = max((len(w) for w in name.split()), default=0) * _BOLD_WIDTH
            width = min(max(longest + 2.0, word + 2.0, _MIN_WIDTH), _MAX_WIDTH)
        self.widths[c] = max(self.widths.get(c, 0.0), width)

    def done(
        self,
        freeze: tuple[int, int] | None = None,
        print_titles: tuple[int, int] | None = None,
    ) -> SheetCells:
        return SheetCells(
            self.name,
            tuple(self.rows),
            tuple(self.formats),
            dict(self.widths),
            styles=tuple(self.styles),
            freeze=freeze,
            print_titles=print_titles,
            charts=tuple(self.charts),
            color_scales=tuple(self.color_scales),
            heights=self._heights(),
        )

    def _heights(self) -> dict[int, float]:
        """Rows tall enough for their wrapped text: word-wrapped at the column's width (a width
        unit is about one character; bold text a little wider), one line per LINE_POINTS."""
        lines: dict[int, int] = {}
        for run in self.styles:
            if not run.wrap:
                continue
            cells = run.cells
            for r in range(cells.first_row, min(cells.last_row + 1, len(self.rows))):
                row = self.rows[r]
                for c in range(cells.first_col, min(cells.last_col + 1, len(row))):
                    value = row[c]
                    if not isinstance(value, str) or not value:
                        continue
                    width = self.widths.get(c, _DEFAULT_WIDTH) / (
                        _BOLD_WIDTH if self._bold(r, c) else 1
                    )
                    count = len(textwrap.wrap(value, max(int(width), 1)))
                    lines[r] = max(lines.get(r, 1), count)
        return {r: min(n * _LINE_POINTS, MAX_ROW_HEIGHT) for r, n in lines.items() if n > 1}

    def _bold(self, row: int, col: int) -> bool:
        return any(
            run.bold
            and run.cells.first_row <= row <= run.cells.last_row
            and run.cells.first_col <= col <= run.cells.last_col
            for run in self.styles
        )


#: Points a line of 11-point text takes (Excel's default row height).
_LINE_POINTS = 15.0
#: Excel's default column width, in characters.
_DEFAULT_WIDTH = 8.43


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
    return sheet.done(freeze=_BELOW_HEADER_ROW, print_titles=_FIRST_HEADER)


def lay_out(outputs: Outputs) -> list[SheetCells]:
    """The five owned sheets for `outputs` (placeholders pointing at Run when inputs had
    errors; the Log in every case)."""
    log = _log_sheet(outputs.log)
    run = _Sheet(RUN)
    run.table(
        "Run", pd.DataFrame(list(outputs.run_info), columns=["Field", "Value"]), general={"Value"}
    )
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
    if outputs.status == "plugin failed":
        hedge = _not_computed(HEDGE, _HEDGE_TITLE, why)
    else:
        hedge = _hedge_sheet(outputs)
    signals = _Sheet(SIGNALS)
    signals.table("Signal readings (strength 0-1 feeds the hedge ratio)", outputs.signals)
    signals.table(
        "Composite warning level = 1 - product over categories of (1 - weight x the category's "
        "loudest strength); it moves layer 1's target from its ladder share up to "
        "alvh.hedge_ratio_max",
        outputs.composite,
    )
    return [
        hedge,
        signals.done(freeze=_BELOW_FIRST_HEADER, print_titles=_FIRST_HEADER),
        _risk_sheet(outputs),
        run.done(freeze=_BELOW_HEADER_ROW),
        log,
    ]


_HEDGE_TITLE = (
    "Hedge layers (prices in VIX points, 1 option contract = 100 x VIX; Cost is option premium; "
    "Net P&L = closed at the bid in the spike less the cost)"
)
#: Every sheet's first table has its title on row 3 and its header on row 4 (0-based 2 and 3).
_FIRST_HEADER = (3, 3)
#: Frozen: the marker, title and header rows, and the first column (row labels).
_BELOW_FIRST_HEADER = (4, 1)
#: Frozen: the marker, title and header rows only (Run and Log have no row labels to keep).
_BELOW_HEADER_ROW = (4, 0)
#: On Hedge, also Layer, Status and Instrument stay in view.
_HEDGE_FREEZE = (4, 3)
#: Where the Hedge chart starts: column J, beside the answer (0-based column).
_HEDGE_CHART_COLUMN = 9


def _hedge_sheet(outputs: Outputs) -> SheetCells:
    """The answer on row 2, the layer table from row 4, then the answer in full beside the P&L
    chart, the budget, and the chart's data."""
    sheet = _Sheet(HEDGE)
    headline = _headline(outputs.summary)
    sheet.rows[1] = (headline,) if headline else ()
    if headline:
        sheet.styles.append(StyleRun(CellRange(1, 0, 1, 0), bold=True))
    sheet.table(_HEDGE_TITLE, outputs.hedge)
    top = len(sheet.rows)
    _summary_block(sheet, outputs.summary)
    sheet.table("Premium budget ($)", outputs.hedge_budget)
    curve = outputs.pnl_by_vix
    title = "P&L against a VIX spike today, SPX moving with VIX as the stress model says ($)"
    cells = sheet.table(title, curve)
    if cells is not None:
        titles = ("Book P&L against a VIX spike today ($)", "VIX change (points)")
        anchor = (top, _HEDGE_CHART_COLUMN)
        sheet.charts.append(_chart(curve, cells, "VIX Change (pts)", titles, anchor))
    return sheet.done(freeze=_HEDGE_FREEZE, print_titles=_FIRST_HEADER)


def _headline(summary: Sequence[tuple[str, CellValue]]) -> str:
    """The orders, in one line ("Now: Buy ...; Buy ...")."""
    orders = [str(v) for label, v in summary if label.startswith("Order")]
    return f"Now: {'; '.join(orders)}" if orders else ""


def _summary_block(sheet: _Sheet, summary: Sequence[tuple[str, CellValue]]) -> None:
    """The summary lines under the layer table: label in column C (wrapped in the Instrument
    column's width), value in D; dollars without cents, shares as percents."""
    if not summary:
        return
    sheet.line("The answer: what to do now and what it covers", bold=True)
    for label, value in summary:
        r = len(sheet.rows)
        sheet.line(None, None, label, value)
        kind = _summary_kind(label)
        if kind and isinstance(value, int | float):
            sheet.formats.append(FormatRun(3, r, r, kind))
        bold = label.startswith("Order")
        sheet.styles.append(StyleRun(CellRange(r, 2, r, 3), wrap=False, bold=bold))
        sheet.styles.append(StyleRun(CellRange(r, 2, r, 2), wrap=True))
    sheet.line()


#: Summary labels whose values are shares of the projected loss.
_SHARE_LABELS = ("Covered", "Target")


def _summary_kind(label: str) -> str | None:
    """The number format of a summary line's value, from its label."""
    return _format_for(label) or ("percent" if label.startswith(_SHARE_LABELS) else None)


def _chart(
    curve: pd.DataFrame,
    cells: CellRange,
    x_name: str,
    titles: tuple[str, str],
    anchor: tuple[int, int],
) -> Chart:
    """An x-y chart of a curve table laid out at `cells`: x from column `x_name`, one line per
    dollar column; `titles` are the chart's and the x axis's."""
    columns = list(curve.columns)
    x = columns.index(x_name)
    series = tuple(
        ChartSeries(
            label.removesuffix(" ($)"),
            CellRange(cells.first_row, x, cells.last_row, x),
            CellRange(cells.first_row, c, cells.last_row, c),
        )
        for c, label in enumerate(columns)
        if label.endswith("($)")
    )
    return Chart(titles[0], titles[1], "P&L ($)", series, anchor)


def _risk_sheet(outputs: Outputs) -> SheetCells:
    """Structures and book tables, the spikes, the P&L-against-SPX chart and its data, the
    scenario grids shaded red to green, the analogs, the legs."""
    risk = _Sheet(RISK)
    risk.table("Structures ($ per position; P&L by full repricing)", outputs.risk_structures)
    for title, frame in outputs.risk_book:
        risk.table(title, frame)
    risk.table(
        "VIX spike scenarios at each horizon, hedged vs unhedged ($)", outputs.risk_scenarios
    )
    curve = outputs.pnl_by_spx
    top = len(risk.rows)
    cells = risk.table(
        "P&L against an SPX move, VIX unchanged: the condor book with its hedges and the "
        "recommended layers, at each horizon ($)",
        curve,
    )
    if cells is not None:
        titles = ("Book and hedges against SPX, VIX unchanged ($)", "SPX")
        anchor = (top, len(curve.columns) + 1)
        risk.charts.append(_chart(curve, cells, "SPX", titles, anchor))
    for title, frame in outputs.risk_tables:
        cells = risk.table(title, frame)
        if cells is not None and title.startswith("Scenario grid"):
            first = list(frame.columns).index("VIX") + 1
            risk.color_scales.append(
                CellRange(cells.first_row, first, cells.last_row, cells.last_col)
            )
    risk.table("Legs ($Greeks per position; IV as a fraction)", outputs.risk_legs)
    return risk.done(freeze=(1, 1))


def as_text_table(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """A plain-text table of some columns, for the terminal."""
    present = [c for c in columns if c in frame.columns]
    if frame.empty or not present:
        return "(no rows)"
    shown = frame[present].copy()
    for col in present:
        shown[col] = [text_value(col, v) for v in shown[col]]
    return shown.to_string(index=False)


#: Number formats shown without decimals.
_WHOLE = ("dollars", "integer")


def text_value(name: str, value: object) -> str:
    """A value as the terminal shows it, formatted as its column name or summary label says:
    dollars without cents, shares as percents, prices to two decimals, dates ISO."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    kind = _summary_kind(name)
    if isinstance(value, float) and kind == "percent":
        return f"{value:.0%}"
    if isinstance(value, int | float) and not isinstance(value, bool) and kind in _WHOLE:
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
