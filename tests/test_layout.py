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
        FormatRun(5, 4, 5, "dollars"),  # Cost ($): dollars without cents
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


@pytest.fixture(scope="module")
def example_sheets():
    from pathlib import Path

    from rules_engine.engine import recompute
    from rules_engine.host import load_plugins
    from rules_engine.workbook.reader import read_workbook

    book = read_workbook(Path(__file__).parents[1] / "workbooks" / "example.xlsx").inputs
    outputs = recompute(book, load_plugins(use_entry_points=False))
    return outputs, {s.name: s for s in lay_out(outputs)}


def _styled(sheet, row, col, attribute):
    return any(
        getattr(run, attribute)
        and run.cells.first_row <= row <= run.cells.last_row
        and run.cells.first_col <= col <= run.cells.last_col
        for run in sheet.styles
    )


def test_the_answer_is_on_row_2_and_in_full_under_the_layer_table(example_sheets):
    outputs, sheets = example_sheets
    hedge = sheets["Hedge"]
    orders = [v for label, v in outputs.summary if label.startswith("Order")]
    assert orders and hedge.rows[1] == (f"Now: {'; '.join(orders)}",)
    assert _styled(hedge, 1, 0, "bold")
    assert hedge.rows[3][5] == "Contracts" and hedge.rows[4][0] == 1  # =Hedge!F5 still layer 1
    title = ("The answer: what to do now and what it covers",)
    start = next(r for r, row in enumerate(hedge.rows) if row[:1] == title)
    shown = [(row[2], row[3]) for row in hedge.rows[start + 1 : start + 1 + len(outputs.summary)]]
    assert shown == list(outputs.summary)
    covered = next(r for r, row in enumerate(hedge.rows) if row[2:3] == ("Covered in VIX +6",))
    assert hedge.cell_formats()[(covered, 3)] == "percent"
    budget = next(r for r, row in enumerate(hedge.rows) if row[2:3] == ("Premium budget ($)",))
    assert hedge.cell_formats()[(budget, 3)] == "dollars"


def test_headers_bold_wrapped_and_aligned_explanations_wrapped_panes_frozen(example_sheets):
    _, sheets = example_sheets
    hedge = sheets["Hedge"]
    header = hedge.rows[3]
    for c, name in enumerate(header):
        assert _styled(hedge, 3, c, "bold") and _styled(hedge, 3, c, "wrap"), name
    contracts, status = header.index("Contracts"), header.index("Status")
    aligned = {r.cells.first_col: r.align for r in hedge.styles if r.cells.first_row == 3}
    assert aligned.get(contracts) == "right" and aligned.get(status) is None
    for name in ("Why", "Trigger", "Exit Rule", "Instrument"):
        assert _styled(hedge, 4, header.index(name), "wrap"), name
        assert hedge.widths[header.index(name)] <= 80
    assert (hedge.freeze, hedge.print_titles) == ((4, 3), (3, 3))
    assert (sheets["Signals"].freeze, sheets["Signals"].print_titles) == ((4, 1), (3, 3))
    assert sheets["Risk"].freeze == (1, 1)
    assert (sheets["Log"].freeze, sheets["Log"].print_titles) == ((4, 0), (3, 3))
    signals = sheets["Signals"]
    value = signals.rows[3].index("Value")
    assert signals.cell_formats()[(4, value)] == "money"  # RSI 86.69, not 86.6866103
    triggered = signals.rows[3].index("Triggered")
    assert {type(row[triggered]) for row in signals.rows[4:8]} <= {bool, type(None)}


def test_the_charts_read_their_own_curve_tables(example_sheets):
    outputs, sheets = example_sheets
    hedge, risk = sheets["Hedge"], sheets["Risk"]
    [chart] = hedge.charts
    assert [s.name for s in chart.series] == [
        "Unhedged",
        "With Existing Hedges",
        "With Recommended Layers",
    ]
    curve = outputs.pnl_by_vix
    for series in chart.series:
        xs = [
            hedge.rows[r][series.x.first_col]
            for r in range(series.x.first_row, series.x.last_row + 1)
        ]
        ys = [
            hedge.rows[r][series.y.first_col]
            for r in range(series.y.first_row, series.y.last_row + 1)
        ]
        assert xs == list(curve["VIX Change (pts)"])
        assert ys == pytest.approx(list(curve[f"{series.name} ($)"]))
    assert chart.anchor[1] == 9  # column J, beside the answer
    [chart] = risk.charts
    assert len(chart.series) == 3  # today, T+7, the condor expiry
    x = chart.series[0].x
    spx = [risk.rows[r][x.first_col] for r in range(x.first_row, x.last_row + 1)]
    assert spx == pytest.approx(list(outputs.pnl_by_spx["SPX"]))


def test_the_scenario_grids_are_shaded_over_their_figures_only(example_sheets):
    outputs, sheets = example_sheets
    risk = sheets["Risk"]
    grids = [f for title, f in outputs.risk_tables if title.startswith("Scenario grid")]
    assert len(risk.color_scales) == len(grids) == 9
    for cells, frame in zip(risk.color_scales, grids, strict=True):
        assert risk.rows[cells.first_row - 1][cells.first_col] == frame.columns[2]  # "SPX -20% ($)"
        assert cells.last_col - cells.first_col + 1 == len(frame.columns) - 2
        assert cells.last_row - cells.first_row + 1 == len(frame)
        assert all(
            isinstance(risk.rows[r][c], float)
            for r in range(cells.first_row, cells.last_row + 1)
            for c in range(cells.first_col, cells.last_col + 1)
        )


def test_rows_are_tall_enough_for_their_wrapped_text(example_sheets):
    import textwrap

    _, sheets = example_sheets
    hedge = sheets["Hedge"]
    why = hedge.rows[3].index("Why")
    for r in (4, 5, 6):  # the three layers: Why wraps at its 70-character width
        lines = len(textwrap.wrap(hedge.rows[r][why], 70))
        assert lines > 1 and hedge.heights[r] >= 15.0 * lines
    assert hedge.heights[3] >= 30.0  # the header: "Share of Loss Covered (VIX +6)" wraps
    assert 0 not in hedge.heights and 4 + len(sheets["Hedge"].rows) not in hedge.heights


def test_tables_with_wrapped_text_read_from_the_top_of_each_row(example_sheets):
    _, sheets = example_sheets
    hedge = sheets["Hedge"]
    width = len(hedge.rows[3])
    assert any(
        run.top and run.cells.first_row == 4 and run.cells.last_col == width - 1
        for run in hedge.styles
    )
    risk = sheets["Risk"]
    assert not any(run.top for run in risk.styles if run.cells.last_row - run.cells.first_row > 50)
