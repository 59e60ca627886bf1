"""The data that crosses the engine's boundary: plugin objects, inputs, outputs, problems.

Everything here is a frozen dataclass so that a plugin cannot change what another plugin sees, and
so that the engine stays a pure function of its inputs.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import pandas as pd

SettingType = Literal["float", "int", "bool", "str", "date"]
Severity = Literal["error", "warning", "info"]
LayerStatus = Literal["ACTIVE", "STANDBY"]

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


@dataclass(frozen=True)
class Reading:
    """What one signal says today. `strength` in [0, 1] feeds the sizer's hedge ratio."""

    value: float | None
    triggered: bool
    strength: float
    explanation: str

    def problems(self) -> list[str]:
        """Why this reading cannot be trusted (empty when it is well-formed)."""
        found: list[str] = []
        if self.value is not None and (
            isinstance(self.value, bool)
            or not isinstance(self.value, int | float)
            or not math.isfinite(self.value)
        ):
            found.append(f"value {self.value!r} is not a finite number or None")
        if not isinstance(self.triggered, bool):
            found.append(f"triggered {self.triggered!r} is not a bool")
        if (
            isinstance(self.strength, bool)
            or not isinstance(self.strength, int | float)
            or not (0.0 <= self.strength <= 1.0)
        ):
            found.append(f"strength {self.strength!r} is not a number in [0, 1]")
        if not isinstance(self.explanation, str):
            found.append(f"explanation {self.explanation!r} is not text")
        return found


@dataclass(frozen=True)
class Signal:
    """A named warning signal. `requires` lists History columns (normalized names) it needs."""

    name: str
    evaluate: Callable[[Context], Reading]
    description: str = ""
    requires: tuple[str, ...] = ()
    settings: tuple[Setting, ...] = ()


@dataclass(frozen=True)
class HedgeLayer:
    """One recommended hedge layer, in the units the Hedge sheet shows (dollars, contracts)."""

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
    payoff_by_scenario: Mapping[str, float]
    share_of_loss_covered: float
    carry_per_day: float
    exit_rule: str


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
    market_cells: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[Issue, ...] = ()

    def cell(self, sheet: str, row: int, fieldname: str) -> str:
        """The A1 address of `fieldname` in spreadsheet row `row` of `sheet` ("" if unknown)."""
        letter = self.columns.get(sheet, {}).get(fieldname)
        return f"{letter}{row}" if letter else f"row {row}"


@dataclass(frozen=True)
class Context:
    """What a signal or sizer sees: read-only views of the inputs plus the computed risk."""

    as_of: dt.date
    history: pd.DataFrame
    market: Mapping[str, Any]
    positions: pd.DataFrame
    vix_futures: pd.DataFrame
    calendar: pd.DataFrame
    settings: Mapping[str, Any]
    risk: Any = None
    vix_options: pd.DataFrame | None = None

    def isolated(self) -> Context:
        """A copy whose frames and mappings a plugin may mutate without touching anyone else's."""
        return Context(
            as_of=self.as_of,
            history=self.history.copy(),
            market=MappingProxyType(dict(self.market)),
            positions=self.positions.copy(),
            vix_futures=self.vix_futures.copy(),
            calendar=self.calendar.copy(),
            settings=MappingProxyType(dict(self.settings)),
            risk=self.risk,
            vix_options=None if self.vix_options is None else self.vix_options.copy(),
        )


@dataclass(frozen=True)
class SheetCells:
    """One engine-owned sheet, laid out and ready for any adapter to write.

    `rows[r][c]` is the value of the cell at 0-based row r, column c (row 0 is spreadsheet row 1).
    `formats` maps (r, c) to a number format kind: 'date', 'percent', 'money', 'integer'.
    `widths` maps a 0-based column to a width in Excel character units.
    """

    name: str
    rows: tuple[tuple[CellValue, ...], ...]
    formats: Mapping[tuple[int, int], str] = field(default_factory=dict)
    widths: Mapping[int, float] = field(default_factory=dict)


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

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)


class WorkbookError(Exception):
    """The workbook file itself cannot be read or written (missing, locked, encrypted, changed)."""
