"""The shipped example workbook stays what `alvh init --example` makes today, and its Calendar and
CAPE column hold the real data shipped in rules_engine/example_data."""

from __future__ import annotations

import csv
import datetime as dt
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from cli_support import run_alvh, table
from test_host import BUILTIN_SIGNALS

from rules_engine.engine import recompute
from rules_engine.host import load_plugins
from rules_engine.models import Inputs
from rules_engine.workbook import example as ex
from rules_engine.workbook.create import create_workbook
from rules_engine.workbook.reader import read_workbook

SHIPPED = Path(__file__).parents[1] / "workbooks" / "example.xlsx"
DATA = Path(__file__).parents[1] / "rules_engine" / "example_data"
AS_OF = dt.date(2018, 1, 26)
FIRST_DAILY = dt.date(2016, 2, 12)  # the first SPX close shipped
SIGNALS_TITLE = "Signal readings (strength 0-1 feeds the hedge ratio)"


def test_shipped_example_matches_a_fresh_init(tmp_path):
    fresh = tmp_path / "fresh.xlsx"
    create_workbook(fresh, load_plugins(use_entry_points=False).declared_settings, example=True)
    a, b = read_workbook(SHIPPED).inputs, read_workbook(fresh).inputs
    for name in ("positions", "vix_futures", "history", "calendar"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    assert dict(a.market) == dict(b.market)
    assert {k: v.value for k, v in a.settings.items()} == {
        k: v.value for k, v in b.settings.items()
    }


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    path = tmp_path_factory.mktemp("example") / "example.xlsx"
    create_workbook(path, load_plugins(use_entry_points=False).declared_settings, example=True)
    return read_workbook(path).inputs


def csv_rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def shiller_cape() -> dict[dt.date, float]:
    """Shiller's PE10 by month from the shipped file, months not yet published (0) left out."""
    rows = csv_rows("sp500_cape_shiller.csv")
    return {dt.date.fromisoformat(r["Date"]): float(r["PE10"]) for r in rows if float(r["PE10"])}


def test_example_calendar_holds_the_fomc_announcements(example: Inputs) -> None:
    fomc = [dt.date.fromisoformat(r["date"]) for r in csv_rows("fomc_announcements.csv")]
    events = list(zip(example.calendar["date"], example.calendar["event"], strict=True))
    in_book = [day for day, event in events if event == "FOMC"]
    # From before the daily History starts through the end of 2019, more than a year after AS_OF.
    assert in_book == [day for day in fomc if day <= dt.date(2019, 12, 31)]
    assert in_book[0] < FIRST_DAILY and in_book[-1] > AS_OF + dt.timedelta(days=365)
    assert dt.date(2018, 1, 31) in in_book and dt.date(2020, 3, 3) not in in_book
    # The real CPI and PPI releases of the example's next two months stay.
    assert [(d, e) for d, e in events if e != "FOMC"] == [
        (dt.date(2018, 2, 14), "CPI"),
        (dt.date(2018, 2, 15), "PPI"),
        (dt.date(2018, 3, 13), "CPI"),
    ]
    assert example.warnings == ()


def test_example_cape_is_shillers(example: Inputs) -> None:
    shiller = shiller_cape()
    history = example.history
    cape = history["cape"].dropna()
    # One CAPE a month, from 1900-01 (Excel's first date; Shiller starts in 1881) to January 2018.
    months = [day.date().replace(day=1) for day in cape.index]
    assert months == [m for m in sorted(shiller) if dt.date(1900, 1, 1) <= m <= AS_OF]
    assert list(cape) == [shiller[m] for m in months]
    assert cape.iloc[-1] == 33.31 and cape.index[-1].date() == dt.date(2018, 1, 2)
    # Before the daily closes: rows with the CAPE only; from then on, each month's first close.
    daily = history["spx_close"].dropna()
    assert daily.index[0].date() == FIRST_DAILY
    early = history[history.index < daily.index[0]]
    assert len(early) == len(months) - 24  # Feb 2016 .. Jan 2018 sit on trading days
    assert early.drop(columns=["cape", "row"]).isna().all().all()
    firsts = daily.groupby(daily.index.to_period("M")).head(1).index
    assert list(cape.index[cape.index >= daily.index[0]]) == list(firsts)
    # The other columns still read as daily closes.
    trading_days = [r for r in csv_rows("spx_daily_close.csv") if r["SP500"]]
    assert len(daily) == sum(r["observation_date"] <= AS_OF.isoformat() for r in trading_days)
    assert history["vix_close"].dropna().index.equals(daily.index)


def _delta(spot: float, strike: float, t: float, vol: float, call: bool) -> float:
    """Textbook Black-Scholes-Merton delta with a dividend yield (Hull), the example's rates."""
    r, q = ex.RATE, ex.DIVIDEND_YIELD
    d1 = (math.log(spot / strike) + (r - q + vol * vol / 2) * t) / (vol * math.sqrt(t))
    n = 0.5 * (1.0 + math.erf(d1 / math.sqrt(2.0)))
    return math.exp(-q * t) * (n if call else n - 1.0)


def test_example_signals_read_the_real_data(example: Inputs) -> None:
    names = ("event_window", "valuation", "macro", "second_engine", "book_beta")
    host = load_plugins(
        builtins=(*(f"rules_engine_plugins.{n}" for n in names), "rules_engine_plugins.alvh_sizer"),
        use_entry_points=False,
    )
    signals = recompute(example, host).signals.set_index("Signal")
    # FOMC on 2018-01-31, five days after Friday 2018-01-26.
    assert signals.loc["event_window", "Status"] == "triggered"
    assert signals.loc["event_window", "Value"] == 5
    # CAPE 33.31 ranked among Shiller's 1900-01 .. 2017-12 values (the rows the workbook holds).
    earlier = [
        v for m, v in shiller_cape().items() if dt.date(1900, 1, 1) <= m < dt.date(2018, 1, 1)
    ]
    share = sum(v <= 33.31 for v in earlier) / len(earlier)
    assert signals.loc["valuation", "Value"] == pytest.approx(100 * share)
    assert signals.loc["valuation", "Status"] == "triggered"
    assert signals.loc["macro", "Status"] == "not evaluated"
    assert "'reer'" in signals.loc["macro", "Explanation"]
    # Credit from the Entry Prices; 25-point wings; days to 02-16, 03-16, 04-20: 21, 49, 84.
    legs = ex.position_legs()
    days = {"IC-FEB": 21, "IC-MAR": 49, "IC-APR": 84}
    credit = {g: -sum(x.qty * 100 * x.entry_price for x in legs if x.group == g) for g in days}
    lots = {g: max(abs(x.qty) for x in legs if x.group == g) for g in days}
    max_loss = {g: 25 * 100 * lots[g] - credit[g] for g in days}
    yearly = sum(credit[g] * 365 / days[g] for g in days) / sum(max_loss.values())
    assert signals.loc["second_engine", "Value"] == pytest.approx(yearly)
    assert signals.loc["second_engine", "Status"] == "not triggered"  # about 250% a year
    # No hedges: beta = SPX legs' $delta x SPX / capital at risk.
    spot = 2872.87
    dollar_delta = sum(
        x.qty * 100 * _delta(spot, x.strike, (x.expiry - AS_OF).days / 365, x.iv, x.type == "Call")
        for x in legs
    )
    beta = dollar_delta * spot / sum(max_loss.values())
    assert signals.loc["book_beta", "Value"] == pytest.approx(beta, rel=1e-6)
    assert signals.loc["book_beta", "Status"] == "triggered"  # about -6.8


def test_the_example_evaluates_most_signals_and_none_fails(tmp_path):
    """Every built-in signal is listed; at least 8 evaluate on the example's real data; the ones
    whose data the example lacks (breadth, macro) say what they need."""
    book = tmp_path / "book.xlsx"
    shutil.copy(SHIPPED, book)
    result = run_alvh("recompute", str(book))
    assert result.returncode == 0, result.stderr
    rows = {r["Signal"]: r for r in table(book, "Signals", SIGNALS_TITLE)}
    assert set(rows) == set(BUILTIN_SIGNALS)
    statuses = {name: row["Status"] for name, row in rows.items()}
    assert "failed" not in statuses.values(), statuses
    evaluated = [n for n, s in statuses.items() if s in ("triggered", "not triggered")]
    assert len(evaluated) >= 8, statuses
    missing = {n for n, s in statuses.items() if s == "not evaluated"}
    assert missing == {"ad_divergence", "breadth_narrowing", "macro"}
    assert all("needs" in rows[n]["Explanation"] for n in missing)
    assert all(rows[n]["Category"] == BUILTIN_SIGNALS[n] for n in rows)
