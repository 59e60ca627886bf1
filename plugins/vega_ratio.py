"""Built-in sizer `vega_ratio`: long VIX calls whose dollars per VIX point offset a fixed share of
the condor book's.

Sensitivities are dollars per spot VIX point with SPX held, by full repricing: the central
difference over `Scenario(+0.5, spx_move=0)` and `Scenario(-0.5, spx_move=0)`, the one the Risk
sheet's book summary shows (its function is not public, so it is computed here from
`RiskReport.pnl_many`, as that function does). The book and the existing hedges are at model
value, so the call is too (`VixCall.mids`, not its bid or ask):

    book   = (book P&L at VIX +0.5 - book P&L at VIX -0.5) / 1
    held   = (existing hedges' P&L at VIX +0.5 - at VIX -0.5) / 1
    call   = 100 x (call model value at VIX +0.5 - at VIX -0.5) / 1      per contract
    need   = vega_ratio.ratio x max(-book, 0) - held
    calls  = ceil(need / call)                                         0 when need <= 0

then capped at `liquidity.open_interest_share` of the series' open interest. A short condor loses
as VIX rises (book < 0); with the default ratio 0.4 the calls gain 40% of what it loses for a
small VIX move. The call (strike, expiry, price, exits) is `_call_layer`'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from rules_engine import Context, HedgeLayer, Reading, Scenario, Setting, Sizer, hookimpl

from ._call_layer import VIX_OPTION_MULTIPLIER, call_settings, price_call

NAME = "vega_ratio"
#: Half the width of the central difference, VIX points (the Risk sheet's).
VIX_BUMP = 0.5

SETTINGS = (
    Setting(
        f"{NAME}.ratio",
        0.4,
        "float",
        "Share of the condor book's dollars per VIX point (SPX held) the calls offset, net of "
        "existing hedges (0.4 = 40%; 1 = vega-neutral).",
        minimum=0.0,
        maximum=2.0,
    ),
    *call_settings(NAME),
)


def size(ctx: Context, readings: Mapping[str, Reading]) -> list[HedgeLayer]:
    """One layer of VIX calls sized to the vega ratio (module docstring)."""
    priced = price_call(ctx, NAME)
    risk, ratio = priced.risk, float(ctx.settings[f"{NAME}.ratio"])
    bumps = [Scenario(VIX_BUMP, spx_move=0.0), Scenario(-VIX_BUMP, spx_move=0.0)]
    up, down = risk.pnl_many(bumps)
    width = 2.0 * VIX_BUMP
    book, held = (up.book - down.book) / width, (up.hedges - down.hedges) / width
    high, low = priced.call.mids(risk, bumps, priced.chain)
    call = VIX_OPTION_MULTIPLIER * float(high - low) / width
    need = ratio * max(-book, 0.0) - held
    target = math.ceil(need / call - 1e-9) if need > 0 and call > 0 else 0
    why = (
        f"Offsets {ratio:.0%} of the SPX book's ${book:+,.0f} per VIX point, net of the existing "
        f"hedges' ${held:+,.0f} (SPX held; full repricing at VIX +/-{VIX_BUMP:g}; model values): "
        f"calls = ceil(({ratio:g} x ${max(-book, 0.0):,.0f} - ${held:,.0f}) / ${call:,.2f} a "
        f"call) = {target}"
    )
    if target:
        idle = ""
    elif ratio == 0:
        idle = f"{NAME}.ratio is 0"
    elif book >= 0:
        idle = (
            f"the book does not lose as VIX rises (${book:+,.0f} per VIX point): nothing to hedge"
        )
    elif need <= 0:
        idle = f"the existing hedges already offset {ratio:.0%} of the book's VIX exposure"
    else:
        idle = "the call does not gain as VIX rises"
    trigger = f"Active now: calls offset {ratio:.0%} of the book's dollars per VIX point"
    return [priced.layer(target, trigger=trigger, why=why, idle=idle)]


@hookimpl
def alvh_register_sizers(register: Callable[[Sizer], None]) -> None:
    register(
        Sizer(
            name=NAME,
            size=size,
            description="VIX calls whose dollars per VIX point offset a share of the condors'",
            settings=SETTINGS,
        )
    )
