"""Steward rules: sequences of recomputes through the Log, with figures worked by hand.

Every test layer is priced the same way, so the arithmetic is easy to follow: a contract costs
price x 100, pays $400 net in the VIX +6 spike, covers 1% of the projected loss and carries
-$2 a day (-$30 to the roll, -$90 if no spike comes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from rules_engine.logbook import last_run, log_rows
from rules_engine.models import HedgeLayer, LoggedLayer, RuleResult
from rules_engine.risk.market import Scenario
from rules_engine.settings import validate_declaration
from rules_engine.steward import STEWARD_SETTINGS, StewardResult, steady

SPIKE = Scenario(6)
DEFAULTS = {s.name: s.default for s in STEWARD_SETTINGS}
START = dt.datetime(2024, 3, 4, 21, 0)
CALL = "VIX Apr 2024 17 call"


def plan(
    contracts: int,
    status: str = "ACTIVE",
    number: int = 1,
    price: float = 2.5,
    instrument: str = CALL,
    cost_to_target: float | None = 0.0,
    held_group: str | None = None,
) -> HedgeLayer:
    return HedgeLayer(
        layer=number,
        status=status,  # type: ignore[arg-type]
        trigger="Rule `rsi.triggered` fired",
        why="sized by the test",
        instrument=instrument,
        underlying="VIX",
        expiry=dt.date(2024, 4, 17),
        strike=17.0,
        contracts=contracts,
        price=price,
        multiplier=100.0,
        cost=contracts * price * 100.0,
        payoff_by_scenario={SPIKE: contracts * 400.0},
        share_of_loss_covered=contracts * 0.01,
        carry_per_day=contracts * -2.0,
        exit_rule="sell half at 3x cost",
        target_share=0.5,
        carry_to_roll=contracts * -30.0,
        cost_if_no_spike=contracts * -90.0,
        cost_to_target=cost_to_target,
        held_group=held_group,
    )


def held(contracts: int, number: int = 1, status: str = "HOLD") -> HedgeLayer:
    return dataclasses.replace(
        plan(contracts, status, number, instrument=f"+{contracts} x {CALL}", held_group="H1"),
        price=0.0,
        cost_to_target=None,
    )


class Recomputes:
    """A sequence of recomputes: each runs the steward on a sizer's layers against the Log, then
    appends the result to the Log, as the engine does."""

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.log: tuple[LoggedLayer, ...] = ()
        self.settings = {**DEFAULTS, **(settings or {})}
        self.runs = 0

    def run(
        self,
        layers: Sequence[HedgeLayer],
        drawdown: bool = False,
        rules: Mapping[int, RuleResult] | None = None,
    ) -> StewardResult:
        result = steady(layers, last_run(self.log), rules or {}, drawdown, self.settings)
        now = START + dt.timedelta(days=self.runs)
        self.log = log_rows(self.log, result.layers, now, f"inputs{self.runs}")
        self.runs += 1
        return result


def fired(layer: int, value: bool | None) -> dict[int, RuleResult]:
    return {layer: RuleResult(layer, "rsi.triggered", value, "rsi 71.2 > 70")}


def test_settings_are_valid_declarations_with_reasons() -> None:
    assert [s.name for s in STEWARD_SETTINGS] == ["steward.band", "steward.hold_in_drawdown"]
    for setting in STEWARD_SETTINGS:
        assert validate_declaration(setting) == []
        assert len(setting.description) > 80
    assert DEFAULTS == {"steward.band": 0.10, "steward.hold_in_drawdown": True}


def test_a_first_run_passes_the_layers_through_and_has_nothing_to_compare() -> None:
    layers = [plan(20), plan(8, "STANDBY", 2)]
    result = Recomputes().run(layers)
    assert result == StewardResult(tuple(layers), (), None)


def test_recomputing_unchanged_inputs_changes_no_layer() -> None:
    book = Recomputes()
    layers = [plan(20), plan(8, "STANDBY", 2), plan(3, "UNFUNDED", 3), held(5, 1)]
    book.run(layers)
    for _ in range(3):
        result = book.run(layers)
        assert result.layers == tuple(layers)
        assert result.changes == ()
    assert result.since == START + dt.timedelta(days=2)
    assert len(book.log) == 4 * len(layers)  # the Log still records every run


def test_contracts_wobbling_inside_the_band_change_no_layer() -> None:
    """Last run bought 20; 10% of 20 is 2, so 18 to 22 keep 20. The price moves too: the kept 20
    are costed at each run's price (20 x 2.60 x 100 = $5,200)."""
    book = Recomputes()
    book.run([plan(20)])
    for contracts, price in ((21, 2.55), (19, 2.45), (22, 2.60), (18, 2.40), (20, 2.50)):
        result = book.run([plan(contracts, price=price)])
        [layer] = result.layers
        assert result.changes == ()
        assert layer.contracts == 20
        assert layer.cost == pytest.approx(20 * price * 100)
    assert [r.contracts for r in book.log] == [20] * 6
    assert book.log[3].cost == pytest.approx(5200.0)


def test_kept_contracts_are_priced_pro_rata_from_this_runs_layer() -> None:
    """The sizer says 22 (cost 22 x 250 = $5,500; 2 contracts short of its target, $500 more);
    20 are kept: cost $5,000, payoff 20 x 400 = $8,000, covered 20%, carry -$40/day, -$600 to
    the roll, -$1,800 with no spike, notional scaled alike; and to reach the target now takes
    $500 + $5,500 - $5,000 = $1,000."""
    book = Recomputes()
    book.run([plan(20)])
    [layer] = book.run([plan(22, cost_to_target=500.0)]).layers
    assert (layer.status, layer.contracts) == ("ACTIVE", 20)
    assert layer.cost == pytest.approx(5000.0)
    assert layer.payoff_by_scenario == {SPIKE: pytest.approx(8000.0)}
    assert layer.share_of_loss_covered == pytest.approx(0.20)
    assert layer.carry_per_day == pytest.approx(-40.0)
    assert layer.carry_to_roll == pytest.approx(-600.0)
    assert layer.cost_if_no_spike == pytest.approx(-1800.0)
    assert layer.cost_to_target == pytest.approx(1000.0)
    assert (layer.price, layer.target_share) == (2.5, 0.5)
    assert layer.why == (
        "Steward: kept the last recompute's 20 contracts (this run: 22, "
        "within the 10% band). This run's sizing: sized by the test"
    )


def test_a_change_outside_the_band_goes_through_and_is_counted() -> None:
    book = Recomputes()
    book.run([plan(20)])
    result = book.run([plan(23)])  # 3 > 10% of 20
    assert result.layers == (plan(23),)
    assert result.changes == (f"layer 1: ACTIVE 20 x {CALL} -> ACTIVE 23 x {CALL}",)
    assert book.run([plan(24)]).layers[0].contracts == 23  # the band is now around 23


def test_the_band_is_measured_from_the_kept_contracts_so_a_drift_shows() -> None:
    book = Recomputes()
    book.run([plan(20)])
    assert book.run([plan(22)]).layers[0].contracts == 20
    assert book.run([plan(23)]).layers[0].contracts == 23


def test_the_band_needs_the_same_status_and_instrument() -> None:
    book = Recomputes()
    book.run([plan(20, "STANDBY")])
    assert book.run([plan(21, "ACTIVE")]).layers == (plan(21, "ACTIVE"),)
    book.run([plan(21, instrument="VIX Apr 2024 18 call")])
    assert book.run([plan(20)]).layers == (plan(20),)


def test_a_band_of_zero_follows_the_sizer() -> None:
    book = Recomputes({"steward.band": 0.0})
    book.run([plan(20)])
    assert book.run([plan(21)]).layers == (plan(21),)


def test_standby_layers_are_steadied_too() -> None:
    book = Recomputes()
    book.run([plan(20), plan(10, "STANDBY", 2)])
    result = book.run([plan(20), plan(11, "STANDBY", 2)])
    assert [x.contracts for x in result.layers] == [20, 10]
    assert result.changes == ()


# --- drawdown -------------------------------------------------------------------------------------


def test_in_a_drawdown_an_active_hedge_stood_down_is_kept_until_its_trigger_clears() -> None:
    """Layer 1 was ACTIVE with 20. In a drawdown the sizer stands it down to STANDBY 12 while
    its trigger still fires: it stays ACTIVE with 20 (cost 20 x 250 = $5,000, covered 20%).
    Once its trigger has cleared, the sizer's STANDBY 12 goes through."""
    book = Recomputes()
    book.run([plan(20)], drawdown=True, rules=fired(1, True))
    result = book.run([plan(12, "STANDBY")], drawdown=True, rules=fired(1, True))
    [layer] = result.layers
    assert (layer.status, layer.contracts) == ("ACTIVE", 20)
    assert layer.cost == pytest.approx(5000.0)
    assert layer.share_of_loss_covered == pytest.approx(0.20)
    assert layer.why.startswith(
        "Steward: kept ACTIVE at the last recompute's 20 contracts (this run: STANDBY 12) because "
        "the condor book is in drawdown and its trigger `rsi.triggered` still fires"
    )
    assert result.changes == ()
    again = book.run([plan(12, "STANDBY")], drawdown=True, rules=fired(1, True))
    assert again.layers == result.layers  # and so on, every recompute of the drawdown
    cleared = book.run([plan(12, "STANDBY")], drawdown=True, rules=fired(1, False))
    assert cleared.layers == (plan(12, "STANDBY"),)
    assert cleared.changes == (f"layer 1: ACTIVE 20 x {CALL} -> STANDBY 12 x {CALL}",)


@pytest.mark.parametrize(
    ("now", "rules", "reason"),
    [
        (plan(12), {}, "no Rules-sheet trigger says it cleared"),
        (plan(5, "UNFUNDED", cost_to_target=1250.0), fired(1, None), "could not be evaluated"),
    ],
)
def test_in_a_drawdown_a_cut_or_unfunded_active_layer_is_kept(
    now: HedgeLayer, rules: dict[int, RuleResult], reason: str
) -> None:
    book = Recomputes()
    book.run([plan(20)])
    [layer] = book.run([now], drawdown=True, rules=rules).layers
    assert (layer.status, layer.contracts) == ("ACTIVE", 20)
    assert reason in layer.why
    # UNFUNDED 5 needed $1,250 in all; 20 kept cost $5,000: nothing more to reach the target.
    assert layer.cost_to_target == 0.0


def test_without_a_drawdown_the_sizer_is_followed() -> None:
    book = Recomputes()
    book.run([plan(20)])
    assert book.run([plan(12, "STANDBY")], rules=fired(1, True)).layers == (plan(12, "STANDBY"),)


def test_the_drawdown_rule_can_be_turned_off() -> None:
    book = Recomputes({"steward.hold_in_drawdown": False})
    book.run([plan(20)])
    result = book.run([plan(12, "STANDBY")], drawdown=True, rules=fired(1, True))
    assert result.layers == (plan(12, "STANDBY"),)


def test_in_a_drawdown_a_layer_the_trader_bought_is_not_bought_twice() -> None:
    """Layer 1 was ACTIVE 20; the trader bought 15 of them, which now show as a held hedge of
    layer 1, and the sizer asks for the 5 still missing: those 5 are the plan, not 20."""
    book = Recomputes()
    book.run([plan(20)])
    result = book.run([plan(5), held(15)], drawdown=True)
    assert result.layers == (plan(5), held(15))
    assert result.changes == (
        f"layer 1: ACTIVE 20 x {CALL} -> ACTIVE 5 x {CALL}",
        f"layer 1: new, HOLD 15 x +15 x {CALL}",
    )


def test_in_a_drawdown_a_layer_with_nothing_left_to_hedge_is_let_go() -> None:
    book = Recomputes()
    book.run([plan(20)])
    result = book.run([plan(0, "STANDBY")], drawdown=True, rules=fired(1, True))
    assert result.layers == (plan(0, "STANDBY"),)


def test_a_layer_that_grows_in_a_drawdown_follows_the_sizer() -> None:
    book = Recomputes()
    book.run([plan(20)])
    assert book.run([plan(30)], drawdown=True).layers == (plan(30),)


# --- the other rules ------------------------------------------------------------------------------


def test_never_active_with_zero_contracts() -> None:
    [layer] = Recomputes().run([plan(0)]).layers
    assert (layer.status, layer.contracts) == ("STANDBY", 0)
    assert layer.why.endswith("shown STANDBY, as an ACTIVE layer needs at least one contract")


def test_held_hedges_are_never_changed() -> None:
    book = Recomputes()
    book.run([held(20)])
    result = book.run([held(21, status="TAKE PROFIT")], drawdown=True)
    assert result.layers == (held(21, status="TAKE PROFIT"),)
    assert result.changes == (
        f"layer 1: new, TAKE PROFIT 21 x +21 x {CALL}",
        f"layer 1: gone (was HOLD 20 x +20 x {CALL})",
    )


def test_changes_name_each_layer_new_gone_or_different() -> None:
    book = Recomputes()
    book.run([plan(20), plan(8, "STANDBY", 2), plan(4, "STANDBY", 3)])
    result = book.run([plan(20), plan(8, "ACTIVE", 2), plan(6, "STANDBY", 4)])
    assert result.changes == (
        f"layer 2: STANDBY 8 x {CALL} -> ACTIVE 8 x {CALL}",
        f"layer 4: new, STANDBY 6 x {CALL}",
        f"layer 3: gone (was STANDBY 4 x {CALL})",
    )
    assert result.since == START
