"""The event, valuation, macro and book signals: event_window, valuation, macro, second_engine and
book_beta. Every expected number is worked out by hand below (or from a textbook formula), never
taken from the signal's own output."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from types import ModuleType

import pandas as pd
import pytest
import stress_by_hand as by_hand

from rules_engine import Signal
from rules_engine.runner import SignalOutcome
from rules_engine.testing import evaluate_signal, leg, make_context, make_history, make_risk
from rules_engine_plugins import book_beta, event_window, macro, second_engine, valuation

AS_OF = dt.date(2024, 1, 31)


def signal_of(module: ModuleType) -> Signal:
    found: list[Signal] = []
    module.alvh_register_signals(found.append)
    assert len(found) == 1
    return found[0]


EVENT, VALUATION, MACRO = signal_of(event_window), signal_of(valuation), signal_of(macro)
SECOND, BETA = signal_of(second_engine), signal_of(book_beta)


def test_registration() -> None:
    assert [s.name for s in (EVENT, VALUATION, MACRO, SECOND, BETA)] == [
        "event_window", "valuation", "macro", "second_engine", "book_beta",
    ]  # fmt: skip
    assert [s.category for s in (EVENT, VALUATION, MACRO, SECOND, BETA)] == [
        "event", "valuation", "valuation", "book", "book",
    ]  # fmt: skip
    assert VALUATION.requires == ("cape",)
    for signal in (EVENT, VALUATION, MACRO, SECOND, BETA):
        assert signal.description
        for setting in signal.settings:
            assert setting.name.startswith(f"{signal.name}.") and setting.description


# --- event_window -------------------------------------------------------------------------------


def calendar(*rows: tuple[dt.date, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["date", "event", "note"])


def run_event(cal: pd.DataFrame, **settings: object) -> SignalOutcome:
    ctx = make_context([100.0, 101.0], as_of=AS_OF, calendar=cal, settings=settings)
    return evaluate_signal(EVENT, ctx)


def days(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def test_event_window_counts_forward_from_as_of_and_the_boundary() -> None:
    # Past FOMC (yesterday) and a non-counted "Holiday" tomorrow are skipped; "cpi" matches CPI
    # ignoring case; it is 10 calendar days ahead: on the edge of the 10-day window.
    cal = calendar(
        (days(-1), "FOMC", ""),
        (days(1), "Holiday", ""),
        (days(10), "cpi", "January CPI"),
        (days(20), "Earnings", "NVDA"),
    )
    out = run_event(cal)
    assert out.status == "triggered" and out.reading is not None
    assert out.reading.value == 10.0
    assert out.reading.strength == pytest.approx((10 + 1 - 10) / (10 + 1))  # 1/11
    # One day further out: 11 days, just outside the window.
    later = calendar((days(-1), "FOMC", ""), (days(11), "CPI", ""))
    out = run_event(later)
    assert out.status == "not triggered" and out.reading is not None
    assert (out.reading.value, out.reading.strength) == (11.0, 0.0)
    # The same 10 days with a 9-day window: outside; with an 11-day window: (12 - 10) / 12.
    assert run_event(cal, **{"event_window.days": 9}).status == "not triggered"
    wide = run_event(cal, **{"event_window.days": 11}).reading
    assert wide is not None and wide.strength == pytest.approx(2 / 12)


def test_event_window_event_today_and_the_kinds_setting() -> None:
    today = run_event(calendar((days(0), "PPI", ""), (days(3), "FOMC", "")))
    assert today.reading is not None
    assert (today.reading.value, today.reading.strength) == (0.0, 1.0)  # (10 + 1 - 0) / 11
    # Only FOMC counts: the CPI in 2 days is ignored, the FOMC 49 days out is the next event.
    cal = calendar((days(2), "CPI", ""), (days(49), "FOMC", ""))
    out = run_event(cal, **{"event_window.events": " fomc , "})
    assert out.status == "not triggered" and out.reading is not None
    assert out.reading.value == 49.0


def test_event_window_missing_calendar_is_not_evaluated() -> None:
    for cal in (pd.DataFrame(), calendar()):
        out = run_event(cal)
        assert out.status == "not evaluated"
        assert out.reason == "needs the Calendar sheet with event dates"
        assert out.reading is None


def test_event_window_nothing_ahead_is_not_triggered_and_says_so() -> None:
    out = run_event(calendar((days(-30), "FOMC", ""), (days(-2), "CPI", "")))
    assert out.status == "not triggered" and out.reading is not None
    assert out.reading.value is None and out.reading.strength == 0.0
    assert out.reading.explanation == (
        "no FOMC, CPI, PPI, Earnings event on or after 2024-01-31 in the Calendar "
        "(2 event(s), the last on 2024-01-29)"
    )


def test_event_window_explanation_names_the_events_and_the_date() -> None:
    cal = calendar((days(5), "CPI", ""), (days(5), "PPI", "January PPI"), (days(9), "FOMC", ""))
    reading = run_event(cal).reading
    assert reading is not None
    assert reading.explanation == (
        "next event: CPI and PPI (January PPI) on 2024-02-05, 5 day(s) after 2024-01-31: "
        "within the 10-day window (counted: FOMC, CPI, PPI, Earnings)"
    )
    outside = run_event(calendar((days(40), "FOMC", "rate decision"))).reading
    assert outside is not None
    assert outside.explanation == (
        "next event: FOMC (rate decision) on 2024-03-11, 40 day(s) after 2024-01-31: "
        "outside the 10-day window (counted: FOMC, CPI, PPI, Earnings)"
    )


# --- valuation ----------------------------------------------------------------------------------


def run_valuation(history: pd.DataFrame, **settings: object) -> SignalOutcome:
    return evaluate_signal(VALUATION, make_context(history=history, settings=settings))


def test_valuation_cape_percentile_and_the_boundary() -> None:
    # Earlier values 1..12, latest 11: 11 of the 12 are at or below it -> 91.67%.
    cape = [*range(1, 13), 11]
    out = run_valuation(make_history(cape=cape), **{"valuation.min_history": 12})
    assert out.status == "triggered" and out.reading is not None
    assert out.reading.value == pytest.approx(100 * 11 / 12)
    assert out.reading.strength == pytest.approx((100 * 11 / 12 - 90) / (100 - 90))
    just_above = {"valuation.min_history": 12, "valuation.threshold": 91.7}
    assert run_valuation(make_history(cape=cape), **just_above).status == "not triggered"
    just_below = {"valuation.min_history": 12, "valuation.threshold": 91.6}
    assert run_valuation(make_history(cape=cape), **just_below).status == "triggered"
    # Latest 10.5: 10 of 12 at or below -> 83.33%, below 90.
    low = run_valuation(make_history(cape=[*range(1, 13), 10.5]), **{"valuation.min_history": 12})
    assert low.status == "not triggered" and low.reading is not None
    assert low.reading.value == pytest.approx(100 * 10 / 12) and low.reading.strength == 0.0


def test_valuation_reads_monthly_rows_among_daily_ones() -> None:
    # 121 CAPE values (0..119 then 108.5) on every other row, the rows between blank (daily rows
    # without a CAPE): 109 of the 120 earlier values (0..108) are at or below 108.5 -> 90.83%.
    values = [*map(float, range(120)), 108.5]
    cape: list[float | None] = [v for value in values for v in (value, None)]
    spx = [4000.0 + i for i in range(len(cape))]
    out = run_valuation(make_history(spx_close=spx, cape=cape))
    assert out.status == "triggered" and out.reading is not None
    assert out.reading.value == pytest.approx(100 * 109 / 120)


def test_valuation_uses_pe_against_price_to_cash_flow_when_given() -> None:
    # CAPE latest 6.5 among 1..12: 6 at or below -> 50%. P/CF / P/E: P/E 20 throughout, P/CF
    # 1..12 then 12.5 -> ratios 0.05..0.60 then 0.625, above all 12 earlier -> 100%.
    history = make_history(
        cape=[*range(1, 13), 6.5], pe=[20.0] * 13, price_to_cash_flow=[*range(1, 13), 12.5]
    )
    out = run_valuation(history, **{"valuation.min_history": 12})
    assert out.status == "triggered" and out.reading is not None
    assert (out.reading.value, out.reading.strength) == (100.0, 1.0)
    assert out.reading.explanation == (
        "CAPE 6.5 on 2024-01-31 ranks at percentile 50.0 of 12 earlier values; "
        "P/CF / P/E 0.625 on 2024-01-31 ranks at percentile 100.0 of 12 earlier values: "
        "percentile 100.0 is at or above the threshold 90"
    )
    # Too few ratios: the P/E part is skipped and said to be.
    short = make_history(
        cape=[*range(1, 13), 6.5], pe=[None] * 10 + [20.0] * 3, price_to_cash_flow=[5.0] * 13
    )
    reading = run_valuation(short, **{"valuation.min_history": 12}).reading
    assert reading is not None and reading.value == 50.0
    assert "P/E vs P/CF not used (2 earlier values, needs 12)" in reading.explanation


def test_valuation_missing_data_is_not_evaluated() -> None:
    out = run_valuation(make_history(spx_close=[4000.0] * 5))
    assert out.status == "not evaluated"
    assert out.reason == "needs column 'cape' in History (absent or empty)"
    few = run_valuation(make_history(cape=[20.0 + i for i in range(50)]))
    assert few.status == "not evaluated"
    assert few.reason == "needs at least 120 CAPE values in History before the latest, found 49"


def test_valuation_explanation() -> None:
    history = make_history(cape=[*range(1, 13), 10.5])
    reading = run_valuation(history, **{"valuation.min_history": 12}).reading
    assert reading is not None
    assert reading.explanation == (
        "CAPE 10.5 on 2024-01-31 ranks at percentile 83.3 of 12 earlier values; "
        "P/E vs P/CF not used (no PE and Price To Cash Flow columns): "
        "percentile 83.3 is below the threshold 90"
    )


# --- macro --------------------------------------------------------------------------------------


def dated(**columns: Sequence[tuple[str, float]]) -> pd.DataFrame:
    """History rows at the given ISO dates, one column per keyword, blanks where a column has no
    value on a row's date."""
    frames = [
        pd.Series({pd.Timestamp(d): v for d, v in points}, name=name, dtype=float)
        for name, points in columns.items()
    ]
    frame = pd.concat(frames, axis=1, sort=True)
    frame.index.name = "date"
    return frame


def run_macro(history: pd.DataFrame, **settings: object) -> SignalOutcome:
    ctx = make_context(history=history, as_of=history.index[-1].date(), settings=settings)
    return evaluate_signal(MACRO, ctx)


def reer(last: float) -> list[tuple[str, float]]:
    return [("2024-01-01", 100.0), ("2024-01-15", 101.0), ("2024-01-31", last)]


def test_macro_reer_rise_and_the_boundary() -> None:
    # 2024-01-31 looks back 30 days to 2024-01-01 (100): 102.5 is +2.5%, 1.25x the 2% limit.
    out = run_macro(dated(reer=reer(102.5)))
    assert out.status == "triggered" and out.reading is not None
    assert out.reading.value == pytest.approx(0.025 / 0.02)
    assert out.reading.strength == pytest.approx(1.25 / 2)
    below = run_macro(dated(reer=reer(101.9))).reading  # +1.9%: 0.95x
    assert below is not None and not below.triggered
    assert below.value == pytest.approx(0.95) and below.strength == 0.0
    above = run_macro(dated(reer=reer(102.1))).reading  # +2.1%: 1.05x
    assert above is not None and above.triggered and above.strength == pytest.approx(1.05 / 2)
    # A 20-day look-back compares with 2024-01-01 still (the last value on or before 01-11).
    assert run_macro(dated(reer=reer(102.5)), **{"macro.window_days": 20}).reading == out.reading
    # A 16-day look-back compares with 2024-01-15 (101): 102.5 / 101 - 1 = 1.485%, 0.74x.
    near = run_macro(dated(reer=reer(102.5)), **{"macro.window_days": 16}).reading
    assert near is not None and near.value == pytest.approx((102.5 / 101 - 1) / 0.02)


def test_macro_look_back_is_exactly_the_window() -> None:
    # 2024-01-31 minus 30 days is 2024-01-01: that value (100) is the base, not 01-02's (102).
    points = [("2024-01-01", 100.0), ("2024-01-02", 102.0), ("2024-01-31", 102.5)]
    month = run_macro(dated(reer=points)).reading
    assert month is not None and month.value == pytest.approx(0.025 / 0.02)
    shorter = run_macro(dated(reer=points), **{"macro.window_days": 29}).reading
    assert shorter is not None and shorter.value == pytest.approx((102.5 / 102 - 1) / 0.02)


def test_macro_rate_differential_narrowing_and_both_parts() -> None:
    rates = [("2023-12-20", 2.0), ("2024-01-05", 1.9), ("2024-01-31", 1.7)]
    # Look back to 2024-01-01 -> last value on or before it is 2.0 (2023-12-20): narrowed 0.30,
    # 1.2x the 0.25-point limit.
    out = run_macro(dated(rate_differential=rates))
    assert out.status == "triggered" and out.reading is not None
    assert out.reading.value == pytest.approx(0.30 / 0.25)
    # With REER +1% (0.5x) beside it, the value is the larger score, 1.2.
    both = run_macro(dated(reer=reer(101.0), rate_differential=rates)).reading
    assert both is not None and both.value == pytest.approx(1.2)
    # A widening differential scores below zero and does not trigger.
    widening = [("2023-12-20", 1.5), ("2024-01-31", 1.7)]
    calm = run_macro(dated(rate_differential=widening)).reading
    assert calm is not None and calm.value == pytest.approx(-0.2 / 0.25) and not calm.triggered


def test_macro_missing_columns_are_not_evaluated() -> None:
    out = run_macro(dated(spx_close=[("2024-01-02", 4000.0), ("2024-01-31", 4100.0)]))
    assert out.status == "not evaluated"
    assert out.reason == (
        "needs column 'reer' (REER) or 'rate_differential' (Rate Differential) in History "
        "(absent or empty)"
    )
    short = run_macro(dated(reer=[("2024-01-20", 100.0), ("2024-01-31", 103.0)]))
    assert short.status == "not evaluated"
    assert short.reason == (
        "needs History values at least 30 days apart: REER not used (no value 30 days before "
        "its latest); rate differential not given"
    )


def test_macro_explanation() -> None:
    rates = [("2023-12-20", 2.0), ("2024-01-31", 1.7)]
    reading = run_macro(dated(reer=reer(102.5), rate_differential=rates)).reading
    assert reading is not None
    assert reading.explanation == (
        "REER 100 -> 102.5 (2024-01-01 -> 2024-01-31): +2.50% against a 2.00% limit; "
        "rate differential 2 -> 1.7 (2023-12-20 -> 2024-01-31): narrowed +0.30 points against "
        "a 0.25-point limit: score 1.25 (move / limit; triggers above 1)"
    )
    alone = run_macro(dated(reer=reer(101.0))).reading
    assert alone is not None and alone.explanation.endswith(
        "+1.00% against a 2.00% limit; rate differential not given: "
        "score 0.50 (move / limit; triggers above 1)"
    )


# --- book signals: a constructed book -----------------------------------------------------------


def condor(group: str, expiry: dt.date, lots: int, entries: Sequence[float]) -> list[dict]:
    """Short put 3800, long put 3750, short call 4200, long call 4250 (50 wide each side)."""
    spec = (("Put", 3800, -1, 0.20), ("Put", 3750, 1, 0.21), ("Call", 4200, -1, 0.15))
    spec += (("Call", 4250, 1, 0.14),)
    return [
        leg(group, "SPX", t, k, sign * lots, expiry=expiry, entry_price=p, iv=v)
        for (t, k, sign, v), p in zip(spec, entries, strict=True)
    ]


# Condor A: 1 lot, 73 days, credit 5 - 3 + 4 - 2 = 4.00 -> $400; max loss 50 x 100 - 400 = $4,600.
A = condor("IC-A", AS_OF + dt.timedelta(days=73), 1, (5.0, 3.0, 4.0, 2.0))
# Condor B: 2 lots, 365 days, credit 14 - 9 + 12 - 7 = 10.00 -> $2,000; max loss 2 x 5,000 - 2,000.
B = condor("IC-B", AS_OF + dt.timedelta(days=365), 2, (14.0, 9.0, 12.0, 7.0))


def run_book(signal: Signal, legs: list[dict], **settings: object) -> SignalOutcome:
    risk = make_risk(legs, as_of=AS_OF)
    return evaluate_signal(signal, make_context([4000.0], risk=risk, settings=settings))


# --- second_engine --------------------------------------------------------------------------------


def test_second_engine_annualizes_each_condor_by_its_days() -> None:
    # A alone: 400 x 365 / 73 = 2,000 a year on 4,600 -> 0.43478, below 0.50.
    a_only = 400 * 365 / 73 / 4600
    out = run_book(SECOND, A)
    assert out.status == "triggered" and out.reading is not None
    assert out.reading.value == pytest.approx(a_only)
    assert out.reading.strength == pytest.approx((0.5 - a_only) / 0.5)
    # A and B: (2,000 + 2,000 x 365 / 365) / (4,600 + 8,000) = 4,000 / 12,600 = 0.31746.
    both = run_book(SECOND, [*A, *B]).reading
    assert both is not None and both.value == pytest.approx(4000 / 12600)
    # The boundary: a minimum just below the value does not trigger, just above does.
    assert run_book(SECOND, A, **{"second_engine.min_return": 0.4347}).status == "not triggered"
    assert run_book(SECOND, A, **{"second_engine.min_return": 0.4348}).status == "triggered"


def test_second_engine_without_condors_is_not_evaluated() -> None:
    hedge_only = [leg("H1", "VIX", "Call", 20, 10, expiry=AS_OF + dt.timedelta(days=45))]
    out = run_book(SECOND, hedge_only)
    assert out.status == "not evaluated"
    assert out.reason == "needs at least one iron condor in the Positions sheet"
    no_risk = evaluate_signal(SECOND, make_context([4000.0], as_of=AS_OF))
    assert no_risk.status == "not evaluated" and no_risk.reason == out.reason


def test_second_engine_explanation() -> None:
    reading = run_book(SECOND, [*A, *B]).reading
    assert reading is not None
    # 2,400 credit on 12,600 max loss = 19.0%; 4,000 / 12,600 = 31.7% a year.
    assert reading.explanation == (
        "2 condor(s) (IC-A 73 d, IC-B 365 d): credit $2,400 on max loss $12,600 (19.0%), "
        "31.7% a year annualized by each condor's days to expiry: below the 50% minimum"
    )


# --- book_beta ------------------------------------------------------------------------------------


def bsm_delta(spot: float, strike: float, t: float, rate: float, vol: float, call: bool) -> float:
    """Textbook Black-Scholes delta without dividends (Hull ch. 19) as an independent reference."""
    d1 = (math.log(spot / strike) + (rate + vol * vol / 2) * t) / (vol * math.sqrt(t))
    n = 0.5 * (1.0 + math.erf(d1 / math.sqrt(2.0)))
    return n if call else n - 1.0


def condor_dollar_delta() -> float:
    """Condor A's $delta per SPX point at SPX 4000, 73 days (T = 0.2), rate 4% (make_risk's)."""
    legs = ((3800, -1, 0.20, False), (3750, 1, 0.21, False), (4200, -1, 0.15, True))
    legs += ((4250, 1, 0.14, True),)
    return sum(q * 100 * bsm_delta(4000, k, 0.2, 0.04, v, c) for k, q, v, c in legs)


FUTURE = leg("H1", "VIX", "Future", 17, 1, expiry=AS_OF + dt.timedelta(days=30))
VXX = leg("H2", "VXX", "Share", 0, 100, mark=20.0)


#: VIX points per 1% SPX: VIX 16 is in the 15-25 regime, beta -0.09218 per log point, so a 1%
#: SPX move comes with 0.01 / (-0.09218 / 16) VIX points.
VIX_PER_SPX_PCT = 0.01 / (by_hand.BETA_MID / 16)


def hedges_per_vix_point() -> float:
    # The future: 1,000 x 1 x its curve slope at 30 days; VXX: its P&L when VIX rises 1 point,
    # 100 shares x $20 x leverage 1 x the 30-day future's move / 17 (the 30-day future of
    # make_risk's curve, VIX 16 + 1).
    etp_move = by_hand.curve_model(17.0, 30) - by_hand.curve_model(16.0, 30)
    return 1000 * by_hand.curve_slope(30, 16.0) + 100 * 20 * 1.0 * etp_move / 17


def expected_beta() -> float:
    hedges = hedges_per_vix_point()
    return (condor_dollar_delta() * 4000 + hedges * VIX_PER_SPX_PCT * 100) / 4600


def test_book_beta_pieces_and_the_boundary() -> None:
    beta = expected_beta()
    out = run_book(BETA, [*A, FUTURE, VXX])
    assert out.reading is not None
    assert out.reading.value == pytest.approx(beta, rel=1e-9)
    assert out.status == "triggered"  # |beta| ~ 22.9, far beyond 3
    assert out.reading.strength == 1.0
    tolerance = abs(beta)
    assert run_book(
        BETA, [*A, FUTURE, VXX], **{"book_beta.tolerance": tolerance * 1.001}
    ).status == ("not triggered")
    inside = run_book(BETA, [*A, FUTURE, VXX], **{"book_beta.tolerance": tolerance * 0.999})
    assert inside.status == "triggered" and inside.reading is not None
    assert inside.reading.strength == pytest.approx(0.001 / 0.999, rel=1e-6)
    # The condor alone: only the SPX legs' $delta.
    alone = run_book(BETA, A).reading
    assert alone is not None
    assert alone.value == pytest.approx(condor_dollar_delta() * 4000 / 4600, rel=1e-9)


def test_book_beta_hedges_count_nothing_when_the_stress_model_moves_no_spx() -> None:
    # k = 0 in the report's stress model: SPX never moves with VIX, so the hedges add nothing.
    settings = {"scenario.spx_rule": "points", "scenario.spx_pct_per_vix_point": 0.0}
    risk = make_risk([*A, FUTURE], as_of=AS_OF, settings=settings)
    zero = evaluate_signal(BETA, make_context([4000.0], risk=risk)).reading
    assert zero is not None
    assert zero.value == pytest.approx(condor_dollar_delta() * 4000 / 4600, rel=1e-9)


def test_book_beta_without_condors_is_not_evaluated() -> None:
    out = run_book(BETA, [FUTURE])
    assert out.status == "not evaluated"
    assert out.reason == "needs at least one iron condor in the Positions sheet"


def test_book_beta_explanation() -> None:
    reading = run_book(BETA, [*A, FUTURE, VXX]).reading
    assert reading is not None
    delta = condor_dollar_delta()
    hedges = hedges_per_vix_point()
    beta = expected_beta()
    assert reading.explanation == (
        f"beta {beta:+.2f}: SPX legs -${abs(delta):,.2f}/pt x SPX 4000 = "
        f"-${abs(delta * 4000 / 100):,.0f} per 1% SPX; VIX hedges +${hedges:,.2f}/VIX pt x "
        f"{VIX_PER_SPX_PCT:.3f} VIX pts per 1% SPX = -${hedges * -VIX_PER_SPX_PCT:,.0f}; over "
        "capital at risk $4,600 "
        f"(condor max loss): |beta| {abs(beta):.2f} is above the tolerance 3"
    )
    assert delta < 0 and f"{VIX_PER_SPX_PCT:.3f}" == "-1.736"
