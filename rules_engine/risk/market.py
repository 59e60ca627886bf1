"""The market a book is priced in, and the VIX spike scenario that moves it.

A spike of N VIX points is a scenario, not a vega multiplication (DESIGN.md): SPX falls with it,
SPX implied vols rise by tenor and strike, each VIX future rises by its tenor beta, and VIX option
vol rises. Every coefficient comes from a setting with a source note (rules_engine/settings.py).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Days from which a VIX future's beta to spot VIX stops falling (the 4-7 month index's midpoint).
LONG_TENOR_DAYS = 165.0
#: The constant maturity a 1-month VIX ETP tracks.
ETP_TENOR_DAYS = 30.0
#: Floors that keep a vol-crush scenario inside the models' domain: no VIX future below one
#: index point, no implied vol below one vol point.
MIN_FUTURE = 1.0
MIN_VOL = 0.01


@dataclass(frozen=True)
class ScenarioParams:
    """The stress model's coefficients, read from the settings of the same names."""

    spx_pct_per_vix_pct: float
    atm_iv_beta: float
    iv_tenor_exponent: float
    iv_tenor_factor_max: float
    put_skew_beta: float
    vix_futures_beta_30d: float
    vix_futures_beta_165d: float
    vix_option_vol_per_point: float

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ScenarioParams:
        return cls(
            **{name: float(settings[f"scenario.{name}"]) for name in cls.__dataclass_fields__}
        )


@dataclass(frozen=True)
class Scenario:
    """An instantaneous shock: VIX moves `vix_points` index points (+6 a spike, -3 a crush) and
    SPX moves by `spx_move` (a fraction: -0.05 is -5%), or, when None, as the stress model
    says for that VIX move. Scenarios are keys: equal values are the same scenario."""

    vix_points: float
    spx_move: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.vix_points, bool) or not math.isfinite(self.vix_points):
            raise ValueError(f"Scenario vix_points {self.vix_points!r} is not a finite number")
        if self.spx_move is not None and not (
            math.isfinite(self.spx_move) and -1.0 < self.spx_move <= 10.0
        ):
            raise ValueError(f"Scenario spx_move {self.spx_move!r} must be a fraction above -1")

    @property
    def sort_key(self) -> tuple[float, float]:
        """The order scenarios are shown in: by VIX move, the stress model's SPX move first."""
        return (self.vix_points, -math.inf if self.spx_move is None else self.spx_move)

    @property
    def label(self) -> str:
        """How sheets name it: VIX +6, or VIX +6, SPX -5% when the SPX move is given."""
        vix = f"VIX {self.vix_points:+g}"
        return vix if self.spx_move is None else f"{vix}, SPX {self.spx_move * 100:+g}%"


@dataclass(frozen=True)
class VixCurve:
    """The VIX futures curve: expiries (ascending) and prices, index points."""

    expiries: tuple[dt.date, ...]
    prices: tuple[float, ...]

    def days(self, as_of: dt.date) -> FloatArray:
        return np.array([(e - as_of).days for e in self.expiries], dtype=float)

    def price_at_days(self, as_of: dt.date, days: FloatArray | float) -> FloatArray:
        """Linear interpolation in days to expiry; flat beyond the first and last contracts."""
        xp, fp = self.days(as_of), np.array(self.prices, dtype=float)
        return np.asarray(np.interp(np.asarray(days, dtype=float), xp, fp), dtype=float)

    def covers(self, as_of: dt.date, days: float) -> bool:
        d = self.days(as_of)
        return bool(len(d)) and float(d[0]) <= days <= float(d[-1])


def futures_beta(days: FloatArray | float, params: ScenarioParams) -> FloatArray:
    """VIX future points per spot VIX point: 1 at expiry, the 30-day beta at 30 days, the long beta
    from 165 days on, linear in between (S&P DJI 2011: 1-month index ~0.43, 4-7 month ~0.21)."""
    knots = [1.0, params.vix_futures_beta_30d, params.vix_futures_beta_165d]
    beta = np.interp(np.asarray(days, dtype=float), [0.0, 30.0, LONG_TENOR_DAYS], knots)
    return np.asarray(beta, dtype=float)


@dataclass(frozen=True)
class MarketState:
    """Spot levels and curves on the as-of date."""

    as_of: dt.date
    spx: float
    vix: float
    rate: float
    dividend_yield: float
    curve: VixCurve

    def stressed_vix(self, scenario: Scenario) -> float:
        """Spot VIX in the scenario; a crush larger than today's level is refused."""
        level = self.vix + scenario.vix_points
        if level <= 0:
            raise ValueError(
                f"{scenario.label} would take VIX from {self.vix:g} to {level:g}; VIX stays above 0"
            )
        return level

    def stressed_spx(self, scenario: Scenario, params: ScenarioParams) -> float:
        """SPX in the scenario: its own move when given, else the percent rule (never below 1% of
        today's level)."""
        if scenario.spx_move is not None:
            return self.spx * (1.0 + scenario.spx_move)
        move = params.spx_pct_per_vix_pct * scenario.vix_points / self.vix
        return self.spx * max(1.0 + move, 0.01)

    def spx_iv_shift(
        self,
        scenario: Scenario,
        params: ScenarioParams,
        days: FloatArray,
        strikes: FloatArray,
    ) -> FloatArray:
        """Added implied vol (fraction) for SPX options: ATM shift scaled by tenor, plus skew.

        ATM: beta x N vol points x clip((30/days)^exponent, 1/cap, cap). Downside strikes add
        put_skew_beta x N vol points per 10% of strike below the stressed SPX level.
        """
        n = scenario.vix_points / 100.0
        cap = params.iv_tenor_factor_max
        tenor = np.clip((30.0 / np.maximum(days, 1.0)) ** params.iv_tenor_exponent, 1.0 / cap, cap)
        below = np.maximum(0.0, np.log(self.stressed_spx(scenario, params) / strikes))
        return np.asarray(
            n * params.atm_iv_beta * tenor + n * params.put_skew_beta * below / 0.10, dtype=float
        )

    def stressed_futures(
        self, scenario: Scenario, params: ScenarioParams, days: FloatArray
    ) -> FloatArray:
        """VIX futures prices at `days` to expiry after the spike."""
        base = self.curve.price_at_days(self.as_of, days)
        moved = base + scenario.vix_points * futures_beta(days, params)
        return np.asarray(np.maximum(moved, MIN_FUTURE), dtype=float)

    def etp_return(self, scenario: Scenario, params: ScenarioParams, leverage: float) -> float:
        """Return of a VIX ETP tracking the 1-month constant-maturity futures index x leverage."""
        f30 = float(self.curve.price_at_days(self.as_of, ETP_TENOR_DAYS))
        move = float(futures_beta(ETP_TENOR_DAYS, params)) * scenario.vix_points / f30
        return leverage * move
