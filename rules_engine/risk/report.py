"""The risk of the whole book: priced legs, dollar Greeks, structures and the VIX-spike grid.

Dollar Greeks per position (DESIGN.md): $delta per point of the leg's underlying (SPX points for
SPX options, VIX-future points for VIX options), $gamma per point per point, $vega per vol point,
$theta per day. Scenario P&L is a full repricing of every leg.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rules_engine.models import Issue
from rules_engine.pricing import black76
from rules_engine.risk.book import HEDGE_KINDS, CellOf, price_book, stressed_prices
from rules_engine.risk.market import MarketState, Scenario, ScenarioParams
from rules_engine.risk.structures import Condor, recognise
from rules_engine.settings import parse_points


@dataclass(frozen=True)
class ScenarioPnl:
    """Dollar P&L of the book's SPX legs and of its existing VIX hedges in one scenario."""

    scenario: Scenario
    spx: float
    stressed_vix: float
    book: float
    hedges: float


@dataclass(frozen=True)
class RiskResult:
    """What signals and sizers see as `ctx.risk`."""

    state: MarketState
    params: ScenarioParams
    scenarios: tuple[Scenario, ...]
    legs: pd.DataFrame
    kinds: Mapping[str, str]
    condors: tuple[Condor, ...]
    vix_option_vol: float
    issues: tuple[Issue, ...] = ()
    _leg_pnl: dict[float, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    @property
    def condor_credit(self) -> float:
        return sum(c.credit for c in self.condors)

    @property
    def hedge_legs(self) -> pd.DataFrame:
        return self.legs[self.legs["kind"].isin(HEDGE_KINDS)]

    @property
    def hedge_premium_paid(self) -> float:
        """What the existing long VIX hedges cost (Entry Price, else today's value)."""
        legs = self.hedge_legs
        premium = legs["entry_price"].where(legs["entry_price"].notna(), legs["price"])
        bought = legs["qty"] > 0
        return float((legs["qty"] * legs["multiplier"] * premium)[bought].sum())

    def leg_pnl(self, scenario: Scenario) -> np.ndarray:
        """Dollar P&L of each leg in a scenario by full repricing; computed once, read-only."""
        hit = self._leg_pnl.get(scenario.vix_points)
        if hit is not None:
            return hit
        legs = self.legs
        stressed = stressed_prices(legs, self.state, self.params, scenario)
        size = legs["qty"].to_numpy(dtype=float) * legs["multiplier"].to_numpy(dtype=float)
        change = np.asarray(size * (stressed - legs["price"].to_numpy(dtype=float)), dtype=float)
        change.flags.writeable = False
        self._leg_pnl[scenario.vix_points] = change
        return change

    def pnl(self, scenario: Scenario) -> ScenarioPnl:
        """Scenario P&L split into the SPX book and the existing VIX hedges."""
        change = self.leg_pnl(scenario)
        hedge = self.legs["kind"].isin(HEDGE_KINDS).to_numpy()
        return ScenarioPnl(
            scenario=scenario,
            spx=self.state.stressed_spx(scenario, self.params),
            stressed_vix=self.state.vix + scenario.vix_points,
            book=float(np.nansum(change[~hedge])),
            hedges=float(np.nansum(change[hedge])),
        )

    def vix_call(
        self, expiry: dt.date, strike: float, vol: float, scenario: Scenario | None = None
    ) -> dict[str, float]:
        """Per-unit Black-76 value and Greeks of a VIX call on its own future, today or stressed."""
        days = float((expiry - self.state.as_of).days)
        if scenario is None:
            forward = self.future_price(expiry)
        else:
            forward = float(self.state.stressed_futures(scenario, self.params, np.array([days]))[0])
            vol = vol + self.params.vix_option_vol_per_point * scenario.vix_points
        out = black76(forward, strike, max(days, 0.0) / 365.0, self.state.rate, vol, True)
        return {k: float(np.asarray(v)) for k, v in out.items()} | {"forward": forward}

    def future_price(self, expiry: dt.date) -> float:
        """The VIX future for `expiry` from the curve (interpolated between listed contracts)."""
        days = float((expiry - self.state.as_of).days)
        return float(self.state.curve.price_at_days(self.state.as_of, days))


def _dollar_greeks(legs: pd.DataFrame) -> pd.DataFrame:
    size = legs["qty"] * legs["multiplier"]
    legs = legs.copy()
    legs["value"] = size * legs["price"]
    legs["delta_usd"] = size * legs["delta"]
    legs["gamma_usd"] = size * legs["gamma"]
    legs["vega_usd"] = size * legs["vega"] / 100.0
    legs["theta_usd"] = size * legs["theta"] / 365.0
    return legs


def scenario_points(settings: Mapping[str, Any]) -> tuple[Scenario, ...]:
    return tuple(Scenario(p) for p in parse_points(settings["scenario.vix_points"]))


def vix_option_vol(market: Mapping[str, Any], settings: Mapping[str, Any]) -> float:
    """ATM vol for VIX options without a quote: VVIX when given, else the setting."""
    vvix = market.get("vvix")
    if isinstance(vvix, int | float) and vvix > 0:
        return float(vvix) / 100.0
    return float(settings["scenario.vix_option_vol_default"])


def compute_risk(
    positions: pd.DataFrame,
    state: MarketState,
    settings: Mapping[str, Any],
    market: Mapping[str, Any],
    cell_of: CellOf,
) -> RiskResult:
    """Price, recognise and stress the book. Input errors come back as `error` issues."""
    vol = vix_option_vol(market, settings)
    priced = price_book(positions, state, vol, cell_of)
    legs = _dollar_greeks(priced.legs)
    kinds, condors, structure_issues = recognise(legs, cell_of)
    legs["structure"] = legs["group"].map(lambda g: kinds.get(str(g), ""))
    return RiskResult(
        state=state,
        params=ScenarioParams.from_settings(settings),
        scenarios=scenario_points(settings),
        legs=legs,
        kinds=kinds,
        condors=tuple(condors),
        vix_option_vol=vol,
        issues=(*priced.issues, *structure_issues),
    )
