"""The stress model: how SPX, SPX implied vols, VIX futures, VIX option vols and VIX ETPs move in
a scenario (a VIX move, an SPX move given or implied, and a horizon in days).

- SPX: the scenario's own move, else the regime rule (SPX log return = integral of beta(VIX)
  d ln VIX, beta piecewise constant in the VIX regimes below 15, 15-25 and above 25, calibrated
  by scripts/calibrate_stress.py from the shipped daily closes) or the points rule (a fixed SPX
  percent per VIX point).
- SPX implied vol: each leg's IV (sticky strike), or the expiry's smile read at the strike's new
  moneyness (sticky moneyness), plus an ATM shift of `atm_iv_beta` vol points per VIX point scaled
  by tenor, plus a downside skew term for strikes below the new SPX level.
- VIX futures: today's curve (anchored at spot VIX) rolled down to the future's tenor at the
  horizon, moved by the change of the fitted curve model F(tau) = theta + (VIX - theta)
  exp(-kappa tau) between today's and the scenario's spot VIX: large spikes lift the front far
  more than the back, as the 2018 and 2020 settlements did.
- VIX option vol: calibration.vix_option_vol's surface in tenor, strike and VIX level (term
  structure falling with tenor, additive upside call skew, rising with VIX), scaled so its
  30-day ATM vol is VVIX when VVIX is given; a leg keeps its own IV and moves by the
  surface's change at its tenor (level and moneyness; it does not ride the term structure).
- VIX ETPs: leverage x the 1-month constant-maturity futures return, then the daily roll along
  the scenario's curve for each day of the horizon (contango bleeds, backwardation pays).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from rules_engine.risk import calibration
from rules_engine.risk.calibration import REGIME_BOUNDS, spx_return
from rules_engine.risk.market import (
    MIN_FUTURE,
    MIN_VOL,
    FloatArray,
    MarketState,
    Scenario,
    ScenarioParams,
)

#: The constant maturity a 1-month VIX ETP tracks (days).
ETP_TENOR_DAYS = 30.0
#: The tenor at which the VIX option surface is normalized (VVIX is 30-day vol of VIX options).
_SURFACE_DAYS = 30.0
_YEAR = 365.0


@dataclass(frozen=True)
class Levels:
    """Scenarios as columns (one row each): spot VIX and SPX, the VIX move in points and the
    horizon in days."""

    vix: FloatArray
    spx: FloatArray
    points: FloatArray
    days: FloatArray


@dataclass(frozen=True)
class StressModel:
    """The market today and the coefficients that move it; every method is vectorized over legs
    (columns) and scenarios (rows, as `Levels`)."""

    state: MarketState
    params: ScenarioParams

    # --- spot levels ----------------------------------------------------------------------

    def vix_level(self, scenario: Scenario) -> float:
        """Spot VIX in the scenario; a crush larger than today's level is refused."""
        level = self.state.vix + scenario.vix_points
        if level <= 0:
            raise ValueError(
                f"{scenario.label} would take VIX from {self.state.vix:g} to {level:g}; "
                "VIX stays above 0"
            )
        return level

    def spx_level(self, scenario: Scenario) -> float:
        """SPX in the scenario: its own move when given, else the chosen rule (never below 1% of
        today's level)."""
        spx = self.state.spx
        if scenario.spx_move is not None:
            return spx * (1.0 + scenario.spx_move)
        if self.params.spx_rule == "points":
            return spx * max(1.0 + self.params.spx_pct_per_vix_point * scenario.vix_points, 0.01)
        p = self.params
        betas = (p.spx_beta_low, p.spx_beta_mid, p.spx_beta_high)
        move = spx_return(self.state.vix, self.vix_level(scenario), betas, REGIME_BOUNDS)
        return spx * max(1.0 + move, 0.01)

    def spx_per_vix_point(self) -> float:
        """SPX return per VIX point for a small move from today's VIX under the chosen rule (the
        regime rule's beta divided by VIX: d ln SPX = beta d ln VIX)."""
        p = self.params
        if p.spx_rule == "points":
            return p.spx_pct_per_vix_point
        low, high = REGIME_BOUNDS
        vix = self.state.vix
        beta = p.spx_beta_low if vix < low else p.spx_beta_mid if vix < high else p.spx_beta_high
        return beta / vix

    def levels(self, scenarios: Sequence[Scenario]) -> Levels:
        """The scenarios' spot levels and horizons as columns, for pricing them all at once."""

        def column(values: Iterable[float]) -> FloatArray:
            return np.array(list(values), dtype=float)[:, None]

        return Levels(
            vix=column(self.vix_level(s) for s in scenarios),
            spx=column(self.spx_level(s) for s in scenarios),
            points=column(s.vix_points for s in scenarios),
            days=column(s.days for s in scenarios),
        )

    # --- VIX futures ------------------------------------------------------------------------

    def curve_model(self, vix: FloatArray | float, days: FloatArray) -> FloatArray:
        """The fitted futures level at `days` to expiry for spot `vix` (the user's coefficients;
        broadcasts)."""
        p = self.params
        tau = np.maximum(np.asarray(days, dtype=float), 0.0) / _YEAR
        return calibration.curve_model(
            vix,
            self.state.vix_1y_mean,
            tau,
            theta_slope=p.curve_theta_slope,
            theta_intercept=p.curve_theta_intercept,
            kappa=p.curve_kappa,
            kappa_exponent=p.curve_kappa_exponent,
        )

    def futures(self, days: FloatArray, levels: Levels) -> FloatArray:
        """Each VIX future, given by today's days to expiry (columns), in each scenario (rows):
        rolled down to its tenor at the horizon and moved with the curve model; settled at spot
        VIX once expired."""
        days = np.asarray(days, dtype=float)[None, :]
        tenor = days - levels.days
        rolled = self.state.curve.price_at_days(self.state.as_of, np.maximum(tenor, 0.0))
        shift = self.curve_model(levels.vix, tenor) - self.curve_model(self.state.vix, tenor)
        moved = np.where(tenor <= 0.0, levels.vix, rolled + shift)
        return np.asarray(np.maximum(moved, MIN_FUTURE), dtype=float)

    def futures_beta(self, days: FloatArray | float) -> FloatArray:
        """VIX future points per spot VIX point today, by days to expiry (the curve model's
        local slope: 1 at expiry, falling with tenor)."""
        days = np.asarray(days, dtype=float)
        bump = 1e-4 * self.state.vix
        up = self.curve_model(self.state.vix + bump, days)
        down = self.curve_model(self.state.vix - bump, days)
        return np.asarray((up - down) / (2.0 * bump), dtype=float)

    # --- SPX implied vol ----------------------------------------------------------------------

    def spx_vols(
        self,
        days: FloatArray,
        strikes: FloatArray,
        ivs: FloatArray,
        expiry_codes: FloatArray,
        levels: Levels,
    ) -> FloatArray:
        """Each SPX option's implied vol (fraction; columns) in each scenario (rows); legs of one
        expiry share a code, which sticky moneyness needs to read their smile."""
        p = self.params
        strikes = np.asarray(strikes, dtype=float)
        base = np.broadcast_to(np.asarray(ivs, dtype=float), (len(levels.vix), len(strikes)))
        if p.smile == "sticky_moneyness":
            base = _smile_at(strikes, ivs, expiry_codes, self.state.spx, levels.spx)
        n = levels.points / 100.0
        tenor = np.maximum(np.asarray(days, dtype=float)[None, :] - levels.days, 1.0)
        cap = p.iv_tenor_factor_max
        factor = np.clip((30.0 / tenor) ** p.iv_tenor_exponent, 1.0 / cap, cap)
        below = np.maximum(0.0, np.log(levels.spx / strikes[None, :]))
        shift = n * p.atm_iv_beta * factor + n * p.put_skew_beta * below / 0.10
        return np.asarray(np.maximum(base + shift, MIN_VOL), dtype=float)

    # --- VIX option vol -----------------------------------------------------------------------

    def vix_surface(
        self,
        days: FloatArray,
        strikes: FloatArray,
        forwards: FloatArray,
        vix: FloatArray | float,
    ) -> FloatArray:
        """The model's implied vol of a VIX option (fraction) at `days` to expiry, strike and
        forward, for spot `vix` (broadcasts): scaled so its 30-day ATM vol today is VVIX when
        VVIX is given."""
        raw = self._raw_surface(days, strikes, forwards, vix)
        return np.asarray(np.maximum(raw * self._vvix_scale(), MIN_VOL), dtype=float)

    def vix_vol_change(
        self, days: FloatArray, strikes: FloatArray, forwards: FloatArray, levels: Levels
    ) -> FloatArray:
        """How much each VIX option's implied vol (columns) moves in each scenario (rows;
        fraction): the surface's change from today's future and spot VIX to the scenario's,
        both read at the option's tenor then. An option keeps its own IV as it ages (it does not
        ride up the term structure): with nothing moving, its vol changes only as its moneyness
        does, so carry is theta plus the future rolling down the curve."""
        days = np.asarray(days, dtype=float)
        later = np.maximum(days[None, :] - levels.days, 0.0)
        moved = self.futures(days, levels)
        after = self.vix_surface(later, strikes, moved, levels.vix)
        before = self.vix_surface(later, strikes, forwards, self.state.vix)
        return np.asarray(after - before, dtype=float)

    def _raw_surface(
        self,
        days: FloatArray,
        strikes: FloatArray,
        forwards: FloatArray,
        vix: FloatArray | float,
    ) -> FloatArray:
        p = self.params
        return calibration.vix_option_vol(
            np.asarray(days, dtype=float) / _YEAR,
            strikes,
            forwards,
            vix,
            vol_30d=p.vix_vol_30d,
            term_exponent=p.vix_vol_term_exponent,
            level_exponent=p.vix_vol_level_exponent,
            call_skew=p.vix_vol_call_skew,
        )

    def _vvix_scale(self) -> float:
        """VVIX over the model's 30-day ATM vol at today's VIX: the market sets the surface's
        level today, and the model's level exponent moves it in a scenario."""
        vvix = self.state.vvix
        if vvix is None:
            return 1.0
        front = float(self.state.curve.price_at_days(self.state.as_of, _SURFACE_DAYS))
        at_the_money = float(
            self._raw_surface(
                np.array([_SURFACE_DAYS]), np.array([front]), np.array([front]), self.state.vix
            )[0]
        )
        return vvix / 100.0 / at_the_money

    # --- VIX ETPs -------------------------------------------------------------------------------

    def etp_growth(self, leverages: FloatArray, levels: Levels) -> FloatArray:
        """What one unit of each VIX ETP (columns, by daily leverage) becomes in each scenario
        (rows): the spike's 1-month futures return times the leverage, then the daily roll along
        the scenario's curve for each day of the horizon (no volatility decay: a flat path is
        assumed)."""
        at = np.array([ETP_TENOR_DAYS - 1.0, ETP_TENOR_DAYS, ETP_TENOR_DAYS + 1.0])
        now = float(self.state.curve.price_at_days(self.state.as_of, ETP_TENOR_DAYS))
        moved = self.futures(at, dataclasses.replace(levels, days=np.zeros_like(levels.days)))
        spike = moved[:, 1:2] / now - 1.0
        roll = -(moved[:, 2:3] - moved[:, 0:1]) / 2.0 / moved[:, 1:2]
        lev = np.asarray(leverages, dtype=float)[None, :]
        growth = (1.0 + lev * spike) * (1.0 + lev * roll) ** levels.days
        return np.asarray(np.maximum(growth, 0.0), dtype=float)


def _smile_at(
    strikes: FloatArray, ivs: FloatArray, codes: FloatArray, spx0: float, spx1: FloatArray
) -> FloatArray:
    """Sticky moneyness: each leg's IV (columns) read from its expiry's smile (today's legs' IVs
    against log-moneyness ln(K/S), linear between them, flat beyond) at its moneyness after each
    scenario's SPX move (`spx1`, a column)."""
    strikes = np.asarray(strikes, dtype=float)
    ivs = np.asarray(ivs, dtype=float)
    codes = np.asarray(codes)
    out = np.empty((len(spx1), len(strikes)))
    for code in np.unique(codes):
        members = codes == code
        today = np.log(strikes[members] / spx0)
        order = np.argsort(today)
        later = np.log(strikes[members][None, :] / spx1)
        out[:, members] = np.interp(later, today[order], ivs[members][order])
    return out


def vix_1y_mean(closes: FloatArray, fallback: float) -> float:
    """The mean of the last year's VIX closes (252 trading days), the curve model's anchor; the
    fallback when History has fewer than 20 closes."""
    values = np.asarray(closes, dtype=float)
    values = values[np.isfinite(values)][-252:]
    return float(values.mean()) if len(values) >= 20 else fallback
