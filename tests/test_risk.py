"""Risk core against hand-worked figures and the independent scalar reference pricer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from book_helpers import (
    CURVE,
    cell_of,
    default_settings,
    hand_condor,
    leg,
    params,
    positions,
    state,
)
from reference_pricing import black76_price, bsm_price

from rules_engine.risk.market import Scenario, futures_beta
from rules_engine.risk.report import compute_risk
from rules_engine.risk.structures import IRON_CONDOR, OTHER, VIX_HEDGE

T30 = 30 / 365


def risk_of(*legs, market=None, **settings):
    return compute_risk(
        positions(*legs),
        state(),
        default_settings(**settings),
        market or {"vvix": 90.0},
        cell_of,
    )


def test_hand_worked_condor_credit_max_loss_breakevens():
    risk = risk_of(*hand_condor(qty=2))
    (condor,) = risk.condors
    # credit per unit = 7.60 + 5.20 - 3.10 - 2.30 = 7.40; x 2 contracts x 100 = $1,480
    assert condor.credit == pytest.approx(1480.0)
    # widest wing 100 points x 2 x 100 = $20,000, less the credit
    assert condor.max_loss == pytest.approx(18520.0)
    # 3800 - 7.40 and 4200 + 7.40
    assert condor.breakeven_low == pytest.approx(3792.60)
    assert condor.breakeven_high == pytest.approx(4207.40)
    assert condor.credit_source == "Entry Price"
    assert risk.kinds == {"IC1": IRON_CONDOR}


def test_hand_worked_condor_stressed_loss_is_full_repricing():
    risk = risk_of(*hand_condor(qty=2))
    pnl = risk.pnl(Scenario(6.0))
    # SPX: -0.10 x (6 / 16) = -3.75%  ->  4000 x 0.9625 = 3850
    s1 = 3850.0
    assert pnl.spx == pytest.approx(s1)
    # IV shift: ATM 0.9 x 6 vol pts x tenor factor (30/30)^0.5 = 1  ->  +0.054 on every leg,
    # plus skew 0.1 x 6 vol pts per 10% of strike below 3850: 3700 -> ln(3850/3700)/0.10 x 0.006
    shift = 0.054
    skew_3700 = math.log(3850 / 3700) / 0.10 * 0.006
    skew_3800 = math.log(3850 / 3800) / 0.10 * 0.006
    legs = [
        (3700, False, 0.24 + shift + skew_3700, +2),
        (3800, False, 0.21 + shift + skew_3800, -2),
        (4200, True, 0.14 + shift, -2),
        (4300, True, 0.13 + shift, +2),
    ]
    before = sum(
        q * 100 * bsm_price(4000, k, T30, 0.05, 0.0, iv0, call)
        for (k, call, _, q), iv0 in zip(legs, (0.24, 0.21, 0.14, 0.13), strict=True)
    )
    after = sum(q * 100 * bsm_price(s1, k, T30, 0.05, 0.0, iv, call) for k, call, iv, q in legs)
    assert pnl.book == pytest.approx(after - before, rel=1e-9)
    assert pnl.book < -1000  # a short condor loses in a VIX spike
    assert pnl.hedges == 0.0


def test_vix_futures_tenor_beta_knots():
    p = params()
    assert futures_beta(0.0, p) == pytest.approx(1.0)
    assert futures_beta(30.0, p) == pytest.approx(0.5)
    assert futures_beta(165.0, p) == pytest.approx(0.2)
    assert futures_beta(400.0, p) == pytest.approx(0.2)
    # halfway between 30 and 165 days: (0.5 + 0.2) / 2
    assert futures_beta(97.5, p) == pytest.approx(0.35)


def test_existing_vix_call_is_black76_on_its_future_and_gains_in_the_spike():
    expiry = CURVE.expiries[1]  # 2024-02-14: 43 days, future 17.5
    hedge = leg("H1", "VIX", "CALL", 22.0, 10, expiry=expiry, iv=0.85)
    risk = risk_of(*hand_condor(), hedge)
    t = 43 / 365
    row = risk.legs[risk.legs["group"] == "H1"].iloc[0]
    assert row["price"] == pytest.approx(black76_price(17.5, 22.0, t, 0.05, 0.85, True), rel=1e-10)
    # +6 VIX: the future rises 6 x beta(43 days); beta linear between 0.5 at 30d and 0.2 at 165d
    beta = 0.5 + (0.2 - 0.5) * (43 - 30) / (165 - 30)
    stressed = black76_price(17.5 + 6 * beta, 22.0, t, 0.05, 0.85 + 0.02 * 6, True)
    expected = 10 * 100 * (stressed - row["price"])
    assert risk.pnl(Scenario(6.0)).hedges == pytest.approx(expected, rel=1e-9)
    assert risk.kinds["H1"] == VIX_HEDGE


def test_vix_future_and_etp_legs():
    fut = leg("F", "VIX", "FUTURE", np.nan, 1, expiry=CURVE.expiries[2], multiplier=1000.0)
    etp = leg("E", "UVXY", "SHARE", np.nan, 100, expiry=None, multiplier=1.0, mark=20.0)
    risk = risk_of(fut, etp)
    pnl = risk.pnl(Scenario(5.0))
    # future: 78 days -> beta 0.5 - 0.3 x 48/135; 1 contract x $1000 x 5 x beta
    beta = 0.5 - 0.3 * (78 - 30) / 135
    # UVXY: 1.5 x (5 x 0.5 / F30), F30 interpolated at 30 days between 16.5 (15d) and 17.5 (43d)
    f30 = 16.5 + (17.5 - 16.5) * (30 - 15) / (43 - 15)
    etp_gain = 100 * 20.0 * 1.5 * (5 * 0.5 / f30)
    assert pnl.hedges == pytest.approx(1000 * 5 * beta + etp_gain, rel=1e-9)


def test_crossed_condor_strikes_name_the_cell():
    legs = hand_condor()
    legs[0] = leg(
        "IC1", "SPX", "PUT", 3850, 2, entry_price=3.10, iv=0.24
    )  # long put above short put
    risk = risk_of(*legs)
    errors = [i for i in risk.issues if i.severity == "error"]
    assert len(errors) == 1
    assert (
        errors[0].sheet == "Positions" and errors[0].cell == "E2" and errors[0].column == "Strike"
    )
    assert "crossed" in errors[0].message and "3850" in errors[0].message
    assert risk.kinds["IC1"] == OTHER


def test_leg_without_iv_uses_mark_then_vix_with_warning():
    c = bsm_price(4000, 4100, T30, 0.05, 0.0, 0.17, True)
    legs = [
        leg("A", "SPX", "CALL", 4100, -1, mark=c),
        leg("B", "SPX", "CALL", 4150, -1),
    ]
    risk = risk_of(*legs)
    ivs = risk.legs["iv"].to_numpy()
    assert ivs[0] == pytest.approx(0.17, abs=1e-8)
    assert ivs[1] == pytest.approx(0.16)  # VIX 16 as the fallback
    iv_warnings = [i for i in risk.issues if i.column == "IV"]
    assert len(iv_warnings) == 1 and iv_warnings[0].cell == "I3"
    assert iv_warnings[0].severity == "warning"


def test_groups_that_are_not_condors_are_named_in_a_warning():
    legs = hand_condor()[:3]  # a condor missing its long call
    risk = risk_of(*legs)
    (warning,) = [i for i in risk.issues if i.column == "Group"]
    assert warning.severity == "warning" and warning.cell == "A2"
    assert "'IC1' (3 legs) is not an iron condor" in warning.message
    assert risk.condors == ()


def test_dollar_greeks_units():
    risk = risk_of(leg("A", "SPX", "CALL", 4000, 3, iv=0.2))
    row = risk.legs.iloc[0]
    h = 1e-3
    up = bsm_price(4000 + h, 4000, T30, 0.05, 0.0, 0.2, True)
    dn = bsm_price(4000 - h, 4000, T30, 0.05, 0.0, 0.2, True)
    assert row["delta_usd"] == pytest.approx(300 * (up - dn) / (2 * h), rel=1e-6)
    vup = bsm_price(4000, 4000, T30, 0.05, 0.0, 0.2 + 1e-5, True)
    vdn = bsm_price(4000, 4000, T30, 0.05, 0.0, 0.2 - 1e-5, True)
    # $vega per vol point: 300 x dV/dsigma / 100
    assert row["vega_usd"] == pytest.approx(300 * (vup - vdn) / 2e-5 / 100, rel=1e-6)
    later = bsm_price(4000, 4000, T30 - 1 / 365, 0.05, 0.0, 0.2, True)
    # $theta per calendar day, close to a one-day finite difference
    assert row["theta_usd"] == pytest.approx(300 * (later - row["price"]), rel=2e-2)


def test_unsupported_leg_is_an_error_naming_the_row():
    risk = risk_of(leg("X", "AAPL", "CALL", 150, 1, iv=0.3))
    assert any(i.severity == "error" and i.cell == "A2" for i in risk.issues)
