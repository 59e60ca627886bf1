"""Laying out a table column by column gives exactly what the row-by-row layout gave.

The layout converts whole numpy columns at once for speed (issue 6, item 9); the reference here is
the original algorithm, frame rows through `itertuples` and `_cell` on each value, so any value or
type that came out differently fails. Number formats are one run per formatted column.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math

import numpy as np
import pandas as pd
import pytest

from rules_engine.layout import _cell, _column, _format_for, _Sheet
from rules_engine.models import CellValue, FormatRun

NAN, INF = math.nan, math.inf


def typed(values: list[CellValue] | tuple[CellValue, ...]) -> list[tuple[type, object]]:
    """Values with their types, NaN made comparable (1.0 must never pass for True, or 1 for 1.0)."""
    return [(type(v), "nan" if isinstance(v, float) and math.isnan(v) else v) for v in values]


COLUMNS = {
    "float64": pd.Series([1.5, NAN, INF, -INF, -0.0, 1e-300]),
    "float32": pd.Series([0.1, NAN], dtype="float32"),
    "int64": pd.Series([1, -(2**62), 0]),
    "uint8": pd.Series([0, 255], dtype="uint8"),
    "bool": pd.Series([True, False]),
    "object": pd.Series(
        [
            "text",
            None,
            NAN,
            np.float64(2.5),
            np.int64(3),
            pd.Timestamp("2024-01-02 09:30"),
            pd.NaT,
            dt.date(2024, 1, 2),
            decimal.Decimal("1.25"),
            True,
        ],
        dtype=object,
    ),
    "str": pd.Series(["a", None, "=b"], dtype="str"),
    "string": pd.Series(["a", None], dtype="string"),
    "datetime64": pd.Series([pd.Timestamp("2024-01-02"), pd.NaT]),
    "Int64": pd.Series([1, None], dtype="Int64"),
    "category": pd.Series(["x", "y", "x"], dtype="category"),
    "empty": pd.Series([], dtype="float64"),
}


@pytest.mark.parametrize("series", COLUMNS.values(), ids=COLUMNS.keys())
def test_a_column_converts_like_its_cells_one_by_one(series: pd.Series) -> None:
    assert typed(_column(series)) == typed([_cell(v) for v in series])


def test_a_table_lays_out_as_it_did_row_by_row() -> None:
    frame = pd.DataFrame(
        {
            "Group": ["IC1", None, "=x"],
            "Cost ($)": [1.0, NAN, 3.5],
            "Contracts": [1, 2, 3],
            "IV": [0.2, None, True],
            "Expiry": [dt.date(2024, 1, 2), None, pd.NaT],
            "Share of Loss": pd.Series([0.5, None, 0.25], dtype="Float64"),
        }
    )
    sheet = _Sheet("Risk")
    sheet.table("title", frame)
    done = sheet.done()
    reference = [tuple(_cell(v) for v in values) for values in frame.itertuples(index=False)]
    assert [typed(row) for row in done.rows[4:-1]] == [typed(row) for row in reference]
    # one run per formatted column over the data rows (spreadsheet rows 5 to 7)
    assert done.formats == (
        FormatRun(1, 4, 6, "dollars"),
        FormatRun(2, 4, 6, "integer"),
        FormatRun(3, 4, 6, "percent"),
        FormatRun(5, 4, 6, "percent"),
    )
    assert [_format_for(str(c)) for c in frame.columns] == [
        None,
        "dollars",
        "integer",
        "percent",
        None,
        "percent",
    ]
