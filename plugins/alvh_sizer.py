"""Built-in sizer `alvh`: the Adaptive Layered VIX Hedge, first cut.

It reads the book only through the public `RiskReport` in `ctx.risk`, as any third-party sizer
would. Layer 1 (ACTIVE): long VIX calls whose payoff in the primary spike (the core setting
`scenario.primary_spike`, VIX +6 by default) offsets a
hedge ratio of the book's projected loss, net of existing hedges; the ratio moves from 0.40 to
0.60 as signal stress (the mean strength of the evaluated signals) rises. Layer 2 is planned with
a longer expiry and stays STANDBY until signal stress confirms deterioration. New spending
respects a carry budget: hedge premium as a share of the condors' credit (VixShield pages use
18-28%). Calls are bought at the ask (the VIX Options chain's, else the liquidity model's, on the
exchange tick) and valued at what they fetch in the spike: the bid, with spreads widened by
`liquidity.stress_widening` (2018-02-05: SPX option spreads +92%).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from rules_engine import (
    Context,
    HedgeLayer,
    Liquidity,
    Reading,
    RiskReport,
    Scenario,
    Setting,
    Sizer,
    VixCall,
    hookimpl,
)

VIX_OPTION_MULTIPLIER = 100.0

SETTINGS = (
    Setting(
        "alvh.hedge_ratio_min",
        0.40,
        "float",
        "Share of the projected loss layer 1 offsets when no signal warns.",
        minimum=0.0,
        maximum=2.0,
    ),
    Setting(
        "alvh.hedge_ratio_max",
        0.60,
        "float",
        "Share of the projected loss layer 1 offsets at full signal stress.",
        minimum=0.0,
        maximum=2.0,
    ),
    Setting(
        "alvh.strike_otm",
        0.35,
        "float",
        "VIX call strike above the future of the same expiry (0.35 = 35%; method: 30-40%).",
        minimum=0.0,
        maximum=3.0,
    ),
    Setting(
        "alvh.strike_increment",
        1.0,
        "float",
        "VIX option strike spacing the strike is rounded to (index points).",
        minimum=0.01,
        maximum=10.0,
    ),
    Setting(
        "alvh.target_dte",
        45,
        "int",
        "Layer 1 expiry: the VIX expiry nearest this many calendar days.",
        minimum=1,
        maximum=400,
    ),
    Setting(
        "alvh.layer2_target_dte",
        110,
        "int",
        "Layer 2 expiry: nearest this many days (a 30/110/220 DTE ladder is common).",
        minimum=1,
        maximum=400,
    ),
    Setting(
        "alvh.layer2_ratio",
        0.25,
        "float",
        "Extra share of the projected loss layer 2 offsets once active.",
        minimum=0.0,
        maximum=2.0,
    ),
    Setting(
        "alvh.layer2_confirmations",
        2,
        "int",
        "Layer 2 turns ACTIVE only when at least this many signals are triggered.",
        minimum=1,
        maximum=100,
    ),
    Setting(
        "alvh.layer2_trigger_stress",
        0.5,
        "float",
        "Signal stress (0-1) needed, with the confirmations, for layer 2 to turn ACTIVE.",
        minimum=0.0,
        maximum=1.0,
    ),
    Setting(
        "alvh.carry_budget",
        0.25,
        "float",
        "Most hedge premium to pay, as a share of the condors' credit (VixShield: 18-28%).",
        minimum=0.0,
        maximum=5.0,
    ),
    Setting(
        "alvh.take_profit_multiple",
        2.0,
        "float",
        "Exit rule: sell half of a layer when it is worth this multiple of its cost.",
        minimum=1.0,
        maximum=100.0,
    ),
    Setting(
        "alvh.roll_dte",
        21,
        "int",
        "Exit rule: close or roll a layer at this many days to expiry.",
        minimum=0,
        maximum=365,
    ),
)


def signal_stress(readings: Mapping[str, Reading]) -> float:
    """Mean strength of the evaluated signals (0 when none could be evaluated)."""
    if not readings:
        return 0.0
    return sum(r.strength for r in readings.values()) / len(readings)


def nearest_expiry(expiries: list[dt.date], as_of: dt.date, target_days: int) -> dt.date:
    """The listed expiry closest to the target; ties go to the later one."""
    live = [e for e in expiries if (e - as_of).days > 0]
    if not live:
        raise ValueError("the VIX Futures sheet has no expiry after the as-of date")
    return min(live, key=lambda e: (abs((e - as_of).days - target_days), -e.toordinal()))


def round_strike(value: float, increment: float) -> float:
    return round(round(value / increment) * increment, 10)


@dataclass(frozen=True)
class Plan:
    """The shared inputs of both layers."""

    ctx: Context
    risk: RiskReport
    settings: Mapping[str, Any]
    primary: Scenario
    scenarios: tuple[Scenario, ...]
    loss: float
    existing: float


def _contracts_for(need: float, per_contract: float) -> int:
    if need <= 0 or per_contract <= 0:
        return 0
    return math.ceil(need / per_contract - 1e-9)


def build_layer(
    plan: Plan, number: int, target_dte: int, need: float, budget: float | None
) -> tuple[HedgeLayer, str]:
    """A VIX call layer covering `need` dollars of primary-spike loss; `budget` caps its cost."""
    risk, s = plan.risk, plan.settings
    expiries = [expiry for expiry, _ in risk.futures_curve]
    expiry = nearest_expiry(expiries, risk.as_of, target_dte)
    forward = risk.vix_future(expiry)
    strike = round_strike(
        forward * (1 + float(s["alvh.strike_otm"])), float(s["alvh.strike_increment"])
    )
    chain = plan.ctx.vix_options
    call = VixCall(expiry, strike, liquidity=Liquidity.from_settings(s))
    q = call.entry(risk, chain)
    per_contract = {
        sc: (call.value(risk, sc, chain) - q.price) * VIX_OPTION_MULTIPLIER for sc in plan.scenarios
    }
    primary_pay = per_contract[plan.primary]
    contracts = _contracts_for(need, primary_pay)
    note = ""
    cost_each = q.price * VIX_OPTION_MULTIPLIER
    if budget is not None and contracts * cost_each > budget + 1e-9:
        allowed = max(math.floor(max(budget, 0.0) / cost_each + 1e-9), 0)
        note = (
            f"; capped by the carry budget: {contracts} contracts would cost "
            f"${contracts * cost_each:,.0f}, budget left ${max(budget, 0.0):,.0f}"
        )
        contracts = allowed
    contracts, capped = call.cap(contracts, chain)
    if capped:
        note += f"; {capped}"
    if primary_pay <= 0 and need > 0:
        note += "; this call does not gain in the primary spike once sold at the widened bid"
    theta = risk.vix_option(expiry, strike, vol=call.implied_vol(chain)).theta
    roll_dte = int(s["alvh.roll_dte"])
    covered = contracts * primary_pay / plan.loss if plan.loss > 0 else 0.0
    why = (
        f"strike {s['alvh.strike_otm']:.0%} above the {expiry:%Y-%m-%d} VIX future "
        f"{forward:.2f}; bought at {q.price:g} ({q.source}); pays ${primary_pay:,.0f} per "
        f"contract in {plan.primary.label} sold at the bid, spreads widened "
        f"{call.liquidity.widening:g}x{note}"
    )
    layer = HedgeLayer(
        layer=number,
        status="ACTIVE",
        trigger="",
        why=why,
        instrument=f"VIX {expiry:%b %Y} {strike:g} call",
        underlying="VIX",
        expiry=expiry,
        strike=strike,
        contracts=contracts,
        price=q.price,
        multiplier=VIX_OPTION_MULTIPLIER,
        cost=contracts * cost_each,
        payoff_by_scenario={k: contracts * v for k, v in per_contract.items()},
        share_of_loss_covered=covered,
        carry_per_day=contracts * VIX_OPTION_MULTIPLIER * theta / 365.0,
        exit_rule=(
            f"Sell half when worth {s['alvh.take_profit_multiple']:g}x cost or VIX closes at or "
            f"above {risk.vix + plan.primary.vix_points:.1f}; close or roll at "
            f"{roll_dte} days to expiry ({expiry - dt.timedelta(days=roll_dte):%Y-%m-%d})"
        ),
    )
    return layer, why


def size(ctx: Context, readings: Mapping[str, Reading]) -> list[HedgeLayer]:
    risk = ctx.risk
    if risk is None:
        raise TypeError("the alvh sizer needs the book's RiskReport in ctx.risk")
    s = ctx.settings
    low, high = float(s["alvh.hedge_ratio_min"]), float(s["alvh.hedge_ratio_max"])
    if low > high:
        raise ValueError(f"alvh.hedge_ratio_min {low:g} is above alvh.hedge_ratio_max {high:g}")
    primary, scenarios = risk.primary, risk.scenarios
    pnl = risk.pnl(primary)
    loss = max(0.0, -pnl.book)
    stress = signal_stress(readings)
    ratio = low + (high - low) * stress
    plan = Plan(ctx, risk, s, primary, scenarios, loss, pnl.hedges)
    budget = float(s["alvh.carry_budget"]) * risk.condor_credit - risk.hedge_premium_paid
    need1 = max(0.0, ratio * loss - pnl.hedges)
    first, why1 = build_layer(plan, 1, int(s["alvh.target_dte"]), need1, budget)
    head = (
        f"Offsets {ratio:.0%} of the projected loss ${loss:,.0f} in {primary.label} "
        f"(SPX {pnl.spx:,.0f}), net of existing hedges' gain ${pnl.hedges:,.0f}"
    )
    first = replace(
        first,
        trigger=f"Active now: base layer; signal stress {stress:.2f} sets hedge ratio {ratio:.0%}",
        why=f"{head}; {why1}",
    )
    threshold = float(s["alvh.layer2_trigger_stress"])
    needed = int(s["alvh.layer2_confirmations"])
    warning = sorted(name for name, r in readings.items() if r.triggered)
    confirmed = stress >= threshold and len(warning) >= needed
    need2_ratio = float(s["alvh.layer2_ratio"])
    need2 = need2_ratio * loss
    budget2 = budget - first.cost if confirmed else None
    second, why2 = build_layer(plan, 2, int(s["alvh.layer2_target_dte"]), need2, budget2)
    now = f"now {len(warning)}: {', '.join(warning)}" if warning else "now none"
    condition = (
        f"at least {needed} signals trigger ({now}) and signal stress is at least "
        f"{threshold:.2f} (now {stress:.2f})"
    )
    trigger = f"Activated: {condition}" if confirmed else f"Activate when {condition}"
    second = replace(
        second,
        status="ACTIVE" if confirmed else "STANDBY",
        trigger=trigger,
        why=f"Adds {need2_ratio:.0%} of the projected loss once signals confirm; {why2}",
    )
    return [first, second]


@hookimpl
def alvh_register_sizers(register: Callable[[Sizer], None]) -> None:
    register(
        Sizer(
            name="alvh",
            size=size,
            description="Adaptive Layered VIX Hedge: base VIX call layer + standby layer",
            settings=SETTINGS,
        )
    )
