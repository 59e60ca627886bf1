"""Pricing every leg of the book, today and in a scenario, by full repricing (never Greeks).

SPX options: Black-Scholes-Merton on spot. VIX options: Black-76 on the VIX future of the same
expiry. VIX futures: the curve. VIX ETPs: today's mark moved by their leverage to the 1-month
futures index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rules_engine.contract import POSITIONS
from rules_engine.models import Issue
from rules_engine.pricing import black76, bsm, implied_vol_black76, implied_vol_bsm
from rules_engine.risk.market import MIN_VOL, FloatArray, MarketState, Scenario
from rules_engine.risk.stress import Levels, StressModel

SPX_UNDERLYINGS = frozenset({"SPX", "SPXW"})
#: Daily leverage of VIX ETPs to the 1-month VIX futures index (issuers' prospectuses;
#: UVXY 1.5x since
#: 2018-02-27, SVXY -0.5x since the same date).
ETP_LEVERAGE: dict[str, float] = {
    "VXX": 1.0,
    "VIXY": 1.0,
    "UVXY": 1.5,
    "UVIX": 2.0,
    "SVXY": -0.5,
    "SVIX": -1.0,
}

#: Leg kinds that are VIX hedges (long VIX exposure) rather than the SPX book.
HEDGE_KINDS = frozenset({"vix_option", "vix_future", "etp"})

#: (spreadsheet row, field) -> A1 address on the Positions sheet, for messages.
CellOf = Callable[[int, str], str]


@dataclass(frozen=True)
class PricedBook:
    """Legs with their kind, model inputs, price and per-unit Greeks (one row per leg)."""

    legs: pd.DataFrame
    issues: tuple[Issue, ...]


def classify(positions: pd.DataFrame, cell_of: CellOf) -> tuple[pd.Series, list[Issue]]:
    """Each leg's kind, or an error naming the row for legs the engine cannot price."""
    type_ = positions["type"].to_numpy(dtype=object)
    underlying = positions["underlying"].to_numpy(dtype=object)
    option = np.isin(type_, ["CALL", "PUT"])
    on_vix = underlying == "VIX"
    kinds = np.select(
        [
            option & np.isin(underlying, list(SPX_UNDERLYINGS)),
            option & on_vix,
            (type_ == "FUTURE") & on_vix,
            (type_ == "SHARE") & np.isin(underlying, list(ETP_LEVERAGE)),
        ],
        ["spx_option", "vix_option", "vix_future", "etp"],
        "unsupported",
    )
    issues = [
        Issue(
            "error",
            f"cannot price a {leg['underlying']} {str(leg['type']).lower()}: supported are "
            "SPX/SPXW options, VIX options and futures, and the VIX ETPs "
            f"{', '.join(sorted(ETP_LEVERAGE))}",
            POSITIONS,
            cell_of(int(leg["row"]), "underlying"),
            "Underlying",
            "risk",
        )
        for leg in records(positions[kinds == "unsupported"], ("underlying", "type", "row"))
    ]
    return pd.Series(kinds, index=positions.index, dtype=object), issues


def records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of some columns as plain dicts (Python values): the typed, fast way to walk a frame
    row by row (several times faster than `to_dict("records")` on a big book)."""
    values = [frame[c].tolist() for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _days(expiries: pd.Series, state: MarketState) -> FloatArray:
    return np.array(
        [np.nan if e is None or pd.isna(e) else (e - state.as_of).days for e in expiries],
        dtype=float,
    )


def _resolve_iv(
    legs: pd.DataFrame, model: StressModel, cell_of: CellOf
) -> tuple[FloatArray, list[str], list[Issue]]:
    """Implied vol per option leg: the IV cell, else solved from Mark, else the market's: VIX for
    SPX options, the VIX option vol surface for VIX options."""
    state = model.state
    iv = legs["iv"].to_numpy(dtype=float).copy()
    source = ["IV" if np.isfinite(v) else "" for v in iv]
    issues: list[Issue] = []
    t = legs["t"].to_numpy(dtype=float)
    strike = legs["strike"].to_numpy(dtype=float)
    is_call = (legs["type"] == "CALL").to_numpy()
    mark = legs["mark"].to_numpy(dtype=float)
    spx = (legs["kind"] == "spx_option").to_numpy()
    vix = (legs["kind"] == "vix_option").to_numpy()
    need = ~np.isfinite(iv) & np.isfinite(mark) & (t > 0)
    if (need & spx).any():
        m = need & spx
        iv[m] = implied_vol_bsm(
            mark[m], state.spx, strike[m], t[m], state.rate, state.dividend_yield, is_call[m]
        )
    if (need & vix).any():
        m = need & vix
        fwd = legs["underlying_price"].to_numpy(dtype=float)[m]
        iv[m] = implied_vol_black76(mark[m], fwd, strike[m], t[m], state.rate, is_call[m])
    for i, (solved, wanted) in enumerate(zip(np.isfinite(iv), need, strict=True)):
        if wanted and solved:
            source[i] = "from Mark"
    surface = model.vix_surface(
        legs["days"].to_numpy(dtype=float),
        strike,
        legs["underlying_price"].to_numpy(dtype=float),
        state.vix,
    )
    for i in map(int, np.flatnonzero((spx | vix) & ~np.isfinite(iv))):
        fallback = state.vix / 100.0 if spx[i] else float(surface[i])
        iv[i] = fallback
        source[i] = "default"
        row = int(legs["row"].iloc[i])
        why = (
            "Mark is outside the model's no-arbitrage bounds"
            if np.isfinite(mark[i]) and t[i] > 0
            else "no IV and no Mark"
        )
        basis = "VIX" if spx[i] else "the VIX option vol surface's"
        issues.append(
            Issue(
                "warning",
                f"{why}: priced with {basis} {fallback:.2%} as its implied vol",
                POSITIONS,
                cell_of(row, "iv"),
                "IV",
                "risk",
            )
        )
    return iv, source, issues


def price_book(positions: pd.DataFrame, model: StressModel, cell_of: CellOf) -> PricedBook:
    """Model price and per-unit Greeks of every leg today."""
    state = model.state
    kinds, issues = classify(positions, cell_of)
    legs = positions.copy()
    legs["kind"] = kinds
    legs["days"] = _days(legs["expiry"], state)
    legs["t"] = np.maximum(legs["days"].to_numpy(dtype=float), 0.0) / 365.0
    legs["underlying_price"] = np.nan
    spx = (legs["kind"] == "spx_option").to_numpy()
    vixopt = (legs["kind"] == "vix_option").to_numpy()
    fut = (legs["kind"] == "vix_future").to_numpy()
    etp = (legs["kind"] == "etp").to_numpy()
    days = legs["days"].to_numpy(dtype=float)
    underlying = np.full(len(legs), np.nan)
    underlying[spx] = state.spx
    curve_days = vixopt | fut
    underlying[curve_days] = state.curve.price_at_days(state.as_of, days[curve_days])
    underlying[etp] = legs["mark"].to_numpy(dtype=float)[etp]
    legs["underlying_price"] = underlying
    for leg in records(legs[curve_days], ("days", "expiry", "row")):
        if not state.curve.covers(state.as_of, float(leg["days"])):
            issues.append(
                Issue(
                    "warning",
                    f"expiry {leg['expiry']} is beyond the VIX Futures curve; its future is taken "
                    "flat from the last contract",
                    POSITIONS,
                    cell_of(int(leg["row"]), "expiry"),
                    "Expiry",
                    "risk",
                )
            )
    for leg in records(legs[etp], ("mark", "underlying", "row")):
        if not np.isfinite(float(leg["mark"])):
            issues.append(
                Issue(
                    "error",
                    f"{leg['underlying']} shares need a Mark (today's price) to be valued",
                    POSITIONS,
                    cell_of(int(leg["row"]), "mark"),
                    "Mark",
                    "risk",
                )
            )
    iv, source, iv_issues = _resolve_iv(legs, model, cell_of)
    legs["iv"] = iv
    legs["iv_source"] = source
    issues.extend(iv_issues)
    greeks = leg_values(legs, state, state.spx, underlying, iv)
    for name, values in greeks.items():
        legs[name] = values
    return PricedBook(legs, tuple(issues))


def leg_values(
    legs: pd.DataFrame,
    state: MarketState,
    spx: float,
    underlying: FloatArray,
    iv: FloatArray,
) -> dict[str, FloatArray]:
    """Per-unit price and Greeks of each leg, given the SPX level, each leg's underlying and vol.

    Futures and ETPs have delta 1 and no other Greeks; unsupported legs are NaN.
    """
    n = len(legs)
    out = {k: np.full(n, np.nan) for k in ("price", "delta", "gamma", "vega", "theta")}
    kind = legs["kind"].to_numpy()
    t = legs["t"].to_numpy(dtype=float)
    strike = legs["strike"].to_numpy(dtype=float)
    is_call = (legs["type"] == "CALL").to_numpy()
    spx_m = kind == "spx_option"
    if spx_m.any():
        g = bsm(
            spx,
            strike[spx_m],
            t[spx_m],
            state.rate,
            state.dividend_yield,
            iv[spx_m],
            is_call[spx_m],
        )
        for k in out:
            out[k][spx_m] = g[k]
    vix_m = kind == "vix_option"
    if vix_m.any():
        g = black76(
            underlying[vix_m], strike[vix_m], t[vix_m], state.rate, iv[vix_m], is_call[vix_m]
        )
        for k in out:
            out[k][vix_m] = g[k]
    lin = (kind == "vix_future") | (kind == "etp")
    out["price"][lin] = underlying[lin]
    out["delta"][lin] = 1.0
    for k in ("gamma", "vega", "theta"):
        out[k][lin] = 0.0
    return out


#: What a leg's scenario value depends on: legs equal in all of these are priced once.
_PRICING_KEY = ("kind", "underlying", "type", "expiry", "days", "strike", "iv", "underlying_price")
#: Books of up to this many legs are priced leg by leg: finding repeats costs more than it saves.
_DISTINCT_FROM = 256


def scenario_prices(
    legs: pd.DataFrame, model: StressModel, scenarios: Sequence[Scenario]
) -> FloatArray:
    """Per-unit value of each leg (columns) in each scenario (rows): repriced at the scenario's
    levels and vols with the time left at its horizon; a leg that expires by then is worth its
    payoff. All scenarios are priced in one vectorized pass, each distinct leg once (a book of
    many condors repeats its strikes)."""
    if len(legs) <= _DISTINCT_FROM:
        return _distinct_prices(legs, model, scenarios)
    key = legs.loc[:, list(_PRICING_KEY)]
    which = key.groupby(list(_PRICING_KEY), sort=False, dropna=False).ngroup().to_numpy()
    first = np.unique(which, return_index=True)[1]
    return _distinct_prices(legs.iloc[first], model, scenarios)[:, which]


def _distinct_prices(
    legs: pd.DataFrame, model: StressModel, scenarios: Sequence[Scenario]
) -> FloatArray:
    state = model.state
    kind = legs["kind"].to_numpy()
    days = legs["days"].to_numpy(dtype=float)
    strike = legs["strike"].to_numpy(dtype=float)
    iv = legs["iv"].to_numpy(dtype=float)
    today = legs["underlying_price"].to_numpy(dtype=float)
    is_call = (legs["type"] == "CALL").to_numpy()
    out = np.full((len(scenarios), len(legs)), np.nan)
    levels = model.levels(scenarios)
    left = np.maximum(days[None, :] - levels.days, 0.0)
    spx = levels.spx
    spx_m = kind == "spx_option"
    if spx_m.any():
        codes = pd.factorize(legs["expiry"])[0][spx_m]
        vols = model.spx_vols(days[spx_m], strike[spx_m], iv[spx_m], codes, levels)
        out[:, spx_m] = bsm(
            spx,
            strike[spx_m],
            left[:, spx_m] / 365.0,
            state.rate,
            state.dividend_yield,
            vols,
            is_call[spx_m],
            price_only=True,
        )["price"]
    future_m, vix_m = kind == "vix_future", kind == "vix_option"
    if future_m.any():
        out[:, future_m] = model.futures(days[future_m], levels)
    if vix_m.any():
        out[:, vix_m] = _vix_option_prices(
            model, levels, days[vix_m], strike[vix_m], iv[vix_m], today[vix_m], is_call[vix_m]
        )
    etp_m = kind == "etp"
    if etp_m.any():
        leverage = np.array([ETP_LEVERAGE[u] for u in legs.loc[etp_m, "underlying"]])
        out[:, etp_m] = today[etp_m] * model.etp_growth(leverage, levels)
    expired = (left <= 0.0) & spx_m
    if expired.any():
        payoff = np.maximum(np.where(is_call, spx - strike, strike - spx), 0.0)
        out[expired] = payoff[expired]
    return out


def vix_option_prices(
    model: StressModel,
    scenarios: Sequence[Scenario],
    days: float,
    strike: float,
    iv: float,
    future: float,
    call: bool,
) -> FloatArray:
    """Per-unit value of one VIX option in each scenario, exactly as a VIX option leg of the book
    is priced (so a new hedge and a held one are valued alike), without building a leg table."""
    return _vix_option_prices(
        model,
        model.levels(scenarios),
        np.array([days]),
        np.array([strike]),
        np.array([iv]),
        np.array([future]),
        np.array([call]),
    )[:, 0]


def _vix_option_prices(
    model: StressModel,
    levels: Levels,
    days: FloatArray,
    strike: FloatArray,
    iv: FloatArray,
    today: FloatArray,
    is_call: npt.NDArray[np.bool_],
) -> FloatArray:
    """VIX options (columns) in each scenario (rows): Black-76 on the future moved by the curve
    model and rolled to the horizon, the vol moved by the surface's change; an option that
    expires by the horizon is worth its payoff at the scenario's spot VIX."""
    left = np.maximum(days[None, :] - levels.days, 0.0)
    forwards = model.futures(days, levels)
    change = model.vix_vol_change(days, strike, today, levels)
    prices = black76(
        forwards,
        strike,
        left / 365.0,
        model.state.rate,
        np.maximum(iv + change, MIN_VOL),
        is_call,
        price_only=True,
    )["price"]
    payoff = np.maximum(np.where(is_call, levels.vix - strike, strike - levels.vix), 0.0)
    return np.where(left <= 0.0, payoff, prices)
