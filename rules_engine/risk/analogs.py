"""Real VIX spikes replayed: the SPX and VIX moves of historical selloffs, from the shipped closes.

The moves come from the data shipped with the package (rules_engine/example_data), never from the
workbook's History, so every book is stressed by the same history whatever its sheet holds.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: (start, end) of each analog: the SPX close before the selloff and the VIX close at its peak.
ANALOG_DATES = (
    (dt.date(2018, 1, 26), dt.date(2018, 2, 5)),  # Volmageddon
    (dt.date(2018, 10, 3), dt.date(2018, 12, 24)),  # Q4 2018 selloff
    (dt.date(2020, 2, 19), dt.date(2020, 3, 16)),  # Covid crash
    (dt.date(2024, 7, 16), dt.date(2024, 8, 5)),  # yen carry unwind
    (dt.date(2025, 2, 19), dt.date(2025, 4, 8)),  # tariff selloff
)
SPX_FILE = "spx_daily_close.csv"
VIX_FILE = "vix_daily.csv"


@dataclass(frozen=True)
class Analog:
    """One historical move: SPX and VIX closes on its first and last day."""

    start: dt.date
    end: dt.date
    spx_start: float
    spx_end: float
    vix_start: float
    vix_end: float

    @property
    def spx_move(self) -> float:
        """SPX return over the analog, a fraction (-0.10 is -10%)."""
        return self.spx_end / self.spx_start - 1.0

    @property
    def vix_points(self) -> float:
        """VIX change over the analog, index points."""
        return self.vix_end - self.vix_start


def _close(closes: Mapping[dt.date, float], day: dt.date, file: str) -> float:
    if day not in closes:
        raise ValueError(f"no close on {day.isoformat()} in rules_engine/example_data/{file}")
    return closes[day]


def analogs_from(
    dates: Iterable[tuple[dt.date, dt.date]],
    spx: Mapping[dt.date, float],
    vix: Mapping[dt.date, float],
) -> tuple[Analog, ...]:
    """An Analog for each (start, end) from SPX and VIX closes by date; a missing close is an
    error naming the day and the shipped file it should be in."""
    return tuple(
        Analog(
            start,
            end,
            _close(spx, start, SPX_FILE),
            _close(spx, end, SPX_FILE),
            _close(vix, start, VIX_FILE),
            _close(vix, end, VIX_FILE),
        )
        for start, end in dates
    )


@cache
def historical_analogs() -> tuple[Analog, ...]:
    """The analogs of ANALOG_DATES from the shipped closes, in date order; read once, and only
    the rows of those dates are parsed (a recompute must not pay for 9,000 VIX closes)."""
    days = {day for pair in ANALOG_DATES for day in pair}
    spx = closes_on(SPX_FILE, "observation_date", "SP500", days)
    vix = closes_on(VIX_FILE, "DATE", "CLOSE", days)
    return analogs_from(ANALOG_DATES, spx, vix)


def closes_on(
    name: str, date_column: str, value_column: str, days: Iterable[dt.date]
) -> dict[dt.date, float]:
    """The closes of a shipped CSV (plain comma-separated numbers, ISO dates in `date_column`)
    on `days`; blank cells are skipped, so a holiday is simply missing."""
    wanted = {day.isoformat() for day in days}
    text = resources.files("rules_engine").joinpath("example_data", name).read_text("utf-8")
    lines = text.splitlines()
    header = next(csv.reader(lines[:1]))
    at, value_at = header.index(date_column), header.index(value_column)
    out = {}
    for line in lines[1:]:
        row = line.split(",")
        if row[at] in wanted and row[value_at].strip():
            out[dt.date.fromisoformat(row[at])] = float(row[value_at])
    return out
