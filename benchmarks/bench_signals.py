"""Time every built-in signal, run as the engine runs them, on 20 years of daily History.

Signals: every module of the `rules_engine_plugins` package, loaded through
`rules_engine.host.load_plugins` (so signals added later are timed too), evaluated by
`rules_engine.runner.run_signals` on one Context: isolation, time limit, checks, as in a recompute.

Data (as of the example workbook's date, 2018-01-26; its Market, Positions, VIX Futures and
Calendar sheets): 20 years of trading days (the VIX file's) with the real VIX closes, an
SPX-like seeded random walk whose daily volatility is the previous VIX close, highs and lows,
advances and declines of a 2,800-issue market, the share above the 200-day average, and monthly
columns (CAPE, P/E, price/cash flow, REER, rate differential), with ten years of CAPE-only
monthly rows before the daily rows, as a real History sheet may hold.

Yardstick: one `rules_engine.indicators.rsi` call on the same SPX closes in the same run, timed
interleaved with the signals so drift hits both alike. Target (issue 7): all signals together
under 50 ms on this machine. Also timed: the Rules sheet's three default layer triggers evaluated on
those outcomes (issue 9: a few milliseconds at most). Run: `python benchmarks/bench_signals.py`.
"""

from __future__ import annotations

import argparse
import dataclasses
import pkgutil
import statistics
import time
from collections import Counter
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_recompute import machine

import rules_engine_plugins
from rules_engine import Context
from rules_engine.composite import composite, weights_from
from rules_engine.host import PluginHost, load_plugins
from rules_engine.indicators import rsi
from rules_engine.rules import DEFAULT_RULES, evaluate_rules
from rules_engine.runner import run_signal, run_signals
from rules_engine.testing import make_context, make_risk
from rules_engine.workbook.reader import read_workbook

EXAMPLE = Path(__file__).parents[1] / "workbooks" / "example.xlsx"
YEARS = 20
#: Issue 7: every built-in signal on 20 years of History, in milliseconds.
TARGET_MS = 50.0
RULES_TARGET_MS = 5.0
ISSUES = 2800.0


def builtin_modules() -> tuple[str, ...]:
    """Every module of the built-in plugin package, whatever registers in it."""
    names = pkgutil.iter_modules(rules_engine_plugins.__path__)
    return tuple(f"rules_engine_plugins.{m.name}" for m in names if not m.name.startswith("_"))


def daily_history(as_of: pd.Timestamp, spx_now: float, seed: int = 7) -> pd.DataFrame:
    """20 years of daily rows ending on as_of, monthly columns on each month's first row."""
    with (files("rules_engine") / "example_data" / "vix_daily.csv").open() as handle:
        vix = pd.read_csv(handle, index_col="DATE", parse_dates=True)["CLOSE"].dropna()
    vix = vix[(vix.index > as_of - pd.DateOffset(years=YEARS)) & (vix.index <= as_of)]
    rng = np.random.default_rng(seed)
    sigma = np.r_[vix.iloc[0], vix.to_numpy()[:-1]] / 100.0 / np.sqrt(252.0)
    returns = 0.0003 + sigma * rng.standard_normal(vix.size)
    close = np.exp(np.cumsum(returns))
    close *= spx_now / close[-1]
    swing = np.abs(rng.normal(0.0, 0.6, size=(2, vix.size))) * sigma
    up_share = np.clip(0.5 + 25.0 * returns + rng.normal(0.0, 0.08, vix.size), 0.05, 0.95)
    advances = np.round(up_share * (ISSUES - 50.0))
    frame = pd.DataFrame(
        {
            "spx_close": close,
            "spx_high": close * (1.0 + swing[0]),
            "spx_low": close * (1.0 - swing[1]),
            "vix_close": vix.to_numpy(),
            "advances": advances,
            "declines": ISSUES - 50.0 - advances,
        },
        index=pd.DatetimeIndex(vix.index, name="date"),
    )
    trend = frame["spx_close"] / frame["spx_close"].rolling(200).mean() - 1.0
    noise = rng.normal(0.0, 2.0, vix.size)
    frame["pct_above_200d"] = np.clip(50.0 + 40.0 * np.tanh(10.0 * trend) + noise, 0.0, 100.0)
    firsts = frame.index.to_series().groupby(frame.index.to_period("M")).first()
    months = len(firsts)
    monthly = {
        "cape": 25.0 + np.cumsum(rng.normal(0.0, 0.6, months)),
        "pe": 18.0 + np.cumsum(rng.normal(0.0, 0.4, months)),
        "price_to_cash_flow": 12.0 + np.cumsum(rng.normal(0.0, 0.3, months)),
        "reer": 100.0 + np.cumsum(rng.normal(0.0, 1.0, months)),
        "rate_differential": 2.0 + np.cumsum(rng.normal(0.0, 0.1, months)),
    }
    for name, values in monthly.items():
        frame[name] = pd.Series(values, index=pd.DatetimeIndex(firsts.to_numpy())).reindex(
            frame.index
        )
    earlier = pd.date_range(end=frame.index[0] - pd.Timedelta(days=1), periods=120, freq="MS")
    cape_only = pd.DataFrame(
        {"cape": 20.0 + np.cumsum(rng.normal(0.0, 0.6, earlier.size))},
        index=pd.DatetimeIndex(earlier, name="date"),
    )
    history = pd.concat([cape_only, frame])
    history["row"] = np.arange(2, len(history) + 2)
    return history


def engine_context(host: PluginHost) -> Context:
    """The example's market, book, curve and calendar, with 20 years of History."""
    inputs = read_workbook(EXAMPLE).inputs
    market = dict(inputs.market)
    as_of = market["as_of"]
    legs = inputs.positions.drop(columns="row").to_dict("records")
    futures = list(zip(inputs.vix_futures["expiry"], inputs.vix_futures["price"], strict=True))
    settings: dict[str, Any] = {s.name: s.default for s in host.declared_settings}
    risk = make_risk(
        legs,
        as_of=as_of,
        spx=market["spx"],
        vix=market["vix"],
        rate=market["rate"],
        dividend_yield=market.get("dividend_yield", 0.0),
        vvix=market.get("vvix"),
        futures=futures,
        settings=settings,
    )
    ctx = make_context(
        history=daily_history(pd.Timestamp(as_of), float(market["spx"])),
        as_of=as_of,
        market=market,
        settings=settings,
        risk=risk,
        positions=inputs.positions,
        calendar=inputs.calendar,
    )
    return dataclasses.replace(ctx, vix_options=inputs.vix_options, spx_options=inputs.spx_options)


def timed(call: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (this process, all threads) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def line(label: str, runs: list[tuple[float, float]], target_ms: float | None = None) -> str:
    """Median and best wall time, median CPU time, in ms, and the verdict against a target."""
    wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
    goal = ""
    if target_ms is not None:
        goal = f", target {target_ms:g} ms: {'OK' if wall * 1000 < target_ms else 'OVER TARGET'}"
    return (
        f"{label:<34} median {wall * 1000:7.2f} ms  min {min(w for w, _ in runs) * 1000:7.2f} ms"
        f"  CPU {cpu * 1000:7.2f} ms  (n={len(runs)}{goal})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    host = load_plugins(builtins=builtin_modules(), use_entry_points=False)
    ctx = engine_context(host)
    limit = float(ctx.settings["engine.plugin_time_limit"])
    closes = ctx.history["spx_close"].dropna()
    outcomes = run_signals(host.signals, ctx, limit)  # warm-up, and what the run says
    warning = composite(
        {o.signal: o.reading for o in outcomes if o.reading is not None},
        {o.signal: o.category for o in outcomes},
        weights_from(ctx.settings),
    )
    market = dict(ctx.market)
    rules = [
        timed(lambda: evaluate_rules(DEFAULT_RULES, outcomes, warning, ctx.risk, market, None))
    ]
    all_signals: list[tuple[float, float]] = []
    one_rsi: list[tuple[float, float]] = []
    each: dict[str, list[tuple[float, float]]] = {name: [] for name in host.signals}
    for _ in range(args.repeat):
        all_signals.append(timed(lambda: run_signals(host.signals, ctx, limit)))
        one_rsi.append(timed(lambda: rsi(closes, 14)))
        for name, entry in host.signals.items():
            each[name].append(timed(lambda entry=entry: run_signal(entry, ctx, limit)))
        rules.append(
            timed(lambda: evaluate_rules(DEFAULT_RULES, outcomes, warning, ctx.risk, market, None))
        )
    ratio = statistics.median(w for w, _ in all_signals) / statistics.median(w for w, _ in one_rsi)
    statuses = Counter(o.status for o in outcomes)
    lines = [
        f"machine: {machine()}",
        f"history: {len(ctx.history):,} rows ({len(closes):,} daily closes "
        f"{closes.index[0]:%Y-%m-%d} .. {closes.index[-1]:%Y-%m-%d}), "
        f"{len(ctx.history.columns)} columns",
        f"plugins: {len(host.plugins)} loaded, {len(host.failures)} failed to load"
        + "".join(f"\n  failed: {f.plugin}: {f.error}" for f in host.failures),
        f"signals: {len(outcomes)} ("
        + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        + ")",
        line("all signals (run_signals)", all_signals, TARGET_MS),
        line("one rsi(closes, 14) call", one_rsi),
        f"{'ratio all signals / one rsi call':<34} {ratio:7.1f}x (median wall times)",
        line(f"{len(DEFAULT_RULES)} default Rules triggers", rules[1:], RULES_TARGET_MS),
        "per signal, run_signal alone (median wall ms, status):",
    ]
    by_name = {o.signal: o for o in outcomes}
    for name in sorted(each, key=lambda n: -statistics.median(w for w, _ in each[n])):
        outcome = by_name[name]
        note = f" ({outcome.reason})" if outcome.reason else ""
        median = statistics.median(w for w, _ in each[name])
        lines.append(f"  {name:<28} {median * 1000:7.2f}  {outcome.status}{note}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
