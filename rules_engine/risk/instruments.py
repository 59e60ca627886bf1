"""Hedge instruments a sizer can pick, each priced now (entry at the ask) and in any scenario (exit
at the widened bid), for a quantity: VIX calls, VIX call spreads, VIX futures and VIX ETP shares.

Units: prices per unit in the instrument's own quote (VIX index points for VIX options and
futures, dollars per share for ETPs); P&L, premium and notional in dollars. Valuation is the
stress model's (the RiskReport): VIX options by Black-76 on the future of their expiry, at the
VIX Options chain's IV when the series is listed there, else the model surface, moved by the
surface's change in a scenario; VIX futures on the curve model; ETPs as the 1-month futures index
times their daily leverage (`RiskReport.etp_growth`). Liquidity (rules_engine/risk/liquidity.py)
turns those model values into prices one can trade at. The existing hedges in Positions are
valued the same way (`held_hedges`), so held and new hedges are comparable.
"""

from __future__ import annotations

import datetime as dt
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rules_engine.models import HedgeLayer
from rules_engine.risk.book import ETP_LEVERAGE, records
from rules_engine.risk.liquidity import (
    DEFAULT_LIQUIDITY,
    Liquidity,
    Quote,
    Spread,
    buyback_price,
    buyback_prices,
    cap_by_open_interest,
    entry_price,
    exit_prices,
)
from rules_engine.risk.market import FloatArray, Scenario
from rules_engine.risk.report import RiskReport

#: Contract multipliers: dollars per index point (Cboe: VIX options 100, VX futures 1000);
#: an ETP share is one unit of its dollar price.
VIX_OPTION_MULTIPLIER = 100.0
VIX_FUTURE_MULTIPLIER = 1000.0
ETP_MULTIPLIER = 1.0
#: Candidate call strikes: this far above the future of their expiry (0.10 = 10%).
CALL_OTM_LADDER = (0.10, 0.20, 0.30, 0.40, 0.50, 0.60)
#: Candidate call spreads: short strike this many VIX points above the long one.
SPREAD_WIDTHS = (5.0, 10.0)
#: The ETPs offered as candidates, read from Market fields of the same name in lower case.
CANDIDATE_ETPS = ("VXX", "UVXY")

Chain = pd.DataFrame | None


def listed_strike(value: float) -> float:
    """The nearest VIX option strike on Cboe's usual grid, halves rounded up: whole points up to
    30, 2.5 points to 50, 5 points above (the listed chain of February 2012: 10, 15, 16, ..., 30,
    32.5, ..., 50, 55, ..., 100; recent chains also list half points near the money). When a VIX
    Options sheet is given, its own strikes are used instead (`hedge_candidates`)."""
    step = 1.0 if value <= 30.0 else 2.5 if value <= 50.0 else 5.0
    return round(math.floor(value / step + 0.5) * step, 10)


def chain_row(chain: Chain, expiry: dt.date, strike: float) -> dict[str, Any] | None:
    """The VIX Options row of this expiry and strike, or None when the chain does not list it."""
    if chain is None or not len(chain):
        return None
    expiries = pd.to_datetime(chain["expiry"]).dt.date
    match = chain[(expiries == expiry).to_numpy() & ((chain["strike"] - strike).abs() < 1e-9)]
    return None if match.empty else dict(match.iloc[0])


def _number(row: Mapping[str, Any] | None, name: str) -> float | None:
    """A finite, non-negative number from a chain row, else None."""
    raw = None if row is None else row.get(name)
    if raw is None or pd.isna(raw):
        return None
    value = float(raw)
    return value if math.isfinite(value) and value >= 0 else None


def widening_in(liquidity: Liquidity, scenario: Scenario | None) -> float:
    """How many times the normal half-spread applies when closing in `scenario`: the stress
    widening when VIX rises, the normal spread today and when VIX falls or stays."""
    return liquidity.widening if scenario is not None and scenario.vix_points > 0 else 1.0


class Instrument(ABC):
    """A hedge a sizer can buy: its HedgeLayer fields, its model value, entry and exit prices.

    `kind` is a `HedgeLayer.kind`; `expiry` None for ETP shares, `strike` 0 for futures and
    ETPs; `short_strike` only for call spreads; `multiplier` dollars per unit of price.
    """

    kind: str
    expiry: dt.date | None
    strike: float
    short_strike: float | None
    underlying: str
    multiplier: float
    liquidity: Liquidity

    @property
    @abstractmethod
    def label(self) -> str:
        """How the Hedge sheet names it: "VIX Mar 2018 19/25 call spread"."""

    @abstractmethod
    def today(self, risk: RiskReport, chain: Chain = None) -> float:
        """Model value per unit today."""

    @abstractmethod
    def mids(
        self, risk: RiskReport, scenarios: Sequence[Scenario], chain: Chain = None
    ) -> FloatArray:
        """Model value per unit in each scenario, priced together."""

    @abstractmethod
    def entry(self, risk: RiskReport, chain: Chain = None) -> Quote:
        """What one unit costs to buy today, and where that price came from."""

    @abstractmethod
    def exits(self, mids: FloatArray, widening: FloatArray) -> FloatArray:
        """What one unit fetches sold at model values `mids`, spreads widened `widening` x."""

    def mid(self, risk: RiskReport, scenario: Scenario | None = None, chain: Chain = None) -> float:
        """Model value per unit today (`scenario` None) or in `scenario`."""
        if scenario is None:
            return self.today(risk, chain)
        return float(self.mids(risk, [scenario], chain)[0])

    def values(
        self, risk: RiskReport, scenarios: Sequence[Scenario], chain: Chain = None
    ) -> FloatArray:
        """What one unit fetches when closed in each scenario, at the bid widened as
        `widening_in` says; priced together."""
        return self.closing(self.mids(risk, scenarios, chain), scenarios)

    def closing(self, mids: FloatArray, scenarios: Sequence[Scenario]) -> FloatArray:
        """What one unit fetches when closed in each scenario, from its model values `mids`
        there (for a caller that needs both)."""
        widening = np.array([widening_in(self.liquidity, sc) for sc in scenarios])
        return self.exits(mids, widening)

    def value(
        self, risk: RiskReport, scenario: Scenario | None = None, chain: Chain = None
    ) -> float:
        """What one unit fetches when closed in `scenario` (today, at the normal spread, when
        None)."""
        if scenario is None:
            return float(self.exits(np.array([self.today(risk, chain)]), np.ones(1))[0])
        return float(self.values(risk, [scenario], chain)[0])

    def pnl(
        self,
        risk: RiskReport,
        scenario: Scenario,
        quantity: float,
        paid: float | None = None,
        chain: Chain = None,
    ) -> float:
        """Dollars made by `quantity` units bought at `paid` (default: today's entry price) and
        closed in `scenario`: quantity x multiplier x (exit value - paid)."""
        price = self.entry(risk, chain).price if paid is None else paid
        return quantity * self.multiplier * (self.value(risk, scenario, chain) - price)

    def premium(self, risk: RiskReport, chain: Chain = None) -> float:
        """Dollars paid up front per unit: entry price x multiplier (0 for a future, which is
        margined, not paid for)."""
        return self.entry(risk, chain).price * self.multiplier

    @abstractmethod
    def notional(self, risk: RiskReport) -> float:
        """Dollars of VIX exposure per unit today (never premium: a future's notional is not
        spent)."""

    def open_interest(self, chain: Chain) -> float | None:
        """Open interest of the series in the chain, None when unknown."""
        return None

    def cap(self, contracts: int, chain: Chain) -> tuple[int, str | None]:
        """`contracts` capped at the open-interest share, with a warning when the cap binds."""
        share = self.liquidity.open_interest_share
        return cap_by_open_interest(contracts, self.open_interest(chain), share, self.label)


class SingleLeg(Instrument):
    """An instrument traded as one unit on one market: entry at the ask, exit at the bid."""

    @property
    @abstractmethod
    def spread(self) -> Spread:
        """The liquidity model of its market."""

    def ask(self, chain: Chain) -> float | None:
        """The quoted ask per unit, when a chain lists it."""
        return None

    def entry(self, risk: RiskReport, chain: Chain = None) -> Quote:
        return entry_price(self.today(risk, chain), self.ask(chain), spread=self.spread)

    def exits(self, mids: FloatArray, widening: FloatArray) -> FloatArray:
        return exit_prices(mids, widening, spread=self.spread)

    def buyback(
        self, risk: RiskReport, scenario: Scenario | None = None, chain: Chain = None
    ) -> float:
        """What one unit costs to buy back in `scenario` (closing a short): the widened ask."""
        widening = widening_in(self.liquidity, scenario)
        return buyback_price(self.mid(risk, scenario, chain), widening, spread=self.spread)


@dataclass(frozen=True)
class VixOption(SingleLeg):
    """A VIX option on the future of its `expiry`; `vol` (fraction) overrides the chain's IV and
    the model surface (a held leg keeps its own IV)."""

    expiry: dt.date
    strike: float
    call: bool = True
    vol: float | None = None
    liquidity: Liquidity = DEFAULT_LIQUIDITY
    kind: str = field(default="vix_call", init=False)
    short_strike: float | None = field(default=None, init=False)
    underlying: str = field(default="VIX", init=False)
    multiplier: float = field(default=VIX_OPTION_MULTIPLIER, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", "vix_call" if self.call else "vix_put")

    @property
    def label(self) -> str:
        return f"VIX {self.expiry:%b %Y} {self.strike:g} {'call' if self.call else 'put'}"

    @property
    def spread(self) -> Spread:
        return self.liquidity.option

    def _row(self, chain: Chain) -> dict[str, Any] | None:
        return chain_row(chain, self.expiry, self.strike) if self.call else None

    def implied_vol(self, chain: Chain) -> float | None:
        """The vol it is priced at: its own, else the chain's IV, else None (the surface's)."""
        if self.vol is not None:
            return self.vol
        iv = _number(self._row(chain), "iv")
        return iv if iv else None

    def today(self, risk: RiskReport, chain: Chain = None) -> float:
        vol = self.implied_vol(chain)
        return risk.vix_option(self.expiry, self.strike, call=self.call, vol=vol).price

    def mids(
        self, risk: RiskReport, scenarios: Sequence[Scenario], chain: Chain = None
    ) -> FloatArray:
        vol = self.implied_vol(chain)
        return risk.vix_option_prices(self.expiry, self.strike, scenarios, call=self.call, vol=vol)

    def ask(self, chain: Chain) -> float | None:
        return _number(self._row(chain), "call_ask")

    def bid(self, chain: Chain) -> float | None:
        """The quoted bid per unit, when a chain lists it."""
        return _number(self._row(chain), "call_bid")

    def open_interest(self, chain: Chain) -> float | None:
        return _number(self._row(chain), "open_interest")

    def notional(self, risk: RiskReport) -> float:
        return risk.vix_future(self.expiry) * self.multiplier


@dataclass(frozen=True)
class VixCall(VixOption):
    """A long VIX call: `VixCall(expiry, strike)`."""

    call: bool = field(default=True, init=False)


@dataclass(frozen=True)
class VixCallSpread(Instrument):
    """Long the `long_strike` VIX call, short the `short_strike` call of the same expiry, traded
    as one complex order.

    Entry: the long's ask less the short's bid when the chain quotes both, else the spread's
    model mid plus the option half-spread model applied to that mid. Exit: the spread's mid in
    the scenario less the widened half-spread of that mid, rounded down to the tick. Closing leg
    by leg would pay two widened spreads on two large premiums, so a deep in-the-money spread
    would fetch less the further VIX rose; a spread order is quoted on the spread's own value,
    and its value is never above its width."""

    expiry: dt.date
    long_strike: float
    short_strike: float
    liquidity: Liquidity = DEFAULT_LIQUIDITY
    kind: str = field(default="vix_call_spread", init=False)
    strike: float = field(default=math.nan, init=False)
    underlying: str = field(default="VIX", init=False)
    multiplier: float = field(default=VIX_OPTION_MULTIPLIER, init=False)

    def __post_init__(self) -> None:
        if not self.short_strike > self.long_strike:
            raise ValueError(
                f"a call spread's short strike {self.short_strike:g} must be above its long "
                f"strike {self.long_strike:g}"
            )
        object.__setattr__(self, "strike", self.long_strike)

    @property
    def long(self) -> VixCall:
        return VixCall(self.expiry, self.long_strike, liquidity=self.liquidity)

    @property
    def short(self) -> VixCall:
        return VixCall(self.expiry, self.short_strike, liquidity=self.liquidity)

    @property
    def label(self) -> str:
        return f"VIX {self.expiry:%b %Y} {self.long_strike:g}/{self.short_strike:g} call spread"

    @property
    def width(self) -> float:
        """Strike distance, VIX points: the most the spread can pay per unit."""
        return self.short_strike - self.long_strike

    def today(self, risk: RiskReport, chain: Chain = None) -> float:
        return self.long.today(risk, chain) - self.short.today(risk, chain)

    def mids(
        self, risk: RiskReport, scenarios: Sequence[Scenario], chain: Chain = None
    ) -> FloatArray:
        return self.long.mids(risk, scenarios, chain) - self.short.mids(risk, scenarios, chain)

    def entry(self, risk: RiskReport, chain: Chain = None) -> Quote:
        long, short = self.long, self.short
        ask, bid = long.ask(chain), short.bid(chain)
        mid = self.today(risk, chain)
        if ask is not None and bid is not None:
            price = round(ask - bid, 10)
            return Quote(price, mid, f"long ask {ask:g} less short bid {bid:g} from VIX Options")
        return entry_price(mid, spread=long.spread)

    def exits(self, mids: FloatArray, widening: FloatArray) -> FloatArray:
        return exit_prices(np.minimum(mids, self.width), widening, spread=self.long.spread)

    def open_interest(self, chain: Chain) -> float | None:
        known = [
            oi for oi in (self.long.open_interest(chain), self.short.open_interest(chain)) if oi
        ]
        return min(known) if known else None

    def notional(self, risk: RiskReport) -> float:
        return risk.vix_future(self.expiry) * self.multiplier


@dataclass(frozen=True)
class VixFuture(SingleLeg):
    """A long VIX (VX) future of `expiry`: margined, so its premium is 0; P&L per contract is
    1000 x the change of its price, after one modelled half-spread each way."""

    expiry: dt.date
    liquidity: Liquidity = DEFAULT_LIQUIDITY
    kind: str = field(default="vix_future", init=False)
    strike: float = field(default=0.0, init=False)
    short_strike: float | None = field(default=None, init=False)
    underlying: str = field(default="VIX", init=False)
    multiplier: float = field(default=VIX_FUTURE_MULTIPLIER, init=False)

    @property
    def label(self) -> str:
        return f"VIX {self.expiry:%b %Y} future"

    @property
    def spread(self) -> Spread:
        return self.liquidity.future

    def today(self, risk: RiskReport, chain: Chain = None) -> float:
        return risk.vix_future(self.expiry)

    def mids(
        self, risk: RiskReport, scenarios: Sequence[Scenario], chain: Chain = None
    ) -> FloatArray:
        return risk.vix_future_values(self.expiry, scenarios)

    def premium(self, risk: RiskReport, chain: Chain = None) -> float:
        return 0.0

    def notional(self, risk: RiskReport) -> float:
        return self.today(risk) * self.multiplier


@dataclass(frozen=True)
class Etp(SingleLeg):
    """Shares of a VIX ETP at today's `price` (dollars): VXX tracks the 1-month VIX futures index
    with daily leverage 1, UVXY 1.5 (since 2018-02-27); the daily reset is the stress model's
    `etp_growth`."""

    symbol: str
    price: float
    liquidity: Liquidity = DEFAULT_LIQUIDITY
    kind: str = field(default="etp", init=False)
    expiry: dt.date | None = field(default=None, init=False)
    strike: float = field(default=0.0, init=False)
    short_strike: float | None = field(default=None, init=False)
    underlying: str = field(default="", init=False)
    multiplier: float = field(default=ETP_MULTIPLIER, init=False)

    def __post_init__(self) -> None:
        symbol = self.symbol.upper()
        if symbol not in ETP_LEVERAGE:
            raise ValueError(f"{self.symbol!r} is not a known VIX ETP ({', '.join(ETP_LEVERAGE)})")
        if not (math.isfinite(self.price) and self.price > 0):
            raise ValueError(f"{symbol} price {self.price!r} is not a positive number")
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "underlying", symbol)

    @property
    def leverage(self) -> float:
        """Daily leverage to the 1-month VIX futures index (issuers' prospectuses)."""
        return ETP_LEVERAGE[self.symbol]

    @property
    def label(self) -> str:
        return f"{self.symbol} shares ({self.leverage:g}x daily)"

    @property
    def spread(self) -> Spread:
        return self.liquidity.etp

    def today(self, risk: RiskReport, chain: Chain = None) -> float:
        return self.price

    def mids(
        self, risk: RiskReport, scenarios: Sequence[Scenario], chain: Chain = None
    ) -> FloatArray:
        return self.price * risk.etp_growths(self.leverage, scenarios)

    def notional(self, risk: RiskReport) -> float:
        return self.price * self.multiplier


def listed_strikes(chain: Chain, expiry: dt.date) -> list[float]:
    """The chain's listed strikes for `expiry`, ascending (empty without a chain)."""
    if chain is None or not len(chain):
        return []
    expiries = pd.to_datetime(chain["expiry"]).dt.date
    return sorted(float(k) for k in chain.loc[(expiries == expiry).to_numpy(), "strike"])


def snap_strike(value: float, chain: Chain = None, expiry: dt.date | None = None) -> float:
    """The strike a trader can buy nearest `value`: the VIX Options sheet's for `expiry` when it
    lists any (the lower on a tie), else Cboe's usual grid (`listed_strike`)."""
    listed = listed_strikes(chain, expiry) if expiry is not None else []
    if not listed:
        return listed_strike(value)
    return min(listed, key=lambda k: (abs(k - value), k))


def _calls_and_spreads(
    expiry: dt.date, future: float, chain: Chain, liquidity: Liquidity
) -> list[Instrument]:
    longs = sorted({snap_strike(future * (1.0 + otm), chain, expiry) for otm in CALL_OTM_LADDER})
    out: list[Instrument] = [VixCall(expiry, k, liquidity=liquidity) for k in longs]
    for k in longs:
        shorts = sorted({snap_strike(k + width, chain, expiry) for width in SPREAD_WIDTHS})
        out.extend(VixCallSpread(expiry, k, s, liquidity) for s in shorts if s > k)
    return out


def etp_prices(market: Mapping[str, Any] | None) -> tuple[dict[str, float], list[str]]:
    """Today's price of each candidate ETP from the Market fields `vxx`, `uvxy`, and a note for
    each one left out because its price is not given."""
    prices: dict[str, float] = {}
    notes: list[str] = []
    for symbol in CANDIDATE_ETPS:
        raw = (market or {}).get(symbol.lower())
        try:
            price = float(raw) if raw is not None else math.nan
        except (TypeError, ValueError):
            price = math.nan
        if math.isfinite(price) and price > 0:
            prices[symbol] = price
        else:
            notes.append(f"{symbol} is not a candidate: the Market sheet has no {symbol} price")
    return prices, notes


def hedge_candidates(
    risk: RiskReport,
    chain: Chain,
    settings: Mapping[str, Any],
    market: Mapping[str, Any] | None = None,
) -> list[Instrument]:
    """Every hedge a sizer may choose from: for each live VIX futures expiry, calls at
    `CALL_OTM_LADDER` above its future (snapped to listed strikes), call spreads from each of
    those `SPREAD_WIDTHS` points wide, and the future; then VXX and UVXY shares when `market`
    has their prices (`etp_prices` says which were left out)."""
    liquidity = Liquidity.from_settings(settings)
    out: list[Instrument] = []
    for expiry, future in risk.futures_curve:
        if expiry <= risk.as_of:
            continue
        out.extend(_calls_and_spreads(expiry, future, chain, liquidity))
        out.append(VixFuture(expiry, liquidity))
    prices, _ = etp_prices(market)
    out.extend(Etp(symbol, price, liquidity) for symbol, price in prices.items())
    return out


def instrument_of(layer: HedgeLayer, liquidity: Liquidity = DEFAULT_LIQUIDITY) -> Instrument:
    """The instrument a HedgeLayer buys. An ETP layer's `price` stands for today's share price."""
    if layer.kind == "vix_call":
        return VixCall(layer.expiry, layer.strike, liquidity=liquidity)
    if layer.kind == "vix_call_spread":
        if layer.short_strike is None:
            raise ValueError(f"layer {layer.layer}: a call spread needs a short_strike")
        return VixCallSpread(layer.expiry, layer.strike, layer.short_strike, liquidity)
    if layer.kind == "vix_future":
        return VixFuture(layer.expiry, liquidity)
    return Etp(layer.underlying, layer.price, liquidity)


def layer_pnl(
    risk: RiskReport,
    layer: HedgeLayer,
    scenarios: Sequence[Scenario],
    chain: Chain = None,
    liquidity: Liquidity = DEFAULT_LIQUIDITY,
) -> FloatArray:
    """Dollars a hedge layer makes in each scenario: its contracts bought at its `price` and
    closed at the exit value there (contracts x multiplier x (exit value - price))."""
    closed = instrument_of(layer, liquidity).values(risk, scenarios, chain)
    return np.asarray(layer.contracts * layer.multiplier * (closed - layer.price), dtype=float)


def held_instrument(leg: Mapping[str, Any], liquidity: Liquidity = DEFAULT_LIQUIDITY) -> SingleLeg:
    """The instrument of one existing hedge leg (a row of `RiskReport.hedge_legs`), valued as a
    new hedge would be; a VIX option keeps its own IV, an ETP its price."""
    kind = leg["kind"]
    if kind == "vix_option":
        call = leg["type"] == "CALL"
        return VixOption(leg["expiry"], float(leg["strike"]), call, float(leg["iv"]), liquidity)
    if kind == "vix_future":
        return VixFuture(leg["expiry"], liquidity)
    return Etp(str(leg["underlying"]), float(leg["underlying_price"]), liquidity)


_HELD_COLUMNS = ("group", "row", "kind", "underlying", "type", "expiry", "strike", "qty")


def _closed(
    legs: pd.DataFrame, prices: FloatArray, liquidity: Liquidity, widening: FloatArray
) -> FloatArray:
    """Per-unit close of each held leg (columns) at model `prices` (a row per scenario, each with
    its `widening`): longs sold at the bid, shorts bought back at the ask."""
    kinds = legs["kind"].to_numpy()
    long = legs["qty"].to_numpy(dtype=float) >= 0
    out = np.full(prices.shape, np.nan)
    for kind, spread in (
        ("vix_option", liquidity.option),
        ("vix_future", liquidity.future),
        ("etp", liquidity.etp),
    ):
        sell, buy = (kinds == kind) & long, (kinds == kind) & ~long
        out[:, sell] = exit_prices(prices[:, sell], widening, spread=spread)
        out[:, buy] = buyback_prices(prices[:, buy], widening, spread=spread)
    return out


def _held_values(
    risk: RiskReport, scenarios: Sequence[Scenario], liquidity: Liquidity
) -> tuple[FloatArray, FloatArray]:
    """The held hedges' model value today ($ per position) and what each fetches closed in each
    scenario (rows), from the report's vectorized pricing: a grid is one pass."""
    legs = risk.hedge_legs
    size = legs["qty"].to_numpy(dtype=float) * legs["multiplier"].to_numpy(dtype=float)
    today = size * legs["price"].to_numpy(dtype=float)
    if legs.empty or not scenarios:
        return today, np.zeros((len(scenarios), len(legs)))
    where = risk.legs.index.get_indexer(legs.index)
    prices = risk.leg_prices(scenarios)[:, where]
    widening = np.array([[widening_in(liquidity, sc)] for sc in scenarios])
    return today, size * _closed(legs, prices, liquidity, widening)


def held_hedges(
    risk: RiskReport, scenarios: Iterable[Scenario], liquidity: Liquidity = DEFAULT_LIQUIDITY
) -> pd.DataFrame:
    """The existing VIX hedges with what they are worth, in dollars per position: `value` at the
    model today, `exit_now` closed today at the normal bid (ask for a short), and one column per
    scenario (keyed by the Scenario) closed there at the widened bid, as new hedges are."""
    legs = risk.hedge_legs
    scenarios = list(scenarios)
    size = legs["qty"].to_numpy(dtype=float) * legs["multiplier"].to_numpy(dtype=float)
    today = legs["price"].to_numpy(dtype=float)
    frame = legs.loc[:, list(_HELD_COLUMNS)].copy()
    rows = records(legs, (*_HELD_COLUMNS, "multiplier", "iv", "price", "underlying_price"))
    frame["label"] = [held_instrument(leg, liquidity).label for leg in rows]
    frame["multiplier"] = legs["multiplier"]
    frame["value"] = size * today
    frame["exit_now"] = size * _closed(legs, today[None, :], liquidity, np.ones((1, 1)))[0]
    _, closed = _held_values(risk, scenarios, liquidity)
    by_scenario = pd.DataFrame(dict(zip(scenarios, closed, strict=True)), index=legs.index)
    return pd.concat([frame, by_scenario], axis=1)


def held_hedges_pnl(
    risk: RiskReport, scenarios: Sequence[Scenario], liquidity: Liquidity = DEFAULT_LIQUIDITY
) -> dict[Scenario, float]:
    """Dollars the existing VIX hedges make in each scenario when closed there (at the widened
    bid, shorts at the widened ask) against their model value today."""
    today, closed = _held_values(risk, scenarios, liquidity)
    pnl = (closed - today[None, :]).sum(axis=1)
    return {sc: float(v) for sc, v in zip(scenarios, pnl, strict=True)}
