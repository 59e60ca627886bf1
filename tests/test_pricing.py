"""The pricing core against textbook values, finite differences, parity and an independent CDF."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rules_engine.pricing import (
    GREEK_NAMES,
    black76,
    bsm,
    implied_vol_black76,
    implied_vol_bsm,
    norm_cdf,
)

FloatArray = npt.NDArray[np.float64]

# ---------------------------------------------------------------------------------------------
# The normal CDF
# ---------------------------------------------------------------------------------------------


def erfc_phi(x: float) -> float:
    """Phi through the C library's erfc: an independent reference for the rational fits."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def test_norm_cdf_matches_erfc_to_1e14_in_the_body() -> None:
    xs = np.linspace(-8.0, 8.0, 40_001)
    expected = np.array([erfc_phi(x) for x in xs])
    np.testing.assert_allclose(norm_cdf(xs), expected, rtol=2e-14, atol=0.0)


def test_norm_cdf_matches_erfc_in_the_far_left_tail() -> None:
    # The reference's own error grows there: erfc(u) ~ exp(-u^2), so the rounding of
    # u = x/sqrt(2) (half an ulp, 1.1e-16 relative) becomes 2 u^2 * 1.1e-16 = x^2 * 1.1e-16
    # relative in the result.
    xs = np.linspace(-37.0, -8.0, 20_001)
    expected = np.array([erfc_phi(x) for x in xs])
    got = norm_cdf(xs)
    allowed = 2e-14 + 2.0 * xs**2 * 1.2e-16
    assert np.all(np.abs(got - expected) <= allowed * expected)


def test_norm_cdf_published_values() -> None:
    # Phi(-10) = 7.6198530241605260660e-24 and Phi(1.96) = 0.97500210485177952 (standard tables).
    assert float(norm_cdf(-10.0)) == pytest.approx(7.6198530241605260660e-24, rel=1e-14)
    assert float(norm_cdf(1.96)) == pytest.approx(0.97500210485177952, rel=1e-15)
    assert float(norm_cdf(0.0)) == 0.5


def test_norm_cdf_extremes_and_nan() -> None:
    got = norm_cdf(np.array([-np.inf, -50.0, 50.0, np.inf, np.nan]))
    assert got[:4].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert np.isnan(got[4])


# ---------------------------------------------------------------------------------------------
# Textbook values (Hull, "Options, Futures, and Other Derivatives", numbering of the 8th edition)
# ---------------------------------------------------------------------------------------------


def test_hull_bsm_example() -> None:
    # Hull, ch. 15 "The Black-Scholes-Merton Model", Example 15.6: S=42, K=40, r=10%, sigma=20%,
    # T=0.5. d1 = (ln(42/40) + (0.10 + 0.02) * 0.5) / (0.2 * sqrt(0.5)) = 0.7693, d2 = 0.6278,
    # K exp(-rT) = 38.049; c = 42 N(0.7693) - 38.049 N(0.6278) = 4.76, p = 0.81.
    call = bsm(42.0, 40.0, 0.5, 0.10, 0.0, 0.20, True)
    put = bsm(42.0, 40.0, 0.5, 0.10, 0.0, 0.20, False)
    assert round(float(call["price"]), 4) == 4.7594
    assert round(float(put["price"]), 4) == 0.8086


def test_hull_greeks_example_fixes_units_and_signs() -> None:
    # Hull, ch. 19 "The Greek Letters" (running example: S=49, K=50, r=5%, sigma=20%, T=20 weeks
    # = 0.3846): delta 0.522, gamma 0.066, theta -4.31 per year, vega 12.1 per 1.00 of vol,
    # rho 8.91 per 1.00 of rate (Examples 19.1, 19.4, 19.6 and the rho section).
    g = bsm(49.0, 50.0, 0.3846, 0.05, 0.0, 0.20, True)
    assert round(float(g["delta"]), 3) == 0.522
    assert round(float(g["gamma"]), 3) == 0.066
    assert round(float(g["theta"]), 2) == -4.31
    assert round(float(g["vega"]), 1) == 12.1
    assert round(float(g["rho"]), 2) == 8.91


def test_hull_black76_futures_put() -> None:
    # Hull, ch. 18 "Futures Options", Example 18.3 (Black's model): F=K=20, r=9%, T=4/12,
    # sigma=25%. d1 = sigma sqrt(T) / 2 = 0.07217, d2 = -0.07217, N(-d1) = 0.4712,
    # N(-d2) = 0.5288, p = exp(-0.03) * (20 * 0.5288 - 20 * 0.4712) = 1.12.
    put = black76(20.0, 20.0, 4.0 / 12.0, 0.09, 0.25, False)
    assert round(float(put["price"]), 2) == 1.12


@given(
    S=st.floats(1.0, 5000.0),
    moneyness=st.floats(-1.0, 1.0),
    T=st.floats(0.01, 3.0),
    r=st.floats(-0.01, 0.1),
    q=st.floats(0.0, 0.05),
    sigma=st.floats(0.02, 2.0),
)
def test_bsm_call_matches_a_scalar_erfc_formula(
    S: float, moneyness: float, T: float, r: float, q: float, sigma: float
) -> None:
    K = S * math.exp(moneyness)
    d1 = (math.log(S / K) + (r - q + sigma**2 / 2) * T) / (sigma * math.sqrt(T))
    d2 = d1 - sigma * math.sqrt(T)
    expected = S * math.exp(-q * T) * erfc_phi(d1) - K * math.exp(-r * T) * erfc_phi(d2)
    got = float(bsm(S, K, T, r, q, sigma, True)["price"])
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12 * S)


# ---------------------------------------------------------------------------------------------
# Put-call parity and monotonicity
# ---------------------------------------------------------------------------------------------

wide_spot = st.floats(0.5, 10_000.0)
wide_moneyness = st.floats(-2.0, 2.0)
wide_T = st.floats(0.0, 10.0)
wide_rate = st.floats(-0.02, 0.2)
wide_vol = st.floats(0.0, 3.0)


@given(S=wide_spot, m=wide_moneyness, T=wide_T, r=wide_rate, q=st.floats(0.0, 0.1), sigma=wide_vol)
def test_bsm_put_call_parity(
    S: float, m: float, T: float, r: float, q: float, sigma: float
) -> None:
    K = S * math.exp(m)
    call = float(bsm(S, K, T, r, q, sigma, True)["price"])
    put = float(bsm(S, K, T, r, q, sigma, False)["price"])
    forward_value = S * math.exp(-q * T) - K * math.exp(-r * T)
    assert call - put == pytest.approx(forward_value, abs=1e-12 * (S + K))


@given(F=wide_spot, m=wide_moneyness, T=wide_T, r=wide_rate, sigma=wide_vol)
def test_black76_put_call_parity(F: float, m: float, T: float, r: float, sigma: float) -> None:
    K = F * math.exp(m)
    call = float(black76(F, K, T, r, sigma, True)["price"])
    put = float(black76(F, K, T, r, sigma, False)["price"])
    assert call - put == pytest.approx(math.exp(-r * T) * (F - K), abs=1e-12 * (F + K))


@given(
    S=st.floats(10.0, 1000.0),
    bump=st.floats(1e-6, 0.5),
    K=st.floats(10.0, 1000.0),
    T=st.floats(0.001, 3.0),
    sigma=st.floats(0.01, 2.0),
    vol_bump=st.floats(1e-6, 1.0),
)
def test_call_price_increases_in_spot_and_vol(
    S: float, bump: float, K: float, T: float, sigma: float, vol_bump: float
) -> None:
    base = float(bsm(S, K, T, 0.03, 0.01, sigma, True)["price"])
    higher_spot = float(bsm(S * (1 + bump), K, T, 0.03, 0.01, sigma, True)["price"])
    higher_vol = float(bsm(S, K, T, 0.03, 0.01, sigma + vol_bump, True)["price"])
    slack = 1e-13 * S  # far from the money a bump can be lost in rounding
    assert higher_spot >= base - slack
    assert higher_vol >= base - slack
    assume(abs(math.log(S / K)) < sigma * math.sqrt(T))  # within one standard deviation
    assert higher_spot > base
    assert higher_vol > base


# ---------------------------------------------------------------------------------------------
# Greeks against finite differences of the price
# ---------------------------------------------------------------------------------------------


Step = float | FloatArray


def richardson(f: Callable[[Step], FloatArray], h: Step, order: int) -> FloatArray:
    """Central difference of the given order (1 or 2) at 0 with Richardson extrapolation.

    Extrapolating from steps h and h/2 cancels the h^2 error term, so a step large enough to keep
    rounding small still leaves a truncation error near h^4.
    """

    def central(step: Step) -> FloatArray:
        if order == 1:
            return (f(step) - f(-step)) / (2.0 * step)
        return (f(step) - 2.0 * f(0.0) + f(-step)) / step**2

    return (4.0 * central(h / 2.0) - central(h)) / 3.0


def mixed(f: Callable[[Step, Step], FloatArray], h: Step, k: Step) -> FloatArray:
    """d2f/dx dy at (0, 0) by the central cross difference, Richardson-extrapolated."""

    def cross(a: Step, b: Step) -> FloatArray:
        return (f(a, b) - f(a, -b) - f(-a, b) + f(-a, -b)) / (4.0 * a * b)

    return (4.0 * cross(h / 2.0, k / 2.0) - cross(h, k)) / 3.0


def grid(*axes: tuple[float, ...]) -> list[FloatArray]:
    """Every combination of the axes, as one flat float array per axis (one vectorized call)."""
    rows = list(itertools.product(*axes))
    return [np.array(column, dtype=np.float64) for column in zip(*rows, strict=True)]


def check(name: str, analytic: FloatArray, numeric: FloatArray, scale: float) -> None:
    """1e-6 relative, plus an absolute floor (scale * 1e-8) where the Greek itself is ~0.

    The floor covers the finite difference's rounding noise (~1e-16 * price / step^2 for the
    second derivatives of deep in-the-money options), not the analytic formula.
    """
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8 * scale, err_msg=name)


# Steps: first derivatives 1e-3 and second derivatives 1e-2 of each input's natural scale (the
# one-standard-deviation move S sigma sqrt(T) for the underlying, sigma for vol, T for time).
FIRST, SECOND = 1e-3, 1e-2

S0 = 100.0
BSM_K, BSM_T, BSM_SIGMA, BSM_CALL_AXIS = grid(
    (70.0, 95.0, 100.0, 105.0, 140.0), (7 / 365, 0.25, 2.0), (0.12, 0.6), (1.0, 0.0)
)
BSM_CALL = BSM_CALL_AXIS == 1.0
BSM_R, BSM_Q = 0.04, 0.015
BSM_MOVE = S0 * BSM_SIGMA * np.sqrt(BSM_T)


def bsm_at(dS: Step = 0.0, dT: Step = 0.0, dr: Step = 0.0, dsig: Step = 0.0) -> FloatArray:
    """BSM prices of the test grid with bumped inputs (dT is a relative bump)."""
    return bsm(S0 + dS, BSM_K, BSM_T * (1 + dT), BSM_R + dr, BSM_Q, BSM_SIGMA + dsig, BSM_CALL)[
        "price"
    ]


def test_bsm_greeks_match_finite_differences() -> None:
    g = bsm(S0, BSM_K, BSM_T, BSM_R, BSM_Q, BSM_SIGMA, BSM_CALL)
    move, vol = BSM_MOVE, BSM_SIGMA
    check("delta", g["delta"], richardson(lambda h: bsm_at(dS=h), FIRST * move, 1), 1.0)
    check("gamma", g["gamma"], richardson(lambda h: bsm_at(dS=h), SECOND * move, 2), 1.0 / S0)
    check("vega", g["vega"], richardson(lambda h: bsm_at(dsig=h), FIRST * vol, 1), S0)
    check("vomma", g["vomma"], richardson(lambda h: bsm_at(dsig=h), SECOND * vol, 2), S0)
    check("rho", g["rho"], richardson(lambda h: bsm_at(dr=h), FIRST, 1), S0)
    # theta = -dV/dT; the T bump is relative, so divide by T.
    minus_dv_dt = -richardson(lambda h: bsm_at(dT=h), FIRST, 1) / BSM_T
    check("theta", g["theta"], minus_dv_dt, S0)
    vanna = mixed(lambda a, b: bsm_at(dS=a, dsig=b), SECOND * move, SECOND * vol)
    check("vanna", g["vanna"], vanna, 1.0)


F0 = 20.0
B76_K, B76_T, B76_SIGMA, B76_CALL_AXIS = grid(
    (14.0, 19.0, 20.0, 22.0, 35.0), (7 / 365, 0.1, 0.5), (0.5, 1.2), (1.0, 0.0)
)
B76_CALL = B76_CALL_AXIS == 1.0
B76_R = 0.04
B76_MOVE = F0 * B76_SIGMA * np.sqrt(B76_T)


def black_at(dF: Step = 0.0, dT: Step = 0.0, dr: Step = 0.0, dsig: Step = 0.0) -> FloatArray:
    """Black-76 prices of the test grid with bumped inputs (dT is a relative bump)."""
    return black76(F0 + dF, B76_K, B76_T * (1 + dT), B76_R + dr, B76_SIGMA + dsig, B76_CALL)[
        "price"
    ]


def test_black76_greeks_match_finite_differences() -> None:
    g = black76(F0, B76_K, B76_T, B76_R, B76_SIGMA, B76_CALL)
    move, vol = B76_MOVE, B76_SIGMA
    check("delta", g["delta"], richardson(lambda h: black_at(dF=h), FIRST * move, 1), 1.0)
    check("gamma", g["gamma"], richardson(lambda h: black_at(dF=h), SECOND * move, 2), 1.0 / F0)
    check("vega", g["vega"], richardson(lambda h: black_at(dsig=h), FIRST * vol, 1), F0)
    check("vomma", g["vomma"], richardson(lambda h: black_at(dsig=h), SECOND * vol, 2), F0)
    check("rho", g["rho"], richardson(lambda h: black_at(dr=h), FIRST, 1), F0)
    minus_dv_dt = -richardson(lambda h: black_at(dT=h), FIRST, 1) / B76_T
    check("theta", g["theta"], minus_dv_dt, F0)
    vanna = mixed(lambda a, b: black_at(dF=a, dsig=b), SECOND * move, SECOND * vol)
    check("vanna", g["vanna"], vanna, 1.0)
    np.testing.assert_allclose(g["rho"], -B76_T * g["price"], rtol=1e-15)


def test_theta_and_rho_sign_conventions() -> None:
    # Long options lose value as a day passes: theta < 0 per year; one day's decay ~ theta/365.
    day = 1.0 / 365.0
    for is_call in (True, False):
        now = bsm(100.0, 100.0, 0.25, 0.0, 0.0, 0.2, is_call)
        tomorrow = bsm(100.0, 100.0, 0.25 - day, 0.0, 0.0, 0.2, is_call)
        assert float(now["theta"]) < 0.0
        decay = float(tomorrow["price"] - now["price"])
        assert decay == pytest.approx(float(now["theta"]) * day, rel=1e-2)
    # A higher rate raises a call (forward up) and lowers a put.
    assert float(bsm(100.0, 100.0, 1.0, 0.05, 0.0, 0.2, True)["rho"]) > 0.0
    assert float(bsm(100.0, 100.0, 1.0, 0.05, 0.0, 0.2, False)["rho"]) < 0.0
    # Black-76 holds F fixed: a higher rate only discounts more, for calls and puts alike.
    for is_call in (True, False):
        assert float(black76(20.0, 20.0, 0.5, 0.05, 0.8, is_call)["rho"]) < 0.0
    # Vega and gamma are positive for long calls and puts.
    g = bsm(100.0, 90.0, 0.5, 0.03, 0.0, 0.3, np.array([True, False]))
    assert np.all(g["vega"] > 0.0)
    assert np.all(g["gamma"] > 0.0)


# ---------------------------------------------------------------------------------------------
# Limit cases, validation and broadcasting
# ---------------------------------------------------------------------------------------------


def no_fp_errors() -> np.errstate:
    """Turn divide-by-zero, invalid and overflow into errors for the duration of a test."""
    return np.errstate(divide="raise", invalid="raise", over="raise")


def test_bsm_at_expiry_is_intrinsic_with_step_delta() -> None:
    S = np.array([90.0, 100.0, 110.0])
    with no_fp_errors(), warnings.catch_warnings():
        warnings.simplefilter("error")
        call = bsm(S, 100.0, 0.0, 0.05, 0.02, 0.3, True)
        put = bsm(S, 100.0, 0.0, 0.05, 0.02, 0.3, False)
    assert call["price"].tolist() == [0.0, 0.0, 10.0]
    assert put["price"].tolist() == [10.0, 0.0, 0.0]
    assert call["delta"].tolist() == [0.0, 0.5, 1.0]
    assert put["delta"].tolist() == [-1.0, -0.5, 0.0]
    for name in ("gamma", "vega", "vanna", "vomma", "rho"):
        assert call[name].tolist() == [0.0, 0.0, 0.0], name
    # ITM call at expiry: V = S - K, so -dV/dT = q S - r K = 0.02 * 110 - 0.05 * 100 = -2.8.
    assert call["theta"][2] == pytest.approx(-2.8, rel=1e-15)


def test_zero_vol_is_discounted_forward_intrinsic() -> None:
    S, K, T, r, q = 100.0, 95.0, 0.5, 0.05, 0.01
    with no_fp_errors():
        call = bsm(S, K, T, r, q, 0.0, True)
        put = bsm(S, K, T, r, q, 0.0, False)
    spot_df = 100.0 * math.exp(-0.005)  # S e^{-qT} = 99.50125
    strike_df = 95.0 * math.exp(-0.025)  # K e^{-rT} = 92.65441
    assert float(call["price"]) == pytest.approx(spot_df - strike_df, rel=1e-15)
    assert float(put["price"]) == 0.0
    assert float(call["delta"]) == pytest.approx(math.exp(-0.005), rel=1e-15)
    assert float(call["rho"]) == pytest.approx(T * strike_df, rel=1e-15)
    assert float(call["theta"]) == pytest.approx(q * spot_df - r * strike_df, rel=1e-14)
    assert float(call["gamma"]) == 0.0
    assert float(call["vega"]) == 0.0
    # The limit is continuous: a tiny vol gives the same price and delta.
    tiny = bsm(S, K, T, r, q, 1e-6, True)
    assert float(tiny["price"]) == pytest.approx(float(call["price"]), rel=1e-12)
    assert float(tiny["delta"]) == pytest.approx(float(call["delta"]), rel=1e-12)


def test_black76_limits_and_zero_prices() -> None:
    with no_fp_errors():
        at_expiry = black76(np.array([15.0, 25.0]), 20.0, 0.0, 0.05, 0.9, True)
        zero_vol = black76(25.0, 20.0, 0.5, 0.04, 0.0, True)
        zero_strike = black76(25.0, 0.0, 0.5, 0.04, 0.9, True)
        zero_spot = bsm(0.0, 100.0, 1.0, 0.05, 0.0, 0.2, False)
    assert at_expiry["price"].tolist() == [0.0, 5.0]
    assert at_expiry["delta"].tolist() == [0.0, 1.0]
    assert float(zero_vol["price"]) == pytest.approx(5.0 * math.exp(-0.02), rel=1e-15)
    assert float(zero_vol["theta"]) == pytest.approx(0.04 * 5.0 * math.exp(-0.02), rel=1e-15)
    assert float(zero_vol["rho"]) == pytest.approx(-0.5 * 5.0 * math.exp(-0.02), rel=1e-15)
    assert float(zero_strike["price"]) == pytest.approx(25.0 * math.exp(-0.02), rel=1e-15)
    assert float(zero_spot["price"]) == pytest.approx(100.0 * math.exp(-0.05), rel=1e-15)
    assert float(zero_spot["delta"]) == -1.0


def test_nan_inputs_propagate_without_warnings() -> None:
    with no_fp_errors():
        g = bsm(np.array([100.0, np.nan]), 100.0, 0.5, 0.03, 0.0, np.array([np.nan, 0.2]), True)
    for name in GREEK_NAMES:
        assert np.isnan(g[name]).all(), name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"T": -0.1}, "T must be >= 0"),
        ({"S": -1.0}, "S must be >= 0"),
        ({"K": np.array([100.0, -5.0])}, "K must be >= 0"),
        ({"sigma": -0.2}, "sigma must be >= 0"),
        ({"r": np.inf}, "r must be finite"),
        ({"is_call": 1}, "is_call must be a bool"),
    ],
)
def test_bsm_rejects_bad_inputs(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {
        "S": 100.0,
        "K": 100.0,
        "T": 0.5,
        "r": 0.03,
        "q": 0.0,
        "sigma": 0.2,
        "is_call": True,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        bsm(**args)


def test_black76_rejects_negative_futures_price() -> None:
    with pytest.raises(ValueError, match="black76: F must be >= 0"):
        black76(-20.0, 20.0, 0.5, 0.03, 0.8, True)


def test_results_broadcast_and_keep_shape() -> None:
    g = bsm(np.array([[90.0], [100.0], [110.0]]), np.array([95.0, 100.0, 105.0, 110.0]), 0.5,
            0.03, 0.0, 0.2, np.array([True, False, True, False]))  # fmt: skip
    assert set(g) == set(GREEK_NAMES)
    assert all(g[name].shape == (3, 4) for name in GREEK_NAMES)
    single = bsm(100.0, 100.0, 0.5, 0.03, 0.0, 0.2, False)
    assert single["price"].shape == ()
    with pytest.raises(ValueError, match="do not broadcast"):
        bsm(np.ones(3), np.ones(2), 0.5, 0.03, 0.0, 0.2, True)


# ---------------------------------------------------------------------------------------------
# Implied volatility
# ---------------------------------------------------------------------------------------------


@given(
    m=st.floats(-1.5, 1.5),
    T=st.floats(1.0 / 365.0, 5.0),
    sigma=st.floats(0.01, 3.0),
    r=st.floats(-0.01, 0.1),
    q=st.floats(0.0, 0.05),
    is_call=st.booleans(),
)
def test_implied_vol_bsm_round_trip(
    m: float, T: float, sigma: float, r: float, q: float, is_call: bool
) -> None:
    S = 4500.0
    K = S * math.exp(m)
    price = float(bsm(S, K, T, r, q, sigma, is_call)["price"])
    intrinsic = max((1 if is_call else -1) * (S * math.exp(-q * T) - K * math.exp(-r * T)), 0.0)
    assume(price - intrinsic > 1e-6 * S)  # below that the vol is not identifiable from a price
    got = float(implied_vol_bsm(price, S, K, T, r, q, is_call))
    assert got == pytest.approx(sigma, rel=1e-8)


@given(
    m=st.floats(-1.5, 1.5),
    T=st.floats(1.0 / 365.0, 1.0),
    sigma=st.floats(0.05, 4.0),
    is_call=st.booleans(),
)
def test_implied_vol_black76_round_trip(m: float, T: float, sigma: float, is_call: bool) -> None:
    F = 18.0
    K = F * math.exp(m)
    price = float(black76(F, K, T, 0.04, sigma, is_call)["price"])
    intrinsic = math.exp(-0.04 * T) * max((1 if is_call else -1) * (F - K), 0.0)
    assume(price - intrinsic > 1e-6 * F)
    got = float(implied_vol_black76(price, F, K, T, 0.04, is_call))
    assert got == pytest.approx(sigma, rel=1e-8)


def test_implied_vol_far_out_of_the_money_vectorized() -> None:
    # Wing prices down to ~1e-100 still invert: the solver works on log price. A price that
    # underflowed to exactly 0 equals the intrinsic value, so its implied vol is 0.
    K, T, sigma = grid((30.0, 60.0, 250.0, 400.0), (0.05, 0.5, 2.0), (0.1, 0.4, 1.5))
    calls = K > 100.0
    prices = black76(100.0, K, T, 0.02, sigma, calls)["price"]
    positive = prices > 0.0
    assert prices[positive].min() < 1e-50
    got = implied_vol_black76(prices, 100.0, K, T, 0.02, calls)
    np.testing.assert_allclose(got[positive], sigma[positive], rtol=1e-10)
    assert np.all(got[~positive] == 0.0)


def test_implied_vol_outside_bounds_is_nan() -> None:
    S, K, T, r, q = 100.0, 90.0, 0.5, 0.05, 0.0
    intrinsic = S - K * math.exp(-r * T)  # discounted forward intrinsic of the call, 12.222
    prices = np.array([intrinsic - 0.01, S, S + 1.0, -1.0, np.nan, intrinsic])
    with no_fp_errors():
        got = implied_vol_bsm(prices, S, K, T, r, q, True)
    assert np.isnan(got[:5]).all()
    assert got[5] == 0.0
    assert np.isnan(implied_vol_black76(1.0, 20.0, 20.0, 0.0, 0.05, True))
    assert implied_vol_black76(0.0, 20.0, 20.0, 0.5, 0.05, True) == 0.0  # ATM at intrinsic 0


def test_price_only_is_the_full_calls_price() -> None:
    rng = np.random.default_rng(3)
    spot, strike = rng.uniform(50, 150, 200), rng.uniform(50, 150, 200)
    years, vol = rng.uniform(0.0, 2.0, 200), rng.uniform(0.0, 1.5, 200)
    calls = rng.random(200) < 0.5
    years[:5] = 0.0  # the limit rows too
    full = bsm(spot, strike, years, 0.03, 0.01, vol, calls)
    alone = bsm(spot, strike, years, 0.03, 0.01, vol, calls, price_only=True)
    assert list(alone) == ["price"]
    assert np.array_equal(alone["price"], full["price"])
    full76 = black76(spot, strike, years, 0.03, vol, calls)
    alone76 = black76(spot, strike, years, 0.03, vol, calls, price_only=True)
    assert list(alone76) == ["price"] and np.array_equal(alone76["price"], full76["price"])
