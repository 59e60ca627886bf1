"""One VIX call layer, bought the way the built-in `vega_ratio`, `credit_budget` and `fixed_ratio`
sizers buy it: they differ only in how many contracts they want, so the strike rule, the price,
the valuation in each spike, the carry and the exit rule live here once.

- Expiry: the listed VIX expiry nearest `PREFIX.target_dte` days among those beyond the
  `PREFIX.roll_dte` roll window (ties go to the later one).
- Strike: `PREFIX.strike_otm` above the future of that expiry, snapped to the nearest strike the
  VIX Options sheet lists for the expiry, else to Cboe's usual grid (whole points to 30, 2.5 to
  50, 5 above).
- Price: `VixCall.entry`: the chain's ask, else the model mid plus the modelled half-spread, on
  the exchange tick; cost = contracts x price x 100 to the cent.
- Payoff: net P&L per scenario, contracts x 100 x (what a call fetches closed there, at the bid
  with spreads widened - price paid). Coverage: that P&L in the primary spike over the book's
  projected loss there.
- Carry: the model value's change with VIX unchanged while the curve rolls down
  (`Scenario(0, spx_move=0, days=d)`): a day, and to the roll date. Cost if no spike: what the
  calls fetch at the bid on the nearest condor expiry, less what they cost.
- Exits, fixed before entry: sell half when worth `PREFIX.take_profit_multiple` x cost (raised
  above the calls' worth in the primary spike, so it never fires at the spike they are sized
  for); close or roll at `PREFIX.roll_dte` days to expiry.

Imports only the public API.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from rules_engine import (
    Context,
    HedgeLayer,
    Liquidity,
    Quote,
    RiskReport,
    Scenario,
    Setting,
    VixCall,
    nearest_expiry,
    snap_strike,
)

VIX_OPTION_MULTIPLIER = 100.0


def call_settings(prefix: str) -> tuple[Setting, ...]:
    """The strike, expiry and exit settings of a sizer that buys one call layer."""
    return (
        Setting(
            f"{prefix}.strike_otm",
            0.35,
            "float",
            "VIX call strike above the future of its expiry (0.35 = 35%; the method buys 30-40% "
            "out of the money), snapped to a listed strike.",
            minimum=0.0,
            maximum=3.0,
        ),
        Setting(
            f"{prefix}.target_dte",
            45,
            "int",
            "The calls' expiry: the listed VIX expiry nearest this many calendar days.",
            minimum=1,
            maximum=400,
        ),
        Setting(
            f"{prefix}.roll_dte",
            21,
            "int",
            "Exit rule: close or roll the calls at this many days to expiry (VIX options lose "
            "value fastest in their last weeks).",
            minimum=0,
            maximum=365,
        ),
        Setting(
            f"{prefix}.take_profit_multiple",
            3.0,
            "float",
            "Exit rule: sell half when the calls are worth this multiple of their cost (raised "
            "above their worth in the primary spike, so it never fires at the spike they are "
            "sized for).",
            minimum=1.0,
            maximum=100.0,
        ),
    )


@dataclass(frozen=True)
class PricedCall:
    """The call the strike rule picks, bought now and valued per contract in every scenario."""

    ctx: Context
    risk: RiskReport
    prefix: str
    call: VixCall
    forward: float
    quote: Quote
    #: $ per contract closed in each of the report's scenarios: 100 x (exit value - price).
    net: Mapping[Scenario, float]

    @property
    def chain(self) -> pd.DataFrame | None:
        return self.ctx.vix_options

    @property
    def cost_each(self) -> float:
        """Premium of one contract, dollars."""
        return self.quote.price * VIX_OPTION_MULTIPLIER

    @property
    def pay(self) -> float:
        """Net P&L of one contract in the primary spike, dollars."""
        return self.net[self.risk.primary]

    @property
    def loss(self) -> float:
        """The book's projected loss in the primary spike, dollars."""
        return self.risk.projected_loss()

    def share(self, contracts: int) -> float:
        """What `contracts` calls' net P&L in the primary spike covers of the projected loss."""
        if self.loss <= 0:
            return 0.0
        return max(contracts * self.pay, 0.0) / self.loss

    def describe(self) -> str:
        """How the call was picked and priced, for the layer's `why`."""
        s = self.ctx.settings
        expiry = self.call.expiry
        return (
            f"{self.call.label}: strike {float(s[f'{self.prefix}.strike_otm']):.0%} above the "
            f"{expiry:%Y-%m-%d} VIX future {self.forward:.2f} (the expiry nearest "
            f"{int(s[f'{self.prefix}.target_dte'])} days); bought at {self.quote.price:g} "
            f"({self.quote.source}); nets ${self.pay:,.0f} a contract in {self.risk.primary.label} "
            f"sold at the bid, spreads widened {self.call.liquidity.widening:g}x"
        )

    def layer(self, target: int, *, trigger: str, why: str, idle: str = "") -> HedgeLayer:
        """The layer of `target` contracts capped by open interest: ACTIVE when any remain, else
        STANDBY with the reason (`idle` when the sizer wants none)."""
        contracts, capped = self.call.cap(target, self.chain)
        notes = [why, self.describe()]
        if capped:
            notes.append(capped)
        if self.pay <= 0:
            notes.append("this call loses in the primary spike once sold at the widened bid")
        status: Literal["ACTIVE", "STANDBY"] = "ACTIVE"
        if contracts == 0:
            status, trigger = "STANDBY", f"Standby: {idle or capped or 'nothing to buy'}"
        carry = self.carry(contracts)
        return HedgeLayer(
            layer=1,
            status=status,
            trigger=trigger,
            why="; ".join(notes),
            instrument=self.call.label,
            underlying="VIX",
            expiry=self.call.expiry,
            strike=self.call.strike,
            contracts=contracts,
            price=self.quote.price,
            multiplier=VIX_OPTION_MULTIPLIER,
            cost=contracts * self.cost_each,
            payoff_by_scenario={sc: contracts * v for sc, v in self.net.items()},
            share_of_loss_covered=self.share(contracts),
            carry_per_day=carry["day"],
            exit_rule=self.exit_rule(),
            kind="vix_call",
            target_share=self.share(target),
            notional=0.0,
            carry_to_roll=carry["roll"],
            cost_if_no_spike=carry.get("no_spike"),
            cost_to_target=(target - contracts) * self.cost_each,
        )

    def carry(self, contracts: int) -> dict[str, float]:
        """Dollars `contracts` calls make with VIX unchanged while the curve rolls down: `day`
        and `roll` (model value then less today's), `no_spike` (closed at the bid on the nearest
        condor expiry less the price paid; absent without a condor). Negative: they lose."""
        risk, call, chain = self.risk, self.call, self.chain
        size = contracts * VIX_OPTION_MULTIPLIER
        roll_dte = int(self.ctx.settings[f"{self.prefix}.roll_dte"])
        to_roll = max((call.expiry - risk.as_of).days - roll_dte, 0)
        today = call.today(risk, chain)
        day, roll = call.mids(risk, [_still(1), _still(to_roll)], chain)
        out = {"day": size * (float(day) - today), "roll": size * (float(roll) - today)}
        if not to_roll:
            out["roll"] = 0.0
        if risk.condors:
            days = max(min((c.expiry - risk.as_of).days for c in risk.condors), 0)
            (closed,) = call.values(risk, [_still(days)], chain)
            out["no_spike"] = size * (float(closed) - self.quote.price)
        return out

    def exit_rule(self) -> str:
        """Take profit and roll, fixed before entry; the take-profit multiple is raised to the
        first tenth above the calls' worth in the primary spike when the setting is below it."""
        s = self.ctx.settings
        asked = float(s[f"{self.prefix}.take_profit_multiple"])
        worth = (self.pay + self.cost_each) / self.cost_each if self.cost_each > 0 else 0.0
        multiple = max(asked, (math.floor(worth * 10 + 1e-9) + 1) / 10)
        raised = (
            f" (raised from {asked:g}x: in {self.risk.primary.label} it is worth {worth:.2f}x)"
            if multiple > asked
            else ""
        )
        roll_dte = int(s[f"{self.prefix}.roll_dte"])
        roll_day = self.call.expiry - dt.timedelta(days=roll_dte)
        return (
            f"Sell half when worth {multiple:g}x cost ({multiple * self.quote.price:.2f} a "
            f"contract){raised}; close or roll at {roll_dte} days to expiry ({roll_day:%Y-%m-%d})"
        )


def _still(days: float) -> Scenario:
    """VIX and SPX unchanged, `days` later: the curve rolls down, the calls decay."""
    return Scenario(0.0, spx_move=0.0, days=float(days))


def price_call(ctx: Context, prefix: str) -> PricedCall:
    """The call `prefix`'s strike and expiry settings pick, bought at the ask and closed in each
    of the report's scenarios."""
    risk = ctx.risk
    if risk is None:
        raise TypeError(f"the {prefix} sizer needs the book's RiskReport in ctx.risk")
    s = ctx.settings
    expiry = nearest_expiry(
        [e for e, _ in risk.futures_curve],
        risk.as_of,
        int(s[f"{prefix}.target_dte"]),
        int(s[f"{prefix}.roll_dte"]),
    )
    forward = risk.vix_future(expiry)
    wanted = forward * (1.0 + float(s[f"{prefix}.strike_otm"]))
    strike = snap_strike(wanted, ctx.vix_options, expiry)
    call = VixCall(expiry, strike, liquidity=Liquidity.from_settings(s))
    quote = call.entry(risk, ctx.vix_options)
    scenarios = list(risk.scenarios)
    closed = call.values(risk, scenarios, ctx.vix_options)
    net = {
        sc: float((value - quote.price) * VIX_OPTION_MULTIPLIER)
        for sc, value in zip(scenarios, closed, strict=True)
    }
    return PricedCall(ctx, risk, prefix, call, forward, quote, net)
