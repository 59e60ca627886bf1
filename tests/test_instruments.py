"""Hedge instruments: priced now at the ask, valued in a scenario at the widened bid.

The stressed future, vol and ETP growth come from the RiskReport (the stress model's business);
each test prices the instrument from them with the reference pricer and works the liquidity
haircut out by hand.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_pricing import black76_price

from rules_engine.models import HedgeLayer
from rules_engine.risk.instruments import (
    Etp,
    VixCall,
    VixCallSpread,
    VixFuture,
    etp_prices,
    hedge_candidates,
    held_hedges,
    held_hedges_pnl,
    layer_pnl,
    listed_strike,
)
from rules_engine.risk.market import Scenario
from rules_engine.risk.report import RiskReport
from rules_engine.testing import leg, make_risk

AS_OF = dt.date(2024, 1, 31)
SPIKE = Scenario(6.0)


@functools.cache
def book() -> RiskReport:
    """A small condor-like book at VIX 16; futures 30..180 days out at 17.0, 17.5, ... 19.5."""
    return make_risk([leg("IC", "SPX", "Put", 3800, -1, iv=0.21)], as_of=AS_OF, vix=16.0)


def expiry(k: int) -> dt.date:
    """The k-th listed VIX expiry of `book()` (0 = the nearest, 30 days out)."""
    return book().futures_curve[k][0]


def option_tick(price: float) -> float:
    """Cboe's VIX option tick since 2022-10-03: 0.01 under $3, 0.05 from $3 on."""
    return 0.01 if price < 3.0 else 0.05


def down(price: float, tick: float) -> float:
    return math.floor(price / tick + 1e-9) * tick


def up(price: float, tick: float) -> float:
    return math.ceil(price / tick - 1e-9) * tick


def test_the_curve_is_the_one_the_tests_assume() -> None:
    assert book().futures_curve[0] == (AS_OF + dt.timedelta(days=30), 17.0)
    assert book().futures_curve[1] == (AS_OF + dt.timedelta(days=60), 17.5)


def test_a_vix_calls_stressed_value_is_black76_at_the_bumped_future_and_vol() -> None:
    risk, when, strike = book(), expiry(1), 20.0
    years = (when - AS_OF).days / 365.0
    future0, future1 = risk.vix_future(when), risk.vix_future(when, SPIKE)
    vol0 = risk.vix_option_vol(when, strike)
    vol1 = risk.vix_option(when, strike, scenario=SPIKE).vol
    assert future0 == 17.5
    assert future1 > future0 and vol1 != vol0  # the spike moves both
    call = VixCall(when, strike)
    mid1 = black76_price(future1, strike, years, risk.rate, vol1, True)
    assert call.mid(risk, SPIKE) == pytest.approx(mid1, rel=1e-10)
    # Exit at the bid, the 5%-of-mid half-spread (at least a tick) widened 2x, rounded down.
    bid = mid1 - 2.0 * max(0.05 * mid1, option_tick(mid1))
    exit1 = down(bid, option_tick(bid))
    assert call.value(risk, SPIKE) == pytest.approx(exit1, abs=1e-9)
    # Entry today: the model mid plus the half-spread, rounded up to the tick.
    mid0 = black76_price(future0, strike, years, risk.rate, vol0, True)
    ask = mid0 + max(0.05 * mid0, option_tick(mid0))
    entry = up(ask, option_tick(ask))
    assert call.entry(risk).price == pytest.approx(entry, abs=1e-9)
    assert call.pnl(risk, SPIKE, 3) == pytest.approx(3 * 100 * (exit1 - entry), abs=1e-6)
    assert call.premium(risk) == pytest.approx(entry * 100, abs=1e-9)


def test_a_chain_gives_the_ask_the_iv_and_the_open_interest_cap() -> None:
    risk, when = book(), expiry(0)
    chain = pd.DataFrame(
        {
            "expiry": [when, when],
            "strike": [20.0, 25.0],
            "call_bid": [0.55, 0.12],
            "call_ask": [0.60, 0.15],
            "iv": [0.90, 1.05],
            "open_interest": [120.0, 4000.0],
        }
    )
    call = VixCall(when, 20.0)
    quote = call.entry(risk, chain)
    assert quote.price == 0.60
    assert "ask from VIX Options" in quote.source
    years = 30 / 365.0
    assert call.mid(risk, None, chain) == pytest.approx(
        black76_price(17.0, 20.0, years, risk.rate, 0.90, True), rel=1e-10
    )
    contracts, warning = call.cap(50, chain)
    assert contracts == 12  # 10% of 120
    assert (
        warning == "VIX Mar 2024 20 call: 50 contracts capped at 12, 10% of its open interest 120"
    )
    assert call.cap(12, chain) == (12, None)
    assert VixCall(when, 21.0).cap(50, chain) == (50, None)  # not listed: open interest unknown
    spread = VixCallSpread(when, 20.0, 25.0)
    assert spread.entry(risk, chain).price == pytest.approx(0.60 - 0.12, abs=1e-12)
    assert spread.cap(50, chain)[0] == 12  # the thinner leg's open interest binds


def test_a_call_spread_trades_as_one_order_on_its_own_mid() -> None:
    risk, when = book(), expiry(1)
    spread = VixCallSpread(when, 19.0, 25.0)
    assert spread.label == "VIX Mar 2024 19/25 call spread"
    assert (spread.kind, spread.strike, spread.short_strike, spread.width) == (
        "vix_call_spread",
        19.0,
        25.0,
        6.0,
    )
    years = 60 / 365.0
    future0, future1 = risk.vix_future(when), risk.vix_future(when, SPIKE)

    def legs(future, scenario):
        return [
            black76_price(
                future, k, years, risk.rate, risk.vix_option(when, k, scenario=scenario).vol, True
            )
            for k in (19.0, 25.0)
        ]

    mid0 = legs(future0, None)[0] - legs(future0, None)[1]
    # no chain: the spread's mid plus 5% of it (at least a tick), rounded up to the tick
    bought = mid0 + max(0.05 * mid0, option_tick(mid0))
    assert spread.entry(risk).price == pytest.approx(up(bought, option_tick(bought)), abs=1e-12)
    mid1 = legs(future1, SPIKE)[0] - legs(future1, SPIKE)[1]
    # exit in the spike: the spread's mid less twice that half-spread, rounded down
    sold = mid1 - 2.0 * max(0.05 * mid1, option_tick(mid1))
    assert spread.value(risk, SPIKE) == pytest.approx(down(sold, option_tick(sold)), abs=1e-9)


def test_a_deep_in_the_money_spread_is_worth_more_the_further_vix_rises() -> None:
    risk, when = book(), expiry(1)
    spread = VixCallSpread(when, 15.0, 20.0)
    values = [spread.value(risk, Scenario(points)) for points in (5.0, 10.0, 20.0, 40.0)]
    assert values == sorted(values)
    assert values[-1] <= spread.width


def test_a_futures_pnl_is_its_response_times_points_times_multiplier_and_contracts() -> None:
    risk, when, points, contracts = book(), expiry(0), 6.0, 4
    future = VixFuture(when)
    response = (risk.vix_future(when, SPIKE) - 17.0) / points  # future points per VIX point
    assert 0.0 < response < 1.0  # a 30-day future moves less than spot
    # Bought one 0.05 tick above 17.00; sold two ticks below the stressed future, rounded down.
    entry = 17.05
    exit_ = down(17.0 + response * points - 0.10, 0.05)
    assert future.entry(risk).price == pytest.approx(entry, abs=1e-12)
    assert future.pnl(risk, SPIKE, contracts) == pytest.approx(
        contracts * 1000 * (exit_ - entry), abs=1e-6
    )
    # Without the spreads it is exactly response x points x multiplier x contracts.
    at_mid = contracts * 1000 * (future.mid(risk, SPIKE) - future.mid(risk))
    assert at_mid == pytest.approx(response * points * 1000 * contracts, rel=1e-12)
    assert future.premium(risk) == 0.0  # margined: no premium
    assert future.notional(risk) == pytest.approx(17_000.0)


def test_a_vxx_position_follows_its_index() -> None:
    risk = book()
    one_month = AS_OF + dt.timedelta(days=30)  # the 1-month constant-maturity futures index
    index = risk.vix_future(one_month, SPIKE) / risk.vix_future(one_month)
    vxx, uvxy = Etp("VXX", 25.0), Etp("uvxy", 25.0)
    assert vxx.mid(risk, SPIKE) == pytest.approx(25.0 * index, rel=1e-12)
    assert uvxy.mid(risk, SPIKE) == pytest.approx(25.0 * (1 + 1.5 * (index - 1)), rel=1e-12)
    # 100 shares bought a cent above 25.00, sold two cents below the stressed price.
    exit_ = down(25.0 * index - 0.02, 0.01)
    assert vxx.pnl(risk, SPIKE, 100) == pytest.approx(100 * (exit_ - 25.01), abs=1e-6)
    assert (uvxy.symbol, uvxy.underlying, uvxy.label) == (
        "UVXY",
        "UVXY",
        "UVXY shares (1.5x daily)",
    )


def test_a_vxx_position_bleeds_in_contango() -> None:
    week = Scenario(0.0, days=7.0)
    assert Etp("VXX", 25.0).mid(book(), week) < 25.0


def test_unknown_etps_and_bad_spreads_are_refused() -> None:
    with pytest.raises(ValueError, match="not a known VIX ETP"):
        Etp("SPY", 400.0)
    with pytest.raises(ValueError, match="must be above"):
        VixCallSpread(expiry(0), 25.0, 20.0)


def test_listed_strikes_follow_cboes_grid() -> None:
    assert [listed_strike(x) for x in (18.7, 25.5, 31.0, 33.9, 52.0, 57.5)] == [
        19.0,
        26.0,
        30.0,
        35.0,
        50.0,
        60.0,
    ]


def test_candidates_ladder_every_expiry_and_skip_etps_without_a_price() -> None:
    risk = book()
    found = hedge_candidates(risk, None, {}, {"vxx": 25.0})
    first = [c for c in found if c.expiry == expiry(0)]
    calls = [c.strike for c in first if c.kind == "vix_call"]
    # 10%..60% above the 17.00 future: 18.7, 20.4, 22.1, 23.8, 25.5, 27.2 on whole points.
    assert calls == [19.0, 20.0, 22.0, 24.0, 26.0, 27.0]
    spreads = [(c.strike, c.short_strike) for c in first if c.kind == "vix_call_spread"]
    assert (19.0, 24.0) in spreads and (19.0, 29.0) in spreads  # +5 and +10 points
    assert (27.0, 32.5) in spreads  # 32 is not listed above 30: the 2.5 grid
    futures = [c for c in found if c.kind == "vix_future"]
    assert [f.expiry for f in futures] == [e for e, _ in risk.futures_curve]
    assert all(f.premium(risk) == 0.0 for f in futures)
    assert [c.underlying for c in found if c.kind == "etp"] == ["VXX"]
    _, notes = etp_prices({"vxx": 25.0})
    assert notes == ["UVXY is not a candidate: the Market sheet has no UVXY price"]


def test_candidates_use_the_chains_strikes() -> None:
    when = expiry(0)
    chain = pd.DataFrame(
        {"expiry": [when] * 3, "strike": [18.0, 21.0, 30.0], "call_ask": [1.0, 0.5, 0.1]}
    )
    found = hedge_candidates(book(), chain, {}, None)
    calls = [c.strike for c in found if c.expiry == when and c.kind == "vix_call"]
    # Nearest listed: 18.7 -> 18; 20.4, 22.1, 23.8 -> 21; 25.5 is a tie, the lower 21; 27.2 -> 30.
    assert calls == [18.0, 21.0, 30.0]
    assert not [c for c in found if c.kind == "etp"]


def _layer(kind: str, strike: float, price: float, multiplier: float, **more: Any) -> HedgeLayer:
    """A 5-contract layer of `kind` on the 60-day expiry, bought at `price`."""
    base = HedgeLayer(
        layer=1,
        status="ACTIVE",
        trigger="",
        why="",
        instrument=kind,
        underlying="VIX",
        expiry=expiry(1),
        strike=strike,
        contracts=5,
        price=price,
        multiplier=multiplier,
        cost=5 * price * multiplier,
        payoff_by_scenario={},
        share_of_loss_covered=0.0,
        carry_per_day=0.0,
        exit_rule="",
    )
    return replace(base, kind=kind, **more)


def test_a_layer_is_worth_its_instruments_exit_less_what_it_paid() -> None:
    risk = book()
    call = _layer("vix_call", 20.0, 0.70, 100.0)
    exit_call = VixCall(expiry(1), 20.0).value(risk, SPIKE)
    assert layer_pnl(risk, call, [SPIKE])[0] == pytest.approx(5 * 100 * (exit_call - 0.70))
    spread = _layer("vix_call_spread", 19.0, 0.55, 100.0, short_strike=25.0)
    exit_spread = VixCallSpread(expiry(1), 19.0, 25.0).value(risk, SPIKE)
    assert layer_pnl(risk, spread, [SPIKE])[0] == pytest.approx(5 * 100 * (exit_spread - 0.55))
    future = _layer("vix_future", 0.0, 17.55, 1000.0)
    exit_future = VixFuture(expiry(1)).value(risk, SPIKE)
    assert layer_pnl(risk, future, [SPIKE])[0] == pytest.approx(5 * 1000 * (exit_future - 17.55))
    shares = _layer("etp", 0.0, 25.0, 1.0, underlying="VXX")
    exit_shares = Etp("VXX", 25.0).value(risk, SPIKE)
    assert layer_pnl(risk, shares, [SPIKE])[0] == pytest.approx(5 * (exit_shares - 25.0))


def test_held_hedges_are_valued_as_new_hedges_are() -> None:
    when = AS_OF + dt.timedelta(days=60)
    risk = make_risk(
        [
            leg("IC", "SPX", "Put", 3800, -1, iv=0.21),
            leg("H", "VIX", "Call", 20, 10, expiry=when, iv=0.80),
            leg("H", "VIX", "Call", 25, -10, expiry=when, iv=0.95),
            leg("E", "VXX", "Share", 0, 200, mark=25.0),
        ],
        as_of=AS_OF,
        vix=16.0,
    )
    frame = held_hedges(risk, [SPIKE])
    assert list(frame["label"]) == [
        "VIX Mar 2024 20 call",
        "VIX Mar 2024 25 call",
        "VXX shares (1x daily)",
    ]
    new_call = VixCall(when, 20.0, vol=0.80)
    assert frame[SPIKE].iloc[0] == pytest.approx(10 * 100 * new_call.value(risk, SPIKE))
    # The short call is bought back at the widened ask, rounded up.
    years = 60 / 365.0
    vol1 = risk.vix_option(when, 25.0, vol=0.95, scenario=SPIKE).vol
    mid = black76_price(risk.vix_future(when, SPIKE), 25.0, years, risk.rate, vol1, True)
    ask = mid + 2.0 * max(0.05 * mid, option_tick(mid))
    assert frame[SPIKE].iloc[1] == pytest.approx(-10 * 100 * up(ask, option_tick(ask)), abs=1e-6)
    assert frame[SPIKE].iloc[2] == pytest.approx(200 * Etp("VXX", 25.0).value(risk, SPIKE))
    assert frame["exit_now"].iloc[2] == pytest.approx(200 * 24.99)  # a cent below 25.00 today
    expected = float((frame[SPIKE] - frame["value"]).sum())
    assert held_hedges_pnl(risk, [SPIKE])[SPIKE] == pytest.approx(expected)
    assert held_hedges_pnl(risk, [SPIKE])[SPIKE] < risk.pnl(SPIKE).hedges  # the haircut costs


SCENARIOS = st.builds(
    Scenario,
    vix_points=st.floats(min_value=-10.0, max_value=40.0),
    days=st.sampled_from([0.0, 7.0, 30.0, 90.0]),
)


@settings(max_examples=150, deadline=None)
@given(
    strike=st.floats(min_value=10.0, max_value=60.0),
    which=st.integers(min_value=0, max_value=5),
    scenario=SCENARIOS,
    contracts=st.integers(min_value=1, max_value=50),
)
def test_a_long_vix_call_never_loses_more_than_its_premium(
    strike: float, which: int, scenario: Scenario, contracts: int
) -> None:
    risk = book()
    call = VixCall(expiry(which), strike)
    premium = contracts * 100 * call.entry(risk).price
    assert call.pnl(risk, scenario, contracts) >= -premium - 1e-9


@settings(max_examples=150, deadline=None)
@given(
    strike=st.floats(min_value=10.0, max_value=50.0),
    width=st.sampled_from([1.0, 2.5, 5.0, 10.0, 20.0]),
    which=st.integers(min_value=0, max_value=5),
    scenario=SCENARIOS,
)
def test_a_call_spread_loses_at_most_its_debit_and_gains_at_most_its_width(
    strike: float, width: float, which: int, scenario: Scenario
) -> None:
    risk = book()
    spread = VixCallSpread(expiry(which), strike, strike + width)
    debit = spread.entry(risk).price
    pnl = spread.pnl(risk, scenario, 1)
    assert pnl >= -100 * debit - 1e-9
    assert pnl <= 100 * width + 1e-9
