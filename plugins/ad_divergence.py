"""Built-in signal `ad_divergence`: SPX at an N-day high while the advance/decline line is not.

The A/D line is the running sum of (advances - declines) (rules_engine.indicators.ad_line) over
the History days that have SPX Close, Advances and Declines (days missing any of the three are
skipped). Over the last N such days (`ad_divergence.lookback`, today included):

- SPX is at its N-day high when today's close is >= every close of the window.
- The A/D line's depth d = (H - A) / (H - L), where A is today's A/D value and H and L are its
  highest and lowest values in the window: 0 at its high, 1 at its low (0 when H = L).
- Triggered when SPX is at its N-day high and the A/D line is below its own N-day high (A < H):
  the index makes a new high that the breadth of the market does not confirm.
- Value: d. Strength: d when triggered, else 0: the further the A/D line sits below its high
  (relative to its range in the window), the stronger the warning.

Such divergences preceded most cyclical tops, but 4-18 months early
(../shared/notes/market-model.md): it warns, it does not time.
Not evaluated when fewer than N days hold all three columns.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl
from rules_engine.indicators import ad_line

LOOKBACK = Setting(
    "ad_divergence.lookback",
    63,
    "int",
    "Window in trading days for the SPX and A/D-line highs, today included (63: a quarter, "
    "one common form of the divergence).",
    minimum=5,
    maximum=504,
)
COLUMNS = ("spx_close", "advances", "declines")


def evaluate(ctx: Context) -> Reading:
    n = int(ctx.settings[LOOKBACK.name])
    days = ctx.history[list(COLUMNS)].dropna()
    if len(days) < n:
        raise NotEvaluated(
            f"needs at least {n} days with SPX Close, Advances and Declines in History, "
            f"found {len(days)}"
        )
    line = ad_line(days["advances"], days["declines"]).iloc[-n:]
    closes = days["spx_close"].iloc[-n:]
    close, top = float(closes.iloc[-1]), float(closes.max())
    level, high, low = float(line.iloc[-1]), float(line.max()), float(line.min())
    depth = (high - level) / (high - low) if high > low else 0.0
    at_high = close >= top
    triggered = at_high and level < high
    day = closes.index[-1]
    if at_high:
        spx = f"SPX {close:.2f} on {day:%Y-%m-%d} is at its {n}-day high"
    else:
        top_day = closes.index[int(np.argmax(closes.to_numpy()))]
        spx = (
            f"SPX {close:.2f} on {day:%Y-%m-%d} is {1 - close / top:.2%} below its {n}-day "
            f"high {top:.2f} of {top_day:%Y-%m-%d}"
        )
    high_day = line.index[int(np.argmax(line.to_numpy()))]
    breadth = (
        f"the A/D line {level:,.0f} is {high - level:,.0f} below its {n}-day high {high:,.0f} "
        f"of {high_day:%Y-%m-%d} (low {low:,.0f}): depth {depth:.2f} of its range"
    )
    verdict = "divergence, triggered" if triggered else "no divergence"
    return Reading(
        value=depth,
        triggered=triggered,
        strength=depth if triggered else 0.0,
        explanation=f"{spx}; {breadth}; {verdict}",
    )


SIGNAL = Signal(
    name="ad_divergence",
    evaluate=evaluate,
    description="SPX at an N-day high that the advance/decline line does not confirm",
    requires=COLUMNS,
    settings=(LOOKBACK,),
    category="breadth",
)


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(SIGNAL)
