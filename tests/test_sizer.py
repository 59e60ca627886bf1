"""The built-in `alvh` sizer against hand-worked sizing arithmetic and the reference Black-76."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

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

from rules_engine import Scenario
from rules_engine.models import Context, Reading, Sizer
from rules_engine.risk.report import compute_risk
from rules_engine.testing import run_one_sizer
from rules_engine_plugins.alvh_sizer import (
    SETTINGS,
    nearest_expiry,
    round_strike,
    signal_stress,
    size,
)

FEB = dt.date(2024, 2, 14)  # 43 days, future 17.5
MAR = dt.date(2024, 3, 20)  # 78 days, future 18.3


def context(*extra_legs, **overrides):
    settings = default_settings(**overrides)
    book = positions(*hand_condor(qty=2), *extra_legs)
    risk = compute_risk(book, state(), settings, cell_of)
    empty = pd.DataFrame()
    ctx = Context(AS_OF, empty, {"as_of": AS_OF}, empty, empty, empty, settings, risk)
    return ctx, risk


def reading(strength):
    return Reading(value=1.0, triggered=strength > 0, strength=strength, explanation="test")


def per_contract_payoff(f0, strike, days, vix_points):
    """Hand-worked: bought at the model mid plus a half-spread of 5% of mid (at least a tick),
    rounded up to the tick; sold in the spike at the stressed mid less twice that half-spread,
    rounded down. The call is priced at the VIX option surface's vol (VVIX 90), its future and
    vol moved as the curve model and the surface say. Returns ($ per contract, price paid)."""
    t = days / 365
    vix1 = 16.0 + vix_points
    vol = by_hand.surface(days, strike, f0, 16.0, vvix=90.0, vix_today=16.0)
    mid = black76_price(f0, strike, t, 0.05, vol, True)
    price = by_hand.ask(mid)
    f1 = f0 + curve_model(vix1, days) - curve_model(16.0, days)
    vol1 = by_hand.surface(days, strike, f1, vix1, vvix=90.0, vix_today=16.0)
    stressed = black76_price(f1, strike, t, 0.05, vol1, True)
    sold = by_hand.bid(stressed, 2.0)
    return (sold - price) * 100, price


def curve_model(vix, days):
    return by_hand.curve_model(vix, days, VIX_1Y_MEAN)


def test_helpers_by_hand():
    assert signal_stress({}) == 0.0
    assert signal_stress({"a": reading(1.0), "b": reading(0.0), "c": reading(0.5)}) == 0.5
    expiries = [dt.date(2024, 1, 17), FEB, MAR, dt.date(2024, 6, 18)]
    assert nearest_expiry(expiries, AS_OF, 45) == FEB  # 43 days is 2 away
    assert nearest_expiry(expiries, AS_OF, 110) == MAR  # 78 days is 32 away, 168 is 58
    assert round_strike(17.5 * 1.35, 1.0) == 24.0
    assert round_strike(18.3 * 1.35, 0.5) == 24.5


def test_base_layer_offsets_forty_percent_without_signals():
    ctx, risk = context(alvh__carry_budget=5.0)
    layers = size(ctx, {})
    first, second = layers
    loss = -risk.pnl(Scenario(6.0)).book
    pay, price = per_contract_payoff(17.5, 24.0, 43, 6.0)
    contracts = math.ceil(0.40 * loss / pay)
    assert (first.status, first.expiry, first.strike) == ("ACTIVE", FEB, 24.0)
    assert first.contracts == contracts
    assert first.price == pytest.approx(price, rel=1e-10)
    assert first.cost == pytest.approx(contracts * price * 100, rel=1e-10)
    assert first.payoff_by_scenario[Scenario(6.0)] == pytest.approx(contracts * pay, rel=1e-9)
    assert first.share_of_loss_covered == pytest.approx(contracts * pay / loss, rel=1e-9)
    assert 0.40 <= first.share_of_loss_covered < 0.40 + pay / loss
    pay5, _ = per_contract_payoff(17.5, 24.0, 43, 5.0)
    assert first.payoff_by_scenario[Scenario(5.0)] == pytest.approx(contracts * pay5, rel=1e-9)
    assert first.carry_per_day < 0  # a long option decays
    assert "40%" in first.trigger
    assert (second.status, second.expiry, second.strike) == ("STANDBY", MAR, 25.0)
    pay2, _ = per_contract_payoff(18.3, 25.0, 78, 6.0)
    assert second.contracts == math.ceil(0.25 * loss / pay2)
    assert "0.50" in second.trigger and "now 0.00" in second.trigger


def test_signal_stress_moves_the_ratio_and_activates_layer_two():
    ctx, risk = context(alvh__carry_budget=5.0)
    one = size(ctx, {"a": reading(1.0)})  # full stress, but a single signal does not confirm
    assert one[1].status == "STANDBY" and "now 1: a" in one[1].trigger
    # stress (1.0 + 0.5 + 0.0) / 3 = 0.5 -> ratio 0.40 + 0.20 x 0.5 = 0.50; two signals triggered
    layers = size(ctx, {"a": reading(1.0), "b": reading(0.5), "c": reading(0.0)})
    loss = -risk.pnl(Scenario(6.0)).book
    pay, _ = per_contract_payoff(17.5, 24.0, 43, 6.0)
    assert layers[0].contracts == math.ceil(0.50 * loss / pay)
    assert layers[1].status == "ACTIVE"


def test_carry_budget_caps_the_base_layer_and_says_so():
    ctx, _ = context()  # budget 25% of the $1,480 credit = $370
    first = size(ctx, {})[0]
    _, price = per_contract_payoff(17.5, 24.0, 43, 6.0)
    assert first.contracts == math.floor(370 / (price * 100))
    assert first.cost <= 370
    assert "capped by the carry budget" in first.why


def test_existing_hedge_gain_reduces_the_need():
    held = leg("H", "VIX", "CALL", 24.0, 3, expiry=FEB, iv=0.90, entry_price=0.40)
    ctx, risk = context(held, alvh__carry_budget=5.0)
    pnl = risk.pnl(Scenario(6.0))
    pay, _ = per_contract_payoff(17.5, 24.0, 43, 6.0)
    # the 3 calls held (IV 0.90) gain their unhaircut stressed value change: the future moved
    # by the curve model, the vol by the surface's change
    f1 = 17.5 + curve_model(22.0, 43) - curve_model(16.0, 43)
    change = by_hand.surface(43, 24.0, f1, 22.0, vvix=90.0, vix_today=16.0) - by_hand.surface(
        43, 24.0, 17.5, 16.0, vvix=90.0, vix_today=16.0
    )
    t = 43 / 365
    gain = (
        3
        * 100
        * (
            black76_price(f1, 24.0, t, 0.05, 0.90 + change, True)
            - black76_price(17.5, 24.0, t, 0.05, 0.90, True)
        )
    )
    assert pnl.hedges == pytest.approx(gain, rel=1e-9)
    first = size(ctx, {})[0]
    assert first.contracts == math.ceil((0.40 * -pnl.book - gain) / pay)
    assert risk.hedge_premium_paid == pytest.approx(3 * 100 * 0.40)
    ctx_zero, _ = context(held, alvh__hedge_ratio_min=0.0, alvh__hedge_ratio_max=0.0)
    assert size(ctx_zero, {})[0].contracts == 0


def test_inverted_ratio_bounds_fail_alone_with_the_reason():
    ctx, _ = context(alvh__hedge_ratio_min=0.7, alvh__hedge_ratio_max=0.5)
    outcome = run_one_sizer(Sizer("alvh", size, settings=SETTINGS), ctx, {})
    assert outcome.layers == ()
    assert "hedge_ratio_min 0.7 is above alvh.hedge_ratio_max 0.5" in outcome.error


def test_chain_ask_is_paid_and_the_open_interest_cap_binds_with_a_warning():
    ctx, _ = context(alvh__carry_budget=5.0)
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
    ctx = replace(ctx, vix_options=chain)
    first = size(ctx, {})[0]
    assert (first.expiry, first.strike, first.price) == (FEB, 24.0, 0.80)  # the chain's ask
    assert first.contracts == 5  # 10% of the open interest 50
    assert first.cost == pytest.approx(5 * 0.80 * 100)
    assert "capped at 5, 10% of its open interest 50" in first.why
    uncapped = size(replace(ctx, vix_options=chain.assign(open_interest=[10_000.0])), {})[0]
    assert uncapped.contracts > 5 and "open interest" not in uncapped.why
