"""Historical analogs: the SPX and VIX moves of real spikes, equal to the shipped closes."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from rules_engine.risk.analogs import Analog, analogs_from, historical_analogs

DATA = Path(__file__).resolve().parent.parent / "rules_engine" / "example_data"
#: The spikes the issue names, with the VIX change the market notes quote for each (points).
QUOTED = {
    (dt.date(2018, 1, 26), dt.date(2018, 2, 5)): 26.2,
    (dt.date(2018, 10, 3), dt.date(2018, 12, 24)): 24.5,
    (dt.date(2020, 2, 19), dt.date(2020, 3, 16)): 68.3,
    (dt.date(2024, 7, 16), dt.date(2024, 8, 5)): 25.4,
    (dt.date(2025, 2, 19), dt.date(2025, 4, 8)): 37.1,
}


def closes(name: str, date: str, close: str) -> dict[dt.date, float]:
    with (DATA / name).open(newline="") as handle:
        return {
            dt.date.fromisoformat(row[date]): float(row[close])
            for row in csv.DictReader(handle)
            if row[close].strip()
        }


SPX = closes("spx_daily_close.csv", "observation_date", "SP500")
VIX = closes("vix_daily.csv", "DATE", "CLOSE")


def by_dates() -> dict[tuple[dt.date, dt.date], Analog]:
    return {(a.start, a.end): a for a in historical_analogs()}


def test_every_named_spike_is_an_analog() -> None:
    assert set(QUOTED) <= set(by_dates())


@pytest.mark.parametrize(("start", "end"), list(QUOTED))
def test_each_analog_moves_as_the_shipped_closes(start: dt.date, end: dt.date) -> None:
    analog = by_dates()[start, end]
    assert (analog.spx_start, analog.spx_end) == (SPX[start], SPX[end])
    assert (analog.vix_start, analog.vix_end) == (VIX[start], VIX[end])
    assert analog.spx_move == pytest.approx(SPX[end] / SPX[start] - 1)
    assert analog.vix_points == pytest.approx(VIX[end] - VIX[start])
    assert analog.spx_move < 0 < analog.vix_points
    assert analog.vix_points == pytest.approx(QUOTED[start, end], abs=0.05)


def test_the_analogs_are_read_once_and_frozen() -> None:
    assert historical_analogs() is historical_analogs()
    with pytest.raises(dataclasses.FrozenInstanceError):
        historical_analogs()[0].vix_end = 0.0  # type: ignore[misc]


def test_a_date_without_a_close_names_the_date_and_file() -> None:
    # 2018-02-19 was Presidents' Day: the SPX file has a blank row
    holiday = dt.date(2018, 2, 19)
    assert holiday not in SPX
    with pytest.raises(ValueError, match=r"2018-02-19 in .*spx_daily_close\.csv"):
        analogs_from([(holiday, dt.date(2018, 2, 20))], SPX, VIX)
    with pytest.raises(ValueError, match=r"2018-02-16 in .*vix_daily\.csv"):
        analogs_from([(dt.date(2018, 2, 16), dt.date(2018, 2, 20))], SPX, {})
