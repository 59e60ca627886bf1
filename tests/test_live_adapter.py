"""The live-Excel adapter on the recording stand-in: bulk calls only, Excel's settings restored,
user sheets refused, text kept as text; and the button's `main()` end to end."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from live_standin import App, Book, Formula, StandinFailure

from rules_engine.contract import (
    HEDGE,
    INPUT_SHEETS,
    LOG,
    OWNED_MARKER,
    OWNED_SHEETS,
    RUN,
    SIGNALS,
)
from rules_engine.engine import failed_outputs, recompute
from rules_engine.host import load_plugins
from rules_engine.layout import NOT_COMPUTED, lay_out, marker
from rules_engine.models import LoggedLayer, SheetCells, WorkbookError
from rules_engine.workbook.live import grid_value, read_book, write_book
from rules_engine.workbook.reader import read_workbook

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "workbooks" / "alvh.xlsx"
QUIET = {"screen_updating": False, "enable_events": False, "calculation": "manual"}


@pytest.fixture(scope="module")
def example_sheets() -> list[SheetCells]:
    return lay_out(recompute(read_workbook(EXAMPLE).inputs, load_plugins()))


@pytest.fixture
def book() -> Book:
    return Book.load(EXAMPLE)


def cell_count(sheets: list[SheetCells]) -> int:
    return sum(len(row) for sheet in sheets for row in sheet.rows)


def column_runs(sheet: SheetCells) -> int:
    """Maximal runs down a column of cells with the same non-General format: an upper bound on
    the format calls a block-wise writer needs (dates always get a date format)."""
    kinds = {cell: kind for cell, kind in sheet.cell_formats().items() if kind != "number"}
    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                kinds[(r, c)] = "datetime" if isinstance(value, dt.datetime) else "date"
    return sum(1 for (r, c), kind in kinds.items() if kinds.get((r - 1, c)) != kind)


# --- call counting: nothing cell by cell ----------------------------------------------------------


def test_read_is_one_bulk_read_per_input_sheet(book: Book) -> None:
    read = read_book(book)
    present = [n for n in book.sheets.names() if n in INPUT_SHEETS]
    assert len(present) == 6
    reads = book.recorder.ops("get_value")
    assert [call.detail.split("!")[0] for call in reads] == present
    history = next(call.detail for call in reads if call.detail.startswith("History!"))
    assert history == f"History!A1:E{len(read.inputs.history) + 1}"
    assert read.sheet_names == tuple(book.sheets.names())
    assert len(book.recorder.calls) <= 4 * len(present)


def test_the_log_is_read_in_one_bulk_read_too(book: Book) -> None:
    logged = LoggedLayer(dt.datetime(2024, 3, 5, 14, 7, 31), "9f86d081884c7d65", 1, "ACTIVE",
                         "VIX Apr 2024 17 call", 12, 3060.0, 0.2125)  # fmt: skip
    outputs = dataclasses.replace(failed_outputs(load_plugins(), []), log=(logged,))
    [log] = [s for s in lay_out(outputs) if s.name == LOG]
    write_book(book, [log])
    book.recorder.calls.clear()
    read = read_book(book)
    assert read.inputs.log == (logged,)
    reads = [call.detail.split("!")[0] for call in book.recorder.ops("get_value")]
    assert reads == [n for n in book.sheets.names() if n in (*INPUT_SHEETS, LOG)]


def test_write_is_one_bulk_write_per_owned_sheet(
    book: Book, example_sheets: list[SheetCells]
) -> None:
    existing = [name for name in OWNED_SHEETS if name in book.sheets.names()]
    assert LOG not in existing  # the example predates the Log: it is added
    write_book(book, example_sheets)
    calls = book.recorder
    writes = calls.ops("set_value")
    assert [call.detail.split("!")[0] for call in writes] == list(OWNED_SHEETS)
    assert all(call.detail.endswith("!A1") for call in writes)
    # the only reads are the ownership checks of A1 on the sheets that already exist
    assert [call.detail for call in calls.ops("get_value")] == [f"{n}!A1" for n in existing]
    formats = calls.ops("set_number_format")
    assert 0 < len(formats) <= sum(column_runs(sheet) for sheet in example_sheets)
    widths = calls.ops("set_column_width")
    assert len(widths) <= sum(len(sheet.widths) for sheet in example_sheets)
    # the rest: per sheet its A1 check (or, for the Log, finding the last sheet and adding it),
    # clear and write (5 calls); once the sheet list, the active sheet, and reading, setting and
    # restoring the three settings (11 calls), and activating the user's sheet again (1 call)
    per_sheet = len(calls.calls) - 2 * (len(formats) + len(widths))
    assert per_sheet <= 5 * len(example_sheets) + 12
    for sheet in example_sheets:
        written = book.sheets[sheet.name]
        assert written.grid()[(0, 0)] == marker(sheet.name)
        assert set(written.widths) == set(sheet.widths)


def test_number_formats_land_on_exactly_the_formatted_cells(
    book: Book, example_sheets: list[SheetCells]
) -> None:
    write_book(book, example_sheets)
    codes = {"percent": "0.00%", "money": "#,##0.00", "integer": "#,##0"}
    for sheet in example_sheets:
        expected = {cell: codes[k] for cell, k in sheet.cell_formats().items() if k in codes}
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    expected[(r, c)] = "m/d/yyyy h:mm"
                elif isinstance(value, dt.date):
                    expected[(r, c)] = "m/d/yyyy"
        assert book.sheets[sheet.name].formats == expected, sheet.name


# --- Excel's settings -----------------------------------------------------------------------------


def test_settings_are_off_during_the_write_and_restored(
    book: Book, example_sheets: list[SheetCells]
) -> None:
    book.app.calculation = "semiautomatic"
    write_book(book, example_sheets)
    log = book.recorder.calls
    first_write = next(i for i, call in enumerate(log) if call.op == "set_value")
    last_write = max(i for i, call in enumerate(log) if call.op == "set_value")
    before = {call.op[4:]: call.detail for call in log[:first_write] if call.op.startswith("set_")}
    assert before == QUIET
    after = {call.op[4:]: call.detail for call in log[last_write:] if call.op.startswith("set_")}
    assert after["calculation"] == "semiautomatic"
    assert book.app.settings() == {
        "screen_updating": True,
        "enable_events": True,
        "calculation": "semiautomatic",
    }


@pytest.mark.parametrize("failing", ["set_value", "set_number_format", "add"])
def test_settings_restored_when_the_write_raises(
    failing: str, example_sheets: list[SheetCells]
) -> None:
    book = Book.load(EXAMPLE)
    if failing == "add":
        book.sheets._sheets = [s for s in book.sheets._sheets if s.name != RUN]
    original = book.app.settings()
    book.recorder.fail_on = failing
    with pytest.raises(StandinFailure):
        write_book(book, example_sheets)
    assert book.app.settings() == original
    assert any(
        call.op == "set_calculation" and call.detail == "manual" for call in book.recorder.calls
    )


class _NoEventsApp(App):
    """Like xlwings' remote engine: the events flag can be neither read nor set."""

    @property
    def enable_events(self) -> bool:
        raise NotImplementedError("App.enable_events is not supported on this engine")

    @enable_events.setter
    def enable_events(self, value: bool) -> None:
        raise NotImplementedError("App.enable_events is not supported on this engine")


def test_a_setting_the_engine_lacks_is_left_alone(
    book: Book, example_sheets: list[SheetCells]
) -> None:
    book.app = _NoEventsApp(book.recorder)
    write_book(book, example_sheets)
    assert book.app.settings()["screen_updating"] is True
    assert book.app.settings()["calculation"] == "automatic"
    assert len(book.recorder.ops("set_value")) == len(OWNED_SHEETS)


# --- what is written ------------------------------------------------------------------------------


def test_refuses_a_user_sheet_named_like_an_owned_one(
    book: Book, example_sheets: list[SheetCells]
) -> None:
    user = book.sheets[HEDGE]
    user.cells = {(0, 0): "My hedge notes", (4, 5): 12.0}
    user.name = "hedge"
    with pytest.raises(WorkbookError, match="'hedge' exists but was not made by alvh"):
        write_book(book, example_sheets)
    assert user.cells == {(0, 0): "My hedge notes", (4, 5): 12.0}
    assert not book.recorder.ops("set_value")
    assert not [call for call in book.recorder.calls if call.target == "App"]


def test_formula_like_text_stays_text(book: Book) -> None:
    texts = ("=SUM(A1:A3)", "+1 555", "-x", "@risk", "'quoted", "1.0", "TRUE", "2018-01-26")
    sheet = SheetCells(RUN, ((marker(RUN),), texts))
    write_book(book, [sheet])
    grid = book.sheets[RUN].grid()
    assert [grid[(1, c)] for c in range(len(texts))] == list(texts)
    assert not [v for v in grid.values() if isinstance(v, Formula)]


def test_missing_sheets_are_added_after_the_last_and_the_user_stays_put(
    example_sheets: list[SheetCells],
) -> None:
    book = Book.load(EXAMPLE)
    book.sheets._sheets = [s for s in book.sheets._sheets if s.name not in OWNED_SHEETS]
    book.sheets._active = 1
    inputs = book.sheets.names()
    write_book(book, example_sheets)
    assert book.sheets.names() == [*inputs, *OWNED_SHEETS]
    assert book.sheets._sheets[book.sheets._active].name == inputs[1]


def test_old_contents_and_formats_are_cleared(book: Book) -> None:
    hedge = book.sheets[HEDGE]
    hedge.cells.update({(0, 0): marker(HEDGE), (30, 3): 0.5, (2, 40): "stale"})
    hedge.formats[(30, 3)] = "0.00%"
    write_book(book, [SheetCells(HEDGE, ((marker(HEDGE),), ("new",)))])
    assert hedge.grid() == {(0, 0): marker(HEDGE), (1, 0): "new"}
    assert hedge.formats == {}


def test_ragged_rows_are_padded_into_one_block(book: Book) -> None:
    rows = ((marker(RUN),), (1, 2, 3), (), ("a", None, dt.date(2018, 1, 26)))
    write_book(book, [SheetCells(RUN, rows)])
    grid = book.sheets[RUN].grid()
    assert grid == {
        (0, 0): marker(RUN),
        (1, 0): 1.0,
        (1, 1): 2.0,
        (1, 2): 3.0,
        (3, 0): "a",
        (3, 2): dt.datetime(2018, 1, 26),
    }
    assert book.sheets[RUN].formats == {(3, 2): "m/d/yyyy"}


@pytest.mark.parametrize(
    ("xlwings_value", "calamine_value"),
    [
        (None, ""),
        (3, 3.0),
        (Decimal("12.5"), 12.5),
        (True, True),
        ("text", "text"),
        (dt.datetime(2018, 1, 26), dt.date(2018, 1, 26)),
        (dt.datetime(2018, 1, 26, 15, 45), dt.datetime(2018, 1, 26, 15, 45)),
        (dt.datetime(1899, 12, 30, 9, 30), dt.time(9, 30)),
    ],
)
def test_xlwings_values_become_calamine_values(xlwings_value: Any, calamine_value: Any) -> None:
    got = grid_value(xlwings_value)
    assert got == calamine_value and type(got) is type(calamine_value)


# --- the button ----------------------------------------------------------------------------------


@pytest.fixture
def button(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """workbooks/alvh.py, imported the way the add-in's Run main imports it (by its name)."""
    monkeypatch.delenv("ALVH_PLUGINS_DIR", raising=False)
    spec = importlib.util.spec_from_file_location("alvh", ROOT / "workbooks" / "alvh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module


def call_main(button: ModuleType, book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(button.xw.Book, "caller", staticmethod(lambda: book))
    button.main()


def test_main_recomputes_the_calling_book(
    button: ModuleType, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    call_main(button, book, monkeypatch)
    assert book.app.alerts == []
    hedge = book.sheets[HEDGE].grid()
    assert hedge[(3, 0)] == "Layer" and hedge[(4, 0)] == 1.0
    assert book.sheets[RUN].grid()[(4, 1)] == "OK"
    assert len(book.recorder.ops("set_value")) == len(OWNED_SHEETS)


def test_main_twice_appends_each_runs_layers_to_the_log(
    button: ModuleType, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    call_main(button, book, monkeypatch)
    first = read_book(book).inputs.log
    assert first and len({row.run for row in first}) == 1
    call_main(button, book, monkeypatch)
    assert book.app.alerts == []
    log = read_book(book).inputs.log
    assert log[: len(first)] == first
    again = log[len(first) :]
    assert len({row.run for row in again}) == 1 and again[0].run > first[0].run
    assert again == tuple(dataclasses.replace(row, run=again[0].run) for row in first)


def test_main_with_bad_inputs_writes_run_and_alerts(
    button: ModuleType, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    book.sheets["Positions"].cells[(1, 5)] = "ten"
    call_main(button, book, monkeypatch)
    assert book.sheets[HEDGE].grid()[(3, 0)] == NOT_COMPUTED
    run = book.sheets[RUN].grid()
    assert any(isinstance(v, str) and "'ten' is not a number" in v for v in run.values())
    [alert] = book.app.alerts
    assert "1 error(s)" in alert["prompt"] and "Positions!F2 (Qty)" in alert["prompt"]
    assert alert["title"] == "alvh" and "\n" not in alert["prompt"]
    assert book.app.settings()["calculation"] == "automatic"


def test_main_with_a_failing_sizer_writes_signals_and_risk_and_says_why(
    button: ModuleType, book: Book, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    shutil.copy(Path(__file__).parent / "plugins" / "exiting_sizer.py", folder)
    monkeypatch.setenv("ALVH_PLUGINS_DIR", str(folder))
    settings = book.sheets["Settings"].cells
    row = next(r for (r, c), v in settings.items() if c == 0 and v == "engine.sizer")
    settings[(row, 1)] = "exiting"
    call_main(button, book, monkeypatch)
    [alert] = book.app.alerts
    assert alert["prompt"].startswith("No hedge layers were made: sizer 'exiting' raised")
    assert book.sheets[HEDGE].grid()[(3, 0)].startswith("Not computed: the sizer failed")
    assert book.sheets[SIGNALS].grid()[(3, 0)] == "Signal"


def test_main_refused_write_ends_in_run_and_an_alert(
    button: ModuleType, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    book.sheets[HEDGE].cells = {(0, 0): "my own hedge sheet"}
    call_main(button, book, monkeypatch)
    assert book.sheets[HEDGE].cells == {(0, 0): "my own hedge sheet"}
    run = book.sheets[RUN].grid()
    assert run[(0, 0)].startswith(OWNED_MARKER)
    assert any(isinstance(v, str) and "not made by alvh" in v for v in run.values())
    [alert] = book.app.alerts
    assert alert["prompt"].startswith("alvh could not recompute this workbook: the result could")
    assert "The Run sheet says so too." in alert["prompt"]


def test_main_crash_is_a_message_not_a_traceback(
    button: ModuleType, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: object) -> None:
        raise RuntimeError("the risk core blew up")

    monkeypatch.setattr("rules_engine.pipeline.recompute", explode)
    call_main(button, book, monkeypatch)
    [alert] = book.app.alerts
    assert "RuntimeError: the risk core blew up" in alert["prompt"]
    assert "internal error" in alert["prompt"] and "Traceback" not in alert["prompt"]
    assert book.sheets[HEDGE].grid()[(3, 0)].startswith("Not computed: alvh hit an internal error")
    run = book.sheets[RUN].grid()
    assert any(
        isinstance(v, str) and v.startswith("FAILED: an internal error") for v in run.values()
    )


def test_main_when_nothing_can_be_written_still_alerts(
    button: ModuleType, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    book.recorder.fail_on = "set_value"
    call_main(button, book, monkeypatch)
    [alert] = book.app.alerts
    assert "StandinFailure" in alert["prompt"]
    assert alert["prompt"].endswith("The Run sheet could not be written.")
    assert book.app.settings() == {
        "screen_updating": True,
        "enable_events": True,
        "calculation": "automatic",
    }
