"""Built-in sizer `alvh`: the Adaptive Layered VIX Hedge.

It reads the book only through the public API (`ctx.risk`, `ctx.rules`, `ctx.composite`), as any
third-party sizer would. The plan (README "The alvh sizer"):

- Layers sit on a tenor ladder (`alvh.ladder`, preset 30/110/220 days weighted 0.4/0.4/0.2 of the
  projected loss in the primary spike). Layer 1 is the base layer; its target share rises from its
  ladder share to `alvh.hedge_ratio_max` with the composite warning level:
  target_1 = share_1 + (ratio_max - share_1) x composite. Layers 2.. are confirmation layers that
  share what is left of the whole loss, target_k = share_k x (1 - target_1) / (1 - share_1), so the
  full ladder covers 100% of it; each is ACTIVE only when its Rules-sheet trigger fires.
- Each layer buys VIX calls at its strike rule (% above the future of its expiry, or a call delta)
  on the listed expiry nearest its tenor, priced at the ask (chain, else model mid + spread, on the
  tick) and valued at what they fetch in the spike (the bid, spreads widened). Existing hedges are
  matched to the nearest rung and valued the same way; their gain reduces that layer's need.
- Premium spent by ACTIVE layers stays within `hedge.premium_budget` x the premium the SPX book
  took in, less the option premium of the hedges held (a future's or ETP's notional is never
  premium). When the budget binds, cheaper structures the settings allow are tried (a call
  spread, a further strike, the next shorter expiry) and the one covering most is bought; then
  contracts are scaled down. A triggered layer the budget cannot fund is UNFUNDED; a planned one
  is STANDBY and says what it would cost and whether the budget could fund it.
- Exits are set before entry and never fire at the spike the layer is sized for: take profit
  (sell half) when the layer's VIX future reaches its level in a spike `alvh.take_profit_spike`
  times the design spike, or when the layer is worth `alvh.take_profit_multiple` x its cost (raised
  above its worth at the design spike if needed); close or roll at `alvh.roll_dte` days to expiry.
  Held hedges get HOLD, TAKE PROFIT or ROLL by the same rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rules_engine import (
    Context,
    HedgeLayer,
    Instrument,
    LayerStatus,
    Liquidity,
    LoggedLayer,
    Reading,
    RiskReport,
    Scenario,
    Setting,
    Sizer,
    VixCall,
    VixCallSpread,
    VixFuture,
    hedge_candidates,
    held_hedges,
    hookimpl,
    nearest_expiry,
    snap_strike,
)

VIX_OPTION_MULTIPLIER = 100.0
#: What a structure name in `alvh.structures` stands for.
STRUCTURES = ("call", "call_spread", "further_strike", "shorter_expiry", "future", "etp")
#: Kinds bought with margin or capital, never with option premium: the budget does not limit them.
NOT_PREMIUM = ("vix_future", "etp")
#: The statuses of held hedges' rows (not the plan's).
HELD = ("HOLD", "TAKE PROFIT", "ROLL")
#: Contracts a structure off the premium budget may buy: only the need limits it.
UNLIMITED = 10**9


def parse_ladder(text: object) -> tuple[tuple[int, float], ...]:
    """`"30:0.4,110:0.4,220:0.2"` -> ((30, 0.4), (110, 0.4), (220, 0.2)): tenors in days,
    ascending and distinct, each with its share of the projected loss; the shares are a whole."""
    rungs = []
    for part in str(text).split(","):
        days, sep, share = part.partition(":")
        try:
            rung = (int(days.strip()), float(share.strip()))
        except ValueError:
            raise ValueError(f"{part.strip()!r} is not days:share, e.g. 30:0.4") from None
        if not sep or not 1 <= rung[0] <= 400 or not 0.0 < rung[1] <= 1.0:
            raise ValueError(f"{part.strip()!r}: days 1-400 and a share above 0 up to 1")
        rungs.append(rung)
    tenors = [d for d, _ in rungs]
    if tenors != sorted(set(tenors)):
        raise ValueError(f"tenors {tenors} must rise and differ")
    total = sum(share for _, share in rungs)
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"the shares sum to {total:g}; they must sum to a whole (1)")
    return tuple(rungs)


def parse_structures(text: object) -> tuple[str, ...]:
    """`"call,call_spread"` -> the structures the budget may fall back on, `call` first."""
    names = tuple(dict.fromkeys(p.strip() for p in str(text).split(",") if p.strip()))
    unknown = [n for n in names if n not in STRUCTURES]
    if unknown or "call" not in names:
        raise ValueError(f"use 'call' and any of {', '.join(STRUCTURES[1:])}; got {text!r}")
    return names


SETTINGS = (
    Setting(
        "alvh.ladder",
        "30:0.4,110:0.4,220:0.2",
        "str",
        "Tenor ladder: days:share per layer (layer 1 first), shares of the projected loss in "
        "the primary spike that sum to a whole. Preset 30/110/220 days weighted 4/4/2 (ALVH: "
        "a near base layer, a middle and a far confirmation layer).",
        check=parse_ladder,
    ),
    Setting(
        "alvh.hedge_ratio_max",
        0.60,
        "float",
        "Layer 1's target share at full warning (composite 1); at composite 0 it is its ladder "
        "share. The method sizes the base layer at 40-60% of the projected loss; at most 1 (the "
        "whole loss).",
        minimum=0.0,
        maximum=1.0,
    ),
    Setting(
        "alvh.strike_rule",
        "otm",
        "str",
        "How each layer picks its strike: otm (alvh.strike_otm above the future of its expiry) "
        "or delta (the listed strike whose call delta is nearest alvh.strike_delta).",
        choices=("otm", "delta"),
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
        "alvh.strike_delta",
        0.25,
        "float",
        "Call delta the delta strike rule aims at (per VIX future point, 0-1).",
        minimum=0.01,
        maximum=0.99,
    ),
    Setting(
        "alvh.structures",
        "call,call_spread,further_strike,shorter_expiry",
        "str",
        "What the plan may buy when the premium budget binds, besides the call: call_spread "
        "(long the call, short alvh.spread_width higher), further_strike (alvh.strike_otm + 15 "
        "points further out), shorter_expiry (the listed expiry before the layer's), future (the "
        "VIX future of the layer's expiry: margin, no premium, but it loses as VIX falls), etp "
        "(VXX/UVXY shares when the Market sheet prices them: capital, not premium, and they "
        "bleed in contango).",
        check=parse_structures,
    ),
    Setting(
        "alvh.spread_width",
        10.0,
        "float",
        "Width of the call spread tried when the budget binds (VIX points).",
        minimum=0.5,
        maximum=100.0,
    ),
    Setting(
        "alvh.take_profit_spike",
        2.0,
        "float",
        "Take profit (sell half) when the layer's VIX future reaches its level in a spike this "
        "many times the spike it is sized for: never at the design spike itself (selling there "
        "sold half the hedge days before the 2018 and 2020 peaks).",
        minimum=1.1,
        maximum=10.0,
    ),
    Setting(
        "alvh.take_profit_multiple",
        3.0,
        "float",
        "...or when the layer is worth this multiple of its cost (raised, per layer, above its "
        "worth in the design spike so that it cannot fire there).",
        minimum=1.0,
        maximum=100.0,
    ),
    Setting(
        "alvh.roll_dte",
        21,
        "int",
        "Exit rule: close or roll a layer at this many days to expiry (VIX options lose value "
        "fastest in their last weeks).",
        minimum=0,
        maximum=365,
    ),
)


# --- the inputs every layer shares --------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What every layer is sized against."""

    ctx: Context
    risk: RiskReport
    settings: Mapping[str, Any]
    liquidity: Liquidity
    primary: Scenario
    loss: float
    composite: float
    horizons: Mapping[str, float]

    @property
    def chain(self) -> pd.DataFrame | None:
        return self.ctx.vix_options


@dataclass(frozen=True)
class Priced:
    """One candidate structure for a layer, priced: per contract cost and net P&L in each
    scenario, and per unit what carry needs (model values today and with no VIX move later)."""

    instrument: Instrument
    label: str
    how: str
    expiry: dt.date
    price: float
    source: str
    per_contract_cost: float
    per_contract_pay: float
    net_by_scenario: Mapping[Scenario, float]
    mid: float
    calm_mids: Mapping[str, float]
    no_spike_value: float | None

    def contracts_for(self, need: float) -> int:
        """Contracts whose primary-spike P&L reaches `need` dollars (0 if it does not gain)."""
        if need <= 0 or self.per_contract_pay <= 0:
            return 0
        return math.ceil(need / self.per_contract_pay - 1e-9)

    def affordable(self, budget: float) -> int:
        if self.instrument.kind in NOT_PREMIUM:
            return UNLIMITED
        if self.per_contract_cost <= 0:
            return 0
        return max(math.floor(max(budget, 0.0) / self.per_contract_cost + 1e-9), 0)


def price(plan: Plan, instrument: Instrument, how: str, expiry: dt.date) -> Priced:
    """The instrument bought now and closed in each scenario, per contract, in dollars; with no
    VIX move a day on, at its roll date (from `expiry`, the layer's when it has none of its own)
    and at the nearest condor expiry. All its scenarios are priced in one pass."""
    risk = plan.risk
    quote = instrument.entry(risk, plan.chain)
    expiry = instrument.expiry or expiry
    to_roll = max((expiry - risk.as_of).days - int(plan.settings["alvh.roll_dte"]), 0)
    calm = {"day": Scenario(0.0, 0.0, 1.0)}
    if to_roll > 0:
        calm["roll"] = Scenario(0.0, 0.0, float(to_roll))
    horizon = plan.horizons.get("condor_expiry")
    if horizon is not None:
        calm["no_spike"] = Scenario(0.0, 0.0, horizon)
    scenarios = [*risk.scenarios, *calm.values()]
    mids = instrument.mids(risk, scenarios, plan.chain)
    closed = instrument.closing(mids, scenarios)
    net = {
        sc: float((value - quote.price) * instrument.multiplier)
        for sc, value in zip(risk.scenarios, closed, strict=False)
    }
    by_name = dict(zip(calm, range(len(risk.scenarios), len(scenarios)), strict=True))
    premium = 0.0 if instrument.kind in NOT_PREMIUM else quote.price * instrument.multiplier
    return Priced(
        instrument,
        instrument.label,
        how,
        expiry,
        quote.price,
        quote.source,
        premium,
        net[plan.primary],
        net,
        quote.mid,
        {name: float(mids[i]) for name, i in by_name.items() if name != "no_spike"},
        float(closed[by_name["no_spike"]]) if "no_spike" in by_name else None,
    )


# --- strikes and expiries -----------------------------------------------------------------------


def strike_for(plan: Plan, expiry: dt.date, extra_otm: float = 0.0) -> tuple[float, str]:
    """The strike the rule picks for this expiry (one the chain lists, else on Cboe's grid), and
    how it was picked."""
    s, risk = plan.settings, plan.risk
    forward = risk.vix_future(expiry)
    if s["alvh.strike_rule"] == "delta" and not extra_otm:
        target = float(s["alvh.strike_delta"])
        grid = sorted({snap_strike(k, plan.chain, expiry) for k in np.arange(1.0, 4.0 * forward)})
        grid = [k for k in grid if k >= forward] or [snap_strike(forward, plan.chain, expiry)]
        deltas = np.array([risk.vix_option(expiry, k).delta for k in grid])
        best = grid[int(np.argmin(np.abs(deltas - target)))]
        return best, f"the call nearest delta {target:g} on the {expiry:%Y-%m-%d} future"
    otm = float(s["alvh.strike_otm"]) + extra_otm
    strike = snap_strike(forward * (1.0 + otm), plan.chain, expiry)
    return strike, f"{otm:.0%} above the {expiry:%Y-%m-%d} VIX future {forward:.2f}"


def candidates(plan: Plan, expiry: dt.date) -> list[tuple[str, Instrument, str]]:
    """The structures this layer may buy, the plain call first, each with how its strike was
    picked."""
    s, risk = plan.settings, plan.risk
    allowed = parse_structures(s["alvh.structures"])
    strike, how = strike_for(plan, expiry)
    out: list[tuple[str, Instrument, str]] = [
        ("call", VixCall(expiry, strike, liquidity=plan.liquidity), how)
    ]
    if "call_spread" in allowed:
        short = strike + float(s["alvh.spread_width"])
        out.append(("call_spread", VixCallSpread(expiry, strike, short, plan.liquidity), how))
    if "further_strike" in allowed:
        further, further_how = strike_for(plan, expiry, extra_otm=0.15)
        if further > strike:
            call = VixCall(expiry, further, liquidity=plan.liquidity)
            out.append(("further_strike", call, further_how))
    if "shorter_expiry" in allowed:
        earlier = [e for e, _ in risk.futures_curve if risk.as_of < e < expiry]
        if earlier and (earlier[-1] - risk.as_of).days > int(s["alvh.roll_dte"]):
            near, near_how = strike_for(plan, earlier[-1])
            call = VixCall(earlier[-1], near, liquidity=plan.liquidity)
            out.append(("shorter_expiry", call, near_how))
    if "future" in allowed:
        out.append(("future", VixFuture(expiry, plan.liquidity), ""))
    if "etp" in allowed:
        listed = hedge_candidates(risk, plan.chain, s, plan.ctx.market)
        out += [("etp", etp, "") for etp in listed if etp.kind == "etp"]
    return out


# --- held hedges ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """One Group of existing VIX hedges, valued as new hedges are (closed at the bid, spreads
    widened in a spike), P&L from today's value."""

    group: str
    rung: int
    labels: str
    contracts: int
    expiry: dt.date | None
    value: float
    entry_cost: float | None
    premium: float
    notional: float
    net_by_scenario: Mapping[Scenario, float]
    carry: Mapping[str, float]


def held_groups(plan: Plan, rungs: Sequence[tuple[int, float]]) -> list[Held]:
    """The existing hedges by Group, each matched to the ladder rung nearest its expiry."""
    risk = plan.risk
    legs = risk.hedge_legs
    if legs.empty:
        return []
    scenarios = list(risk.scenarios)
    frame = held_hedges(risk, scenarios, plan.liquidity)
    later = risk.leg_prices([Scenario(0.0, 0.0, days) for days in plan.horizons.values()])
    size = (legs["qty"] * legs["multiplier"]).to_numpy(dtype=float)
    out = []
    for group, rows in frame.groupby(frame["group"].astype(str), sort=False):
        mine = legs.loc[rows.index]
        at = legs.index.get_indexer(rows.index)
        columns = risk.legs.index.get_indexer(rows.index)
        expiries = [e for e in mine["expiry"] if isinstance(e, dt.date)]
        expiry = min(expiries) if expiries else None
        days = (expiry - risk.as_of).days if expiry else rungs[0][0]
        rung = 1 + min(range(len(rungs)), key=lambda i: abs(rungs[i][0] - days))
        option = (mine["kind"] == "vix_option").to_numpy()
        entry = mine["entry_price"].to_numpy(dtype=float)
        now = mine["price"].to_numpy(dtype=float)
        paid = size[at] * np.where(np.isnan(entry), now, entry)
        carry = {
            name: float((size[at] * (later[k, columns] - now)).sum())
            for k, name in enumerate(plan.horizons)
        }
        labels = [f"{q:+g} x {label}" for q, label in zip(rows["qty"], rows["label"], strict=True)]
        out.append(
            Held(
                group=str(group),
                rung=rung,
                labels="; ".join(labels),
                contracts=int(np.abs(mine["qty"].to_numpy(dtype=float)).max()),
                expiry=expiry,
                value=float(rows["value"].sum()),
                entry_cost=None if np.isnan(entry).any() else float(paid.sum()),
                premium=max(float(paid[option].sum()), 0.0),
                notional=float(
                    np.abs(size[at] * mine["underlying_price"].to_numpy())[~option].sum()
                ),
                net_by_scenario={sc: float((rows[sc] - rows["value"]).sum()) for sc in scenarios},
                carry=carry,
            )
        )
    return out


def held_row(plan: Plan, held: Held) -> HedgeLayer:
    """A held hedge's own row: HOLD, TAKE PROFIT or ROLL by the exit rules, and why."""
    s, risk = plan.settings, plan.risk
    roll_dte = int(s["alvh.roll_dte"])
    multiple = float(s["alvh.take_profit_multiple"])
    days = (held.expiry - risk.as_of).days if held.expiry else None
    status: LayerStatus
    if days is not None and days <= roll_dte:
        status, rule = "ROLL", f"{days} days to expiry, at or inside the {roll_dte}-day roll rule"
    elif held.entry_cost and held.entry_cost > 0 and held.value >= multiple * held.entry_cost:
        status = "TAKE PROFIT"
        rule = f"worth ${held.value:,.0f}, at least {multiple:g}x its cost ${held.entry_cost:,.0f}"
    else:
        status = "HOLD"
        cost = (
            "cost unknown (no Entry Price)"
            if held.entry_cost is None
            else (f"cost ${held.entry_cost:,.0f}")
        )
        rule = f"worth ${held.value:,.0f} ({cost}); no exit rule fires"
    gain = held.net_by_scenario[plan.primary]
    loss = plan.loss
    return HedgeLayer(
        layer=held.rung,
        status=status,
        trigger=f"Held (Positions group {held.group}): {rule}",
        why=(
            f"Matched to layer {held.rung}; closed at the bid in {plan.primary.label} it makes "
            f"${gain:,.0f} from today's value, {gain / loss:.0%} of the projected loss"
            if loss > 0
            else f"Matched to layer {held.rung}; the book has no projected loss to offset"
        ),
        instrument=held.labels,
        underlying="VIX",
        expiry=held.expiry or risk.as_of,
        strike=0.0,
        contracts=held.contracts,
        price=0.0,
        multiplier=1.0,
        cost=held.premium,
        payoff_by_scenario=dict(held.net_by_scenario),
        share_of_loss_covered=max(gain, 0.0) / loss if loss > 0 else 0.0,
        carry_per_day=held.carry["day"],
        exit_rule=f"Close or roll at {roll_dte} days to expiry; take profit at {multiple:g}x cost",
        notional=held.notional,
        carry_to_roll=held.carry.get("roll"),
        cost_if_no_spike=held.carry.get("condor_expiry"),
        held_group=held.group,
    )


# --- the layers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """What a layer buys and why that, not the plain call."""

    priced: Priced
    contracts: int
    needed: int
    note: str


def choose(
    plan: Plan,
    call: Priced,
    others: Callable[[], Sequence[tuple[str, Priced]]],
    need: float,
    budget: float,
) -> Choice:
    """The plain call when the budget can pay for the target; else the structure that covers the
    most within the budget (cheapest on a tie), scaled down to what the budget buys. The other
    structures are priced only then (`others`)."""
    needed = call.contracts_for(need)
    if call.per_contract_pay > 0 and needed * call.per_contract_cost <= budget + 1e-9:
        return Choice(call, needed, needed, "")
    options = [("call", call), *others()]
    tried = []
    best: tuple[float, float, str, Priced, int, int] | None = None
    for label, option in options:
        wanted = option.contracts_for(need)
        n = min(wanted, option.affordable(budget))
        pay = n * option.per_contract_pay
        tried.append(f"{option.label} {pay / plan.loss:.0%}" if plan.loss > 0 else option.label)
        key = (pay, -n * option.per_contract_cost, label, option, n, wanted)
        if n > 0 and (best is None or key[:2] > best[:2]):
            best = key
    if best is None:
        return Choice(
            call, 0, needed, f"no structure fits ${max(budget, 0):,.0f} (tried {', '.join(tried)})"
        )
    _, _, label, option, n, wanted = best
    note = (
        f"the budget left ${max(budget, 0):,.0f} cannot pay the {call.label} to target; "
        f"covering most within it: {', '.join(tried)}"
    )
    return Choice(option, n, wanted, note)


def exit_rule(plan: Plan, chosen: Priced, expiry: dt.date) -> str:
    """Take-profit and roll rules fixed before entry, set beyond the design spike."""
    s, risk, primary = plan.settings, plan.risk, plan.primary
    spike = float(s["alvh.take_profit_spike"]) * primary.vix_points
    level = risk.vix_future(expiry, Scenario(spike, primary.spx_move))
    worth_at_design = chosen.per_contract_pay + chosen.per_contract_cost
    multiple = float(s["alvh.take_profit_multiple"])
    worth = ""
    if chosen.per_contract_cost > 0:
        multiple = max(multiple, math.ceil(12.5 * worth_at_design / chosen.per_contract_cost) / 10)
        worth = f" or worth {multiple:g}x its cost"
    roll_dte = int(s["alvh.roll_dte"])
    roll_day = expiry - dt.timedelta(days=roll_dte)
    return (
        f"Take profit, sell half: the {expiry:%b %Y} VIX future at or above {level:.2f} (its "
        f"level in VIX {spike:+g}, {s['alvh.take_profit_spike']:g}x the {primary.label} spike "
        f"it is sized for){worth}; close or roll at {roll_dte} days to expiry "
        f"({roll_day:%Y-%m-%d})"
    )


def carry(chosen: Priced, contracts: int) -> dict[str, float | None]:
    """Dollars the layer loses with no VIX move while the curve rolls down: a day, to its roll
    date (model values), and to the nearest condor expiry (closed at the bid there, against its
    price)."""
    size = contracts * chosen.instrument.multiplier
    out: dict[str, float | None] = {"roll": 0.0}  # at or inside the roll window already
    out.update({name: size * (mid - chosen.mid) for name, mid in chosen.calm_mids.items()})
    out["no_spike"] = (
        None if chosen.no_spike_value is None else size * (chosen.no_spike_value - chosen.price)
    )
    return out


@dataclass(frozen=True)
class Rung:
    """One layer of the ladder as this run sees it."""

    number: int
    days: int
    target: float
    held_gain: float
    fired: bool
    trigger: str
    previous: LoggedLayer | None = None


def steady(plan: Plan, rung: Rung, chosen: Choice, budget: float) -> Choice:
    """Keep the last recompute's contracts when this run's number for the same ACTIVE layer and
    instrument is within `steward.band` of them and the budget still pays for them: readings
    that wobble do not resize a hedge (the engine's steward applies the same band to any sizer;
    doing it here keeps the budget left to later layers the same too)."""
    before = rung.previous
    name = _name(chosen.priced.instrument, chosen.priced.expiry)
    if before is None or before.status != "ACTIVE" or before.instrument != name:
        return chosen
    old, new = before.contracts, chosen.contracts
    band = float(plan.settings.get("steward.band", 0.0))
    if old <= 0 or old == new or abs(new - old) > band * old:
        return chosen
    premium = (
        0.0 if chosen.priced.instrument.kind in NOT_PREMIUM else chosen.priced.per_contract_cost
    )
    if old * premium > budget + 1e-9:
        return chosen
    kept = f"kept at the last recompute's {old} contracts ({new} now is within {band:.0%})"
    return dataclasses.replace(
        chosen, contracts=old, note=f"{chosen.note}; {kept}" if chosen.note else kept
    )


def build_layer(plan: Plan, rung: Rung, budget: float) -> HedgeLayer:
    """The layer for this rung: ACTIVE (bought, within `budget`), UNFUNDED (triggered, but the
    budget cannot pay a contract) or STANDBY (not triggered, or nothing left to hedge)."""
    risk, loss = plan.risk, plan.loss
    roll_dte = int(plan.settings["alvh.roll_dte"])
    expiry = nearest_expiry([e for e, _ in risk.futures_curve], risk.as_of, rung.days, roll_dte)
    (_, plain, how), *rest = candidates(plan, expiry)
    call = price(plan, plain, how, expiry)

    def others() -> list[tuple[str, Priced]]:
        return [(name, price(plan, inst, text, expiry)) for name, inst, text in rest]

    need = rung.target * loss - rung.held_gain
    head = f"Target {rung.target:.0%} of the ${loss:,.0f} {plan.primary.label} loss" + (
        f", less ${rung.held_gain:,.0f} from held hedges" if rung.held_gain else ""
    )
    if need <= 0 or call.per_contract_pay <= 0:
        why = (
            f"{head}: nothing left to buy"
            if need <= 0
            else f"{head}: the {call.label} ({call.how}) does not gain in the spike once sold "
            "at the widened bid"
        )
        return _layer(plan, rung, "STANDBY", Choice(call, 0, 0, ""), why)
    status: LayerStatus
    if rung.fired:
        chosen = choose(plan, call, others, need, budget)
        capped, warning = chosen.priced.instrument.cap(chosen.contracts, plan.chain)
        if warning:
            note = f"{chosen.note}; {warning}" if chosen.note else warning
            chosen = dataclasses.replace(chosen, contracts=capped, note=note)
        elif chosen.contracts > 0:
            chosen = steady(plan, rung, chosen, budget)
        status = "ACTIVE" if chosen.contracts > 0 else "UNFUNDED"
    else:
        needed = call.contracts_for(need)
        chosen = Choice(call, needed, needed, "")
        status = "STANDBY"
    pick = chosen.priced
    n = chosen.contracts if status != "UNFUNDED" else chosen.needed
    cost = n * pick.per_contract_cost
    paid = f"${cost:,.0f}"
    if pick.instrument.kind in NOT_PREMIUM:
        exposure = n * pick.instrument.notional(plan.risk)
        paid = f"no premium (notional ${exposure:,.0f})"
    elif pick.how:
        paid += f" ({pick.how})"
    why = (
        f"{head}: {n} x {pick.label} at {pick.price:g} ({pick.source}) = {paid}, "
        f"${pick.per_contract_pay:,.0f} net a unit in the spike"
    )
    if chosen.note:
        why += f"; {chosen.note}"
    if status == "UNFUNDED":
        why += f"; triggered, but the budget left ${max(budget, 0):,.0f} cannot pay one contract"
    if status == "STANDBY":
        fund = "can" if cost <= budget + 1e-9 else "cannot"
        why += f"; if triggered, the budget left ${max(budget, 0):,.0f} {fund} fund it"
    return _layer(plan, rung, status, chosen, why)


def _layer(plan: Plan, rung: Rung, status: LayerStatus, chosen: Choice, why: str) -> HedgeLayer:
    pick, loss = chosen.priced, plan.loss
    expiry = pick.expiry
    n = chosen.contracts if status == "ACTIVE" else chosen.needed
    covered = n * pick.per_contract_pay / loss if loss > 0 and n else 0.0
    to_target = 0.0
    if status == "ACTIVE" and chosen.needed > n:
        to_target = (chosen.needed - n) * pick.per_contract_cost
    elif status == "UNFUNDED":
        to_target = n * pick.per_contract_cost
    flows = carry(pick, n)
    instrument = pick.instrument
    return HedgeLayer(
        layer=rung.number,
        status=status,
        trigger=rung.trigger,
        why=why,
        instrument=_name(instrument, expiry),
        underlying="VIX",
        expiry=expiry,
        strike=float(instrument.strike or 0.0),
        contracts=n,
        price=pick.price,
        multiplier=instrument.multiplier,
        cost=round(n * pick.per_contract_cost, 2),
        payoff_by_scenario={sc: n * v for sc, v in pick.net_by_scenario.items()},
        share_of_loss_covered=max(covered, 0.0),
        carry_per_day=float(flows["day"] or 0.0),
        exit_rule=exit_rule(plan, pick, expiry),
        kind=instrument.kind,  # type: ignore[arg-type]
        short_strike=instrument.short_strike,
        target_share=rung.target,
        carry_to_roll=flows["roll"],
        cost_if_no_spike=flows["no_spike"],
        cost_to_target=to_target,
        notional=n * instrument.notional(plan.risk) if instrument.kind in NOT_PREMIUM else 0.0,
    )


def _name(instrument: Instrument, expiry: dt.date) -> str:
    """How the Hedge sheet names what a layer buys."""
    if instrument.kind in NOT_PREMIUM:
        return instrument.label
    if instrument.short_strike is not None:
        return f"VIX {expiry:%b %Y} {instrument.strike:g}/{instrument.short_strike:g} call spread"
    return f"VIX {expiry:%b %Y} {instrument.strike:g} call"


# --- the plan -------------------------------------------------------------------------------------


def rung_trigger(ctx: Context, number: int) -> tuple[bool, str]:
    """Whether the Rules sheet's trigger for this layer fired, and the text that says so."""
    result = ctx.rules.get(number)
    if result is None:
        fired = number == 1
        state = "base layer, held while condors are open" if fired else "planned"
        return fired, f"No rule for layer {number} in the Rules sheet: {state}"
    if result.fired is None:
        return False, f"Rule `{result.expression}` could not be evaluated: {result.reason}"
    state = "fired" if result.fired else "not fired"
    return result.fired, f"Rule `{result.expression}` {state}: {result.reason}"


def size(ctx: Context, readings: Mapping[str, Reading]) -> list[HedgeLayer]:
    """The layered plan: one row per ladder rung, then one per held hedge Group."""
    risk = ctx.risk
    if risk is None:
        raise TypeError("the alvh sizer needs the book's RiskReport in ctx.risk")
    s = ctx.settings
    rungs = parse_ladder(s["alvh.ladder"])
    ratio_max = float(s["alvh.hedge_ratio_max"])
    if ratio_max < rungs[0][1]:
        raise ValueError(
            f"alvh.hedge_ratio_max {ratio_max:g} is below layer 1's ladder share "
            f"{rungs[0][1]:g}: the base layer would shrink as warnings grow"
        )
    composite = ctx.composite.value if ctx.composite is not None else 0.0
    primary = risk.primary
    horizons = {"day": 1.0, "roll": 0.0}
    if risk.condors:
        horizons["condor_expiry"] = float(min((c.expiry - risk.as_of).days for c in risk.condors))
    plan = Plan(
        ctx,
        risk,
        s,
        Liquidity.from_settings(s),
        primary,
        risk.projected_loss(primary),
        composite,
        horizons,
    )
    held = held_groups(plan, rungs)
    budget = float(s["hedge.premium_budget"]) * risk.credit_received - risk.hedge_premium_paid
    base_share = rungs[0][1]
    base = base_share + (ratio_max - base_share) * composite
    layers = []
    for number, (days, share) in enumerate(rungs, start=1):
        fired, trigger = rung_trigger(ctx, number)
        if number == 1:
            target = base
            explained = ctx.composite.explain() if ctx.composite is not None else "no composite"
            trigger += (
                f"; target {target:.0%} = {share:.0%} + ({ratio_max:.0%} - {share:.0%}) x "
                f"{explained}"
            )
        else:
            target = share * (1 - base) / (1 - base_share)
            if base > base_share:
                trigger += (
                    f"; target {target:.0%} = {share:.0%} x (1 - {base:.0%}) / (1 - "
                    f"{base_share:.0%}): the larger base layer leaves less for the ladder to fill"
                )
        gain = sum(h.net_by_scenario[primary] for h in held if h.rung == number)
        planned = (x for x in ctx.previous if x.layer == number and x.status not in HELD)
        before = next(planned, None)
        rung = Rung(number, days, target, gain, fired, trigger, before)
        layer = build_layer(plan, rung, budget)
        if layer.status == "ACTIVE":
            budget -= layer.cost
        layers.append(layer)
    return layers + [held_row(plan, h) for h in held]


@hookimpl
def alvh_register_sizers(register: Callable[[Sizer], None]) -> None:
    register(
        Sizer(
            name="alvh",
            size=size,
            description="Adaptive Layered VIX Hedge: a base layer and confirmation layers on a "
            "tenor ladder, within a premium budget, with exits set before entry",
            settings=SETTINGS,
        )
    )
