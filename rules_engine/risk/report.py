"""The risk of the whole book: what signals and sizers see as `ctx.risk`, and the Risk sheet shows.

Dollar Greeks per position (DESIGN.md): $delta per point of the leg's underlying (SPX points for
SPX options, VIX-future points for VIX options), $gamma per point per point, $vega per vol point,
$theta per day. Scenario P&L is a full repricing of every leg.

A `RiskReport` is read-only to whoever holds it: every frame, series or array it hands out is a
copy, and every other value is a number, a date or a frozen dataclass. Each plugin gets its own
report (`isolated()`), so not even a plugin that digs into private attributes can change what
another plugin or the Risk sheet sees.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from rules_engine.models import Issue
from rules_engine.pricing import black76
from rules_engine.risk.book import HEDGE_KINDS, CellOf, price_book, stressed_prices
from rules_engine.risk.market import (
    MIN_VOL,
    FloatArray,
    MarketState,
    Scenario,
    ScenarioParams,
    futures_beta,
)
from rules_engine.risk.structures import Condor, recognise
from rules_engine.settings import parse_points

#: Per-position columns that add up to structure and book totals.
DOLLAR_COLUMNS = ("value", "delta_usd", "gamma_usd", "vega_usd", "theta_usd")


@dataclass(frozen=True)
class ScenarioPnl:
    """Dollar P&L in one scenario: the book (every leg that is not a VIX hedge) and the existing
    VIX hedges, with the SPX and VIX levels the scenario reaches."""

    scenario: Scenario
    spx: float
    vix: float
    book: float
    hedges: float

    @property
    def net(self) -> float:
        """Book plus existing hedges."""
        return self.book + self.hedges


@dataclass(frozen=True)
class OptionValue:
    """Per-unit Black-76 value and Greeks of one VIX option on its own future, in natural units
    (vega per 1.00 of vol, theta per year), with the future and vol it was priced at."""

    price: float
    delta: float
    gamma: float
    vega: float
    theta: float
    forward: float
    vol: float


class RiskReport:
    """Priced legs, structures, existing hedges and scenario P&L of the workbook's book.

    Columns of `legs` (one row per Positions row, in sheet order): the Positions fields (group,
    underlying, type, expiry, strike, qty, multiplier, entry_price, iv, mark, row), then `kind`
    (spx_option, vix_option, vix_future, etp), `days` to expiry, `underlying_price` (SPX, the VIX
    future of the leg's expiry, or the ETP's mark), `iv_source`, per-unit `price`, `delta`,
    `gamma`, `vega`, `theta`, and per-position dollars `value`, `delta_usd`, `gamma_usd`,
    `vega_usd`, `theta_usd`, and `structure` (iron condor, VIX hedge, other).
    """

    def __init__(
        self,
        *,
        state: MarketState,
        params: ScenarioParams,
        primary: Scenario,
        scenarios: tuple[Scenario, ...],
        legs: pd.DataFrame,
        kinds: Mapping[str, str],
        condors: tuple[Condor, ...],
        vix_option_vol: float,
        issues: tuple[Issue, ...] = (),
    ) -> None:
        self._state = state
        self._params = params
        self._primary = primary
        self._scenarios = tuple(sorted({*scenarios, primary}, key=lambda sc: sc.sort_key))
        self._legs = legs.copy()
        self._kinds = MappingProxyType(dict(kinds))
        self._condors = tuple(condors)
        self._vix_option_vol = float(vix_option_vol)
        self._issues = tuple(issues)
        self._hedge = self._legs["kind"].isin(HEDGE_KINDS).to_numpy()
        self._leg_pnl: dict[Scenario, FloatArray] = {}

    def isolated(self) -> RiskReport:
        """A report of its own for one plugin: same figures (and the scenarios already priced),
        nothing shared that could change."""
        own = copy.copy(self)
        own._legs = self._legs.copy(deep=True)
        own._hedge = self._hedge.copy()
        own._leg_pnl = {sc: _read_only(pnl.copy()) for sc, pnl in self._leg_pnl.items()}
        return own

    # --- the market ---------------------------------------------------------------------------

    @property
    def as_of(self) -> dt.date:
        return self._state.as_of

    @property
    def spx(self) -> float:
        """SPX today (index points)."""
        return self._state.spx

    @property
    def vix(self) -> float:
        """Spot VIX today (index points)."""
        return self._state.vix

    @property
    def rate(self) -> float:
        """Risk-free rate, annual, continuous (0.045 = 4.5%)."""
        return self._state.rate

    @property
    def dividend_yield(self) -> float:
        return self._state.dividend_yield

    @property
    def futures_curve(self) -> tuple[tuple[dt.date, float], ...]:
        """The live VIX futures: (expiry, price) pairs, nearest first."""
        curve = self._state.curve
        return tuple(zip(curve.expiries, curve.prices, strict=True))

    @property
    def vix_option_vol(self) -> float:
        """Implied vol for a VIX option without a quote: Market VVIX, else the setting."""
        return self._vix_option_vol

    @property
    def params(self) -> ScenarioParams:
        """The stress model's coefficients (from the Settings sheet)."""
        return self._params

    # --- scenarios ------------------------------------------------------------------------------

    @property
    def primary(self) -> Scenario:
        """The spike hedges are sized for (setting `scenario.primary_spike`)."""
        return self._primary

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        """The configured spikes (`scenario.vix_points`) and the primary one, smallest first."""
        return self._scenarios

    def pnl(self, scenario: Scenario) -> ScenarioPnl:
        """P&L of the book and of the existing hedges in `scenario` (any VIX move, any SPX move)."""
        change = self._leg_pnl_array(scenario)
        return ScenarioPnl(
            scenario=scenario,
            spx=self.stressed_spx(scenario),
            vix=self._state.stressed_vix(scenario),
            book=float(np.nansum(change[~self._hedge])),
            hedges=float(np.nansum(change[self._hedge])),
        )

    def projected_loss(self, scenario: Scenario | None = None) -> float:
        """Dollars the book (without its VIX hedges) loses in `scenario` (default: the primary
        spike); 0 when it gains."""
        return max(0.0, -self.pnl(scenario or self._primary).book)

    def leg_pnl(self, scenario: Scenario) -> pd.Series:
        """Dollar P&L of each leg in `scenario`, indexed like `legs`."""
        return pd.Series(self._leg_pnl_array(scenario).copy(), index=self._legs.index, name="pnl")

    def structure_pnl(self, scenario: Scenario) -> pd.Series:
        """Dollar P&L of each Group in `scenario`, in sheet order."""
        by_group = self.leg_pnl(scenario).groupby(self._legs["group"].astype(str), sort=False)
        return by_group.sum()

    def stressed_spx(self, scenario: Scenario) -> float:
        """SPX in `scenario`."""
        return self._state.stressed_spx(scenario, self._params)

    def _leg_pnl_array(self, scenario: Scenario) -> FloatArray:
        """Full-repricing P&L per leg, computed once per scenario and never handed out as is."""
        hit = self._leg_pnl.get(scenario)
        if hit is not None:
            return hit
        self._state.stressed_vix(scenario)
        legs = self._legs
        stressed = stressed_prices(legs, self._state, self._params, scenario)
        size = legs["qty"].to_numpy(dtype=float) * legs["multiplier"].to_numpy(dtype=float)
        change = np.asarray(size * (stressed - legs["price"].to_numpy(dtype=float)), dtype=float)
        self._leg_pnl[scenario] = _read_only(change)
        return change

    # --- the book -------------------------------------------------------------------------------

    @property
    def legs(self) -> pd.DataFrame:
        """Every priced leg (columns in the class docstring)."""
        return self._legs.copy()

    @property
    def kinds(self) -> Mapping[str, str]:
        """Group -> structure kind (iron condor, VIX hedge, other)."""
        return self._kinds

    @property
    def condors(self) -> tuple[Condor, ...]:
        """The recognised iron condors with credit, max loss and break-evens."""
        return self._condors

    @property
    def condor_credit(self) -> float:
        """Credit of every recognised iron condor, dollars."""
        return sum(c.credit for c in self._condors)

    @property
    def structures(self) -> pd.DataFrame:
        """One row per Group, indexed by group: its kind, number of legs and summed dollars."""
        groups = self._legs.groupby(self._legs["group"].astype(str), sort=False)
        frame = groups[list(DOLLAR_COLUMNS)].sum()
        frame.insert(0, "legs", groups.size())
        frame.insert(0, "structure", [self._kinds.get(str(g), "") for g in frame.index])
        frame.index.name = "group"
        return frame

    @property
    def hedge_legs(self) -> pd.DataFrame:
        """The existing VIX hedges (VIX options and futures, VIX ETPs) among the legs."""
        return self._legs[self._hedge].copy()

    @property
    def hedge_premium_paid(self) -> float:
        """What the existing long VIX hedges cost (Entry Price, else today's value), dollars."""
        legs = self._legs[self._hedge]
        premium = legs["entry_price"].where(legs["entry_price"].notna(), legs["price"])
        bought = legs["qty"] > 0
        return float((legs["qty"] * legs["multiplier"] * premium)[bought].sum())

    @property
    def issues(self) -> tuple[Issue, ...]:
        """Warnings and errors found while pricing and recognising the book."""
        return self._issues

    # --- hedge instruments ------------------------------------------------------------------------

    def vix_future(self, expiry: dt.date, scenario: Scenario | None = None) -> float:
        """The VIX future for `expiry` (interpolated between listed contracts), today or in
        `scenario` (moved by its tenor beta)."""
        days = np.array([float((expiry - self.as_of).days)])
        if scenario is None:
            return float(self._state.curve.price_at_days(self.as_of, days)[0])
        self._state.stressed_vix(scenario)
        return float(self._state.stressed_futures(scenario, self._params, days)[0])

    def vix_futures_beta(self, expiry: dt.date) -> float:
        """VIX future points per spot VIX point for `expiry` in the stress model."""
        return float(futures_beta(float((expiry - self.as_of).days), self._params))

    def vix_option(
        self,
        expiry: dt.date,
        strike: float,
        *,
        call: bool = True,
        vol: float | None = None,
        scenario: Scenario | None = None,
    ) -> OptionValue:
        """A VIX option on its own future by Black-76, today or in `scenario` (future moved by its
        tenor beta, vol raised by `scenario.vix_option_vol_per_point`). `vol` defaults to
        `vix_option_vol`."""
        sigma = self._vix_option_vol if vol is None else float(vol)
        forward = self.vix_future(expiry, scenario)
        if scenario is not None:
            sigma += self._params.vix_option_vol_per_point * scenario.vix_points
        sigma = max(sigma, MIN_VOL)
        days = max(float((expiry - self.as_of).days), 0.0)
        out = black76(forward, strike, days / 365.0, self.rate, sigma, call)
        return OptionValue(
            price=float(out["price"]),
            delta=float(out["delta"]),
            gamma=float(out["gamma"]),
            vega=float(out["vega"]),
            theta=float(out["theta"]),
            forward=forward,
            vol=sigma,
        )


def _read_only(values: FloatArray) -> FloatArray:
    values.flags.writeable = False
    return values


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


def primary_scenario(settings: Mapping[str, Any]) -> Scenario:
    return Scenario(float(settings["scenario.primary_spike"]))


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
) -> RiskReport:
    """Price, recognise and stress the book. Input errors come back as `error` issues."""
    vol = vix_option_vol(market, settings)
    priced = price_book(positions, state, vol, cell_of)
    legs = _dollar_greeks(priced.legs)
    kinds, condors, structure_issues = recognise(legs, cell_of)
    legs["structure"] = legs["group"].astype(str).map(kinds).fillna("")
    return RiskReport(
        state=state,
        params=ScenarioParams.from_settings(settings),
        primary=primary_scenario(settings),
        scenarios=scenario_points(settings),
        legs=legs,
        kinds=kinds,
        condors=tuple(condors),
        vix_option_vol=vol,
        issues=(*priced.issues, *structure_issues),
    )
