"""Calling plugins: each signal and the chosen sizer run alone, and every outcome names its plugin.

A plugin that raises or returns garbage becomes a `failed` outcome with the reason; the rest still
run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from rules_engine.host import Registered, describe_exception
from rules_engine.models import Context, HedgeLayer, Reading, Signal, Sizer

Status = Literal["triggered", "not triggered", "not evaluated", "failed"]


@dataclass(frozen=True)
class SignalOutcome:
    """One signal's result, or the reason there is none."""

    signal: str
    plugin: str
    status: Status
    reading: Reading | None
    reason: str = ""


@dataclass(frozen=True)
class SizerOutcome:
    """The chosen sizer's layers, or the reason there are none."""

    sizer: str
    plugin: str
    layers: tuple[HedgeLayer, ...]
    error: str = ""


def _missing_columns(signal: Signal, ctx: Context) -> list[str]:
    history = ctx.history
    return [
        col for col in signal.requires if col not in history.columns or history[col].isna().all()
    ]


def run_signal(entry: Registered[Signal], ctx: Context) -> SignalOutcome:
    """Evaluate one signal on its own copy of the context."""
    signal, plugin = entry.item, entry.plugin
    missing = _missing_columns(signal, ctx)
    if missing:
        reason = (
            "needs History column(s) " + ", ".join(repr(m) for m in missing) + " (absent or empty)"
        )
        return SignalOutcome(signal.name, plugin, "not evaluated", None, reason)
    try:
        reading = signal.evaluate(ctx.isolated())
    except Exception as exc:
        return SignalOutcome(
            signal.name, plugin, "failed", None, f"raised {describe_exception(exc)}"
        )
    if not isinstance(reading, Reading):
        return SignalOutcome(
            signal.name, plugin, "failed", None, f"returned {reading!r:.80}, expected a Reading"
        )
    problems = reading.problems()
    if problems:
        return SignalOutcome(
            signal.name, plugin, "failed", None, "returned a bad Reading: " + "; ".join(problems)
        )
    status: Status = "triggered" if reading.triggered else "not triggered"
    return SignalOutcome(signal.name, plugin, status, reading)


def run_signals(signals: Mapping[str, Registered[Signal]], ctx: Context) -> list[SignalOutcome]:
    return [run_signal(entry, ctx) for _, entry in sorted(signals.items())]


def _layer_problems(layer: object) -> list[str]:
    if not isinstance(layer, HedgeLayer):
        return [f"{layer!r:.80} is not a HedgeLayer"]
    problems = []
    if isinstance(layer.contracts, bool) or not isinstance(layer.contracts, int):
        problems.append(f"layer {layer.layer}: contracts {layer.contracts!r} is not a whole number")
    elif layer.contracts < 0:
        problems.append(f"layer {layer.layer}: contracts {layer.contracts} is negative")
    numbers = {
        "strike": layer.strike,
        "price": layer.price,
        "cost": layer.cost,
        "multiplier": layer.multiplier,
        "share_of_loss_covered": layer.share_of_loss_covered,
        "carry_per_day": layer.carry_per_day,
        **{f"payoff {k}": v for k, v in layer.payoff_by_scenario.items()},
    }
    for name, value in numbers.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            problems.append(f"layer {layer.layer}: {name} {value!r} is not a finite number")
    if layer.status not in ("ACTIVE", "STANDBY"):
        problems.append(f"layer {layer.layer}: status {layer.status!r} is not ACTIVE or STANDBY")
    return problems


def run_sizer(
    entry: Registered[Sizer], ctx: Context, readings: Mapping[str, Reading]
) -> SizerOutcome:
    """Run the sizer the Settings name; garbage or an exception becomes an error, not a crash."""
    sizer, plugin = entry.item, entry.plugin
    try:
        layers = sizer.size(ctx.isolated(), dict(readings))
    except Exception as exc:
        return SizerOutcome(sizer.name, plugin, (), f"raised {describe_exception(exc)}")
    if not isinstance(layers, list | tuple):
        return SizerOutcome(sizer.name, plugin, (), f"returned {layers!r:.80}, expected a list")
    problems = [p for layer in layers for p in _layer_problems(layer)]
    if problems:
        return SizerOutcome(sizer.name, plugin, (), "returned bad layers: " + "; ".join(problems))
    return SizerOutcome(sizer.name, plugin, tuple(layers))
