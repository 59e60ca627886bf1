"""Built-in sizer `fixed_ratio`: one VIX call per N condor contracts.

    calls = ceil(condor contracts / fixed_ratio.condors_per_call) - long VIX calls already held

(0 when the calls held already make the ratio), then capped at `liquidity.open_interest_share`
of the series' open interest. Condor contracts are those of every recognised iron condor. The
presets "one VIX call per 1, 2 or 4 condors" (VixShield's pages) are N = 1, 2 (the default) and
4. The rule ignores the size of the spike; the Hedge sheet still shows what the calls cover of
the projected loss. The call (strike, expiry, price, exits) is `_call_layer`'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from rules_engine import Context, HedgeLayer, Reading, RiskReport, Setting, Sizer, hookimpl

from ._call_layer import call_settings, price_call

NAME = "fixed_ratio"

SETTINGS = (
    Setting(
        f"{NAME}.condors_per_call",
        2,
        "int",
        "Condor contracts per VIX call. Presets: 1 (1:1, one call per condor, the heaviest "
        "hedge), 2 (1:2, the default), 4 (1:4, the lightest); VixShield's pages use all three.",
        minimum=1,
        maximum=100,
    ),
    *call_settings(NAME),
)


def calls_held(risk: RiskReport) -> int:
    """Long VIX call contracts among the existing hedges."""
    legs = risk.hedge_legs
    calls = (legs["kind"] == "vix_option") & (legs["type"] == "CALL") & (legs["qty"] > 0)
    return round(float(legs.loc[calls, "qty"].sum()))


def size(ctx: Context, readings: Mapping[str, Reading]) -> list[HedgeLayer]:
    """One layer of VIX calls at the fixed ratio (module docstring)."""
    priced = price_call(ctx, NAME)
    risk, per_call = priced.risk, int(ctx.settings[f"{NAME}.condors_per_call"])
    condors = sum(c.contracts for c in risk.condors)
    ratio_calls = math.ceil(condors / per_call - 1e-9)
    held = calls_held(risk)
    target = max(ratio_calls - held, 0)
    why = (
        f"One VIX call per {per_call} condor contracts (1:{per_call}): ceil({condors:g} / "
        f"{per_call}) = {ratio_calls} calls, less {held} held: {target}"
    )
    if not condors:
        idle = "no iron condor in Positions: nothing to hedge"
    elif not target:
        idle = f"the {held} VIX calls held already make one per {per_call} condors"
    else:
        idle = ""
    trigger = f"Active now: one VIX call per {per_call} condors"
    return [priced.layer(target, trigger=trigger, why=why, idle=idle)]


@hookimpl
def alvh_register_sizers(register: Callable[[Sizer], None]) -> None:
    register(
        Sizer(
            name=NAME,
            size=size,
            description="One VIX call per N condor contracts (presets 1:1, 1:2, 1:4)",
            settings=SETTINGS,
        )
    )
