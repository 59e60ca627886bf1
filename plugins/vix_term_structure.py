"""Built-in signal `vix_term_structure`: the VIX term structure flattening or inverted.

Two readings of the same curve, each used when its data is there:

- ratio = VIX / VIX3M (Market sheet fields VIX and VIX3M). Below 1 is contango, above 1
  backwardation; at or above the warning threshold (default 0.92) the curve is flattening.
- front vs second VIX future: the first two live contracts of the VIX Futures sheet (expiry after
  the as-of date: a contract settles on the morning of its expiry). VX1 at or above VX2 is an
  inverted futures curve.

Rule: triggered when ratio >= warning or VX1 >= VX2. value = VIX/VIX3M, or VX1/VX2 when VIX3M is
absent (the explanation says which). strength = max(ramp, inverted), where ramp = (ratio -
warning) / (inversion - warning) clipped to [0, 1] (0 at the warning threshold, 1 at the
inversion threshold) and inverted = 1 when VX1 >= VX2, else 0. Not evaluated only when neither
reading is available.

Inversion is coincident or contrarian: forward SPX returns after backwardation were positive
(../shared/notes/market-model.md), so it says stress is here, not that it is coming; use it for
sizing and exits, not as an early trigger to add hedges.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl

WARNING = Setting(
    "vix_term_structure.warning",
    0.92,
    "float",
    "VIX/VIX3M at or above this is a flattening curve and triggers the signal (one practitioner "
    "exits short vol at 0.917; shared/notes/market-model.md).",
    minimum=0.5,
    maximum=1.5,
)
INVERSION = Setting(
    "vix_term_structure.inversion",
    1.0,
    "float",
    "VIX/VIX3M at which the curve is inverted (backwardation, by definition 1.0); strength "
    "reaches 1 here.",
    minimum=0.5,
    maximum=2.0,
)


def evaluate(ctx: Context) -> Reading:
    warning = float(ctx.settings[WARNING.name])
    inversion = float(ctx.settings[INVERSION.name])
    if not warning < inversion:
        raise ValueError(f"{WARNING.name} {warning:g} must be below {INVERSION.name} {inversion:g}")
    spot = _spot_ratio(ctx.market)
    futures = _front_two(ctx.vix_futures, ctx.as_of)
    if spot is None and futures is None:
        raise NotEvaluated(
            "needs VIX and VIX3M in the Market sheet, or two live contracts in the VIX Futures "
            "sheet"
        )
    flat, ramp, inverted = False, 0.0, False
    parts: list[str] = []
    if spot is None:
        absent = "VIX" if _level(ctx.market.get("vix")) is None else "VIX3M"
        parts.append(f"{absent} not in the Market sheet: futures only")
    else:
        vix, vix3m, ratio = spot
        flat = ratio >= warning
        ramp = min(max((ratio - warning) / (inversion - warning), 0.0), 1.0)
        if ratio >= inversion:
            state = f"inverted (at or above {inversion:.2f})"
        elif flat:
            state = f"flattening (at or above the warning {warning:.2f})"
        else:
            state = f"below the warning {warning:.2f}"
        parts.append(f"VIX/VIX3M {vix:.2f}/{vix3m:.2f} = {ratio:.3f}, {state}")
    if futures is None:
        parts.append("fewer than two live VIX futures: VIX/VIX3M only")
    else:
        (e1, f1), (e2, f2) = futures
        inverted = f1 >= f2
        relation, shape = ("at or above", "inverted") if inverted else ("below", "contango")
        parts.append(
            f"VX1 {f1:.2f} ({e1:%Y-%m-%d}) {relation} VX2 {f2:.2f} ({e2:%Y-%m-%d}): {shape}"
        )
    if spot is not None:
        value = spot[2]
    else:
        assert futures is not None
        value = futures[0][1] / futures[1][1]
        parts.append(f"value is VX1/VX2 = {value:.3f}")
    return Reading(
        value=value,
        triggered=flat or inverted,
        strength=max(ramp, 1.0 if inverted else 0.0),
        explanation="; ".join(parts),
    )


def _spot_ratio(market: Mapping[str, Any]) -> tuple[float, float, float] | None:
    """(VIX, VIX3M, VIX/VIX3M) when both are positive numbers in the Market sheet."""
    vix, vix3m = _level(market.get("vix")), _level(market.get("vix3m"))
    if vix is None or vix3m is None:
        return None
    return vix, vix3m, vix / vix3m


def _front_two(
    futures: pd.DataFrame, as_of: dt.date
) -> tuple[tuple[dt.date, float], tuple[dt.date, float]] | None:
    """The first two live VIX futures (expiry after as_of, positive price), or None."""
    if futures.empty or not {"expiry", "price"} <= set(futures.columns):
        return None
    live = [
        (expiry, float(price))
        for expiry, price in sorted(zip(futures["expiry"], futures["price"], strict=True))
        if expiry > as_of and _level(price) is not None
    ]
    return (live[0], live[1]) if len(live) >= 2 else None


def _level(value: object) -> float | None:
    """A positive finite level, or None for a blank or unusable one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number > 0 else None


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(
        Signal(
            name="vix_term_structure",
            evaluate=evaluate,
            description=(
                "VIX term structure flattening or inverted (VIX/VIX3M, front vs second VIX "
                "future). Inversion is coincident or contrarian: it marks stress that is "
                "already here, for sizing and exits rather than an early add trigger."
            ),
            settings=(WARNING, INVERSION),
            category="volatility",
        )
    )
