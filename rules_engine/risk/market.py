"""The market a book is priced in, and the VIX spike scenario that moves it.

A spike of N VIX points is a scenario, not a vega multiplication (DESIGN.md): SPX falls with it,
SPX implied vols rise by tenor and strike, each VIX future rises by its tenor beta, and VIX option
vol rises. Every coefficient comes from a setting with a source note (rules_engine/settings.py).
"""

from __future__ import annotations

import datetime as dt
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
    """A named instantaneous shock: VIX up `vix_points` index points (0 = today)."""

    vix_points: float

    @property
    def label(self) -> str:
        return f"VIX +{self.vix_points:g}"


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

    def stressed_spx(self, scenario: Scenario, params: ScenarioParams) -> float:
        """SPX after the spike under the percent rule; never below 1% of today's level."""
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
        return np.asarray(base + scenario.vix_points * futures_beta(days, params), dtype=float)

    def etp_return(self, scenario: Scenario, params: ScenarioParams, leverage: float) -> float:
        """Return of a VIX ETP tracking the 1-month constant-maturity futures index x leverage."""
        f30 = float(self.curve.price_at_days(self.as_of, ETP_TENOR_DAYS))
        move = float(futures_beta(ETP_TENOR_DAYS, params)) * scenario.vix_points / f30
        return leverage * move
