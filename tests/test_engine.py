"""Figures the engine writes, traced back to hand-worked values and the reference pricer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pandas as pd
import pytest
import stress_by_hand as by_hand
import talib
from book_helpers import AS_OF, CURVE, hand_condor, positions
from reference_pricing import black76_price, bsm_price

from rules_engine.engine import recompute
from rules_engine.expiries import next_vix_expiries
from rules_engine.host import load_plugins
from rules_engine.models import Inputs, SettingCell

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
    # VIX +6: SPX by the regime rule, IVs +0.054 plus the downside skew term (see test_risk for
    # the arithmetic); History has no VIX closes, so the curve model takes the long-run mean
    s1 = by_hand.spx_after(4000.0, 16.0, 22.0)
    skew = {k: max(math.log(s1 / k), 0.0) * 0.06 for k in (3700, 3800)}
    stressed = sum(
        q * 100 * bsm_price(s1, k, T30, 0.05, 0.0, iv + 0.054 + skew.get(k, 0.0), c)
        for k, c, iv, q in legs
    )
    assert row["P&L VIX +6 ($)"] == pytest.approx(stressed - value, rel=1e-9)
    spikes = outputs.risk_scenarios
    scen = spikes[spikes["Horizon"] == "today"].set_index("Scenario").loc["VIX +6"]
    assert scen["Book P&L Unhedged ($)"] == pytest.approx(stressed - value, rel=1e-9)
    assert scen["SPX"] == pytest.approx(s1) and scen["SPX Move"] == pytest.approx(s1 / 4000 - 1)


def test_rsi_reading_is_talibs_value_and_the_documented_strength(run):
    outputs, closes = run
    sig = outputs.signals.set_index("Signal").loc["rsi"]
    expected = float(talib.RSI(pd.Series(closes).to_numpy(), 14)[-1])
    assert sig["Value"] == pytest.approx(expected, rel=1e-12)
    assert sig["Triggered"] == (expected > 70)
    strength = (expected - 70) / 30 if expected > 70 else 0.0
    assert sig["Strength (0-1)"] == pytest.approx(strength, rel=1e-12)


def test_the_hedge_row_and_the_budget_by_hand():
    base = inputs([4000.0 + 5 * math.sin(i / 3) + i for i in range(60)])
    roomy = {"hedge.premium_budget": SettingCell(1.0, "B9")}
    outputs = recompute(
        dataclasses.replace(base, settings=roomy), load_plugins(use_entry_points=False)
    )
    assert outputs.ok, outputs.issues
    first = outputs.hedge.iloc[0]
    assert (first["Status"], first["Instrument"]) == ("ACTIVE", "VIX Feb 2024 24 call")
    days = (first["Expiry"] - AS_OF).days
    f = dict(zip(CURVE.expiries, CURVE.prices, strict=True))[first["Expiry"]]
    # no VIX Options sheet: the call is valued at the VIX option surface's vol (VVIX 90) and
    # bought at that mid plus the modelled half-spread (5% of mid, at least the $0.01 tick below
    # $3), rounded up to the tick
    vol = by_hand.surface(days, 24.0, f, 16.0, vvix=90.0, vix_today=16.0)
    today = black76_price(f, 24.0, days / 365, 0.05, vol, True)
    ask = by_hand.ask(today)
    assert first["Price (VIX pts)"] == pytest.approx(ask, abs=1e-9)
    assert first["Cost ($)"] == pytest.approx(first["Contracts"] * 100 * ask, abs=1e-9)
    stated = 0.40 + 0.20 * outputs_composite(first)  # the composite is shown to 2 decimals
    assert first["Target Share (VIX +6)"] == pytest.approx(stated, abs=0.2 * 0.005)
    total = outputs.hedge.iloc[-1]
    assert total["Layer"] == "All ACTIVE" and total["Cost ($)"] == pytest.approx(first["Cost ($)"])
    budget = dict(outputs.hedge_budget.itertuples(index=False))
    assert budget["Premium the SPX book took in ($)"] == pytest.approx(1480.0)
    assert budget["Premium budget, 100% of it ($)"] == pytest.approx(1480.0)
    assert budget["Left ($)"] == pytest.approx(1480.0 - first["Cost ($)"])


def outputs_composite(row) -> float:
    """The composite the base layer's trigger states (the composite itself is tested in
    tests/test_sizer.py)."""
    return float(row["Trigger"].split("x composite ")[1].split()[0])


def test_without_live_futures_the_curve_is_modelled_from_spot_and_the_past_years_mean():
    closes = [4000.0 + i for i in range(300)]
    base = inputs(closes)
    vix_closes = [12.0 + 8.0 * (i % 2) for i in range(300)]  # the last 252 average 16
    history = base.history.assign(vix_close=vix_closes)
    expired = base.vix_futures[base.vix_futures["expiry"] <= AS_OF]
    outputs = recompute(
        dataclasses.replace(base, history=history, vix_futures=expired),
        load_plugins(use_entry_points=False),
    )
    assert outputs.ok, outputs.issues
    (warning,) = [i for i in outputs.issues if i.sheet == "VIX Futures"]
    assert warning.severity == "warning" and "modelled from spot VIX 16" in warning.message
    assert "mean 16.00" in warning.message
    # the hedge layer's call is priced on the modelled future of its expiry
    first = outputs.hedge.iloc[0]
    days = (first["Expiry"] - AS_OF).days
    future = by_hand.curve_model(16.0, days, mean=16.0)
    assert first["Expiry"] in next_vix_expiries(AS_OF, 8)
    assert str(round(future, 2)) in first["Why"]


def test_recomputes_whose_inputs_wobble_inside_the_band_change_no_layer():
    from pathlib import Path

    from rules_engine.engine import RunOptions
    from rules_engine.workbook.reader import read_workbook

    example = read_workbook(Path(__file__).parents[1] / "workbooks" / "example.xlsx").inputs
    host = load_plugins(use_entry_points=False)
    start = dt.datetime(2018, 1, 26, 21, 0, tzinfo=dt.UTC)
    first = recompute(example, host, RunOptions(now=start))
    plan = [(x["Layer"], x["Status"], x["Contracts"]) for _, x in first.hedge.iloc[:-1].iterrows()]
    log = first.log
    for i, (vix, spx) in enumerate(((11.12, 2871.0), (11.05, 2874.5), (11.10, 2872.0)), start=1):
        market = dict(example.market, vix=vix, spx=spx)
        moved = dataclasses.replace(example, market=market, log=log)
        out = recompute(moved, host, RunOptions(now=start + dt.timedelta(minutes=i)))
        assert [
            (x["Layer"], x["Status"], x["Contracts"]) for _, x in out.hedge.iloc[:-1].iterrows()
        ] == plan
        assert dict(out.run_info)["Layer Changes Since the Last Recompute"] == 0
        assert len(out.log) == len(log) + len(plan)  # one Log row per layer per recompute
        log = out.log


def test_a_budget_cut_in_a_drawdown_keeps_the_active_hedge():
    """The example's condors are under water (open P&L < 0). Cutting the premium budget to 10%
    would shrink layer 1 to what $1,109 buys; the steward keeps last run's contracts because the
    book is in drawdown and layer 1's trigger still fires. With the rule off, the cut goes
    through."""
    from pathlib import Path

    from rules_engine.engine import RunOptions
    from rules_engine.workbook.reader import read_workbook

    example = read_workbook(Path(__file__).parents[1] / "workbooks" / "example.xlsx").inputs
    host = load_plugins(use_entry_points=False)
    start = dt.datetime(2018, 1, 26, 21, 0, tzinfo=dt.UTC)
    first = recompute(example, host, RunOptions(now=start))
    held = first.hedge.iloc[0]
    assert held["Status"] == "ACTIVE"

    def again(**settings: object) -> pd.Series:
        cells = {k.replace("__", "."): SettingCell(v, "B99") for k, v in settings.items()}
        cut = dataclasses.replace(example, settings={**example.settings, **cells}, log=first.log)
        return recompute(cut, host, RunOptions(now=start + dt.timedelta(minutes=5))).hedge.iloc[0]

    kept = again(hedge__premium_budget=0.1)
    assert (kept["Status"], kept["Contracts"]) == ("ACTIVE", held["Contracts"])
    assert kept["Why"].startswith(
        f"Steward: kept ACTIVE at the last recompute's {held['Contracts']} contracts"
    )
    assert (
        "because the condor book is in drawdown and its trigger `True` still fires" in kept["Why"]
    )
    cut = again(hedge__premium_budget=0.1, steward__hold_in_drawdown=False)
    assert cut["Status"] == "ACTIVE" and cut["Contracts"] < held["Contracts"]
    credit = first.hedge_budget.set_index("Budget").iloc[0]["Amount ($)"]
    assert cut["Cost ($)"] <= 0.1 * credit  # within the cut budget
