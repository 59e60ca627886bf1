"""Time the Risk sheet's scenario grid on a 1,000-leg book.

Book (the example workbook's market: 2018-01-26, SPX 2872.87, VIX 11.08, its VIX futures curve):
220 iron condors (880 SPX option legs) over three expiries and a spread of strikes, plus 120 VIX
hedge legs: 100 VIX calls over six expiries and strikes, 15 VIX futures and 5 VXX/UVXY lines.
Every option leg has its own IV, so none repeats: the worst case (the engine prices repeated legs
once, and a real book of many condors repeats its strikes).

Timed, in one run and interleaved so that drift hits all alike:
- one pricing call: `RiskReport.pnl` of the 1,000 legs in one scenario (VIX +6 and SPX -3%
  today, a grid cell: the configured spikes are priced when the report is made), the yardstick;
- the whole grid: `RiskReport.pnl_many` of the 1,000 legs in every cell of the default grid (8
  VIX changes x 8 SPX moves) at the three horizons the Risk sheet shows (today, T+7, the nearest
  condor expiry), 192 scenarios in one vectorized pass;
- the grid tables as the engine builds them (`grid_tables`: the book grid, the existing hedges
  closed at the widened bid in every cell, the net).

Each timing runs on a fresh report (built untimed), since a report keeps what it has priced.

Target (issue 8): the whole grid under 100 ms on this machine.
Run: `python benchmarks/bench_grid.py`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
from pathlib import Path
from typing import Any

from bench_recompute import machine
from bench_signals import line, timed

from rules_engine.host import load_plugins
from rules_engine.risk.liquidity import Liquidity
from rules_engine.risk.market import Scenario
from rules_engine.risk.report import RiskReport
from rules_engine.risk_views import HedgeValuer, grid_tables
from rules_engine.settings import parse_grid
from rules_engine.testing import leg, make_risk
from rules_engine.workbook.reader import read_workbook

EXAMPLE = Path(__file__).parents[1] / "workbooks" / "example.xlsx"
#: Issue 8: 1,000 legs over the whole grid at three horizons, in milliseconds.
TARGET_MS = 100.0


def book(as_of: dt.date, spx: float, futures: list[tuple[dt.date, float]]) -> list[dict]:
    """220 condors and 120 VIX hedge legs: 1,000 Positions rows."""
    expiries = [as_of + dt.timedelta(days=d) for d in (21, 49, 84)]
    rows: list[dict] = []
    for i in range(220):
        expiry = expiries[i % 3]
        put = round(spx * (0.90 + 0.0005 * (i % 60)) / 5) * 5
        call = round(spx * (1.03 + 0.0005 * (i % 60)) / 5) * 5
        wing = (25, 50)[i % 2]
        group = f"IC{i}"
        bump = 0.0001 * i  # every leg distinct: the engine cannot price a repeat once
        rows += [
            leg(group, "SPX", "Put", put - wing, 1, expiry=expiry, iv=0.14 + bump),
            leg(group, "SPX", "Put", put, -1, expiry=expiry, iv=0.12 + bump),
            leg(group, "SPX", "Call", call, -1, expiry=expiry, iv=0.08 + bump),
            leg(group, "SPX", "Call", call + wing, 1, expiry=expiry, iv=0.08 + bump),
        ]
    live = [e for e, _ in futures if e > as_of][:6]
    for i in range(100):
        expiry = live[i % len(live)]
        rows.append(leg("H", "VIX", "Call", 14.0 + i % 12, 5, expiry=expiry, iv=0.9 + 0.001 * i))
    rows += [leg("F", "VIX", "Future", 0, 1, expiry=live[i % len(live)]) for i in range(15)]
    rows += [leg("E", ("VXX", "UVXY")[i % 2], "Share", 0, 100, mark=25.0) for i in range(5)]
    return rows


def fresh_report(
    rows: list[dict], market: dict[str, Any], curve: list, settings: dict
) -> RiskReport:
    return make_risk(
        rows,
        as_of=market["as_of"],
        spx=market["spx"],
        vix=market["vix"],
        rate=market["rate"],
        dividend_yield=market.get("dividend_yield", 0.0),
        vvix=market.get("vvix"),
        futures=curve,
        settings=settings,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    inputs = read_workbook(EXAMPLE).inputs
    market = dict(inputs.market)
    curve = list(zip(inputs.vix_futures["expiry"], inputs.vix_futures["price"], strict=True))
    host = load_plugins(use_entry_points=False)
    settings = {s.name: s.default for s in host.declared_settings}
    rows = book(market["as_of"], float(market["spx"]), curve)
    risk = fresh_report(rows, market, curve, settings)
    vix_moves = parse_grid(settings["scenario.grid_vix_points"])
    spx_moves = parse_grid(settings["scenario.grid_spx_moves"])
    grid = [
        Scenario(v, m / 100.0, days)
        for days in risk.horizons
        for v in vix_moves
        for m in spx_moves
        if risk.vix + v > 0
    ]
    liquidity = Liquidity.from_settings(settings)
    one: list[tuple[float, float]] = []
    whole: list[tuple[float, float]] = []
    tables: list[tuple[float, float]] = []
    for _ in range(args.repeat):
        a, b, c = (fresh_report(rows, market, curve, settings) for _ in range(3))
        one.append(timed(lambda a=a: a.pnl(Scenario(6.0, -0.03))))
        whole.append(timed(lambda b=b: b.pnl_many(grid)))
        valuer = HedgeValuer(c, [], None, liquidity)
        tables.append(timed(lambda v=valuer: grid_tables(v, vix_moves, spx_moves)))
    ratio = statistics.median(w for w, _ in whole) / statistics.median(w for w, _ in one)
    print(
        "\n".join(
            [
                f"machine: {machine()}",
                f"book: {len(risk.legs):,} legs ({len(risk.condors)} condors, "
                f"{len(risk.hedge_legs)} VIX hedge legs); grid: {len(grid)} scenarios "
                f"({len(vix_moves)} VIX x {len(spx_moves)} SPX x horizons "
                f"{', '.join(f'{d:g}' for d in risk.horizons)} days)",
                line("one pricing call (1 scenario)", one),
                line("whole grid, 3 horizons", whole, TARGET_MS),
                line("grid tables (with hedges at exit)", tables, TARGET_MS),
                f"{'ratio whole grid / one pricing call':<34} {ratio:7.1f}x (median wall times)",
            ]
        )
    )


if __name__ == "__main__":
    main()
