"""Helpers for plugin authors' tests: evaluate one signal or sizer on a small constructed Context.

from rules_engine.testing import make_context, evaluate_signal
ctx = make_context(closes=[100, 101, 102, ...], settings={"rsi.threshold": 70})
outcome = evaluate_signal(my_signal, ctx)
assert outcome.status == "triggered"
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from rules_engine.host import Registered
from rules_engine.models import Context, Reading, Setting, Signal, Sizer
from rules_engine.runner import SignalOutcome, SizerOutcome, run_signal, run_sizer
from rules_engine.settings import CORE_SETTINGS


def defaults(*declared: Sequence[Setting]) -> dict[str, Any]:
    """The default value of every core setting and of each given declaration list."""
    return {s.name: s.default for group in (CORE_SETTINGS, *declared) for s in group}


def make_context(
    closes: Sequence[float] = (),
    *,
    as_of: dt.date | None = None,
    history: pd.DataFrame | None = None,
    market: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    risk: Any = None,
) -> Context:
    """A Context with business-day History ending on `as_of` (default: the last close's date)."""
    if history is None:
        end = pd.Timestamp(as_of or dt.date(2024, 1, 31))
        index = pd.bdate_range(end=end, periods=len(closes), name="date")
        history = pd.DataFrame({"spx_close": list(map(float, closes))}, index=index)
    as_of = as_of or (history.index[-1].date() if len(history) else dt.date(2024, 1, 31))
    empty = pd.DataFrame()
    return Context(
        as_of=as_of,
        history=history,
        market=dict(market or {"as_of": as_of}),
        positions=empty,
        vix_futures=empty,
        calendar=empty,
        settings=dict(settings or {}),
        risk=risk,
    )


def evaluate_signal(signal: Signal, ctx: Context, plugin: str = "test") -> SignalOutcome:
    """Run one signal exactly as the engine does (isolation, requires check, validation)."""
    return run_signal(Registered(signal, plugin), ctx)


def run_one_sizer(
    sizer: Sizer, ctx: Context, readings: Mapping[str, Reading], plugin: str = "test"
) -> SizerOutcome:
    """Run one sizer exactly as the engine does."""
    return run_sizer(Registered(sizer, plugin), ctx, readings)
