"""Built-in signal `breadth_narrowing`: fewer stocks above their 200-day average while SPX rises.

Reads History `pct_above_200d` (header "Pct Above 200D"): the share of index members above
their 200-day moving average. Scale: if every value used (the days holding both SPX Close and
the share) is between 0 and 1, the column is read as fractions (what percent-formatted cells
give: 0.62 = 62%) and multiplied by 100; otherwise as percentages (62 = 62%). Values below 0 or
above 100 are an error.

Over the last L trading days (`breadth_narrowing.lookback`; days holding both SPX Close and the
share, L steps back from today):
- index rise r = SPX today / SPX L days ago - 1;
- breadth drop D = share L days ago - share today, in percentage points.
- Triggered when r > `breadth_narrowing.min_index_rise` and D >= `breadth_narrowing.min_drop`:
  the rally rests on fewer and fewer stocks.
- Value: the change in the share, -D (percentage points; negative = falling).
- Strength: 0 when not triggered; else min(1, D / `breadth_narrowing.full_drop`).

Not evaluated when fewer than L + 1 days hold both columns.
"""

from __future__ import annotations

from collections.abc import Callable

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl

LOOKBACK = Setting(
    "breadth_narrowing.lookback",
    20,
    "int",
    "Trading days over which SPX and the share above the 200-day average are compared "
    "(20: about a month; no published standard).",
    minimum=2,
    maximum=252,
)
MIN_RISE = Setting(
    "breadth_narrowing.min_index_rise",
    0.0,
    "float",
    "SPX must have risen by more than this fraction over the look-back (0: any rise).",
    minimum=0.0,
    maximum=0.5,
)
MIN_DROP = Setting(
    "breadth_narrowing.min_drop",
    5.0,
    "float",
    "Percentage points the share above the 200-day average must have fallen over the "
    "look-back to trigger (judgement: well beyond day-to-day noise; no published standard).",
    minimum=0.1,
    maximum=100.0,
)
FULL_DROP = Setting(
    "breadth_narrowing.full_drop",
    20.0,
    "float",
    "A fall of this many percentage points gives strength 1 (judgement; no published standard).",
    minimum=0.1,
    maximum=100.0,
)
COLUMNS = ("spx_close", "pct_above_200d")


def evaluate(ctx: Context) -> Reading:
    lookback = int(ctx.settings[LOOKBACK.name])
    min_rise, min_drop = float(ctx.settings[MIN_RISE.name]), float(ctx.settings[MIN_DROP.name])
    full_drop = float(ctx.settings[FULL_DROP.name])
    days = ctx.history[list(COLUMNS)].dropna()
    if len(days) < lookback + 1:
        raise NotEvaluated(
            f"needs at least {lookback + 1} days with SPX Close and Pct Above 200D in History, "
            f"found {len(days)}"
        )
    share = days["pct_above_200d"]
    if share.min() < 0.0 or share.max() > 100.0:
        raise ValueError(
            f"Pct Above 200D must be a share between 0 and 100 (or 0 and 1), found values from "
            f"{share.min():g} to {share.max():g}"
        )
    fraction = share.max() <= 1.0
    if fraction:
        share = share * 100.0
    then, now = days.index[-1 - lookback], days.index[-1]
    rise = float(days["spx_close"].iloc[-1] / days["spx_close"].iloc[-1 - lookback] - 1.0)
    before, after = float(share.iloc[-1 - lookback]), float(share.iloc[-1])
    drop = before - after
    triggered = rise > min_rise and drop >= min_drop
    strength = min(drop / full_drop, 1.0) if triggered else 0.0
    scale = "read as fractions, x100" if fraction else "read as percentages"
    verdict = (
        f"triggered; strength {strength:.2f} = fall / {full_drop:g} points (capped at 1)"
        if triggered
        else f"not triggered: needs SPX up more than {min_rise:.2%} and a fall of at least "
        f"{min_drop:g} points"
    )
    return Reading(
        value=-drop,
        triggered=triggered,
        strength=strength,
        explanation=(
            f"over {lookback} days from {then:%Y-%m-%d} to {now:%Y-%m-%d} SPX moved {rise:+.2%} "
            f"while the share above the 200-day average went {before:.1f}% -> {after:.1f}% "
            f"({-drop:+.1f} points; {scale}); {verdict}"
        ),
    )


SIGNAL = Signal(
    name="breadth_narrowing",
    evaluate=evaluate,
    description="Share of stocks above their 200-day average falling while SPX rises",
    requires=COLUMNS,
    settings=(LOOKBACK, MIN_RISE, MIN_DROP, FULL_DROP),
    category="breadth",
)


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(SIGNAL)
