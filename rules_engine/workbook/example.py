"""The example workbook's content: a small SPX iron-condor book on 2018-01-26, as plain rows.

2018-01-26 was the S&P 500 top before the February 2018 VIX spike (VIX 11.08 -> 37.32 on 02-05),
so the example shows the engine on the kind of quiet day a hedge is cheap and most needed. History
is the real SPX and VIX closes shipped in `rules_engine/example_data`, with Robert Shiller's monthly
CAPE; the Calendar holds the real FOMC announcement dates; the futures curve, the condors and the
rates are illustrative. Pure data, no openpyxl, so every value is testable.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np

from rules_engine.expiries import vix_expiry
from rules_engine.pricing import bsm
from rules_engine.workbook.cells import FIRST_EXCEL_DATE

AS_OF = dt.date(2018, 1, 26)
#: The example's SPX/VIX assumptions that do not come from the data files.
RATE = 0.0142
DIVIDEND_YIELD = 0.0185
VIX3M = 13.5
VVIX = 95.0
ILLUSTRATIVE = "illustrative example value"
#: The Calendar holds the FOMC announcements up to this day (more than a year after AS_OF).
CALENDAR_END = dt.date(AS_OF.year + 1, 12, 31)

#: The condors' expiries: the monthly SPX options of Feb, Mar and Apr 2018 (third Fridays).
FEB, MAR, APR = dt.date(2018, 2, 16), dt.date(2018, 3, 16), dt.date(2018, 4, 20)
#: Illustrative VIX futures settlements for the contract months Feb..Aug 2018 (contango).
FUTURE_PRICES = (12.95, 13.85, 14.55, 15.05, 15.45, 15.75, 16.00)


@dataclass(frozen=True)
class Leg:
    """One Positions row of the example."""

    group: str
    type: str
    expiry: dt.date
    strike: float
    qty: float
    entry_price: float
    iv: float
    underlying: str = "SPX"
    multiplier: float = 100.0


def _csv_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("rules_engine").joinpath("example_data", name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def spx_closes() -> dict[dt.date, float]:
    """Real S&P 500 closes (FRED SP500); blank rows are market holidays and are skipped."""
    return {
        dt.date.fromisoformat(r["observation_date"]): float(r["SP500"])
        for r in _csv_rows("spx_daily_close.csv")
        if r["SP500"].strip()
    }


def vix_closes() -> dict[dt.date, float]:
    """Real Cboe VIX closes."""
    return {
        dt.date.fromisoformat(r["DATE"]): float(r["CLOSE"])
        for r in _csv_rows("vix_daily.csv")
        if r["CLOSE"].strip()
    }


def cape_by_month() -> dict[dt.date, float]:
    """Robert Shiller's CAPE (PE10) by month (first day of the month); months he has not
    published yet (zero in his file) are left out."""
    return {
        dt.date.fromisoformat(r["Date"]): float(r["PE10"])
        for r in _csv_rows("sp500_cape_shiller.csv")
        if float(r["PE10"]) != 0.0
    }


def history_rows(as_of: dt.date = AS_OF) -> list[tuple[dt.date, float, float | None]]:
    """(date, SPX close, VIX close or None) for every SPX trading day up to and including as_of."""
    vix = vix_closes()
    return [(d, close, vix.get(d)) for d, close in sorted(spx_closes().items()) if d <= as_of]


def cape_rows(as_of: dt.date = AS_OF) -> list[tuple[dt.date, float]]:
    """(date, CAPE) for the History sheet, one a month up to as_of's month.

    Before the daily closes start, a monthly row dated the first of the month (from 1900-01:
    Excel holds no earlier date, though Shiller's CAPE starts in 1881); from then on, the month's
    first trading day in the daily history, so that each CAPE sits on a row with closes. Shiller's
    monthly price is the month's average close, so the as-of month's CAPE looks a few days ahead.
    """
    first_day: dict[dt.date, dt.date] = {}
    for day, _, _ in history_rows(as_of):
        first_day.setdefault(day.replace(day=1), day)
    return [
        (first_day.get(month, month), cape)
        for month, cape in sorted(cape_by_month().items())
        if FIRST_EXCEL_DATE <= month <= as_of
    ]


def market_rows() -> list[tuple[str, float | dt.date, str]]:
    """(Market label, value, note) for the As Of date; the note marks illustrative values."""
    return [
        ("As Of", AS_OF, ""),
        ("SPX", spx_closes()[AS_OF], ""),
        ("VIX", vix_closes()[AS_OF], ""),
        ("VIX3M", VIX3M, ILLUSTRATIVE),
        ("VVIX", VVIX, ILLUSTRATIVE),
        ("Rate", RATE, ILLUSTRATIVE),
        ("Dividend Yield", DIVIDEND_YIELD, ILLUSTRATIVE),
    ]


def futures_rows() -> list[tuple[dt.date, float]]:
    """(expiry, price) for the Feb..Aug 2018 VIX futures, in contango as in late January 2018."""
    return [(vix_expiry(2018, 2 + i), p) for i, p in enumerate(FUTURE_PRICES)]


def _condor(
    group: str,
    expiry: dt.date,
    lots: int,
    strikes: tuple[float, float, float, float],
    ivs: tuple[float, float, float, float],
) -> list[Leg]:
    """Short put, long put below it, short call, long call above it; all one expiry.

    Entry prices are Black-Scholes-Merton values from the legs' IVs at the As Of close, RATE and
    DIVIDEND_YIELD, rounded to the cent: what the condor would have been opened for that day.
    """
    is_call = np.array([False, False, True, True])
    years = (expiry - AS_OF).days / 365
    spot = spx_closes()[AS_OF]
    prices = bsm(spot, np.array(strikes), years, RATE, DIVIDEND_YIELD, np.array(ivs), is_call)
    types = ("Put", "Put", "Call", "Call")
    signs = (-1, 1, -1, 1)
    return [
        Leg(group, t, expiry, k, s * lots, round(float(p), 2), v)
        for t, s, k, p, v in zip(types, signs, strikes, prices["price"], ivs, strict=True)
    ]


def position_legs() -> list[Leg]:
    """Three SPX iron condors: 8 Feb, 10 Mar and 5 Apr lots, 25 points wide on each side.

    IVs follow the January 2018 put skew around VIX 11: ATM about 0.09, lower strikes higher IV.
    """
    return [
        *_condor("IC-FEB", FEB, 8, (2775, 2750, 2925, 2950), (0.115, 0.12, 0.08, 0.077)),
        *_condor("IC-MAR", MAR, 10, (2700, 2675, 2950, 2975), (0.13, 0.135, 0.077, 0.075)),
        *_condor("IC-APR", APR, 5, (2650, 2625, 3000, 3025), (0.14, 0.145, 0.073, 0.071)),
    ]


def fomc_rows() -> list[tuple[dt.date, str, str]]:
    """(date, "FOMC", note) for every FOMC statement in the shipped file (Federal Reserve
    calendars), in date order."""
    return sorted(
        (dt.date.fromisoformat(r["date"]), r["event"], r["note"])
        for r in _csv_rows("fomc_announcements.csv")
    )


#: Real releases around the as-of date (BLS and Federal Reserve schedules) with their notes; the
#: two FOMC rows keep these notes in place of the file's blank ones.
_RELEASES = (
    (dt.date(2018, 1, 31), "FOMC", "rate decision, Yellen's last meeting as chair"),
    (dt.date(2018, 2, 14), "CPI", "January CPI"),
    (dt.date(2018, 2, 15), "PPI", "January PPI"),
    (dt.date(2018, 3, 13), "CPI", "February CPI"),
    (dt.date(2018, 3, 21), "FOMC", "rate decision and projections, Powell's first as chair"),
)


def calendar_rows() -> list[tuple[dt.date, str, str]]:
    """(date, event, note) in date order: every FOMC announcement in the shipped file up to
    CALENDAR_END, and the CPI and PPI releases of the example's next two months."""
    noted = {(day, event) for day, event, _ in _RELEASES}
    fomc = [row for row in fomc_rows() if row[0] <= CALENDAR_END and row[:2] not in noted]
    return sorted([*fomc, *_RELEASES])
