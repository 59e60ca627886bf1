"""The Risk sheet's scenario tables: the spikes at each horizon, the SPX x VIX grid and the
historical analogs replayed on today's book.

Every table shows the book without its VIX hedges (model value, full repricing), the hedges -
existing legs and the recommended ACTIVE layers alike - at what they fetch when closed in the
scenario (at the bid with spreads widened in a spike, rounded to the tick; rules_engine/risk/
liquidity.py), and their sum, so hedged = unhedged + hedges holds in every cell. A figure that
cannot be made (the sizer failed) is left blank, never shown as 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rules_engine.models import HedgeLayer
from rules_engine.risk.analogs import Analog, historical_analogs
from rules_engine.risk.instruments import Chain, held_hedges_pnl, layer_pnl
from rules_engine.risk.liquidity import Liquidity
from rules_engine.risk.market import Scenario
from rules_engine.risk.report import RiskReport


@dataclass(frozen=True)
class HedgeValuer:
    """Dollars the existing hedges and the recommended ACTIVE layers (None: the sizer failed)
    make per scenario, both closed at the exit value there. Each scenario is valued once: `prime`
    values every scenario the tables show in one pass (a pass costs about the same for 5
    scenarios as for 200)."""

    risk: RiskReport
    layers: Sequence[HedgeLayer] | None
    chain: Chain
    liquidity: Liquidity
    _held: dict[Scenario, float] = field(default_factory=dict, init=False, repr=False)
    _new: dict[Scenario, float | None] = field(default_factory=dict, init=False, repr=False)

    def prime(self, scenarios: Sequence[Scenario]) -> None:
        """Value the book, the existing hedges and the layers in all `scenarios` at once."""
        self.risk.pnl_many(scenarios)
        self.existing(scenarios)
        self.new(scenarios)

    def existing(self, scenarios: Sequence[Scenario]) -> dict[Scenario, float]:
        todo = [sc for sc in dict.fromkeys(scenarios) if sc not in self._held]
        if todo:
            self._held.update(held_hedges_pnl(self.risk, todo, self.liquidity))
        return {sc: self._held[sc] for sc in scenarios}

    def new(self, scenarios: Sequence[Scenario]) -> dict[Scenario, float | None]:
        todo = [sc for sc in dict.fromkeys(scenarios) if sc not in self._new]
        if todo and self.layers is None:
            self._new.update(dict.fromkeys(todo))
        elif todo:
            total = np.zeros(len(todo))
            for layer in self.layers or ():
                total += layer_pnl(self.risk, layer, todo, self.chain, self.liquidity)
            self._new.update({sc: float(v) for sc, v in zip(todo, total, strict=True)})
        return {sc: self._new[sc] for sc in scenarios}


def horizon_label(risk: RiskReport, days: float) -> str:
    """today; T+7; T+21 (condor expiry 2018-02-16)."""
    if days == 0:
        return "today"
    text = f"T+{days:g}"
    expiries = sorted({c.expiry for c in risk.condors})
    if expiries and days == (expiries[0] - risk.as_of).days:
        text += f" (condor expiry {expiries[0]:%Y-%m-%d})"
    return text


def table_scenarios(
    risk: RiskReport, vix_moves: Sequence[float], spx_moves: Sequence[float]
) -> list[Scenario]:
    """Every scenario the spike table, the grids, the analogs and the two P&L curves show (for
    `HedgeValuer.prime`)."""
    return [
        *spike_scenarios(risk),
        *grid_scenarios(risk, vix_moves, spx_moves),
        *(sc for _, sc in analog_scenarios(risk)),
        *vix_curve_scenarios(risk, vix_moves),
        *spx_curve_scenarios(risk, spx_moves),
    ]


def vix_curve_scenarios(risk: RiskReport, vix_moves: Sequence[float]) -> list[Scenario]:
    """VIX moves today, SPX moving with VIX as the stress model says: the grid's VIX moves,
    every configured spike and 0, in order (VIX must stay above 0)."""
    points = {*vix_moves, *(sc.vix_points for sc in risk.scenarios), 0.0}
    return [Scenario(v) for v in sorted(points) if risk.vix + v > 0]


#: The SPX curve's moves (percent): by 1% from -10% to +6%, where the condors' strikes bend the
#: curve, by 2.5% beyond.
_SPX_CURVE = (-20.0, -17.5, -15.0, -12.5, *(float(m) for m in range(-10, 7)), 7.5, 10.0)


def spx_curve_scenarios(risk: RiskReport, spx_moves: Sequence[float]) -> list[Scenario]:
    """SPX moves with VIX unchanged (an option trader's risk graph) at each horizon."""
    return [Scenario(0.0, m, d) for d in risk.horizons for m in _curve_moves(spx_moves)]


def _curve_moves(spx_moves: Sequence[float]) -> list[float]:
    """The curve's moves and the grid's SPX moves (given in percent), as fractions."""
    return [m / 100.0 for m in sorted({*_SPX_CURVE, *spx_moves})]


def vix_curve(valuer: HedgeValuer, vix_moves: Sequence[float]) -> pd.DataFrame:
    """The Hedge chart's data: book P&L against a VIX spike today, unhedged, with the existing
    hedges, and with the recommended ACTIVE layers too (all hedges closed at their exit value)."""
    risk = valuer.risk
    scenarios = vix_curve_scenarios(risk, vix_moves)
    held = valuer.existing(scenarios)
    paid = valuer.new(scenarios)
    rows = []
    for p in risk.pnl_many(scenarios):
        with_held = p.book + held[p.scenario]
        rows.append(
            {
                "VIX Change (pts)": p.scenario.vix_points,
                "VIX": p.vix,
                "SPX Move": p.spx / risk.spx - 1.0,
                "Unhedged ($)": p.book,
                "With Existing Hedges ($)": with_held,
                "With Recommended Layers ($)": _plus(with_held, paid[p.scenario]),
            }
        )
    return pd.DataFrame(rows)


def spx_curve(valuer: HedgeValuer, spx_moves: Sequence[float]) -> pd.DataFrame:
    """The Risk chart's data: the book with its existing hedges and the recommended layers
    against an SPX move with VIX unchanged, one column per horizon (today, T+7, the nearest
    condor expiry)."""
    risk = valuer.risk
    scenarios = spx_curve_scenarios(risk, spx_moves)
    held = valuer.existing(scenarios)
    paid = valuer.new(scenarios)
    pnl = {p.scenario: p.book for p in risk.pnl_many(scenarios)}
    moves = _curve_moves(spx_moves)
    frame = pd.DataFrame({"SPX Move": moves, "SPX": [risk.spx * (1.0 + m) for m in moves]})
    for days in risk.horizons:
        column = []
        for move in moves:
            sc = Scenario(0.0, move, days)
            column.append(_plus(pnl[sc] + held[sc], paid[sc]))
        frame[f"{horizon_label(risk, days)} ($)"] = column
    return frame


def spike_scenarios(risk: RiskReport) -> list[Scenario]:
    """The configured spikes and the primary one at each horizon."""
    return [
        Scenario(sc.vix_points, sc.spx_move, days)
        for days in risk.horizons
        for sc in risk.scenarios
    ]


def grid_scenarios(
    risk: RiskReport, vix_moves: Sequence[float], spx_moves: Sequence[float]
) -> list[Scenario]:
    """VIX change by SPX move (percent) at each horizon; VIX moves that would leave it at or below 0
    are left out."""
    moves = [v for v in vix_moves if risk.vix + v > 0]
    return [Scenario(v, m / 100.0, d) for d in risk.horizons for v in moves for m in spx_moves]


def analog_scenarios(risk: RiskReport) -> list[tuple[Analog, Scenario]]:
    """Each historical analog that VIX can meet from today, as a scenario today."""
    analogs = [a for a in historical_analogs() if risk.vix + a.vix_points > 0]
    return [(a, Scenario(a.vix_points, a.spx_move)) for a in analogs]


def spike_table(valuer: HedgeValuer) -> pd.DataFrame:
    """One row per configured spike (and the primary one) at each horizon."""
    risk = valuer.risk
    scenarios = spike_scenarios(risk)
    held = valuer.existing(scenarios)
    paid = valuer.new(scenarios)
    rows = []
    for p in risk.pnl_many(scenarios):
        sc = p.scenario
        pay = paid[sc]
        with_held = p.book + held[sc]
        rows.append(
            {
                "Scenario": Scenario(sc.vix_points, sc.spx_move).label,
                "Horizon": horizon_label(risk, sc.days),
                "VIX": p.vix,
                "SPX": p.spx,
                "SPX Move": p.spx / risk.spx - 1.0,
                "Book P&L Unhedged ($)": p.book,
                "Existing Hedges at Exit ($)": held[sc],
                "Book + Existing Hedges ($)": with_held,
                "Active Layers at Exit ($)": pay,
                "Book + All Hedges ($)": _plus(with_held, pay),
            }
        )
    return pd.DataFrame(rows)


def grid_tables(
    valuer: HedgeValuer,
    vix_moves: Sequence[float],
    spx_moves: Sequence[float],
) -> list[tuple[str, pd.DataFrame]]:
    """For each horizon, three grids of VIX change (rows) by SPX move (columns, percent): the
    book unhedged, all hedges (existing and the recommended active layers), and the net."""
    risk = valuer.risk
    moves = [v for v in vix_moves if risk.vix + v > 0]
    columns = [f"SPX {m:+g}% ($)" for m in spx_moves]
    tables: list[tuple[str, pd.DataFrame]] = []
    every = grid_scenarios(risk, vix_moves, spx_moves)
    pnls = {p.scenario: p for p in risk.pnl_many(every)}
    held = valuer.existing(every)
    paid = valuer.new(every)
    for days in risk.horizons:
        grids: dict[str, list[list[float | None]]] = {"book": [], "hedges": [], "net": []}
        for v in moves:
            row = [Scenario(v, m / 100.0, days) for m in spx_moves]
            book: list[float | None] = [pnls[sc].book for sc in row]
            hedges = [_plus(held[sc], paid[sc]) for sc in row]
            grids["book"].append(book)
            grids["hedges"].append(hedges)
            grids["net"].append([_add(b, h) for b, h in zip(book, hedges, strict=True)])
        when = horizon_label(risk, days)
        titles = {
            "book": f"Scenario grid, {when}: condor book P&L unhedged ($)",
            "hedges": f"Scenario grid, {when}: hedges' P&L, existing and active layers ($)",
            "net": f"Scenario grid, {when}: net P&L, book + hedges ($)",
        }
        for key, title in titles.items():
            frame = pd.DataFrame(grids[key], columns=columns)
            frame.insert(0, "VIX", [risk.vix + v for v in moves])
            frame.insert(0, "VIX Change (pts)", list(moves))
            tables.append((title, frame))
    return tables


def analog_table(valuer: HedgeValuer) -> pd.DataFrame:
    """Each historical analog's SPX move and VIX change (from the shipped closes) met by today's
    book at once: unhedged, with the existing hedges, and with the recommended layers too."""
    risk = valuer.risk
    pairs = analog_scenarios(risk)
    analogs, scenarios = [a for a, _ in pairs], [sc for _, sc in pairs]
    held = valuer.existing(scenarios)
    paid = valuer.new(scenarios)
    rows = []
    for analog, p in zip(analogs, risk.pnl_many(scenarios), strict=True):
        pay = paid[p.scenario]
        with_held = p.book + held[p.scenario]
        rows.append(
            {
                "Start": analog.start,
                "End": analog.end,
                "SPX Move": analog.spx_move,
                "VIX Change (pts)": analog.vix_points,
                "VIX": p.vix,
                "Book Unhedged ($)": p.book,
                "With Existing Hedges ($)": with_held,
                "With Recommended Layers ($)": _plus(with_held, pay),
            }
        )
    return pd.DataFrame(rows)


def _plus(a: float, b: float | None) -> float | None:
    return None if b is None else a + b


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b
