"""The stress model's calibrated defaults and the small models they feed.

The block marked "calibrated" below is written by `scripts/calibrate_stress.py` from the data
shipped in `rules_engine/example_data` (`spx_daily_close.csv`, FRED SP500 2016-02-12..2026-02-11,
and `vix_daily.csv`, Cboe VIX closes) and from published VIX futures volatility figures the script
keeps with their sources; `python scripts/calibrate_stress.py --check` fails when the block and
the data disagree. The other constants are published fits or stated assumptions, each with its
source. Pure functions of numbers: nothing here reads a file or a workbook.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ArrayLike = float | Sequence[float] | FloatArray

# BEGIN calibrated: written by scripts/calibrate_stress.py --write; do not edit by hand
#: SPX log return per VIX log return in each VIX regime of the previous close (below 15, 15 to 25,
#: 25 and above): regressions through the origin on consecutive daily closes.
SPX_BETAS: Final = (-0.06145, -0.09218, -0.1749)
#: The points rule: SPX return per VIX point (a fraction, -0.01 = -1% per point): regression through
#: the origin over overlapping 5-day windows.
SPX_PCT_PER_VIX_POINT: Final = -0.004666
#: The mean of every VIX close shipped (1990 on): the curve model's 1-year mean when a workbook's
#: History holds too few VIX closes.
LONG_RUN_VIX_MEAN: Final = 19.44
#: VIX option implied vol at the money, 30 days to expiry, VIX 15 (1.00 = 100%): 1.2x the realized
#: vol of VIX futures there (a power law in tenor fitted to three published points).
VIX_VOL_30D: Final = 0.6162
#: How fast that vol falls with tenor: vol ~ (days / 30) ** -exponent (the same fit).
VIX_VOL_TERM_EXPONENT: Final = 0.3786
# END calibrated

#: The VIX regime boundaries of SPX_BETAS (index points): a regime holds [lower, upper).
REGIME_BOUNDS: Final = (15.0, 25.0)

#: VIX futures curve from spot VIX (fitted to 2007-2021 settlements; out-of-sample RMSE 1.8
#: points, about 3.5 above VIX 30): F(tau) = theta + (VIX - theta) exp(-kappa tau), with
#: theta = CURVE_THETA_SLOPE x (1-year mean of VIX) + CURVE_THETA_INTERCEPT and
#: kappa = CURVE_KAPPA x (VIX / theta) ** CURVE_KAPPA_EXPONENT per year.
CURVE_THETA_SLOPE: Final = 0.675
CURVE_THETA_INTERCEPT: Final = 12.05
CURVE_KAPPA: Final = 2.37
CURVE_KAPPA_EXPONENT: Final = 0.67

#: The VIX level VIX_VOL_30D holds at, and the tenor (days) it is anchored at.
VIX_VOL_REFERENCE: Final = 15.0
VIX_VOL_ANCHOR_DAYS: Final = 30.0
#: VIX futures vol rises only as VIX ** 0.26-0.39 (published range): the middle of it.
VIX_VOL_LEVEL_EXPONENT: Final = 0.33
#: Upside call skew: implied vol rises by this x ln(K/F) above the forward (a 30% OTM call about
#: 16 vol points over ATM). A practitioner assumption, not a fit: VIX calls carry upside skew.
VIX_VOL_CALL_SKEW: Final = 0.6
#: The shortest tenor (days) the term structure is evaluated at: the power law diverges at expiry.
VIX_VOL_MIN_DAYS: Final = 1.0


def spx_return(
    v0: float,
    v1: float,
    betas: Sequence[float] = SPX_BETAS,
    bounds: Sequence[float] = REGIME_BOUNDS,
) -> float:
    """SPX return (a fraction) while VIX moves from v0 to v1: exp(integral of beta(V) dlnV) - 1.

    beta is betas[i] on regime i ([bounds[i-1], bounds[i]) in VIX points), so a spike that crosses
    regimes takes each regime's beta for the part of the move inside it, and a crush retraces
    the same path (the integral runs backwards).
    """
    if len(betas) != len(bounds) + 1:
        raise ValueError(f"{len(betas)} betas for {len(bounds)} bounds: need one more beta")
    if any(b <= 0 for b in bounds) or any(lo >= hi for lo, hi in itertools.pairwise(bounds)):
        raise ValueError(f"VIX regime bounds {tuple(bounds)} must be positive and increasing")
    if not (v0 > 0 and v1 > 0):
        raise ValueError(f"VIX levels must be positive, got {v0} -> {v1}")
    edges = [-math.inf, *(math.log(b) for b in bounds), math.inf]
    x0, x1 = math.log(v0), math.log(v1)
    log_move = sum(
        beta * (min(max(x1, lo), hi) - min(max(x0, lo), hi))
        for beta, (lo, hi) in zip(betas, itertools.pairwise(edges), strict=True)
    )
    return math.expm1(log_move)


def curve_model(
    vix: ArrayLike,
    vix_1y_mean: float,
    tau_years: ArrayLike,
    *,
    theta_slope: float = CURVE_THETA_SLOPE,
    theta_intercept: float = CURVE_THETA_INTERCEPT,
    kappa: float = CURVE_KAPPA,
    kappa_exponent: float = CURVE_KAPPA_EXPONENT,
) -> FloatArray:
    """VIX future levels at tenors tau_years (calendar days / 365) implied by spot VIX alone.

    vix_1y_mean is the mean VIX close of the year before today (the last 252 closes): it sets the
    level theta the curve reverts to. Above theta the curve is in backwardation, below it in
    contango. The keyword coefficients default to the fit; the stress model passes the user's.
    """
    spot = np.asarray(vix, dtype=np.float64)
    if not (np.all(spot > 0) and vix_1y_mean > 0):
        raise ValueError(f"VIX {vix} and its 1-year mean {vix_1y_mean} must be positive")
    theta = theta_slope * vix_1y_mean + theta_intercept
    if not theta > 0:
        raise ValueError(f"the curve's long-run level {theta:g} must be positive")
    speed = kappa * (spot / theta) ** kappa_exponent
    tau = np.asarray(tau_years, dtype=np.float64)
    return np.asarray(theta + (spot - theta) * np.exp(-speed * tau), dtype=np.float64)


def stressed_curve(
    prices: ArrayLike,
    taus: ArrayLike,
    vix0: float,
    vix1: float,
    vix_1y_mean: float,
) -> FloatArray:
    """An existing futures curve moved by the curve model's change from spot vix0 to vix1.

    Keeps what the model misses today (the curve's own shape) and moves each tenor as the model
    says: the front by nearly the spot move, the back much less. No floor is applied.
    """
    move = curve_model(vix1, vix_1y_mean, taus) - curve_model(vix0, vix_1y_mean, taus)
    return np.asarray(prices, dtype=np.float64) + move


def vix_option_vol(
    tau_years: ArrayLike,
    strike: ArrayLike,
    forward: ArrayLike,
    vix: ArrayLike,
    vvix: float | None = None,
    *,
    vol_30d: float = VIX_VOL_30D,
    term_exponent: float = VIX_VOL_TERM_EXPONENT,
    level_exponent: float = VIX_VOL_LEVEL_EXPONENT,
    call_skew: float = VIX_VOL_CALL_SKEW,
) -> FloatArray:
    """Black-76 implied vol (1.00 = 100%) of a VIX option on the future `forward`.

    vol_30d x (days to expiry / 30) ** -term_exponent (at VIX 15), scaled by
    (VIX / 15) ** level_exponent, plus call_skew x ln(K/F) for strikes above the forward (the
    keyword coefficients default to the VIX_VOL_* constants). Given VVIX, the whole surface is
    scaled so that its 30-day ATM vol is VVIX / 100: the market's level, the model's shape.
    Broadcasts over tau, strike and forward; a strike or forward of 0 has no skew.
    """
    spot = np.asarray(vix, dtype=np.float64)
    if not np.all(spot > 0):
        raise ValueError(f"VIX {vix} must be positive")
    if vvix is not None and not vvix > 0:
        raise ValueError(f"VVIX {vvix} must be positive")
    days = np.maximum(np.asarray(tau_years, dtype=np.float64) * 365.0, VIX_VOL_MIN_DAYS)
    level = vol_30d * (spot / VIX_VOL_REFERENCE) ** level_exponent
    strikes = np.asarray(strike, dtype=np.float64)
    forwards = np.asarray(forward, dtype=np.float64)
    valid = (strikes > 0) & (forwards > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        moneyness = np.where(valid, np.log(np.where(valid, strikes / forwards, 1.0)), 0.0)
    vol = level * (days / VIX_VOL_ANCHOR_DAYS) ** -term_exponent
    vol = vol + call_skew * np.maximum(moneyness, 0.0)
    scale = 1.0 if vvix is None else vvix / 100.0 / level
    return np.asarray(vol * scale, dtype=np.float64)
