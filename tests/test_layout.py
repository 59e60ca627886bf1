"""Laying Outputs out as sheets: marker, stable positions, number formats, empty cells."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from rules_engine.contract import OWNED_MARKER
from rules_engine.layout import NOT_COMPUTED, lay_out
from rules_engine.models import FormatRun, Issue, Outputs


def outputs(issues=(), status="ok"):
    hedge = pd.DataFrame(
        {
            "Layer": [1, 2],
            "Status": ["ACTIVE", "STANDBY"],
            "Expiry": [dt.date(2018, 3, 21), dt.date(2018, 5, 16)],
            "Contracts": [44, 38],
            "Price (VIX pts)": [0.63, 1.63],
            "Cost ($)": [2756.77, np.nan],
            "Share of Loss Covered (VIX +6)": [0.30, 0.26],
        }
    )
    empty = pd.DataFrame({"A": []})
    return Outputs(
        hedge=hedge,
        signals=empty,
        risk_structures=empty,
        risk_scenarios=empty,
        risk_legs=empty,
        run_info=(("Status", "OK"), ("Errors", 0)),
        plugins=pd.DataFrame(columns=["Plugin"]),
        issues=tuple(issues),
        status=status,
    )


def test_hedge_sheet_positions_and_formats_are_stable():
    hedge, signals, risk, run, _log = lay_out(outputs())
    assert [s.name for s in (hedge, signals, risk, run)] == ["Hedge", "Signals", "Risk", "Run"]
    assert all(str(s.rows[0][0]).startswith(OWNED_MARKER) for s in (hedge, signals, risk, run))
    assert hedge.rows[3][0] == "Layer"  # header on spreadsheet row 4
    assert hedge.rows[4][:4] == (1, "ACTIVE", dt.date(2018, 3, 21), 44)  # layer 1 on row 5
    assert hedge.rows[5][5] is None  # NaN becomes an empty cell
    # one run per formatted column, over the table's data rows (spreadsheet rows 5 and 6)
    assert set(hedge.formats) == {
        FormatRun(3, 4, 5, "integer"),
        FormatRun(4, 4, 5, "money"),
        FormatRun(5, 4, 5, "money"),
        FormatRun(6, 4, 5, "percent"),
    }
    assert hedge.cell_formats()[(4, 3)] == "integer"


def test_errors_replace_every_result_sheet_with_a_pointer_to_run():
    issue = Issue("error", "'abc' is not a number", "Positions", "E5", "Strike", "reader")
    hedge, signals, risk, run, _log = lay_out(outputs([issue], "input errors"))
    for sheet in (hedge, signals, risk):
        assert NOT_COMPUTED in [row[0] for row in sheet.rows if row]
    messages = [row for row in run.rows if row and row[0] == "ERROR"]
    assert messages == [("ERROR", "Positions!E5 (Strike)", "'abc' is not a number", "reader")]


def test_a_format_run_names_a_known_kind_and_real_rows():
    with pytest.raises(ValueError, match="unknown number format kind 'bogus'"):
        FormatRun(0, 1, 2, "bogus")
    with pytest.raises(ValueError, match="no run"):
        FormatRun(0, 3, 2, "money")
    assert FormatRun(1, 2, 2, "number").kind == "number"
