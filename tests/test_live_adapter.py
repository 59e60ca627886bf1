"""The live-Excel adapter on the recording stand-in: bulk calls only (as many for 500 positions as
for 10), Excel's settings restored, user sheets refused, text kept as text; the presentation
(number formats, bold, wrap, alignment, frozen panes, print setup, colour scales, charts) on the
owned sheets and never on the user's; and the button's `main()` end to end."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import importlib.util
import shutil
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from functools import partial
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from live_standin import (
    HIDDEN,
    LANDSCAPE,
    VERY_HIDDEN,
    App,
    Book,
    Call,
    Formula,
    Range,
    Sheet,
    StandinFailure,
)

from rules_engine.contract import (
    DATETIME_FORMAT,
    HEDGE,
    INPUT_SHEETS,
    LOG,
    NUMBER_FORMATS,
    OWNED_MARKER,
    OWNED_SHEETS,
    POSITIONS,
    RISK,
    RUN,
    SIGNALS,
    column_letter,
)
from rules_engine.engine import failed_outputs, recompute
from rules_engine.host import load_plugins
from rules_engine.layout import NOT_COMPUTED, lay_out, marker
from rules_engine.models import (
    CellRange,
    Chart,
    ChartSeries,
    FormatRun,
    LoggedLayer,
    SheetCells,
    StyleRun,
    WorkbookError,
)
from rules_engine.pipeline import recompute_workbook
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


def column_runs(sheet: SheetCells) -> int:
    """Maximal runs down a column of cells with the same non-General format: an upper bound on
    the format calls a block-wise writer needs (dates always get a date format)."""
    kinds = {cell: kind for cell, kind in sheet.cell_formats().items() if kind != "number"}
    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                kinds[(r, c)] = "datetime" if isinstance(value, dt.datetime) else "date"
    return sum(1 for (r, c), kind in kinds.items() if kinds.get((r - 1, c)) != kind)


#: The calls one chart costs at most besides its series (placing it, its frame, type and titles),
#: one series, one colour scale, and one owned sheet besides its blocks (ownership check or adding
#: it, clearing, writing, conditional formats, charts, print setup, panes), and once per write.
PER_CHART, PER_SERIES, PER_SCALE, PER_SHEET, ONCE = 10, 7, 16, 24, 20

#: The first row of the constructed table, under a title and a header row.
FIRST = 4


def presented(name: str, rows: int) -> SheetCells:
    """An owned sheet with every presentation field: a bold title, a bold wrapped header row
    right-aligned over its numbers, a table of `rows` rows (dates, prices, dollars, shares,
    booleans, long text wrapped), frozen under the header, the header printed on every page, a
    colour scale over the dollars and shares and a chart of two lines over the dates."""
    last = FIRST + rows - 1
    table = tuple(
        (dt.date(2018, 1, 26) + dt.timedelta(days=i), 2800.0 + i, 150.0 * i - 900.0,
         0.01 * (i % 7), i % 2 == 0, f"row {i}: " + "a long explanation " * 6)
        for i in range(rows)
    )  # fmt: skip
    dates = CellRange(FIRST, 0, last, 0)
    return SheetCells(
        name,
        (
            (marker(name),),
            (),
            ("Title",),
            ("Date", "SPX", "P&L ($)", "Share", "Hit", "Why"),
            *table,
        ),
        formats=(
            FormatRun(0, FIRST, last, "date"),
            FormatRun(1, FIRST, last, "money"),
            FormatRun(2, FIRST, last, "dollars"),
            FormatRun(3, FIRST, last, "percent"),
        ),
        widths={0: 11.0, 1: 10.0, 2: 12.0, 3: 8.0, 4: 8.0, 5: 40.0},
        styles=(
            StyleRun(CellRange(2, 0, 2, 0), bold=True),
            StyleRun(CellRange(3, 0, 3, 5), bold=True, wrap=True),
            *(StyleRun(CellRange(3, c, 3, c), align="right") for c in (1, 2, 3)),
            StyleRun(CellRange(FIRST, 5, last, 5), wrap=True),
        ),
        freeze=(FIRST, 1),
        print_titles=(3, 3),
        charts=(
            Chart(
                "SPX and P&L",
                "Date",
                "$",
                (
                    ChartSeries("SPX", dates, CellRange(FIRST, 1, last, 1)),
                    ChartSeries("P&L", dates, CellRange(FIRST, 2, last, 2)),
                ),
                anchor=(2, 7),
                width=600,
                height=300,
            ),
        ),
        color_scales=(CellRange(FIRST, 2, last, 3),),
    )


def book_with_positions(condors: int, hedges: int) -> Book:
    """The example book with `condors` iron condors (the example's three, repeated under new
    groups) and `hedges` long VIX calls as its Positions."""
    book = Book.load(EXAMPLE)
    sheet = book.sheets[POSITIONS]
    legs = [[sheet.cells.get((r, c)) for c in range(1, 10)] for r in range(1, 13)]
    rows = [
        [f"IC{n:03d}", *leg] for n in range(condors) for leg in legs[4 * (n % 3) : 4 * (n % 3) + 4]
    ]
    rows += [
        [f"H{h}", "VIX", "Call", dt.datetime(2018, 3, 21), 15.0 + h, 5.0, None, 1.2, 0.8, None]
        for h in range(hedges)
    ]
    sheet.cells = {cell: value for cell, value in sheet.cells.items() if cell[0] == 0}
    for r, row in enumerate(rows, start=1):
        sheet.cells.update({(r, c): v for c, v in enumerate(row) if v is not None})
    book.recorder.calls.clear()
    return book


def excel_ops(calls: list[Call]) -> Counter[tuple[str | None, str, str]]:
    """How many calls of each kind each sheet got (COM calls by the member they name)."""
    return Counter(
        (call.sheet, call.op, call.detail[0] if call.op.startswith("com_") else "")
        for call in calls
    )


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
    assert len(widths) == sum(len(sheet.widths) for sheet in example_sheets)
    styles = [call for op in ("set_bold", "set_wrap_text", "set_horizontal_alignment",
                              "set_vertical_alignment")
              for call in calls.ops(op)]  # fmt: skip
    assert 0 < len(styles) <= 4 * sum(len(sheet.styles) for sheet in example_sheets)
    heights = calls.ops("set_row_height")
    tall = sum(len(sheet.heights) for sheet in example_sheets)
    assert tall and len(heights) <= 2 * tall + len(example_sheets)  # runs of one height
    charts = [chart for sheet in example_sheets for chart in sheet.charts]
    scales = sum(len(sheet.color_scales) for sheet in example_sheets)
    assert charts and scales, "the example has charts and colour scales: their calls count too"
    assert len(calls.ops("add_chart")) == len(charts)
    blocks = len(formats) + len(widths) + len(styles) + len(heights)  # finding, setting
    rest = len(calls.calls) - 2 * blocks
    budget = PER_SHEET * len(example_sheets) + ONCE + PER_SCALE * scales
    budget += sum(PER_CHART + PER_SERIES * len(chart.series) for chart in charts)
    assert rest <= budget


def test_calls_per_recompute_do_not_grow_with_positions() -> None:
    """A recompute of 10 positions and one of 500 (same tables, layers and charts) make the very
    same calls: reads, values, number formats, styles, colour scales, charts, print setup, panes."""
    host = load_plugins()
    made = []
    for condors, hedges in ((2, 2), (123, 8)):
        book = book_with_positions(condors, hedges)
        assert len(read_book(book).inputs.positions) == 4 * condors + hedges
        book.recorder.calls.clear()
        outputs = recompute_workbook(
            lambda b=book: read_book(b).inputs, partial(write_book, book), host
        )
        assert outputs.ok, [str(issue) for issue in outputs.issues]
        made.append(excel_ops(book.recorder.calls))
    small, large = made
    assert sum(large.values()) == sum(small.values())
    assert large == small
    kinds = {(op, member) for _, op, member in small}
    for expected in [("set_value", ""), ("set_number_format", ""), ("set_bold", ""),
                     ("set_wrap_text", ""), ("set_horizontal_alignment", ""), ("add_chart", ""),
                     ("com_call", "NewSeries"), ("com_call", "AddColorScale"),
                     ("com_set", "Orientation"), ("com_set", "FreezePanes")]:  # fmt: skip
        assert expected in kinds


def test_calls_per_sheet_do_not_grow_with_rows() -> None:
    counts = []
    for rows in (10, 500):
        standin = Book.load(EXAMPLE)
        write_book(standin, [presented(RISK, rows)])
        counts.append(excel_ops(standin.recorder.calls))
    assert counts[0] == counts[1]
    assert sum(counts[0].values()) < 150


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


@pytest.mark.parametrize(
    "failing", ["set_value", "set_number_format", "add", "set_bold", "add_chart", "com_call"]
)
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


# --- presentation ---------------------------------------------------------------------------------


def test_number_formats_are_the_contracts_codes(
    book: Book, example_sheets: list[SheetCells]
) -> None:
    write_book(book, example_sheets)
    codes = {kind: code for kind, (_, code) in NUMBER_FORMATS.items()}
    assert codes["dollars"] == "#,##0" and codes["percent"] == "0.0%"
    for sheet in example_sheets:
        expected = {cell: codes[k] for cell, k in sheet.cell_formats().items() if k in codes}
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    expected[(r, c)] = DATETIME_FORMAT[1]
                elif isinstance(value, dt.date):
                    expected[(r, c)] = codes["date"]
        assert book.sheets[sheet.name].formats == expected, sheet.name


def test_a_later_run_wins_general_too_and_dates_keep_a_date_format(book: Book) -> None:
    when = dt.datetime(2018, 1, 26, 15, 45)
    rows = ((marker(RUN),), (0.5, 1.0, 2.0), (0.25, 3.0, when))
    formats = (
        FormatRun(0, 1, 2, "percent"),
        FormatRun(1, 1, 2, "dollars"),
        FormatRun(2, 1, 2, "money"),
        FormatRun(1, 2, 2, "number"),
        FormatRun(0, 2, 2, "money"),
    )
    write_book(book, [SheetCells(RUN, rows, formats)])
    assert book.sheets[RUN].formats == {
        (1, 0): "0.0%",
        (2, 0): "#,##0.00",
        (1, 1): "#,##0",
        (1, 2): "#,##0.00",
        (2, 2): "m/d/yyyy h:mm",
    }


def test_booleans_arrive_as_true_and_false(book: Book, example_sheets: list[SheetCells]) -> None:
    flags = ((marker("Flags"),), ("Triggered",), (True,), (False,))
    sheets = [*example_sheets, SheetCells("Flags", flags)]
    write_book(book, sheets)
    grid = book.sheets["Flags"].grid()
    assert grid[(2, 0)] is True and grid[(3, 0)] is False  # not 1 and 0, not text
    bools = 0
    for sheet in sheets:
        written = book.sheets[sheet.name].grid()
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                if isinstance(value, bool):
                    assert written[(r, c)] is value, (sheet.name, r, c)
                    bools += 1
    assert bools > 2  # the example's own booleans too


def test_styles_land_on_their_cells_one_call_per_rectangle(book: Book) -> None:
    write_book(book, [presented(RISK, 20)])
    risk, last = book.sheets[RISK], FIRST + 19
    header = {(3, c) for c in range(6)}
    assert risk.bold == {(2, 0)} | header
    assert risk.wrap == header | {(r, 5) for r in range(FIRST, last + 1)}
    assert risk.align == {(3, c): "right" for c in (1, 2, 3)}
    calls = book.recorder
    bold = {("Risk!A3:A4", True), ("Risk!B4:F4", True)}
    assert {call.detail for call in calls.ops("set_bold")} == bold
    wrap = {("Risk!A4:E4", True), ("Risk!F4:F24", True)}
    assert {call.detail for call in calls.ops("set_wrap_text")} == wrap
    assert [call.detail for call in calls.ops("set_horizontal_alignment")] == [
        ("Risk!B4:D4", "right")
    ]


class _NoAlignmentRange(Range):
    """Like xlwings' remote engine with a client other than Office.js: no alignment."""

    @property
    def horizontal_alignment(self) -> str:
        raise NotImplementedError("Range.horizontal_alignment is only supported with Office.js")

    @horizontal_alignment.setter
    def horizontal_alignment(self, value: str) -> None:
        raise NotImplementedError("Range.horizontal_alignment is only supported with Office.js")


def test_a_style_the_engine_lacks_is_left_out(book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("live_standin.Range", _NoAlignmentRange)
    sheet = presented(RISK, 10)
    write_book(book, [sheet])
    risk = book.sheets[RISK]
    assert risk.align == {} and risk.bold and risk.wrap
    assert risk.grid()[(FIRST, 1)] == 2800.0 and risk.chart_list


def test_panes_are_frozen_below_the_header_and_the_user_stays_put(book: Book) -> None:
    book.sheets._active = book.sheets.names().index(POSITIONS)
    risk, run = book.sheets[RISK], book.sheets[RUN]
    risk.panes.update(scroll=(40, 3), split=(2, 2), split_from=(1, 1), frozen=True)
    run.panes.update(split=(5, 0), frozen=True)
    write_book(book, [presented(RISK, 10), SheetCells(RUN, ((marker(RUN),),))])
    assert risk.frozen() == ((1, 1), (FIRST, 1))  # split from A1, though the user had scrolled
    assert run.frozen() is None and run.panes["split"] == (0, 0)
    assert book.sheets._sheets[book.sheets._active].name == POSITIONS
    assert book.sheets[POSITIONS].frozen() is None


@pytest.mark.parametrize("visibility", [HIDDEN, VERY_HIDDEN])
def test_a_hidden_owned_sheet_is_written_and_keeps_its_panes(book: Book, visibility: int) -> None:
    risk = book.sheets[RISK]
    risk.visibility = visibility  # Excel cannot activate it to freeze its panes
    write_book(book, [presented(RISK, 10), SheetCells(RUN, ((marker(RUN),),))])
    assert risk.grid()[(FIRST, 1)] == 2800.0 and risk.chart_list and risk.frozen() is None
    assert book.sheets[RUN].panes["split"] == (0, 0)
    assert [call.sheet for call in book.recorder.ops("activate")] == [RUN, HEDGE]


def test_every_owned_sheet_prints_landscape_one_page_wide_with_its_titles(book: Book) -> None:
    user_setup = dict(book.sheets[POSITIONS].page_setup)
    write_book(book, [presented(RISK, 10), SheetCells(RUN, ((marker(RUN),),))])
    setup = {"Orientation": LANDSCAPE, "Zoom": False, "FitToPagesWide": 1, "FitToPagesTall": False}
    assert book.sheets[RISK].page_setup == setup | {"PrintTitleRows": "$4:$4"}
    assert book.sheets[RUN].page_setup == setup | {"PrintTitleRows": ""}
    assert book.sheets[POSITIONS].page_setup == user_setup
    log = book.recorder.calls
    changes = [i for i, call in enumerate(log) if call.target.endswith(".PageSetup")]
    printer = [(i, call.detail[1]) for i, call in enumerate(log)
               if call.op == "com_set" and call.detail[0] == "PrintCommunication"]  # fmt: skip
    assert [value for _, value in printer] == [False, True]
    assert printer[0][0] < changes[0] and changes[-1] < printer[1][0]
    assert book.app.native["PrintCommunication"] is True


def test_printer_communication_is_restored_when_a_page_setup_fails(book: Book) -> None:
    original = book.app.settings()
    book.recorder.fail_on = lambda call: call.op == "com_set" and call.detail[0] == "Zoom"
    with pytest.raises(StandinFailure):
        write_book(book, [presented(RISK, 10)])
    assert book.app.native["PrintCommunication"] is True
    assert book.app.settings() == original


def test_color_scales_replace_the_owned_sheets_rules_only(book: Book) -> None:
    positions, risk = book.sheets[POSITIONS], book.sheets[RISK]
    positions.range("E2:E13").api.FormatConditions.AddColorScale(ColorScaleType=2)
    risk.range("H1:H3").api.FormatConditions.AddColorScale(ColorScaleType=3)  # a stale rule
    user_rules = [dataclasses.replace(rule) for rule in positions.color_scales]
    for _ in range(2):
        write_book(book, [presented(RISK, 10)])
    [rule] = risk.color_scales
    assert rule.address == "Risk!C5:D14"
    assert [(c["Type"], c["Value"], c["Color"]) for c in rule.criteria] == [
        (1, None, 0x6B69F8),  # lowest: red F8696B, as COM's 0xBBGGRR
        (0, 0, 0xFFFFFF),  # the number 0: white
        (2, None, 0x7BBE63),  # highest: green 63BE7B
    ]
    assert positions.color_scales == user_rules


def test_charts_are_drawn_from_the_sheets_cells_and_replaced_not_duplicated(book: Book) -> None:
    for _ in range(2):
        write_book(book, [presented(RISK, 10)])
    risk = book.sheets[RISK]
    [chart] = risk.chart_list
    assert chart.state == {
        "chart_type": "xy_scatter_lines_no_markers",
        "title": "SPX and P&L",
        "category_axis": "Date",
        "value_axis": "$",
        "Placement": 2,
        "series": [
            {"Name": "SPX", "XValues": "Risk!A5:A14", "Values": "Risk!B5:B14"},
            {"Name": "P&L", "XValues": "Risk!A5:A14", "Values": "Risk!C5:C14"},
        ],
    }
    left, top = risk.range((3, 8)).points()  # the anchor, H3, after the widths were set
    assert chart.box == (left, top, 450.0, 225.0)  # 600 x 300 pixels in points
    assert len(book.recorder.ops("delete")) == 1


def test_user_sheets_and_their_charts_are_never_called(
    book: Book, example_sheets: list[SheetCells]
) -> None:
    positions = book.sheets[POSITIONS]
    mine = positions.charts.add(left=10, top=10)
    line = mine.api[1].SeriesCollection().NewSeries()
    line.Name = "layer 1 cost"
    line.XValues = book.sheets[HEDGE].range("A5:A9").api  # it reads the owned Hedge sheet
    line.Values = book.sheets[HEDGE].range("H5:H9").api
    mine.chart_type = "xy_scatter_lines_no_markers"
    before = copy.deepcopy(mine.state)
    book.recorder.calls.clear()
    for _ in range(2):
        write_book(book, example_sheets)
    calls = book.recorder.calls
    assert [call for call in calls if call.sheet == POSITIONS] == []
    assert {call.sheet for call in calls} <= set(OWNED_SHEETS) | {None}
    assert positions.chart_list == [mine] and mine.state == before
    assert any(book.sheets[HEDGE].chart_list)


def _no_native(_: object) -> Any:
    raise NotImplementedError("this engine has no native object")


@pytest.mark.parametrize("engine", ["remote", "macos"])
def test_without_excels_object_model_the_data_are_still_written(
    book: Book, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    """xlwings' remote engine has no native objects (a sheet's `.api` is its JSON, the app's
    raises); on macOS they are AppleScript's, which know none of COM's names."""
    if engine == "remote":
        monkeypatch.setattr(Sheet, "api", property(lambda sheet: {"name": sheet.name}))
        monkeypatch.setattr(App, "api", property(_no_native))
    else:
        for kind in (Sheet, App, Range):
            monkeypatch.setattr(kind, "api", property(lambda _: SimpleNamespace()))
    risk = book.sheets[RISK]
    old = risk.charts.add(left=5, top=5)  # drawn by an earlier recompute on Windows
    book.recorder.calls.clear()
    write_book(book, [presented(RISK, 10)])
    assert risk.grid()[(FIRST, 1)] == 2800.0 and risk.formats[(FIRST, 1)] == "#,##0.00"
    assert risk.bold and risk.wrap and risk.align
    assert risk.chart_list == [old]  # it reads the cells: it shows the new numbers
    assert risk.frozen() is None and risk.page_setup["Orientation"] != LANDSCAPE
    ops = {call.op for call in book.recorder.calls}
    assert not {op for op in ops if op.startswith("com_")} and "activate" not in ops
    assert book.app.settings()["calculation"] == "automatic"


def test_a_plain_rewrite_leaves_nothing_of_the_old_presentation(book: Book) -> None:
    write_book(book, [presented(RISK, 10)])
    write_book(book, [SheetCells(RISK, ((marker(RISK),), ("new",)))])
    risk = book.sheets[RISK]
    assert risk.grid() == {(0, 0): marker(RISK), (1, 0): "new"}
    assert not (risk.formats or risk.bold or risk.wrap or risk.align)
    assert not (risk.color_scales or risk.chart_list)
    assert risk.frozen() is None and risk.page_setup["PrintTitleRows"] == ""


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


def test_top_alignment_lands_on_its_rectangle_in_one_call(
    book: Book, example_sheets: list[SheetCells]
) -> None:
    [hedge] = [s for s in example_sheets if s.name == "Hedge"]
    [run] = [r for r in hedge.styles if r.top and r.cells.first_row == 4]
    write_book(book, [hedge])
    written = book.sheets["Hedge"]
    cells = run.cells
    expected = {
        (r, c): "top"
        for r in range(cells.first_row, cells.last_row + 1)
        for c in range(cells.first_col, cells.last_col + 1)
    }
    assert {k: v for k, v in written.valign.items() if k[0] <= cells.last_row} == expected
    calls = [call.detail[0] for call in book.recorder.ops("set_vertical_alignment")]
    last = f"{column_letter(cells.last_col)}{cells.last_row + 1}"
    assert f"Hedge!A5:{last}" in calls
