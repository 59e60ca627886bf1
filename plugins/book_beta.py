"""Built-in signal `book_beta`: the book (condors plus VIX hedges) leans too far one way on SPX.

A condor book is meant to earn from time and volatility, not from direction. Its CAPM beta here is
the sensitivity of its return on capital at risk to the SPX return: a beta of 3 loses 3% of the
capital at risk when SPX falls 1%.

Rule, from `ctx.risk` (dollar Greeks per position):
- SPX legs: D = sum of $delta (per SPX point) over the SPX option legs (the condors and any other
  SPX structure); their dollars per unit SPX return are D x SPX.
- VIX hedges: H = dollars per spot VIX point, summed over the hedge legs: $delta x the stress
  model's futures beta for the leg's expiry (VIX options and futures; $delta is per point of the
  leg's own future), and for VIX ETPs their P&L when VIX rises 1 point with SPX held. The
  stress model moves SPX by s per VIX point for a small move from today (s =
  `risk.spx_per_vix_point`: the calibrated regime beta / VIX, or the points rule), so a unit SPX
  return comes with 1 / s VIX points, and the hedges add H / s.
- Capital at risk: C = sum of the condors' max loss.

    beta = (D x SPX + H / s) / C      (H counts 0 when s = 0: no VIX move then)

`value` = beta. Triggered when |beta| > `book_beta.tolerance` (default 3). Strength =
min((|beta| - tolerance) / tolerance, 1) when triggered (1 at twice the tolerance), else 0. Not
evaluated when the book has no recognised condor.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rules_engine import (
    Context,
    NotEvaluated,
    Reading,
    RiskReport,
    Scenario,
    Setting,
    Signal,
    hookimpl,
)

TOLERANCE = Setting(
    "book_beta.tolerance",
    3.0,
    "float",
    "Largest |beta| of the book's return on capital at risk (sum of condor max loss) to the SPX "
    "return. 3: a 1% SPX day, about one daily standard deviation at VIX 16, then moves the book "
    "by at most 3% of its capital at risk, an eighth of a 45-day condor's typical credit "
    "(about 25% of max loss).",
    minimum=0.1,
    maximum=100.0,
)


def usd(amount: float, places: int = 0) -> str:
    """Signed dollars: "-$3,144", "+$0.00"."""
    sign = "-" if amount < 0 else "+"
    return f"{sign}${abs(amount):,.{places}f}"


def hedge_dollars_per_vix_point(risk: RiskReport) -> float:
    """Dollars the existing VIX hedges make per spot VIX point in the stress model."""
    legs = risk.hedge_legs
    curve = legs["kind"].isin(["vix_option", "vix_future"])
    betas = np.array([risk.vix_futures_beta(e) for e in legs.loc[curve, "expiry"]], dtype=float)
    on_curve = float(np.nansum(legs.loc[curve, "delta_usd"].to_numpy(dtype=float) * betas))
    etp = legs["kind"] == "etp"
    if not etp.any():
        return on_curve
    moved = risk.leg_pnl(Scenario(1.0, spx_move=0.0))
    return on_curve + float(np.nansum(moved[legs.index[etp]].to_numpy(dtype=float)))


def evaluate(ctx: Context) -> Reading:
    tolerance = float(ctx.settings[TOLERANCE.name])
    risk = ctx.risk
    if risk is None or not risk.condors:
        raise NotEvaluated("needs at least one iron condor in the Positions sheet")
    capital = sum(c.max_loss for c in risk.condors)
    if capital <= 0:
        raise ValueError(
            f"the condors' max loss sums to ${capital:,.0f}: check their strikes and Entry Prices"
        )
    legs = risk.legs
    delta = float(np.nansum(legs.loc[legs["kind"] == "spx_option", "delta_usd"].to_numpy(float)))
    hedges = hedge_dollars_per_vix_point(risk)
    slope = risk.spx_per_vix_point
    vix_per_return = 1.0 / slope if slope != 0 else 0.0
    book_part = delta * risk.spx
    hedge_part = hedges * vix_per_return
    beta = (book_part + hedge_part) / capital
    triggered = abs(beta) > tolerance
    strength = min((abs(beta) - tolerance) / tolerance, 1.0) if triggered else 0.0
    state = "above" if triggered else "within"
    return Reading(
        value=beta,
        triggered=triggered,
        strength=max(strength, 0.0),
        explanation=(
            f"beta {beta:+.2f}: SPX legs {usd(delta, 2)}/pt x SPX {risk.spx:g} = "
            f"{usd(book_part / 100)} per 1% SPX; VIX hedges {usd(hedges, 2)}/VIX pt x "
            f"{vix_per_return / 100:+.3f} VIX pts per 1% SPX = {usd(hedge_part / 100)}; "
            f"over capital at risk ${capital:,.0f} (condor max loss): |beta| {abs(beta):.2f} is "
            f"{state} the tolerance {tolerance:g}"
        ),
    )


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(
        Signal(
            name="book_beta",
            evaluate=evaluate,
            description="CAPM beta of condors plus VIX hedges on capital at risk, out of tolerance",
            settings=(TOLERANCE,),
            category="book",
        )
    )
