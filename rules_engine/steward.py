"""Steward rules: hysteresis between recomputes, so that the plan a trader acts on does not flip
on noise and an active hedge is not cut in a drawdown.

Applied to any sizer's layers after it ran, against the rows the last recompute left in the Log:

1. Band. A planned layer (ACTIVE, STANDBY, UNFUNDED) with the same number, instrument and status
   as last time, whose contracts differ from last time's by at most `steward.band` of them, keeps
   last time's contracts. Its cost, payoffs, share covered, carry and notional are this run's
   per-contract figures times the kept contracts.
2. Drawdown. While the condor book is in drawdown (the SPX legs' open P&L below 0), a layer that
   was ACTIVE and comes back STANDBY, UNFUNDED or with fewer contracts stays ACTIVE with last
   time's contracts (of this run's instrument, priced as in 1), unless its Rules-sheet trigger has
   cleared (evaluated and not fired), this run prices no contract of it (nothing is left to hedge,
   or the instrument would not gain in the spike), or the held hedges matched to that layer grew
   since (the trader bought it: keeping it would buy it twice). `steward.hold_in_drawdown` turns
   this rule off.
3. No layer is ACTIVE with 0 contracts: such a layer is shown STANDBY.

Held hedges (HOLD, TAKE PROFIT, ROLL) are what the Positions sheet holds: never changed. A layer
kept by rules 1-2 says so first in its `why`, then gives this run's sizing; rule 3 says so at the
end. Unchanged inputs give the sizer's layers of last time, so a recompute of them changes no
layer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rules_engine.models import (
    HELD_STATUSES,
    HedgeLayer,
    LayerStatus,
    LoggedLayer,
    RuleResult,
    Setting,
)

#: Statuses of a planned (not yet held) layer: the ones the steward may keep.
PLANNED = ("ACTIVE", "STANDBY", "UNFUNDED")

STEWARD_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "steward.band",
        0.10,
        "float",
        "A planned layer keeps the last recompute's contracts unless this run's number differs "
        "from them by more than this share (0.10 = 10%), so that a quote moving a few cents does "
        "not resize an order the trader may have placed; its cost and coverage follow the kept "
        "contracts. 0 follows the sizer exactly.",
        minimum=0.0,
        maximum=0.5,
    ),
    Setting(
        "steward.hold_in_drawdown",
        True,
        "bool",
        "While the condor book is in drawdown (open P&L of its SPX legs below 0), an ACTIVE layer "
        "is not cut or stood down until its Rules-sheet trigger has cleared: the method's 'no "
        "emotional resizing in a drawdown'. FALSE follows the sizer on every run.",
    ),
)


@dataclass(frozen=True)
class StewardResult:
    """The layers to show, and what changed since the last recompute.

    `changes` has one line per layer whose status, contracts or instrument differ from the last
    recompute's (a layer new or gone included); `since` is when that recompute ran (UTC), None
    on a first run, which has nothing to compare with (`changes` is then empty).
    """

    layers: tuple[HedgeLayer, ...]
    changes: tuple[str, ...]
    since: dt.datetime | None


def steady(
    layers: Sequence[HedgeLayer],
    previous: Sequence[LoggedLayer],
    rules: Mapping[int, RuleResult],
    drawdown: bool,
    settings: Mapping[str, Any],
) -> StewardResult:
    """Apply the steward rules to a sizer's `layers`.

    `previous` are the rows of the last recompute (`logbook.last_run` of the Log), `rules` this
    run's trigger results by layer (may be empty), `drawdown` whether the SPX book's open P&L is
    below 0, `settings` the resolved settings (`steward.band`, `steward.hold_in_drawdown`).
    """
    band = float(settings["steward.band"])
    hold = bool(settings["steward.hold_in_drawdown"]) and drawdown
    last = _planned_by_layer(previous)
    bought = _bought_since(layers, previous)
    kept = []
    for layer in layers:
        before = last.get(layer.layer) if layer.status in PLANNED else None
        if before is not None:
            layer = _banded(layer, before, band) or layer
            if hold and layer.layer not in bought:
                layer = _held_in_drawdown(layer, before, rules.get(layer.layer)) or layer
        kept.append(_never_active_empty(layer))
    since = previous[0].run if previous else None
    changes = _changes(kept, previous) if previous else ()
    return StewardResult(tuple(kept), changes, since)


def _planned_by_layer(rows: Iterable[LoggedLayer]) -> dict[int, LoggedLayer]:
    """Last run's planned row of each layer number (the first, should a sizer repeat one)."""
    found: dict[int, LoggedLayer] = {}
    for row in rows:
        if row.status in PLANNED:
            found.setdefault(row.layer, row)
    return found


def _bought_since(layers: Iterable[HedgeLayer], previous: Iterable[LoggedLayer]) -> set[int]:
    """Layer numbers whose held hedges are new since the last run or hold more contracts."""
    held_before: dict[tuple[int, str], int] = {}
    for row in previous:
        if row.status in HELD_STATUSES:
            key = (row.layer, row.instrument)
            held_before[key] = held_before.get(key, 0) + row.contracts
    return {
        layer.layer
        for layer in layers
        if layer.status in HELD_STATUSES
        and layer.contracts > held_before.get((layer.layer, layer.instrument), 0)
    }


def _banded(layer: HedgeLayer, before: LoggedLayer, band: float) -> HedgeLayer | None:
    """Rule 1: the layer at last run's contracts, or None when the rule does not apply."""
    if (layer.status, layer.instrument) != (before.status, before.instrument):
        return None
    if layer.contracts == before.contracts or layer.contracts == 0:
        return None
    if abs(layer.contracts - before.contracts) > band * before.contracts:
        return None
    note = (
        f"Steward: kept the last recompute's {before.contracts} contracts (this run: "
        f"{layer.contracts}, within the {band:.0%} band)"
    )
    return _resized(layer, before.contracts, layer.status, note)


def _held_in_drawdown(
    layer: HedgeLayer, before: LoggedLayer, rule: RuleResult | None
) -> HedgeLayer | None:
    """Rule 2: the layer kept ACTIVE at last run's contracts, or None when the rule does not
    apply."""
    if before.status != "ACTIVE" or before.contracts == 0 or layer.contracts == 0:
        return None
    if layer.status == "ACTIVE" and layer.contracts >= before.contracts:
        return None
    if rule is not None and rule.fired is False:
        return None
    if rule is None:
        trigger = "no Rules-sheet trigger says it cleared"
    elif rule.fired:
        trigger = f"its trigger `{rule.expression}` still fires"
    else:
        trigger = f"its trigger `{rule.expression}` could not be evaluated, so has not cleared"
    was = "" if layer.instrument == before.instrument else f" of {before.instrument}"
    note = (
        f"Steward: kept ACTIVE at the last recompute's {before.contracts} contracts{was} "
        f"(this run: {layer.status} {layer.contracts}) because the condor book is in drawdown "
        f"and {trigger}"
    )
    return _resized(layer, before.contracts, "ACTIVE", note)


def _resized(layer: HedgeLayer, contracts: int, status: LayerStatus, note: str) -> HedgeLayer:
    """The layer at `contracts` (it must price at least one): every figure that grows with the
    contracts is this run's per contract times them. The cost to reach the target is what the
    layer's target takes in all (its own cost, unless UNFUNDED buys nothing, plus the cost to
    target) less the kept contracts' cost."""
    ratio = contracts / layer.contracts
    per_contract = layer.cost / layer.contracts
    to_target = layer.cost_to_target
    if to_target is not None:
        whole = to_target + (0.0 if layer.status == "UNFUNDED" else layer.cost)
        to_target = max(whole - contracts * per_contract, 0.0)
    return dataclasses.replace(
        layer,
        status=status,
        why=f"{note}. This run's sizing: {layer.why}",
        contracts=contracts,
        cost=layer.cost * ratio,
        payoff_by_scenario={s: v * ratio for s, v in layer.payoff_by_scenario.items()},
        share_of_loss_covered=layer.share_of_loss_covered * ratio,
        carry_per_day=layer.carry_per_day * ratio,
        notional=layer.notional * ratio,
        carry_to_roll=_times(layer.carry_to_roll, ratio),
        cost_if_no_spike=_times(layer.cost_if_no_spike, ratio),
        cost_to_target=to_target,
    )


def _times(value: float | None, ratio: float) -> float | None:
    return None if value is None else value * ratio


def _never_active_empty(layer: HedgeLayer) -> HedgeLayer:
    """Rule 3: an ACTIVE layer without a contract is shown STANDBY."""
    if layer.status != "ACTIVE" or layer.contracts > 0:
        return layer
    why = f"{layer.why}; shown STANDBY, as an ACTIVE layer needs at least one contract"
    return dataclasses.replace(layer, status="STANDBY", why=why)


def _changes(layers: Sequence[HedgeLayer], previous: Sequence[LoggedLayer]) -> tuple[str, ...]:
    """One line per layer new, gone, or with another status, contracts count or instrument.
    Planned rows are matched by layer number, held rows by layer number and instrument."""
    before: dict[tuple[Any, ...], list[LoggedLayer]] = {}
    for row in previous:
        before.setdefault(_key(row.layer, row.status, row.instrument), []).append(row)
    lines = []
    for layer in layers:
        key = _key(layer.layer, layer.status, layer.instrument)
        now = _state(layer.status, layer.contracts, layer.instrument)
        matches = before.get(key)
        if not matches:
            lines.append(f"layer {layer.layer}: new, {now}")
            continue
        row = matches.pop(0)
        was = _state(row.status, row.contracts, row.instrument)
        if was != now:
            lines.append(f"layer {layer.layer}: {was} -> {now}")
    gone = sorted((r for rows in before.values() for r in rows), key=lambda r: r.layer)
    lines += [
        f"layer {r.layer}: gone (was {_state(r.status, r.contracts, r.instrument)})" for r in gone
    ]
    return tuple(lines)


def _key(layer: int, status: str, instrument: str) -> tuple[Any, ...]:
    return (layer, "planned") if status in PLANNED else (layer, "held", instrument)


def _state(status: str, contracts: int, instrument: str) -> str:
    return f"{status} {contracts} x {instrument}"
