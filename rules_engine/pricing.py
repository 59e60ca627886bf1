"""Vectorized European option pricing: Black-Scholes-Merton for SPX, Black-76 for VIX options.

Why this module exists: every risk number the engine shows (scenario grids, $Greeks, hedge costs)
comes from these two formulas, evaluated on whole books at once, so they are numpy-vectorized and
import nothing beyond numpy (the core must run in Pyodide, which has no scipy).

Units (DESIGN.md, "Risk conventions"): per-unit Greeks in natural units. delta = dV/dS (dV/dF for
Black-76), gamma = d2V/dS2, vega = dV/dsigma per 1.00 of vol, vanna = d2V/dS dsigma, vomma =
d2V/dsigma2 per (1.00 vol)^2, theta = -dV/dT per year of calendar time, rho = dV/dr per 1.00 of
rate (Black-76 holds the futures price fixed, so its rho is -T * price). T is in years.

Limits: where T == 0 or sigma == 0 (precisely, sigma*sqrt(T) < 1e-100), or S, F or K is 0, the
option is worth its discounted forward intrinsic value. Its Greeks are the limits of the formulas:
delta is a discounted step (1 in the money, 1/2 exactly at the forward, 0 out of it), gamma, vega,
vanna and vomma are 0, and theta and rho are those of the deterministic discounted intrinsic (0 out
of the money). NaN inputs give NaN
outputs; negative T, S, F, K or sigma and infinite inputs raise ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Greeks = dict[str, FloatArray]

#: The keys of every pricing result, in display order.
GREEK_NAMES: Final = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "vomma")

_INV_SQRT_2PI: Final = 0.398942280401432677939946059934
_SQRT_32: Final = 5.656854249492380195206754896838
_CENTRE: Final = 0.67448975  # Phi^-1(3/4): Cody's boundary between the central and tail fits
_FAR: Final = 40.0  # Phi(-40) underflows to 0 in double precision
# Below this total vol sigma*sqrt(T) the closed form is its limit to double precision, while
# d1 = log(F/K) / (sigma*sqrt(T)) could overflow: such rows take the limit branch.
_VOL_FLOOR: Final = 1e-100
_MAX_ITER: Final = 100
_XTOL: Final = 1e-14
_BRACKET_DOUBLINGS: Final = 10
# An in-the-money price within this many ulps of max(F, K) from the intrinsic value is the
# intrinsic value: the caller's discounting and ours round differently, and the time value left
# is noise. (Out of the money the intrinsic is exactly 0 and even a price of 1e-100 is kept.)
_PRICE_ULPS: Final = 8.0

# W. J. Cody's rational Chebyshev approximations for the normal CDF (ACM TOMS Algorithm 715,
# ANORM; the coefficients R's pnorm() uses).
_A: Final = (
    2.2352520354606839287,
    161.02823106855587881,
    1067.6894854603709582,
    18154.981253343561249,
    0.065682337918207449113,
)
_B: Final = (
    47.20258190468824187,
    976.09855173777669322,
    10260.932208618978205,
    45507.789335026729956,
)
_C: Final = (
    0.39894151208813466764,
    8.8831497943883759412,
    93.506656132177855979,
    597.27027639480026226,
    2494.5375852903726711,
    6848.1904505362823326,
    11602.651437647350124,
    9842.7148383839780218,
    1.0765576773720192317e-8,
)
_D: Final = (
    22.266688044328115691,
    235.38790178262499861,
    1519.377599407554805,
    6485.558298266760755,
    18615.571640885098091,
    34900.952721145977266,
    38912.003286093271411,
    19685.429676859990727,
)
_P: Final = (
    0.21589853405795699,
    0.1274011611602473639,
    0.022235277870649807,
    0.001421619193227893466,
    2.9112874951168792e-5,
    0.02307344176494017303,
)
_Q: Final = (
    1.28426009614491121,
    0.468238212480865118,
    0.0659881378689285515,
    0.00378239633202758244,
    7.29751555083966205e-5,
)


def norm_cdf(x: npt.ArrayLike) -> FloatArray:
    """Standard normal CDF Phi(x), vectorized, without scipy.

    Algorithm: W. J. Cody's ANORM (SPECFUN, ACM TOMS Algorithm 715, 1993; the fits come from
    Cody, Math. Comp. 23 (1969) 631-637), as R's pnorm uses it: three rational approximations
    (|x| <= 0.674, <= sqrt(32), beyond), the tails computed directly so that Phi(-x) keeps full
    relative accuracy. Cody states the fits carry at least 18 significant digits, so double
    rounding is the limit: tests/test_pricing.py finds agreement with math.erfc to 2e-14
    relative for |x| <= 8 and within the reference's own argument-rounding error beyond.
    """
    z = np.asarray(x, dtype=np.float64)
    y = np.abs(z)
    out = np.full_like(z, np.nan)
    centre = y <= _CENTRE
    out[centre] = 0.5 + _centre_fit(z[centre])
    tail = y > _CENTRE
    upper_tail = _upper_tail(np.minimum(y[tail], _FAR))
    out[tail] = np.where(z[tail] < 0.0, upper_tail, 1.0 - upper_tail)
    return out


def norm_pdf(x: npt.ArrayLike) -> FloatArray:
    """Standard normal density phi(x)."""
    z = np.asarray(x, dtype=np.float64)
    return np.asarray(_INV_SQRT_2PI * np.exp(-0.5 * z * z), dtype=np.float64)


def _centre_fit(x: FloatArray) -> FloatArray:
    """Phi(x) - 1/2 for |x| <= 0.674 (Cody's first interval)."""
    xsq = x * x
    num = _A[4] * xsq
    den = xsq
    for a, b in zip(_A[:3], _B[:3], strict=True):
        num = (num + a) * xsq
        den = (den + b) * xsq
    return x * (num + _A[3]) / (den + _B[3])


def _upper_tail(y: FloatArray) -> FloatArray:
    """1 - Phi(y) for y > 0.674: Cody's second and third intervals times a split exp(-y^2/2)."""
    ratio = np.empty_like(y)
    mid = y <= _SQRT_32
    ym = y[mid]
    num = _C[8] * ym
    den = ym
    for c, d in zip(_C[:7], _D[:7], strict=True):
        num = (num + c) * ym
        den = (den + d) * ym
    ratio[mid] = (num + _C[7]) / (den + _D[7])
    yf = y[~mid]
    inv_sq = 1.0 / (yf * yf)
    num = _P[5] * inv_sq
    den = inv_sq
    for p, q in zip(_P[:4], _Q[:4], strict=True):
        num = (num + p) * inv_sq
        den = (den + q) * inv_sq
    ratio[~mid] = (_INV_SQRT_2PI - inv_sq * (num + _P[4]) / (den + _Q[4])) / yf
    # exp(-y^2/2) split as exp(-r^2/2) * exp(-(y-r)(y+r)/2) with r = y rounded down to 1/16,
    # so that the rounding error of y*y is not amplified in the far tail (Cody's device).
    rounded = np.trunc(y * 16.0) / 16.0
    rest = (y - rounded) * (y + rounded)
    return np.asarray(
        np.exp(-0.5 * rounded * rounded) * np.exp(-0.5 * rest) * ratio, dtype=np.float64
    )


def bsm(
    S: npt.ArrayLike,
    K: npt.ArrayLike,
    T: npt.ArrayLike,
    r: npt.ArrayLike,
    q: npt.ArrayLike,
    sigma: npt.ArrayLike,
    is_call: npt.ArrayLike,
    *,
    price_only: bool = False,
) -> Greeks:
    """Black-Scholes-Merton price and Greeks with continuous dividend yield q (SPX options).

    All arguments broadcast; the result maps each name in GREEK_NAMES (only "price" when
    `price_only`: a scenario grid needs no Greeks) to an array of the broadcast shape (0-d for
    scalar inputs). Units and limit cases: see the module docstring.
    """
    shape, (s_, k_, t_, r_, q_, v_), sign = _prepare(
        "bsm",
        {"S": S, "K": K, "T": T, "r": r, "q": q, "sigma": sigma},
        ("S", "K", "T", "sigma"),
        is_call,
    )
    limit = (v_ * np.sqrt(t_) < _VOL_FLOOR) | (s_ == 0.0) | (k_ == 0.0)
    columns = (s_, k_, t_, r_, q_, v_, sign)
    return _assemble(shape, limit, columns, _bsm_formula, _bsm_limit, price_only)


def black76(
    F: npt.ArrayLike,
    K: npt.ArrayLike,
    T: npt.ArrayLike,
    r: npt.ArrayLike,
    sigma: npt.ArrayLike,
    is_call: npt.ArrayLike,
    *,
    price_only: bool = False,
) -> Greeks:
    """Black-76 price and Greeks of an option on a futures price F, discounted at r (VIX options).

    Delta, gamma and vanna are with respect to F; rho holds F fixed (= -T * price). All arguments
    broadcast; only "price" when `price_only`; units and limit cases: see the module docstring.
    """
    shape, (f_, k_, t_, r_, v_), sign = _prepare(
        "black76",
        {"F": F, "K": K, "T": T, "r": r, "sigma": sigma},
        ("F", "K", "T", "sigma"),
        is_call,
    )
    limit = (v_ * np.sqrt(t_) < _VOL_FLOOR) | (f_ == 0.0) | (k_ == 0.0)
    columns = (f_, k_, t_, r_, v_, sign)
    return _assemble(shape, limit, columns, _black_formula, _black_limit, price_only)


def implied_vol_bsm(
    price: npt.ArrayLike,
    S: npt.ArrayLike,
    K: npt.ArrayLike,
    T: npt.ArrayLike,
    r: npt.ArrayLike,
    q: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """The sigma at which bsm() returns `price`, for positions that have a Mark but no IV.

    NaN where the price is outside the no-arbitrage bounds (below the discounted forward
    intrinsic, or at/above S*exp(-qT) for a call, K*exp(-rT) for a put), where T == 0, or where an
    input is NaN; 0 where the price equals the discounted forward intrinsic (within a few ulps).
    """
    shape, (p_, s_, k_, t_, r_, q_), sign = _prepare(
        "implied_vol_bsm",
        {"price": price, "S": S, "K": K, "T": T, "r": r, "q": q},
        ("S", "K", "T"),
        is_call,
    )
    growth = np.exp(r_ * t_)
    forward = s_ * np.exp(-q_ * t_) * growth
    return _implied_vol(p_ * growth, forward, k_, t_, sign).reshape(shape)


def implied_vol_black76(
    price: npt.ArrayLike,
    F: npt.ArrayLike,
    K: npt.ArrayLike,
    T: npt.ArrayLike,
    r: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """The sigma at which black76() returns `price`; NaN outside the no-arbitrage bounds.

    Bounds: the discounted intrinsic exp(-rT)*max(+-(F-K), 0) below, exp(-rT)*F (call) or
    exp(-rT)*K (put) above. NaN also where T == 0 or an input is NaN; 0 at the intrinsic value.
    """
    shape, (p_, f_, k_, t_, r_), sign = _prepare(
        "implied_vol_black76",
        {"price": price, "F": F, "K": K, "T": T, "r": r},
        ("F", "K", "T"),
        is_call,
    )
    return _implied_vol(p_ * np.exp(r_ * t_), f_, k_, t_, sign).reshape(shape)


def _prepare(
    caller: str,
    named: dict[str, npt.ArrayLike],
    non_negative: tuple[str, ...],
    is_call: npt.ArrayLike,
) -> tuple[tuple[int, ...], list[FloatArray], FloatArray]:
    """Validate, broadcast and flatten the inputs; return the shape and +1/-1 call/put signs."""
    arrays = {name: np.asarray(value, dtype=np.float64) for name, value in named.items()}
    calls = np.asarray(is_call)
    if calls.dtype != np.bool_:
        raise ValueError(f"{caller}: is_call must be a bool or an array of bools")
    for name, values in arrays.items():
        if np.any(np.isinf(values)):
            raise ValueError(f"{caller}: {name} must be finite (NaN is allowed and propagates)")
        if name in non_negative and np.any(values < 0.0):
            raise ValueError(f"{caller}: {name} must be >= 0, got {np.nanmin(values)!r}")
    try:
        shape = np.broadcast_shapes(calls.shape, *(a.shape for a in arrays.values()))
    except ValueError as exc:
        raise ValueError(f"{caller}: argument shapes do not broadcast: {exc}") from None
    flat = [np.broadcast_to(a, shape).ravel() for a in arrays.values()]
    sign = np.where(np.broadcast_to(calls, shape).ravel(), 1.0, -1.0)
    return shape, flat, sign


def _assemble(
    shape: tuple[int, ...],
    limit: BoolArray,
    columns: tuple[FloatArray, ...],
    formula: Callable[..., Greeks],
    at_limit: Callable[..., Greeks],
    price_only: bool,
) -> Greeks:
    """Evaluate the closed form on regular rows and the limit on degenerate rows, then reshape.

    Splitting the rows (rather than np.where over both) keeps log(0) and 0/0 from ever being
    evaluated, so there are no floating-point warnings to silence.
    """
    size = limit.size
    regular = formula(*(c[~limit] for c in columns), greeks=not price_only)
    degenerate = at_limit(*(c[limit] for c in columns))
    result: Greeks = {}
    for name in ("price",) if price_only else GREEK_NAMES:
        values = np.empty(size, dtype=np.float64)
        values[~limit] = regular[name]
        values[limit] = degenerate[name]
        result[name] = values.reshape(shape)
    return result


def _step(gap: FloatArray) -> FloatArray:
    """The limit of N(d1) as vol*sqrt(T) -> 0: 1, 1/2 or 0 by the sign of the forward moneyness."""
    step = np.where(gap > 0.0, 1.0, np.where(gap == 0.0, 0.5, 0.0))
    return np.where(np.isnan(gap), np.nan, step)


def _bsm_formula(
    S: FloatArray,
    K: FloatArray,
    T: FloatArray,
    r: FloatArray,
    q: FloatArray,
    sigma: FloatArray,
    sign: FloatArray,
    *,
    greeks: bool = True,
) -> Greeks:
    """Closed-form BSM for rows with S, K, T, sigma > 0 (the price alone unless `greeks`)."""
    sqrt_t = np.sqrt(T)
    vol_t = sigma * sqrt_t
    d1 = (np.log(S / K) + (r - q + 0.5 * sigma * sigma) * T) / vol_t
    d2 = d1 - vol_t
    n1 = norm_cdf(sign * d1)
    n2 = norm_cdf(sign * d2)
    spot_df = S * np.exp(-q * T)
    strike_df = K * np.exp(-r * T)
    price = sign * (spot_df * n1 - strike_df * n2)
    if not greeks:
        return {"price": price}
    pdf = norm_pdf(d1)
    vega = spot_df * pdf * sqrt_t
    return {
        "price": price,
        "delta": sign * np.exp(-q * T) * n1,
        "gamma": np.exp(-q * T) * pdf / (S * vol_t),
        "vega": vega,
        "theta": -spot_df * pdf * sigma / (2.0 * sqrt_t)
        + sign * (q * spot_df * n1 - r * strike_df * n2),
        "rho": sign * T * strike_df * n2,
        "vanna": -np.exp(-q * T) * pdf * d2 / sigma,
        "vomma": vega * d1 * d2 / sigma,
    }


def _bsm_limit(
    S: FloatArray,
    K: FloatArray,
    T: FloatArray,
    r: FloatArray,
    q: FloatArray,
    sigma: FloatArray,
    sign: FloatArray,
) -> Greeks:
    """BSM at zero total vol or zero S or K: the discounted forward intrinsic and its slopes."""
    spot_df = S * np.exp(-q * T)
    strike_df = K * np.exp(-r * T)
    gap = sign * (spot_df - strike_df)
    step = _step(gap)
    price = np.maximum(gap, 0.0)
    flat = 0.0 * price  # zero that still carries a NaN input through
    return {
        "price": price,
        "delta": sign * np.exp(-q * T) * step,
        "gamma": flat,
        "vega": flat,
        "theta": step * sign * (q * spot_df - r * strike_df),
        "rho": step * sign * T * strike_df,
        "vanna": flat,
        "vomma": flat,
    }


def _black_formula(
    F: FloatArray,
    K: FloatArray,
    T: FloatArray,
    r: FloatArray,
    sigma: FloatArray,
    sign: FloatArray,
    *,
    greeks: bool = True,
) -> Greeks:
    """Closed-form Black-76 for rows with F, K, T, sigma > 0 (the price alone unless `greeks`)."""
    sqrt_t = np.sqrt(T)
    vol_t = sigma * sqrt_t
    d1 = (np.log(F / K) + 0.5 * sigma * sigma * T) / vol_t
    d2 = d1 - vol_t
    n1 = norm_cdf(sign * d1)
    n2 = norm_cdf(sign * d2)
    discount = np.exp(-r * T)
    price = discount * sign * (F * n1 - K * n2)
    if not greeks:
        return {"price": price}
    pdf = norm_pdf(d1)
    vega = discount * F * pdf * sqrt_t
    return {
        "price": price,
        "delta": sign * discount * n1,
        "gamma": discount * pdf / (F * vol_t),
        "vega": vega,
        "theta": r * price - discount * F * pdf * sigma / (2.0 * sqrt_t),
        "rho": -T * price,
        "vanna": -discount * pdf * d2 / sigma,
        "vomma": vega * d1 * d2 / sigma,
    }


def _black_limit(
    F: FloatArray,
    K: FloatArray,
    T: FloatArray,
    r: FloatArray,
    sigma: FloatArray,
    sign: FloatArray,
) -> Greeks:
    """Black-76 where vol*sqrt(T) is 0 or F or K is 0: the discounted intrinsic and its slopes."""
    discount = np.exp(-r * T)
    gap = sign * (F - K)
    price = discount * np.maximum(gap, 0.0)
    flat = 0.0 * price
    return {
        "price": price,
        "delta": sign * discount * _step(gap),
        "gamma": flat,
        "vega": flat,
        "theta": r * price,
        "rho": -T * price,
        "vanna": flat,
        "vomma": flat,
    }


def _implied_vol(
    target: FloatArray, F: FloatArray, K: FloatArray, T: FloatArray, sign: FloatArray
) -> FloatArray:
    """Black implied vol from an undiscounted price; NaN outside (intrinsic, upper bound).

    An in-the-money option is solved as its out-of-the-money twin (put-call parity: subtract
    the intrinsic, flip the type), so the solver only ever sees time value and no digits are lost
    to cancellation against a large intrinsic.
    """
    gap = sign * (F - K)
    intrinsic = np.maximum(gap, 0.0)
    upper = np.where(sign > 0.0, F, K)
    rounding = np.where(gap > 0.0, _PRICE_ULPS * np.finfo(np.float64).eps * np.maximum(F, K), 0.0)
    usable = (T > 0.0) & (F > 0.0) & (K > 0.0) & (target >= intrinsic - rounding) & (target < upper)
    interior = usable & (target > intrinsic + rounding)
    twin = np.where(gap > 0.0, -sign, sign)
    time_value = target - intrinsic
    total_vol = np.full_like(target, np.nan)
    total_vol[usable & ~interior] = 0.0
    inside = (time_value[interior], F[interior], K[interior], twin[interior])
    total_vol[interior] = _solve_total_vol(*inside)
    return total_vol / np.sqrt(np.where(usable, T, 1.0))


def _undiscounted_black(
    v: FloatArray, log_moneyness: FloatArray, F: FloatArray, K: FloatArray, sign: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Undiscounted Black price and its derivative in total vol v = sigma*sqrt(T), for v > 0."""
    d1 = log_moneyness / v + 0.5 * v
    price = sign * (F * norm_cdf(sign * d1) - K * norm_cdf(sign * (d1 - v)))
    return price, F * norm_pdf(d1)


def _upper_bracket(
    target: FloatArray, log_moneyness: FloatArray, F: FloatArray, K: FloatArray, sign: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """A total vol whose price reaches the target (doubling from 1), and where one was found.

    At v = 1024 every price equals its upper bound in double precision, so only a target within
    rounding of that bound can stay unbracketed (its implied vol is then reported as NaN).
    """
    high = np.ones_like(target)
    for _ in range(_BRACKET_DOUBLINGS):
        short = _undiscounted_black(high, log_moneyness, F, K, sign)[0] < target
        if not short.any():
            break
        high = np.where(short, 2.0 * high, high)
    return high, _undiscounted_black(high, log_moneyness, F, K, sign)[0] >= target


def _solve_total_vol(
    target: FloatArray, F: FloatArray, K: FloatArray, sign: FloatArray
) -> FloatArray:
    """Safeguarded Newton on log price in total vol v; bisection when a step leaves the bracket.

    Each option is out of (or at) the money and each target lies strictly between 0 (v -> 0) and
    the upper bound (v -> infinity); the price rises monotonically in v, so a bracket exists.
    Newton runs on log(price), whose near-linearity in the far wings keeps deep out-of-the-money
    options from crawling (plain Newton on a price of 1e-100 moves v by ~1e-4 per step). It starts
    at sqrt(2|ln F/K|), the price's inflection point (Manaster and Koehler), or at the
    Brenner-Subrahmanyam estimate sqrt(2 pi) * price / F at the money.
    """
    log_moneyness = np.log(F / K)
    log_target = np.log(target)
    low = np.zeros_like(target)
    high, bracketed = _upper_bracket(target, log_moneyness, F, K, sign)
    guess = np.where(
        log_moneyness == 0.0,
        math.sqrt(2.0 * math.pi) * target / F,
        np.sqrt(2.0 * np.abs(log_moneyness)),
    )
    v = np.where((guess > low) & (guess < high), guess, 0.5 * high)
    done = ~bracketed
    for _ in range(_MAX_ITER):
        live = np.flatnonzero(~done)
        if live.size == 0:
            break
        v_live, low_live, high_live = v[live], low[live], high[live]
        price, vega = _undiscounted_black(v_live, log_moneyness[live], F[live], K[live], sign[live])
        above = price > target[live]
        high_live = np.where(above, v_live, high_live)
        low_live = np.where(above, low_live, v_live)
        positive = (price > 0.0) & (vega > 0.0)
        log_price = np.log(price, out=np.zeros_like(price), where=positive)
        step = np.divide(
            (log_price - log_target[live]) * price,
            vega,
            out=np.full_like(price, np.inf),
            where=positive,
        )
        newton = v_live - step
        inside = (newton > low_live) & (newton < high_live)
        settled = (
            (price == target[live])
            | (np.abs(step) <= _XTOL * v_live)
            | (high_live - low_live <= _XTOL * v_live)
        )
        v[live] = np.where(settled, v_live, np.where(inside, newton, 0.5 * (low_live + high_live)))
        low[live], high[live] = low_live, high_live
        done[live] = settled
    return np.where(bracketed, v, np.nan)
