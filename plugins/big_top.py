"""Built-in signal `big_top`: several technical and breadth warnings at once.

Components: the built-in signals rsi, macd, bollinger, ad_divergence and breadth_narrowing. The
composite evaluates each itself on the same context, with the component's own settings (rsi.*,
macd.*, ...: the components' settings apply, big_top declares none of them; a component setting
missing from the context, e.g. when that plugin is not loaded, takes its declared default).
A component is "not evaluated" when a History column it requires is absent or empty, or when it
raises NotEvaluated; any other error of a component fails big_top, naming the component.

- E = number of components evaluated, T = number of them triggered, K = `big_top.min_triggered`.
- Not evaluated when E < max(2, K): with fewer components the composite could not say "all
  clear" honestly (the message names the missing components and why).
- Triggered when T >= K.
- Value: T. Strength: the mean strength of the E evaluated components (each 0 when quiet), so
  0 when all are quiet and 1 only when all evaluated components warn at full strength.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import ModuleType

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl

from . import ad_divergence, bollinger, breadth_narrowing, macd, rsi

MIN_TRIGGERED = Setting(
    "big_top.min_triggered",
    2,
    "int",
    "Components (of rsi, macd, bollinger, ad_divergence, breadth_narrowing) that must trigger "
    "together (2: a warning confirmed by a second one; judgement).",
    minimum=1,
    maximum=5,
)


def _signal_of(module: ModuleType) -> Signal:
    """The one Signal a built-in component module registers (its own requires and settings)."""
    found: list[Signal] = []
    module.alvh_register_signals(found.append)
    (signal,) = found
    return signal


COMPONENTS: tuple[Signal, ...] = tuple(
    _signal_of(m) for m in (rsi, macd, bollinger, ad_divergence, breadth_narrowing)
)


def _missing_columns(signal: Signal, ctx: Context) -> str | None:
    """The engine's reason for a component whose required History columns are absent or empty."""
    history = ctx.history
    missing = [c for c in signal.requires if c not in history or history[c].isna().all()]
    if not missing:
        return None
    noun = "column" if len(missing) == 1 else "columns"
    return f"needs {noun} {', '.join(repr(m) for m in missing)} in History (absent or empty)"


def _run(signal: Signal, ctx: Context) -> Reading | str:
    """The component's reading, or the reason it could not be evaluated."""
    reason = _missing_columns(signal, ctx)
    if reason is not None:
        return reason
    defaults = {s.name: s.default for s in signal.settings}
    own = dataclasses.replace(ctx, settings={**defaults, **ctx.settings})
    try:
        return signal.evaluate(own)
    except NotEvaluated as missing:
        return str(missing) or "its data is missing"
    except Exception as exc:
        raise RuntimeError(f"component {signal.name} failed: {exc}") from exc


def _describe(name: str, reading: Reading) -> str:
    value = "no value" if reading.value is None else f"value {reading.value:.4g}"
    state = "triggered" if reading.triggered else "not triggered"
    return f"{name} {state} ({value}, strength {reading.strength:.2f})"


def evaluate(ctx: Context) -> Reading:
    needed = int(ctx.settings[MIN_TRIGGERED.name])
    results = {signal.name: _run(signal, ctx) for signal in COMPONENTS}
    readings = {n: r for n, r in results.items() if isinstance(r, Reading)}
    missing = [f"{n} ({r})" for n, r in results.items() if isinstance(r, str)]
    if len(readings) < max(2, needed):
        evaluated = ", ".join(readings) or "none"
        raise NotEvaluated(
            f"needs at least {max(2, needed)} of its {len(COMPONENTS)} components evaluated, "
            f"got {len(readings)} ({evaluated}); missing: {'; '.join(missing)}"
        )
    count = sum(r.triggered for r in readings.values())
    strength = sum(r.strength for r in readings.values()) / len(readings)
    triggered = count >= needed
    parts = "; ".join(_describe(n, r) for n, r in readings.items())
    absent = f"; not evaluated: {'; '.join(missing)}" if missing else ""
    verdict = "triggered" if triggered else "not triggered"
    return Reading(
        value=float(count),
        triggered=triggered,
        strength=strength,
        explanation=(
            f"{count} of {len(readings)} evaluated components triggered (needs {needed}), "
            f"{verdict}; strength {strength:.2f} = mean of their strengths: {parts}{absent}"
        ),
    )


SIGNAL = Signal(
    name="big_top",
    evaluate=evaluate,
    description="Composite top warning: at least K of rsi, macd, bollinger, ad_divergence and "
    "breadth_narrowing trigger together",
    requires=("spx_close",),
    settings=(MIN_TRIGGERED,),
    category="technical",
)


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(SIGNAL)
