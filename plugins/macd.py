"""Built-in signal `macd`: a fresh bearish MACD cross on SPX closes (TA-Lib's MACD seeding).

MACD line = EMA(fast) - EMA(slow) of SPX closes, signal line = EMA(signal) of the MACD line,
histogram = MACD - signal (rules_engine.indicators.macd; Appel's 12/26/9 by default).

- A bearish cross happens on bar t when the histogram goes from >= 0 on bar t-1 to < 0 on bar t
  (the MACD line closes below its signal line). Crosses are looked for in the last `macd.window`
  bars, today included (window 1: a cross today only); a bar whose previous histogram is not
  defined yet cannot be a cross.
- Triggered when there was a bearish cross within the window AND today's histogram is still
  negative (a cross that has already been undone does not count).
- Value: today's histogram (SPX points; negative = MACD below its signal line).
- Strength: 0 when not triggered; else min(1, -histogram / H), where H is the mean absolute
  histogram over the last 63 bars (a quarter, today included, fewer when the histogram is
  younger): 1 once the MACD line is as far below its signal as the histogram's typical size.

Not evaluated when History has fewer than slow + signal SPX closes (one histogram value and the
one before it). A fast period that is not below the slow one is a settings error (failed).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl
from rules_engine.indicators import macd

FAST = Setting(
    "macd.fast",
    12,
    "int",
    "Fast EMA period of the MACD line, in trading days (Appel's 12); below macd.slow.",
    minimum=2,
    maximum=100,
)
SLOW = Setting(
    "macd.slow",
    26,
    "int",
    "Slow EMA period of the MACD line, in trading days (Appel's 26).",
    minimum=3,
    maximum=250,
)
SIGNAL_PERIOD = Setting(
    "macd.signal",
    9,
    "int",
    "EMA period of the signal line (Appel's 9).",
    minimum=1,
    maximum=50,
)
WINDOW = Setting(
    "macd.window",
    5,
    "int",
    "A bearish cross counts when it happened within this many trading days, today included "
    "(5: one trading week; no published standard).",
    minimum=1,
    maximum=63,
)
#: Bars over which the histogram's typical size (mean absolute value) is measured: a quarter.
SCALE_BARS = 63


def evaluate(ctx: Context) -> Reading:
    fast, slow = int(ctx.settings[FAST.name]), int(ctx.settings[SLOW.name])
    period, window = int(ctx.settings[SIGNAL_PERIOD.name]), int(ctx.settings[WINDOW.name])
    if fast >= slow:
        raise ValueError(f"macd.fast ({fast}) must be below macd.slow ({slow})")
    label = f"MACD({fast},{slow},{period})"
    closes = ctx.history["spx_close"].dropna()
    if len(closes) < slow + period:
        raise NotEvaluated(
            f"needs at least {slow + period} SPX closes in History for {label}, found {len(closes)}"
        )
    frame = macd(closes, fast, slow, period).iloc[slow + period - 2 :]
    hist = frame["hist"].to_numpy()
    crosses = np.flatnonzero((hist[:-1] >= 0.0) & (hist[1:] < 0.0)) + 1
    last = len(hist) - 1
    latest = int(crosses[-1]) if crosses.size else None
    recent = latest is not None and last - latest < window
    today = float(hist[-1])
    triggered = bool(recent and today < 0.0)
    scale = float(np.mean(np.abs(hist[-SCALE_BARS:])))
    strength = min(-today / scale, 1.0) if triggered else 0.0
    if latest is None:
        cross = "no bearish cross since the histogram began"
    else:
        bars = last - latest
        ago = "today" if bars == 0 else f"{bars} bar{'s' if bars > 1 else ''} ago"
        where = "within" if recent else "outside"
        cross = (
            f"last bearish cross {frame.index[latest]:%Y-%m-%d} ({ago}), {where} the "
            f"{window}-bar window"
        )
    if triggered:
        verdict = (
            f"triggered: strength {strength:.2f} = -histogram / its mean absolute value "
            f"{scale:.2f} over the last {min(SCALE_BARS, len(hist))} bars (capped at 1)"
        )
    else:
        verdict = (
            f"not triggered: needs a bearish cross in the last {window} bars with the "
            "histogram still negative"
        )
    row = frame.iloc[-1]
    return Reading(
        value=today,
        triggered=triggered,
        strength=strength,
        explanation=(
            f"SPX {label} on {frame.index[-1]:%Y-%m-%d}: MACD {row['macd']:.2f}, signal "
            f"{row['signal']:.2f}, histogram {today:+.2f}; {cross}; {verdict}"
        ),
    )


SIGNAL = Signal(
    name="macd",
    evaluate=evaluate,
    description="SPX MACD bearish cross: MACD below its signal line after a recent cross",
    requires=("spx_close",),
    settings=(FAST, SLOW, SIGNAL_PERIOD, WINDOW),
    category="technical",
)


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(SIGNAL)
