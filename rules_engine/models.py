"""The data that crosses the engine's boundary: plugin objects, inputs, outputs, problems.

Everything here is a frozen dataclass so that a plugin cannot change what another plugin sees, and
so that the engine stays a pure function of its inputs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, get_args

import pandas as pd

from rules_engine.contract import NUMBER_FORMATS
from rules_engine.risk.market import Scenario

if TYPE_CHECKING:
    from rules_engine.composite import Composite
    from rules_engine.risk.report import RiskReport

SettingType = Literal["float", "int", "bool", "str", "date"]
Severity = Literal["error", "warning", "info"]
#: A new layer is ACTIVE (buy now), STANDBY (planned, waiting for its trigger) or UNFUNDED
#: (triggered or planned, but the premium budget cannot pay for it); a hedge already held is HOLD,
#: TAKE PROFIT or ROLL, as its exit rules say.
LayerStatus = Literal["ACTIVE", "STANDBY", "UNFUNDED", "HOLD", "TAKE PROFIT", "ROLL"]
#: What a hedge layer buys.
HedgeKind = Literal["vix_call", "vix_call_spread", "vix_future", "etp"]
HEDGE_KINDS_OF_LAYERS: tuple[str, ...] = get_args(HedgeKind)
LAYER_STATUSES: tuple[str, ...] = get_args(LayerStatus)
#: The statuses of a held hedge's row.
HELD_STATUSES: tuple[str, ...] = ("HOLD", "TAKE PROFIT", "ROLL")
#: How a recompute ended: what the CLI's exit code and the Run sheet's status say.
RunStatus = Literal["ok", "input errors", "plugin failed", "internal error"]

#: A value one spreadsheet cell can hold.
CellValue = str | float | int | bool | dt.date | dt.datetime | None


@dataclass(frozen=True)
class Setting:
    """A tunable the Settings sheet exposes: declared by a plugin (or the core) with its default."""

    name: str
    default: Any
    type: SettingType
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    #: Called with the value once it has the declared type; raises ValueError saying what is wrong.
    check: Callable[[Any], object] | None = None


@dataclass(frozen=True)
class Reading:
    """What one signal says today: `value` (a finite number or None), `triggered`, `strength` in
    [0, 1] (how loudly it warns; sizers may use it) and a one-line `explanation` with the numbers
    that drove it. A reading that breaks these rules is reported as a failure of its plugin."""

    value: float | None
    triggered: bool
    strength: float
    explanation: str
    #: Further named figures a rule may test (`event_window.days`): identifiers to finite numbers
    #: or bools.
    details: Mapping[str, float | bool] = field(default_factory=dict)


#: What a signal watches; sizers may weigh signals by category.
SignalCategory = Literal["technical", "breadth", "volatility", "event", "valuation", "book"]
SIGNAL_CATEGORIES: tuple[str, ...] = get_args(SignalCategory)


@dataclass(frozen=True)
class Signal:
    """A named warning signal. `requires` lists History columns (normalized names) it needs:
    when one is absent or empty the signal is reported "not evaluated" without being called. A
    signal that finds other data missing raises `NotEvaluated` with what it needs."""

    name: str
    evaluate: Callable[[Context], Reading]
    description: str = ""
    requires: tuple[str, ...] = ()
    settings: tuple[Setting, ...] = ()
    category: SignalCategory = "technical"


class NotEvaluated(Exception):
    """Raised by a signal whose data is missing: the message says what it needs ("needs VIX3M in
    the Market sheet"). The signal is reported "not evaluated" with that reason, never as a
    failure and never as all clear."""


@dataclass(frozen=True)
class HedgeLayer:
    """One recommended hedge layer, in the units the Hedge sheet shows (dollars, contracts).

    `kind` says what is bought, so that the engine can value the layer in any scenario: a VIX call
    (`strike`), a VIX call spread (long `strike`, short `short_strike`), a VIX future, or shares
    of the VIX ETP named in `underlying` (VXX, UVXY, ...).

    `cost` is premium paid ($): contracts x price x multiplier for options, 0 for a future (it is
    margined) and for ETP shares (capital, not premium); `notional` is the $ exposure of a future
    or the value of ETP shares, reported apart from the premium budget. `payoff_by_scenario` is
    the layer's net P&L ($) in each scenario: what it fetches closed there less what it cost.
    `target_share` is the share of the projected loss the layer is meant to offset and
    `share_of_loss_covered` what its contracts do offset; `cost_to_target` is the further premium
    ($) that would reach the target. `carry_per_day`, `carry_to_roll` and `cost_if_no_spike` are
    $ (negative: the hedge loses value) with the VIX futures curve rolling down as it stands.
    `held_group` names the Positions Group of a hedge already held (statuses HOLD, TAKE PROFIT,
    ROLL)."""

    layer: int
    status: LayerStatus
    trigger: str
    why: str
    instrument: str
    underlying: str
    expiry: dt.date
    strike: float
    contracts: int
    price: float
    multiplier: float
    cost: float
    payoff_by_scenario: Mapping[Scenario, float]
    share_of_loss_covered: float
    carry_per_day: float
    exit_rule: str
    kind: HedgeKind = "vix_call"
    short_strike: float | None = None
    target_share: float | None = None
    notional: float = 0.0
    carry_to_roll: float | None = None
    cost_if_no_spike: float | None = None
    cost_to_target: float | None = None
    held_group: str | None = None


@dataclass(frozen=True)
class Rule:
    """A Rules sheet row: the layer it gates, its trigger expression and where it was read."""

    layer: int
    expression: str
    cell: str
    note: str = ""


@dataclass(frozen=True)
class RuleResult:
    """A layer's trigger evaluated: `fired` is None when the expression could not be evaluated
    (then `reason` says why); otherwise `reason` shows the figures it read."""

    layer: int
    expression: str
    fired: bool | None
    reason: str


@dataclass(frozen=True)
class LoggedLayer:
    """One layer as an earlier recompute left it (a row of the Log sheet)."""

    run: dt.datetime
    inputs_hash: str
    layer: int
    status: str
    instrument: str
    contracts: int
    cost: float
    covered: float


@dataclass(frozen=True)
class Sizer:
    """Turns risk and signal readings into hedge layers. Settings `sizer` picks one by name."""

    name: str
    size: Callable[[Context, Mapping[str, Reading]], list[HedgeLayer]]
    description: str = ""
    settings: tuple[Setting, ...] = ()


@dataclass(frozen=True)
class Issue:
    """A problem or note for the Run sheet, located as precisely as the source allows."""

    severity: Severity
    message: str
    sheet: str | None = None
    cell: str | None = None
    column: str | None = None
    source: str = "engine"

    @property
    def where(self) -> str:
        """`Positions!E5 (Strike)` style location, or the sheet alone, or empty."""
        if self.sheet is None:
            return ""
        place = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        return f"{place} ({self.column})" if self.column else place

    def __str__(self) -> str:
        where = self.where
        return f"{where}: {self.message}" if where else self.message


class InputError(Exception):
    """The workbook's inputs cannot be used; `issues` says where and why."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass(frozen=True)
class SettingCell:
    """A raw Settings-sheet value with the cell it came from, before validation."""

    value: CellValue
    cell: str


@dataclass(frozen=True)
class Inputs:
    """Everything read from the user's input sheets, normalized.

    Frame columns use normalized names (lower case, `_` between words). Every row-based frame has
    a `row` column with the 1-based spreadsheet row, and `columns[sheet][field]` gives the column
    letter each field came from, so later checks can name the exact cell.
    """

    positions: pd.DataFrame
    market: Mapping[str, Any]
    vix_futures: pd.DataFrame
    history: pd.DataFrame
    calendar: pd.DataFrame
    settings: Mapping[str, SettingCell]
    columns: Mapping[str, Mapping[str, str]]
    vix_options: pd.DataFrame | None = None
    spx_options: pd.DataFrame | None = None
    market_cells: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[Issue, ...] = ()
    #: The Rules sheet (optional): one trigger per layer.
    rules: tuple[Rule, ...] = ()
    #: The Log sheet's rows from earlier recomputes (oldest first).
    log: tuple[LoggedLayer, ...] = ()

    def cell(self, sheet: str, row: int, fieldname: str) -> str:
        """The A1 address of `fieldname` in spreadsheet row `row` of `sheet` ("" if unknown)."""
        letter = self.columns.get(sheet, {}).get(fieldname)
        return f"{letter}{row}" if letter else f"row {row}"


@dataclass(frozen=True)
class Context:
    """What a signal or sizer sees: the workbook's inputs and the computed risk.

    `history` is the History sheet up to the as-of date: a DatetimeIndex named `date` (ascending)
    and one column per header, named as the header in lower case with `_` between words ("SPX
    Close" -> `spx_close`, "Advances" -> `advances`), numbers as floats (blank cells NaN), plus
    `row`, the sheet row each came from. `positions`, `vix_futures`, `calendar`, `vix_options` and
    `spx_options` (None when the workbook has no such sheet) follow the same naming. `market`
    maps Market fields (`as_of`, `spx`, `vix`, `vix3m`, `vvix`, `rate`, `dividend_yield`, ...) to
    values; `settings` maps every declared setting to its value (the Settings sheet's, else the
    default). `risk` is the book's `RiskReport`. Every plugin call gets its own copies: changing
    them changes nothing anyone else sees.
    """

    as_of: dt.date
    history: pd.DataFrame
    market: Mapping[str, Any]
    positions: pd.DataFrame
    vix_futures: pd.DataFrame
    calendar: pd.DataFrame
    settings: Mapping[str, Any]
    risk: RiskReport | None = None
    vix_options: pd.DataFrame | None = None
    spx_options: pd.DataFrame | None = None
    #: The Rules sheet's triggers evaluated on this run's readings and risk, by layer number.
    rules: Mapping[int, RuleResult] = field(default_factory=dict)
    #: The layers of the last recompute, from the Log sheet (empty on a first run).
    previous: tuple[LoggedLayer, ...] = ()
    #: The composite warning level of this run's readings (rules_engine/composite.py).
    composite: Composite | None = None

    def isolated(self) -> Context:
        """A deep copy for one plugin call: frames, mappings and the risk report are its own."""
        return Context(
            as_of=self.as_of,
            history=self.history.copy(deep=True),
            market=MappingProxyType(dict(self.market)),
            positions=self.positions.copy(deep=True),
            vix_futures=self.vix_futures.copy(deep=True),
            calendar=self.calendar.copy(deep=True),
            settings=MappingProxyType(dict(self.settings)),
            risk=None if self.risk is None else self.risk.isolated(),
            vix_options=None if self.vix_options is None else self.vix_options.copy(deep=True),
            spx_options=None if self.spx_options is None else self.spx_options.copy(deep=True),
            rules=MappingProxyType(dict(self.rules)),
            previous=tuple(self.previous),
            composite=self.composite,
        )


#: The number format kinds a FormatRun may name ('number' is Excel's General).
FORMAT_KINDS = (*NUMBER_FORMATS, "number")


@dataclass(frozen=True)
class FormatRun:
    """A number format kind (contract.NUMBER_FORMATS, or 'number' for General) for the cells of
    one column, rows `first` to `last` (0-based, inclusive): a table's column in one piece."""

    column: int
    first: int
    last: int
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in FORMAT_KINDS:
            raise ValueError(
                f"unknown number format kind {self.kind!r}: one of {', '.join(FORMAT_KINDS)}"
            )
        if not 0 <= self.first <= self.last or self.column < 0:
            raise ValueError(f"rows {self.first}..{self.last} of column {self.column} are no run")


@dataclass(frozen=True)
class CellRange:
    """A rectangle of cells, 0-based and inclusive (row 0 is spreadsheet row 1, column 0 is A)."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int

    def __post_init__(self) -> None:
        if not (0 <= self.first_row <= self.last_row and 0 <= self.first_col <= self.last_col):
            raise ValueError(f"no cell range: {self}")


#: Horizontal alignment of a StyleRun (None: Excel's default, text left and numbers right).
Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class StyleRun:
    """How the cells of `cells` look beyond their number format: bold (titles and header rows),
    wrapped text (long explanations, in their column's width), horizontal alignment (a header
    over numbers is right-aligned like them), `top`: aligned to the top of the cell (a table
    whose rows grow for wrapped text reads from the top of each row). A later run adds to an
    earlier one."""

    cells: CellRange
    bold: bool = False
    wrap: bool = False
    align: Align | None = None
    top: bool = False


@dataclass(frozen=True)
class ChartSeries:
    """One line of a chart: its legend name, and the cells of this sheet holding its x values
    (a single column or row) and its y values (as many cells)."""

    name: str
    x: CellRange
    y: CellRange


@dataclass(frozen=True)
class Chart:
    """A native chart on an owned sheet: x-y lines (scatter with straight lines, so unevenly
    spaced x values sit where they belong), placed with its top-left corner on cell `anchor`
    (row, column; 0-based) and `width` x `height` pixels. Its data are cells of the same sheet,
    so the chart redraws from what the engine wrote."""

    title: str
    x_title: str
    y_title: str
    series: tuple[ChartSeries, ...]
    anchor: tuple[int, int]
    width: int = 640
    height: int = 320


@dataclass(frozen=True)
class SheetCells:
    """One engine-owned sheet, laid out and ready for any adapter to write.

    `rows[r][c]` is the value of the cell at 0-based row r, column c (row 0 is spreadsheet row 1).
    `formats` are the number formats, by column runs (a later run wins where two overlap).
    `widths` maps a 0-based column to a width in Excel character units.
    `styles`: bold, wrap and alignment by rectangles. `freeze`: (rows, columns) kept in view
    above and left of the scrolling pane, None for none. `print_titles`: the first and last row
    (0-based) repeated at the top of each printed page. Every owned sheet prints landscape, one
    page wide. `charts`: native charts drawn on the sheet. `color_scales`: rectangles shaded by a
    red-white-green colour scale centred on 0 (losses red, gains green), as conditional formats.
    `heights` maps a 0-based row to its height in points, for rows whose wrapped text needs more
    than one line (neither Excel nor LibreOffice fits rows to wrapped text when opening a file).
    """

    name: str
    rows: tuple[tuple[CellValue, ...], ...]
    formats: tuple[FormatRun, ...] = ()
    widths: Mapping[int, float] = field(default_factory=dict)
    styles: tuple[StyleRun, ...] = ()
    freeze: tuple[int, int] | None = None
    print_titles: tuple[int, int] | None = None
    charts: tuple[Chart, ...] = ()
    color_scales: tuple[CellRange, ...] = ()
    heights: Mapping[int, float] = field(default_factory=dict)

    def cell_formats(self) -> dict[tuple[int, int], str]:
        """The format kind of every cell a run covers, by (row, column)."""
        return {
            (r, run.column): run.kind
            for run in self.formats
            for r in range(run.first, run.last + 1)
        }


@dataclass(frozen=True)
class Outputs:
    """The engine's result, before layout: one frame per table, plus the run log.

    Column names carry their units, e.g. `Cost ($)`, `$Vega (per vol pt)`.
    """

    hedge: pd.DataFrame
    signals: pd.DataFrame
    risk_structures: pd.DataFrame
    risk_scenarios: pd.DataFrame
    risk_legs: pd.DataFrame
    run_info: tuple[tuple[str, CellValue], ...]
    plugins: pd.DataFrame
    issues: tuple[Issue, ...] = ()
    status: RunStatus = "ok"
    #: Further titled Risk tables in display order (the scenario grids, the analogs, ...).
    risk_tables: tuple[tuple[str, pd.DataFrame], ...] = ()
    #: Titled book tables shown under Structures (summary, condors' odds, existing hedges).
    risk_book: tuple[tuple[str, pd.DataFrame], ...] = ()
    #: The Log sheet's rows: those of earlier recomputes, then this run's (oldest first).
    log: tuple[LoggedLayer, ...] = ()
    #: The premium budget (Budget, Amount ($)), shown under the Hedge table.
    hedge_budget: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The composite warning level by category, shown under the signal readings.
    composite: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The answer first: (what, value) lines a trader reads in five seconds - the orders to place
    #: now, what they cover, the budget, carry and what changed. Shown on Hedge and printed by
    #: `alvh recompute`; empty when nothing was computed.
    summary: tuple[tuple[str, CellValue], ...] = ()
    #: The Hedge chart's data: book P&L against a VIX spike (unhedged, with the existing hedges,
    #: with the recommended layers too).
    pnl_by_vix: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The Risk chart's data: book and hedges against an SPX move, VIX unchanged, per horizon.
    pnl_by_spx: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class WorkbookError(Exception):
    """The workbook file itself cannot be read or written (missing, locked, encrypted, changed)."""
