"""Calling plugins: each signal and the chosen sizer run alone, and every outcome names its plugin.

A plugin that raises (anything, `SystemExit` included), runs past its time limit or returns garbage
becomes a `failed` outcome with the reason; the rest still run. What a plugin returns is checked
and copied into plain values inside the guarded call, so no code of the plugin's (a property, a
`__repr__`, an overridden method) runs outside it.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from rules_engine.guarded import DEFAULT_TIME_LIMIT, call_guarded
from rules_engine.host import Registered
from rules_engine.models import (
    HEDGE_KINDS_OF_LAYERS,
    LAYER_STATUSES,
    Context,
    HedgeLayer,
    NotEvaluated,
    Reading,
    Signal,
    Sizer,
)
from rules_engine.risk.market import Scenario

Status = Literal["triggered", "not triggered", "not evaluated", "failed"]


@dataclass(frozen=True)
class SignalOutcome:
    """One signal's result, or the reason there is none."""

    signal: str
    plugin: str
    status: Status
    reading: Reading | None
    reason: str = ""
    category: str = ""


@dataclass(frozen=True)
class SizerOutcome:
    """The chosen sizer's layers, or the reason there are none."""

    sizer: str
    plugin: str
    layers: tuple[HedgeLayer, ...]
    error: str = ""


@dataclass(frozen=True)
class _Rejected:
    """What a plugin returned could not be used; `reason` says why."""

    reason: str


@dataclass(frozen=True)
class _Missing:
    """The signal said its data is missing; `reason` says what it needs."""

    reason: str


def _evaluated(signal: Signal, ctx: Context) -> Reading | _Rejected | _Missing:
    """The signal's checked reading, inside the guard (so is its NotEvaluated message)."""
    try:
        reading = signal.evaluate(ctx)
    except NotEvaluated as missing:
        return _Missing(str(missing) or "its data is missing")
    return _checked_reading(reading)


def _missing_columns(signal: Signal, ctx: Context) -> list[str]:
    history = ctx.history
    return [
        col for col in signal.requires if col not in history.columns or history[col].isna().all()
    ]


def run_signal(
    entry: Registered[Signal], ctx: Context, time_limit: float = DEFAULT_TIME_LIMIT
) -> SignalOutcome:
    """Evaluate one signal on its own copy of the context, within the time limit."""
    signal, plugin = entry.item, entry.plugin
    missing = _missing_columns(signal, ctx)
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        names = ", ".join(repr(m) for m in missing)
        reason = f"needs {noun} {names} in History (absent or empty)"
        return SignalOutcome(signal.name, plugin, "not evaluated", None, reason, signal.category)
    own = ctx.isolated()
    result = call_guarded(lambda: _evaluated(signal, own), time_limit, signal.name)
    if result.error:
        return SignalOutcome(signal.name, plugin, "failed", None, result.error, signal.category)
    if isinstance(result.value, _Missing):
        return SignalOutcome(
            signal.name, plugin, "not evaluated", None, result.value.reason, signal.category
        )
    if isinstance(result.value, _Rejected):
        return SignalOutcome(
            signal.name, plugin, "failed", None, result.value.reason, signal.category
        )
    assert isinstance(result.value, Reading)
    status: Status = "triggered" if result.value.triggered else "not triggered"
    return SignalOutcome(signal.name, plugin, status, result.value, "", signal.category)


def run_signals(
    signals: Mapping[str, Registered[Signal]],
    ctx: Context,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> list[SignalOutcome]:
    return [run_signal(entry, ctx, time_limit) for _, entry in sorted(signals.items())]


def _real(value: object) -> float | None:
    """A finite float from a Python or numpy number (never a bool); None otherwise."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _checked_reading(reading: object) -> Reading | _Rejected:
    """A plain Reading with the plugin's values, or why they are unusable."""
    if not isinstance(reading, Reading):
        return _Rejected(f"returned {reading!r:.80}, expected a Reading")
    value, triggered = reading.value, reading.triggered
    strength, explanation = reading.strength, reading.explanation
    problems: list[str] = []
    number = None if value is None else _real(value)
    if value is not None and number is None:
        problems.append(f"value {value!r:.40} is not a finite number or None")
    if not isinstance(triggered, bool | np.bool_):
        problems.append(f"triggered {triggered!r:.40} is not a bool")
    force = _real(strength)
    if force is None or not 0.0 <= force <= 1.0:
        problems.append(f"strength {strength!r:.40} is not a number in [0, 1]")
    if not isinstance(explanation, str):
        problems.append(f"explanation {explanation!r:.40} is not text")
    details = _checked_details(reading.details, problems)
    if problems:
        return _Rejected("returned a bad Reading: " + "; ".join(problems))
    assert force is not None and isinstance(explanation, str)
    return Reading(number, bool(triggered), force, str(explanation), details)


#: Most named figures one Reading may carry (a rule reads them; a flood is garbage).
MAX_DETAILS = 32


def _checked_details(details: object, problems: list[str]) -> dict[str, float | bool]:
    """A reading's `details` as plain identifiers to finite numbers or bools."""
    if not isinstance(details, Mapping):
        problems.append(f"details {details!r:.40} is not a mapping")
        return {}
    if len(details) > MAX_DETAILS:
        problems.append(f"details has {len(details)} entries, at most {MAX_DETAILS}")
        return {}
    clean: dict[str, float | bool] = {}
    for key, raw in details.items():
        if not (isinstance(key, str) and key.isidentifier() and not key.startswith("_")):
            problems.append(f"details key {key!r:.30} is not a name (letters, digits, _)")
        elif isinstance(raw, bool | np.bool_):
            clean[key] = bool(raw)
        elif (number := _real(raw)) is not None:
            clean[key] = number
        else:
            problems.append(f"details[{key!r}] {raw!r:.20} is not a finite number or bool")
    return clean


def _checked_layers(layers: object) -> tuple[HedgeLayer, ...] | _Rejected:
    """Plain HedgeLayers with the sizer's values, or every reason they are unusable."""
    if not isinstance(layers, list | tuple):
        return _Rejected(f"returned {layers!r:.80}, expected a list of HedgeLayer")
    problems: list[str] = []
    clean: list[HedgeLayer] = []
    for layer in layers:
        checked = _checked_layer(layer)
        if isinstance(checked, HedgeLayer):
            clean.append(checked)
        else:
            problems.extend(checked)
    if problems:
        return _Rejected("returned bad layers: " + "; ".join(problems))
    return tuple(clean)


def _checked_layer(layer: object) -> HedgeLayer | list[str]:
    if not isinstance(layer, HedgeLayer):
        return [f"{layer!r:.80} is not a HedgeLayer"]
    n = layer.layer
    problems: list[str] = []
    if isinstance(n, bool) or not isinstance(n, int):
        problems.append(f"layer number {n!r:.20} is not a whole number")
    contracts = layer.contracts
    if isinstance(contracts, bool) or not isinstance(contracts, numbers.Integral):
        problems.append(f"layer {n}: contracts {contracts!r:.20} is not a whole number")
    elif contracts < 0:
        problems.append(f"layer {n}: contracts {contracts} is negative")
    fields = {
        "strike": (layer.strike, 0.0),
        "price": (layer.price, 0.0),
        "cost": (layer.cost, 0.0),
        "multiplier": (layer.multiplier, None),
        "share_of_loss_covered": (layer.share_of_loss_covered, 0.0),
        "carry_per_day": (layer.carry_per_day, None),
        "notional": (layer.notional, 0.0),
    }
    optional = {
        "target_share": (layer.target_share, 0.0),
        "carry_to_roll": (layer.carry_to_roll, None),
        "cost_if_no_spike": (layer.cost_if_no_spike, None),
        "cost_to_target": (layer.cost_to_target, 0.0),
    }
    values: dict[str, float] = {}
    for name, (raw, floor) in fields.items():
        number = _real(raw)
        if number is None:
            problems.append(f"layer {n}: {name} {raw!r:.20} is not a finite number")
        elif floor is not None and number < floor:
            problems.append(f"layer {n}: {name} {number:g} is negative")
        else:
            values[name] = number
    maybe: dict[str, float | None] = {}
    for name, (stated, floor) in optional.items():
        given = None if stated is None else _real(stated)
        if stated is not None and given is None:
            problems.append(f"layer {n}: {name} {stated!r:.20} is not a finite number or None")
        elif given is not None and floor is not None and given < floor:
            problems.append(f"layer {n}: {name} {given:g} is negative")
        else:
            maybe[name] = given
    if layer.held_group is not None and not isinstance(layer.held_group, str):
        problems.append(f"layer {n}: held_group {layer.held_group!r:.20} is not text")
    if "multiplier" in values and values["multiplier"] <= 0:
        problems.append(f"layer {n}: multiplier {values['multiplier']:g} is not above 0")
    payoffs: dict[Scenario, float] = {}
    if not isinstance(layer.payoff_by_scenario, Mapping):
        problems.append(f"layer {n}: payoff_by_scenario is not a mapping")
    else:
        for key, raw in layer.payoff_by_scenario.items():
            number = _real(raw)
            if not isinstance(key, Scenario):
                problems.append(f"layer {n}: payoff key {key!r:.30} is not a Scenario")
            elif number is None:
                problems.append(f"layer {n}: payoff in {key.label} {raw!r:.20} is not finite")
            else:
                payoffs[key] = number
    if layer.status not in LAYER_STATUSES:
        problems.append(
            f"layer {n}: status {layer.status!r:.20} is not one of {', '.join(LAYER_STATUSES)}"
        )
    texts = {
        "trigger": layer.trigger,
        "why": layer.why,
        "instrument": layer.instrument,
        "underlying": layer.underlying,
        "exit_rule": layer.exit_rule,
    }
    for name, text in texts.items():
        if not isinstance(text, str):
            problems.append(f"layer {n}: {name} {text!r:.20} is not text")
    if not isinstance(layer.expiry, dt.date):
        problems.append(f"layer {n}: expiry {layer.expiry!r:.20} is not a date")
    if layer.kind not in HEDGE_KINDS_OF_LAYERS:
        problems.append(
            f"layer {n}: kind {layer.kind!r:.20} is not one of {', '.join(HEDGE_KINDS_OF_LAYERS)}"
        )
    short = None if layer.short_strike is None else _real(layer.short_strike)
    if layer.short_strike is not None and (short is None or short <= 0):
        problems.append(f"layer {n}: short_strike {layer.short_strike!r:.20} is not a price")
    if layer.kind == "vix_call_spread" and (short is None or short <= values.get("strike", 0.0)):
        problems.append(f"layer {n}: a call spread needs a short_strike above its strike")
    if layer.status == "ACTIVE" and isinstance(contracts, numbers.Integral) and contracts == 0:
        problems.append(f"layer {n}: ACTIVE with 0 contracts (say STANDBY or UNFUNDED, and why)")
    if problems:
        return problems
    assert isinstance(contracts, numbers.Integral)
    return HedgeLayer(
        layer=int(n),
        status=layer.status,
        trigger=str(layer.trigger),
        why=str(layer.why),
        instrument=str(layer.instrument),
        underlying=str(layer.underlying),
        expiry=layer.expiry,
        strike=values["strike"],
        contracts=int(contracts),
        price=values["price"],
        multiplier=values["multiplier"],
        cost=values["cost"],
        payoff_by_scenario=payoffs,
        share_of_loss_covered=values["share_of_loss_covered"],
        carry_per_day=values["carry_per_day"],
        exit_rule=str(layer.exit_rule),
        kind=layer.kind,
        short_strike=short,
        target_share=maybe["target_share"],
        notional=values["notional"],
        carry_to_roll=maybe["carry_to_roll"],
        cost_if_no_spike=maybe["cost_if_no_spike"],
        cost_to_target=maybe["cost_to_target"],
        held_group=None if layer.held_group is None else str(layer.held_group),
    )


def run_sizer(
    entry: Registered[Sizer],
    ctx: Context,
    readings: Mapping[str, Reading],
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> SizerOutcome:
    """Run the sizer the Settings name; garbage, an exception or a timeout becomes its error."""
    sizer, plugin = entry.item, entry.plugin
    own, given = ctx.isolated(), dict(readings)
    result = call_guarded(lambda: _checked_layers(sizer.size(own, given)), time_limit, sizer.name)
    if result.error:
        return SizerOutcome(sizer.name, plugin, (), result.error)
    if isinstance(result.value, _Rejected):
        return SizerOutcome(sizer.name, plugin, (), result.value.reason)
    assert isinstance(result.value, tuple)
    return SizerOutcome(sizer.name, plugin, result.value)
