"""Indicators against TA-Lib (the reference, used only here), hand arithmetic and invariants."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import talib
from hypothesis import given
from hypothesis import strategies as st

from rules_engine.indicators import ad_line, atr, bollinger, ema, macd, mcclellan, rsi, sma

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
    return vix_bars()["CLOSE"]


def vix_bars() -> pd.DataFrame:
    """Real VIX daily bars since 1990 (OPEN, HIGH, LOW, CLOSE)."""
    with (DATA / "vix_daily.csv").open() as handle:
        frame = pd.read_csv(handle, index_col="DATE", parse_dates=True)
    return frame.dropna()


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


# --- MACD, Bollinger, ATR, A/D line, McClellan -------------------------------------------------

#: TA-Lib agreement required by issue 7 (absolute, in the input's units).
TOLERANCE = 1e-8


def random_walk(count: int = 5000, seed: int = 7) -> pd.Series:
    """A long seeded random walk around 1000 on business days (thousands of points)."""
    steps = np.random.default_rng(seed).normal(0.0, 10.0, size=count)
    index = pd.bdate_range("2000-01-03", periods=count, name="date")
    return pd.Series(1000.0 + np.cumsum(steps), index=index)


SERIES = [random_walk, spx_closes, vix_closes]
SERIES_IDS = ["random-walk", "spx", "vix"]


def assert_close_to_talib(got: pd.Series, expected: npt.NDArray[np.float64]) -> None:
    """Same NaN positions, values within TOLERANCE."""
    values = got.to_numpy()
    np.testing.assert_array_equal(np.isnan(values), np.isnan(expected))
    valid = ~np.isnan(expected)
    assert valid.any()
    np.testing.assert_allclose(values[valid], expected[valid], rtol=0.0, atol=TOLERANCE)


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5), (3, 10, 1)])
@pytest.mark.parametrize("load", SERIES, ids=SERIES_IDS)
def test_macd_matches_talib(load: Callable[[], pd.Series], fast: int, slow: int, signal: int):
    closes = load()
    got = macd(closes, fast, slow, signal)
    assert list(got.columns) == ["macd", "signal", "hist"]
    assert got.index.equals(closes.index)
    expected = talib.MACD(closes.to_numpy(), fast, slow, signal)
    for column, reference in zip(got.columns, expected, strict=True):
        assert_close_to_talib(got[column], reference)
    # all three start at (slow - 1) + (signal - 1)
    assert got.iloc[: slow + signal - 2].isna().all().all()
    assert got.iloc[slow + signal - 2].notna().all()


def test_macd_fast_ema_is_seeded_to_start_with_the_slow_one():
    # TA-Lib's MACD(12,26,9) seeds the fast EMA from bars 14-25, not bars 0-11: with a step from
    # 100 to 110 at bar 5 the two seedings differ.
    closes = pd.Series([100.0] * 5 + [110.0] * 40)
    # Bars 14-25 are all 110, so the fast EMA is 110 from bar 25 on. The slow EMA is seeded with
    # (5 * 100 + 21 * 110) / 26 = 110 - 50/26 at bar 25 and closes the gap to 110 by a factor
    # (1 - 2/27) = 25/27 per bar: at bar 33 (the first visible value) it is 110 - 50/26 *
    # (25/27)^8, so MACD = 50/26 * (25/27)^8. Seeding the fast EMA from bars 0-11 would leave it
    # below 110 and give a smaller MACD.
    got = macd(closes)
    assert got["macd"].iloc[32:34].isna().tolist() == [True, False]
    assert got["macd"].iloc[33] == pytest.approx(50 / 26 * (25 / 27) ** 8, rel=1e-13)


def test_hand_worked_macd():
    closes = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 4.0])
    # MACD(2, 3, 2). Slow EMA(3), k = 0.5, seed mean(1, 2, 3) = 2 at bar 2; fast EMA(2),
    # k = 2/3, seeded from the 2 bars ending at bar 2: mean(2, 3) = 2.5. MACD line:
    # bar 2: 2.5 - 2 = 0.5
    # bar 3 (4): slow 2 + 0.5*2 = 3, fast 2.5 + 2/3*1.5 = 3.5 -> 0.5
    # bar 4 (5): slow 3 + 0.5*2 = 4, fast 3.5 + 2/3*1.5 = 4.5 -> 0.5
    # bar 5 (4): slow 4 + 0.5*0 = 4, fast 4.5 + 2/3*(-0.5) = 25/6 -> 1/6
    # Signal EMA(2), k = 2/3, seed mean(0.5, 0.5) = 0.5 at bar 3; bar 4: 0.5 + 2/3*0 = 0.5;
    # bar 5: 0.5 + 2/3*(1/6 - 1/2) = 5/18. Everything starts at bar 2 + 2 - 1 = 3.
    got = macd(closes, 2, 3, 2)
    assert got.iloc[:3].isna().all().all()
    np.testing.assert_allclose(got["macd"].iloc[3:], [0.5, 0.5, 1 / 6], rtol=1e-14)
    np.testing.assert_allclose(got["signal"].iloc[3:], [0.5, 0.5, 5 / 18], rtol=1e-14)
    np.testing.assert_allclose(got["hist"].iloc[3:], [0.0, 0.0, -1 / 9], atol=1e-15)


@pytest.mark.parametrize(("n", "k"), [(20, 2.0), (10, 1.5), (50, 3.0), (5, 0.0)])
@pytest.mark.parametrize("load", SERIES, ids=SERIES_IDS)
def test_bollinger_matches_talib(load: Callable[[], pd.Series], n: int, k: float):
    closes = load()
    got = bollinger(closes, n, k)
    assert list(got.columns) == ["upper", "middle", "lower"]
    assert got.index.equals(closes.index)
    expected = talib.BBANDS(closes.to_numpy(), n, k, k, 0)
    for column, reference in zip(got.columns, expected, strict=True):
        assert_close_to_talib(got[column], reference)


def test_hand_worked_bollinger_uses_the_population_deviation():
    closes = pd.Series([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    # Over all 8: mean 40/8 = 5; squared deviations 9+1+1+1+0+0+4+16 = 32; population variance
    # 32/8 = 4, deviation 2 (the sample deviation would be sqrt(32/7)). k = 1.5: 5 +- 3.
    got = bollinger(closes, 8, 1.5)
    assert got.iloc[:7].isna().all().all()
    assert got.iloc[7].tolist() == pytest.approx([8.0, 5.0, 2.0], rel=1e-15)


def test_bollinger_of_a_flat_window_is_a_single_line():
    got = bollinger(pd.Series([3.0] * 6), 4)
    assert (got.dropna() == 3.0).all().all()
    assert len(got.dropna()) == 3


def high_low(closes: pd.Series, seed: int = 11) -> tuple[pd.Series, pd.Series]:
    """Highs and lows around the closes (close always inside [low, high])."""
    rng = np.random.default_rng(seed)
    spread = closes.abs() * 0.01
    high = closes + spread * rng.uniform(0.0, 1.0, closes.size)
    low = closes - spread * rng.uniform(0.0, 1.0, closes.size)
    return high, low


@pytest.mark.parametrize("n", [1, 14, 30])
@pytest.mark.parametrize("load", [random_walk, spx_closes], ids=["random-walk", "spx"])
def test_atr_matches_talib(load: Callable[[], pd.Series], n: int):
    closes = load()
    high, low = high_low(closes)
    got = atr(high, low, closes, n)
    assert got.index.equals(closes.index)
    assert_close_to_talib(got, talib.ATR(high.to_numpy(), low.to_numpy(), closes.to_numpy(), n))


@pytest.mark.parametrize("n", [1, 14, 30])
def test_atr_matches_talib_on_real_vix_bars(n: int):
    bars = vix_bars()
    got = atr(bars["HIGH"], bars["LOW"], bars["CLOSE"], n)
    expected = talib.ATR(*(bars[c].to_numpy() for c in ("HIGH", "LOW", "CLOSE")), n)
    assert_close_to_talib(got, expected)


def test_hand_worked_atr():
    high = pd.Series([11.0, 12.0, 13.0, 12.0, 15.0])
    low = pd.Series([9.0, 10.0, 11.0, 8.0, 13.0])
    close = pd.Series([10.0, 11.0, 12.0, 9.0, 14.0])
    # True ranges from bar 1 (previous close in brackets):
    # bar 1 (10): max(12, 10) - min(10, 10) = 2; bar 2 (11): 13 - 11 = 2;
    # bar 3 (12): max(12, 12) - min(8, 12) = 4; bar 4 (9): max(15, 9) - min(13, 9) = 6.
    # ATR(2): first = mean(2, 2) = 2 at bar 2; bar 3: (2*1 + 4)/2 = 3; bar 4: (3*1 + 6)/2 = 4.5.
    got = atr(high, low, close, 2).to_numpy()
    assert np.isnan(got[:2]).all()
    np.testing.assert_allclose(got[2:], [2.0, 3.0, 4.5], rtol=1e-15)


def breadth(count: int = 3000, seed: int = 3) -> tuple[pd.Series, pd.Series]:
    """Seeded advancing and declining issue counts of a ~3,000-stock market."""
    rng = np.random.default_rng(seed)
    up = rng.integers(300, 2700, size=count).astype(float)
    index = pd.bdate_range("2010-01-04", periods=count, name="date")
    return pd.Series(up, index=index), pd.Series(3000.0 - up - 50.0, index=index)


def mcclellan_cases() -> list[tuple[pd.Series, pd.Series]]:
    """Random breadth, and the real closes as net advances (declines 0): long series from
    the shipped data, exercising the same recursion on real numbers."""
    spx, vix = spx_closes(), vix_closes()
    return [breadth(), (spx, spx * 0.0), (vix, vix * 0.0)]


@pytest.mark.parametrize("case", range(3), ids=["random-breadth", "spx", "vix"])
def test_mcclellan_is_talib_ema19_minus_ema39(case: int):
    advances, declines = mcclellan_cases()[case]
    got = mcclellan(advances, declines)
    assert list(got.columns) == ["oscillator", "summation"]
    assert got.index.equals(advances.index)
    net = (advances - declines).to_numpy()
    oscillator = talib.EMA(net, 19) - talib.EMA(net, 39)
    assert_close_to_talib(got["oscillator"], oscillator)
    assert int(np.argmax(~np.isnan(oscillator))) == 38
    # the summation index: the running sum of TA-Lib's oscillator from its first value (a sum
    # of thousands of terms: to 1e-10 of its size or TOLERANCE, the rounding of the sums)
    summation = np.cumsum(oscillator[38:])
    np.testing.assert_allclose(
        got["summation"].to_numpy()[38:], summation, rtol=1e-10, atol=TOLERANCE
    )
    assert got["summation"].iloc[:38].isna().all()


def test_hand_worked_ad_line_and_summation_index():
    advances = pd.Series([np.nan, 1500.0, 1200.0, 900.0, 1800.0, 1000.0, 1600.0])
    declines = pd.Series([np.nan, 1000.0, 1300.0, 1600.0, 700.0, 1000.0, 900.0])
    # Net advances from bar 1: +500, -100, -700, +1100, 0, +700.
    # A/D line: 500, 400, -300, 800, 800, 1500.
    line = ad_line(advances, declines)
    assert np.isnan(line.iloc[0])
    assert line.iloc[1:].tolist() == [500.0, 400.0, -300.0, 800.0, 800.0, 1500.0]
    # McClellan with EMA(2) and EMA(3) (k = 2/3 and 1/2), seeded from the first valid bar 1:
    # fast seed mean(500, -100) = 200 at bar 2; bar 3: 200 + 2/3*(-700 - 200) = -400;
    #   bar 4: -400 + 2/3*(1100 + 400) = 600; bar 5: 600 + 2/3*(0 - 600) = 200;
    #   bar 6: 200 + 2/3*(700 - 200) = 1600/3.
    # slow seed mean(500, -100, -700) = -100 at bar 3; bar 4: -100 + 1/2*(1100 + 100) = 500;
    #   bar 5: 500 + 1/2*(0 - 500) = 250; bar 6: 250 + 1/2*(700 - 250) = 475.
    # Oscillator from bar 3: -400 + 100 = -300, 600 - 500 = 100, 200 - 250 = -50,
    #   1600/3 - 475 = 175/3. Summation: -300, -200, -250, -250 + 175/3 = -575/3.
    got = mcclellan(advances, declines, fast=2, slow=3)
    assert got.iloc[:3].isna().all().all()
    np.testing.assert_allclose(got["oscillator"].iloc[3:], [-300.0, 100.0, -50.0, 175 / 3])
    np.testing.assert_allclose(got["summation"].iloc[3:], [-300.0, -200.0, -250.0, -575 / 3])


def test_leading_nans_are_skipped_by_the_new_indicators_like_talib():
    closes = spx_closes().iloc[:120].copy()
    closes.iloc[:7] = np.nan
    values = closes.to_numpy()
    got = macd(closes)
    for column, reference in zip(got.columns, talib.MACD(values, 12, 26, 9), strict=True):
        assert_close_to_talib(got[column], reference)
    assert got["macd"].first_valid_index() == closes.index[7 + 33]
    bands = bollinger(closes, 20, 2.0)
    for column, reference in zip(bands.columns, talib.BBANDS(values, 20, 2.0, 2.0, 0), strict=True):
        assert_close_to_talib(bands[column], reference)
    high, low = high_low(closes.fillna(0.0))
    high.iloc[:9] = np.nan  # ATR starts where high, low and close are all valid: bar 9
    got_atr = atr(high, low, closes, 14)
    assert_close_to_talib(got_atr, talib.ATR(high.to_numpy(), low.to_numpy(), values, 14))
    assert got_atr.first_valid_index() == closes.index[9 + 14]


@pytest.mark.parametrize(
    "call",
    [
        lambda s: macd(s, 2, 3, 2),
        lambda s: bollinger(s, 2),
        lambda s: atr(s, s, s, 2),
        lambda s: ad_line(s, s),
        lambda s: mcclellan(s, s, 2, 3),
    ],
    ids=["macd", "bollinger", "atr", "ad_line", "mcclellan"],
)
def test_a_gap_in_a_new_indicator_raises_with_its_label(call: Callable[[pd.Series], object]):
    closes = pd.Series(
        [np.nan, 10.0, 11.0, 12.0, np.nan, 13.0],
        index=pd.date_range("2024-01-01", periods=6, freq="D"),
    )
    with pytest.raises(ValueError, match=r"missing value at index Timestamp\('2024-01-05"):
        call(closes)


def test_inputs_on_different_indexes_are_refused():
    advances = pd.Series([1.0, 2.0], index=["a", "b"])
    with pytest.raises(ValueError, match="declines is not on the same index"):
        ad_line(advances, pd.Series([1.0, 2.0], index=["a", "c"]))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: macd(s, 26, 12), r"fast \(26\) must be shorter than slow \(12\)"),
        (lambda s: macd(s, 12, 12), r"fast \(12\) must be shorter than slow \(12\)"),
        (lambda s: macd(s, 1, 12), "fast must be an integer >= 2"),
        (lambda s: macd(s, 12, 26, 0), "signal must be an integer >= 1"),
        (lambda s: bollinger(s, 20, -1.0), "k must be finite and >= 0"),
        (lambda s: bollinger(s, 20, float("nan")), "k must be finite and >= 0"),
        (lambda s: bollinger(s, 0), "n must be an integer >= 1"),
        (lambda s: atr(s, s, s, 0), "n must be an integer >= 1"),
        (lambda s: mcclellan(s, s, 0), "fast must be an integer >= 1"),
    ],
)
def test_bad_parameters_of_the_new_indicators_raise(
    call: Callable[[pd.Series], object], message: str
):
    with pytest.raises(ValueError, match=message):
        call(pd.Series([1.0, 2.0, 3.0]))


@pytest.mark.parametrize(
    "call",
    [
        lambda s: macd(s)["hist"],
        lambda s: bollinger(s)["upper"],
        lambda s: atr(s, s, s),
        lambda s: mcclellan(s, s)["summation"],
    ],
    ids=["macd", "bollinger", "atr", "mcclellan"],
)
def test_new_indicators_on_too_short_input_are_all_nan(call: Callable[[pd.Series], pd.Series]):
    for closes in (pd.Series([1.0, 2.0, 3.0]), pd.Series([], dtype=float)):
        got = call(closes)
        assert got.index.equals(closes.index)
        assert got.isna().all()


@given(values=st.lists(st.floats(1.0, 10_000.0), min_size=1, max_size=60), n=st.integers(1, 20))
def test_bollinger_bands_are_ordered_around_the_sma(values: list[float], n: int):
    closes = pd.Series(values)
    bands = bollinger(closes, n, 2.0).dropna()
    assert ((bands["lower"] <= bands["middle"]) & (bands["middle"] <= bands["upper"])).all()
    np.testing.assert_allclose(bands["middle"], sma(closes, n).dropna(), rtol=1e-15)
    assert len(bands) == max(len(values) - n + 1, 0)


@given(nets=st.lists(st.integers(-3000, 3000), min_size=1, max_size=60))
def test_ad_line_ends_at_the_total_net_advances(nets: list[int]):
    declines = pd.Series([3000.0] * len(nets))
    line = ad_line(declines + pd.Series(nets, dtype=float), declines)
    assert line.iloc[-1] == sum(nets)
    assert line.diff().iloc[1:].tolist() == nets[1:]
