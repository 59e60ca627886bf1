"""The answer first: the summary lines, worked by hand from layers whose figures are simple."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from rules_engine.models import HedgeLayer
from rules_engine.risk.market import Scenario
from rules_engine.summary import PremiumBudget, orders, summarize

SPIKE = Scenario(6)


def layer(number: int, status: str, contracts: int, **fields: object) -> HedgeLayer:
    base = HedgeLayer(
        layer=number,
        status=status,  # type: ignore[arg-type]
        trigger="Rule `True` fired: True",
        why="sized by the test",
        instrument=f"VIX Mar 2018 {18 + number} call",
        underlying="VIX",
        expiry=dt.date(2018, 3, 21),
        strike=18.0 + number,
        contracts=contracts,
        price=0.55,
        multiplier=100.0,
        cost=contracts * 55.0,
        payoff_by_scenario={SPIKE: contracts * 100.0},
        share_of_loss_covered=contracts * 0.01,
        carry_per_day=contracts * -1.5,
        exit_rule="sell half at 3x cost",
        target_share=0.4,
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


ANALOGS = pd.DataFrame(
    {
        "Start": [dt.date(2018, 1, 26), dt.date(2020, 2, 19)],
        "End": [dt.date(2018, 2, 5), dt.date(2020, 3, 16)],
        "Book Unhedged ($)": [-5_000.0, -20_000.0],
        "With Recommended Layers ($)": [-1_000.0, -12_000.0],
    }
)


def test_the_summary_by_hand() -> None:
    """Layer 1 ACTIVE 30 ($1,650, covers 30%), layer 2 ACTIVE 10 ($550, 10%), layer 3 UNFUNDED
    (target 20%, $2,000 to reach it), a held hedge on TAKE PROFIT covering 5%. Budget $2,500."""
    layers = [
        layer(1, "ACTIVE", 30, target_share=0.5),
        layer(2, "ACTIVE", 10, target_share=0.3),
        layer(3, "UNFUNDED", 20, target_share=0.2, cost_to_target=2_000.0),
        layer(
            2,
            "TAKE PROFIT",
            5,
            trigger="Held (Positions group H1): worth $900, at least 3x its cost $250",
            instrument="+5 x VIX Mar 2018 17 call",
            target_share=None,
            cost=0.0,
        ),
    ]
    budget = PremiumBudget.of(0.25, 10_000.0, 0.0, layers)  # 25% of a $10,000 credit
    lines = dict(summarize(layers, SPIKE, 10_000.0, budget, ANALOGS, 1))
    assert lines["Order 1"] == "Buy 30 x VIX Mar 2018 19 call at 0.55 limit ($1,650): layer 1"
    assert lines["Order 2"] == "Buy 10 x VIX Mar 2018 20 call at 0.55 limit ($550): layer 2"
    assert lines["Projected loss in VIX +6 ($)"] == 10_000.0
    assert lines["Target share in VIX +6, triggered layers"] == pytest.approx(0.5 + 0.3 + 0.2)
    assert lines["Covered in VIX +6"] == pytest.approx(0.30 + 0.10 + 0.05)  # ordered and held
    # the worst analog loses $20,000; with the layers it loses $12,000: 8,000 / 20,000 covered
    worst = "Covered in the worst analog, 2020-02-19 to 2020-03-16 (loss $20,000)"
    assert lines[worst] == pytest.approx(0.4)
    assert lines["Premium budget ($)"] == 2_500.0
    assert lines["Premium of these orders ($)"] == pytest.approx(1_650.0 + 550.0)
    assert lines["Budget left ($)"] == pytest.approx(300.0)
    assert lines["Carry per day, ordered and held ($)"] == pytest.approx(-1.5 * (30 + 10 + 5))
    assert lines["Triggered but not funded"] == "layer 3 ($2,000)"
    assert lines["Layer changes since the last recompute"] == 1
    assert lines["Order 3"] == (
        "Sell half of +5 x VIX Mar 2018 17 call: worth $900, at least 3x its cost $250"
    )


def test_nothing_to_do_is_said_and_a_future_is_no_premium() -> None:
    standby = [layer(1, "STANDBY", 10)]
    budget = PremiumBudget.of(0.25, 400.0, 0.0, standby)
    assert dict(summarize(standby, SPIKE, 0.0, budget, ANALOGS, 0))["Orders"] == (
        "Nothing to buy or sell"
    )
    future = layer(
        1, "ACTIVE", 2, kind="vix_future", instrument="VIX Mar 2018 future", price=14.05,
        cost=0.0, notional=28_100.0,
    )  # fmt: skip
    assert orders([future]) == [
        "Buy 2 x VIX Mar 2018 future at 14.05 limit (no premium; notional $28,100): layer 1"
    ]
    budget = PremiumBudget.of(0.25, 400.0, 0.0, [future])
    lines = dict(summarize([future], SPIKE, 1_000.0, budget, ANALOGS.iloc[:0], 0))
    assert lines["Premium of these orders ($)"] == 0.0
    assert not any(label.startswith("Covered in the worst") for label in lines)
