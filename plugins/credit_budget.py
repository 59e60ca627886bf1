"""Built-in sizer `credit_budget`: spend a fixed share of the premium the condors took in on VIX
calls.

    budget = credit_budget.share x credit - premium of the VIX option hedges held
    calls  = floor(budget / (price x 100))

`credit` is `RiskReport.credit_received` (each SPX group's net credit at entry, so a condor with
a leg missing still funds its hedge); the hedges already held count against the budget at their
Entry Price (a future's or ETP's notional is never premium). The calls are then capped at
`liquidity.open_interest_share` of the series' open interest. Their target share is what the
budget buys of the projected loss in the primary spike. A share above 1 (more than the credit) is
refused at its Settings cell. The call (strike, expiry, price, exits) is `_call_layer`'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from rules_engine import Context, HedgeLayer, Reading, Setting, Sizer, hookimpl

from ._call_layer import call_settings, price_call

NAME = "credit_budget"

SETTINGS = (
    Setting(
        f"{NAME}.share",
        0.25,
        "float",
        "Share of the premium the SPX book took in (its groups' net credit at entry) to spend on "
        "VIX calls, less what the hedges held cost (VixShield's pages spend 18-28%). Above 100% "
        "is refused.",
        minimum=0.0,
        maximum=1.0,
    ),
    *call_settings(NAME),
)


def size(ctx: Context, readings: Mapping[str, Reading]) -> list[HedgeLayer]:
    """One layer of VIX calls that spends the budget (module docstring)."""
    priced = price_call(ctx, NAME)
    risk, share = priced.risk, float(ctx.settings[f"{NAME}.share"])
    credit, held = risk.credit_received, risk.hedge_premium_paid
    budget = share * credit - held
    each = priced.cost_each
    target = math.floor(budget / each + 1e-9) if budget > 0 and each > 0 else 0
    spent = target * each
    why = (
        f"Spends {share:.0%} of the ${credit:,.0f} the SPX book took in, less ${held:,.0f} the "
        f"hedges held cost: budget ${budget:,.0f}; floor(${budget:,.0f} / ${each:,.2f}) = "
        f"{target} calls for ${spent:,.2f}, ${max(budget, 0.0) - spent:,.2f} left"
    )
    if share == 0:
        idle = f"{NAME}.share is 0: no premium budget"
    elif credit <= 0:
        idle = "the SPX book took in no credit: no premium budget"
    elif budget <= 0:
        idle = f"the hedges held (${held:,.0f}) already use the ${share * credit:,.0f} budget"
    elif target == 0:
        idle = f"the ${budget:,.0f} budget buys no call at ${each:,.2f} a contract"
    else:
        idle = ""
    trigger = f"Active now: {share:.0%} of the credit spent on VIX calls"
    return [priced.layer(target, trigger=trigger, why=why, idle=idle)]


@hookimpl
def alvh_register_sizers(register: Callable[[Sizer], None]) -> None:
    register(
        Sizer(
            name=NAME,
            size=size,
            description="VIX calls bought with a fixed share of the condors' credit",
            settings=SETTINGS,
        )
    )
