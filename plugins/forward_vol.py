"""Built-in signal `forward_vol`: forward volatility rising (priced high and above the front term).

Forward volatility is the volatility the market prices for the period between two expiries:
forward variance = (s2^2 T2 - s1^2 T1) / (T2 - T1), forward vol = its square root, in vol points
(T = calendar days to expiry / 365 from the as-of date: the workbook gives dates, not minutes).
Two sources, in this order:

1. SPX Options (optional sheet), when it has at least two expiries after the as-of date: s1^2 and
   s2^2 are the model-free variances (the Cboe VIX method, `rules_engine.volatility`) of the two
   nearest expiries, with the Market sheet's Rate; the front term's vol is 100 s1.
2. VIX futures: the first two live contracts (expiry after the as-of date), each price taken as
   the implied vol in points for its tenor (s = price); the front term's vol is VX1.

When the SPX chain is given but cannot give both variances, the futures are used and the
explanation says why. The explanation always names the source that drove the reading.

Rule: "forward volatility rising" = the forward vol is at or above `forward_vol.level` (default
15 points: Cboe's VIX Tail Hedge index starts hedging when forward VIX is 15 or more) AND at or
above `forward_vol.min_ratio` (default 1.0) times the front term's vol, i.e. the market prices
volatility to rise into the forward period rather than to subside after a spike (an inverted
curve is the `vix_term_structure` signal's reading). value = the forward vol in points (None
when the forward variance is not above 0: the nearer term is priced far richer, not rising).
strength = (forward vol - level) / (full - level) clipped to [0, 1] when triggered, else 0
(`forward_vol.full`, default 30: the VXTH level where the hedge is already halved).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl
from rules_engine.volatility import CHAIN_COLUMNS, forward_variance, model_free_variance, years_to

LEVEL = Setting(
    "forward_vol.level",
    15.0,
    "float",
    "Forward vol (vol points) at or above this can trigger the signal (Cboe VIX Tail Hedge index, "
    "VXTH: no hedge while forward VIX is below 15).",
    minimum=5.0,
    maximum=80.0,
)
FULL = Setting(
    "forward_vol.full",
    30.0,
    "float",
    "Forward vol (vol points) at which strength reaches 1 (VXTH halves its hedge above 30).",
    minimum=10.0,
    maximum=150.0,
)
MIN_RATIO = Setting(
    "forward_vol.min_ratio",
    1.0,
    "float",
    "Forward vol must be at least this multiple of the front term's vol to trigger (1.0: the "
    "curve rises into the forward period; below it vol is priced to subside).",
    minimum=0.5,
    maximum=2.0,
)


@dataclass(frozen=True)
class _Terms:
    """Two terms' expiries, calendar days to expiry and vols in points, and their source."""

    source: str
    expiries: tuple[dt.date, dt.date]
    days: tuple[int, int]
    vols: tuple[float, float]


def evaluate(ctx: Context) -> Reading:
    level, full = float(ctx.settings[LEVEL.name]), float(ctx.settings[FULL.name])
    min_ratio = float(ctx.settings[MIN_RATIO.name])
    if not level < full:
        raise ValueError(f"{LEVEL.name} {level:g} must be below {FULL.name} {full:g}")
    spx, why_not = _spx_terms(ctx)
    terms = spx or _futures_terms(ctx.vix_futures, ctx.as_of)
    if terms is None:
        raise NotEvaluated(
            "needs two live contracts in the VIX Futures sheet, or the SPX Options sheet with "
            f"two expiries ({why_not})"
        )
    (e1, e2), (d1, d2), (v1, v2) = terms.expiries, terms.days, terms.vols
    span = (
        f"between {e1:%Y-%m-%d} ({d1} days, vol {v1:.2f}) and "
        f"{e2:%Y-%m-%d} ({d2} days, vol {v2:.2f})"
    )
    source = terms.source if spx else f"{terms.source} ({why_not})"
    variance = forward_variance(d1 / 365.0, v1**2, d2 / 365.0, v2**2)
    if not variance > 0:
        return Reading(
            value=None,
            triggered=False,
            strength=0.0,
            explanation=(
                f"{source}: forward variance {span} is {variance:.2f}, not above 0: the nearer "
                "term is priced far richer, volatility is priced to fall"
            ),
        )
    forward = math.sqrt(variance)
    ratio = forward / v1
    triggered = forward >= level and ratio >= min_ratio
    if triggered:
        state = (
            f"at or above the level {level:.2f} and {min_ratio:.2f}x the front term: forward "
            "volatility rising"
        )
    elif forward >= level:
        state = (
            f"at or above the level {level:.2f} but below {min_ratio:.2f}x the front term: "
            "priced to subside"
        )
    else:
        state = f"below the level {level:.2f}"
    strength = min(max((forward - level) / (full - level), 0.0), 1.0) if triggered else 0.0
    return Reading(
        value=forward,
        triggered=triggered,
        strength=strength,
        explanation=(
            f"{source}: forward vol {forward:.2f} {span}, {ratio:.3f}x the front term, {state} "
            f"(strength 1 at {full:.2f})"
        ),
    )


def _spx_terms(ctx: Context) -> tuple[_Terms | None, str]:
    """The two nearest SPX expiries' model-free vols, or None and why they cannot be used."""
    options = ctx.spx_options
    if options is None:
        return None, "no SPX Options sheet"
    if options.empty:
        return None, "SPX Options sheet is empty"
    expiries = sorted({e for e in options["expiry"] if e > ctx.as_of})
    if len(expiries) < 2:
        count = "one expiry" if expiries else "no expiry"
        return None, f"SPX Options has {count} after {ctx.as_of:%Y-%m-%d}"
    rate = ctx.market.get("rate")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate):
        return None, "SPX Options not used: needs Rate in the Market sheet"
    vols = []
    for expiry in expiries[:2]:
        chain = options.loc[options["expiry"] == expiry, list(CHAIN_COLUMNS)]
        try:
            variance = model_free_variance(chain, years_to(expiry, ctx.as_of), float(rate))
        except ValueError as exc:
            return None, f"SPX Options not used: expiry {expiry:%Y-%m-%d}: {exc}"
        vols.append(100.0 * math.sqrt(variance))
    e1, e2 = expiries[0], expiries[1]
    days = ((e1 - ctx.as_of).days, (e2 - ctx.as_of).days)
    return _Terms("SPX Options (model-free)", (e1, e2), days, (vols[0], vols[1])), ""


def _futures_terms(futures: pd.DataFrame, as_of: dt.date) -> _Terms | None:
    """The first two live VIX futures (expiry after as_of, positive price), or None."""
    if futures.empty or not {"expiry", "price"} <= set(futures.columns):
        return None
    live = sorted(
        (expiry, float(price))
        for expiry, price in zip(futures["expiry"], futures["price"], strict=True)
        if expiry > as_of and math.isfinite(price) and price > 0
    )
    if len(live) < 2:
        return None
    (e1, f1), (e2, f2) = live[:2]
    return _Terms("VIX futures", (e1, e2), ((e1 - as_of).days, (e2 - as_of).days), (f1, f2))


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(
        Signal(
            name="forward_vol",
            evaluate=evaluate,
            description=(
                "Forward volatility rising: the vol priced between the two nearest expiries (SPX "
                "model-free variance when the SPX Options sheet has two expiries, else the first "
                "two VIX futures) is at or above a level and above the front term's vol"
            ),
            settings=(LEVEL, FULL, MIN_RATIO),
            category="volatility",
        )
    )
