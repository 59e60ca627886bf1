"""Built-in signal `vol_risk_premium`: VIX minus realized SPX volatility, thin or negative.

A short iron condor earns the volatility risk premium: it sells options priced at implied vol
(VIX) and pays out what SPX actually moves (realized vol). When the premium is thin the book is
paid little for the risk it carries; when it is negative SPX is already moving more than the
options it sold assumed, and the short-gamma book loses on the moves before any VIX spike.

Rule: premium = VIX - RV, in vol points, where RV = 100 sqrt(252/n sum(r^2)) over the last n
(`vol_risk_premium.window`, default 20) close-to-close log returns r of SPX (History `SPX Close`,
blanks dropped; the variance-swap convention, no mean taken out, the realized counterpart of
VIX^2). VIX is the Market sheet's VIX, else the last `VIX Close` in History (the explanation
says which, with its date). value = premium. Triggered when premium < `vol_risk_premium.threshold`
(default 1.0). strength = (threshold - premium) / (threshold - full) clipped to [0, 1] when
triggered, else 0: 0 at the threshold, 1 at `vol_risk_premium.full` (default -5.0) or below.

Defaults from the shipped data (SPX and VIX daily closes, 2016-03-14 to 2026-02-11, 2,494 days):
the premium's median is 4.2 points; it is below 1.0 on 19% of days, below 0 on 14% and below -5
on 5% (the 5th percentile, -4.8).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl
from rules_engine.volatility import realized_volatility

WINDOW = Setting(
    "vol_risk_premium.window",
    20,
    "int",
    "Realized vol look-back in trading days (20: about the 30 calendar days VIX prices).",
    minimum=5,
    maximum=252,
)
THRESHOLD = Setting(
    "vol_risk_premium.threshold",
    1.0,
    "float",
    "VIX minus realized vol (vol points) below this triggers the signal (below 1.0 on 19% of "
    "days 2016-2026, median 4.2; shipped SPX/VIX closes).",
    minimum=-20.0,
    maximum=20.0,
)
FULL = Setting(
    "vol_risk_premium.full",
    -5.0,
    "float",
    "Premium (vol points) at or below which strength is 1 (-5: about the 5th percentile "
    "2016-2026, shipped SPX/VIX closes).",
    minimum=-50.0,
    maximum=19.0,
)


def evaluate(ctx: Context) -> Reading:
    window = int(ctx.settings[WINDOW.name])
    threshold, full = float(ctx.settings[THRESHOLD.name]), float(ctx.settings[FULL.name])
    if not full < threshold:
        raise ValueError(f"{FULL.name} {full:g} must be below {THRESHOLD.name} {threshold:g}")
    closes = ctx.history["spx_close"].dropna()
    if len(closes) < window + 1:
        raise NotEvaluated(
            f"needs {window + 1} SPX closes in History for {window}-day realized vol, "
            f"found {len(closes)}"
        )
    vix, vix_source = _vix(ctx)
    realized = realized_volatility(closes, window)
    premium = vix - realized
    triggered = premium < threshold
    strength = min(max((threshold - premium) / (threshold - full), 0.0), 1.0) if triggered else 0.0
    first, last = closes.index[-window - 1], closes.index[-1]
    state = "below" if triggered else "not below"
    return Reading(
        value=premium,
        triggered=triggered,
        strength=strength,
        explanation=(
            f"VIX {vix:.2f} ({vix_source}) minus SPX {window}-day realized vol {realized:.2f} "
            f"(closes {first:%Y-%m-%d} to {last:%Y-%m-%d}) = premium {premium:.2f} points, "
            f"{state} the threshold {threshold:.2f} (strength 1 at {full:.2f})"
        ),
    )


def _vix(ctx: Context) -> tuple[float, str]:
    """Spot VIX and where it came from: the Market sheet, else History's last VIX Close."""
    vix = ctx.market.get("vix")
    if (
        not isinstance(vix, bool)
        and isinstance(vix, int | float)
        and math.isfinite(vix)
        and vix > 0
    ):
        return float(vix), "Market sheet"
    if "vix_close" in ctx.history.columns:
        closes = ctx.history["vix_close"].dropna()
        if len(closes):
            return float(closes.iloc[-1]), f"History VIX Close on {closes.index[-1]:%Y-%m-%d}"
    raise NotEvaluated("needs VIX in the Market sheet or a VIX Close in History")


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(
        Signal(
            name="vol_risk_premium",
            evaluate=evaluate,
            description=(
                "Volatility risk premium thin or negative: VIX minus SPX realized vol (20 days by "
                "default): a short condor book is paid little, or less than SPX is moving"
            ),
            requires=("spx_close",),
            settings=(WINDOW, THRESHOLD, FULL),
            category="volatility",
        )
    )
