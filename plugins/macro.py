"""Built-in signal `macro`: the dollar's real exchange rate jumps or the rate differential narrows.

A sharply rising dollar tightens financial conditions worldwide, and a narrowing gap between home
and foreign rates unwinds carry trades funded in the low-rate currency (August 2024: the yen carry
unwind that took VIX to 65 intraday). Either can start a volatility spike the tape does not show.

Rule, over a look-back of W calendar days (`macro.window_days`, default 30) ending on the latest
value of each column up to the as-of date, compared with the last value dated on or before
(latest date - W):
- REER part (History column `reer`, header "REER": a real effective exchange rate index, any base):
  change = latest / earlier - 1; it warns when the change exceeds `macro.reer_rise` (default 0.02).
- Rate part (History column `rate_differential`, header "Rate Differential": home minus foreign
  rate in percentage points, 2.5 = 2.5%; a percent-formatted cell arrives as a fraction, 0.025, so
  enter plain numbers): narrowing = earlier - latest; it warns when the narrowing exceeds
  `macro.rate_narrowing` (default 0.25 points).
Each part's score = its move / its limit (1.0 = at the limit). `value` = the highest score of the
parts used; triggered when value > 1. Strength = min(value / 2, 1) when triggered (0.5 just past
the limit, 1 at twice it), else 0. A part is used when its column has a value W days before its
latest; the explanation names the parts used and why any other was not. Not evaluated when neither
column is present, or when no present column reaches W days back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl

WINDOW = Setting(
    "macro.window_days",
    30,
    "int",
    "Look-back in calendar days for the REER and rate-differential changes (30: about a month, "
    "one step of the monthly BIS REER series).",
    minimum=1,
    maximum=365,
)
REER_RISE = Setting(
    "macro.reer_rise",
    0.02,
    "float",
    "REER rise over the look-back beyond which the signal warns (0.02 = 2%; monthly moves of "
    "the broad dollar REER are usually within about 1.5%).",
    minimum=0.001,
    maximum=0.5,
)
RATE_NARROWING = Setting(
    "macro.rate_narrowing",
    0.25,
    "float",
    "Fall of the rate differential (percentage points) over the look-back beyond which the signal "
    "warns (0.25: one policy step of a central bank).",
    minimum=0.01,
    maximum=5.0,
)


@dataclass(frozen=True)
class Move:
    """One column's move over the look-back: its two values and dates."""

    start: pd.Timestamp
    then: float
    end: pd.Timestamp
    now: float


def move(series: pd.Series, days: int) -> Move | None:
    """The latest value and the last one dated at least `days` before it; None if none is."""
    end = pd.Timestamp(series.index[-1])
    earlier = series[series.index <= end - pd.Timedelta(days=days)]
    if earlier.empty:
        return None
    start = pd.Timestamp(earlier.index[-1])
    return Move(start, float(earlier.iloc[-1]), end, float(series.iloc[-1]))


def _span(m: Move) -> str:
    return f"{m.start:%Y-%m-%d} -> {m.end:%Y-%m-%d}"


def evaluate(ctx: Context) -> Reading:
    days = int(ctx.settings[WINDOW.name])
    reer_limit = float(ctx.settings[REER_RISE.name])
    rate_limit = float(ctx.settings[RATE_NARROWING.name])
    history = ctx.history
    present = {
        name: history[name].dropna()
        for name in ("reer", "rate_differential")
        if name in history.columns and history[name].notna().any()
    }
    if not present:
        raise NotEvaluated(
            "needs column 'reer' (REER) or 'rate_differential' (Rate Differential) in History "
            "(absent or empty)"
        )
    scores: list[float] = []
    parts: list[str] = []
    if "reer" in present:
        m = move(present["reer"], days)
        if m is None:
            parts.append(f"REER not used (no value {days} days before its latest)")
        elif m.then <= 0:
            parts.append(f"REER not used (value {m.then:g} on {m.start:%Y-%m-%d} is not positive)")
        else:
            change = m.now / m.then - 1.0
            scores.append(change / reer_limit)
            parts.append(
                f"REER {m.then:g} -> {m.now:g} ({_span(m)}): {change:+.2%} against a "
                f"{reer_limit:.2%} limit"
            )
    else:
        parts.append("REER not given")
    if "rate_differential" in present:
        m = move(present["rate_differential"], days)
        if m is None:
            parts.append(f"rate differential not used (no value {days} days before its latest)")
        else:
            narrowing = m.then - m.now
            scores.append(narrowing / rate_limit)
            parts.append(
                f"rate differential {m.then:g} -> {m.now:g} ({_span(m)}): narrowed "
                f"{narrowing:+.2f} points against a {rate_limit:g}-point limit"
            )
    else:
        parts.append("rate differential not given")
    if not scores:
        raise NotEvaluated(f"needs History values at least {days} days apart: " + "; ".join(parts))
    value = max(scores)
    triggered = value > 1.0
    strength = min(value / 2.0, 1.0) if triggered else 0.0
    return Reading(
        value=value,
        triggered=triggered,
        strength=strength,
        explanation="; ".join(parts) + f": score {value:.2f} (move / limit; triggers above 1)",
    )


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(
        Signal(
            name="macro",
            evaluate=evaluate,
            description="REER jump or rate-differential narrowing over a month (History columns)",
            settings=(WINDOW, REER_RISE, RATE_NARROWING),
            category="valuation",
        )
    )
