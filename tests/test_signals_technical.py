"""The technical and breadth signals of issue 7: macd, bollinger, ad_divergence,
breadth_narrowing and the big_top composite. Every expected reading is worked out by hand in the
test or comes from TA-Lib; each signal has a constructed case with its boundary, its missing-data
message and its explanation text."""

from __future__ import annotations

import math
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib

from rules_engine import Context, Signal
from rules_engine.engine import recompute
from rules_engine.host import load_plugins
from rules_engine.runner import SignalOutcome
from rules_engine.testing import evaluate_signal, make_context, make_history
from rules_engine.workbook.reader import read_workbook
from rules_engine_plugins import ad_divergence, big_top, bollinger, breadth_narrowing, macd, rsi

MACD, BOLLINGER, AD = macd.SIGNAL, bollinger.SIGNAL, ad_divergence.SIGNAL
NARROWING, BIG_TOP = breadth_narrowing.SIGNAL, big_top.SIGNAL
EXAMPLE = Path(__file__).parents[1] / "workbooks" / "example.xlsx"
MINE = ("macd", "bollinger", "ad_divergence", "breadth_narrowing", "big_top")


def run(signal: Signal, history: pd.DataFrame, **settings: object) -> SignalOutcome:
    """The signal evaluated as the engine does, on this History, defaults overlaid by settings."""
    ctx = make_context(history=history, plugins=[signal], settings=settings)
    return evaluate_signal(signal, ctx)


def reading_of(outcome: SignalOutcome) -> tuple[float | None, bool, float, str]:
    assert outcome.reading is not None, outcome.reason
    r = outcome.reading
    return r.value, r.triggered, r.strength, r.explanation


def spx_closes() -> pd.Series:
    """Real SPX closes (the shipped FRED series), market holidays dropped."""
    with (files("rules_engine") / "example_data" / "spx_daily_close.csv").open() as handle:
        frame = pd.read_csv(handle, index_col="observation_date", parse_dates=True)
    return frame["SP500"].dropna().rename_axis("date")


# --- macd ------------------------------------------------------------------------------------

#: MACD(2, 3, 2) of these closes (worked in tests/test_indicators.py::test_hand_worked_macd and
#: one bar further): histogram from bar 3: 0, 0, -1/9, -7/54. Bar 6 (close 3): slow EMA
#: 4 + 1/2*(3 - 4) = 3.5, fast 25/6 + 2/3*(3 - 25/6) = 61/18, MACD 61/18 - 63/18 = -1/9,
#: signal 5/18 + 2/3*(-1/9 - 5/18) = 1/54, histogram -1/9 - 1/54 = -7/54.
#: The histogram goes 0 -> -1/9 on bar 5 (2024-01-30): a bearish cross (>= 0 then < 0), one bar
#: before today (bar 6, 2024-01-31).
SMALL = {"macd.fast": 2, "macd.slow": 3, "macd.signal": 2}
SMALL_CLOSES = [1.0, 2.0, 3.0, 4.0, 5.0, 4.0, 3.0]


def test_macd_cross_one_bar_ago_is_inside_a_2_bar_window_not_a_1_bar_one():
    history = make_history(spx_close=SMALL_CLOSES)
    value, triggered, strength, _ = reading_of(run(MACD, history, **SMALL, **{"macd.window": 1}))
    assert value == pytest.approx(-7 / 54, rel=1e-12) and not triggered and strength == 0.0
    value, triggered, strength, _ = reading_of(run(MACD, history, **SMALL, **{"macd.window": 2}))
    # Strength: -(-7/54) / mean(|0|, |0|, |-1/9|, |-7/54|) = (7/54) / (13/216) = 28/13 -> 1.
    assert value == pytest.approx(-7 / 54, rel=1e-12) and triggered and strength == 1.0


def test_macd_cross_undone_does_not_trigger():
    # One more bar at 5: slow 3.5 + 1/2*(5 - 3.5) = 4.25, fast 61/18 + 2/3*(5 - 61/18) = 241/54,
    # MACD 241/54 - 4.25 = 23/108; signal 1/54 + 2/3*(23/108 - 1/54) = 1/54 + 7/54 = 8/54;
    # histogram 23/108 - 16/108 = 7/108 >= 0: the cross of bar 5 is undone.
    history = make_history(spx_close=[*SMALL_CLOSES, 5.0])
    value, triggered, strength, text = reading_of(run(MACD, history, **SMALL, **{"macd.window": 5}))
    assert value == pytest.approx(7 / 108, rel=1e-12) and not triggered and strength == 0.0
    assert "last bearish cross 2024-01-29 (2 bars ago), within the 5-bar window" in text


def test_macd_on_real_closes_matches_talib_and_the_window_boundary():
    closes = spx_closes().loc[:"2016-10-13"]
    history = closes.to_frame("spx_close")
    hist = talib.MACD(closes.to_numpy(), 12, 26, 9)[2]
    # TA-Lib: the histogram turns negative on 2016-10-11, two bars before 2016-10-13, and stays
    # negative; strength = -histogram / mean |histogram| over the last 63 bars.
    assert hist[-4] >= 0.0 and hist[-3] < 0.0 and hist[-2] < 0.0 and hist[-1] < 0.0
    expected = -hist[-1] / np.mean(np.abs(hist[-63:]))
    assert 0.0 < expected < 1.0
    value, triggered, strength, _ = reading_of(run(MACD, history))  # window 5
    assert value == pytest.approx(hist[-1], abs=1e-8)
    assert triggered and strength == pytest.approx(expected, rel=1e-8)
    _, triggered, strength, _ = reading_of(run(MACD, history, **{"macd.window": 3}))
    assert triggered
    _, triggered, strength, _ = reading_of(run(MACD, history, **{"macd.window": 2}))
    assert not triggered and strength == 0.0


def test_macd_missing_data():
    history = make_history(spx_close=[float(i) for i in range(34)])
    outcome = run(MACD, history)
    assert outcome.status == "not evaluated"
    assert outcome.reason == "needs at least 35 SPX closes in History for MACD(12,26,9), found 34"
    # monthly rows holding only another column do not count as closes
    history = make_history(spx_close=[None] * 5 + [float(i) for i in range(34)])
    assert run(MACD, history).reason.endswith("found 34")
    outcome = run(MACD, make_history(spx_close=[None, None]))
    assert outcome.status == "not evaluated"
    assert outcome.reason == "needs column 'spx_close' in History (absent or empty)"


def test_macd_fast_not_below_slow_fails_with_the_reason():
    outcome = run(MACD, make_history(spx_close=SMALL_CLOSES), **{"macd.fast": 3, "macd.slow": 3})
    assert outcome.status == "failed"
    assert "macd.fast (3) must be below macd.slow (3)" in outcome.reason


def test_macd_explanation():
    history = make_history(spx_close=SMALL_CLOSES)
    # MACD -1/9 = -0.11, signal 1/54 = 0.02, histogram -7/54 = -0.13; mean |histogram| over
    # the 4 bars 13/216 = 0.06.
    assert reading_of(run(MACD, history, **SMALL, **{"macd.window": 2}))[3] == (
        "SPX MACD(2,3,2) on 2024-01-31: MACD -0.11, signal 0.02, histogram -0.13; last bearish "
        "cross 2024-01-30 (1 bar ago), within the 2-bar window; triggered: strength 1.00 = "
        "-histogram / its mean absolute value 0.06 over the last 4 bars (capped at 1)"
    )
    assert reading_of(run(MACD, history, **SMALL, **{"macd.window": 1}))[3] == (
        "SPX MACD(2,3,2) on 2024-01-31: MACD -0.11, signal 0.02, histogram -0.13; last bearish "
        "cross 2024-01-30 (1 bar ago), outside the 1-bar window; not triggered: needs a bearish "
        "cross in the last 1 bars with the histogram still negative"
    )
    rising = make_history(spx_close=[1.0, 2.0, 3.0, 4.0, 5.0])
    assert "no bearish cross since the histogram began" in reading_of(run(MACD, rising, **SMALL))[3]


# --- bollinger -------------------------------------------------------------------------------

#: The last 8 closes: mean 40/8 = 5; squared deviations 9+1+1+1+0+0+4+16 = 32, population sd
#: sqrt(32/8) = 2. Bands: 5 +- 2k. Today's close is 9 = 5 + 2 sd.
BANDS_CLOSES = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]


@pytest.mark.parametrize(
    ("k", "percent_b", "triggered", "strength"),
    [
        # k = 2: upper 9 = close: on the band, not above; %B = (9 - 1) / (9 - 1) = 1
        (2.0, 1.0, False, 0.0),
        # k = 1.9: upper 8.8, lower 1.2: 0.2 above = 0.1 sd; %B = 7.8 / 7.6
        (1.9, 7.8 / 7.6, True, 0.1),
        # k = 1.5: upper 8, lower 2: 1 above = 0.5 sd; %B = 7 / 6
        (1.5, 7.0 / 6.0, True, 0.5),
        # k = 0.5: upper 6, lower 4: 3 above = 1.5 sd -> capped at 1; %B = 5 / 2
        (0.5, 2.5, True, 1.0),
    ],
)
def test_bollinger_close_on_and_above_the_upper_band(
    k: float, percent_b: float, triggered: bool, strength: float
):
    history = make_history(spx_close=BANDS_CLOSES)
    reading = reading_of(run(BOLLINGER, history, **{"bollinger.period": 8, "bollinger.k": k}))
    assert reading[0] == pytest.approx(percent_b, rel=1e-12)
    assert reading[1] is triggered
    assert reading[2] == pytest.approx(strength, rel=1e-12)


def test_bollinger_matches_talib_on_the_example_date():
    closes = spx_closes().loc[:"2018-01-26"]
    upper, _, lower = (b[-1] for b in talib.BBANDS(closes.to_numpy(), 20, 2.0, 2.0, 0))
    value, triggered, _, _ = reading_of(run(BOLLINGER, closes.to_frame("spx_close")))
    assert value == pytest.approx((closes.iloc[-1] - lower) / (upper - lower), abs=1e-9)
    assert triggered is bool(closes.iloc[-1] > upper)


def test_bollinger_flat_window_has_no_percent_b():
    outcome = run(BOLLINGER, make_history(spx_close=[7.0] * 20))
    assert outcome.status == "not triggered"
    assert outcome.reading is not None and outcome.reading.value is None
    assert outcome.reading.explanation.endswith("a flat window, %B undefined: not above")


def test_bollinger_missing_data():
    outcome = run(BOLLINGER, make_history(spx_close=[float(i) for i in range(19)]))
    assert outcome.status == "not evaluated"
    assert (
        outcome.reason == "needs at least 20 SPX closes in History for Bollinger(20, 2), found 19"
    )


def test_bollinger_explanation():
    history = make_history(spx_close=BANDS_CLOSES)
    settings = {"bollinger.period": 8}
    # k = 1.5: bands 8 / 5 / 2, width (8 - 2) / 5 = 120%, %B 7/6 = 1.17, 1 point = 0.5 sd above
    assert reading_of(run(BOLLINGER, history, **settings, **{"bollinger.k": 1.5}))[3] == (
        "SPX 9.00 on 2024-01-31, Bollinger(8, 1.5): upper 8.00, middle 5.00, lower 2.00, width "
        "120.00% of the middle; %B 1.17: 1.00 points (0.50 sd) above the upper band, triggered; "
        "strength 0.50 = sd above the band (capped at 1)"
    )
    # k = 2: bands 9 / 5 / 1, width 8 / 5 = 160%
    assert reading_of(run(BOLLINGER, history, **settings))[3] == (
        "SPX 9.00 on 2024-01-31, Bollinger(8, 2): upper 9.00, middle 5.00, lower 1.00, width "
        "160.00% of the middle; %B 1.00: not above the upper band"
    )


# --- ad_divergence ---------------------------------------------------------------------------

#: Net advances +100, +200, +300, -100, -100, +50 (advances - 1000 declines): A/D line
#: 100, 300, 600, 500, 400, 450. The 5-day window (2024-01-25 .. 01-31) holds 300, 600 (on
#: 2024-01-26), 500, 400, 450: high 600, low 300, depth (600 - 450) / (600 - 300) = 0.5.
ADVANCES = [1100.0, 1200.0, 1300.0, 900.0, 900.0, 1050.0]
DECLINES = [1000.0] * 6


def ad_history(closes: list[float], advances: list[float] = ADVANCES) -> pd.DataFrame:
    return make_history(spx_close=closes, advances=advances, declines=DECLINES)


@pytest.mark.parametrize(
    ("last_close", "triggered"),
    [
        (105.0, True),  # equal to the window's high (01-30): at its 5-day high
        (106.0, True),  # a new high
        (104.99, False),  # just below the high
    ],
)
def test_ad_divergence_spx_high_boundary(last_close: float, triggered: bool):
    history = ad_history([100.0, 101.0, 102.0, 103.0, 105.0, last_close])
    value, fired, strength, _ = reading_of(run(AD, history, **{"ad_divergence.lookback": 5}))
    assert value == 0.5 and fired is triggered
    assert strength == (0.5 if triggered else 0.0)


@pytest.mark.parametrize(
    ("last_advances", "depth", "triggered"),
    [
        # net +200: the A/D line reaches 600 = its high again: no divergence
        (1200.0, 0.0, False),
        # net +199: 599, one issue below its high: depth (600 - 599) / (600 - 300) = 1/300
        (1199.0, 1.0 / 300.0, True),
    ],
)
def test_ad_divergence_ad_line_high_boundary(last_advances: float, depth: float, triggered: bool):
    history = ad_history([100.0, 101.0, 102.0, 103.0, 104.0, 106.0], [*ADVANCES[:5], last_advances])
    value, fired, strength, _ = reading_of(run(AD, history, **{"ad_divergence.lookback": 5}))
    assert value == pytest.approx(depth, abs=1e-15) and fired is triggered
    assert strength == pytest.approx(depth if triggered else 0.0, abs=1e-15)


def test_ad_divergence_skips_rows_without_breadth():
    # Two monthly rows holding only SPX (no breadth yet) before the six daily rows: they are not
    # part of the A/D line nor of the 5-day window, so the reading is the one worked above.
    history = make_history(
        spx_close=[200.0, 300.0, 100.0, 101.0, 102.0, 103.0, 105.0, 106.0],
        advances=[None, None, *ADVANCES],
        declines=[None, None, *DECLINES],
    )
    value, triggered, strength, _ = reading_of(run(AD, history, **{"ad_divergence.lookback": 5}))
    assert (value, triggered, strength) == (0.5, True, 0.5)


def test_ad_divergence_missing_data():
    outcome = run(AD, make_history(spx_close=[1.0, 2.0, 3.0]))
    assert outcome.status == "not evaluated"
    assert outcome.reason == "needs columns 'advances', 'declines' in History (absent or empty)"
    history = ad_history([100.0, 101.0, 102.0, 103.0, 105.0, 106.0])
    outcome = run(AD, history)  # default look-back 63
    assert outcome.status == "not evaluated"
    assert outcome.reason == (
        "needs at least 63 days with SPX Close, Advances and Declines in History, found 6"
    )


def test_ad_divergence_explanation():
    history = ad_history([100.0, 101.0, 102.0, 103.0, 105.0, 105.0])
    assert reading_of(run(AD, history, **{"ad_divergence.lookback": 5}))[3] == (
        "SPX 105.00 on 2024-01-31 is at its 5-day high; the A/D line 450 is 150 below its 5-day "
        "high 600 of 2024-01-26 (low 300): depth 0.50 of its range; divergence, triggered"
    )
    # 1 - 104.99 / 105 = 0.0095% -> 0.01%
    history = ad_history([100.0, 101.0, 102.0, 103.0, 105.0, 104.99])
    assert reading_of(run(AD, history, **{"ad_divergence.lookback": 5}))[3] == (
        "SPX 104.99 on 2024-01-31 is 0.01% below its 5-day high 105.00 of 2024-01-30; the A/D "
        "line 450 is 150 below its 5-day high 600 of 2024-01-26 (low 300): depth 0.50 of its "
        "range; no divergence"
    )


# --- breadth_narrowing -----------------------------------------------------------------------

THREE_DAYS = {"breadth_narrowing.lookback": 3}


@pytest.mark.parametrize(
    ("spx_today", "share_today", "triggered", "strength"),
    [
        # SPX 100 -> 102 (+2%), share 60 -> 55: a 5-point fall = min_drop: triggered, 5/20
        (102.0, 55.0, True, 0.25),
        # 60 -> 55.1: a 4.9-point fall, below min_drop 5
        (102.0, 55.1, False, 0.0),
        # SPX back to 100: no rise (needs more than 0%)
        (100.0, 55.0, False, 0.0),
        # SPX 100.01: just above
        (100.01, 55.0, True, 0.25),
        # 60 -> 35: 25 points, strength capped at 1
        (102.0, 35.0, True, 1.0),
    ],
)
def test_breadth_narrowing_boundaries(
    spx_today: float, share_today: float, triggered: bool, strength: float
):
    history = make_history(
        spx_close=[100.0, 100.0, 101.0, spx_today], pct_above_200d=[60.0, 58.0, 57.0, share_today]
    )
    value, fired, force, _ = reading_of(run(NARROWING, history, **THREE_DAYS))
    assert value == pytest.approx(share_today - 60.0, abs=1e-12)
    assert fired is triggered and force == pytest.approx(strength, rel=1e-12)


def test_breadth_narrowing_thresholds_are_settings():
    history = make_history(spx_close=[100.0, 100.0, 101.0, 102.0], pct_above_200d=[60, 58, 57, 55])
    # SPX +2%: a required rise of 2.1% is not met, one of 1.9% is
    settings = {**THREE_DAYS, "breadth_narrowing.min_index_rise": 0.021}
    assert not reading_of(run(NARROWING, history, **settings))[1]
    settings = {**THREE_DAYS, "breadth_narrowing.min_index_rise": 0.019}
    assert reading_of(run(NARROWING, history, **settings))[1]
    # a 5-point fall with min_drop 6 does not trigger; full_drop 10 gives strength 5/10
    settings = {**THREE_DAYS, "breadth_narrowing.min_drop": 6.0}
    assert not reading_of(run(NARROWING, history, **settings))[1]
    settings = {**THREE_DAYS, "breadth_narrowing.full_drop": 10.0}
    assert reading_of(run(NARROWING, history, **settings))[2] == 0.5


def test_breadth_narrowing_reads_fractions_as_percent_cells():
    # Percent-formatted cells arrive as fractions: 0.60 -> 0.50 is a 10-point fall: 10/20 = 0.5
    history = make_history(
        spx_close=[100.0, 100.0, 101.0, 102.0], pct_above_200d=[0.60, 0.58, 0.57, 0.50]
    )
    value, triggered, strength, text = reading_of(run(NARROWING, history, **THREE_DAYS))
    assert value == pytest.approx(-10.0, rel=1e-12) and triggered
    assert strength == pytest.approx(0.5, rel=1e-12)
    assert "60.0% -> 50.0% (-10.0 points; read as fractions, x100)" in text


def test_breadth_narrowing_refuses_shares_outside_0_100():
    history = make_history(
        spx_close=[100.0, 100.0, 101.0, 102.0], pct_above_200d=[60.0, 58.0, 57.0, 155.0]
    )
    outcome = run(NARROWING, history, **THREE_DAYS)
    assert outcome.status == "failed"
    assert "Pct Above 200D must be a share between 0 and 100 (or 0 and 1)" in outcome.reason


def test_breadth_narrowing_missing_data():
    outcome = run(NARROWING, make_history(spx_close=[1.0, 2.0, 3.0]))
    assert outcome.status == "not evaluated"
    assert outcome.reason == "needs column 'pct_above_200d' in History (absent or empty)"
    # three days hold both columns (the first row has no share): 4 are needed for 3 steps back
    history = make_history(
        spx_close=[99.0, 100.0, 101.0, 102.0], pct_above_200d=[None, 58.0, 57.0, 55.0]
    )
    outcome = run(NARROWING, history, **THREE_DAYS)
    assert outcome.status == "not evaluated"
    assert outcome.reason == (
        "needs at least 4 days with SPX Close and Pct Above 200D in History, found 3"
    )


def test_breadth_narrowing_explanation():
    history = make_history(spx_close=[100.0, 100.0, 101.0, 102.0], pct_above_200d=[60, 58, 57, 55])
    assert reading_of(run(NARROWING, history, **THREE_DAYS))[3] == (
        "over 3 days from 2024-01-26 to 2024-01-31 SPX moved +2.00% while the share above the "
        "200-day average went 60.0% -> 55.0% (-5.0 points; read as percentages); triggered; "
        "strength 0.25 = fall / 20 points (capped at 1)"
    )
    history = make_history(spx_close=[100.0, 100.0, 101.0, 99.0], pct_above_200d=[60, 58, 57, 55])
    assert reading_of(run(NARROWING, history, **THREE_DAYS))[3] == (
        "over 3 days from 2024-01-26 to 2024-01-31 SPX moved -1.00% while the share above the "
        "200-day average went 60.0% -> 55.0% (-5.0 points; read as percentages); not "
        "triggered: needs SPX up more than 0.00% and a fall of at least 5 points"
    )


# --- big_top ---------------------------------------------------------------------------------

#: 25 closes rising by 1 a day, the breadth of the ad_divergence and breadth_narrowing cases in
#: the last rows. Component by component, with their default settings except the two look-backs:
#: - rsi(14): only gains -> RSI 100 > 70: triggered, strength (100 - 70) / 30 = 1.
#: - macd(12,26,9): needs 35 closes, has 25: not evaluated.
#: - bollinger(20, 2): the last 20 closes are 20 consecutive integers: middle = close - 9.5,
#:   sd = sqrt((20^2 - 1) / 12) = sqrt(33.25); upper = close - 9.5 + 2 sd = close + 2.03: not
#:   above, %B = (9.5 + 2 sd) / (4 sd).
#: - ad_divergence(5): SPX at its high, A/D line 450 under its high 600: depth 0.5, triggered.
#: - breadth_narrowing(3): SPX +3/123, share 60 -> 55: 5 points: triggered, strength 0.25.
#: 3 of 4 evaluated components triggered; strength (1 + 0 + 0.5 + 0.25) / 4 = 0.4375.
TOP_SETTINGS = {"ad_divergence.lookback": 5, "breadth_narrowing.lookback": 3}


def top_history() -> pd.DataFrame:
    return make_history(
        spx_close=[100.0 + i for i in range(25)],
        advances=[1000.0] * 19 + ADVANCES,
        declines=[1000.0] * 25,
        pct_above_200d=[70.0] * 21 + [60.0, 58.0, 57.0, 55.0],
    )


def top_context(**settings: object) -> Context:
    """The engine's context: every component's and big_top's settings at their defaults."""
    plugins = [*big_top.COMPONENTS, BIG_TOP]
    return make_context(history=top_history(), plugins=plugins, settings=settings)


@pytest.mark.parametrize(
    ("needed", "status"), [(2, "triggered"), (3, "triggered"), (4, "not triggered")]
)
def test_big_top_counts_the_components_that_trigger(needed: int, status: str):
    settings = {**TOP_SETTINGS, "big_top.min_triggered": needed}
    outcome = evaluate_signal(BIG_TOP, top_context(**settings))
    assert outcome.status == status
    value, _, strength, _ = reading_of(outcome)
    assert value == 3.0 and strength == pytest.approx(1.75 / 4, rel=1e-12)


def test_big_top_needs_as_many_components_evaluated_as_it_requires_to_trigger():
    # 4 evaluated (macd is missing): K = 5 could never be met, so it is not an all clear
    settings = {**TOP_SETTINGS, "big_top.min_triggered": 5}
    outcome = evaluate_signal(BIG_TOP, top_context(**settings))
    assert outcome.status == "not evaluated"
    assert outcome.reason.startswith(
        "needs at least 5 of its 5 components evaluated, got 4 (rsi, bollinger, ad_divergence, "
        "breadth_narrowing); missing: macd (needs at least 35 SPX closes in History for "
        "MACD(12,26,9), found 25)"
    )


def test_big_top_uses_the_components_own_settings():
    # bollinger.k 0.5: upper = close - 9.5 + 0.5 sd = close - 6.62: the close is 6.62 points,
    # 1.15 sd, above it: triggered at strength 1. Now 4 of 4 trigger; strength
    # (1 + 1 + 0.5 + 0.25) / 4 = 2.75 / 4.
    settings = {**TOP_SETTINGS, "bollinger.k": 0.5}
    value, triggered, strength, _ = reading_of(evaluate_signal(BIG_TOP, top_context(**settings)))
    assert (9.5 - 0.5 * math.sqrt(33.25)) / math.sqrt(33.25) > 1.0
    assert value == 4.0 and triggered and strength == pytest.approx(2.75 / 4, rel=1e-12)
    # a component setting the context lacks (its plugin not loaded) takes its default
    ctx = make_context(history=top_history(), settings={"big_top.min_triggered": 2})
    assert "rsi.threshold" not in ctx.settings
    # Default look-backs: ad_divergence (63 days) not evaluated; breadth_narrowing (20 days):
    # SPX 104 -> 124, share 70 -> 55, 15 points: triggered at 15/20. With rsi (1) and bollinger
    # (0): 2 of 3 trigger, strength (1 + 0 + 0.75) / 3.
    value, triggered, strength, _ = reading_of(evaluate_signal(BIG_TOP, ctx))
    assert value == 2.0 and triggered and strength == pytest.approx(1.75 / 3, rel=1e-12)


def test_big_top_missing_data():
    # 16 closes and no breadth: only rsi (15 closes needed) can be evaluated
    outcome = evaluate_signal(BIG_TOP, make_context(closes=[100.0 + i for i in range(16)]))
    assert outcome.status == "not evaluated"
    assert outcome.reason == (
        "needs at least 2 of its 5 components evaluated, got 1 (rsi); missing: macd (needs at "
        "least 35 SPX closes in History for MACD(12,26,9), found 16); bollinger (needs at least "
        "20 SPX closes in History for Bollinger(20, 2), found 16); ad_divergence (needs columns "
        "'advances', 'declines' in History (absent or empty)); breadth_narrowing (needs column "
        "'pct_above_200d' in History (absent or empty))"
    )
    outcome = evaluate_signal(BIG_TOP, make_context(history=make_history(advances=[1.0])))
    assert outcome.reason == "needs column 'spx_close' in History (absent or empty)"


def test_big_top_fails_naming_a_component_that_fails():
    settings = {**TOP_SETTINGS, "macd.fast": 26}
    outcome = evaluate_signal(BIG_TOP, top_context(**settings))
    assert outcome.status == "failed"
    assert "component macd failed: macd.fast (26) must be below macd.slow (26)" in outcome.reason


def test_big_top_explanation():
    sd = math.sqrt(33.25)
    percent_b = (9.5 + 2 * sd) / (4 * sd)  # 0.9119
    assert f"{percent_b:.4g}" == "0.9119"
    _, _, _, text = reading_of(evaluate_signal(BIG_TOP, top_context(**TOP_SETTINGS)))
    assert text == (
        "3 of 4 evaluated components triggered (needs 2), triggered; strength 0.44 = mean of "
        "their strengths: rsi triggered (value 100, strength 1.00); bollinger not triggered "
        "(value 0.9119, strength 0.00); ad_divergence triggered (value 0.5, strength 0.50); "
        "breadth_narrowing triggered (value -5, strength 0.25); not evaluated: macd (needs at "
        "least 35 SPX closes in History for MACD(12,26,9), found 25)"
    )


def test_big_top_declares_no_component_setting():
    assert [s.name for s in BIG_TOP.settings] == ["big_top.min_triggered"]
    assert [c.name for c in big_top.COMPONENTS] == [
        "rsi",
        "macd",
        "bollinger",
        "ad_divergence",
        "breadth_narrowing",
    ]


# --- all together ----------------------------------------------------------------------------


def test_the_signals_load_together_with_their_settings_and_categories():
    modules = ("rsi", *MINE, "alvh_sizer")
    host = load_plugins(
        builtins=tuple(f"rules_engine_plugins.{m}" for m in modules), use_entry_points=False
    )
    assert host.failures == []
    assert set(host.signals) == {"rsi", *MINE}
    categories = {name: entry.item.category for name, entry in host.signals.items()}
    assert categories == {
        "rsi": "technical",
        "macd": "technical",
        "bollinger": "technical",
        "ad_divergence": "breadth",
        "breadth_narrowing": "breadth",
        "big_top": "technical",
    }
    for name in MINE:
        for setting in host.signals[name].item.settings:
            assert setting.name.startswith(f"{name}.") and setting.description
            if setting.type in ("int", "float"):
                assert setting.minimum is not None and setting.maximum is not None
                assert setting.minimum <= setting.default <= setting.maximum


def test_readings_on_the_example_workbook_match_talib():
    modules = ("rsi", *MINE, "alvh_sizer")
    host = load_plugins(
        builtins=tuple(f"rules_engine_plugins.{m}" for m in modules), use_entry_points=False
    )
    rows = recompute(read_workbook(EXAMPLE).inputs, host).signals.set_index("Signal")
    closes = spx_closes().loc["2016-02-12":"2018-01-26"].to_numpy()
    hist = talib.MACD(closes, 12, 26, 9)[2]
    upper, _, lower = (b[-1] for b in talib.BBANDS(closes, 20, 2.0, 2.0, 0))
    assert rows.loc["macd", "Value"] == pytest.approx(hist[-1], abs=1e-8)
    # no bearish cross in the last 5 bars (TA-Lib's histogram) -> not triggered
    recent = hist[-6:]
    assert not ((recent[:-1] >= 0) & (recent[1:] < 0)).any()
    assert rows.loc["macd", "Status"] == "not triggered"
    assert rows.loc["bollinger", "Value"] == pytest.approx(
        (closes[-1] - lower) / (upper - lower), abs=1e-9
    )
    assert closes[-1] < upper and rows.loc["bollinger", "Status"] == "not triggered"
    assert talib.RSI(closes, 14)[-1] > 70  # rsi triggers: 1 of the 3 evaluated components
    assert rows.loc["big_top", "Status"] == "not triggered" and rows.loc["big_top", "Value"] == 1
    for name in ("ad_divergence", "breadth_narrowing"):
        assert rows.loc[name, "Status"] == "not evaluated"


# --- rsi ------------------------------------------------------------------------------------------


def rsi_reading(closes: list[float], **settings: float):
    signal = rsi_signal()
    ctx = make_context(closes=closes, plugins=[signal], settings=settings)
    return evaluate_signal(signal, ctx)


def rsi_signal() -> Signal:
    registered: list[Signal] = []
    rsi.alvh_register_signals(registered.append)
    (signal,) = registered
    return signal


def test_rsi_hand_worked_at_and_around_the_threshold():
    # 14 changes: seven of +1.4 and seven of -0.6 -> average gain 0.7, average loss 0.3,
    # RSI = 100 x 0.7 / (0.7 + 0.3) = 70 (the first value: n = 14 changes, 15 closes)
    closes = [100.0]
    for k in range(14):
        closes.append(closes[-1] + (1.4 if k % 2 == 0 else -0.6))
    above = rsi_reading(closes, **{"rsi.threshold": 69.5})
    assert above.status == "triggered"
    assert above.reading.value == pytest.approx(70.0, abs=1e-9)
    assert above.reading.strength == pytest.approx((70.0 - 69.5) / (100.0 - 69.5), abs=1e-9)
    below = rsi_reading(closes, **{"rsi.threshold": 70.5})
    assert below.status == "not triggered" and below.reading.strength == 0.0


def test_rsi_missing_data_says_what_it_needs():
    signal = rsi_signal()
    short = rsi_reading([100.0 + k for k in range(10)])
    assert short.status == "not evaluated"
    assert short.reason == "RSI(14) needs at least 15 SPX closes in History, found 10"
    no_column = make_context(history=make_history(vix_close=[15.0] * 30), plugins=[signal])
    outcome = evaluate_signal(signal, no_column)
    assert outcome.status == "not evaluated"
    assert outcome.reason == "needs column 'spx_close' in History (absent or empty)"


def test_rsi_explanation_gives_the_reading_date_and_threshold():
    rising = [100.0 + k for k in range(20)]  # no loss at all: RSI 100
    outcome = rsi_reading(rising)
    assert outcome.reading.value == 100.0 and outcome.reading.strength == 1.0
    day = make_context(closes=rising).history.index[-1]
    assert outcome.reading.explanation == (
        f"SPX RSI(14) 100.0 on {day:%Y-%m-%d} is above the overbought threshold 70"
    )
