"""The Risk sheet's scenario tables and book totals against hand-worked values: the SPX x VIX grid
(hedged = unhedged + hedges in every cell), a grid cell worked through by hand, the historical
analogs read from the shipped closes, and the structure totals."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
import stress_by_hand as by_hand
from book_helpers import AS_OF, CURVE, hand_condor, leg, positions
from reference_pricing import black76_price, bsm_price

from rules_engine.engine import recompute
from rules_engine.host import load_plugins
from rules_engine.models import Inputs, Outputs

DATA = Path(__file__).resolve().parent.parent / "rules_engine" / "example_data"
T30 = 30 / 365
FEB = CURVE.expiries[1]  # 2024-02-14: 43 days, future 17.5
#: The condor's legs: (strike, call, iv, qty).
CONDOR = ((3700, False, 0.24, 2), (3800, False, 0.21, -2), (4200, True, 0.14, -2))
CONDOR += ((4300, True, 0.13, 2),)


def inputs() -> Inputs:
    closes = [4000.0 + 5 * math.sin(i / 3) + i for i in range(60)]
    history = pd.DataFrame(
        {"spx_close": closes, "row": range(2, 2 + len(closes))},
        index=pd.bdate_range(end=pd.Timestamp(AS_OF), periods=len(closes), name="date"),
    )
    futures = pd.DataFrame({"expiry": list(CURVE.expiries), "price": list(CURVE.prices)})
    futures["row"] = range(2, 2 + len(futures))
    held = leg("H", "VIX", "CALL", 22.0, 2, expiry=FEB, iv=0.85, entry_price=0.60)
    return Inputs(
        positions=positions(*hand_condor(qty=2), held),
        market={"as_of": AS_OF, "spx": 4000.0, "vix": 16.0, "vvix": 90.0, "rate": 0.05},
        vix_futures=futures,
        history=history,
        calendar=pd.DataFrame(columns=["date", "event", "note", "row"]),
        settings={},
        columns={"Positions": {"strike": "E", "iv": "I", "entry_price": "H"}},
    )


@pytest.fixture(scope="module")
def outputs() -> Outputs:
    result = recompute(inputs(), load_plugins(use_entry_points=False))
    assert result.ok, result.issues
    return result


def grids(outputs: Outputs) -> dict[str, pd.DataFrame]:
    return {title: frame for title, frame in outputs.risk_tables if "Scenario grid" in title}


def condor_pnl(vix_points: float, spx_move: float) -> float:
    """The hand condor's P&L (2 lots) when VIX moves and SPX moves as given, at once: every IV
    up 0.9 x the VIX move (30-day tenor factor 1), strikes below the new SPX level 0.1 vol
    points more per VIX point per 10% below it."""
    s1 = 4000.0 * (1 + spx_move)
    n = vix_points / 100
    total = 0.0
    for k, call, iv, q in CONDOR:
        iv1 = max(iv + n * 0.9 + n * 0.1 * max(math.log(s1 / k), 0.0) / 0.10, 1e-4)
        total += (
            q
            * 100
            * (
                bsm_price(s1, k, T30, 0.05, 0.0, iv1, call)
                - bsm_price(4000, k, T30, 0.05, 0.0, iv, call)
            )
        )
    return total


def vix_call_exit(
    strike: float, expiry: dt.date, vol: float, vix_points: float
) -> tuple[float, float]:
    """(today's model value, exit value) per unit of a VIX call in a spike of `vix_points`:
    Black-76 on the future moved by the curve model, vol moved by the surface, sold at the bid
    with the spread widened 2x."""
    days = (expiry - AS_OF).days
    f0 = dict(zip(CURVE.expiries, CURVE.prices, strict=True))[expiry]
    vix1 = 16.0 + vix_points
    f1 = f0 + by_hand.curve_model(vix1, days) - by_hand.curve_model(16.0, days)

    def surface(f: float, vix: float) -> float:
        return by_hand.surface(days, strike, f, vix, vvix=90.0, vix_today=16.0)

    vol1 = vol + surface(f1, vix1) - surface(f0, 16.0)
    t = days / 365
    mid0 = black76_price(f0, strike, t, 0.05, vol, True)
    mid1 = black76_price(f1, strike, t, 0.05, vol1, True)
    return mid0, by_hand.bid(mid1, 2.0 if vix_points > 0 else 1.0)


def test_every_grid_cell_is_unhedged_plus_hedges(outputs: Outputs) -> None:
    found = grids(outputs)
    horizons = ("today", "T+7", "T+30 (condor expiry 2024-02-01)")
    assert len(found) == 3 * len(horizons)
    for when in horizons:
        book = found[f"Scenario grid, {when}: condor book P&L unhedged ($)"]
        hedges = found[f"Scenario grid, {when}: hedges' P&L, existing and active layers ($)"]
        net = found[f"Scenario grid, {when}: net P&L, book + hedges ($)"]
        assert list(book["VIX Change (pts)"]) == [-5, 0, 5, 10, 15, 20, 25, 30]
        spx = [c for c in book.columns if c.startswith("SPX ")]
        assert spx == [f"SPX {m:+g}% ($)" for m in (-20, -15, -10, -5, -2.5, 0, 2.5, 5)]
        for column in spx:
            assert (net[column] == book[column] + hedges[column]).all(), (when, column)


def test_a_grid_cell_by_hand(outputs: Outputs) -> None:
    found = grids(outputs)
    book = found["Scenario grid, today: condor book P&L unhedged ($)"].set_index("VIX Change (pts)")
    hedges = found["Scenario grid, today: hedges' P&L, existing and active layers ($)"]
    hedges = hedges.set_index("VIX Change (pts)")
    # VIX +10 with SPX -5%, and the vol crush VIX -5 with SPX +2.5%
    assert book.loc[10, "SPX -5% ($)"] == pytest.approx(condor_pnl(10, -0.05), rel=1e-9)
    assert book.loc[-5, "SPX +2.5% ($)"] == pytest.approx(condor_pnl(-5, 0.025), rel=1e-9)
    # the held 2 Feb 22 calls at IV 0.85, closed at the widened bid against today's model value;
    # the active layer bought at its shown price and closed the same way
    model, held_exit = vix_call_exit(22.0, FEB, 0.85, 10)
    expected = 2 * 100 * (held_exit - model)
    active = outputs.hedge[outputs.hedge["Status"] == "ACTIVE"].to_dict("records")
    assert active
    for layer in active:
        expiry, strike = layer["Expiry"], layer["Strike"]
        days = (expiry - AS_OF).days
        f0 = dict(zip(CURVE.expiries, CURVE.prices, strict=True))[expiry]
        vol = by_hand.surface(days, strike, f0, 16.0, vvix=90.0, vix_today=16.0)
        _, layer_exit = vix_call_exit(strike, expiry, vol, 10)
        expected += layer["Contracts"] * 100 * (layer_exit - layer["Price (VIX pts)"])
    assert hedges.loc[10, "SPX -5% ($)"] == pytest.approx(expected, rel=1e-9)
    assert hedges.loc[10, "SPX -5% ($)"] == hedges.loc[10, "SPX +5% ($)"]  # VIX legs ignore SPX


def closes(name: str, date_column: str, value_column: str) -> dict[dt.date, float]:
    with (DATA / name).open(newline="") as handle:
        return {
            dt.date.fromisoformat(row[date_column]): float(row[value_column])
            for row in csv.DictReader(handle)
            if row[value_column].strip() not in ("", ".")
        }


def test_analogs_replay_the_shipped_closes_on_todays_book(outputs: Outputs) -> None:
    (analogs,) = [frame for title, frame in outputs.risk_tables if "analogs" in title]
    spx = closes("spx_daily_close.csv", "observation_date", "SP500")
    vix = closes("vix_daily.csv", "DATE", "CLOSE")
    expected_ends = [
        dt.date(2018, 2, 5),
        dt.date(2018, 12, 24),
        dt.date(2020, 3, 16),
        dt.date(2024, 8, 5),
        dt.date(2025, 4, 8),
    ]
    assert list(analogs["End"]) == expected_ends
    for row in analogs.to_dict("records"):
        spx_move = spx[row["End"]] / spx[row["Start"]] - 1
        vix_points = vix[row["End"]] - vix[row["Start"]]
        assert row["SPX Move"] == pytest.approx(spx_move, rel=1e-12)
        assert row["VIX Change (pts)"] == pytest.approx(vix_points, rel=1e-12)
        book = row["Book Unhedged ($)"]
        assert book == pytest.approx(condor_pnl(vix_points, spx_move), rel=1e-9)
        assert book < 0  # every real spike hurts the short condor


def test_structure_totals_carry_credit_and_max_loss(outputs: Outputs) -> None:
    frame = outputs.risk_structures.set_index("Group")
    spx = frame.loc["All SPX legs"]
    assert (spx["Credit ($)"], spx["Max Loss ($)"]) == pytest.approx((1480.0, 18520.0))
    whole = frame.loc["Whole book"]
    parts = frame.loc[["All SPX legs", "All VIX hedges"]]
    assert whole["Value ($)"] == pytest.approx(parts["Value ($)"].sum())
    assert whole["P&L VIX +6 ($)"] == pytest.approx(parts["P&L VIX +6 ($)"].sum())
    assert math.isnan(whole["$Delta (per pt)"])  # SPX and VIX points do not add up


def test_condor_table_by_hand(outputs: Outputs) -> None:
    (table,) = [frame for title, frame in outputs.risk_book if title.startswith("Condors")]
    row = table.set_index("Group").loc["IC1"]
    t = 30 / 365

    def below(strike: float, iv: float) -> float:  # N(-d2), lognormal, r 5%, q 0
        d2 = (math.log(4000 / strike) + (0.05 - iv * iv / 2) * t) / (iv * math.sqrt(t))
        return 0.5 * (1 + math.erf(-d2 / math.sqrt(2)))

    assert row["P(Below Short Put) (%)"] == pytest.approx(below(3800, 0.21), rel=1e-9)
    assert row["P(Above Short Call) (%)"] == pytest.approx(1 - below(4200, 0.14), rel=1e-9)
    # ATM IV: 0.21 at 3800 and 0.14 at 4200, linear in strike at SPX 4000
    assert row["ATM IV"] == pytest.approx(0.175)
    assert row["Expected Move (SPX pts)"] == pytest.approx(4000 * 0.175 * math.sqrt(t))
    assert (row["Credit ($)"], row["Max Loss ($)"]) == pytest.approx((1480.0, 18520.0))
    assert row["Annualized (%)"] == pytest.approx(1480 / 18520 * 365 / 30)
    assert table["Group"].iloc[-1] == "All condors"


def hedges_by_hand(outputs: Outputs, vix_points: float) -> float:
    """The held 2 Feb 22 calls (against today's model value) and the active layers (against the
    price paid), closed at the bid in a VIX move of `vix_points` (today; SPX plays no part)."""
    model, held_exit = vix_call_exit(22.0, FEB, 0.85, vix_points)
    total = 2 * 100 * (held_exit - model)
    for layer in outputs.hedge[outputs.hedge["Status"] == "ACTIVE"].to_dict("records"):
        expiry, strike = layer["Expiry"], layer["Strike"]
        f0 = dict(zip(CURVE.expiries, CURVE.prices, strict=True))[expiry]
        days = (expiry - AS_OF).days
        vol = by_hand.surface(days, strike, f0, 16.0, vvix=90.0, vix_today=16.0)
        _, layer_exit = vix_call_exit(strike, expiry, vol, vix_points)
        total += layer["Contracts"] * 100 * (layer_exit - layer["Price (VIX pts)"])
    return total


def test_the_chart_curves_by_hand(outputs: Outputs) -> None:
    """The Hedge chart at VIX +5 today (SPX moving with VIX: 16 -> 21 inside the 15-25 regime)
    and the Risk chart at SPX -5% today, VIX unchanged."""
    vix = outputs.pnl_by_vix.set_index("VIX Change (pts)")
    move = by_hand.spx_after(4000.0, 16.0, 21.0) / 4000.0 - 1.0
    assert vix.loc[5.0, "SPX Move"] == pytest.approx(move, rel=1e-12)
    unhedged = condor_pnl(5, move)
    assert vix.loc[5.0, "Unhedged ($)"] == pytest.approx(unhedged, rel=1e-9)
    model, held_exit = vix_call_exit(22.0, FEB, 0.85, 5)
    with_held = unhedged + 2 * 100 * (held_exit - model)
    assert vix.loc[5.0, "With Existing Hedges ($)"] == pytest.approx(with_held, rel=1e-9)
    with_all = unhedged + hedges_by_hand(outputs, 5)
    assert vix.loc[5.0, "With Recommended Layers ($)"] == pytest.approx(with_all, rel=1e-9)
    assert list(vix.index) == sorted(vix.index) and 0.0 in vix.index
    spx = outputs.pnl_by_spx.set_index("SPX Move")
    assert spx.loc[-0.05, "SPX"] == pytest.approx(3800.0)
    expected = condor_pnl(0, -0.05) + hedges_by_hand(outputs, 0)
    assert spx.loc[-0.05, "today ($)"] == pytest.approx(expected, rel=1e-9)
    assert list(spx.columns) == [
        "SPX",
        "today ($)",
        "T+7 ($)",
        "T+30 (condor expiry 2024-02-01) ($)",
    ]
