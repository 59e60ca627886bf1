"""The stress model written out by hand from its published form (DESIGN.md and the constants in
rules_engine/risk/calibration.py, copied here as literals), so tests check the engine against the
formulas and never against its own code."""

from __future__ import annotations

import math

#: SPX log return per VIX log return in the regimes VIX < 15, 15-25, >= 25.
BETA_LOW, BETA_MID, BETA_HIGH = -0.06145, -0.09218, -0.1749
#: The long-run mean VIX (the curve model's anchor when History is short).
LONG_RUN_MEAN = 19.44


def spx_after(spx: float, vix0: float, vix1: float) -> float:
    """SPX after VIX moves vix0 -> vix1 inside the 15-25 regime: SPX x (vix1 / vix0)^beta."""
    assert min(vix0, vix1) >= 15 and max(vix0, vix1) < 25, "hand formula covers one regime"
    return spx * (vix1 / vix0) ** BETA_MID


def curve_model(vix: float, days: float, mean: float = LONG_RUN_MEAN) -> float:
    """F(t) = theta + (VIX - theta) exp(-kappa t), theta = 0.675 x mean + 12.05, kappa = 2.37
    (VIX / theta)^0.67 per year."""
    theta = 0.675 * mean + 12.05
    kappa = 2.37 * (vix / theta) ** 0.67
    return theta + (vix - theta) * math.exp(-kappa * days / 365)


def curve_slope(days: float, vix: float, mean: float = LONG_RUN_MEAN) -> float:
    """dF/dVIX of the curve model, differentiated by hand."""
    theta = 0.675 * mean + 12.05
    kappa = 2.37 * (vix / theta) ** 0.67
    t = days / 365
    decay = math.exp(-kappa * t)
    return decay - (vix - theta) * t * decay * 0.67 * kappa / vix


def surface(
    days: float,
    strike: float,
    forward: float,
    vix: float,
    *,
    vvix: float | None,
    vix_today: float,
) -> float:
    """VIX option vol: 0.6162 at 30 days ATM at VIX 15, x (days / 30)^-0.3786 x (VIX / 15)^0.33,
    + 0.6 ln(K/F) above the forward; scaled so the 30-day ATM vol at today's VIX is VVIX when
    VVIX is given."""
    scale = 1.0 if vvix is None else vvix / 100 / (0.6162 * (vix_today / 15) ** 0.33)
    upside = max(math.log(strike / forward), 0.0)
    return scale * (0.6162 * (vix / 15) ** 0.33 * (days / 30) ** -0.3786 + 0.6 * upside)


# --- liquidity: Cboe's VIX option ticks and the default spread model ----------------------------


def tick(price: float) -> float:
    """Cboe VIX option ticks since 2022-10-03: $0.01 under $3, $0.05 from $3."""
    return 0.01 if price < 3.0 else 0.05


def on_tick(price: float, up: bool) -> float:
    """`price` rounded to its tick: up for a buyer, down for a seller."""
    steps = price / tick(price)
    whole = math.ceil(steps - 1e-9) if up else math.floor(steps + 1e-9)
    return round(whole * tick(price), 10)


def ask(mid: float) -> float:
    """A VIX option bought without a quote: mid plus 5% of mid (at least a tick), rounded up."""
    return on_tick(mid + max(0.05 * mid, tick(mid)), up=True)


def bid(mid: float, widening: float) -> float:
    """A VIX option sold: mid less `widening` x the half-spread, rounded down, never below 0."""
    return on_tick(max(mid - widening * max(0.05 * mid, tick(mid)), 0.0), up=False)
