"""Indicators against TA-Lib (the reference, used only here), hand arithmetic and invariants."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib.resources import files

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import talib
from hypothesis import given
from hypothesis import strategies as st

from rules_engine.indicators import ema, rsi, sma

Indicator = Callable[[pd.Series, int], pd.Series]
Reference = Callable[[npt.NDArray[np.float64], int], npt.NDArray[np.float64]]

DATA = files("rules_engine") / "example_data"


def spx_closes() -> pd.Series:
    """Real SPX closes, blanks (market holidays) dropped."""
    with (DATA / "spx_daily_close.csv").open() as handle:
        frame = pd.read_csv(handle, index_col="observation_date", parse_dates=True)
    return frame["SP500"].dropna()


def vix_closes() -> pd.Series:
    """Real VIX closes since 1990."""
    with (DATA / "vix_daily.csv").open() as handle:
        frame = pd.read_csv(handle, index_col="DATE", parse_dates=True)
    return frame["CLOSE"].dropna()


PAIRS: list[tuple[Indicator, Reference]] = [
    (sma, lambda x, n: talib.SMA(x, timeperiod=n)),
    (ema, lambda x, n: talib.EMA(x, timeperiod=n)),
    (rsi, lambda x, n: talib.RSI(x, timeperiod=n)),
]
PAIR_IDS = ["sma", "ema", "rsi"]


def assert_matches_talib(got: pd.Series, expected: npt.NDArray[np.float64]) -> None:
    """Same NaN positions, values to 1e-9 relative."""
    values = got.to_numpy()
    np.testing.assert_array_equal(np.isnan(values), np.isnan(expected))
    valid = ~np.isnan(expected)
    np.testing.assert_allclose(values[valid], expected[valid], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("n", [2, 5, 14, 30, 200])
@pytest.mark.parametrize(("indicator", "reference"), PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("load", [spx_closes, vix_closes], ids=["spx", "vix"])
def test_matches_talib_on_real_closes(
    load: Callable[[], pd.Series], indicator: Indicator, reference: Reference, n: int
) -> None:
    closes = load()
    got = indicator(closes, n)
    assert got.index.equals(closes.index)
    assert got.dtype == np.float64
    assert_matches_talib(got, reference(closes.to_numpy(dtype=np.float64), n))


@pytest.mark.parametrize(("indicator", "reference"), PAIRS, ids=PAIR_IDS)
def test_leading_nans_are_skipped_like_talib(indicator: Indicator, reference: Reference) -> None:
    closes = spx_closes().iloc[:60].copy()
    closes.iloc[:7] = np.nan
    got = indicator(closes, 10)
    assert_matches_talib(got, reference(closes.to_numpy(dtype=np.float64), 10))
    # 7 skipped, then 10 values: SMA and EMA start at 7 + 10 - 1 = 16, RSI (10 changes) at 17.
    first = 17 if indicator is rsi else 16
    assert got.iloc[:first].isna().all()
    assert not np.isnan(got.iloc[first])


@pytest.mark.parametrize("indicator", [sma, ema, rsi])
def test_a_gap_after_the_first_value_raises_with_its_label(indicator: Indicator) -> None:
    closes = pd.Series(
        [np.nan, 10.0, 11.0, np.nan, 12.0, 13.0],
        index=pd.date_range("2024-01-01", periods=6, freq="D"),
    )
    with pytest.raises(ValueError, match=r"missing value at index Timestamp\('2024-01-04"):
        indicator(closes, 2)
    trailing = pd.Series([10.0, 11.0, 12.0, np.nan], index=list("abcd"))
    with pytest.raises(ValueError, match="index 'd'"):
        indicator(trailing, 2)


def test_hand_worked_sma_and_ema() -> None:
    closes = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 4.0])
    # SMA(3): (1+2+3)/3 = 2, (2+3+4)/3 = 3, (3+4+5)/3 = 4, (4+5+4)/3 = 13/3.
    np.testing.assert_allclose(sma(closes, 3).to_numpy()[2:], [2.0, 3.0, 4.0, 13.0 / 3.0])
    # EMA(3): k = 2/4 = 0.5, seed = SMA of the first 3 = 2 at index 2; then 2 + 0.5*(4-2) = 3,
    # 3 + 0.5*(5-3) = 4, 4 + 0.5*(4-4) = 4.
    got = ema(closes, 3).to_numpy()
    assert np.isnan(got[:2]).all()
    np.testing.assert_allclose(got[2:], [2.0, 3.0, 4.0, 4.0], rtol=1e-15)


def test_hand_worked_rsi() -> None:
    closes = pd.Series([44.0, 45.0, 43.0, 46.0, 47.0, 45.0])
    # Changes: +1, -2, +3, +1, -2. RSI(3):
    # index 3: first averages over the first 3 changes: gain (1+0+3)/3 = 4/3, loss (0+2+0)/3 = 2/3
    #          -> 100 * (4/3) / (4/3 + 2/3) = 66.667
    # index 4 (+1): gain (4/3*2 + 1)/3 = 11/9, loss (2/3*2 + 0)/3 = 4/9 -> 100 * 11/15 = 73.333
    # index 5 (-2): gain (11/9*2 + 0)/3 = 22/27, loss (4/9*2 + 2)/3 = 26/27 -> 100 * 22/48 = 45.833
    got = rsi(closes, 3).to_numpy()
    assert np.isnan(got[:3]).all()
    np.testing.assert_allclose(got[3:], [200.0 / 3.0, 1100.0 / 15.0, 2200.0 / 48.0], rtol=1e-14)


def test_flat_window_gives_zero_then_a_rise_gives_100() -> None:
    # TA-Lib returns 0 (not 50 or NaN) when average gain + average loss is 0.
    closes = pd.Series([1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0])
    assert rsi(closes, 3).to_numpy()[3:].tolist() == [0.0, 100.0, 100.0, 100.0]


@pytest.mark.parametrize("indicator", [sma, ema, rsi])
def test_too_short_or_empty_input_is_all_nan(indicator: Indicator) -> None:
    for closes in (
        pd.Series([1.0, 2.0, 3.0]),
        pd.Series([np.nan, np.nan]),
        pd.Series([], dtype=float),
    ):
        got = indicator(closes, 5)
        assert got.index.equals(closes.index)
        assert got.isna().all()


@pytest.mark.parametrize(
    ("indicator", "n"), [(sma, 0), (ema, -3), (rsi, 1), (rsi, True), (sma, 2.0)]
)
def test_bad_period_raises(indicator: Callable[[pd.Series, object], pd.Series], n: object) -> None:
    with pytest.raises(ValueError, match="n must be an integer"):
        indicator(pd.Series([1.0, 2.0, 3.0]), n)


def test_rsi_speed_on_2500_rows() -> None:
    closes = spx_closes().iloc[:2500]
    timings = []
    for _ in range(20):
        begin = time.perf_counter()
        rsi(closes, 14)
        timings.append(time.perf_counter() - begin)
    assert min(timings) < 2e-3


closes_lists = st.lists(st.floats(1.0, 10_000.0), min_size=2, max_size=80)


@given(values=closes_lists, n=st.integers(2, 20))
def test_rsi_stays_in_0_100(values: list[float], n: int) -> None:
    got = rsi(pd.Series(values), n).dropna()
    assert ((got >= 0.0) & (got <= 100.0)).all()
    assert len(got) == max(len(values) - n, 0)


@given(level=st.floats(0.01, 1e6), length=st.integers(2, 60), n=st.integers(2, 20))
def test_constant_series(level: float, length: int, n: int) -> None:
    closes = pd.Series([level] * length)
    assert (rsi(closes, n).dropna() == 0.0).all()
    assert np.allclose(sma(closes, n).dropna(), level, rtol=1e-14)
    assert np.allclose(ema(closes, n).dropna(), level, rtol=1e-14)


@given(
    start=st.floats(1.0, 1000.0),
    steps=st.lists(st.floats(0.01, 50.0), min_size=1, max_size=60),
    n=st.integers(2, 20),
)
def test_monotonic_series_give_100_and_0(start: float, steps: list[float], n: int) -> None:
    rising = pd.Series(start + np.cumsum([0.0, *steps]))
    falling = pd.Series(start + np.cumsum([0.0, *(-s for s in steps)]) + 60 * 50.0)
    assert (rsi(rising, n).dropna() == 100.0).all()
    assert (rsi(falling, n).dropna() == 0.0).all()
