"""Helpers for plugin authors' tests: a small constructed Context and RiskReport, and one signal or
sizer run exactly as the engine runs it (isolation, time limit, checks of what it returns).

    from rules_engine.testing import evaluate_signal, leg, make_context, make_history, make_risk
    ctx = make_context(closes=[100, 101, 102, ...], plugins=[my_signal])
    assert evaluate_signal(my_signal, ctx).status == "triggered"
    ctx = make_context(history=make_history(spx_close=[...], advances=[...]), plugins=[...])

    risk = make_risk([leg("IC", "SPX", "Put", 3800, -1, entry_price=7.6, iv=0.21), ...])
    ctx = make_context(closes=[...], risk=risk, plugins=[my_sizer])
    layers = run_one_sizer(my_sizer, ctx, readings={}).layers
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rules_engine.contract import (
    DEFAULT_MULTIPLIER,
    DEFAULT_MULTIPLIERS,
    POSITIONS,
    SHEET_COLUMNS,
)
from rules_engine.guarded import DEFAULT_TIME_LIMIT
from rules_engine.host import Registered
from rules_engine.models import Context, Reading, Setting, Signal, Sizer
from rules_engine.risk.calibration import LONG_RUN_VIX_MEAN
from rules_engine.risk.market import MarketState, VixCurve
from rules_engine.risk.report import RiskReport, compute_risk
from rules_engine.runner import SignalOutcome, SizerOutcome, run_signal, run_sizer
from rules_engine.settings import CORE_SETTINGS

_DEFAULT_AS_OF = dt.date(2024, 1, 31)


def defaults(*declared: Iterable[Setting]) -> dict[str, Any]:
    """The default value of every core setting and of each given declaration list."""
    return {s.name: s.default for group in (CORE_SETTINGS, *declared) for s in group}


def make_history(end: dt.date = _DEFAULT_AS_OF, **columns: Sequence[float | None]) -> pd.DataFrame:
    """A History frame as signals see it: one row per business day ending on `end`, one column
    per keyword (normalized names: `spx_close`, `vix_close`, `advances`, ...), None for a blank
    cell. All columns must have the same length.

        make_history(spx_close=[100, 101, 103], advances=[1200, 900, 1500])
    """
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    count = lengths.pop() if lengths else 0
    index = pd.bdate_range(end=pd.Timestamp(end), periods=count, name="date")
    data = {name: [np.nan if v is None else float(v) for v in vs] for name, vs in columns.items()}
    return pd.DataFrame(data, index=index)


def make_context(
    closes: Sequence[float] = (),
    *,
    as_of: dt.date | None = None,
    history: pd.DataFrame | None = None,
    market: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    plugins: Sequence[Signal | Sizer] = (),
    risk: RiskReport | None = None,
    positions: pd.DataFrame | None = None,
    calendar: pd.DataFrame | None = None,
) -> Context:
    """A Context with business-day History ending on `as_of` (default: the last close's date, or
    the risk report's as-of date).

    `settings` holds the defaults of every core setting and of every setting the given `plugins`
    declare, overlaid with the values you pass.
    """
    as_of = as_of or (risk.as_of if risk is not None else None)
    if history is None:
        end = pd.Timestamp(as_of or _DEFAULT_AS_OF)
        index = pd.bdate_range(end=end, periods=len(closes), name="date")
        history = pd.DataFrame({"spx_close": list(map(float, closes))}, index=index)
    as_of = as_of or (history.index[-1].date() if len(history) else _DEFAULT_AS_OF)
    empty = pd.DataFrame()
    return Context(
        as_of=as_of,
        history=history,
        market=dict(market or _market_of(as_of, risk)),
        positions=empty if positions is None else positions,
        vix_futures=_futures_of(risk),
        calendar=empty if calendar is None else calendar,
        settings={**defaults(*(p.settings for p in plugins)), **(settings or {})},
        risk=risk,
    )


def _market_of(as_of: dt.date, risk: RiskReport | None) -> dict[str, Any]:
    if risk is None:
        return {"as_of": as_of}
    return {"as_of": as_of, "spx": risk.spx, "vix": risk.vix, "rate": risk.rate}


def _futures_of(risk: RiskReport | None) -> pd.DataFrame:
    if risk is None:
        return pd.DataFrame()
    return pd.DataFrame(risk.futures_curve, columns=["expiry", "price"])


def leg(
    group: str,
    underlying: str,
    type_: str,
    strike: float,
    qty: float,
    *,
    expiry: dt.date | None = None,
    multiplier: float | None = None,
    entry_price: float = np.nan,
    iv: float = np.nan,
    mark: float = np.nan,
) -> dict[str, Any]:
    """One Positions row as `make_risk` takes it. `type_` is Call, Put, Future or Share; `expiry`
    defaults to 30 days after the report's as-of date; `multiplier` to the contract's usual one."""
    return {
        "group": group,
        "underlying": underlying.upper(),
        "type": type_.upper(),
        "expiry": expiry,
        "strike": float(strike),
        "qty": float(qty),
        "multiplier": multiplier,
        "entry_price": float(entry_price),
        "iv": float(iv),
        "mark": float(mark),
    }


def make_risk(
    legs: Sequence[Mapping[str, Any]],
    *,
    as_of: dt.date = _DEFAULT_AS_OF,
    spx: float = 4000.0,
    vix: float = 16.0,
    rate: float = 0.04,
    dividend_yield: float = 0.0,
    vvix: float | None = None,
    vix_1y_mean: float = LONG_RUN_VIX_MEAN,
    futures: Sequence[tuple[dt.date, float]] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> RiskReport:
    """The RiskReport the engine would build for these legs and this market, for a sizer's test.

    `futures` is the VIX futures curve as (expiry, price) pairs; by default monthly contracts 30
    to 180 days out, in contango from VIX + 1. `vix_1y_mean` anchors the stress model's curve
    (the engine takes it from the History sheet). Raises ValueError listing any input error (the
    engine would stop on it too).
    """
    curve = futures or [
        (as_of + dt.timedelta(days=30 * k), vix + 1.0 + 0.5 * (k - 1)) for k in range(1, 7)
    ]
    expiries, prices = map(tuple, zip(*curve, strict=True))
    state = MarketState(
        as_of,
        spx,
        vix,
        rate,
        dividend_yield,
        VixCurve(expiries, prices, vix),
        vix_1y_mean,
        vvix,
    )
    rows = []
    for i, given in enumerate(legs):
        row = dict(given)
        row.setdefault("expiry", None)
        if row["expiry"] is None and row["type"] != "SHARE":
            row["expiry"] = as_of + dt.timedelta(days=30)
        if row.get("multiplier") is None:
            key = (row["underlying"], row["type"])
            row["multiplier"] = DEFAULT_MULTIPLIERS.get(key, DEFAULT_MULTIPLIER)
        row["row"] = i + 2
        rows.append(row)
    columns = [c.field for c in SHEET_COLUMNS[POSITIONS]] + ["row"]
    positions = pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)
    values = {**defaults(), **(settings or {})}
    risk = compute_risk(positions, state, values, lambda row, name: f"{name} of leg {row}")
    errors = [str(i) for i in risk.issues if i.severity == "error"]
    if errors:
        raise ValueError("; ".join(errors))
    return risk


def _with_defaults(ctx: Context, declared: Sequence[Setting]) -> Context:
    """The context with the plugin's own declared defaults added where it has no value."""
    missing = {s.name: s.default for s in declared if s.name not in ctx.settings}
    if not missing:
        return ctx
    return dataclasses.replace(ctx, settings={**missing, **ctx.settings})


def evaluate_signal(signal: Signal, ctx: Context, plugin: str = "test") -> SignalOutcome:
    """Run one signal exactly as the engine does (isolation, requires check, validation), with its
    declared defaults for any setting the context lacks."""
    ctx = _with_defaults(ctx, signal.settings)
    return run_signal(Registered(signal, plugin), ctx, _time_limit(ctx))


def run_one_sizer(
    sizer: Sizer, ctx: Context, readings: Mapping[str, Reading], plugin: str = "test"
) -> SizerOutcome:
    """Run one sizer exactly as the engine does, with its declared defaults for any setting the
    context lacks."""
    ctx = _with_defaults(ctx, sizer.settings)
    return run_sizer(Registered(sizer, plugin), ctx, readings, _time_limit(ctx))


def _time_limit(ctx: Context) -> float:
    return float(ctx.settings.get("engine.plugin_time_limit", DEFAULT_TIME_LIMIT))
