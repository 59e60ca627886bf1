"""The built-in `alvh` sizer against hand-worked sizing arithmetic, the reference Black-76 and the
liquidity rules written out by hand (tests/stress_by_hand.py).

The book: the hand condor (2 lots, credit $1,480) of tests/book_helpers.py on 2024-01-02, SPX
4000, VIX 16, VVIX 90, futures 16.5 (Jan 17), 17.5 (Feb 14), 18.3 (Mar 20), 19.6 (Jun 18). Its
loss in the primary spike VIX +6 is checked by hand in tests/test_risk.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pandas as pd
import pytest
import stress_by_hand as by_hand
from book_helpers import (
    AS_OF,
    VIX_1Y_MEAN,
    cell_of,
    default_settings,
    hand_condor,
    leg,
    positions,
    state,
)
from reference_pricing import black76_price

from rules_engine import Scenario, nearest_expiry, snap_strike
from rules_engine.composite import composite
from rules_engine.models import Context, Reading, RuleResult, SettingCell, Sizer
from rules_engine.risk.report import compute_risk
from rules_engine.settings import resolve_settings
from rules_engine.testing import run_one_sizer
from rules_engine_plugins.alvh_sizer import SETTINGS, parse_ladder, size

JAN = dt.date(2024, 1, 17)  # 15 days: inside the 21-day roll window
FEB = dt.date(2024, 2, 14)  # 43 days, future 17.5
MAR = dt.date(2024, 3, 20)  # 78 days, future 18.3
JUN = dt.date(2024, 6, 18)  # 168 days, future 19.6
SPIKE = Scenario(6.0)
#: Budget high enough never to bind (100% of the $1,480 credit).
ROOMY = {"hedge__premium_budget": 1.0}


def context(*extra_legs, book=None, rules=None, warning=None, chain=None, **overrides):
    settings = default_settings(**overrides)
    legs = positions(*(hand_condor(qty=2) if book is None else book), *extra_legs)
    risk = compute_risk(legs, state(), settings, cell_of)
    empty = pd.DataFrame()
    ctx = Context(
        AS_OF,
        empty,
        {"as_of": AS_OF},
        empty,
        empty,
        empty,
        settings,
        risk,
        vix_options=chain,
        rules=rules or {},
        composite=warning,
    )
    return ctx, risk


def curve_model(vix, days):
    return by_hand.curve_model(vix, days, VIX_1Y_MEAN)


def vol(days, strike, forward, vix=16.0):
    return by_hand.surface(days, strike, forward, vix, vvix=90.0, vix_today=16.0)


def call_by_hand(f0, strike, days, vix_points=6.0):
    """(net $ a contract in the spike, price paid, model mid today): bought at the ask (mid +
    5% of mid, at least a tick, rounded up), sold in the spike at the bid widened 2x."""
    t = days / 365
    mid = black76_price(f0, strike, t, 0.05, vol(days, strike, f0), True)
    price = by_hand.ask(mid)
    f1 = f0 + curve_model(16.0 + vix_points, days) - curve_model(16.0, days)
    stressed = black76_price(f1, strike, t, 0.05, vol(days, strike, f1, 16.0 + vix_points), True)
    return (by_hand.bid(stressed, 2.0) - price) * 100, price, mid


def fired(*layers):
    return {n: RuleResult(n, "test", True, "test says so") for n in layers}


def test_helpers_by_hand():
    expiries = [JAN, FEB, MAR, JUN]
    assert nearest_expiry(expiries, AS_OF, 20) == JAN  # 15 days is 5 away, 43 is 23
    assert nearest_expiry(expiries, AS_OF, 20, roll_dte=21) == FEB  # Jan is inside the roll
    assert nearest_expiry(expiries, AS_OF, 110, roll_dte=21) == MAR  # 32 away vs 58
    assert snap_strike(17.5 * 1.35) == 24.0  # whole points on Cboe's grid up to 30
    assert snap_strike(33.9) == 35.0  # 2.5 points from 30 to 50
    assert parse_ladder("30:0.4,110:0.4,220:0.2") == ((30, 0.4), (110, 0.4), (220, 0.2))
    with pytest.raises(ValueError, match="sum to a whole"):
        parse_ladder("30:0.4,110:0.4,220:0.4")
    with pytest.raises(ValueError, match="rise and differ"):
        parse_ladder("110:0.5,30:0.5")


def test_the_base_layer_by_hand():
    ctx, risk = context(**ROOMY)
    layers = size(ctx, {})
    first, second, third = layers
    loss = risk.projected_loss()
    pay, price, _ = call_by_hand(17.5, 24.0, 43)  # 35% above 17.50 = 23.6 -> 24
    contracts = math.ceil(0.40 * loss / pay)  # no composite: layer 1 at its ladder share 0.4
    assert (first.status, first.expiry, first.strike, first.kind) == (
        "ACTIVE",
        FEB,
        24.0,
        "vix_call",
    )
    assert first.contracts == contracts
    assert first.price == pytest.approx(price, abs=1e-12)
    assert first.cost == pytest.approx(contracts * price * 100, abs=1e-9)
    assert first.target_share == pytest.approx(0.40)
    assert first.share_of_loss_covered == pytest.approx(contracts * pay / loss, rel=1e-9)
    assert first.payoff_by_scenario[SPIKE] == pytest.approx(contracts * pay, rel=1e-9)
    assert first.cost_to_target == 0.0
    # layers 2 and 3 have no rule: planned, at their ladder shares 0.4 and 0.2
    pay2, price2, _ = call_by_hand(18.3, 25.0, 78)  # 18.3 x 1.35 = 24.7 -> 25
    assert (second.status, second.expiry, second.strike) == ("STANDBY", MAR, 25.0)
    assert second.contracts == math.ceil(0.40 * loss / pay2)
    assert second.cost == pytest.approx(second.contracts * price2 * 100, abs=1e-9)
    pay3, _, _ = call_by_hand(19.6, 26.0, 168)  # 19.6 x 1.35 = 26.5 -> 26
    assert (third.status, third.expiry) == ("STANDBY", JUN)
    assert third.contracts == math.ceil(0.20 * loss / pay3)
    assert "No rule for layer 2" in second.trigger


def test_the_cost_is_contracts_times_the_shown_price_on_the_tick():
    ctx, _ = context(**ROOMY)
    for layer in size(ctx, {}):
        assert round(layer.price * 100) == pytest.approx(layer.price * 100, abs=1e-9)  # 1 cent
        assert layer.cost == round(layer.contracts * layer.price * layer.multiplier, 2)


def test_the_composite_raises_the_base_target_and_a_quiet_signal_never_dilutes_it():
    def reading(strength):
        return Reading(1.0, strength > 0, strength, "test")

    weights = {"technical": 0.5, "volatility": 0.8, "valuation": 0.3}
    loud = composite({"rsi": reading(1.0)}, {"rsi": "technical"}, weights)
    assert loud.value == pytest.approx(0.5)  # 1 - (1 - 0.5 x 1.0)
    quiet_extra = composite(
        {"rsi": reading(1.0), "macd": reading(0.0), "cape": reading(0.0)},
        {"rsi": "technical", "macd": "technical", "cape": "valuation"},
        weights,
    )
    assert quiet_extra.value == pytest.approx(loud.value)  # the mean would have said 0.33
    both = composite(
        {"rsi": reading(1.0), "vix_term_structure": reading(0.5)},
        {"rsi": "technical", "vix_term_structure": "volatility"},
        weights,
    )
    assert both.value == pytest.approx(1 - (1 - 0.5) * (1 - 0.8 * 0.5))  # 0.70
    ctx, risk = context(warning=loud, **ROOMY)
    first, second, third = size(ctx, {})[:3]
    pay, _, _ = call_by_hand(17.5, 24.0, 43)
    assert first.target_share == pytest.approx(0.40 + (0.60 - 0.40) * 0.5)  # 0.50
    assert first.contracts == math.ceil(0.50 * risk.projected_loss() / pay)
    assert "composite 0.50" in first.trigger
    # the confirmation layers share the other half of the loss 4:2, so the ladder stays at 100%
    assert second.target_share == pytest.approx(0.40 * (1 - 0.50) / (1 - 0.40))  # 0.333
    assert third.target_share == pytest.approx(0.20 * (1 - 0.50) / (1 - 0.40))  # 0.167
    assert first.target_share + second.target_share + third.target_share == pytest.approx(1.0)
    assert "target 33% = 40% x (1 - 50%) / (1 - 40%)" in second.trigger
    ctx_quiet, _ = context(warning=quiet_extra, **ROOMY)
    assert size(ctx_quiet, {})[0].contracts == first.contracts


def test_a_binding_budget_tries_cheaper_structures_and_shows_target_beside_covered():
    ctx, risk = context()  # budget 25% of the $1,480 credit = $370
    first = size(ctx, {})[0]
    loss = risk.projected_loss()
    pay, price, _ = call_by_hand(17.5, 24.0, 43)
    assert math.ceil(0.40 * loss / pay) * price * 100 > 370  # the plain call cannot reach 40%
    plain_within = math.floor(370 / (price * 100)) * pay / loss  # the call scaled to the budget
    assert first.status == "ACTIVE" and first.cost <= 370
    assert first.target_share == pytest.approx(0.40)
    assert plain_within <= first.share_of_loss_covered < 0.40
    assert first.cost_to_target > 0
    assert "cannot pay the VIX Feb 2024 24 call to target" in first.why
    # the spread bought is priced as one order: its cost is contracts x shown price x 100
    assert first.kind == "vix_call_spread" and first.short_strike == 34.0
    assert first.cost == round(first.contracts * first.price * 100, 2)


def test_a_triggered_layer_the_budget_cannot_pay_is_unfunded_never_active_with_zero():
    ctx, _ = context(rules=fired(1, 2, 3), hedge__premium_budget=0.005)  # $7.40
    layers = size(ctx, {})
    assert [x.status for x in layers] == ["UNFUNDED", "UNFUNDED", "UNFUNDED"]
    for layer in layers:
        assert layer.contracts > 0 and layer.cost_to_target == pytest.approx(layer.cost)
        assert "cannot pay one contract" in layer.why
    outcome = run_one_sizer(Sizer("alvh", size, settings=SETTINGS), ctx, {})
    assert not outcome.error and len(outcome.layers) == 3


def test_a_standby_layer_says_what_it_would_cost_and_whether_the_budget_can_fund_it():
    ctx, _ = context(alvh__ladder="30:0.4,110:0.1,220:0.5", **ROOMY)  # a small layer 2
    _, second, _ = size(ctx, {})
    assert second.status == "STANDBY" and second.cost > 0
    assert "the budget left" in second.why and "can fund it" in second.why
    tight, _ = context()
    _, second, _ = size(tight, {})
    assert "cannot fund it" in second.why


def test_a_held_future_is_not_charged_to_the_premium_budget():
    future = leg("F", "VIX", "FUTURE", 0.0, 1, expiry=MAR, entry_price=18.3, multiplier=1000.0)
    ctx, risk = context(future, **ROOMY)
    assert risk.hedge_premium_paid == 0.0  # a future is margined, not paid for
    assert risk.hedge_notional == pytest.approx(18.3 * 1000)
    layers = size(ctx, {})
    held = [x for x in layers if x.held_group == "F"]
    assert len(held) == 1 and held[0].status == "HOLD" and held[0].cost == 0.0
    assert held[0].notional == pytest.approx(18.3 * 1000)
    assert held[0].layer == 2  # 78 days: the 110-day rung is nearest
    # held on layer 2, it lowers layer 2's need by its gain at the widened bid: 1 x 1000 x
    # (bid of the moved future - 18.30), the bid two 0.05 ticks below, rounded down
    f1 = 18.3 + curve_model(22.0, 78) - curve_model(16.0, 78)
    gain = 1000 * (math.floor((f1 - 0.10) / 0.05 + 1e-9) * 0.05 - 18.3)
    assert held[0].payoff_by_scenario[SPIKE] == pytest.approx(gain, abs=1e-6)
    first = layers[0]
    assert first.status == "ACTIVE" and first.contracts > 0  # the budget is whole


def test_a_held_call_is_valued_with_the_same_exit_as_a_new_one():
    held = leg("H", "VIX", "CALL", 24.0, 3, expiry=FEB, iv=0.90, entry_price=0.40)
    ctx, risk = context(held, **ROOMY)
    layers = size(ctx, {})
    row = next(x for x in layers if x.held_group == "H")
    t = 43 / 365
    mid = black76_price(17.5, 24.0, t, 0.05, 0.90, True)
    f1 = 17.5 + curve_model(22.0, 43) - curve_model(16.0, 43)
    change = vol(43, 24.0, f1, 22.0) - vol(43, 24.0, 17.5)
    stressed = black76_price(f1, 24.0, t, 0.05, 0.90 + change, True)
    gain = 3 * 100 * (by_hand.bid(stressed, 2.0) - mid)  # the bid, as a new layer is sold
    assert row.payoff_by_scenario[SPIKE] == pytest.approx(gain, rel=1e-9)
    assert row.status == "HOLD" and row.layer == 1
    assert row.cost == pytest.approx(3 * 100 * 0.40)  # premium paid, charged to the budget
    pay, _, _ = call_by_hand(17.5, 24.0, 43)
    loss = risk.projected_loss()
    assert layers[0].contracts == math.ceil((0.40 * loss - gain) / pay)


def test_held_hedges_are_rolled_and_take_profit_by_the_rules():
    near = leg("N", "VIX", "CALL", 18.0, 2, expiry=JAN, iv=0.9, entry_price=0.3)
    rich = leg("R", "VIX", "CALL", 15.0, 2, expiry=MAR, iv=0.9, entry_price=0.5)
    ctx, _ = context(near, rich, **ROOMY)
    rows = {x.held_group: x for x in size(ctx, {}) if x.held_group}
    assert rows["N"].status == "ROLL" and "15 days to expiry" in rows["N"].trigger
    # the Mar 15 call is worth ~4.2 (B76 on 18.3) against 0.50 paid: above 3x, take profit
    worth = black76_price(18.3, 15.0, 78 / 365, 0.05, 0.9, True)
    assert worth > 3 * 0.5
    assert rows["R"].status == "TAKE PROFIT" and "3x its cost" in rows["R"].trigger


def test_the_exit_does_not_fire_at_the_spike_the_layer_is_sized_for():
    ctx, _ = context(**ROOMY)
    first = size(ctx, {})[0]
    # take profit when the Feb future reaches its level in VIX +12, twice the +6 design spike
    level = 17.5 + curve_model(28.0, 43) - curve_model(16.0, 43)
    assert f"at or above {level:.2f}" in first.exit_rule
    at_design = 17.5 + curve_model(22.0, 43) - curve_model(16.0, 43)
    assert at_design < level
    # ... or when worth a multiple of its cost, raised above its worth in the design spike
    pay, price, _ = call_by_hand(17.5, 24.0, 43)
    worth = (pay / 100 + price) / price
    multiple = max(3.0, math.ceil(12.5 * worth) / 10)
    assert f"worth {multiple:g}x its cost" in first.exit_rule and multiple > worth
    assert "close or roll at 21 days to expiry (2024-01-24)" in first.exit_rule


def test_carry_rolls_down_the_curve():
    ctx, _ = context(**ROOMY)
    first = size(ctx, {})[0]
    _, _, mid = call_by_hand(17.5, 24.0, 43)
    # a day on, nothing moving: the Feb future rolls down to the curve's 42-day level (between
    # 16.5 at 15 days and 17.5 at 43 days); the call keeps its vol but for the skew its new
    # moneyness reads (both sides of the change at its 42-day tenor)
    f42 = 16.5 + (17.5 - 16.5) * (42 - 15) / (43 - 15)
    vol42 = vol(43, 24.0, 17.5) + vol(42, 24.0, f42) - vol(42, 24.0, 17.5)
    tomorrow = black76_price(f42, 24.0, 42 / 365, 0.05, vol42, True)
    assert first.carry_per_day == pytest.approx(first.contracts * 100 * (tomorrow - mid), rel=1e-9)
    fixed = black76_price(17.5, 24.0, 42 / 365, 0.05, vol(43, 24.0, 17.5), True)
    theta = first.contracts * 100 * (fixed - mid)  # a day of decay at a fixed future
    assert first.carry_per_day < theta < 0  # contango: the roll-down adds to the decay
    assert first.carry_to_roll < first.carry_per_day  # 22 days of it
    assert first.cost_if_no_spike < 0


def test_an_extra_leg_that_breaks_a_condor_keeps_its_credit_in_the_budget():
    book = hand_condor(qty=2)
    book.append(leg("IC1", "SPX", "PUT", 3600, -1, entry_price=1.50, iv=0.27))
    ctx, risk = context(book=book)
    assert risk.condors == ()  # no longer a condor
    assert risk.credit_received == pytest.approx(1480 + 150)  # its premium still came in
    first = size(ctx, {})[0]
    assert first.status == "ACTIVE" and 0 < first.cost <= 0.25 * 1630


def test_a_ladder_whose_shares_do_not_make_a_whole_is_named_at_its_cell():
    raw = {"alvh.ladder": SettingCell("30:0.5,110:0.4", "B9")}
    _, issues = resolve_settings(raw, (*SETTINGS,))
    (issue,) = [i for i in issues if i.severity == "error"]
    assert issue.cell == "B9" and "sum to a whole" in issue.message


def test_a_ratio_below_the_base_share_fails_alone_with_the_reason():
    ctx, _ = context(alvh__hedge_ratio_max=0.3)
    outcome = run_one_sizer(Sizer("alvh", size, settings=SETTINGS), ctx, {})
    assert outcome.layers == ()
    assert "alvh.hedge_ratio_max 0.3 is below layer 1's ladder share 0.4" in outcome.error


def test_chain_ask_is_paid_and_the_open_interest_cap_binds_with_a_warning():
    chain = pd.DataFrame(
        {
            "expiry": [FEB],
            "strike": [24.0],
            "call_bid": [0.70],
            "call_ask": [0.80],
            "iv": [0.90],
            "open_interest": [50.0],
        }
    )
    ctx, _ = context(chain=chain, **ROOMY)
    first = size(ctx, {})[0]
    assert (first.expiry, first.strike, first.price) == (FEB, 24.0, 0.80)  # the chain's ask
    assert first.contracts == 5  # 10% of the open interest 50
    assert first.cost == pytest.approx(5 * 0.80 * 100)
    assert "capped at 5, 10% of its open interest 50" in first.why
    roomy = dataclasses.replace(ctx, vix_options=chain.assign(open_interest=[10_000.0]))
    uncapped = size(roomy, {})[0]
    assert uncapped.contracts > 5 and "open interest" not in uncapped.why


def test_the_delta_strike_rule_picks_the_listed_call_nearest_the_delta():
    ctx, _ = context(alvh__strike_rule="delta", alvh__strike_delta=0.25, **ROOMY)
    first = size(ctx, {})[0]
    t = 43 / 365

    def delta(k):  # Black-76 call delta on the Feb future, at the surface's vol, e^-rT N(d1)
        sigma = vol(43, k, 17.5)
        d1 = (math.log(17.5 / k) + sigma * sigma * t / 2) / (sigma * math.sqrt(t))
        return math.exp(-0.05 * t) * 0.5 * (1 + math.erf(d1 / math.sqrt(2)))

    best = min(range(18, 70), key=lambda k: abs(delta(k) - 0.25))
    assert first.strike == best and "nearest delta 0.25" in first.why


def test_a_future_allowed_when_the_budget_binds_is_bought_on_margin_not_premium():
    ctx, risk = context(alvh__structures="call,future")  # budget $370 binds the call
    first = size(ctx, {})[0]
    # the Feb future: bought a 0.05 tick above 17.50, sold in the spike two ticks below the
    # moved future, rounded down; x $1,000 a contract
    f1 = 17.5 + curve_model(22.0, 43) - curve_model(16.0, 43)
    pay = 1000 * (math.floor((f1 - 0.10) / 0.05 + 1e-9) * 0.05 - 17.55)
    needed = math.ceil(0.40 * risk.projected_loss() / pay)
    assert (first.status, first.kind, first.instrument) == (
        "ACTIVE",
        "vix_future",
        "VIX Feb 2024 future",
    )
    assert first.contracts == needed and first.cost == 0.0
    assert first.notional == pytest.approx(needed * 17.5 * 1000)
    assert first.share_of_loss_covered >= 0.40 and "no premium" in first.why
    assert "worth" not in first.exit_rule  # no premium, no multiple of it: the future level rule


def test_a_shorter_expiry_bought_when_the_budget_binds_is_named_and_dated_as_itself():
    """Layer 2's rung is the Mar expiry; with $84 left after layer 1 the best it can buy is one
    Feb 24 call (35% above the Feb future 17.50 = 23.6 -> 24, at the ask 0.82 = $82). The row is
    that Feb call: its name, expiry, strike text, roll date and carry are the Feb series'."""
    ctx, _ = context(
        rules=fired(1, 2), alvh__structures="call,shorter_expiry", hedge__premium_budget=0.5
    )
    second = size(ctx, {})[1]
    _, price, _ = call_by_hand(17.5, 24.0, 43)
    assert (second.status, second.instrument, second.expiry, second.strike) == (
        "ACTIVE",
        "VIX Feb 2024 24 call",
        FEB,
        24.0,
    )
    assert second.cost == pytest.approx(round(second.contracts * price * 100, 2))
    assert "35% above the 2024-02-14 VIX future 17.50" in second.why
    assert "close or roll at 21 days to expiry (2024-01-24)" in second.exit_rule
    feb_call = size(context(rules=fired(1), hedge__premium_budget=0.5)[0], {})[0]
    assert feb_call.instrument == "VIX Feb 2024 24 call"  # layer 1 buys the same series
    per_contract = feb_call.carry_per_day / feb_call.contracts
    assert second.carry_per_day == pytest.approx(second.contracts * per_contract, rel=1e-9)
