"""Built-in signal `bollinger`: SPX closing above its upper Bollinger band (overbought).

Bands (rules_engine.indicators.bollinger, TA-Lib's BBANDS): middle = SMA(n) of SPX closes,
upper/lower = middle +- k x sd, sd the population standard deviation (ddof=0) of the same n
closes; n and k are settings (Bollinger's 20 and 2).

- Value: %B = (close - lower) / (upper - lower): 0 at the lower band, 0.5 at the middle, 1 at the
  upper band, above 1 above it. None when the window is flat (upper = lower, %B undefined).
- Triggered when today's close is strictly above the upper band (%B > 1).
- Strength: 0 when not triggered; else min(1, (close - upper) / sd), the distance above the upper
  band in standard deviations: 1 once the close is one sd beyond the band (k + 1 sd above the
  middle; %B = 1 + 1 / (2k), 1.25 at k = 2).
- The explanation also gives the band width, (upper - lower) / middle: a wide band means the
  close had to travel further to leave it.

Not evaluated when History has fewer than n SPX closes.
"""

from __future__ import annotations

from collections.abc import Callable

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl
from rules_engine.indicators import bollinger

PERIOD = Setting(
    "bollinger.period",
    20,
    "int",
    "Bollinger band look-back in trading days (Bollinger's 20).",
    minimum=2,
    maximum=250,
)
WIDTH = Setting(
    "bollinger.k",
    2.0,
    "float",
    "Band half-width in population standard deviations (Bollinger's 2).",
    minimum=0.5,
    maximum=4.0,
)


def evaluate(ctx: Context) -> Reading:
    n, k = int(ctx.settings[PERIOD.name]), float(ctx.settings[WIDTH.name])
    closes = ctx.history["spx_close"].dropna()
    if len(closes) < n:
        raise NotEvaluated(
            f"needs at least {n} SPX closes in History for Bollinger({n}, {k:g}), "
            f"found {len(closes)}"
        )
    bands = bollinger(closes.iloc[-n:], n, k).iloc[-1]  # today's bands need only the last n
    close, upper = float(closes.iloc[-1]), float(bands["upper"])
    middle, lower = float(bands["middle"]), float(bands["lower"])
    head = (
        f"SPX {close:.2f} on {closes.index[-1]:%Y-%m-%d}, Bollinger({n}, {k:g}): upper "
        f"{upper:.2f}, middle {middle:.2f}, lower {lower:.2f}, width "
        f"{(upper - lower) / middle:.2%} of the middle"
    )
    if upper == lower:
        return Reading(None, False, 0.0, f"{head}; a flat window, %B undefined: not above")
    percent_b = (close - lower) / (upper - lower)
    sd = (upper - middle) / k
    triggered = close > upper
    if triggered:
        beyond = (close - upper) / sd
        strength = min(beyond, 1.0)
        tail = (
            f"%B {percent_b:.2f}: {close - upper:.2f} points ({beyond:.2f} sd) above the upper "
            f"band, triggered; strength {strength:.2f} = sd above the band (capped at 1)"
        )
    else:
        strength = 0.0
        tail = f"%B {percent_b:.2f}: not above the upper band"
    return Reading(percent_b, triggered, strength, f"{head}; {tail}")


SIGNAL = Signal(
    name="bollinger",
    evaluate=evaluate,
    description="SPX close above its upper Bollinger band (overbought)",
    requires=("spx_close",),
    settings=(PERIOD, WIDTH),
    category="technical",
)


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(SIGNAL)
