"""The public API a plugin author builds on: `RiskReport` and `Scenario` from `rules_engine`, the
testing helpers, and a built-in sizer that uses nothing else. Figures are hand-worked with the
independent reference pricer."""

from __future__ import annotations

import ast
import datetime as dt
import math
from pathlib import Path

import pytest
import stress_by_hand as by_hand
from reference_pricing import black76_price, bsm_price

import rules_engine
from rules_engine import Reading, RiskReport, Scenario, Setting, Signal, Sizer
from rules_engine.testing import evaluate_signal, leg, make_context, make_risk, run_one_sizer

AS_OF = dt.date(2024, 1, 31)
EXPIRY = AS_OF + dt.timedelta(days=30)
T30 = 30 / 365
PLUGINS = Path(__file__).parents[1] / "plugins"


def condor(qty: float = 1.0) -> list[dict]:
    """3700/3800 puts and 4200/4300 calls, 30 days; credit 7.40 per unit."""
    return [
        leg("IC", "SPX", "Put", 3700, qty, entry_price=3.10, iv=0.24),
        leg("IC", "SPX", "Put", 3800, -qty, entry_price=7.60, iv=0.21),
        leg("IC", "SPX", "Call", 4200, -qty, entry_price=5.20, iv=0.14),
        leg("IC", "SPX", "Call", 4300, qty, entry_price=2.30, iv=0.13),
    ]


IVS = {3700: 0.24, 3800: 0.21, 4200: 0.14, 4300: 0.13}
SIZES = {3700: 1, 3800: -1, 4200: -1, 4300: 1}


def book_value(spot: float, shift: dict[int, float]) -> float:
    return sum(
        SIZES[k] * 100 * bsm_price(spot, k, T30, 0.04, 0.0, IVS[k] + shift.get(k, 0.0), k > 4000)
        for k in IVS
    )


def test_risk_types_are_public():
    assert {"RiskReport", "Scenario", "ScenarioPnl", "OptionValue", "Condor"} <= set(
        rules_engine.__all__
    )
    assert Scenario(6.0).label == "VIX +6"
    assert Scenario(6.0, -0.05).label == "VIX +6, SPX -5%"
    assert Scenario(-3.0).label == "VIX -3"
    assert Scenario(6.0) == Scenario(6) and len({Scenario(6.0), Scenario(6)}) == 1
    with pytest.raises(ValueError, match="finite"):
        Scenario(math.inf)
    with pytest.raises(ValueError, match="above -1"):
        Scenario(5.0, -1.5)


def test_builtin_plugins_use_only_the_public_api():
    for path in PLUGINS.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("rules_engine.risk"), (path.name, node.module)
                assert not node.module.startswith("rules_engine.engine"), (path.name, node.module)


def test_projected_loss_at_a_grid_point_is_a_full_repricing():
    risk = make_risk(condor(), settings={"scenario.primary_spike": 6.0})
    assert isinstance(risk, RiskReport)
    assert risk.condor_credit == pytest.approx(740.0)  # (7.60 + 5.20 - 3.10 - 2.30) x 100
    point = Scenario(6.0, spx_move=-0.05)  # SPX 3800, VIX 22
    pnl = risk.pnl(point)
    assert (pnl.spx, pnl.vix) == pytest.approx((3800.0, 22.0))
    # ATM IV +0.9 x 6 = 5.4 vol points (30-day tenor factor 1), plus downside skew
    # 0.1 x 6 vol points per 10% of strike below 3800: only the 3700 put is below
    shift = {k: 0.054 for k in IVS} | {3700: 0.054 + math.log(3800 / 3700) / 0.10 * 0.006}
    expected = book_value(3800.0, shift) - book_value(4000.0, {})
    assert pnl.book == pytest.approx(expected, rel=1e-9)
    assert risk.projected_loss(point) == pytest.approx(-expected, rel=1e-9)
    assert pnl.hedges == 0.0 and pnl.net == pnl.book
    assert risk.structure_pnl(point)["IC"] == pytest.approx(expected, rel=1e-9)
    assert risk.leg_pnl(point).sum() == pytest.approx(expected, rel=1e-9)


def test_primary_spike_is_a_core_setting():
    risk = make_risk(condor(), settings={"scenario.primary_spike": 9.0})
    assert risk.primary == Scenario(9.0)
    assert Scenario(9.0) in risk.scenarios and Scenario(5.0) in risk.scenarios
    # the regime rule: VIX 16 -> 25 stays in the 15-25 regime (beta -0.09218 per log point)
    assert risk.pnl(risk.primary).spx == pytest.approx(4000 * (25 / 16) ** -0.09218)
    assert risk.projected_loss() == risk.projected_loss(Scenario(9.0)) > 0


def test_a_vol_crush_below_zero_is_refused_with_the_reason():
    risk = make_risk(condor())
    assert risk.pnl(Scenario(-3.0)).book > 0  # a short condor gains when vol falls
    with pytest.raises(ValueError, match="VIX stays above 0"):
        risk.pnl(Scenario(-20.0))


def surface(days: float, strike: float, forward: float, vix: float) -> float:
    return by_hand.surface(days, strike, forward, vix, vvix=90.0, vix_today=16.0)


def test_vix_option_today_and_stressed_is_black76_on_its_future():
    risk = make_risk(condor(), vvix=90.0)
    expiry, future = risk.futures_curve[1]  # 60 days, 17.5
    days = (expiry - risk.as_of).days
    vol0 = surface(days, 22.0, future, 16.0)
    assert risk.vix_option_vol(expiry, 22.0) == pytest.approx(vol0)
    today = risk.vix_option(expiry, 22.0)
    assert today.price == pytest.approx(black76_price(future, 22.0, days / 365, 0.04, vol0, True))
    stressed = risk.vix_option(expiry, 22.0, scenario=Scenario(6.0))
    f1 = future + by_hand.curve_model(22.0, days) - by_hand.curve_model(16.0, days)
    vol1 = vol0 + surface(days, 22.0, f1, 22.0) - surface(days, 22.0, future, 16.0)
    assert stressed.forward == pytest.approx(f1) and stressed.vol == pytest.approx(vol1)
    assert stressed.price == pytest.approx(black76_price(f1, 22.0, days / 365, 0.04, vol1, True))
    assert risk.vix_future(expiry, Scenario(6.0)) == pytest.approx(f1)
    slope = by_hand.curve_slope(days, 16.0)
    assert risk.vix_futures_beta(expiry) == pytest.approx(slope, rel=1e-6)


def test_existing_hedges_and_structures():
    held = leg("H", "VIX", "Call", 22.0, 3, expiry=AS_OF + dt.timedelta(days=60), iv=0.9)
    held["entry_price"] = 0.50
    risk = make_risk([*condor(), held])
    assert list(risk.hedge_legs["group"]) == ["H"]
    assert risk.hedge_premium_paid == pytest.approx(3 * 100 * 0.50)
    structures = risk.structures
    assert list(structures.index) == ["IC", "H"]
    assert list(structures["structure"]) == ["iron condor", "VIX hedge"]
    assert structures.loc["IC", "legs"] == 4
    assert structures.loc["IC", "value"] == pytest.approx(book_value(4000.0, {}), rel=1e-9)
    assert risk.pnl(risk.primary).hedges > 0


def test_make_context_fills_the_declared_defaults():
    signal = Signal(
        "demo",
        lambda ctx: Reading(ctx.settings["demo.level"], True, 1.0, "demo"),
        settings=(Setting("demo.level", 2.5, "float", "a level"),),
    )
    ctx = make_context(closes=[1.0, 2.0], plugins=[signal])
    assert ctx.settings["demo.level"] == 2.5
    assert ctx.settings["engine.plugin_time_limit"] == 10.0
    assert (
        make_context(closes=[1.0], plugins=[signal], settings={"demo.level": 4.0}).settings[
            "demo.level"
        ]
        == 4.0
    )
    bare = make_context(closes=[1.0, 2.0])
    assert evaluate_signal(signal, bare).reading.value == 2.5  # its own defaults fill in


def test_a_sizer_runs_on_a_constructed_risk_report():
    from rules_engine_plugins.alvh_sizer import SETTINGS, size

    risk = make_risk(condor(qty=4), vvix=90.0)
    sizer = Sizer("alvh", size, settings=SETTINGS)
    ctx = make_context(closes=[4000.0] * 30, risk=risk, plugins=[sizer])
    outcome = run_one_sizer(sizer, ctx, {})
    assert outcome.error == ""
    first = outcome.layers[0]
    assert first.status == "ACTIVE" and first.contracts > 0
    assert set(first.payoff_by_scenario) == set(risk.scenarios)
    assert first.payoff_by_scenario[risk.primary] > 0


def test_a_signal_whose_data_is_missing_is_not_evaluated_with_its_reason():
    from rules_engine import NotEvaluated

    def evaluate(ctx):
        if "vix3m" not in ctx.market:
            raise NotEvaluated("needs VIX3M in the Market sheet")
        return Reading(1.0, False, 0.0, "fine")

    signal = Signal("term", evaluate, category="volatility")
    outcome = evaluate_signal(signal, make_context(closes=[1.0, 2.0]))
    assert (outcome.status, outcome.reading) == ("not evaluated", None)
    assert outcome.reason == "needs VIX3M in the Market sheet"
    assert outcome.category == "volatility"
    given = make_context(closes=[1.0], market={"vix3m": 18.0})
    assert evaluate_signal(signal, given).status == "not triggered"


def test_a_missing_history_column_names_the_column():
    signal = Signal("breadth", lambda ctx: Reading(0.0, False, 0.0, "-"), requires=("advances",))
    outcome = evaluate_signal(signal, make_context(closes=[1.0, 2.0]))
    assert outcome.status == "not evaluated"
    assert outcome.reason == "needs column 'advances' in History (absent or empty)"


def test_a_signal_category_outside_the_known_ones_is_refused(tmp_path):
    from rules_engine.host import load_plugins

    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "odd.py").write_text(
        "from rules_engine import Reading, Signal, hookimpl\n"
        "@hookimpl\n"
        "def alvh_register_signals(register):\n"
        "    register(Signal('odd', lambda ctx: Reading(0.0, False, 0.0, '-'), category='astro'))\n"
    )
    host = load_plugins([folder], use_entry_points=False)
    (failure,) = host.failures
    assert "category 'astro' is not one of technical, breadth, volatility" in failure.error
    assert "odd" not in host.signals
