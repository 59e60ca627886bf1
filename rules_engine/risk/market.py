"""The market a book is priced in, and the scenarios that move it.

A scenario is a move of spot VIX by some points, of SPX (given, or as the stress model says for
that VIX move) and of time (a horizon in days). How each instrument responds is the stress
model's business (rules_engine/risk/stress.py); this module holds the data both share.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Floors that keep a vol-crush scenario inside the models' domain: no VIX future below one
#: index point, no implied vol below one vol point.
MIN_FUTURE = 1.0
MIN_VOL = 0.01


@dataclass(frozen=True)
class ScenarioParams:
    """The stress model's coefficients, read from the settings `scenario.<name>`."""

    spx_rule: str
    spx_beta_low: float
    spx_beta_mid: float
    spx_beta_high: float
    spx_pct_per_vix_point: float
    atm_iv_beta: float
    iv_tenor_exponent: float
    iv_tenor_factor_max: float
    put_skew_beta: float
    smile: str
    curve_theta_slope: float
    curve_theta_intercept: float
    curve_kappa: float
    curve_kappa_exponent: float
    vix_vol_30d: float
    vix_vol_term_exponent: float
    vix_vol_level_exponent: float
    vix_vol_call_skew: float

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ScenarioParams:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = settings[f"scenario.{f.name}"]
            values[f.name] = str(raw) if f.type == "str" else float(raw)
        return cls(**values)


@dataclass(frozen=True)
class Scenario:
    """An instantaneous shock: VIX moves `vix_points` index points (+6 a spike, -3 a crush) and
    SPX moves by `spx_move` (a fraction: -0.05 is -5%), or, when None, as the stress model
    says for that VIX move. Scenarios are keys: equal values are the same scenario."""

    vix_points: float
    spx_move: float | None = None
    days: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.vix_points, bool) or not math.isfinite(self.vix_points):
            raise ValueError(f"Scenario vix_points {self.vix_points!r} is not a finite number")
        if self.spx_move is not None and not (
            math.isfinite(self.spx_move) and -1.0 < self.spx_move <= 10.0
        ):
            raise ValueError(f"Scenario spx_move {self.spx_move!r} must be a fraction above -1")
        if not (math.isfinite(self.days) and 0.0 <= self.days <= 3650.0):
            raise ValueError(f"Scenario days {self.days!r} must be between 0 and 3650")

    @property
    def sort_key(self) -> tuple[float, float, float]:
        """The order scenarios are shown in: by horizon, then VIX move, the stress model's SPX
        move first."""
        spx = -math.inf if self.spx_move is None else self.spx_move
        return (self.days, self.vix_points, spx)

    @property
    def label(self) -> str:
        """How sheets name it: VIX +6; VIX +6, SPX -5%; VIX +6 at T+7."""
        text = f"VIX {self.vix_points:+g}"
        if self.spx_move is not None:
            text += f", SPX {self.spx_move * 100:+g}%"
        return text if not self.days else f"{text} at T+{self.days:g}"


@dataclass(frozen=True)
class VixCurve:
    """The VIX futures curve: expiries (ascending) and prices, index points, anchored at spot VIX
    at tenor 0 (a future converges to spot at its expiry)."""

    expiries: tuple[dt.date, ...]
    prices: tuple[float, ...]
    spot: float

    def days(self, as_of: dt.date) -> FloatArray:
        return np.array([(e - as_of).days for e in self.expiries], dtype=float)

    def price_at_days(self, as_of: dt.date, days: FloatArray | float) -> FloatArray:
        """Linear interpolation in days to expiry between spot (day 0) and the listed contracts;
        flat beyond the last contract."""
        xp = np.concatenate([[0.0], self.days(as_of)])
        fp = np.concatenate([[self.spot], np.array(self.prices, dtype=float)])
        return np.asarray(np.interp(np.asarray(days, dtype=float), xp, fp), dtype=float)

    def covers(self, as_of: dt.date, days: float) -> bool:
        d = self.days(as_of)
        return bool(len(d)) and 0.0 <= days <= float(d[-1])


@dataclass(frozen=True)
class MarketState:
    """Spot levels and curves on the as-of date. `vix_1y_mean` is the mean VIX close of the past
    year (the curve model's anchor); `vvix` the Market sheet's VVIX, when given."""

    as_of: dt.date
    spx: float
    vix: float
    rate: float
    dividend_yield: float
    curve: VixCurve
    vix_1y_mean: float
    vvix: float | None = None
