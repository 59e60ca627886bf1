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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rules_engine.models import HedgeLayer
from rules_engine.risk.analogs import historical_analogs
from rules_engine.risk.instruments import Chain, held_hedges_pnl, layer_pnl
from rules_engine.risk.liquidity import Liquidity
from rules_engine.risk.market import Scenario
from rules_engine.risk.report import RiskReport


@dataclass(frozen=True)
class HedgeValuer:
    """Dollars the existing hedges and the recommended ACTIVE layers (None: the sizer failed)
    make per scenario, both closed at the exit value there."""

    risk: RiskReport
    layers: Sequence[HedgeLayer] | None
    chain: Chain
    liquidity: Liquidity

    def existing(self, scenarios: Sequence[Scenario]) -> dict[Scenario, float]:
        return held_hedges_pnl(self.risk, scenarios, self.liquidity)

    def new(self, scenarios: Sequence[Scenario]) -> dict[Scenario, float | None]:
        if self.layers is None:
            return dict.fromkeys(scenarios)
        total = np.zeros(len(scenarios))
        for layer in self.layers:
            total += layer_pnl(self.risk, layer, scenarios, self.chain, self.liquidity)
        return {sc: float(v) for sc, v in zip(scenarios, total, strict=True)}


def horizon_label(risk: RiskReport, days: float) -> str:
    """today; T+7; T+21 (condor expiry 2018-02-16)."""
    if days == 0:
        return "today"
    text = f"T+{days:g}"
    expiries = sorted({c.expiry for c in risk.condors})
    if expiries and days == (expiries[0] - risk.as_of).days:
        text += f" (condor expiry {expiries[0]:%Y-%m-%d})"
    return text


def spike_table(valuer: HedgeValuer) -> pd.DataFrame:
    """One row per configured spike (and the primary one) at each horizon."""
    risk = valuer.risk
    scenarios = [
        Scenario(sc.vix_points, sc.spx_move, days)
        for days in risk.horizons
        for sc in risk.scenarios
    ]
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
    for days in risk.horizons:
        scenarios = [Scenario(v, m / 100.0, days) for v in moves for m in spx_moves]
        pnls = {p.scenario: p for p in risk.pnl_many(scenarios)}
        held = valuer.existing(scenarios)
        paid = valuer.new(scenarios)
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
    analogs = [a for a in historical_analogs() if risk.vix + a.vix_points > 0]
    scenarios = [Scenario(a.vix_points, a.spx_move) for a in analogs]
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
