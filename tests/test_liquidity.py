"""The liquidity model: ticks, entry at the ask or a modelled spread, widened exits, the
open-interest cap. Every expected price is worked out by hand in the test."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules_engine.risk.liquidity import (
    DEFAULT_LIQUIDITY,
    LIQUIDITY_SETTINGS,
    Liquidity,
    TickRule,
    buyback_price,
    cap_by_open_interest,
    entry_price,
    exit_price,
    round_to_tick,
)

OPTION = DEFAULT_LIQUIDITY.option
FUTURE = DEFAULT_LIQUIDITY.future
ETP = DEFAULT_LIQUIDITY.etp


def test_round_to_tick_up_for_a_buyer_down_for_a_seller() -> None:
    assert round_to_tick(1.234, 0.05, up=True) == 1.25
    assert round_to_tick(1.234, 0.05, up=False) == 1.20
    assert round_to_tick(1.25, 0.05, up=True) == 1.25  # on the grid: unchanged either way
    assert round_to_tick(1.25, 0.05, up=False) == 1.25
    assert round_to_tick(0.1 + 0.2, 0.01, up=True) == 0.30  # 0.30000000000000004 is 0.30


def test_vix_option_tick_depends_on_the_premium() -> None:
    # Cboe since 2022-10-03: 0.01 under $3, 0.05 from $3 on.
    rule = TickRule(0.01, 0.05, 3.0)
    assert rule.at(2.99) == 0.01
    assert rule.at(3.00) == 0.05
    assert rule.round(3.02, up=True) == 3.05
    assert rule.round(3.02, up=False) == 3.00
    assert rule.round(2.994, up=True) == 3.00  # 299.4 pennies -> 300


def test_the_defaults_are_cboes_current_ticks() -> None:
    assert OPTION.tick == TickRule(0.01, 0.05, 3.0)
    assert FUTURE.tick.at(20.0) == 0.05
    assert ETP.tick.at(25.0) == 0.01


def test_entry_is_the_chains_ask_when_given() -> None:
    quote = entry_price(1.12, 1.20, spread=OPTION)
    assert quote.price == 1.20
    assert quote.mid == 1.12
    assert "ask" in quote.source


@pytest.mark.parametrize(
    ("mid", "expected"),
    [
        (1.00, 1.05),  # half-spread 5% x 1.00 = 0.05: 1.05, on the penny grid
        (1.234, 1.30),  # 0.0617: 1.2957 -> 1.30
        (0.10, 0.11),  # 5% is 0.005, below one tick: the floor 0.01 -> 0.11
        (3.50, 3.70),  # 0.175: 3.675, at or above $3 the tick is 0.05 -> 3.70
    ],
)
def test_entry_without_a_quote_is_mid_plus_the_modelled_half_spread(
    mid: float, expected: float
) -> None:
    quote = entry_price(mid, None, spread=OPTION)
    assert quote.price == pytest.approx(expected, abs=1e-12)
    assert "modelled half-spread" in quote.source


def test_pre_2022_ticks_are_a_setting_away() -> None:
    old = Liquidity.from_settings(
        {"liquidity.vix_option_tick": 0.05, "liquidity.vix_option_tick_above": 0.10}
    )
    # mid 0.50: 5% is 0.025, the floor is one 0.05 tick: 0.55.
    assert entry_price(0.50, spread=old.option).price == pytest.approx(0.55, abs=1e-12)
    # mid 4.00: half-spread 0.20 -> 4.20, on the 0.10 grid.
    assert entry_price(4.00, spread=old.option).price == pytest.approx(4.20, abs=1e-12)


@pytest.mark.parametrize(
    ("mid", "widening", "expected"),
    [
        (2.437, 2.0, 2.19),  # 2 x 0.12185 = 0.2437: 2.1933 -> 2.19
        (2.437, 1.0, 2.31),  # 0.12185: 2.31515 -> 2.31
        (4.00, 2.0, 3.60),  # 2 x 0.20: 3.60, on the 0.05 grid
        (3.10, 2.0, 2.79),  # 2 x 0.155: 2.79, below $3 the tick is 0.01
        (0.015, 2.0, 0.0),  # 2 x one tick 0.01 is more than it is worth: nothing, never < 0
    ],
)
def test_exit_is_mid_less_the_widened_half_spread_rounded_down(
    mid: float, widening: float, expected: float
) -> None:
    assert exit_price(mid, widening, spread=OPTION) == pytest.approx(expected, abs=1e-12)


def test_a_short_leg_is_bought_back_at_the_widened_ask() -> None:
    # mid 1.00, half-spread 0.05 widened 2x: 1.10.
    assert buyback_price(1.00, 2.0, spread=OPTION) == pytest.approx(1.10, abs=1e-12)


def test_futures_cross_one_tick_each_way_and_two_in_a_spike() -> None:
    assert entry_price(13.85, spread=FUTURE).price == pytest.approx(13.90, abs=1e-12)
    assert entry_price(13.87, spread=FUTURE).price == pytest.approx(13.95, abs=1e-12)  # 13.92 up
    assert exit_price(13.85, 2.0, spread=FUTURE) == pytest.approx(13.75, abs=1e-12)


def test_etp_shares_cross_a_cent() -> None:
    assert entry_price(25.00, spread=ETP).price == pytest.approx(25.01, abs=1e-12)
    assert exit_price(25.00, 2.0, spread=ETP) == pytest.approx(24.98, abs=1e-12)


def test_open_interest_cap_binds_with_a_warning() -> None:
    contracts, warning = cap_by_open_interest(50, 305.0, 0.1, "VIX Mar 2018 19 call")
    assert contracts == 30  # 10% of 305 is 30.5: whole contracts, rounded down
    assert warning == (
        "VIX Mar 2018 19 call: 50 contracts capped at 30, 10% of its open interest 305"
    )


def test_open_interest_cap_leaves_small_or_unknown_sizes_alone() -> None:
    assert cap_by_open_interest(20, 300.0, 0.1) == (20, None)
    assert cap_by_open_interest(30, 300.0, 0.1) == (30, None)  # exactly at the cap
    assert cap_by_open_interest(50, None, 0.1) == (50, None)
    assert cap_by_open_interest(50, math.nan, 0.1) == (50, None)


def test_settings_are_declared_with_bounds_and_sources() -> None:
    names = [s.name for s in LIQUIDITY_SETTINGS]
    assert len(names) == len(set(names))
    for setting in LIQUIDITY_SETTINGS:
        assert setting.name.startswith("liquidity.")
        assert setting.minimum is not None and setting.maximum is not None
        assert setting.minimum <= setting.default <= setting.maximum
        assert len(setting.description) > 60
    widening = next(s for s in LIQUIDITY_SETTINGS if s.name == "liquidity.stress_widening")
    assert (widening.default, widening.minimum, widening.maximum) == (2.0, 1.0, 10.0)
    assert "2018-02-05" in widening.description


def test_settings_override_the_defaults() -> None:
    model = Liquidity.from_settings({"liquidity.stress_widening": 4.0})
    assert model.widening == 4.0
    assert model.option == DEFAULT_LIQUIDITY.option


def _on_grid(price: float, rule: TickRule) -> bool:
    steps = price / rule.at(price)
    return abs(steps - round(steps)) < 1e-6


@given(
    mid=st.floats(min_value=0.0, max_value=60.0, allow_nan=False),
    widening=st.floats(min_value=1.0, max_value=10.0),
)
def test_exit_at_most_mid_at_most_entry_all_on_the_tick(mid: float, widening: float) -> None:
    bought = entry_price(mid, spread=OPTION).price
    sold = exit_price(mid, widening, spread=OPTION)
    assert 0.0 <= sold <= mid <= bought
    assert _on_grid(bought, OPTION.tick)
    assert _on_grid(sold, OPTION.tick)
    assert buyback_price(mid, widening, spread=OPTION) >= bought - 1e-12
