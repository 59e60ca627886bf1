"""Figures the engine writes, traced back to hand-worked values and the reference pricer."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import talib
from book_helpers import AS_OF, CURVE, hand_condor, positions
from reference_pricing import black76_price, bsm_price

from rules_engine.engine import recompute
from rules_engine.host import load_plugins
from rules_engine.models import Inputs

T30 = 30 / 365


def inputs(closes):
    history = pd.DataFrame(
        {"spx_close": closes, "row": range(2, 2 + len(closes))},
        index=pd.bdate_range(end=pd.Timestamp(AS_OF), periods=len(closes), name="date"),
    )
    futures = pd.DataFrame({"expiry": list(CURVE.expiries), "price": list(CURVE.prices)})
    futures["row"] = range(2, 2 + len(futures))
    return Inputs(
        positions=positions(*hand_condor(qty=2)),
        market={"as_of": AS_OF, "spx": 4000.0, "vix": 16.0, "vvix": 90.0, "rate": 0.05},
        vix_futures=futures,
        history=history,
        calendar=pd.DataFrame(columns=["date", "event", "note", "row"]),
        settings={},
        columns={"Positions": {"strike": "E", "iv": "I"}},
    )


@pytest.fixture(scope="module")
def run():
    closes = [4000.0 + 5 * math.sin(i / 3) + i for i in range(60)]
    return recompute(inputs(closes), load_plugins(use_entry_points=False)), closes


def test_structure_row_carries_the_hand_worked_condor(run):
    outputs, _ = run
    assert outputs.ok, outputs.issues
    row = outputs.risk_structures.set_index("Group").loc["IC1"]
    assert row["Credit ($)"] == pytest.approx(1480.0)
    assert row["Max Loss ($)"] == pytest.approx(18520.0)
    assert (row["Break-even Low (SPX)"], row["Break-even High (SPX)"]) == pytest.approx(
        (3792.60, 4207.40)
    )
    legs = [(3700, False, 0.24, 2), (3800, False, 0.21, -2), (4200, True, 0.14, -2)]
    legs.append((4300, True, 0.13, 2))
    value = sum(q * 100 * bsm_price(4000, k, T30, 0.05, 0.0, iv, c) for k, c, iv, q in legs)
    assert row["Value ($)"] == pytest.approx(value, rel=1e-10)
    # VIX +6: SPX 3850, IVs +0.054 plus the downside skew term (see test_risk for the arithmetic)
    skew = {3700: math.log(3850 / 3700) * 0.06, 3800: math.log(3850 / 3800) * 0.06}
    stressed = sum(
        q * 100 * bsm_price(3850, k, T30, 0.05, 0.0, iv + 0.054 + skew.get(k, 0.0), c)
        for k, c, iv, q in legs
    )
    assert row["P&L VIX +6 ($)"] == pytest.approx(stressed - value, rel=1e-9)
    scen = outputs.risk_scenarios.set_index("Scenario").loc["VIX +6"]
    assert scen["Book P&L Unhedged ($)"] == pytest.approx(stressed - value, rel=1e-9)
    assert scen["SPX"] == pytest.approx(3850.0) and scen["SPX Move"] == pytest.approx(-0.0375)


def test_rsi_reading_is_talibs_value_and_the_documented_strength(run):
    outputs, closes = run
    sig = outputs.signals.set_index("Signal").loc["rsi"]
    expected = float(talib.RSI(pd.Series(closes).to_numpy(), 14)[-1])
    assert sig["Value"] == pytest.approx(expected, rel=1e-12)
    assert sig["Triggered"] == (expected > 70)
    strength = (expected - 70) / 30 if expected > 70 else 0.0
    assert sig["Strength (0-1)"] == pytest.approx(strength, rel=1e-12)


def test_hedge_carry_per_day_is_the_calls_one_day_decay(run):
    outputs, _ = run
    first = outputs.hedge.iloc[0]
    days = (first["Expiry"] - AS_OF).days
    f = dict(zip(CURVE.expiries, CURVE.prices, strict=True))[first["Expiry"]]
    today = black76_price(f, first["Strike"], days / 365, 0.05, 0.90, True)
    tomorrow = black76_price(f, first["Strike"], (days - 1) / 365, 0.05, 0.90, True)
    decay = first["Contracts"] * 100 * (tomorrow - today)
    assert first["Price (VIX pts)"] == pytest.approx(today, rel=1e-10)
    assert first["Carry/Day ($)"] == pytest.approx(decay, rel=2e-2)
    assert first["Cost ($)"] == pytest.approx(first["Contracts"] * 100 * today, rel=1e-10)
