"""The answer first: what a trader reads in five seconds before the tables.

Built from the layers the steward kept, so it says exactly what the Hedge table says: the orders
to place now (ACTIVE layers to buy at their limit price, held hedges whose exit rule fired), what
they cover of the projected loss in the primary spike and in the worst historical analog, the
premium budget, the carry and what changed since the last recompute. Labels carry their units
("($)"); shares are fractions, shown as percents by the adapters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from rules_engine.models import CellValue, HedgeLayer
from rules_engine.risk.market import Scenario

#: A summary line: (label, value).
Line = tuple[str, CellValue]

_HELD_ACTIONS = {"TAKE PROFIT": "Sell half of", "ROLL": "Close or roll"}
#: What a layer buys without paying premium: a future is margined, ETP shares are capital.
_NOT_PREMIUM = ("vix_future", "etp")


@dataclass(frozen=True)
class PremiumBudget:
    """The premium budget in dollars, worked out once for the Hedge sheet's budget table and the
    summary: `share` of the `credit` the SPX book took in, less the option premium of the hedges
    `held` and of the ACTIVE layers (`used`; a layer's cost is its premium, 0 for futures and
    ETP shares); `to_target` the further premium that would reach every target."""

    share: float
    credit: float
    held: float
    used: float
    to_target: float

    @classmethod
    def of(
        cls, share: float, credit: float, held: float, layers: Sequence[HedgeLayer]
    ) -> PremiumBudget:
        new = [x for x in layers if x.held_group is None]
        used = sum(x.cost for x in new if x.status == "ACTIVE")
        to_target = sum(x.cost_to_target or 0.0 for x in new)
        return cls(share, credit, held, used, to_target)

    @property
    def budget(self) -> float:
        return self.share * self.credit

    @property
    def left(self) -> float:
        return self.budget - self.held - self.used


def orders(layers: Sequence[HedgeLayer]) -> list[str]:
    """One order per ACTIVE layer (buy, at the limit price shown) and per held hedge whose exit
    rule fired (sell half, or close/roll), in layer order."""
    out = []
    for x in layers:
        if x.status == "ACTIVE":
            out.append(f"Buy {_quantity(x)} at {x.price:g} limit ({_paid(x)}): layer {x.layer}")
        elif x.status in _HELD_ACTIONS:
            rule = x.trigger.partition(": ")[2] or x.trigger
            out.append(f"{_HELD_ACTIONS[x.status]} {x.instrument}: {rule}")
    return out


def _quantity(layer: HedgeLayer) -> str:
    if layer.kind == "etp":
        return f"{layer.contracts:,} shares of {layer.instrument}"
    return f"{layer.contracts:,} x {layer.instrument}"


def _paid(layer: HedgeLayer) -> str:
    if layer.kind in _NOT_PREMIUM:
        return f"no premium; notional ${layer.notional:,.0f}"
    return f"${layer.cost:,.0f}"


def summarize(
    layers: Sequence[HedgeLayer],
    primary: Scenario,
    projected_loss: float,
    budget: PremiumBudget,
    analogs: pd.DataFrame,
    changes: CellValue,
) -> tuple[Line, ...]:
    """The summary lines. `analogs` is the Risk sheet's analog table, `changes` what the Run
    sheet counts."""
    todo = orders(layers)
    lines: list[Line] = [(f"Order {n}", order) for n, order in enumerate(todo, start=1)]
    if not todo:
        lines.append(("Orders", "Nothing to buy or sell"))
    in_place = [x for x in layers if x.status not in ("STANDBY", "UNFUNDED")]
    triggered = [x for x in layers if x.status in ("ACTIVE", "UNFUNDED")]
    label = primary.label
    lines += [
        (f"Projected loss in {label} ($)", projected_loss),
        (
            f"Target share in {label}, triggered layers",
            sum(x.target_share or 0.0 for x in triggered),
        ),
        (f"Covered in {label}", sum(x.share_of_loss_covered for x in in_place)),
    ]
    worst = _worst_analog(analogs)
    if worst is not None:
        lines.append(worst)
    unfunded = [x for x in layers if x.status == "UNFUNDED"]
    lines += [
        ("Premium budget ($)", budget.budget - budget.held),
        ("Premium of these orders ($)", budget.used),
        ("Budget left ($)", budget.left),
        ("Carry per day, ordered and held ($)", sum(x.carry_per_day for x in in_place)),
    ]
    if unfunded:
        wanted = ", ".join(
            f"layer {x.layer} (${x.cost_to_target or x.cost:,.0f})" for x in unfunded
        )
        lines.append(("Triggered but not funded", wanted))
    lines.append(("Layer changes since the last recompute", changes))
    return tuple(lines)


def _worst_analog(analogs: pd.DataFrame) -> Line | None:
    """What the ordered and held hedges cover of the book's loss in the historical analog that
    hurts it most (None when no analog loses)."""
    if analogs.empty:
        return None
    worst = analogs.iloc[int(analogs["Book Unhedged ($)"].to_numpy(dtype=float).argmin())]
    loss = -float(worst["Book Unhedged ($)"])
    with_layers = worst["With Recommended Layers ($)"]
    if loss <= 0 or pd.isna(with_layers):
        return None
    start, end = worst["Start"], worst["End"]
    label = f"Covered in the worst analog, {start:%Y-%m-%d} to {end:%Y-%m-%d} (loss ${loss:,.0f})"
    return label, (float(with_layers) + loss) / loss
