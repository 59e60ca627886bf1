"""Liquidity: what a hedge costs to buy today and fetches when it is sold in a stress.

Prices are per unit in the instrument's own quote: VIX index points for VIX options and futures
(x 100 or x 1000 dollars a contract), dollars per share for VIX ETPs. The model value of an
instrument is taken as the mid of its market.

- Entry: the VIX Options chain's ask when the series is listed there, else the mid plus a
  modelled half-spread, rounded up to the exchange tick. Every shown price is a price the
  exchange accepts, so cost = contracts x shown price x multiplier holds to the cent.
- Exit in a spike: the stressed mid less the modelled half-spread widened by
  `liquidity.stress_widening` (2x by default: 2018-02-05/06 relative SPX option spreads +92%,
  SPY +162%; up to 4x in stress; notes/market-model.md), rounded down to the tick, never below 0.
  A short leg is bought back at the widened ask, rounded up.
- Size: a new position takes at most `liquidity.open_interest_share` of the series' open interest
  when the chain gives it, and says so when that cap binds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rules_engine.models import Setting

FloatArray = npt.NDArray[np.float64]

#: Minimum increment of US stock and ETP quotes at or above $1 (SEC Regulation NMS Rule 612).
ETP_TICK = 0.01

LIQUIDITY_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "liquidity.vix_option_tick",
        0.01,
        "float",
        "VIX option minimum price increment for premiums below liquidity.vix_option_tick_break "
        "(index points): 0.01 since Cboe's 2022-10-03 change for single-leg VIX option quotes; "
        "0.05 before (set 0.05 to study older books such as the 2018 example).",
        minimum=0.001,
        maximum=1.0,
    ),
    Setting(
        "liquidity.vix_option_tick_above",
        0.05,
        "float",
        "VIX option minimum price increment at or above the tick break (index points): 0.05 "
        "since Cboe's 2022-10-03 change; 0.10 before.",
        minimum=0.001,
        maximum=1.0,
    ),
    Setting(
        "liquidity.vix_option_tick_break",
        3.0,
        "float",
        "The VIX option premium (index points) from which the wider tick applies: $3.00 in "
        "Cboe's rule, before and after 2022-10-03.",
        minimum=0.0,
        maximum=100.0,
    ),
    Setting(
        "liquidity.vix_future_tick",
        0.05,
        "float",
        "VIX (VX) futures minimum price increment, index points: 0.05, i.e. $50 a contract "
        "(Cboe VX contract specifications).",
        minimum=0.001,
        maximum=1.0,
    ),
    Setting(
        "liquidity.vix_option_half_spread",
        0.05,
        "float",
        "Modelled half-spread of a VIX option with no quote in VIX Options, as a share of its "
        "mid, at least one tick (practitioner assumption: calm-market VIX calls quote a few "
        "ticks wide; Cboe's delayed VIX chain of 2026-05-20 shows 9.85/10.15 on a deep "
        "in-the-money call, a 1.5% half-spread).",
        minimum=0.0,
        maximum=1.0,
    ),
    Setting(
        "liquidity.vix_future_half_spread_ticks",
        1.0,
        "float",
        "Modelled half-spread of a VIX future, in ticks: buying one tick above the curve's price "
        "and selling one below (practitioner assumption: front-month VX quotes are one tick "
        "wide, so crossing from a curve price on the tick costs one tick; back months quote "
        "wider).",
        minimum=0.0,
        maximum=100.0,
    ),
    Setting(
        "liquidity.etp_half_spread_ticks",
        1.0,
        "float",
        "Modelled half-spread of VXX / UVXY shares, in $0.01 ticks (SEC Regulation NMS Rule 612 "
        "sets the $0.01 tick; practitioner assumption: these ETPs quote a cent or two wide).",
        minimum=0.0,
        maximum=1000.0,
    ),
    Setting(
        "liquidity.stress_widening",
        2.0,
        "float",
        "How many times wider the modelled half-spread is when a hedge is sold in a VIX spike: 2x "
        "by default, up to 4x in stress (2018-02-05/06: relative SPX option spreads +92%, SPY "
        "+162%, raw price spreads +400% and more; notes/market-model.md). Hedges are never "
        "marked at mid in a spike; where VIX falls or stays, the normal spread applies.",
        minimum=1.0,
        maximum=10.0,
    ),
    Setting(
        "liquidity.open_interest_share",
        0.1,
        "float",
        "Most contracts a new hedge may buy, as a share of the series' open interest when VIX "
        "Options gives it (practitioner assumption: beyond ~10% the order moves the market and "
        "the exit in a spike gets harder).",
        minimum=0.001,
        maximum=1.0,
    ),
)


@dataclass(frozen=True)
class TickRule:
    """Minimum price increment: `below` for prices under `break_price`, `above` from it on."""

    below: float
    above: float
    break_price: float = math.inf

    def at(self, price: float) -> float:
        """The tick that applies to `price`."""
        return self.below if price < self.break_price else self.above

    def round(self, price: float, up: bool) -> float:
        """`price` rounded to the tick that applies to it (up for a buyer, down for a seller)."""
        return round_to_tick(price, self.at(price), up)


@dataclass(frozen=True)
class Spread:
    """How one kind of instrument trades: its tick rule and its modelled half-spread, the larger
    of `share` x mid and `floor_ticks` ticks."""

    tick: TickRule
    share: float
    floor_ticks: float

    def half_spread(self, mid: float) -> float:
        """The modelled half-spread around `mid`, in the instrument's price units."""
        return float(_half_spreads(np.array([mid]), self)[0])


@dataclass(frozen=True)
class Quote:
    """An entry price per unit (index points for VIX options and futures, dollars per share for
    ETPs), the model mid it was made from, and where it came from."""

    price: float
    mid: float
    source: str


@dataclass(frozen=True)
class Liquidity:
    """The liquidity settings in one place: a spread model per kind of instrument, the stress
    widening and the open-interest share."""

    option: Spread
    future: Spread
    etp: Spread
    widening: float
    open_interest_share: float

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Liquidity:
        """The model the `liquidity.*` settings describe; a setting `settings` lacks takes its
        declared default."""
        value = {
            s.name.removeprefix("liquidity."): float(settings.get(s.name, s.default))
            for s in LIQUIDITY_SETTINGS
        }
        option_tick = TickRule(
            value["vix_option_tick"], value["vix_option_tick_above"], value["vix_option_tick_break"]
        )
        future_tick = TickRule(value["vix_future_tick"], value["vix_future_tick"])
        return cls(
            option=Spread(option_tick, value["vix_option_half_spread"], 1.0),
            future=Spread(future_tick, 0.0, value["vix_future_half_spread_ticks"]),
            etp=Spread(TickRule(ETP_TICK, ETP_TICK), 0.0, value["etp_half_spread_ticks"]),
            widening=value["stress_widening"],
            open_interest_share=value["open_interest_share"],
        )


#: The model with every liquidity setting at its default.
DEFAULT_LIQUIDITY = Liquidity.from_settings({})


def round_to_tick(price: float, tick: float, up: bool) -> float:
    """`price` on the tick grid: up to the next tick (what a buyer pays) or down (what a seller
    gets). A price already on the grid stays, float noise aside."""
    return float(_round_to_ticks(np.array([price]), TickRule(tick, tick), up)[0])


def entry_price(mid: float, ask: float | None = None, *, spread: Spread) -> Quote:
    """What one unit costs to buy: the chain's `ask` when given, else `mid` plus the modelled
    half-spread, rounded up to the tick."""
    if ask is not None and math.isfinite(ask) and ask > 0:
        return Quote(float(ask), mid, "ask from VIX Options")
    price = buyback_price(mid, 1.0, spread=spread)
    half = spread.half_spread(mid)
    return Quote(price, mid, f"model mid {mid:.4g} + modelled half-spread {half:.3g}")


def exit_price(model_value: float, widening: float, *, spread: Spread) -> float:
    """What one unit fetches when sold at the bid: the model value less `widening` x the
    modelled half-spread, rounded down to the tick, never below 0."""
    return float(exit_prices(np.array([model_value]), widening, spread=spread)[0])


def buyback_price(model_value: float, widening: float, *, spread: Spread) -> float:
    """What one unit costs to buy back (closing a short leg) at the ask: the model value plus
    `widening` x the modelled half-spread, rounded up to the tick."""
    return float(buyback_prices(np.array([model_value]), widening, spread=spread)[0])


def exit_prices(
    model_values: FloatArray, widening: FloatArray | float, *, spread: Spread
) -> FloatArray:
    """`exit_price` of many model values at once (the Risk sheet's grids close every held hedge
    in every cell)."""
    values = np.asarray(model_values, dtype=float)
    bid = np.maximum(values - widening * _half_spreads(values, spread), 0.0)
    return _round_to_ticks(bid, spread.tick, up=False)


def buyback_prices(
    model_values: FloatArray, widening: FloatArray | float, *, spread: Spread
) -> FloatArray:
    """`buyback_price` of many model values at once."""
    values = np.asarray(model_values, dtype=float)
    ask = values + widening * _half_spreads(values, spread)
    return _round_to_ticks(ask, spread.tick, up=True)


def _ticks(prices: FloatArray, rule: TickRule) -> FloatArray:
    return np.where(prices < rule.break_price, rule.below, rule.above)


def _half_spreads(mids: FloatArray, spread: Spread) -> FloatArray:
    return np.maximum(
        spread.share * np.maximum(mids, 0.0), spread.floor_ticks * _ticks(mids, spread.tick)
    )


def _round_to_ticks(prices: FloatArray, rule: TickRule, up: bool) -> FloatArray:
    """Each price on its tick grid, as `round_to_tick` does one."""
    tick = _ticks(prices, rule)
    steps = prices / tick
    whole = np.ceil(steps - 1e-9) if up else np.floor(steps + 1e-9)
    return np.asarray(np.round(whole * tick, 10), dtype=float)


def cap_by_open_interest(
    contracts: int, open_interest: float | None, share: float, label: str = "the series"
) -> tuple[int, str | None]:
    """At most `share` of `open_interest` contracts (rounded down), with a warning saying so when
    the cap binds; unchanged when the open interest is unknown."""
    if open_interest is None or not math.isfinite(open_interest) or open_interest < 0:
        return contracts, None
    limit = math.floor(share * open_interest + 1e-9)
    if contracts <= limit:
        return contracts, None
    warning = (
        f"{label}: {contracts} contracts capped at {limit}, {share:.0%} of its open interest "
        f"{open_interest:,.0f}"
    )
    return limit, warning
