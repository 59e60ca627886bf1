"""Built-in signal `valuation`: the market is expensive against its own history (CAPE percentile).

Rich valuations do not time a fall, but they lengthen the fall when one comes; the method reads
them as a reason to keep hedges on, not as a sell signal.

Rule. CAPE part: the History column `cape` (monthly values; blank rows are skipped); the latest
value up to the as-of date is ranked among all earlier values: percentile = 100 x (number of
earlier values at or below the latest) / (number of earlier values), i.e. the "weak" percentile
of the score. It needs at least `valuation.min_history` earlier values (default 120 months), else
the signal is not evaluated.

Earnings-quality part (used only when History has both `pe` and `price_to_cash_flow`, headers "PE"
and "Price To Cash Flow"): on each row holding both, the ratio P/CF / P/E (= earnings per dollar of
cash flow) is ranked the same way. A high percentile means reported earnings run further ahead of
cash flow than usual, so the P/E flatters how expensive the market is (accruals: Sloan, 1996). It
needs as many earlier ratios as the CAPE part; with fewer it is skipped and the explanation says so.

`value` = the higher percentile of the parts used. Triggered when value >= `valuation.threshold`
(default 90). Strength = (value - threshold) / (100 - threshold) when triggered, else 0 (1 when
the latest value is above every earlier one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl

THRESHOLD = Setting(
    "valuation.threshold",
    90.0,
    "float",
    "Percentile (0-100) of the latest CAPE (or P/CF / P/E) among all earlier values at or above "
    "which the signal triggers (90: richer than 9 months in 10 of its history).",
    minimum=50.0,
    maximum=99.0,
)
MIN_HISTORY = Setting(
    "valuation.min_history",
    120,
    "int",
    "Earlier values needed before a percentile means anything (120 months: ten years, the "
    "span CAPE itself averages earnings over).",
    minimum=12,
    maximum=2000,
)


@dataclass(frozen=True)
class Rank:
    """The latest value of a series ranked among its earlier values."""

    date: pd.Timestamp
    latest: float
    earlier: int
    percentile: float


def rank(series: pd.Series) -> Rank:
    """The weak percentile of the last value of `series` among the ones before it."""
    earlier = series.iloc[:-1]
    latest = float(series.iloc[-1])
    share = float((earlier <= latest).sum()) / len(earlier)
    return Rank(pd.Timestamp(series.index[-1]), latest, len(earlier), 100.0 * share)


def _ratio(history: pd.DataFrame) -> pd.Series | None:
    """P/CF / P/E on the rows that hold both, or None when either column is absent."""
    if not {"pe", "price_to_cash_flow"} <= set(history.columns):
        return None
    both = history[["pe", "price_to_cash_flow"]].dropna()
    both = both[both["pe"] > 0]
    return both["price_to_cash_flow"] / both["pe"]


def evaluate(ctx: Context) -> Reading:
    threshold = float(ctx.settings[THRESHOLD.name])
    needed = int(ctx.settings[MIN_HISTORY.name])
    cape = ctx.history["cape"].dropna()
    if len(cape) - 1 < needed:
        raise NotEvaluated(
            f"needs at least {needed} CAPE values in History before the latest, "
            f"found {max(len(cape) - 1, 0)}"
        )
    cape_rank = rank(cape)
    parts = [
        f"CAPE {cape_rank.latest:g} on {cape_rank.date:%Y-%m-%d} ranks at percentile "
        f"{cape_rank.percentile:.1f} of {cape_rank.earlier} earlier values"
    ]
    value = cape_rank.percentile
    ratio = _ratio(ctx.history)
    if ratio is None:
        parts.append("P/E vs P/CF not used (no PE and Price To Cash Flow columns)")
    elif len(ratio) - 1 < needed:
        parts.append(
            f"P/E vs P/CF not used ({max(len(ratio) - 1, 0)} earlier values, needs {needed})"
        )
    else:
        ratio_rank = rank(ratio)
        value = max(value, ratio_rank.percentile)
        parts.append(
            f"P/CF / P/E {ratio_rank.latest:.3f} on {ratio_rank.date:%Y-%m-%d} ranks at "
            f"percentile {ratio_rank.percentile:.1f} of {ratio_rank.earlier} earlier values"
        )
    triggered = value >= threshold
    strength = (value - threshold) / (100.0 - threshold) if triggered else 0.0
    state = "at or above" if triggered else "below"
    return Reading(
        value=value,
        triggered=triggered,
        strength=min(max(strength, 0.0), 1.0),
        explanation="; ".join(parts) + f": percentile {value:.1f} is {state} the threshold "
        f"{threshold:g}",
    )


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(
        Signal(
            name="valuation",
            evaluate=evaluate,
            description="CAPE percentile over its history, and P/E against price-to-cash-flow",
            requires=("cape",),
            settings=(THRESHOLD, MIN_HISTORY),
            category="valuation",
        )
    )
