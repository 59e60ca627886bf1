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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from rules_engine.models import Issue
from rules_engine.pricing import black76
from rules_engine.risk.book import (
    HEDGE_KINDS,
    CellOf,
    price_book,
    scenario_prices,
    vix_option_prices,
)
from rules_engine.risk.market import MIN_VOL, FloatArray, MarketState, Scenario, ScenarioParams
from rules_engine.risk.stress import StressModel
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
        model: StressModel,
        primary: Scenario,
        scenarios: tuple[Scenario, ...],
        horizon_days: float,
        legs: pd.DataFrame,
        kinds: Mapping[str, str],
        condors: tuple[Condor, ...],
        issues: tuple[Issue, ...] = (),
    ) -> None:
        self._model = model
        self._state = model.state
        self._primary = primary
        self._scenarios = tuple(sorted({*scenarios, primary}, key=lambda sc: sc.sort_key))
        self._horizon_days = float(horizon_days)
        self._legs = legs.copy()
        self._kinds = MappingProxyType(dict(kinds))
        self._condors = tuple(condors)
        self._issues = tuple(issues)
        self._hedge = self._legs["kind"].isin(HEDGE_KINDS).to_numpy()
        self._leg_pnl: dict[Scenario, FloatArray] = {}
        self._leg_price: dict[Scenario, FloatArray] = {}

    def isolated(self) -> RiskReport:
        """A report of its own for one plugin: same figures (and the scenarios already priced),
        nothing shared that could change."""
        own = copy.copy(self)
        own._legs = self._legs.copy(deep=True)
        own._hedge = self._hedge.copy()
        own._leg_pnl = {sc: _read_only(pnl.copy()) for sc, pnl in self._leg_pnl.items()}
        own._leg_price = {sc: _read_only(p.copy()) for sc, p in self._leg_price.items()}
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
    def params(self) -> ScenarioParams:
        """The stress model's coefficients (from the Settings sheet)."""
        return self._model.params

    @property
    def vix_1y_mean(self) -> float:
        """The mean VIX close of the past year: the futures curve model's anchor."""
        return self._state.vix_1y_mean

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
        """P&L of the book and of the existing hedges in `scenario` (any VIX move, SPX move and
        horizon)."""
        return self.pnl_many([scenario])[0]

    def pnl_many(self, scenarios: Sequence[Scenario]) -> list[ScenarioPnl]:
        """`pnl` of many scenarios, priced together in one vectorized pass."""
        self._price(scenarios)
        if not scenarios:
            return []
        changes = np.array([self._leg_pnl[scenario] for scenario in scenarios], dtype=float)
        book = np.nansum(changes[:, ~self._hedge], axis=1).tolist()
        hedges = np.nansum(changes[:, self._hedge], axis=1).tolist()
        model = self._model
        return [
            ScenarioPnl(sc, model.spx_level(sc), model.vix_level(sc), b, h)
            for sc, b, h in zip(scenarios, book, hedges, strict=True)
        ]

    def projected_loss(self, scenario: Scenario | None = None) -> float:
        """Dollars the book (without its VIX hedges) loses in `scenario` (default: the primary
        spike); 0 when it gains."""
        return max(0.0, -self.pnl(scenario or self._primary).book)

    def leg_pnl(self, scenario: Scenario) -> pd.Series:
        """Dollar P&L of each leg in `scenario`, indexed like `legs`."""
        return pd.Series(self._leg_pnl_array(scenario).copy(), index=self._legs.index, name="pnl")

    def leg_prices(self, scenarios: Sequence[Scenario]) -> FloatArray:
        """Model value per unit (the unit of `legs["price"]`) of each leg (columns, in `legs`
        order) in each scenario (rows), priced together."""
        self._price(scenarios)
        return np.array([self._leg_price[sc] for sc in scenarios], dtype=float)

    def structure_pnl(self, scenario: Scenario) -> pd.Series:
        """Dollar P&L of each Group in `scenario`, in sheet order."""
        by_group = self.leg_pnl(scenario).groupby(self._legs["group"].astype(str), sort=False)
        return by_group.sum()

    def stressed_spx(self, scenario: Scenario) -> float:
        """SPX in `scenario`."""
        return self._model.spx_level(scenario)

    @property
    def horizons(self) -> tuple[float, ...]:
        """The days at which scenarios are shown: today (0), the horizon setting
        (`scenario.horizon_days`) and the nearest condor expiry, when there is a condor."""
        days = {0.0, self._horizon_days}
        expiries = [(c.expiry - self.as_of).days for c in self._condors]
        if expiries:
            days.add(float(min(expiries)))
        return tuple(sorted(days))

    def _leg_pnl_array(self, scenario: Scenario) -> FloatArray:
        """Full-repricing P&L per leg, computed once per scenario and never handed out as is."""
        self._price([scenario])
        return self._leg_pnl[scenario]

    def _price(self, scenarios: Sequence[Scenario]) -> None:
        """Price the scenarios not priced yet, all in one pass, and keep each leg P&L row."""
        todo = list(dict.fromkeys(s for s in scenarios if s not in self._leg_pnl))
        if not todo:
            return
        for scenario in todo:
            self._model.vix_level(scenario)  # a crush below zero is refused before any pricing
        legs = self._legs
        stressed = scenario_prices(legs, self._model, todo)
        size = legs["qty"].to_numpy(dtype=float) * legs["multiplier"].to_numpy(dtype=float)
        change = size * (stressed - legs["price"].to_numpy(dtype=float))
        for scenario, row, prices in zip(todo, change, stressed, strict=True):
            self._leg_pnl[scenario] = _read_only(np.array(row, dtype=float))
            self._leg_price[scenario] = _read_only(np.array(prices, dtype=float))

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

    @cached_property
    def hedge_premium_paid(self) -> float:
        """Option premium the existing VIX hedges cost, net (a short call of a spread gives some
        back), dollars: Entry Price, else today's value. Futures and ETP shares are not premium:
        a future is margined and shares are capital (`hedge_notional` reports them)."""
        legs = self._legs[(self._legs["kind"] == "vix_option").to_numpy()]
        premium = legs["entry_price"].where(legs["entry_price"].notna(), legs["price"])
        return max(float((legs["qty"] * legs["multiplier"] * premium).sum()), 0.0)

    @cached_property
    def hedge_notional(self) -> float:
        """Dollar exposure of the VIX futures and the value of the VIX ETP shares held."""
        legs = self._legs[self._legs["kind"].isin(["vix_future", "etp"]).to_numpy()]
        return float((legs["qty"] * legs["multiplier"] * legs["underlying_price"]).abs().sum())

    @cached_property
    def credit_received(self) -> float:
        """Net premium taken in by the SPX book's short-premium groups, dollars: per Group that is
        not a VIX hedge, -sum(qty x multiplier x Entry Price (else today's price)), counted when
        positive. A condor with an extra or missing leg still brought in its credit, so it still
        funds hedges (the premium budget is a share of this)."""
        legs = self._legs[~self._hedge]
        entry = legs["entry_price"].to_numpy(dtype=float)
        paid = np.where(np.isnan(entry), legs["price"].to_numpy(dtype=float), entry)
        flows = -(legs["qty"].to_numpy(dtype=float) * legs["multiplier"].to_numpy(dtype=float))
        codes, _ = pd.factorize(legs["group"].astype(str))
        cash = np.nan_to_num(flows * paid, nan=0.0)  # as a sum that skips unknowns
        by_group = np.bincount(codes, weights=cash) if len(codes) else np.zeros(0)
        return float(by_group[by_group > 0].sum())

    @property
    def issues(self) -> tuple[Issue, ...]:
        """Warnings and errors found while pricing and recognising the book."""
        return self._issues

    # --- hedge instruments ------------------------------------------------------------------------

    def vix_future(self, expiry: dt.date, scenario: Scenario | None = None) -> float:
        """The VIX future for `expiry` (interpolated between listed contracts, from spot VIX at
        tenor 0), today or in `scenario` (rolled down to its horizon, moved with the curve
        model)."""
        if scenario is None:
            days = np.array([float((expiry - self.as_of).days)])
            return float(self._state.curve.price_at_days(self.as_of, days)[0])
        return float(self.vix_future_values(expiry, [scenario])[0])

    def vix_future_values(self, expiry: dt.date, scenarios: Sequence[Scenario]) -> FloatArray:
        """`vix_future(expiry, scenario)` of each scenario, priced together."""
        days = np.array([float((expiry - self.as_of).days)])
        return self._model.futures(days, self._model.levels(scenarios))[:, 0].copy()

    @property
    def spx_per_vix_point(self) -> float:
        """The stress model's SPX return per VIX point for a small move from today (-0.005 =
        SPX -0.5% per VIX point)."""
        return self._model.spx_per_vix_point()

    def etp_growth(self, leverage: float, scenario: Scenario) -> float:
        """What one unit of a VIX ETP with this daily leverage (VXX 1, UVXY 1.5) is worth in
        `scenario` per unit today: the 1-month futures move times the leverage, then the daily
        roll along the scenario's curve over its horizon."""
        return float(self.etp_growths(leverage, [scenario])[0])

    def etp_growths(self, leverage: float, scenarios: Sequence[Scenario]) -> FloatArray:
        """`etp_growth(leverage, scenario)` of each scenario, priced together."""
        levels = self._model.levels(scenarios)
        return self._model.etp_growth(np.array([leverage]), levels)[:, 0].copy()

    def vix_futures_beta(self, expiry: dt.date) -> float:
        """VIX future points per spot VIX point for `expiry` today (the curve model's slope)."""
        return float(self._model.futures_beta(float((expiry - self.as_of).days)))

    def vix_option_vol(self, expiry: dt.date, strike: float) -> float:
        """The VIX option vol surface's implied vol for `expiry` and `strike` today (fraction)."""
        days = np.array([float((expiry - self.as_of).days)])
        forward = np.array([self.vix_future(expiry)])
        return float(self._model.vix_surface(days, np.array([strike]), forward, self.vix)[0])

    def vix_option_prices(
        self,
        expiry: dt.date,
        strike: float,
        scenarios: Sequence[Scenario],
        *,
        call: bool = True,
        vol: float | None = None,
    ) -> FloatArray:
        """`vix_option(...).price` in each scenario, priced together as a leg of the book is (so
        a new hedge and a held one are valued alike)."""
        sigma = self.vix_option_vol(expiry, strike) if vol is None else float(vol)
        days = float((expiry - self.as_of).days)
        future = self.vix_future(expiry)
        return vix_option_prices(self._model, scenarios, days, strike, sigma, future, call)

    def vix_option(
        self,
        expiry: dt.date,
        strike: float,
        *,
        call: bool = True,
        vol: float | None = None,
        scenario: Scenario | None = None,
    ) -> OptionValue:
        """A VIX option on its own future by Black-76, today or in `scenario` (future moved by the
        curve model and rolled to the horizon, vol moved by the surface's change; worth its
        payoff once expired). `vol` defaults to the surface's vol for this strike and expiry."""
        sigma = self.vix_option_vol(expiry, strike) if vol is None else float(vol)
        days = float((expiry - self.as_of).days)
        forward = self.vix_future(expiry, scenario)
        left = days
        if scenario is not None:
            today = np.array([self.vix_future(expiry)])
            change = self._model.vix_vol_change(
                np.array([days]), np.array([strike]), today, self._model.levels([scenario])
            )
            sigma += float(change[0, 0])
            left = days - scenario.days
        sigma = max(sigma, MIN_VOL)
        if left <= 0:
            level = self._model.vix_level(scenario) if scenario is not None else forward
            payoff = max(level - strike, 0.0) if call else max(strike - level, 0.0)
            return OptionValue(payoff, 0.0, 0.0, 0.0, 0.0, level, sigma)
        out = black76(forward, strike, left / 365.0, self.rate, sigma, call)
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


def compute_risk(
    positions: pd.DataFrame,
    state: MarketState,
    settings: Mapping[str, Any],
    cell_of: CellOf,
) -> RiskReport:
    """Price, recognise and stress the book. Input errors come back as `error` issues."""
    model = StressModel(state, ScenarioParams.from_settings(settings))
    priced = price_book(positions, model, cell_of)
    legs = _dollar_greeks(priced.legs)
    kinds, condors, structure_issues = recognise(legs, cell_of)
    legs["structure"] = legs["group"].astype(str).map(kinds).fillna("")
    report = RiskReport(
        model=model,
        primary=primary_scenario(settings),
        scenarios=scenario_points(settings),
        horizon_days=float(settings["scenario.horizon_days"]),
        legs=legs,
        kinds=kinds,
        condors=tuple(condors),
        issues=(*priced.issues, *structure_issues),
    )
    if not any(i.severity == "error" for i in report.issues):
        # Every sizer and the Risk sheet ask for the configured spikes first: priced here in one
        # pass, each plugin's copy of the report carries them.
        report.pnl_many(report.scenarios)
    return report
