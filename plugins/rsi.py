"""Built-in signal `rsi`: SPX RSI(14), Wilder smoothing seeded as TA-Lib seeds it.

Triggered when RSI is above the threshold (default 70: overbought). Strength grows linearly from 0
at the threshold to 1 at RSI 100. Overbought markets have not been bearish on average
(../shared/notes/market-model.md): this signal warns, it does not time.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl
from rules_engine.indicators import rsi

PERIOD = Setting(
    "rsi.period", 14, "int", "RSI look-back in trading days (Wilder's 14).", minimum=2, maximum=250
)
THRESHOLD = Setting(
    "rsi.threshold",
    70.0,
    "float",
    "RSI above this is overbought and triggers the signal (classic 70; some use 75 or 80).",
    minimum=50.0,
    maximum=99.0,
)


def evaluate(ctx: Context) -> Reading:
    period = int(ctx.settings[PERIOD.name])
    threshold = float(ctx.settings[THRESHOLD.name])
    closes = ctx.history["spx_close"].dropna()
    if len(closes) <= period:
        raise NotEvaluated(
            f"RSI({period}) needs at least {period + 1} SPX closes in History, found {len(closes)}"
        )
    series = rsi(closes, period)
    value = float(series.iloc[-1])
    if not math.isfinite(value):
        raise ValueError(f"RSI({period}) is undefined on {closes.index[-1]:%Y-%m-%d}")
    triggered = value > threshold
    strength = (value - threshold) / (100.0 - threshold) if triggered else 0.0
    state = "above" if triggered else "not above"
    return Reading(
        value=value,
        triggered=triggered,
        strength=min(max(strength, 0.0), 1.0),
        explanation=(
            f"SPX RSI({period}) {value:.1f} on {closes.index[-1]:%Y-%m-%d} is {state} "
            f"the overbought threshold {threshold:g}"
        ),
    )


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(
        Signal(
            name="rsi",
            evaluate=evaluate,
            description="SPX RSI overbought (Wilder RSI of SPX closes)",
            requires=("spx_close",),
            settings=(PERIOD, THRESHOLD),
            category="technical",
        )
    )
