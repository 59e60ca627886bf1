"""The shipped example workbook stays what `alvh init --example` makes today."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rules_engine.host import load_plugins
from rules_engine.workbook.create import create_workbook
from rules_engine.workbook.reader import read_workbook

SHIPPED = Path(__file__).parents[1] / "workbooks" / "example.xlsx"


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
