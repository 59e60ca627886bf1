"""The built-in sizers `vega_ratio`, `credit_budget` and `fixed_ratio`, each against a hand-worked
example, and `alvh recompute --sizer NAME`.

The book: 5 iron condors 3700/3800 puts and 4200/4300 calls, 30 days, credit 7.40 a unit, on
2024-01-31 with SPX 4000, VIX 16, VVIX 90, rate 4%, and the VIX futures curve 17.0 (30 days),
17.5 (60 days), 18.0, ... (make_risk's default). Every sizer buys the same call with its default
strike and expiry settings: the expiries 30 and 60 days out are both 15 days from the 45-day
target, the later one wins (2024-03-31, future 17.5); 35% above 17.5 is 23.625, whole points on
Cboe's grid: the 24 strike. Prices and values come from the reference Black-76, the stress model
and the liquidity rules written out by hand (tests/stress_by_hand.py).
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import stress_by_hand as by_hand
from cli_support import EXAMPLE, cells, table
from click.testing import CliRunner
from reference_pricing import black76_price, bsm_price

from rules_engine import HedgeLayer, Scenario, Sizer
from rules_engine.cli import main
from rules_engine.models import SettingCell
from rules_engine.settings import resolve_settings
from rules_engine.testing import leg, make_context, make_risk, run_one_sizer
from rules_engine_plugins import alvh_sizer, credit_budget, fixed_ratio, vega_ratio

AS_OF = dt.date(2024, 1, 31)
MAR = AS_OF + dt.timedelta(days=60)  # 2024-03-31, future 17.5
RATE = 0.04
QTY = 5
T30 = 30 / 365
IVS = {3700: 0.24, 3800: 0.21, 4200: 0.14, 4300: 0.13}
SIZES = {3700: 1, 3800: -1, 4200: -1, 4300: 1}


def condor(qty: float = QTY) -> list[dict]:
    return [
        leg("IC", "SPX", "Put", 3700, qty, entry_price=3.10, iv=0.24),
        leg("IC", "SPX", "Put", 3800, -qty, entry_price=7.60, iv=0.21),
        leg("IC", "SPX", "Call", 4200, -qty, entry_price=5.20, iv=0.14),
        leg("IC", "SPX", "Call", 4300, qty, entry_price=2.30, iv=0.13),
    ]


def held_calls(qty: float, entry: float = 0.50) -> dict:
    return leg("H", "VIX", "Call", 24.0, qty, expiry=MAR, iv=0.90, entry_price=entry)


# --- the hand-worked market --------------------------------------------------------------------


def curve_model(vix: float, days: float) -> float:
    return by_hand.curve_model(vix, days, by_hand.LONG_RUN_MEAN)


def surface(days: float, forward: float, vix: float, strike: float = 24.0) -> float:
    return by_hand.surface(days, strike, forward, vix, vvix=90.0, vix_today=16.0)


def future(points: float, days: float = 60.0) -> float:
    """The 60-day future 17.5 after VIX moves `points` at once (the curve model's change)."""
    return 17.5 + curve_model(16.0 + points, days) - curve_model(16.0, days)


def call_mid(forward: float, days: float, vix: float) -> float:
    """The 24 call at the surface's vol (it has no IV of its own: the surface's change applies
    to the surface's own vol, so the vol is the surface's there)."""
    return black76_price(forward, 24.0, days / 365, RATE, surface(days, forward, vix), True)


MID = call_mid(17.5, 60, 16.0)  # 0.9305


def aged_mid(forward: float, days: float) -> float:
    """The 24 call `60 - days` days on with VIX unchanged: it keeps today's vol but for the
    skew its new moneyness reads, both read at its tenor then (the stress model's rule)."""
    vol = surface(60, 17.5, 16.0) + surface(days, forward, 16.0) - surface(days, 17.5, 16.0)
    return black76_price(forward, 24.0, days / 365, RATE, vol, True)


PRICE = 0.98  # ask: 0.9305 + 5% of it (0.0465) = 0.9770, up to the $0.01 tick
SOLD_6 = by_hand.bid(call_mid(future(6.0), 60, 22.0), 2.0)  # VIX +6: bid, half-spread doubled
PAY_6 = (SOLD_6 - PRICE) * 100  # net $ a contract in the primary spike


def book_value(spot: float, shift: dict[int, float]) -> float:
    """One condor unit at SPX `spot`, each IV moved by `shift[strike]` (BSM, 30 days, r 4%)."""
    return sum(
        SIZES[k] * 100 * bsm_price(spot, k, T30, RATE, 0.0, IVS[k] + shift[k], k > 4000)
        for k in IVS
    )


def iv_shift(points: float, spot: float) -> dict[int, float]:
    """SPX IV change: 0.9 vol point per VIX point (30-day tenor factor 1) plus 0.1 per VIX point
    per 10% of strike below the scenario's SPX."""
    n = points / 100
    return {k: n * 0.9 + n * 0.1 * max(math.log(spot / k), 0.0) / 0.10 for k in IVS}


SPX_6 = 4000 * (22 / 16) ** by_hand.BETA_MID  # the regime rule, VIX 16 -> 22
#: The book's projected loss in the primary spike VIX +6: $5,533.64.
LOSS = -QTY * (book_value(SPX_6, iv_shift(6.0, SPX_6)) - book_value(4000, iv_shift(0.0, 4000)))


def test_the_hand_worked_market():
    assert round(MID, 4) == 0.9305
    assert by_hand.ask(MID) == PRICE
    assert SOLD_6 == 2.03 and round(PAY_6, 9) == 105.0
    risk = make_risk(condor(), vvix=90.0)
    assert round(LOSS, 2) == 5533.64
    assert risk.projected_loss() == pytest.approx(LOSS, rel=1e-9)


# --- running a sizer ----------------------------------------------------------------------------


def sizer_of(module) -> Sizer:
    return Sizer(module.NAME, module.size, settings=module.SETTINGS)


def run(module, *legs: dict, chain: pd.DataFrame | None = None, **settings) -> HedgeLayer:
    risk = make_risk(list(legs) or condor(), vvix=90.0)
    sizer = sizer_of(module)
    given = {f"{module.NAME}.{k}": v for k, v in settings.items()}
    ctx = make_context(risk=risk, plugins=[sizer], settings=given)
    if chain is not None:
        ctx = replace(ctx, vix_options=chain)
    outcome = run_one_sizer(sizer, ctx, {})
    assert outcome.error == "", outcome.error
    (layer,) = outcome.layers
    return layer


def assert_bought(layer: HedgeLayer, contracts: int) -> None:
    """The call, its price and the figures that follow from the contracts alone."""
    assert (layer.instrument, layer.expiry, layer.strike) == ("VIX Mar 2024 24 call", MAR, 24.0)
    assert (layer.kind, layer.multiplier, layer.notional) == ("vix_call", 100.0, 0.0)
    assert layer.contracts == contracts and layer.price == PRICE
    assert layer.cost == pytest.approx(contracts * PRICE * 100, abs=1e-9)
    assert layer.payoff_by_scenario[Scenario(6.0)] == pytest.approx(contracts * PAY_6)
    assert layer.share_of_loss_covered == pytest.approx(contracts * PAY_6 / LOSS, rel=1e-9)


# --- fixed_ratio --------------------------------------------------------------------------------


def test_fixed_ratio_buys_one_call_per_two_condors():
    layer = run(fixed_ratio)
    # ceil(5 / 2) = 3 calls at 0.98: $294; 3 x $105 = $315 of the $5,533.64: 5.7%
    assert_bought(layer, 3)
    assert layer.cost == pytest.approx(294.0)
    assert layer.status == "ACTIVE" and layer.trigger.startswith("Active now")
    assert layer.target_share == pytest.approx(3 * PAY_6 / LOSS, rel=1e-9)
    assert layer.share_of_loss_covered == pytest.approx(315.0 / LOSS)
    assert layer.cost_to_target == 0.0
    assert "ceil(5 / 2) = 3 calls, less 0 held: 3" in layer.why


@pytest.mark.parametrize(("per_call", "contracts"), [(1, 5), (2, 3), (4, 2)])
def test_fixed_ratio_presets(per_call: int, contracts: int):
    # 1:1 ceil(5/1) = 5, 1:2 ceil(5/2) = 3, 1:4 ceil(5/4) = 2
    assert run(fixed_ratio, condors_per_call=per_call).contracts == contracts


def test_fixed_ratio_counts_the_calls_held_and_stands_by_when_they_make_the_ratio():
    assert run(fixed_ratio, *condor(), held_calls(2)).contracts == 1  # 3 - 2 held
    layer = run(fixed_ratio, *condor(), held_calls(3))
    assert (layer.status, layer.contracts, layer.cost, layer.cost_to_target) == (
        "STANDBY",
        0,
        0.0,
        0.0,
    )
    assert layer.trigger == "Standby: the 3 VIX calls held already make one per 2 condors"
    assert layer.share_of_loss_covered == 0.0 and layer.target_share == 0.0


def test_carry_and_the_cost_if_no_spike_with_the_curve_rolling_down():
    layer = run(fixed_ratio)  # 3 calls
    # a day later the call has 59 days on the curve between 17.0 (30 days) and 17.5 (60 days)
    f59 = 17.0 + 0.5 * 29 / 30
    assert layer.carry_per_day == pytest.approx(300 * (aged_mid(f59, 59) - MID), rel=1e-9)
    # rolled at 21 days to expiry, 39 days on: 21 days between spot 16 and 17.0 (30 days)
    f21 = 16.0 + 1.0 * 21 / 30
    assert layer.carry_to_roll == pytest.approx(300 * (aged_mid(f21, 21) - MID), rel=1e-9)
    # the condors expire in 30 days: sold then at the bid (normal spread), against 0.98 paid
    closed = by_hand.bid(aged_mid(17.0, 30), 1.0)
    assert layer.cost_if_no_spike == pytest.approx(300 * (closed - PRICE), abs=1e-9)
    assert layer.carry_to_roll < layer.carry_per_day < 0
    # worth 2.03 / 0.98 = 2.07x in the design spike: the 3x take profit cannot fire there
    assert layer.exit_rule == (
        "Sell half when worth 3x cost (2.94 a contract); close or roll at 21 days to expiry "
        "(2024-03-10)"
    )


def test_a_take_profit_below_the_design_spike_is_raised_above_it():
    layer = run(fixed_ratio, take_profit_multiple=1.5)
    # worth 2.03 / 0.98 = 2.0714x at VIX +6: the first tenth above it is 2.1x, 2.1 x 0.98 = 2.06
    assert layer.exit_rule.startswith(
        "Sell half when worth 2.1x cost (2.06 a contract) (raised from 1.5x: in VIX +6 it is "
        "worth 2.07x)"
    )


def test_open_interest_caps_the_calls_and_the_cost_to_target_says_what_is_missing():
    chain = pd.DataFrame(
        {
            "expiry": [MAR],
            "strike": [24.0],
            "call_bid": [0.90],
            "call_ask": [1.00],
            "iv": [0.90],
            "open_interest": [30.0],
        }
    )
    layer = run(fixed_ratio, chain=chain, condors_per_call=1)  # wants ceil(5 / 1) = 5
    # bought at the chain's ask 1.00; 10% of the open interest 30 is 3 contracts
    assert (layer.status, layer.contracts, layer.price) == ("ACTIVE", 3, 1.00)
    assert layer.cost == pytest.approx(300.0)
    assert layer.cost_to_target == pytest.approx(2 * 100.0)
    # priced at the chain's IV 0.90, moved by the surface's change
    f6 = future(6.0)
    vol6 = 0.90 + surface(60, f6, 22.0) - surface(60, 17.5, 16.0)
    pay = (by_hand.bid(black76_price(f6, 24.0, 60 / 365, RATE, vol6, True), 2.0) - 1.00) * 100
    assert layer.share_of_loss_covered == pytest.approx(3 * pay / LOSS, rel=1e-9)
    assert layer.target_share == pytest.approx(5 * pay / LOSS, rel=1e-9)
    assert "5 contracts capped at 3, 10% of its open interest 30" in layer.why
    starved = run(fixed_ratio, chain=chain.assign(open_interest=[5.0]))
    assert (starved.status, starved.contracts) == ("STANDBY", 0)
    assert "capped at 0" in starved.trigger


# --- credit_budget ------------------------------------------------------------------------------


def test_credit_budget_spends_a_quarter_of_the_credit():
    layer = run(credit_budget)
    # credit 5 x (7.60 + 5.20 - 3.10 - 2.30) x 100 = $3,700; 25% = $925;
    # floor(925 / 98) = 9 calls, $882, $43 left
    assert_bought(layer, 9)
    assert layer.cost == pytest.approx(882.0)
    assert layer.status == "ACTIVE"
    assert layer.target_share == pytest.approx(9 * PAY_6 / LOSS, rel=1e-9)
    assert layer.share_of_loss_covered == pytest.approx(9 * 105.0 / LOSS)
    assert layer.cost_to_target == 0.0
    assert "budget $925; floor($925 / $98.00) = 9 calls for $882.00, $43.00 left" in layer.why


def test_credit_budget_counts_the_premium_of_the_hedges_held():
    # $925 less 2 x 100 x 0.50 = $825: floor(825 / 98) = 8
    assert run(credit_budget, *condor(), held_calls(2)).contracts == 8


@pytest.mark.parametrize(
    ("share", "reason"),
    [
        (0.0, "credit_budget.share is 0: no premium budget"),
        (0.02, "the $74 budget buys no call at $98.00 a contract"),  # 2% of $3,700
    ],
)
def test_credit_budget_stands_by_when_the_budget_buys_nothing(share: float, reason: str):
    layer = run(credit_budget, share=share)
    assert (layer.status, layer.contracts, layer.cost) == ("STANDBY", 0, 0.0)
    assert layer.trigger == f"Standby: {reason}"


def test_a_budget_above_the_whole_credit_is_refused_at_its_cell():
    values, issues = resolve_settings(
        {"credit_budget.share": SettingCell(1.5, "B90")}, credit_budget.SETTINGS
    )
    (issue,) = issues
    assert (issue.severity, issue.sheet, issue.cell) == ("error", "Settings", "B90")
    assert issue.message == "credit_budget.share: 1.5 is above the maximum 1"
    assert values["credit_budget.share"] == 0.25  # never used: the run stops on the error


# --- vega_ratio ---------------------------------------------------------------------------------


def per_vix_point(value) -> float:
    """Central difference over VIX +/-0.5 with SPX held, per VIX point."""
    return value(0.5) - value(-0.5)


def book_at(points: float) -> float:
    return QTY * book_value(4000, iv_shift(points, 4000))


def call_at(points: float) -> float:
    return 100 * call_mid(future(points), 60, 16.0 + points)


def held_at(points: float, qty: float = 2) -> float:
    """The held calls keep their IV 0.90 and move with the surface's change."""
    f = future(points)
    vol = 0.90 + surface(60, f, 16.0 + points) - surface(60, 17.5, 16.0)
    return qty * 100 * black76_price(f, 24.0, 60 / 365, RATE, vol, True)


def test_vega_ratio_offsets_forty_percent_of_the_books_dollars_per_vix_point():
    book, call = per_vix_point(book_at), per_vix_point(call_at)
    assert book == pytest.approx(-1058, abs=1) and call == pytest.approx(16.14, abs=0.01)
    # 0.4 x 1,058 = $423 a point; 423 / 16.14 = 26.2 -> 27 calls
    contracts = math.ceil(0.4 * -book / call)
    assert contracts == 27
    layer = run(vega_ratio)
    assert_bought(layer, 27)
    assert layer.cost == pytest.approx(27 * 98.0)
    assert layer.status == "ACTIVE"
    assert layer.target_share == pytest.approx(27 * PAY_6 / LOSS, rel=1e-9)
    assert layer.cost_to_target == 0.0
    assert "ceil((0.4 x $1,058 - $0) / $16.14 a call) = 27" in layer.why


def test_vega_ratio_nets_the_hedges_held():
    book, call, held = per_vix_point(book_at), per_vix_point(call_at), per_vix_point(held_at)
    assert held == pytest.approx(29.10, abs=0.01)
    # 0.4 x 1,057.80 - 29.10 = $394.02 a point; 394.02 / 16.14 = 24.4 -> 25 calls
    contracts = math.ceil((0.4 * -book - held) / call)
    assert contracts == 25
    layer = run(vega_ratio, *condor(), held_calls(2))
    assert layer.contracts == 25
    assert "ceil((0.4 x $1,058 - $29) / $16.14 a call) = 25" in layer.why
    flush = run(vega_ratio, *condor(), held_calls(30))  # 15 x $29.10 = $437 > $423
    assert (flush.status, flush.contracts) == ("STANDBY", 0)
    assert flush.trigger == (
        "Standby: the existing hedges already offset 40% of the book's VIX exposure"
    )


def test_vega_ratio_stands_by_with_nothing_to_hedge():
    layer = run(vega_ratio, ratio=0.0)
    assert (layer.status, layer.contracts) == ("STANDBY", 0)
    assert layer.trigger == "Standby: vega_ratio.ratio is 0"
    long_put = leg("P", "SPX", "Put", 3800, 1, entry_price=7.60, iv=0.21)
    layer = run(vega_ratio, long_put)
    assert (layer.status, layer.contracts, layer.share_of_loss_covered) == ("STANDBY", 0, 0.0)
    assert "the book does not lose as VIX rises" in layer.trigger


# --- alvh recompute --sizer ---------------------------------------------------------------------


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "book.xlsx"
    shutil.copy(EXAMPLE, path)
    return path


def test_recompute_with_sizer_uses_it_for_this_run_only(book: Path):
    result = CliRunner().invoke(main, ["recompute", str(book), "--sizer", "fixed_ratio"])
    assert result.exit_code == 0, result.output
    rows = table(book, "Hedge", cells(book, "Hedge")[2][0])
    (layer,) = [r for r in rows if r["Status"] in ("ACTIVE", "STANDBY")]
    # the example's condors: 8 + 10 + 5 = 23 contracts; ceil(23 / 2) = 12 calls
    assert (layer["Status"], layer["Contracts"]) == ("ACTIVE", 12)
    assert layer["Instrument"].endswith(" call")
    assert layer["Why"].startswith("One VIX call per 2 condor contracts (1:2): ceil(23 / 2) = 12")
    run_info = {r["Field"]: r["Value"] for r in table(book, "Run", "Run")}
    assert run_info["Sizer"] == "fixed_ratio"
    settings = {r[0]: r[1] for r in cells(book, "Settings")}
    assert settings["engine.sizer"] == "alvh"  # the workbook's choice is left as it was


def test_an_unknown_sizer_is_an_input_error_naming_the_loaded_ones(book: Path):
    result = CliRunner().invoke(main, ["recompute", str(book), "--sizer", "nope"])
    assert result.exit_code == 1
    assert "error: --sizer names 'nope', which no loaded plugin provides (loaded: " in (
        result.stderr
    )
    assert all(name in result.stderr for name in ("credit_budget", "fixed_ratio", "vega_ratio"))
    assert "--sizer 'nope' is not a loaded sizer, so nothing was computed" in result.stderr
    run_sheet = cells(book, "Run")
    assert any("--sizer names 'nope'" in str(v) for row in run_sheet for v in row)


@pytest.mark.parametrize(
    "plugin", [credit_budget, fixed_ratio, vega_ratio, alvh_sizer], ids=lambda p: p.__name__
)
def test_an_empty_book_buys_nothing_and_says_so(plugin) -> None:
    """No condors: nothing to hedge, so no layer is ACTIVE and none costs anything."""
    sizers: list[Sizer] = []
    plugin.alvh_register_sizers(sizers.append)
    [sizer] = sizers
    ctx = make_context(risk=make_risk([]), plugins=[sizer])
    outcome = run_one_sizer(sizer, ctx, {})
    assert not outcome.error, outcome.error
    assert all(x.status != "ACTIVE" for x in outcome.layers)
    assert all(x.why for x in outcome.layers)
